"""esca.evaluate: the holdout split, document-completion halves, fold-in (both kernels equal
their plain-Python references and draw from (n_dk^-i + alpha_k) phi_kw), and perplexity.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats

import esca
from esca import UserError, infer
from esca import evaluate as ev

import naive
from helpers import make_random_corpus

SEED = 2**40 + 321  # uses both 32-bit key words


def _phi(K, V, seed, zeros=False):
    """Random (K, V) topics; with ``zeros``, about a fifth of the entries are exactly 0
    (every column keeps a nonzero entry)."""
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(np.full(V, 0.5), size=K)
    if zeros:
        phi[rng.random((K, V)) < 0.2] = 0.0
        phi[rng.integers(0, K, size=V), np.arange(V)] += 0.01
        phi /= phi.sum(axis=1, keepdims=True)
    return phi


def _fold_in(phi, alpha, doc_ptr, word_ids, sweeps, burn_in, seed, sparse, rao_blackwell=True):
    """esca.infer's fold-in with the kernel forced and the Rao-Blackwell average switchable."""
    sampling = infer.FoldInSampling(sweeps, burn_in, seed, sparse, rao_blackwell)
    return infer._fold_in(phi, alpha, doc_ptr, word_ids, sampling)


def _alpha(K, asym):
    return np.random.default_rng(K).uniform(0.05, 1.0, size=K) if asym else np.full(K, 0.3)


def _planted(seed, K=5, V=100, D=100, L=200):
    """Documents drawn from LDA with known phi (each topic owns V/K words, 95% of its mass)
    and theta ~ Dirichlet(0.5). Returns (phi, theta, doc_ptr, word_ids)."""
    rng = np.random.default_rng(seed)
    phi = np.full((K, V), 0.05 / V)
    own = V // K
    for k in range(K):
        phi[k, k * own:(k + 1) * own] += 0.95 / own
    theta = rng.dirichlet(np.full(K, 0.5), size=D)
    z = np.concatenate([rng.choice(K, size=L, p=t) for t in theta])
    u = rng.random(len(z))
    cdf = np.cumsum(phi, axis=1)
    word_ids = np.minimum((cdf[z] <= u[:, None] * cdf[z, -1:]).sum(axis=1), V - 1)
    doc_ptr = np.arange(D + 1, dtype=np.int64) * L
    return phi, theta, doc_ptr, word_ids.astype(np.int32)


# -- split_holdout ------------------------------------------------------------------------------

def _holdout_corpus():
    """30 documents over 20 common words; document d also holds the rare word 'rare{d}' that
    occurs nowhere else, documents 3, 7, 11, 19 hold nothing else (so they become empty
    when held out) and document 25 is empty."""
    rng = np.random.default_rng(7)
    D, V0 = 30, 20
    vocab = [f"w{i}" for i in range(V0)] + [f"rare{d}" for d in range(D)]
    docs = []
    for d in range(D):
        if d == 25:
            docs.append([])
        elif d in (3, 7, 11, 19):
            docs.append([V0 + d, V0 + d])
        else:
            doc = list(rng.integers(0, V0, size=int(rng.integers(5, 30))))
            doc.insert(int(rng.integers(0, len(doc))), V0 + d)
            docs.append(doc)
    doc_ptr = np.zeros(D + 1, dtype=np.int64)
    np.cumsum([len(x) for x in docs], out=doc_ptr[1:])
    return esca.Corpus(doc_ptr, np.array([w for x in docs for w in x], dtype=np.int32), vocab,
                       attrs={"format": "esca-corpus", "D": D, "V": len(vocab)})


def _strings(c):
    """Each document of c as a tuple of word strings."""
    return [tuple(c.vocab[w] for w in c.word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]])
            for d in range(c.num_docs)]


@pytest.mark.parametrize("seed", [0, 5])
def test_split_holdout_is_a_disjoint_complete_split_with_compacted_vocab(seed):
    c = _holdout_corpus()
    train, test, info = ev.split_holdout(c, 0.4, seed)
    orig = _strings(c)
    assert len(set(orig)) == len(orig)
    # Every training document is an original document, unchanged, in corpus order.
    train_docs = _strings(train)
    train_idx = [orig.index(doc) for doc in train_docs]
    assert train_idx == sorted(train_idx)
    # The vocabulary is exactly the training words, in their original order.
    used = {w for doc in train_docs for w in doc}
    assert train.vocab == [w for w in c.vocab if w in used]
    assert test.vocab == train.vocab
    assert train.word_ids.max() < train.num_words and test.word_ids.max() < test.num_words
    # The other documents, minus out-of-vocabulary tokens and then empty documents, are the
    # test documents, in order.
    held = [d for d in range(c.num_docs) if d not in train_idx]
    assert len(held) == round(0.4 * c.num_docs)
    filtered = [tuple(w for w in orig[d] if w in used) for d in held]
    assert _strings(test) == [doc for doc in filtered if doc]
    n_oov = sum(len(orig[d]) for d in held) - sum(len(doc) for doc in filtered)
    assert n_oov >= len(held) - 1  # every held-out document but the empty one has its rare word
    np.testing.assert_array_equal(info.pop("train_doc_ids"), sorted(train_idx))
    np.testing.assert_array_equal(info.pop("test_doc_ids"),
                                  [d for d, doc in zip(held, filtered, strict=True) if doc])
    assert info == {"train_docs": len(train_idx), "test_docs": test.num_docs,
                    "test_tokens_dropped_oov": n_oov,
                    "test_docs_dropped_empty": sum(1 for doc in filtered if not doc),
                    "fraction": 0.4, "seed": seed}
    assert info["test_docs_dropped_empty"] >= 1  # the drop is exercised
    for part in (train, test):
        assert part.doc_start == 0 and part.token_start == 0
        assert part.doc_ptr.dtype == np.int64 and part.word_ids.dtype == np.int32
        assert part.attrs["format"] == "esca-corpus" and "holdout" in part.attrs
        assert part.attrs["D"] == part.num_docs and part.attrs["V"] == part.num_words
        part.validate()


def test_split_holdout_is_deterministic_by_seed():
    c = make_random_corpus(3, D=50)
    a = ev.split_holdout(c, 0.2, 11)
    b = ev.split_holdout(c, 0.2, 11)
    other = ev.split_holdout(c, 0.2, 12)
    for x, y in zip(a[:2], b[:2], strict=True):
        np.testing.assert_array_equal(x.doc_ptr, y.doc_ptr)
        np.testing.assert_array_equal(x.word_ids, y.word_ids)
        assert x.vocab == y.vocab
    for key in a[2]:
        np.testing.assert_array_equal(a[2][key], b[2][key])
    assert not np.array_equal(a[2]["test_doc_ids"], other[2]["test_doc_ids"])
    assert a[2]["test_docs"] + a[2]["test_docs_dropped_empty"] == 10
    assert _strings(a[1]) != _strings(other[1])


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, float("nan"), "half", None])
def test_split_holdout_rejects_bad_fraction(fraction):
    with pytest.raises(UserError, match="fraction"):
        ev.split_holdout(make_random_corpus(1), fraction, 0)


def test_split_holdout_rejects_tiny_corpus_and_keeps_one_document_each_side():
    with pytest.raises(UserError, match="at least 2 documents"):
        ev.split_holdout(make_random_corpus(1, D=1), 0.5, 0)
    c = make_random_corpus(1, D=3, min_len=5)
    for f, n_train in ((0.01, 2), (0.99, 1)):
        _, _, info = ev.split_holdout(c, f, 0)
        assert info["train_docs"] == n_train
        assert n_train + info["test_docs"] + info["test_docs_dropped_empty"] == 3


# -- completion_halves --------------------------------------------------------------------------

def test_completion_halves_hand_example():
    doc_ptr = np.array([0, 5, 5, 6, 8])
    word_ids = np.array([10, 11, 12, 13, 14, 20, 30, 31])
    obs_ptr, obs_ids, held_ptr, held_ids = ev.completion_halves(doc_ptr, word_ids)
    np.testing.assert_array_equal(obs_ptr, [0, 3, 3, 4, 5])
    np.testing.assert_array_equal(obs_ids, [10, 12, 14, 20, 30])
    np.testing.assert_array_equal(held_ptr, [0, 2, 2, 2, 3])
    np.testing.assert_array_equal(held_ids, [11, 13, 31])
    assert obs_ptr.dtype == held_ptr.dtype == np.int64
    assert obs_ids.dtype == held_ids.dtype == np.int32


# -- fold_in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("K,asym,zeros", [(1, False, False), (5, False, True), (7, True, True)])
@pytest.mark.parametrize("sweeps,burn_in", [(1, 0), (4, 2)])
@pytest.mark.parametrize("rao_blackwell", [True, False], ids=["rb", "counts"])
def test_fold_in_equals_reference(sparse, K, asym, zeros, sweeps, burn_in, rao_blackwell):
    c = make_random_corpus(99, D=12, V=30, max_len=40, empty_docs=(4,))
    phi, alpha = _phi(K, c.num_words, K, zeros), _alpha(K, asym)
    theta = _fold_in(phi, alpha, c.doc_ptr, c.word_ids, sweeps, burn_in, SEED, sparse=sparse,
                  rao_blackwell=rao_blackwell)
    ref = (naive.fold_in_sparse if sparse else naive.fold_in_dense)(
        phi, alpha, c.doc_ptr, c.word_ids, sweeps, burn_in, SEED, rao_blackwell)
    np.testing.assert_array_equal(theta, ref)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(theta[4], alpha / alpha.sum())  # the empty document


@pytest.mark.parametrize("K", [ev.FOLD_IN_SPARSE_MIN_K - 1, ev.FOLD_IN_SPARSE_MIN_K])
def test_fold_in_chooses_the_kernel_by_K(K):  # noqa: N802 - K, the field's name
    c = make_random_corpus(5, D=4, V=20, max_len=12)
    phi, alpha = _phi(K, c.num_words, 1), _alpha(K, True)
    theta = ev.fold_in(phi, alpha, c.doc_ptr, c.word_ids, sweeps=2, burn_in=1, seed=3)
    ref = naive.fold_in_sparse if K >= ev.FOLD_IN_SPARSE_MIN_K else naive.fold_in_dense
    np.testing.assert_array_equal(theta, ref(phi, alpha, c.doc_ptr, c.word_ids, 2, 1, 3))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fold_in_is_deterministic_and_thread_count_independent(sparse, restore_numba_threads):
    c = make_random_corpus(8, D=60, V=40, max_len=80, empty_docs=(0, 17))
    phi, alpha = _phi(9, c.num_words, 4), 0.2  # a scalar alpha is accepted

    def run(seed):
        return _fold_in(phi, alpha, c.doc_ptr, c.word_ids, 6, 2, seed, sparse=sparse)

    numba.set_num_threads(1)
    one = run(SEED)
    np.testing.assert_array_equal(one, run(SEED))
    assert not np.array_equal(one, run(SEED + 1))
    if numba.config.NUMBA_NUM_THREADS >= 2:
        numba.set_num_threads(2)
        np.testing.assert_array_equal(run(SEED), one)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fold_in_single_token_draws_follow_the_conditional(sparse):
    """Chi-square: a probe token whose other tokens' topics are pinned draws k with
    probability ∝ (n_dk^-i + alpha_k) phi[k, probe]."""
    K = 6
    c = np.array([0.1, 0.3, 0.05, 0.2, 0.25, 0.15])  # phi[k, probe]
    alpha = np.array([0.5, 1.5, 0.2, 0.8, 0.3, 1.0])
    phi = np.zeros((K, K + 1))
    phi[np.arange(K), np.arange(K)] = 1.0 - c  # word k (k < K) is only in topic k: pinned
    phi[:, K] = c
    doc = [0, 0, 4, 2, K, 4, 4, 5, 0, 4, 5, 4]  # anchors: 3, 0, 1, 0, 5, 2 tokens per topic
    anchors = np.bincount([w for w in doc if w < K], minlength=K)
    R, sweeps, burn_in = 400, 51, 1
    nsamp = sweeps - burn_in
    doc_ptr = np.arange(R + 1, dtype=np.int64) * len(doc)
    theta = _fold_in(phi, alpha, doc_ptr, np.tile(doc, R), sweeps, burn_in, SEED,
                  sparse=sparse, rao_blackwell=False)
    # theta_dk (n_d + sum alpha) - alpha_k = mean n_dk over the samples = anchors_k + P(probe = k).
    mean = theta * (len(doc) + alpha.sum()) - alpha
    observed = np.rint((mean - anchors) * nsamp).sum(axis=0)
    assert observed.sum() == R * nsamp and observed.min() >= 0
    expected = (anchors + alpha) * c
    assert stats.chisquare(observed, expected / expected.sum() * R * nsamp).pvalue > 1e-4
    wrong = anchors * c + alpha  # prior part without phi: the test has the power to see it
    assert stats.chisquare(observed, wrong / wrong.sum() * R * nsamp).pvalue < 1e-8


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fold_in_rao_blackwell_adds_the_exact_conditional(sparse):
    """With every other token pinned to its topic, the Rao-Blackwellized theta holds the
    probe's conditional (anchors_k + alpha_k) phi[k, probe] / sum exactly, after any sweeps."""
    K = 6
    c = np.array([0.1, 0.3, 0.05, 0.2, 0.25, 0.15])
    alpha = np.array([0.5, 1.5, 0.2, 0.8, 0.3, 1.0])
    phi = np.zeros((K, K + 1))
    phi[np.arange(K), np.arange(K)] = 1.0 - c
    phi[:, K] = c
    doc = [0, 0, 4, 2, K, 4, 4, 5, 0, 4, 5, 4]
    anchors = np.bincount([w for w in doc if w < K], minlength=K)
    theta = _fold_in(phi, alpha, np.array([0, len(doc)]), np.array(doc), 3, 1, SEED,
                  sparse=sparse)
    probe = theta[0] * (len(doc) + alpha.sum()) - alpha - anchors
    want = (anchors + alpha) * c
    np.testing.assert_allclose(probe, want / want.sum(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fold_in_rao_blackwell_has_lower_variance(sparse):
    """Over seeds, the Rao-Blackwellized theta of a document varies less than the average of
    the sampled counts, around the same mean."""
    phi, _, doc_ptr, word_ids = _planted(7)
    doc_ptr, word_ids = doc_ptr[:2], word_ids[:doc_ptr[1]]
    runs = {rb: np.array([_fold_in(phi, 0.1, doc_ptr, word_ids, 6, 1, seed, sparse=sparse,
                                rao_blackwell=rb)[0] for seed in range(60)])
            for rb in (True, False)}
    var_rb, var_counts = runs[True].var(axis=0).sum(), runs[False].var(axis=0).sum()
    assert var_rb < 0.7 * var_counts
    assert np.abs(runs[True].mean(axis=0) - runs[False].mean(axis=0)).sum() < 0.1


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fold_in_recovers_planted_theta(sparse):
    phi, theta_true, doc_ptr, word_ids = _planted(2024)
    theta = _fold_in(phi, 0.1, doc_ptr, word_ids, 50, 10, SEED, sparse=sparse)
    tv = 0.5 * np.abs(theta - theta_true).sum(axis=1)
    assert tv.mean() < 0.1
    assert tv.mean() < 0.5 * (0.5 * np.abs(0.2 - theta_true).sum(axis=1)).mean()


def test_fold_in_rejects_bad_arguments():
    c = make_random_corpus(1, D=3, V=10)
    phi, alpha = _phi(4, 10, 0), _alpha(4, False)

    def call(**kw):
        return ev.fold_in(kw.pop("phi", phi), kw.pop("alpha", alpha),
                          kw.pop("doc_ptr", c.doc_ptr), kw.pop("word_ids", c.word_ids), **kw)

    cases = [({"sweeps": 0}, "sweeps"), ({"sweeps": 5, "burn_in": 5}, "burn_in"),
             ({"burn_in": -1}, "burn_in"), ({"alpha": np.ones(3)}, "alpha"),
             ({"alpha": -1.0}, "alpha"),
             ({"word_ids": np.full(c.num_tokens, 10, dtype=np.int32)}, "word id 10"),
             ({"phi": phi * 1.01}, "sums to"), ({"phi": phi.ravel()}, "phi"),
             ({"seed": -1}, "seed"), ({"seed": 0.5}, "seed"),
             ({"doc_ptr": c.doc_ptr[::-1]}, "doc_ptr")]
    for kw, message in cases:
        with pytest.raises(UserError, match=message):
            call(**kw)
    bad = phi.copy()
    bad[0, 0], bad[0, 1] = -bad[0, 1], bad[0, 0] + 2 * bad[0, 1]
    with pytest.raises(UserError, match="negative"):
        call(phi=bad)
    zero = phi.copy()
    zero[:, 3] = 0.0
    zero /= zero.sum(axis=1, keepdims=True)
    with pytest.raises(UserError, match="probability 0"):
        call(phi=zero, word_ids=np.full(c.num_tokens, 3, dtype=np.int32))
    assert ev.fold_in(phi, alpha, [0], []).shape == (0, 4)


# -- document_completion ------------------------------------------------------------------------

@pytest.mark.parametrize("K", [5, ev.FOLD_IN_SPARSE_MIN_K], ids=["dense", "sparse"])
def test_document_completion_equals_direct_computation(K):
    c = make_random_corpus(21, D=25, V=40, max_len=50, empty_docs=(3,))
    phi, alpha = _phi(K, c.num_words, 6, zeros=True), _alpha(K, True)
    res = ev.document_completion(phi, alpha, c, sweeps=5, burn_in=1, seed=SEED)
    obs_ptr, obs_ids, held_ptr, held_ids = ev.completion_halves(c.doc_ptr, c.word_ids)
    theta = ev.fold_in(phi, alpha, obs_ptr, obs_ids, sweeps=5, burn_in=1, seed=SEED)
    doc = np.repeat(np.arange(c.num_docs), np.diff(held_ptr))
    ll = np.log((theta[doc] * phi[:, held_ids].T).sum(axis=1)).sum()
    assert res["log_likelihood"] == pytest.approx(ll, rel=1e-12)
    assert res["perplexity"] == pytest.approx(math.exp(-ll / len(held_ids)), rel=1e-10)
    assert res["tokens"] == len(held_ids) == int(np.sum(np.diff(c.doc_ptr) // 2))
    assert res["docs"] == c.num_docs
    assert res["docs_scored"] == int(np.count_nonzero(np.diff(c.doc_ptr) >= 2))
    assert res["kernel"] == ("sparse" if K >= ev.FOLD_IN_SPARSE_MIN_K else "dense")
    assert ev.document_completion(phi, alpha, (c.doc_ptr, c.word_ids), sweeps=5, burn_in=1,
                                  seed=SEED) == res


def test_document_completion_true_phi_beats_uniform_phi():
    phi, theta, doc_ptr, word_ids = _planted(7, D=40)
    uniform = np.full_like(phi, 1.0 / phi.shape[1])
    kw = {"sweeps": 20, "burn_in": 5, "seed": 1}
    true = ev.document_completion(phi, 0.1, (doc_ptr, word_ids), **kw)["perplexity"]
    flat = ev.document_completion(uniform, 0.1, (doc_ptr, word_ids), **kw)["perplexity"]
    assert flat == pytest.approx(phi.shape[1], rel=1e-9)  # uniform phi: perplexity V
    assert true < flat
    # ... and close to the perplexity that the true theta would give (62.1 here).
    _, _, held_ptr, held_ids = ev.completion_halves(doc_ptr, word_ids)
    doc = np.repeat(np.arange(len(theta)), np.diff(held_ptr))
    ideal = np.exp(-np.log((theta[doc] * phi[:, held_ids].T).sum(axis=1)).mean())
    assert true < 1.05 * ideal


@pytest.mark.parametrize("seed", [7, 8])
def test_document_completion_is_close_to_the_analytic_perplexity(seed):
    """Documents drawn from LDA with known phi and theta: the expected log-likelihood of a
    held-out token of document d is -H(theta_d phi), the entropy of its word distribution, so
    the analytic perplexity is exp(sum_d n_d^(2) H(theta_d phi) / sum_d n_d^(2)). Document
    completion, with theta folded in from the other half, must land within 3% of it (measured:
    +0.5% and +1.1%); scoring with the prior mean theta instead lands 30% or more above."""
    phi, theta, doc_ptr, word_ids = _planted(seed, D=200, L=400)
    p = theta @ phi
    entropy = -(p * np.log(p)).sum(axis=1)
    _, _, held_ptr, _ = ev.completion_halves(doc_ptr, word_ids)
    n_held = np.diff(held_ptr)
    analytic = np.exp((n_held * entropy).sum() / n_held.sum())
    got = ev.document_completion(phi, 0.5, (doc_ptr, word_ids), sweeps=30, burn_in=10,
                                 seed=1)["perplexity"]
    assert got == pytest.approx(analytic, rel=0.03)
    cross_entropy = -(p * np.log(phi.mean(axis=0))).sum(axis=1)  # theta = 1/K for every d
    prior = np.exp((n_held * cross_entropy).sum() / n_held.sum())
    assert prior > 1.3 * analytic


def test_document_completion_rejects_bad_test_sets():
    phi = _phi(3, 10, 0)
    with pytest.raises(UserError, match="no held-out tokens"):
        ev.document_completion(phi, 0.1, (np.array([0, 1, 2]), np.array([1, 2])))
    with pytest.raises(UserError, match="V = 30"):
        ev.document_completion(phi, 0.1, make_random_corpus(1, V=30))
    with pytest.raises(UserError, match="Corpus or"):
        ev.document_completion(phi, 0.1, "test.h5")


# -- phi_from_counts ----------------------------------------------------------------------------

def test_phi_from_counts():
    n_kw = np.random.default_rng(0).integers(0, 5, size=(4, 9)).astype(np.int32)
    n_kw[2] = 0
    phi = ev.phi_from_counts(n_kw, 0.05)
    assert phi.dtype == np.float64 and phi.shape == (4, 9)
    np.testing.assert_allclose(phi.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(phi[1, 3], (n_kw[1, 3] + 0.05) / (n_kw[1].sum() + 9 * 0.05))
    np.testing.assert_allclose(phi[2], 1.0 / 9)
    for beta in (0, -1.0, float("inf"), "x"):
        with pytest.raises(UserError, match="beta"):
            ev.phi_from_counts(n_kw, beta)
    with pytest.raises(UserError, match="n_kw"):
        ev.phi_from_counts(-n_kw - 1, 0.1)
