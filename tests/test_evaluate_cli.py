"""``esca evaluate`` as a subprocess: training LL, held-out perplexity, gensim coherence."""

import json
import subprocess
import sys

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel

import esca
from esca.corpora.prepare import write_holdout
from esca.corpus import write_corpus
from esca.evaluate import document_completion
from esca.left_to_right import left_to_right_perplexity
from esca.metrics import evaluate_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("evaluate")
    c = esca.read_corpus("builtin:wiki250")
    path = d / "wiki.h5"
    write_corpus(str(path), c.doc_ptr, c.word_ids, c.vocab)
    write_holdout(str(path), 0.2, 1)
    model = esca.train(str(path), num_topics=8, iterations=40, seed=3, threads=1, eval_every=40)
    mpath = d / "model.h5"
    model.save(str(mpath))
    train = esca.read_corpus(str(path))
    texts = d / "texts.txt"
    texts.write_text("\n".join(" ".join(train.vocab[w] for w in train.word_ids[a:b])
                               for a, b in zip(train.doc_ptr[:-1], train.doc_ptr[1:], strict=True))
                     + "\n")
    return d, model, mpath, path, d / "wiki.test.h5", train, texts


def _evaluate(*args, cwd):
    return subprocess.run([sys.executable, "-m", "esca", "evaluate", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_evaluate_json(setup):
    d, model, mpath, path, test_path, train, texts = setup
    r = _evaluate(mpath, test_path, "--texts", texts, "--topn", 8, "--seed", 2, "--json", cwd=d)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # the training LL is the one train() logged at its last iteration (same formula, same counts)
    assert out["training_loglik_per_token"] == pytest.approx(model.log["loglik_per_token"][-1],
                                                             rel=1e-9)
    want = document_completion(model.phi, model.alpha, esca.read_corpus(str(test_path)),
                               sweeps=50, burn_in=10, seed=2)
    assert out["heldout"]["perplexity"] == pytest.approx(want["perplexity"], rel=1e-12)
    assert out["heldout"]["tokens"] == want["tokens"] > 0
    # u_mass equals gensim's own, computed here from a Dictionary built from the texts
    docs = [ln.split() for ln in texts.read_text().splitlines()]
    dictionary = Dictionary(docs)
    cm = CoherenceModel(topics=model.topics(8), corpus=[dictionary.doc2bow(x) for x in docs],
                        dictionary=dictionary, coherence="u_mass", topn=8)
    assert out["coherence"]["u_mass"] == pytest.approx(cm.get_coherence(), rel=1e-9)
    assert -1 <= out["coherence"]["c_npmi"] <= 1 and 0 <= out["coherence"]["c_v"] <= 1
    assert len(out["topics"]) == model.num_topics
    assert sum(t["tokens"] for t in out["topics"]) == model.num_tokens
    assert out["topics"][0]["top_words"] == model.topics(8)[0]
    assert np.mean([t["u_mass"] for t in out["topics"]]) == pytest.approx(
        out["coherence"]["u_mass"])


def test_evaluate_table_and_errors(setup):
    d, _, mpath, _, test_path, _, _ = setup
    r = _evaluate(mpath, test_path, cwd=d)
    assert r.returncode == 0, r.stderr
    assert "held-out perplexity" in r.stdout and "| topic | tokens | u_mass |" in r.stdout
    r = _evaluate(d / "missing.h5", cwd=d)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "missing.h5" in r.stderr


def test_evaluate_left_to_right(setup):
    d, model, mpath, _, test_path, _, _ = setup
    r = _evaluate(mpath, test_path, "--left-to-right", "--num-particles", 4, "--seed", 2,
                  "--sweeps", 5, "--burn-in", 1, "--json", cwd=d)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["left_to_right"]
    want = left_to_right_perplexity(model.phi, model.alpha, esca.read_corpus(str(test_path)),
                                    particles=4, seed=2)
    assert got["perplexity"] == pytest.approx(want["perplexity"], rel=1e-12)
    assert (got["particles"], got["resample"], got["tokens"]) == (4, False, want["tokens"])
    r = _evaluate(mpath, test_path, "--left-to-right", "--num-particles", 2, "--use-resampling",
                  cwd=d)
    assert r.returncode == 0, r.stderr
    assert "left-to-right" in r.stdout and "2 particles, resampling" in r.stdout
    r = _evaluate(mpath, "--left-to-right", cwd=d)
    assert r.returncode == 2 and "needs a TEST_CORPUS" in r.stderr
    r = _evaluate(mpath, test_path, "--left-to-right", "--num-particles", 0, cwd=d)
    assert r.returncode == 2 and "particles" in r.stderr and "0" in r.stderr


def test_evaluate_model_is_what_the_cli_prints(setup):
    """``esca evaluate --json`` prints ``{"model": path, **evaluate_model(...)}``: the library
    builds the report, the CLI only reads the files and prints it."""
    d, model, mpath, path, test_path, train, texts = setup
    r = _evaluate(mpath, test_path, "--texts", texts, "--topn", 6, "--seed", 2, "--sweeps", 6,
                  "--burn-in", 2, "--left-to-right", "--num-particles", 3, "--json", cwd=d)
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    docs = [ln.split() for ln in texts.read_text().splitlines() if ln.split()]
    got = evaluate_model(esca.load_model(str(mpath)), esca.read_corpus(str(test_path)),
                         train_corpus=str(path), texts=docs, topn=6, sweeps=6, burn_in=2,
                         seed=2, left_to_right={"particles": 3})
    assert list(cli) == ["model", *got]
    assert cli == {"model": str(mpath), **json.loads(json.dumps(got))}
    assert set(got["coherence"]) == {"u_mass", "c_npmi", "c_v"}
    assert got["left_to_right"]["particles"] == 3 and got["heldout"]["docs"] > 0
    # a Corpus works as train_corpus too, and without test there are no held-out entries
    small = evaluate_model(model, train_corpus=train, topn=2)
    assert "heldout" not in small and "left_to_right" not in small
    assert small["coherence"]["u_mass"] < 0 and len(small["topics"][0]["top_words"]) == 2
    with pytest.raises(esca.UserError, match="topn"):
        evaluate_model(model, topn=0)
    with pytest.raises(esca.UserError, match="left_to_right needs test documents"):
        evaluate_model(model, left_to_right={})
