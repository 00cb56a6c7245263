"""esca._checks.check_int: integers checked as integers, at any size, with one wording."""

import subprocess
import sys

import numpy as np
import pytest

import esca
from esca._checks import MAX_ITERATIONS, MAX_SEED, check_int, check_seed
from esca.config import TrainConfig
from esca.errors import UserError


@pytest.mark.parametrize("value", [0, 7, 2**53 + 1, MAX_SEED, np.int64(MAX_SEED), np.uint64(5),
                                   np.int32(3)])
def test_integers_are_accepted_exactly(value):
    v = check_int("n", value, 0)
    assert type(v) is int and v == int(value)


@pytest.mark.parametrize("value, message", [
    (True, "n must be an integer, got True"),
    (np.bool_(False), "n must be an integer, got "),
    (3.0, "n must be an integer, got 3.0"),
    ("3", "n must be an integer, got '3'"),
    (None, "n must be an integer, got None"),
    (-1, "n must be >= 0, got -1"),
    (2**53 + 1, "n must be in 0..2**53, got 9007199254740993"),
    (10**40, "n must be in 0..2**53, got 10000000000000000000000000000000000000000"),
])
def test_bad_values_have_one_wording(value, message):
    with pytest.raises(UserError) as e:
        check_int("n", value, 0, 2**53 if not isinstance(value, (bool, np.bool_)) and value != -1
                  else None)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_seed_range_is_int64():
    """The largest seed 2**63-1 is accepted (it went through float before, which rounds it
    to 2**63, and was refused as "not an integer"); one above is refused with the range."""
    assert check_seed("seed", MAX_SEED) == 2**63 - 1
    assert TrainConfig(num_topics=2, seed=9223372036854775807).seed == MAX_SEED
    assert TrainConfig(num_topics=2, seed=np.int64(MAX_SEED)).seed == MAX_SEED
    assert TrainConfig(num_topics=2, seed=2**53 + 1).seed == 2**53 + 1
    with pytest.raises(UserError,
                       match=r"^seed must be in 0\.\.2\*\*63-1, got 9223372036854775808$"):
        TrainConfig(num_topics=2, seed=2**63)
    with pytest.raises(UserError, match=r"^iterations must be in 1\.\.2\*\*32-1, got 10{20}$"):
        TrainConfig(num_topics=2, iterations=10**20)
    assert TrainConfig(num_topics=2, iterations=MAX_ITERATIONS).iterations == 2**32 - 1


def test_every_seed_taking_function_has_the_same_range():
    """fold-in, left-to-right, hold-out split and the estimator take 0..2**63-1, and
    numpy integers."""
    from esca.evaluate import fold_in, split_holdout
    from esca.left_to_right import left_to_right
    phi = np.full((2, 3), 1 / 3)
    alpha = np.full(2, 0.5)
    doc_ptr, word_ids = np.array([0, 2]), np.array([0, 2], dtype=np.int32)
    for seed in (MAX_SEED, np.int64(MAX_SEED)):
        fold_in(phi, alpha, doc_ptr, word_ids, sweeps=2, burn_in=1, seed=seed)
        left_to_right(phi, alpha, doc_ptr, word_ids, particles=2, seed=seed)
    for call in (lambda s: fold_in(phi, alpha, doc_ptr, word_ids, sweeps=2, burn_in=1, seed=s),
                 lambda s: left_to_right(phi, alpha, doc_ptr, word_ids, particles=2, seed=s)):
        with pytest.raises(UserError,
                           match=r"seed must be in 0\.\.2\*\*63-1, got 2\*\*63"
                                 r"|seed must be in 0\.\.2\*\*63-1, got 9223372036854775808"):
            call(2**63)
    corpus = esca.Corpus(np.array([0, 2, 4, 6]), np.array([0, 1, 1, 2, 0, 2], dtype=np.int32),
                         ["a", "b", "c"])
    split_holdout(corpus, 0.4, np.int64(MAX_SEED))
    with pytest.raises(UserError, match=r"seed must be in 0\.\.2\*\*63-1"):
        split_holdout(corpus, 0.4, 2**63)
    X = np.array([[1, 2, 0], [0, 1, 3]])
    lda = esca.LDA(n_components=2, max_iter=2, random_state=np.int64(MAX_SEED), n_threads=1)
    assert lda.fit(X, vocabulary=["a", "b", "c"]).model_.config.seed == MAX_SEED
    with pytest.raises(UserError, match=r"LDA: random_state must be in 0\.\.2\*\*63-1"):
        esca.LDA(n_components=2, max_iter=2, random_state=2**63, n_threads=1).fit(
            X, vocabulary=["a", "b", "c"])
    with pytest.raises(UserError, match=r"LDA: max_iter must be in 1\.\.2\*\*32-1, got 10{20}"):
        esca.LDA(n_components=2, max_iter=10**20, n_threads=1).fit(X, vocabulary=["a", "b", "c"])


def test_cli_trains_with_the_largest_seed(tmp_path):
    """``esca train --seed 9223372036854775807`` (the documented largest seed) trains."""
    (tmp_path / "docs.txt").write_text("river bank stone\nbank money river\nstone river\n")
    for argv in (["prepare", "docs.txt", "--format", "text", "--out", "c.h5"],
                 ["train", "c.h5", "-k", "2", "-n", "2", "--threads", "1", "--top", "0",
                  "--seed", "9223372036854775807", "--out", "m.h5"]):
        r = subprocess.run([sys.executable, "-m", "esca", *argv], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    assert esca.TopicModel.load(str(tmp_path / "m.h5")).config.seed == 2**63 - 1


# -- priors: 1e-100 .. 1e6 (esca._checks.MIN_PRIOR, MAX_PRIOR) -------------------------------

def _random_corpus():
    rng = np.random.default_rng(0)
    lens = rng.integers(5, 30, 50)
    doc_ptr = np.concatenate([[0], np.cumsum(lens)])
    word_ids = rng.integers(0, 30, doc_ptr[-1]).astype(np.int32)
    return esca.Corpus(doc_ptr, word_ids, [f"w{i}" for i in range(30)])


@pytest.mark.parametrize("prior", [1e-100, 1e6])
@pytest.mark.parametrize("sampler, kernel, optimize", [
    ("esca", "dense", 0), ("esca", "sparse", 0), ("cgs", "auto", 0), ("esca", "dense", 2)])
def test_boundary_priors_train_with_a_finite_log_likelihood(prior, sampler, kernel, optimize,
                                                            restore_numba_threads):
    """alpha = beta = 1e-100 and 1e6 train with every sampler and the prior optimizer, and
    the log-likelihood is finite (alpha = 1e-320 gave -inf, or NaN priors when optimized;
    alpha = beta = 1e-300 divided by zero in the sparse kernel)."""
    m = esca.train(_random_corpus(), num_topics=5, iterations=6, alpha=prior, beta=prior,
                   sampler=sampler, kernel=kernel, threads=1, optimize_interval=optimize,
                   optimize_burn_in=1 if optimize else None, eval_every=1)
    ll = m.log["loglik_per_token"]
    assert len(ll) == 6 and np.isfinite(ll).all()
    assert np.isfinite(m.alpha).all() and 1e-100 <= np.min(m.alpha) <= np.max(m.alpha) <= 1e6
    assert 1e-100 <= m.beta <= 1e6
    if prior == 1e6 and not optimize:  # nearly uniform: -ln V - ln K per token, accurately
        assert abs(ll[-1] - (-np.log(30) - np.log(5))) < 1e-6


@pytest.mark.parametrize("name, value", [("alpha", 1e-320), ("alpha", 1e300), ("beta", 1e-320),
                                         ("beta", 1e300), ("beta", 1e-101), ("alpha", 1.01e6)])
def test_priors_outside_the_range_are_refused_with_it(name, value):
    msg = rf"{name} must be in 1e-100\.\.1e6 \(where the log-likelihood .*\), got {value!r}"
    with pytest.raises(UserError, match=msg.replace("+", r"\+")):
        TrainConfig(num_topics=3, **{name: value})
    with pytest.raises(UserError, match="^LDA: " + msg.replace("+", r"\+")):
        esca.LDA(n_components=2, max_iter=1, n_threads=1, **{name: value}).fit(
            np.array([[1, 2], [3, 0]]), vocabulary=["a", "b"])
    if name == "alpha":
        with pytest.raises(UserError, match=r"TrainConfig|alpha must be in 1e-100\.\.1e6"):
            TrainConfig(num_topics=2, alpha=(0.1, value))
        from esca.evaluate import fold_in
        with pytest.raises(UserError, match=r"fold_in: alpha must be in 1e-100\.\.1e6"):
            fold_in(np.full((2, 3), 1 / 3), np.array([0.1, value]), np.array([0, 2]),
                    np.array([0, 2], dtype=np.int32), sweeps=2, burn_in=1)
    else:
        from esca.evaluate import phi_from_counts
        with pytest.raises(UserError, match=r"beta must be in 1e-100\.\.1e6"):
            phi_from_counts(np.ones((2, 3)), value)


# -- esca._checks.check_fraction and esca.errors.one_line --------------------------------------

@pytest.mark.parametrize("value, one, ok", [
    (0.5, False, True), (1, False, False), (1, True, True), (0, True, False), (1.5, True, False),
    (float("nan"), False, False), (True, True, False), ("0.5", False, False)])
def test_check_fraction(value, one, ok):
    from esca._checks import check_fraction
    if ok:
        assert check_fraction("holdout", value, one=one) == value
    else:
        with pytest.raises(UserError, match=r"^holdout must be a fraction in \(0, 1[)\]], got "):
            check_fraction("holdout", value, one=one)


def test_one_line_is_shared_by_the_library_and_corpora():
    from esca.corpora import download
    from esca.errors import one_line
    assert one_line(OSError("a\n  b\tc")) == "a b c" and one_line(KeyError()) == "KeyError"
    assert not hasattr(download, "one_line") or download.one_line is one_line


# -- esca._h5: the one checked reader of corpus, model and checkpoint files ---------------------

def test_h5_reader_turns_damaged_files_into_one_line_errors(tmp_path):
    import h5py

    from esca import _h5
    from esca.checkpoint import load_checkpoint
    text = tmp_path / "notes.h5"
    text.write_text("some words\nmore words\n")
    for what, needle in (("corpus", "convert it first: esca prepare"),
                         ("model", "'esca train' writes models"),
                         ("checkpoint", r"is not an esca checkpoint \(a text file, not HDF5\)")):
        with pytest.raises(UserError, match=needle):
            _h5.open_file(str(text), what)
    with pytest.raises(UserError, match="checkpoint file not found: "):
        load_checkpoint(str(tmp_path / "missing.h5"))
    with pytest.raises(UserError, match="checkpoint path is a folder, not a file: "):
        load_checkpoint(str(tmp_path))
    # A checkpoint with the right format but without its datasets: one line naming the file.
    bad = tmp_path / "checkpoint-000000001.h5"
    with h5py.File(bad, "w") as f:
        f.attrs.update({"format": "esca-checkpoint", "format_version": 2})
    with pytest.raises(UserError) as e:
        load_checkpoint(str(bad))
    assert str(e.value).startswith(f"corrupted esca checkpoint {bad}: ")
    assert "\n" not in str(e.value)
    with h5py.File(bad, "w") as f:
        f.attrs.update({"format": "esca-checkpoint", "format_version": 7})
    with pytest.raises(UserError, match=r"unknown checkpoint format version 7 \(this esca "
                                        r"reads versions 1, 2\)"):
        load_checkpoint(str(bad))
    # attributes as plain values; a dataset checked for rank and dtype
    with h5py.File(bad, "w") as f:
        f.attrs["x"] = np.array([3])
        f.attrs["s"] = b"caf\xc3\xa9"
        f.create_dataset("d", data=np.zeros((2, 2)))
    with h5py.File(bad, "r") as f:
        assert _h5.read_attrs(f) == {"x": 3, "s": "café"} and _h5.as_int(_h5.attr(f, "x")) == 3
        with pytest.raises(UserError, match="dataset 'd' must be 1-D, got shape"):
            _h5.dataset(f, "p", "d", 1, "iu")
        with pytest.raises(UserError, match=r"dataset 'd' has the wrong dtype float64 \(expected"
                                            r" int\)"):
            _h5.dataset(f, "p", "d", 2, "iu")
        assert _h5.dataset(f, "p", "missing", 1, "iu", required=False) is None
    assert _h5.peek_attrs(str(text)) is None


def test_no_private_h5_helpers_imported_across_modules():
    import pathlib
    import re
    root = pathlib.Path(esca.__file__).parent
    pattern = re.compile(r"from \.corpus import [^\n]*\b_(attrs?|as_int|read_vocab|one_line|"
                         r"H5_ERRORS|open_h5|is_hdf5)\b")
    offenders = [p.name for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
