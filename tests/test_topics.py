"""Top words without phi, topic labels, top documents and the model summary (issue 12, 1 and 5).

* :func:`esca.model.top_word_ids` ranks like the former lexsort of each phi row, ties by
  lower word id, on random counts full of ties;
* ``esca topics``, ``esca train``'s end-of-run list, ``esca plot`` and the Mallet export
  never compute phi, ``esca evaluate`` and the CSV export compute it once (counted by
  wrapping :func:`esca.evaluate.phi_from_counts`);
* labels are stored in the model file, set by ``esca label``, and shown by ``esca topics``,
  ``esca evaluate``, the summary, the plot and every export;
* ``top_documents`` ranks theta's column, names documents by the corpus's ``doc_index``
  (kept in the model at training time) or by titles.
"""

import contextlib
import io
import json
import os

import h5py
import numpy as np
import pytest

import esca
import esca.evaluate as ev
import esca.model
from cli.main import main as cli_main
from esca.model import top_word_ids

K = 6


def old_ranking(n_kw, beta, n):
    """The ranking of ``TopicModel.top_words`` before issue 12: lexsort of each phi row."""
    phi = ev.phi_from_counts(n_kw, beta)
    return [np.lexsort((np.arange(phi.shape[1]), -row))[:n] for row in phi]


@pytest.mark.parametrize("seed", range(4))
def test_ranking_equals_lexsort_of_phi(seed):
    rng = np.random.default_rng(seed)
    V = int(rng.integers(1, 400))
    high = int(rng.choice([2, 5, 1000]))  # small highs: many ties, many zeros
    n_kw = rng.integers(0, high, size=(17, V)).astype(np.int32)
    for n in (1, 2, 10, V - 1, V, V + 5):
        if n < 1:
            continue
        want = old_ranking(n_kw, 0.01, n)
        got = top_word_ids(n_kw, n)
        assert got.shape == (17, min(n, V))
        for k in range(17):
            np.testing.assert_array_equal(got[k], want[k])
            np.testing.assert_array_equal(top_word_ids(n_kw[k], n), want[k])
            nz = top_word_ids(n_kw, n, nonzero=True)[k]
            np.testing.assert_array_equal(nz, want[k][n_kw[k, want[k]] > 0])


def test_ranking_in_blocks_and_of_floats(monkeypatch):
    rng = np.random.default_rng(7)
    n_kw = rng.integers(0, 3, size=(23, 50)).astype(np.int32)
    whole = top_word_ids(n_kw, 8)
    monkeypatch.setattr("esca.model.MAX_SORT_ENTRIES", 120)  # blocks of 2 rows
    np.testing.assert_array_equal(top_word_ids(n_kw, 8), whole)
    np.testing.assert_array_equal(top_word_ids(n_kw.astype(np.float64), 8), whole)


def hand_model(K=K, V=40, D=9, seed=3):
    rng = np.random.default_rng(seed)
    n_kw = rng.integers(0, 4, size=(K, V)).astype(np.int32)
    n_dk = rng.integers(0, 9, size=(D, K)).astype(np.int32)
    return esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=n_dk,
                           vocab=[f"w{i}" for i in range(V)], alpha=np.linspace(0.1, 0.6, K),
                           beta=0.05, config=esca.TrainConfig(num_topics=K, iterations=3),
                           log={"iteration": np.arange(1, 4),
                                "loglik_per_token": np.array([np.nan, np.nan, -7.25]),
                                "seconds": np.full(3, 0.5)})


def test_top_words_are_phi_entries_without_computing_phi(monkeypatch):
    m = hand_model()
    phi = m.phi
    for k in range(K):
        pairs = m.top_words(k, 12)
        ids = old_ranking(m.n_kw, m.beta, 12)[k]
        assert [w for w, _ in pairs] == [m.vocab[i] for i in ids]
        assert [p for _, p in pairs] == [float(phi[k, i]) for i in ids]  # bit for bit

    want = [[m.vocab[i] for i in row] for row in old_ranking(m.n_kw, m.beta, 12)]

    def no_phi(*a, **kw):
        raise AssertionError("phi computed")
    monkeypatch.setattr(esca.model, "phi_from_counts", no_phi)
    assert m.topics(12) == want
    m.top_words(0, 3)
    with pytest.raises(esca.UserError, match="topic 6 does not exist"):
        m.top_words(K, 3)


# -- the commands compute phi at most once ------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A corpus with a doc_index, a held-out corpus, and a model trained on the first."""
    d = tmp_path_factory.mktemp("topics")
    rng = np.random.default_rng(0)
    V, D = 60, 30
    lens = rng.integers(5, 40, size=D + 6)
    ptr = np.concatenate([[0], np.cumsum(lens)])
    ids = rng.integers(0, V, size=int(ptr[-1])).astype(np.int32)
    vocab = [f"word{i}" for i in range(V)]
    esca.write_corpus(str(d / "c.h5"), ptr[:D + 1], ids[:ptr[D]], vocab,
                      doc_index=np.arange(D) * 2 + 1)
    esca.write_corpus(str(d / "test.h5"), ptr[D:] - ptr[D], ids[ptr[D]:], vocab)
    model = esca.train(str(d / "c.h5"), num_topics=K, iterations=5, threads=1, seed=3)
    model.save(str(d / "m.h5"))
    return d


def cli(argv, cwd):
    """Run ``esca *argv`` in this process; returns (exit status, stdout)."""
    out = io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            status = cli_main(["--quiet", *map(str, argv)])
    finally:
        os.chdir(old)
    return status, out.getvalue()


@pytest.fixture
def phi_calls(monkeypatch):
    calls = []
    real = ev.phi_from_counts

    def counted(*a, **kw):
        calls.append(a[0].shape)
        return real(*a, **kw)
    monkeypatch.setattr(esca.model, "phi_from_counts", counted)
    return calls


@pytest.mark.parametrize("argv, most", [
    (["topics", "m.h5"], 0),
    (["topics", "m.h5", "--docs", "2", "--summary"], 0),
    (["train", "c.h5", "-k", K, "-n", 2, "--threads", 1, "--out", "t.h5"], 0),
    (["evaluate", "m.h5", "test.h5", "--left-to-right", "--num-particles", 2], 1),
    (["evaluate", "m.h5", "test.h5", "--json"], 1),
    (["export", "m.h5", "--format", "csv", "--out", "csv"], 1),
    (["export", "m.h5", "--format", "mallet", "--out", "mallet"], 0),
    (["plot", "m.h5", "--out", "plots"], 0),
], ids=["topics", "topics-summary", "train", "evaluate-l2r", "evaluate-json", "csv", "mallet",
        "plot"])
def test_commands_compute_phi_at_most_once(files, phi_calls, argv, most):
    status, out = cli(argv, files)
    assert status == 0
    assert len(phi_calls) <= most, phi_calls
    if argv[0] in ("topics", "train"):
        assert sum(ln.startswith("topic ") or ln.startswith("| #") for ln in out.splitlines()) \
            == K


# -- labels -------------------------------------------------------------------------------------

def test_labels_are_stored_and_old_files_load(tmp_path):
    m = hand_model()
    assert m.labels == [""] * K
    m.save(str(tmp_path / "plain.h5"))
    with h5py.File(tmp_path / "plain.h5") as f:
        assert "topic_labels" not in f  # files without labels look as before
    assert esca.load_model(tmp_path / "plain.h5").labels == [""] * K
    m.set_label(2, "space exploration")
    m.set_label(4, "  café  ")
    m.save(str(tmp_path / "l.h5"))
    r = esca.load_model(tmp_path / "l.h5")
    assert r.labels == ["", "", "space exploration", "", "café", ""]
    assert r.topic_name(2) == 'topic 2 "space exploration"' and r.topic_name(0) == "topic 0"
    r.labels = None
    assert r.labels == [""] * K
    with pytest.raises(esca.UserError, match="2 topic labels given"):
        r.labels = ["a", "b"]
    with pytest.raises(esca.UserError, match="without tabs"):
        r.set_label(0, "a\nb")
    with pytest.raises(esca.UserError, match="topic 9 does not exist"):
        r.set_label(9, "x")


def test_label_command_and_where_labels_show(files, tmp_path):
    import shutil
    shutil.copy(files / "m.h5", tmp_path / "m.h5")
    shutil.copy(files / "test.h5", tmp_path / "test.h5")
    (tmp_path / "labels.txt").write_text("".join(f"L{k}\n" if k % 2 else "\n"
                                                 for k in range(K)))
    status, out = cli(["label", "--labels", "labels.txt", "m.h5", "0=space exploration",
                       "3="], tmp_path)
    assert status == 0 and f"3 of {K} topics labelled" in out
    model = esca.load_model(tmp_path / "m.h5")
    want = ["space exploration", "L1", "", "", "", "L5"]
    assert model.labels == want
    status, out = cli(["label", "m.h5"], tmp_path)
    assert out.splitlines() == [f"{k}\t{x}" for k, x in enumerate(want)]

    _, out = cli(["topics", "m.h5", "--top", 3], tmp_path)
    lines = out.splitlines()
    assert lines[0].startswith('topic   0 "space exploration" (')
    assert lines[0].split("): ", 1)[1].split() == model.topics(3)[0]
    assert lines[2].startswith("topic   2 (")

    _, out = cli(["evaluate", "m.h5", "test.h5", "--json"], tmp_path)
    assert [t["label"] for t in json.loads(out)["topics"]] == want
    _, out = cli(["evaluate", "m.h5", "test.h5"], tmp_path)
    assert "| topic | label | tokens |" in out and "| 0 | space exploration | " in out

    summary = model.summary_text()
    assert '"space exploration": ' in summary and '"L5": ' in summary

    # exports: CSV topics.csv, Mallet topic-labels.txt, gensim attribute, pyLDAvis note
    import pandas as pd
    from gensim.models import LdaModel
    assert cli(["export", "m.h5", "--format", "csv", "--out", "csv"], tmp_path)[0] == 0
    topics = pd.read_csv(tmp_path / "csv" / "topics.csv", keep_default_na=False)
    assert topics["label"].tolist() == want
    assert topics["tokens"].tolist() == model.n_k.tolist()
    assert topics["top_words"][1].split() == model.topics(20)[1]
    assert cli(["export", "m.h5", "--format", "mallet", "--out", "mallet"], tmp_path)[0] == 0
    assert (tmp_path / "mallet" / "topic-labels.txt").read_text().splitlines() \
        == [f"{k}\t{x}" for k, x in enumerate(want)]
    assert cli(["export", "m.h5", "--format", "gensim", "--out", "g"], tmp_path)[0] == 0
    assert LdaModel.load(str(tmp_path / "g" / "lda.model")).topic_labels == want
    pytest.importorskip("pyLDAvis")
    assert cli(["export", "m.h5", "--format", "pyldavis", "--out", "p.html"], tmp_path)[0] == 0
    assert "1 = space exploration; 2 = L1; 6 = L5" in (tmp_path / "p.html").read_text()


def test_plot_titles_show_labels(monkeypatch, tmp_path):
    import esca.plot as plot
    titles = []
    monkeypatch.setattr(plot, "save_png", lambda fig, path, dpi: titles.extend(
        ax.get_title() for ax in fig.axes))
    m = hand_model()
    m.set_label(1, "sports")
    plot.plot_top_words(m, str(tmp_path / "t.png"), top=4)
    assert titles[0].startswith("topic 0 (") and titles[1].startswith("topic 1: sports (")


def test_mallet_without_labels_writes_no_label_file(tmp_path):
    from esca.export import export_mallet
    paths = export_mallet(hand_model(), str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path / "m")) == ["doc-topics.txt", "topic-keys.txt"]
    assert len(paths) == 2


# -- top documents and summary ------------------------------------------------------------------

def test_top_documents_rank_theta():
    m = hand_model(D=25)
    theta = m.theta
    for k in range(K):
        got = m.top_documents(k, 7)
        order = np.lexsort((np.arange(25), -theta[:, k]))[:7]
        assert [d for d, _ in got] == order.tolist()
        assert [p for _, p in got] == theta[order, k].tolist()
    names = [f"doc {d}" for d in range(25)]
    assert m.top_documents(1, 2, doc_labels=names)[0][0] == \
        names[int(np.lexsort((np.arange(25), -theta[:, 1]))[0])]
    assert len(m.top_documents(0, 100)) == 25
    with pytest.raises(esca.UserError, match="3 document labels given"):
        m.top_documents(0, 2, doc_labels=["a", "b", "c"])
    with pytest.raises(esca.UserError, match=">= 1"):
        m.top_documents(0, 0)


def test_model_keeps_the_corpus_doc_index_and_topics_lists_documents(files, tmp_path):
    model = esca.load_model(files / "m.h5")
    np.testing.assert_array_equal(model.doc_index, np.arange(30) * 2 + 1)
    top = model.top_documents(0, 3)
    theta = model.theta[:, 0]
    rows = np.lexsort((np.arange(30), -theta))[:3]
    assert [d for d, _ in top] == (rows * 2 + 1).tolist()

    _, out = cli(["topics", files / "m.h5", "--docs", 3, "--top", 4], tmp_path)
    lines = out.splitlines()
    assert len(lines) == K * 4 and lines[0].startswith("topic   0")
    assert [ln.split()[1] for ln in lines[1:4]] == [str(d) for d, _ in top]
    assert [float(ln.split()[0]) for ln in lines[1:4]] == [round(p, 4) for _, p in top]

    # titles: row i of the file names doc_index i (a TSV with a header, gzipped)
    import gzip
    with gzip.open(tmp_path / "docs.tsv.gz", "wt") as f:
        f.write("doc_index\tcurid\ttitle\n")
        f.writelines(f"{i}\t{1000 + i}\tArticle number {i}\n" for i in range(61))
    _, out = cli(["topics", files / "m.h5", "--docs", 3, "--titles", "docs.tsv.gz"], tmp_path)
    assert [ln.split(None, 1)[1] for ln in out.splitlines()[1:4]] \
        == [f"Article number {d}" for d, _ in top]
    (tmp_path / "names.txt").write_text("".join(f"name {i}\n" for i in range(61)))
    _, out = cli(["topics", files / "m.h5", "--docs", 1, "--titles", "names.txt"], tmp_path)
    assert out.splitlines()[1].split(None, 1)[1] == f"name {top[0][0]}"


def test_summary(capsys):
    m = hand_model()
    m.set_label(3, "three")
    assert m.summary(top_n=3) is None
    text = capsys.readouterr().out
    assert text == m.summary_text(top_n=3)
    assert "| 9 docs, " + str(m.num_tokens) + " words" in text
    assert f"| K: {K} " in text and "| beta: 0.05" in text
    assert "asymmetric, min 0.1, mean 0.35, max 0.6" in text
    assert "| log-likelihood per token: -7.25000 (iteration 3)" in text
    assert "| iterations: 3 done of 3 configured" in text
    share = 100 * m.n_k[3] / m.num_tokens
    assert f'| #3 ({m.n_k[3]}, {share:.2f}%) "three": ' + " ".join(m.topics(3)[3]) in text
    buf = io.StringIO()
    m.summary(top_n=2, file=buf, top_docs=2)
    docs = m.top_documents(0, 2)
    lines = buf.getvalue().splitlines()
    i = next(j for j, ln in enumerate(lines) if ln.startswith("| #0 "))
    assert lines[i + 1].split() == ["|", f"{docs[0][1]:.3f}", str(docs[0][0])]
