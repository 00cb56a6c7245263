"""``esca export --format {gensim,mallet,csv,pyldavis}``: each export read back by its consumer.

gensim loads its files (the optimized, asymmetric alpha survives), pandas
reads Mallet's tab-separated files and the CSV tables and gets back exactly
the model's theta and phi, with the right labels. The pyLDAvis page itself is
tested in a browser by tests/test_pyldavis.py; here only its data. Bad
inputs end with one line ``esca: error: ...`` and exit status 2, and leave an
earlier export intact.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import esca
from esca.export import (
    CSV_PHI,
    CSV_THETA,
    CSV_TOPICS,
    EXPORT_FORMATS,
    FORMATS,
    MALLET_DOC_TOPICS,
    MALLET_TOPIC_KEYS,
    export_csv,
    export_mallet,
    export_model,
    mallet_topic_keys,
    top_word_ids,
)
from esca.export.mallet import _java_double, _java_number_format

from helpers import check_user_error

pd = pytest.importorskip("pandas")

K = 5
D, V = 40, 60


def run_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], cwd=cwd, check=False,
                          capture_output=True, text=True, timeout=300)


def check_ok(r):
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stderr == ""
    return [ln.split(" ", 1)[1] for ln in r.stdout.splitlines() if ln.startswith("wrote ")]


def snapshot(folder):
    """{relative path: bytes} of every file below ``folder``."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = Path(p).read_bytes()
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder, model): a model with an optimized asymmetric alpha, trained on a corpus whose
    documents carry a doc_index (corpus.h5), saved as folder/m.h5."""
    d = tmp_path_factory.mktemp("formats")
    rng = np.random.default_rng(7)
    lengths = rng.integers(5, 60, size=D)
    doc_ptr = np.concatenate([[0], np.cumsum(lengths)])
    word_ids = rng.integers(0, V, size=int(doc_ptr[-1]))
    vocab = [f"tok{i:03d}" for i in range(V)]
    doc_index = np.arange(D, dtype=np.int64) * 3 + 1  # e.g. source lines, empty ones dropped
    esca.write_corpus(str(d / "corpus.h5"), doc_ptr, word_ids, vocab, doc_index=doc_index)
    model = esca.train(str(d / "corpus.h5"), num_topics=K, iterations=30, seed=4, threads=1,
                       optimize_interval=5, optimize_burn_in=10)
    model.save(d / "m.h5")
    return d, esca.load_model(d / "m.h5")


# -- gensim ---------------------------------------------------------------------------------

def test_gensim_loads_the_export_with_the_optimized_alpha(trained, tmp_path):
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    d, model = trained
    assert np.ptp(model.alpha) > 0  # optimization made alpha asymmetric
    paths = check_ok(run_cli(["export", d / "m.h5", "--format", "gensim", "--out", "g"],
                             tmp_path))
    assert [os.path.basename(p) for p in paths] == ["lda.model", "dictionary.dict"]
    lda = LdaModel.load(paths[0])
    dictionary = Dictionary.load(paths[1])
    np.testing.assert_array_equal(np.asarray(lda.alpha, dtype=float), model.alpha)
    np.testing.assert_array_equal(np.asarray(lda.eta, dtype=float), model.beta)
    np.testing.assert_allclose(lda.get_topics(), model.phi, rtol=0, atol=1e-12)
    assert dictionary.token2id == {w: i for i, w in enumerate(model.vocab)}


# -- Mallet ---------------------------------------------------------------------------------

def test_mallet_files_read_back_with_pandas(trained, tmp_path):
    d, model = trained
    paths = check_ok(run_cli(["export", d / "m.h5", "--format", "mallet", "--out", "mallet",
                              "--num-top-words", 7], tmp_path))
    assert [os.path.basename(p) for p in paths] == [MALLET_TOPIC_KEYS, MALLET_DOC_TOPICS]

    keys = pd.read_csv(paths[0], sep="\t", header=None, keep_default_na=False)
    assert keys.shape == (K, 3)
    assert keys[0].tolist() == list(range(K))
    np.testing.assert_allclose(keys[1].astype(float), model.alpha, rtol=0, atol=0.5e-5)
    for k, words in enumerate(keys[2]):
        assert words.endswith(" ")
        order = np.lexsort((np.arange(V), -model.n_kw[k]))[:7]
        assert words.split() == [model.vocab[i] for i in order]

    docs = pd.read_csv(paths[1], sep="\t", header=None)
    assert docs.shape == (D, K + 2)
    assert docs[0].tolist() == list(range(D))
    assert docs[1].tolist() == list(range(D))  # no --corpus: named by row
    np.testing.assert_array_equal(docs.iloc[:, 2:].to_numpy(), model.theta)  # exact round trip


def test_mallet_text_layout(trained, tmp_path):
    """Byte-level layout of Mallet 2.0.8: tabs, alpha with <= 5 decimals, trailing space."""
    _, model = trained
    export_mallet(model, tmp_path, num_words=3)
    raw = (tmp_path / MALLET_TOPIC_KEYS).read_bytes()
    assert raw.endswith(b" \n") and b"\r" not in raw
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == K + 1
    for k, ln in enumerate(lines[:-1]):
        assert re.fullmatch(rf"{k}\t\d+(\.\d{{1,5}})?\t(tok\d{{3}} ){{3}}", ln), ln
        assert ln.split("\t")[1] == _java_number_format(model.alpha[k])
    doc_lines = (tmp_path / MALLET_DOC_TOPICS).read_text(encoding="utf-8").split("\n")
    assert doc_lines[-1] == "" and len(doc_lines) == D + 1
    assert not doc_lines[0].startswith("#")  # 2.0.8: no header
    fields = doc_lines[0].split("\t")
    assert fields[:2] == ["0", "0"] and len(fields) == K + 2
    assert fields[2:] == [_java_double(x) for x in model.theta[0]]


def test_mallet_names_documents_by_corpus_doc_index(trained, tmp_path):
    d, _ = trained
    paths = check_ok(run_cli(["export", d / "m.h5", "--format", "mallet", "--out", "mallet",
                              "--corpus", d / "corpus.h5"], tmp_path))
    docs = pd.read_csv(paths[1], sep="\t", header=None)
    assert docs[0].tolist() == list(range(D))
    assert docs[1].tolist() == (np.arange(D) * 3 + 1).tolist()
    keys = pd.read_csv(paths[0], sep="\t", header=None)
    assert all(len(w.split()) == 20 for w in keys[2])  # Mallet's default --num-top-words


def test_mallet_lists_only_words_seen_in_the_topic(tmp_path):
    n_kw = np.array([[5, 0, 3, 0], [1, 1, 1, 1]], np.int32)
    model = esca.TopicModel(n_kw, n_kw.sum(1), np.ones((2, 2), np.int32), ["a", "b", "c", "d"],
                            [0.25, 1234.5], 0.01, esca.TrainConfig(num_topics=2, iterations=1))
    assert mallet_topic_keys(model, 3) == "0\t0.25\ta c \n1\t1,234.5\ta b c \n"


def test_java_number_formats():
    # Mallet's formatter: NumberFormat.getInstance(), at most 5 fraction digits, half-even.
    assert [_java_number_format(x) for x in (0.1, 0.0123456, 2.0, 1234.5, 0.000004, 50.0)] == \
        ["0.1", "0.01235", "2", "1,234.5", "0", "50"]
    # Double.toString: positional in [1e-3, 1e7), else d.dddE<n>; shortest round-trip digits.
    cases = {0.25: "0.25", 1.0: "1.0", 0.001: "0.001", 1.25e-4: "1.25E-4", 1e-5: "1.0E-5",
             9.99e-4: "9.99E-4", 1e7: "1.0E7", 123456789.0: "1.23456789E8", 0.0: "0.0",
             1 / 3: "0.3333333333333333"}
    assert {x: _java_double(x) for x in cases} == cases
    for x in (1 / 7, 3.3e-9, 2.5e-4):
        assert float(_java_double(x)) == x


# -- CSV ------------------------------------------------------------------------------------

def test_csv_tables_read_back_with_pandas(trained, tmp_path):
    d, model = trained
    paths = check_ok(run_cli(["export", d / "m.h5", "--format", "csv", "--out", "tables"],
                             tmp_path))
    assert [os.path.basename(p) for p in paths] == [CSV_THETA, CSV_PHI, CSV_TOPICS]
    topics = [f"topic_{k}" for k in range(K)]

    table = pd.read_csv(paths[2], keep_default_na=False)
    assert table.columns.tolist() == ["topic", "label", "tokens", "share", "top_words"]
    assert table["topic"].tolist() == list(range(K)) and table["label"].tolist() == [""] * K
    assert table["tokens"].tolist() == model.n_k.tolist()
    np.testing.assert_allclose(table["share"], model.n_k / model.num_tokens, rtol=1e-15)
    assert [t.split() for t in table["top_words"]] == model.topics(20)

    theta = pd.read_csv(paths[0], index_col=0)
    assert theta.shape == (D, K)
    assert theta.index.name == "doc" and theta.index.tolist() == list(range(D))
    assert theta.columns.tolist() == topics
    np.testing.assert_array_equal(theta.to_numpy(), model.theta)

    phi = pd.read_csv(paths[1], index_col=0)
    assert phi.shape == (K, V)
    assert phi.index.tolist() == topics and phi.columns.tolist() == model.vocab
    np.testing.assert_array_equal(phi.to_numpy(), model.phi)
    np.testing.assert_allclose(phi.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_csv_with_corpus_labels(trained, tmp_path):
    d, _ = trained
    paths = check_ok(run_cli(["export", d / "m.h5", "--format", "csv", "--out", "tables",
                              "--corpus", d / "corpus.h5"], tmp_path))
    theta = pd.read_csv(paths[0], index_col=0)
    assert theta.index.tolist() == (np.arange(D) * 3 + 1).tolist()


def test_csv_awkward_words_round_trip(tmp_path):
    """Words that look like numbers, NA markers, the index label or hold commas and quotes."""
    vocab = ["topic", "a,b", 'say "hi"', "NaN", "null", "1e5", " spaced ", "日本語", "x\ny",
             "doc", "topic_0", "tab\there"]
    rng = np.random.default_rng(0)
    n_kw = rng.integers(0, 9, size=(3, len(vocab))).astype(np.int32)
    model = esca.TopicModel(n_kw, n_kw.sum(1), np.ones((4, 3), np.int32), vocab, np.full(3, 0.1),
                            0.01, esca.TrainConfig(num_topics=3, iterations=1))
    export_csv(model, tmp_path, doc_labels=["d one", "d,two", "3", "NA"])
    phi = pd.read_csv(tmp_path / CSV_PHI, index_col=0)
    assert phi.columns.tolist() == vocab
    np.testing.assert_array_equal(phi.to_numpy(), model.phi)
    theta = pd.read_csv(tmp_path / CSV_THETA, index_col=0, dtype={"doc": str},
                        keep_default_na=False)
    assert theta.index.tolist() == ["d one", "d,two", "3", "NA"]


# -- pyLDAvis data ----------------------------------------------------------------------------

def test_pyldavis_data(trained):
    pytest.importorskip("pyLDAvis")
    from esca.export import pyldavis_prepare
    _, model = trained
    data = pyldavis_prepare(model, terms=10)
    assert data.R == 10
    assert data.topic_order == list(range(1, K + 1))  # esca's order, numbered from 1
    freq = np.asarray(data.topic_coordinates["Freq"], dtype=float)
    shares = (model.theta * model.n_dk.sum(axis=1, keepdims=True)).sum(axis=0)
    np.testing.assert_allclose(freq, 100 * shares / shares.sum(), rtol=1e-9)
    # Without n_dk the topic sizes are the token shares (n_k + alpha_k) / (N + sum alpha).
    bare = esca.TopicModel(model.n_kw, model.n_k, None, model.vocab, model.alpha, model.beta,
                           model.config)
    freq = np.asarray(pyldavis_prepare(bare, terms=5).topic_coordinates["Freq"], dtype=float)
    expect = (model.n_k + model.alpha) / (model.num_tokens + model.alpha.sum())
    np.testing.assert_allclose(freq, 100 * expect, rtol=1e-9)
    with pytest.raises(esca.UserError, match="1 to 30"):
        pyldavis_prepare(model, terms=31)


def test_pyldavis_missing_is_a_one_line_error(trained, tmp_path):
    """Without the optional extra the message says how to install it."""
    d, _ = trained
    code = ("import sys; sys.modules['pyLDAvis'] = None\n"
            "from esca.cli.main import main\n"
            f"sys.exit(main(['export', {str(d / 'm.h5')!r}, '--format', 'pyldavis', "
            "'--out', 'topics.html']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=False, capture_output=True,
                       text=True, timeout=300)
    assert check_user_error(r) == ("esca: error: pyLDAvis is not installed: "
                                   "pip install 'esca-lda[viz]'")
    assert list(tmp_path.iterdir()) == []


# -- all formats: atomic writes, bad input ------------------------------------------------------

def test_export_model_dispatch(trained, tmp_path):
    _, model = trained
    assert EXPORT_FORMATS == ("gensim", "mallet", "csv", "pyldavis")
    with pytest.raises(esca.UserError, match="unknown export format 'xml'"):
        export_model(model, "xml", tmp_path / "x")
    paths = export_model(model, "csv", tmp_path / "c")
    assert all(os.path.isfile(p) for p in paths)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_table_row_matches_what_the_export_writes(trained, tmp_path, fmt):
    """Each row of ``esca.export.FORMATS`` (used by ``esca export`` and ``export_model``)
    says truly whether its output is one file and names every file the export writes."""
    if fmt == "pyldavis":
        pytest.importorskip("pyLDAvis")
    _, model = trained
    form = FORMATS[fmt]
    assert form.name == fmt
    out = tmp_path / ("page.html" if form.out_is_file else "out")
    paths = form.export(model, out, num_words=None, doc_labels=None, protect=())
    assert paths == export_model(model, fmt, out)
    if form.out_is_file:
        assert paths == [str(out.resolve())] and out.is_file()
    else:
        written = sorted(os.listdir(out))
        assert sorted(os.path.basename(p) for p in paths) == [n for n in written
                                                             if not n.startswith("lda.model.")]
        for p in paths:
            assert os.path.basename(p) in form.writes
    if form.takes_doc_labels:
        with pytest.raises(esca.UserError, match="3 document labels given"):
            form.export(model, tmp_path / "labels", num_words=None, doc_labels=[0, 1, 2],
                        protect=())


@pytest.mark.parametrize("fmt", ["mallet", "csv"])
def test_export_replaces_files_and_keeps_others(trained, tmp_path, fmt):
    _, model = trained
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept\n")
    first = export_model(model, fmt, out, num_words=2)
    for p in first:
        with open(p, "w") as f:
            f.write("an earlier export\n")
    export_model(model, fmt, out, num_words=2)
    fresh = export_model(model, fmt, tmp_path / "fresh", num_words=2)
    for a, b in zip(first, fresh, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    assert (out / "notes.txt").read_text() == "kept\n"
    assert sorted(os.listdir(out)) == sorted([os.path.basename(p) for p in first] +
                                             ["notes.txt"])  # no temporary folder left


@pytest.mark.parametrize("fmt", ["mallet", "csv"])
def test_model_without_doc_topics_keeps_earlier_export(trained, tmp_path, fmt):
    _, model = trained
    export_model(model, fmt, tmp_path)
    before = snapshot(tmp_path)
    bare = esca.TopicModel(model.n_kw, model.n_k, None, model.vocab, model.alpha, model.beta,
                           model.config)
    with pytest.raises(esca.UserError, match="no document-topic counts"):
        export_model(bare, fmt, tmp_path)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("args, expect", [
    (["--format", "xml", "--out", "x"], ("unknown export format 'xml'", "pyldavis")),
    (["--format", "mallet", "--out", "x", "--num-top-words", "0"], ("--num-top-words", "0")),
    (["--format", "gensim", "--out", "x", "--corpus", "c.h5"], ("--corpus", "gensim")),
    (["--format", "mallet", "--out", "missing/x"], ("output folder does not exist", "missing")),
    (["--format", "csv", "--out", "afile"], ("output folder is an existing file", "afile")),
    (["--format", "csv", "--out", "afile/x"], ("output folder is not a folder", "afile")),
    (["--format", "pyldavis", "--out", "adir"], ("output path is a folder", "adir")),
    (["--format", "pyldavis", "--out", "missing/t.html"], ("output folder does not exist",)),
    (["--format", "pyldavis", "--out", "t.html", "--num-top-words", "31"], ("1 to 30", "31")),
    (["--format", "mallet", "--out", "x", "--corpus", "other.h5"], ("other.h5", "3 documents",
                                                                     f"{D}")),
    (["--format", "csv", "--out", "x", "--corpus", "missing.h5"], ("missing.h5",)),
], ids=["unknown-format", "num-words-0", "corpus-with-gensim", "out-parent-missing",
        "out-is-a-file", "out-parent-is-a-file", "html-out-is-a-folder", "html-parent-missing",
        "pyldavis-terms-31", "corpus-of-other-size", "corpus-missing"])
def test_cli_bad_input(trained, tmp_path, args, expect):
    d, _ = trained
    if "pyldavis" in args and "31" in args:
        pytest.importorskip("pyLDAvis")
    (tmp_path / "afile").write_text("keep me\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "earlier.txt").write_text("keep me too\n")
    esca.write_corpus(str(tmp_path / "other.h5"), [0, 1, 2, 3], [0, 1, 0], ["a", "b"])
    before = snapshot(tmp_path)
    check_user_error(run_cli(["export", d / "m.h5", *args], tmp_path), *expect)
    assert snapshot(tmp_path) == before


def test_cli_missing_model(tmp_path):
    for fmt in EXPORT_FORMATS:
        out = "t.html" if fmt == "pyldavis" else "out"
        if fmt == "pyldavis":
            pytest.importorskip("pyLDAvis")
        check_user_error(run_cli(["export", "missing.h5", "--format", fmt, "--out", out],
                                 tmp_path), "model file not found", "missing.h5")
    assert list(tmp_path.iterdir()) == []


def test_cli_help_has_examples(tmp_path):
    r = run_cli(["export", "--help"], tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: esca export")
    assert "examples:" in r.stdout
    for fmt in EXPORT_FORMATS:
        assert f"--format {fmt}" in r.stdout
    assert "pip install 'esca-lda[viz]'" in r.stdout


def test_top_word_ids_matches_a_full_sort():
    rng = np.random.default_rng(3)
    for _ in range(50):
        counts = rng.integers(0, 4, size=rng.integers(1, 30))
        n = int(rng.integers(1, 35))
        full = np.lexsort((np.arange(len(counts)), -counts))[:n]
        assert top_word_ids(counts, n).tolist() == full.tolist()
        assert top_word_ids(counts, n, nonzero=True).tolist() == \
            [i for i in full if counts[i] > 0]
