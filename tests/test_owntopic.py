"""ESCA with the token's own previous topic taken out of its stale counts
(``TrainConfig(own_topic="exclude")``, issue 15).

The target is p(k) = q(k) for k != o and p(o) = (n_dk - 1 + alpha_o)(n_wk - 1 + beta) /
(n_k - 1 + V beta) at the token's previous topic o, where q is shipped ESCA's frozen
distribution. The kernels equal their references in tests/naive.py bit for bit
(tests/test_kernels.py, tests/test_sparse.py); here: their draws follow p and not q, the
retry random numbers are keyed by token and attempt, results do not depend on the thread
count, the option travels through the model, the checkpoint and the CLI, and files written
before the option existed keep loading.
"""

import dataclasses
import hashlib
import json

import h5py
import numba
import numpy as np
import pytest
from scipy import stats

import esca
from esca import CheckpointPolicy, TrainConfig
from esca._h5 import read_attrs
from esca.checkpoint import ADDED_SETTINGS, FREE_SETTINGS, metadata_checksum, run_identity
from esca.samplers import EscaSampler
from esca.samplers import _kernels as kern

import naive
from helpers import check_ok, make_random_corpus, run_esca

SEED = 2**40 + 17
N_DRAWS = 60_000


def _one_token_state(K, o, alpha, beta, seed, alone=False):
    """A corpus of one document made of N_DRAWS copies of word 0, every token's previous
    topic o, and stale counts with n_dk = 1 at o (the token alone in its document: the case
    where counting it matters most) and n_wk = 25 there. Every token then has the same
    target, so one sweep gives N_DRAWS independent draws of it. ``alone``: o is the only
    topic of the document and of the word, with n_wk = 1 at o (q nearly all at o; with tiny
    priors the rejection almost never accepts).
    Returns (sampler state arrays, p, q) with p and q normalized."""
    rng = np.random.default_rng(seed)
    V = 4
    n_wk = rng.integers(0, 20, size=(V, K)).astype(np.int32)
    n_dk = np.zeros((1, K), dtype=np.int32)
    if alone:
        n_wk[0] = 0
    else:
        n_wk[0, rng.choice(K, size=K // 2, replace=False)] = 0
        active = rng.choice(K, size=max(1, K // 3), replace=False)
        n_dk[0, active] = rng.integers(1, 30, size=len(active))
    n_wk[0, o] = 1 if alone else 25
    n_dk[0, o] = 1
    n_k = n_wk.sum(axis=0).astype(np.int64) + rng.integers(1, 30, size=K)
    alpha = np.full(K, float(alpha))
    q = (n_dk[0] + alpha) * (n_wk[0] + beta) / (n_k + V * beta)
    p = q.copy()
    p[o] = (n_dk[0, o] - 1 + alpha[o]) * (n_wk[0, o] - 1 + beta) / (n_k[o] - 1 + V * beta)
    return (n_dk, n_wk, n_k, alpha), p / p.sum(), q / q.sum()


def _draws(kernel, own_topic, K, o, arrays, beta):
    """One sweep of EscaSampler over the one-word document: the N_DRAWS new topics."""
    n_dk, n_wk, n_k, alpha = arrays
    corpus = esca.Corpus(np.array([0, N_DRAWS], dtype=np.int64),
                         np.zeros(N_DRAWS, dtype=np.int32), [f"w{i}" for i in range(4)])
    config = TrainConfig(num_topics=K, iterations=1, alpha=tuple(alpha), beta=beta, seed=SEED,
                         kernel=kernel, own_topic=own_topic)
    s = EscaSampler(corpus, config)
    s.z[:] = o
    s.n_dk[:] = n_dk
    s.n_wk[:] = n_wk
    s.n_k[:] = n_k
    s.sweep(1)
    return np.bincount(s.z, minlength=K)


def _chi2_pvalue(observed, p):
    expected = p * observed.sum()
    big = expected >= 5   # pool the topics with tiny expectations
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


CASES = {  # name: (K, o, alpha, beta, alone)
    "typical": (20, 3, 0.1, 0.01, False),
    "large-prior": (12, 0, 2.0, 1.0, False),
    "tiny-prior": (15, 14, 1e-7, 1e-7, True),   # sparse: the O(K) fallback; dense: its O(K) draw
}


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
@pytest.mark.parametrize("case", list(CASES))
def test_exclude_draws_follow_the_exclude_distribution(kernel, case):
    """Chi-square of N_DRAWS draws (fixed seed: deterministic) against p; the include kernel's
    draws of the same state fail the same test, so the test can fail."""
    K, o, alpha, beta, alone = CASES[case]
    arrays, p, q = _one_token_state(K, o, alpha, beta, seed=K, alone=alone)
    assert abs(p[o] - q[o]) > 0.01   # the two targets differ by many standard errors
    excl = _draws(kernel, "exclude", K, o, arrays, beta)
    incl = _draws(kernel, "include", K, o, arrays, beta)
    assert excl.sum() == incl.sum() == N_DRAWS
    assert _chi2_pvalue(excl, p) > 1e-4, (excl, p * N_DRAWS)
    np.testing.assert_allclose(excl / N_DRAWS, p, atol=0.01)
    assert _chi2_pvalue(incl, p) < 1e-12
    assert _chi2_pvalue(incl, q) > 1e-4   # include still draws shipped ESCA's q


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_tiny_priors_equal_the_reference(kernel):
    """Tiny priors: the token's own count is nearly all of q. The sparse kernel rejects almost
    every proposal of o and reaches the O(K) fallback after MAX_PROPOSALS proposals; the dense
    kernel takes its O(K) draw instead of cancelling digits. Both must still equal their
    references (which also fixes that the cap is the same number in both)."""
    assert naive.MAX_PROPOSALS == kern.MAX_PROPOSALS
    c = make_random_corpus(5, D=12, V=25, min_len=1, max_len=30)
    K = 9
    alpha = np.full(K, 1e-6)
    beta = 1e-6
    config = TrainConfig(num_topics=K, iterations=3, alpha=tuple(alpha), beta=beta, seed=SEED,
                         kernel=kernel, own_topic="exclude")
    s = EscaSampler(c, config, threads=2)
    s.initialize()
    z, n_dk = s.z.copy(), s.n_dk.copy()   # the sampler's token order (sorted within documents)
    ref = naive.esca_sweep if kernel == "dense" else naive.esca_sweep_sparse
    for it in range(1, 4):
        n_wk = naive.count_word_topics(s.word_ids, z, c.num_words, K)
        n_k = np.bincount(z, minlength=K).astype(np.int64)
        z, n_dk = ref(s.doc_ptr, s.word_ids, z, n_dk, n_wk, n_k, alpha, beta, 0, SEED, it,
                      s.stream, exclude_own=True)
        s.step(it)
        np.testing.assert_array_equal(s.z, z, err_msg=f"iteration {it}")
        np.testing.assert_array_equal(s.n_dk, n_dk)


def test_attempt_uniforms_are_keyed_by_token_and_attempt():
    """Retry uniforms: equal to the reference, distinct per attempt and per token, and never
    the block of a first draw (counter word 3 = stream + attempt << 8)."""
    from esca.rng import ATTEMPT_SHIFT, STREAM_ESCA, attempt_uniforms, split_seed

    lo, hi = split_seed(SEED)

    @numba.njit
    def call(token, attempt):
        return attempt_uniforms(lo, hi, 7, STREAM_ESCA, token, attempt)

    assert ATTEMPT_SHIFT == naive.ATTEMPT_SHIFT
    seen = set()
    for token in (0, 1, 2**33 + 5):
        for attempt in (1, 2, 3, 2**20):
            got = call(token, attempt)
            assert got == naive.attempt_uniforms(SEED, 7, STREAM_ESCA, token, attempt)
            assert all(0.0 <= u < 1.0 for u in got)
            seen.update(got)
    assert len(seen) == 3 * 4 * 2
    assert naive.pair_uniform(SEED, 7, STREAM_ESCA, 0) not in seen


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs NUMBA_NUM_THREADS >= 2")
@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_exclude_same_result_with_1_and_2_threads(kernel, restore_numba_threads):
    runs = [esca.train(None, num_topics=20, iterations=6, seed=3, threads=t, kernel=kernel,
                       own_topic="exclude", eval_every=3) for t in (1, 2)]
    a, b = runs
    for name in ("z", "n_kw", "n_dk", "n_k"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.log["loglik_per_token"], b.log["loglik_per_token"])
    include = esca.train(None, num_topics=20, iterations=6, seed=3, threads=1, kernel=kernel,
                         eval_every=3)
    assert not np.array_equal(a.n_kw, include.n_kw)   # the option changes the chain
    assert include.z is None and include.config.own_topic == "include"


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_exclude_model_continues_bit_identically(kernel, tmp_path, restore_numba_threads):
    """Its models store z (the sweep reads it), so continuing one equals one longer run."""
    settings = dict(num_topics=8, seed=5, threads=1, kernel=kernel, own_topic="exclude",
                    eval_every=0)
    whole = esca.train(None, iterations=6, **settings)
    half = esca.train(None, iterations=3, **settings)
    half.save(str(tmp_path / "m3.h5"))
    loaded = esca.load_model(str(tmp_path / "m3.h5"))
    assert loaded.config.own_topic == "exclude" and loaded.z is not None
    cont = esca.train(None, resume=str(tmp_path / "m3.h5"), iterations=6, threads=1)
    for name in ("z", "n_kw", "n_dk"):
        np.testing.assert_array_equal(getattr(cont, name), getattr(whole, name), err_msg=name)
    with pytest.raises(esca.UserError, match="own_topic"):
        esca.train(None, resume=str(tmp_path / "m3.h5"), iterations=6, own_topic="include")


def test_config_field():
    assert TrainConfig().own_topic == "include"
    with pytest.raises(esca.UserError, match="unknown own_topic 'both'"):
        TrainConfig(own_topic="both")
    text = TrainConfig(own_topic="exclude").to_json()
    assert TrainConfig.from_json(text).own_topic == "exclude"
    old = json.loads(TrainConfig().to_json())
    del old["own_topic"]   # a file written before the field existed
    assert TrainConfig.from_json(json.dumps(old)).own_topic == "include"


def _old_identity(config, corpus_sha256):
    """run_identity as esca computed it before own_topic (and the later settings) existed."""
    c = dataclasses.asdict(config)
    for k in ADDED_SETTINGS:
        del c[k]
    for k in FREE_SETTINGS:
        c.pop(k, None)
    if not c.get("optimize_interval"):
        c.pop("optimize_burn_in", None)
    text = json.dumps({"config": c, "corpus_sha256": corpus_sha256}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_checkpoints_from_before_the_field_resume(tmp_path, restore_numba_threads):
    """A checkpoint whose config has no own_topic and whose run identity was computed without
    it resumes as "include", to the same result as one uninterrupted run."""
    settings = dict(num_topics=6, seed=9, threads=1, eval_every=0, init_blocks=0)  # as then
    whole = esca.train(None, iterations=4, **settings)
    folder = tmp_path / "ckpt"
    esca.train(None, iterations=2, checkpoints=CheckpointPolicy(directory=str(folder), every=1),
               **settings)
    for path in folder.iterdir():
        with h5py.File(path, "r+") as f:
            config = json.loads(f.attrs["config"])
            for k in ADDED_SETTINGS:
                del config[k]
            f.attrs["config"] = json.dumps(config, sort_keys=True)
            old = _old_identity(TrainConfig(**config), str(f.attrs["corpus_sha256"]))
            f.attrs["run_identity"] = old
            f.attrs["meta_sha256"] = metadata_checksum(
                read_attrs(f), {k: v[()] for k, v in f["log"].items()})
    cont = esca.train(None, resume=str(folder), iterations=4, threads=1)
    assert cont.config.own_topic == "include" and cont.config.init_blocks == 0
    np.testing.assert_array_equal(cont.n_kw, whole.n_kw)
    assert run_identity(TrainConfig(**settings, iterations=4), "x") == \
        _old_identity(TrainConfig(**settings, iterations=4), "x")


def test_cli_own_topic(tmp_path):
    r = run_esca(["train", "builtin:wiki250", "-k", "5", "-n", "2", "--threads", "1",
                  "--own-topic", "exclude", "--out", "m.h5"], tmp_path)
    check_ok(r)
    m = esca.load_model(str(tmp_path / "m.h5"))
    assert m.config.own_topic == "exclude" and m.z is not None
    bad = run_esca(["train", "builtin:wiki250", "--own-topic", "both"], tmp_path)
    assert bad.returncode == 2 and "--own-topic" in bad.stderr


def test_exclude_model_without_z_is_refused(restore_numba_threads):
    """A hand-built exclude model without z cannot be continued: a one-line UserError."""
    model = esca.train(None, iterations=2, num_topics=4, seed=1, threads=1, eval_every=0,
                       own_topic="exclude")
    model.z = None
    with pytest.raises(esca.UserError, match="own_topic='exclude' but holds no per-token"):
        esca.train(None, resume=model, iterations=4, threads=1)
