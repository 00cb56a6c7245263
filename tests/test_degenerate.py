"""Degenerate models and malformed training logs through every reader of a model.

Every model of :data:`MODELS` (K = 1, K = 2, V = 1, a topic without tokens, one document,
an empty document, all tokens one word, labels, odd words, no ``n_dk``, no tokens at all)
is saved and loaded, then exported in every format and read back by its consumer (gensim
really loads the export, pandas reads Mallet's and the CSV files, the pyLDAvis data is
strict JSON), plotted (four PNGs), summarised, evaluated and used for inference. Each
either works or refuses with a one-line :class:`esca.UserError` saying why.

Every mutation of :data:`LOGS` damages the ``log/`` group of a trained model file:
``load_model`` refuses it naming the file and the field, or (missing fields, NaN, inf, an
empty log) every reader copes: plots, ``summary`` and ``esca train --continue``.
"""

import json
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

import esca
from esca.errors import UserError
from esca.export import EXPORT_FORMATS, export_model
from esca.plot import PLOT_FILES, plot_model

from helpers import check_png


def _model(K=3, V=5, D=3, n_kw=None, n_dk="spread", vocab=None, labels=None):
    rng = np.random.default_rng(K * 100 + V)
    n_kw = rng.integers(1, 5, size=(K, V)).astype(np.int32) if n_kw is None else \
        np.asarray(n_kw, np.int32)
    if isinstance(n_dk, str):  # every topic's tokens spread over the documents, doc 0 first
        n_dk = np.zeros((D, K), np.int32)
        for k, nk in enumerate(n_kw.sum(axis=1)):
            n_dk[:, k] = nk // D
            n_dk[0, k] += nk - (nk // D) * D
    return esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=n_dk,
                           vocab=vocab or [f"w{i}" for i in range(V)], alpha=np.full(K, 0.1),
                           beta=0.01, config=esca.TrainConfig(num_topics=K, iterations=3),
                           word_df=np.ones(V, np.int64), labels=labels,
                           log={"iteration": np.arange(1, 4), "seconds": np.full(3, 0.1),
                                "tokens_per_s": np.full(3, 1e5),
                                "loglik_per_token": np.array([np.nan, -5.0, -4.0])})


MODELS = {
    "K=1": lambda: _model(K=1),
    "K=2": lambda: _model(K=2),
    "V=1": lambda: _model(V=1),
    "K=1,V=1,D=1": lambda: _model(K=1, V=1, D=1),
    "topic-without-tokens": lambda: _model(n_kw=[[3, 2, 0], [0, 0, 0], [1, 1, 1]], V=3),
    "D=1": lambda: _model(D=1),
    "empty-document": lambda: _model(n_dk=np.array([[3, 4, 5], [0, 0, 0]], np.int32),
                                     n_kw=[[3, 0], [0, 4], [5, 0]], V=2),
    "one-word": lambda: _model(n_kw=[[2, 0, 0], [3, 0, 0], [4, 0, 0]], V=3),
    "labels": lambda: _model(labels=["sports $x$", "", "日本 space"]),
    "odd-words": lambda: _model(vocab=["a b", "c\td", "naïve", "", "日本語"]),
    "no-n_dk": lambda: _model(n_dk=None),
    "D=0": lambda: _model(n_dk=np.zeros((0, 3), np.int32)),
    "N=0": lambda: _model(n_kw=np.zeros((3, 4)), V=4),
}

#: (model, what) pairs that must refuse with a UserError holding the text.
REFUSED = {
    ("no-n_dk", "mallet"): "no document-topic counts",
    ("no-n_dk", "csv"): "no document-topic counts",
    ("no-n_dk", "evaluate"): "no document-topic counts",
    ("N=0", "pyldavis"): "no tokens (N = 0",
    ("N=0", "evaluate"): "no tokens (N = 0",
}


@pytest.fixture(params=list(MODELS), scope="module")
def saved(request, tmp_path_factory):
    """(name, model as loaded back from its file, path)."""
    path = tmp_path_factory.mktemp("degenerate") / "m.h5"
    MODELS[request.param]().save(path)
    return request.param, esca.load_model(path), path


def _refused(name, what):
    text = REFUSED.get((name, what))
    return pytest.raises(UserError, match=re.escape(text)) if text else None


def _check_gensim(model, paths):
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    lda = LdaModel.load(paths[0])
    d = Dictionary.load(paths[1])
    np.testing.assert_allclose(lda.get_topics(), model.phi, rtol=1e-12)
    assert [d[i] for i in range(len(d))] == model.vocab
    theta = dict(lda.get_document_topics([(0, 2)], minimum_probability=0.0))
    assert len(theta) == model.num_topics and abs(sum(theta.values()) - 1) < 1e-6
    assert lda.topic_labels == model.labels


def _check_mallet(model, paths):
    import pandas as pd
    keys = pd.read_csv(paths[0], sep="\t", header=None, keep_default_na=False)
    assert keys[0].tolist() == list(range(model.num_topics))
    if model.num_docs:
        doc_topics = pd.read_csv(paths[1], sep="\t", header=None)
        np.testing.assert_allclose(doc_topics.iloc[:, 2:].to_numpy(), model.theta, rtol=1e-12)
    else:
        assert open(paths[1]).read() == ""


def _check_csv(model, paths):
    import pandas as pd
    theta = pd.read_csv(paths[0], index_col=0)
    phi = pd.read_csv(paths[1], index_col=0, keep_default_na=False)
    assert theta.shape == (model.num_docs, model.num_topics)
    if model.num_docs:
        np.testing.assert_allclose(theta.to_numpy(), model.theta)
    np.testing.assert_allclose(phi.to_numpy(), model.phi, rtol=1e-12)
    topics = pd.read_csv(paths[2], keep_default_na=False)
    assert topics["tokens"].tolist() == model.n_k.tolist()


def _check_pyldavis(model, paths):
    text = open(paths[0], encoding="utf-8").read()
    data = re.search(r"var ldavis_esca_data = (.*?);\nnew LDAvis", text, re.S).group(1)

    def no_nan(c):
        raise AssertionError(f"{c} in the page's data: LDAvis cannot draw it")
    data = json.loads(data, parse_constant=no_nan)
    mds = data["mdsDat"]
    assert mds["topics"] == list(range(1, model.num_topics + 1))
    assert len(mds["x"]) == len(mds["y"]) == model.num_topics
    assert abs(sum(mds["Freq"]) - 100) < 1e-6
    assert set(data["tinfo"]["Term"]) <= set(model.vocab)


CHECKS = {"gensim": _check_gensim, "mallet": _check_mallet, "csv": _check_csv,
          "pyldavis": _check_pyldavis}


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export(saved, fmt, tmp_path):
    if fmt == "pyldavis":
        pytest.importorskip("pyLDAvis")
    name, model, _ = saved
    out = str(tmp_path / ("page.html" if fmt == "pyldavis" else "out"))
    refused = _refused(name, fmt)
    if refused:
        with refused:
            export_model(model, fmt, out)
        assert list(tmp_path.iterdir()) == []
        return
    CHECKS[fmt](model, export_model(model, fmt, out))


def test_plot(saved, tmp_path):
    _, model, _ = saved
    paths = plot_model(model, tmp_path)
    assert [p.rsplit("/", 1)[1] for p in paths] == list(PLOT_FILES)
    for p in paths:
        check_png(p, min_side=250)


def test_summary_topics_and_top_documents(saved):
    _, model, _ = saved
    text = model.summary_text(top_n=3, top_docs=2 if model.n_dk is not None else 0)
    assert f"| K: {model.num_topics} " in text
    assert sum(ln.startswith("| #") for ln in text.splitlines()) == model.num_topics
    assert len(model.topics(3)) == model.num_topics
    assert all(len(w) == min(3, model.num_words) for w in model.topics(3))
    if model.n_dk is not None:
        docs = model.top_documents_all(2)
        assert len(docs) == model.num_topics
        assert all(len(d) == min(2, model.num_docs) for d in docs)


def test_evaluate_and_infer(saved):
    from esca.evaluate import training_loglik_per_token
    name, model, _ = saved
    refused = _refused(name, "evaluate")
    if refused:
        with refused:
            training_loglik_per_token(model)
    else:
        ll = training_loglik_per_token(model)
        assert np.isfinite(ll) and ll < 0
    docs = [model.vocab[:1] * 3, [], model.vocab * 2]
    theta = model.transform(docs, sweeps=4, burn_in=1)
    assert theta.shape == (3, model.num_topics)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0)
    np.testing.assert_allclose(theta[1], model.alpha / model.alpha.sum())


def _cli(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("name", ["K=1", "N=0"])
def test_cli_pyldavis_one_topic_page_or_one_line_refusal(name, tmp_path):
    """``esca export --format pyldavis`` of K = 1 (pyLDAvis's PCoA alone fails with an
    AssertionError) writes a page; of N = 0 refuses in one line and writes nothing."""
    pytest.importorskip("pyLDAvis")
    MODELS[name]().save(tmp_path / "m.h5")
    r = _cli("export", "m.h5", "--format", "pyldavis", "--out", "p.html", cwd=tmp_path)
    if name == "K=1":
        assert r.returncode == 0 and r.stderr == "", r.stderr
        _check_pyldavis(MODELS[name](), [tmp_path / "p.html"])
    else:
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert r.stderr.startswith("esca: error: the model holds no tokens (N = 0")
        assert len(r.stderr.splitlines()) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


# -- malformed training logs ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder, fields): a K=2 model trained 3 iterations on a 2-document corpus."""
    d = tmp_path_factory.mktemp("logs")
    (d / "t.txt").write_text("w0 w1 w2 w1\nw3 w4 w0 w3\n")
    r = _cli("prepare", "t.txt", "--format", "text", "--out", "t.h5", cwd=d)
    assert r.returncode == 0, r.stderr
    esca.train(str(d / "t.h5"), num_topics=2, iterations=3, threads=1, eval_every=1,
               seed=3).save(d / "real.h5")
    with h5py.File(d / "real.h5") as f:
        fields = list(f["log"])
    return d, fields


def _all(fields, value):
    return {k: value for k in fields}


#: mutation -> (log datasets to write over, None deletes; substrings of the error or None).
LOGS = {
    "strings": ({"seconds": np.array([b"a", b"b", b"c"])}, ("'log/seconds'", "1-D numeric")),
    "2-D": ({"seconds": np.ones((3, 2))}, ("'log/seconds'", "shape (3, 2)")),
    "scalar": ({"seconds": np.float64(1.0)}, ("'log/seconds'", "shape ()")),
    "bool": ({"seconds": np.array([True, False, True])}, ("'log/seconds'", "dtype bool")),
    "compound": ({"seconds": np.zeros(3, dtype=[("a", "f8"), ("b", "i4")])},
                 ("'log/seconds'", "1-D numeric")),
    "one-field-short": ({"seconds": np.ones(2)}, ("'log/seconds' has 2 values", "has 3")),
    "longer-than-iterations": ("long", ("has 7 values", "trained for 3 iterations")),
    "iteration-nan": ({"iteration": np.array([1.0, np.nan, 3.0])},
                      ("'log/iteration'", "in 1..3", "nan")),
    "iteration-fraction": ({"iteration": np.array([1.5, 2.0, 3.0])}, ("'log/iteration'", "1.5")),
    "iteration-decreasing": ({"iteration": np.array([1, 3, 2])}, ("'log/iteration'", "got 2")),
    "iteration-beyond": ({"iteration": np.array([1, 2, 9])}, ("'log/iteration'", "got 9")),
    "sub-group": ("group", ("'log/extra' is not a dataset",)),
    # handled: every reader uses what is valid
    "inf-and-nan": ({"seconds": np.array([1.0, np.inf, np.nan]),
                     "tokens_per_s": np.array([np.inf, 1.0, -np.inf]),
                     "loglik_per_token": np.array([-np.inf, np.inf, -4.0])}, None),
    "iteration-missing": ({"iteration": None}, None),
    "only-loglik": ("only-loglik", None),
    "empty": ("empty", None),
    "no-fields": ("none", None),
    "no-group": ("no-group", None),
    "float-iteration": ({"iteration": np.array([1.0, 2.0, 3.0])}, None),
}


def _damage(path, fields, change):
    with h5py.File(path, "a") as f:
        g = f["log"]
        if change == "group":
            g.create_group("extra")
            return
        if change == "no-group":
            del f["log"]
            return
        if change in ("none", "empty", "long", "only-loglik"):
            for k in fields:
                if change != "only-loglik" or k != "loglik_per_token":
                    del g[k]
            if change in ("empty", "long"):
                for k in fields:
                    g.create_dataset(k, data=np.arange(1, 8.0) if change == "long" else [])
            return
        for k, v in change.items():
            del g[k]
            if v is not None:
                g.create_dataset(k, data=v)


@pytest.mark.parametrize("case", list(LOGS))
def test_malformed_log(case, trained, tmp_path):
    d, fields = trained
    change, expect = LOGS[case]
    path = tmp_path / "m.h5"
    path.write_bytes((d / "real.h5").read_bytes())
    _damage(path, fields, change)
    if expect is not None:
        with pytest.raises(UserError) as e:
            esca.load_model(path)
        msg = str(e.value)
        assert "\n" not in msg and msg.startswith(f"{path}: ")
        for text in expect:
            assert text in msg, (text, msg)
        r = _cli("plot", path, "--out", "plots", cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.splitlines() == [f"esca: error: {msg}"]
        assert not (tmp_path / "plots").exists()
        return
    model = esca.load_model(path)
    for p in plot_model(model, tmp_path / "plots"):
        check_png(p, min_side=250)
    text = model.summary_text()
    assert "iterations:" in text and "nan" not in text and "inf" not in text
    if case in ("empty", "no-fields", "no-group"):
        assert "| iterations: 3 configured (the training log is empty)" in text
    else:
        assert "| iterations: 3 done of 3 configured" in text
        assert "log-likelihood per token: -" in text  # the last finite value
    # continuing it gives a log of iterations 1..5 that loads again
    cont = esca.train(str(d / "t.h5"), iterations=5, threads=1, resume=str(path))
    cont.save(tmp_path / "c.h5")
    log = esca.load_model(tmp_path / "c.h5").log
    assert log["iteration"].tolist() == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 for v in log.values())
    assert np.isfinite(log["loglik_per_token"][-1])


# -- encodings and line endings of every text input -------------------------------------------

#: name -> (file name, lines of a valid input); each is read by :func:`_read_input`.
INPUTS = {
    "text": ("docs.txt", ["river bank stone", "the café by the river", "stone stone"]),
    "uci-docword": ("docword.txt", ["2", "3", "4", "1 1 2", "1 3 1", "2 2 1", "2 3 4"]),
    "uci-vocab": ("vocab.txt", ["river", "café", "stone"]),
    "ldac": ("c.ldac", ["2 0:2 2:1", "2 1:1 2:4"]),
    "mm": ("c.mm", ["%%MatrixMarket matrix coordinate real general", "2 3 4", "1 1 2", "1 3 1",
                    "2 2 1", "2 3 4"]),
    "stopwords": ("stop.txt", ["the", "by"]),
    "titles": ("t.tsv", ["doc_index\ttitle", "0\tRiver banks", "1\tCafé by the river"]),
    "labels": ("labels.txt", ["rivers", "", "cafés"]),
}

#: variant -> (bytes of the lines -> bytes of the file, None if it reads as the plain file,
#: else the expected substrings of the error, which names the file and the line).
VARIANTS = {
    "bom": (lambda lines: b"\xef\xbb\xbf" + b"".join(x + b"\n" for x in lines), None),
    "crlf": (lambda lines: b"".join(x + b"\r\n" for x in lines), None),
    "crcrlf": (lambda lines: b"".join(x + b"\r\r\n" for x in lines), None),
    "no-final-newline": (lambda lines: b"\n".join(lines), None),
    "bom-crlf-no-final": (lambda lines: b"\xef\xbb\xbf" + b"\r\n".join(lines), None),
    "cr-only": (lambda lines: b"".join(x + b"\r" for x in lines), ("line 1", "carriage return")),
    "latin-1": (lambda lines: b"\n".join(lines[:-1] + [lines[-1] + b" caf\xe9"]) + b"\n",
                ("line {last}",)),
    "nul": (lambda lines: b"\n".join(lines[:-1] + [lines[-1] + b"\x00"]) + b"\n",
            ("line {last}",)),
}


def _read_input(kind, folder, name):
    """What the reader of ``kind`` makes of ``folder/name`` (the other inputs valid)."""
    from esca.cli.label import read_labels_file
    from esca.cli.topics import read_titles
    from esca.corpora.prepare import Pruning, prepare_corpus
    f = folder
    base = {k: v for k, v in INPUTS.items()}

    def plain(kind):
        fname, lines = base[kind]
        if not (f / fname).exists():
            (f / fname).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        return str(f / fname)

    if kind == "titles":
        return read_titles(str(f / name))
    if kind == "labels":
        return read_labels_file(str(f / name), 3)
    out = f / "c.h5"
    if kind in ("text", "stopwords"):
        prepare_corpus(plain("text") if kind == "stopwords" else str(f / name), "text", str(out),
                       pruning=Pruning(stopwords=str(f / name) if kind == "stopwords" else None))
    elif kind in ("uci-docword", "uci-vocab"):
        prepare_corpus(plain("uci-docword") if kind == "uci-vocab" else str(f / name), "uci",
                       str(out), vocab=plain("uci-vocab") if kind == "uci-docword"
                       else str(f / name))
    elif kind == "ldac":
        prepare_corpus(str(f / name), "ldac", str(out), vocab=plain("uci-vocab"))
    elif kind == "mm":
        from gensim.corpora import Dictionary
        Dictionary([["river", "café", "stone"]]).save_as_text(str(f / "c.dict"))
        prepare_corpus(str(f / name), "mm", str(out), dictionary=str(f / "c.dict"))
    c = esca.read_corpus(str(out))
    return c.vocab, c.doc_ptr.tolist(), c.word_ids.tolist()


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", list(INPUTS))
def test_text_input_encodings_and_line_endings(kind, variant, tmp_path):
    name, lines = INPUTS[kind]
    make, expect = VARIANTS[variant]
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    want = _read_input(kind, tmp_path / "plain", name)
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / name).write_bytes(make([x.encode("utf-8") for x in lines]))
    if expect is None:
        assert _read_input(kind, tmp_path / "odd", name) == want
        return
    with pytest.raises(UserError) as e:
        _read_input(kind, tmp_path / "odd", name)
    msg = str(e.value)
    assert "\n" not in msg and name in msg, msg
    for text in expect:
        assert text.format(last=len(lines)) in msg, (text, msg)


def test_titles_keep_unicode_line_separators_inside_a_title(tmp_path):
    """Only \\n ends a line: U+2028 or U+0085 inside a title do not shift the rows."""
    from esca.cli.topics import read_titles
    (tmp_path / "t.txt").write_text("a\u2028b\nc\x85d\ne\n", encoding="utf-8")
    assert read_titles(str(tmp_path / "t.txt")) == ["a\u2028b", "c\x85d", "e"]


@pytest.mark.parametrize("K", [1, 2])
def test_top_words_titles_fit_a_grid_of_one_or_two_topics(K, tmp_path, monkeypatch):
    """The suptitle and x label of top_words.png fit inside the picture of 1 or 2 panels,
    and the title gives the number of words drawn (V = 5 < --top 10)."""
    import esca.plot
    figures = []
    real_save = esca.plot.save_png
    monkeypatch.setattr(esca.plot, "save_png", lambda fig, path, dpi: (figures.append(fig),
                                                                     real_save(fig, path, dpi))[1])
    esca.plot.plot_top_words(_model(K=K), str(tmp_path / "t.png"), top=10)
    fig = figures[0]
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    for text in (fig._suptitle, fig._supxlabel):
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, (text.get_text(), box, fig.bbox)
    assert fig._suptitle.get_text().startswith("top 5 words per topic")
