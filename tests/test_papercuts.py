"""Small things of the command line (issue 12.8): a closed output pipe, misspelled options,
too many threads, theta as CSV. Commands run as real subprocesses."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

import esca

from helpers import check_ok, child_env, run_esca

TIMEOUT = 300


@pytest.fixture(scope="module")
def model_and_corpus(tmp_path_factory):
    """(folder) with m.h5 (K=4, trained on 30 wiki250 documents) and c.h5 (those documents,
    with a doc_index)."""
    d = tmp_path_factory.mktemp("papercuts")
    c = esca.read_corpus("builtin:wiki250")
    esca.write_corpus(str(d / "c.h5"), c.doc_ptr[:31], c.word_ids[:c.doc_ptr[30]], c.vocab,
                      doc_index=np.arange(100, 130))
    check_ok(run_esca(["train", "c.h5", "-k", 4, "-n", 3, "--threads", 1, "--top", 0, "--out",
                       "m.h5"], d))
    return d


def run_into_closed_pipe(args, cwd):
    """Run ``python -m esca ARGS`` with standard output a pipe whose reader is gone."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], cwd=cwd,
                              stdout=w, stderr=subprocess.PIPE, text=True, env=child_env(),
                              timeout=TIMEOUT)
    finally:
        os.close(w)


@pytest.mark.parametrize("args", [
    ("topics", "m.h5"),
    ("train", "c.h5", "-k", 3, "-n", 20, "--threads", 1, "--log-every", 1, "--out", "new.h5"),
], ids=["topics", "train"])
def test_closed_pipe_exits_quietly(model_and_corpus, args):
    """``esca topics m.h5 | head``: no traceback, no message; status 141 (128 + SIGPIPE, as a
    shell reports for ``ls | head``); a model being trained is not written half."""
    d = model_and_corpus
    before = sorted(os.listdir(d))
    r = run_into_closed_pipe(args, d)
    assert r.returncode == 141, r.stderr
    assert r.stderr == "", r.stderr
    assert sorted(os.listdir(d)) == before  # no new.h5, no temporary file


def test_head_reads_the_first_lines(model_and_corpus):
    r = subprocess.run("set -o pipefail; python -m esca topics m.h5 | head -n 2", shell=True,
                       executable="/bin/bash", cwd=model_and_corpus, capture_output=True,
                       text=True, env={**child_env(), "PATH": os.path.dirname(sys.executable) + ":"
                                       + os.environ["PATH"]}, timeout=TIMEOUT)
    assert r.stdout.count("\n") == 2 and r.stdout.startswith("topic   0"), r.stdout
    assert "Traceback" not in r.stderr and "Error" not in r.stderr, r.stderr


@pytest.mark.parametrize("args, prog, guess", [
    (("train", "--iteratons", 5), "esca train", "'--iterations'"),
    (("topics", "m.h5", "--tpo", 3), "esca topics", "'--top'"),
    (("corpora", "fetch", "kos", "--holdot", 0.1), "esca corpora fetch", "'--holdout'"),
    (("trian",), "esca", "'train'"),
    (("train", "--sampler", "esa"), "esca train", "'esca'"),
    (("train", "--zzzzzz", 1), "esca train", None),
], ids=["train", "topics", "corpora-fetch", "command", "choice", "nothing-close"])
def test_misspelled_option_suggests(tmp_path, args, prog, guess):
    r = run_esca(args, tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"usage: {prog} ["), r.stderr  # the subcommand's own usage
    last = r.stderr.splitlines()[-1]
    assert last.startswith(f"{prog}: error: "), last
    if guess:
        assert last.endswith(f"; did you mean {guess}?"), last
    else:
        assert "did you mean" not in last, last
    assert "Traceback" not in r.stderr


def test_unknown_positional_shows_the_subcommand_usage(tmp_path):
    r = run_esca(["topics", "m.h5", "extra"], tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("usage: esca topics "), r.stderr
    assert r.stderr.splitlines()[-1] == "esca topics: error: unrecognized arguments: extra"


def test_more_threads_than_cores_warns_and_runs(tmp_path):
    cores = len(os.sched_getaffinity(0))
    r = check_ok(run_esca(["train", "-k", 3, "-n", 2, "--threads", cores + 1, "--top", 0, "--out",
                           "m.h5"], tmp_path))
    warning = [ln for ln in r.stdout.splitlines() if ln.startswith("warning:")]
    assert warning == [f"warning: {cores + 1} thread(s) x 1 rank(s) on this node = {cores + 1}, "
                       f"more than its {cores} core(s) available: slower than with fewer threads "
                       "(the result is the same)"], r.stdout
    assert f"x {cores + 1} thread(s)" in r.stdout and "wrote m.h5" in r.stdout
    r = check_ok(run_esca(["train", "-k", 3, "-n", 2, "--threads", 1, "--top", 0, "--out", "n.h5"],
                          tmp_path))
    assert "warning" not in r.stdout


@pytest.mark.parametrize("name", ["theta.csv", "THETA.CSV"])
def test_infer_writes_csv(model_and_corpus, tmp_path, name):
    d = model_and_corpus
    args = ["infer", d / "m.h5", d / "c.h5", "--sweeps", 4, "--burn-in", 1, "--threads", 1]
    check_ok(run_esca([*args, "--out", tmp_path / "theta.h5"], tmp_path))
    r = check_ok(run_esca([*args, "--out", tmp_path / name], tmp_path))
    assert f"wrote {tmp_path / name}" in r.stdout
    with h5py.File(tmp_path / "theta.h5") as f:
        theta, doc_index = f["theta"][()], f["doc_index"][()]
    frame = pd.read_csv(tmp_path / name, index_col="doc")
    assert list(frame.columns) == [f"topic_{k}" for k in range(4)]
    np.testing.assert_array_equal(frame.index.to_numpy(), doc_index)
    np.testing.assert_array_equal(frame.to_numpy(), theta)  # %.17g: exact round trip
    assert sorted(os.listdir(tmp_path)) == sorted(["theta.h5", name])  # no temporary file


def test_builtin_lee_reads_as_words(restore_numba_threads):
    """builtin:lee: gensim's 300 Lee news articles, tokenized by gensim, no stop words, no
    word of more than half the documents; it trains like any corpus (make demo uses it)."""
    from gensim.parsing.preprocessing import STOPWORDS
    c = esca.read_corpus("builtin:lee")
    assert c.num_docs == 300 and len(c.vocab) == 6705 and c.num_tokens == 30501
    vocab = set(c.vocab)
    assert {"bushfire", "qantas", "afghanistan", "palestinian"} <= vocab
    assert not vocab & set(STOPWORDS) and "said" not in vocab and "says" not in vocab
    df = np.zeros(len(c.vocab), dtype=np.int64)
    for d in range(c.num_docs):
        df[np.unique(c.word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]])] += 1
    assert df.max() <= 150 and df.min() >= 1
    model = esca.train("builtin:lee", num_topics=5, iterations=5, threads=1, progress=False)
    assert model.info["corpus"] == "builtin:lee" and model.num_tokens == 30501
    assert esca.read_corpus("builtin:wiki250").num_docs == 250  # the default is unchanged
