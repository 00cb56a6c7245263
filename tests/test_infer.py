"""Inference of theta for new documents: ``TopicModel.transform`` and ``esca infer``."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

import esca
from esca.corpus import write_corpus
from esca.theta import read_theta, write_theta


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("infer")
    corpus = esca.read_corpus("builtin:wiki250")
    path = d / "wiki250.h5"
    write_corpus(str(path), corpus.doc_ptr, corpus.word_ids, corpus.vocab)
    model = esca.train(str(path), num_topics=10, iterations=150, seed=2, threads=1,
                       eval_every=0)
    mpath = d / "model.h5"
    model.save(str(mpath))
    return model, corpus, path, mpath


def test_infer_on_training_documents_matches_trained_theta(trained):
    model, corpus, _, _ = trained
    theta = model.transform(corpus, sweeps=60, burn_in=20, seed=1)
    assert theta.shape == (corpus.num_docs, model.num_topics)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    tv = 0.5 * np.abs(theta - model.theta).sum(axis=1)
    shuffled = 0.5 * np.abs(theta - np.roll(model.theta, 1, axis=0)).sum(axis=1)
    assert np.mean(tv) < 0.06, np.mean(tv)   # measured 0.025
    assert np.mean(tv) < 0.1 * np.mean(shuffled)


def test_transform_inputs_agree_and_skip_unknown_words(trained):
    model, corpus, path, _ = trained
    docs = [[corpus.vocab[w] for w in corpus.word_ids[a:b]]
            for a, b in zip(corpus.doc_ptr[:5], corpus.doc_ptr[1:6], strict=True)]
    head = esca.Corpus(corpus.doc_ptr[:6], corpus.word_ids[:corpus.doc_ptr[5]], corpus.vocab)
    a = model.transform(docs, sweeps=10, burn_in=2, seed=4)
    np.testing.assert_array_equal(a, model.transform(head, sweeps=10, burn_in=2, seed=4))
    np.testing.assert_array_equal(a, model.transform(str(path), sweeps=10, burn_in=2,
                                                     seed=4)[:5])
    noisy = [doc + ["zz-not-a-word"] * 3 for doc in docs]
    _, _, skipped = model.map_documents(noisy)
    assert skipped == 15
    np.testing.assert_array_equal(a, model.transform(noisy, sweeps=10, burn_in=2, seed=4))
    assert not np.array_equal(a, model.transform(docs, sweeps=10, burn_in=2, seed=5))


def _esca(*args, cwd):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_cli_infer(trained, tmp_path):
    model, corpus, path, mpath = trained
    r = _esca("infer", mpath, path, "--out", "theta.h5", "--sweeps", 12, "--burn-in", 3,
              "--seed", 7, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "documents/s" in r.stdout
    with h5py.File(tmp_path / "theta.h5") as f:
        theta = f["theta"][()]
        assert f.attrs["format"] == "esca-theta" and f.attrs["docs_per_s"] > 0
    np.testing.assert_array_equal(theta, model.transform(corpus, sweeps=12, burn_in=3, seed=7))


def test_cli_infer_output_reads_back_with_esca_theta(trained, tmp_path):
    """The library owns the theta format: what esca infer writes, read_theta reads."""
    _, corpus, path, mpath = trained
    for name in ("theta.h5", "theta.csv"):
        r = _esca("infer", mpath, path, "--out", name, "--sweeps", 4, "--burn-in", 1,
                  cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    theta, doc_index, attrs = read_theta(tmp_path / "theta.h5")
    assert theta.shape[0] == corpus.num_docs and doc_index is None
    assert attrs["format"] == "esca-theta" and attrs["sweeps"] == 4 and attrs["burn_in"] == 1
    assert attrs["tokens"] + attrs["tokens_skipped"] == corpus.num_tokens
    csv_theta, csv_doc, csv_attrs = read_theta(tmp_path / "theta.csv")
    np.testing.assert_array_equal(csv_theta, theta)  # 17 significant digits: exact
    np.testing.assert_array_equal(csv_doc, np.arange(corpus.num_docs))
    assert csv_attrs == {}


@pytest.mark.parametrize("name", ["t.h5", "t.csv"])
def test_write_theta_round_trip(tmp_path, name):
    theta = np.random.default_rng(0).dirichlet(np.ones(3), size=5)
    doc_index = np.array([10, 11, 12, 20, 21])
    write_theta(tmp_path / name, theta, doc_index, attrs={"seed": 3})
    got, got_index, attrs = read_theta(tmp_path / name)
    np.testing.assert_array_equal(got, theta)
    np.testing.assert_array_equal(got_index, doc_index)
    assert attrs == ({} if name.endswith(".csv") else
                     {"seed": 3, "format": "esca-theta", "esca_version": esca.__version__})


def test_read_theta_refuses_other_files(trained, tmp_path):
    _, _, path, _ = trained
    with pytest.raises(esca.UserError, match="theta file not found"):
        read_theta(tmp_path / "missing.h5")
    with pytest.raises(esca.UserError, match="is not an esca theta file"):
        read_theta(path)  # a corpus
    (tmp_path / "x.csv").write_text("doc,a\n0,1\n")
    with pytest.raises(esca.UserError, match="is not an esca theta CSV file"):
        read_theta(tmp_path / "x.csv")


@pytest.mark.parametrize("args,words", [(["--sweeps", 0], ["sweeps", "0"]),
                                        (["--burn-in", 9, "--sweeps", 9], ["burn", "9"])])
def test_cli_infer_bad_options(trained, tmp_path, args, words):
    _, _, path, mpath = trained
    r = _esca("infer", mpath, path, "--out", "theta.h5", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words), err
    assert not (tmp_path / "theta.h5").exists()
