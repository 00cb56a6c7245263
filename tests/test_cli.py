"""The ``esca`` command line, run as real subprocesses (``python -m esca ...``).

Checks the happy path (train on the default corpus, topics, export to gensim),
every subcommand's ``--help``, and that user errors become exactly one
``esca: error: ...`` line on stderr with exit status 2 and no traceback.
"""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import esca

from helpers import check_ok, check_user_error, run_esca

K = 5
ITERATIONS = 3


def topic_lines(text):
    return [ln for ln in text.splitlines() if ln.startswith("topic ")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``esca train -k 5 -n 3 --out m.h5`` with NO corpus argument: (folder, CompletedProcess)."""
    d = tmp_path_factory.mktemp("cli")
    r = check_ok(run_esca(["train", "-k", K, "-n", ITERATIONS, "--threads", 1, "--out", "m.h5"], d))
    return d, r


@pytest.fixture
def not_hdf5(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("this is a text file, not HDF5\n")
    return p


# -- happy path ----------------------------------------------------------------

def test_train_default_corpus(trained):
    d, r = trained
    out = r.stdout
    iters = [ln for ln in out.splitlines() if ln.startswith("iter")]
    # off a terminal: the first and the last iteration (and one 10 seconds after a line)
    numbers = [int(ln.split()[1]) for ln in iters]
    assert numbers[0] == 1 and numbers[-1] == ITERATIONS and numbers == sorted(set(numbers))
    assert "LL/token" in iters[-1]  # the log-likelihood is always computed at the end
    assert "training esca on builtin:wiki250: D=250" in out and f"K={K}" in out, out
    assert "wrote m.h5" in out
    lines = topic_lines(out)
    assert len(lines) == K
    assert all(len(ln.split(":", 1)[1].split()) == 10 for ln in lines)  # --top default 10

    model = esca.load_model(d / "m.h5")
    assert model.num_topics == K
    assert model.num_docs == 250
    assert model.config.iterations == ITERATIONS
    assert model.info["corpus"] == "builtin:wiki250"
    assert model.num_tokens == esca.read_corpus("builtin:wiki250").num_tokens
    np.testing.assert_array_equal(model.n_k, model.n_kw.sum(axis=1))
    assert model.log["iteration"].tolist() == list(range(1, ITERATIONS + 1))


def test_topics_prints_k_lines(trained):
    d, r = trained
    t = check_ok(run_esca(["topics", "m.h5", "--top", 5], d))
    lines = [ln for ln in t.stdout.splitlines() if ln.strip()]
    assert len(lines) == K
    model = esca.load_model(d / "m.h5")
    for k, ln in enumerate(lines):
        assert ln.startswith(f"topic {k:3d}")
        assert ln.split(":", 1)[1].split() == model.topics(5)[k]
    # The same model prints the same topics as training did.
    t10 = check_ok(run_esca(["topics", "m.h5"], d))
    assert topic_lines(t10.stdout) == topic_lines(r.stdout)


def test_topics_warns_when_the_words_are_placeholders(tmp_path):
    """A model from esca.LDA fitted on a matrix without word names (x0, x1, ...)."""
    from esca.errors import PlaceholderVocabularyWarning
    lda = esca.LDA(n_components=2, max_iter=3, random_state=0, n_threads=1)
    with pytest.warns(PlaceholderVocabularyWarning):
        lda.fit(np.array([[2, 1, 0], [0, 1, 3], [1, 0, 2]]))
    with pytest.warns(PlaceholderVocabularyWarning):
        lda.save(tmp_path / "x.h5")
    r = check_ok(run_esca(["topics", "x.h5"], tmp_path))
    assert ("x.h5: the words are the placeholder names x0 .. x2 (an esca.LDA fitted on a "
            "matrix without word names); name them with LDA.set_vocabulary(words) and save "
            "again") in r.stdout + r.stderr
    assert len(topic_lines(r.stdout)) == 2
    lda.set_vocabulary(["apple", "banana", "cherry"]).save(tmp_path / "named.h5")
    r = check_ok(run_esca(["topics", "named.h5"], tmp_path))
    assert "placeholder" not in r.stdout + r.stderr and "apple" in r.stdout


def test_export_gensim_loads(trained):
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    d, _ = trained
    r = check_ok(run_esca(["export", "m.h5", "--format", "gensim", "--out", "gensim_dir"], d))
    assert "gensim_dir" in r.stdout
    lda = LdaModel.load(str(d / "gensim_dir" / "lda.model"))
    dictionary = Dictionary.load(str(d / "gensim_dir" / "dictionary.dict"))
    model = esca.load_model(d / "m.h5")
    assert lda.num_topics == K
    assert dictionary.token2id == {w: i for i, w in enumerate(model.vocab)}
    np.testing.assert_allclose(lda.get_topics(), model.phi, rtol=0, atol=1e-12)


# -- help ----------------------------------------------------------------------

def _subcommands():
    import argparse

    from esca.cli.main import build_parser
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(action.choices)


def test_expected_subcommands():
    assert {"train", "topics", "export"} <= set(_subcommands())


def _subcommands_or_known():
    try:
        return _subcommands()
    except Exception:  # a broken subcommand module: test_expected_subcommands reports it
        return ["export", "topics", "train"]


@pytest.mark.parametrize("sub", [None] + _subcommands_or_known())
def test_help(sub, tmp_path):
    args = ["--help"] if sub is None else [sub, "--help"]
    r = check_ok(run_esca(args, tmp_path))
    assert r.stdout.startswith("usage: esca" + ("" if sub is None else f" {sub}")), r.stdout
    assert r.stderr == ""


def test_train_help_explains_mallet_alpha(tmp_path):
    r = check_ok(run_esca(["train", "--help"], tmp_path))
    text = " ".join(r.stdout.split()).lower()
    alpha_help = text[text.index("--alpha a "):text.index("--beta b ")]
    assert "mallet" in alpha_help and "sum" in alpha_help and "per topic" in alpha_help, alpha_help


def test_train_short_run_optimizes_priors_by_default_and_warns_when_it_cannot(tmp_path):
    """--optimize-burn-in defaults to a quarter of --iterations (at most 200): -n 8
    --optimize-interval 4 optimizes after iterations 4 and 8; -n 4 --optimize-interval 5
    cannot optimize at all, and says so."""
    r = check_ok(run_esca(["train", "-k", 3, "-n", 8, "--optimize-interval", 4, "--threads", 1,
                           "--top", 0, "--out", "m.h5"], tmp_path))
    assert "never optimized" not in r.stdout + r.stderr
    model = esca.load_model(tmp_path / "m.h5")
    assert model.config.optimize_burn_in == 2 and model.beta != 0.01
    r = check_ok(run_esca(["train", "-k", 3, "-n", 4, "--optimize-interval", 5, "--threads", 1,
                           "--top", 0], tmp_path))
    warned = [ln for ln in (r.stdout + r.stderr).splitlines() if "never optimized" in ln]
    assert len(warned) == 1 and "would follow iteration 5, but training stops at 4" in warned[0]
    text = " ".join(check_ok(run_esca(["train", "--help"], tmp_path)).stdout.split())
    assert "iterations before the first optimization (default: a quarter of --iterations, " \
           "at most 200)" in text


def test_console_script_help(tmp_path):
    exe = Path(sys.executable).parent / "esca"
    if not exe.exists():
        exe = shutil.which("esca")
    if not exe:
        pytest.skip("no 'esca' console script installed")
    r = check_ok(run_esca(["--help"], tmp_path, exe=exe))
    assert r.stdout.startswith("usage: esca")
    assert "train" in r.stdout


# -- user errors ---------------------------------------------------------------

# Small K and N first, so that a check that fails to trigger still ends quickly.
SMALL = ["train", "-k", 3, "-n", 2, "--threads", 1, "--top", 0]


@pytest.mark.parametrize("bad, names", [
    (["--num-topics", "0"], ["num_topics", "0"]),
    (["--alpha", "-1"], ["alpha", "-1"]),
    (["--alpha", "nan"], ["alpha", "nan"]),
    (["--beta", "0"], ["beta", "0"]),
    (["--iterations", "0"], ["iterations", "0"]),
    (["--threads", "0"], ["threads", "0"]),
    (["missing-corpus.h5"], ["missing-corpus.h5"]),
    (["no-such-folder/m.h5"], ["no-such-folder/m.h5"]),
    (["builtin:nosuch"], ["nosuch"]),
    (["--num-topics", "100000000"], ["K=100000000", "GiB"]),   # tables too large for memory
], ids=["K0", "alpha-1", "alpha-nan", "beta0", "iterations0", "threads0", "missing-corpus",
        "missing-corpus-folder", "unknown-builtin", "K-too-large"])
def test_train_user_errors(bad, names, tmp_path):
    check_user_error(run_esca(SMALL + bad, tmp_path), *names)


def test_train_corpus_not_hdf5(tmp_path, not_hdf5):
    line = check_user_error(run_esca(SMALL + [not_hdf5.name], tmp_path), not_hdf5.name)
    assert "HDF5" in line


def test_train_corpus_is_a_model_not_a_corpus(trained, tmp_path):
    d, _ = trained
    line = check_user_error(run_esca(SMALL + [d / "m.h5"], tmp_path), "m.h5")
    assert "not an esca corpus" in line


def test_train_output_folder_missing(tmp_path):
    check_user_error(run_esca(SMALL + ["--out", "no-such-folder/m.h5"], tmp_path), "no-such-folder")
    assert list(tmp_path.iterdir()) == []


def test_train_output_is_a_folder(tmp_path):
    (tmp_path / "outdir").mkdir()
    check_user_error(run_esca(SMALL + ["--out", "outdir"], tmp_path), "outdir")


@pytest.mark.parametrize("cmd", [["topics"], ["export", "--out", "gensim_dir"]])
def test_model_missing_or_not_hdf5(cmd, tmp_path, not_hdf5):
    check_user_error(run_esca([cmd[0], "missing-model.h5", *cmd[1:]], tmp_path), "missing-model.h5")
    line = check_user_error(run_esca([cmd[0], not_hdf5.name, *cmd[1:]], tmp_path), not_hdf5.name)
    assert "HDF5" in line
    assert not (tmp_path / "gensim_dir").exists()


def test_topics_top_zero(trained):
    d, _ = trained
    check_user_error(run_esca(["topics", "m.h5", "--top", 0], d), "--top", "0")


def test_export_output_folder_missing(trained, tmp_path):
    d, _ = trained
    check_user_error(run_esca(["export", d / "m.h5", "--out", "no-such-folder/gensim"], tmp_path),
                     "no-such-folder")
    assert list(tmp_path.iterdir()) == []


def test_export_output_is_a_file(trained, tmp_path):
    d, _ = trained
    (tmp_path / "afile").write_text("keep me\n")
    check_user_error(run_esca(["export", d / "m.h5", "--out", "afile"], tmp_path), "afile")
    assert (tmp_path / "afile").read_text() == "keep me\n"


@pytest.mark.parametrize("bad", [["missing-corpus.h5"], ["notes.h5"], ["--alpha", "nan"],
                                 ["--num-topics", "0"]])
def test_failing_run_keeps_existing_output(bad, trained, tmp_path, not_hdf5):
    d, _ = trained
    out = tmp_path / "existing.h5"
    shutil.copyfile(d / "m.h5", out)
    before = out.read_bytes()
    names = sorted(os.listdir(tmp_path))
    check_user_error(run_esca(SMALL + bad + ["--out", out.name], tmp_path))
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == names  # no temporary file left behind


@pytest.mark.parametrize("exc, status", [
    (BrokenPipeError(), 141), (esca.errors.WriteError("full"), 74), (esca.UserError("bad"), 2),
    (esca.errors.Interrupted("stop"), 75), (esca.errors.Terminated(), 143),
    (KeyboardInterrupt(), 130), (RuntimeError("bug"), 1), (OSError("other"), 1)])
def test_exit_status_policy(exc, status):
    """One exit policy (esca.errors.exit_status) for ``esca`` and the bench worker."""
    assert esca.errors.exit_status(exc) == status
