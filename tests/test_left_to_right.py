"""esca.left_to_right: the kernel equals its plain-Python reference, converges to the limit
computed by enumeration, is exact where the estimator is exact, does not depend on threads,
chunking or sharding, and rejects bad arguments.
"""

import itertools
import math

import numba
import numpy as np
import pytest
from scipy.special import gammaln, logsumexp

from esca import UserError
from esca.corpus import slice_corpus
from esca.left_to_right import left_to_right, left_to_right_perplexity

import naive
from helpers import make_random_corpus

SEED = 2**40 + 321  # uses both 32-bit key words


def _model(K, V, seed):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(V, 0.7), size=K), rng.uniform(0.1, 1.0, size=K)


def _docs(lengths, V, seed):
    doc_ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=doc_ptr[1:])
    words = np.random.default_rng(seed).integers(0, V, size=int(doc_ptr[-1])).astype(np.int32)
    return doc_ptr, words


# -- enumeration: the exact marginal and the estimator's own limit --------------------------------

def exact_log_marginal(phi, alpha, words):
    """log p(w | phi, alpha) = log sum_z p(z | alpha) prod_n phi[z_n, w_n], over all K^N z, with
    the Dirichlet-multinomial p(z | alpha) = Γ(Σα)/Γ(Σα+N) Π_k Γ(α_k + n_k)/Γ(α_k)."""
    K, N = len(alpha), len(words)
    if N == 0:
        return 0.0
    z = np.array(list(itertools.product(range(K), repeat=N)))  # (K^N, N)
    n = np.stack([(z == k).sum(axis=1) for k in range(K)], axis=1)  # (K^N, K)
    log_prior = (gammaln(alpha.sum()) - gammaln(alpha.sum() + N)
                 + (gammaln(alpha + n) - gammaln(alpha)).sum(axis=1))
    log_lik = np.log(phi[z, np.asarray(words)]).sum(axis=1)
    return float(logsumexp(log_prior + log_lik))


def limit_and_spread(phi, alpha, words, resample):
    """The estimator's limit as R -> infinity, sum_n log E[p_n^r], and sum_n sd(p_n^r)/E[p_n^r].

    The distribution of one particle's topics z_<n at position n is propagated exactly over all
    K^(n-1) assignments: the optional sweep over the earlier positions, then the draw of z_n.
    The second value bounds (for large R, by the delta method and Cauchy-Schwarz) the standard
    deviation of the R-particle estimate of log p(w) times sqrt(R).
    """
    K = len(alpha)
    asum = alpha.sum()

    def weights(z, j, w):  # (n_k^-j + alpha_k) phi[k, w] over the topics of z without position j
        n = np.bincount([t for i, t in enumerate(z) if i != j], minlength=K)
        return (n + alpha) * phi[:, w]

    states = {(): 1.0}
    limit, spread = 0.0, 0.0
    for j, w in enumerate(words):
        if resample:
            for jp in range(j):
                swept = {}
                for z, p in states.items():
                    q = weights(z, jp, words[jp])
                    for k in range(K):
                        key = z[:jp] + (k,) + z[jp + 1:]
                        swept[key] = swept.get(key, 0.0) + p * q[k] / q.sum()
                states = swept
        mean = second = 0.0
        grown = {}
        for z, p in states.items():
            q = weights(z, -1, w)
            pn = q.sum() / (j + asum)
            mean += p * pn
            second += p * pn * pn
            for k in range(K):
                grown[z + (k,)] = grown.get(z + (k,), 0.0) + p * q[k] / q.sum()
        states = grown
        limit += math.log(mean)
        spread += math.sqrt(max(second - mean * mean, 0.0)) / mean
    return limit, spread


# -- kernel = reference ---------------------------------------------------------------------------

@pytest.mark.parametrize("resample", [False, True], ids=["plain", "resample"])
@pytest.mark.parametrize("K,particles,token_offset", [(1, 3, 0), (4, 5, 17), (9, 2, 2**33 + 5)])
def test_left_to_right_equals_reference(resample, K, particles, token_offset):
    V = 25
    phi, alpha = _model(K, V, K)
    doc_ptr, words = _docs([7, 0, 1, 12, 3, 0, 20, 2], V, K)
    got = left_to_right(phi, alpha, doc_ptr, words, particles=particles, resample=resample,
                        seed=SEED, token_offset=token_offset)
    ref = naive.left_to_right(phi, alpha, doc_ptr, words, particles, resample, SEED, token_offset)
    np.testing.assert_array_equal(got, ref)
    assert got[1] == 0.0 and got[5] == 0.0  # empty documents
    assert np.all(got[[0, 2, 3, 4, 6, 7]] < 0)


# -- accuracy -------------------------------------------------------------------------------------

@pytest.mark.parametrize("resample", [False, True], ids=["plain", "resample"])
def test_one_token_is_exact_and_two_tokens_converge_to_the_exact_marginal(resample):
    """p_1 = sum_k alpha_k phi_kw / sum alpha needs no particles; E[p_2^r] = p(w_2 | w_1)."""
    phi, alpha = _model(3, 5, 0)
    doc_ptr, words = _docs([1] * 5 + [2] * 25, 5, 1)
    docs = [words[a:b] for a, b in itertools.pairwise(doc_ptr)]
    exact = np.array([exact_log_marginal(phi, alpha, d) for d in docs])
    for particles in (1, 4):
        got = left_to_right(phi, alpha, doc_ptr, words, particles=particles, resample=resample,
                            seed=SEED)
        np.testing.assert_allclose(got[:5], exact[:5], rtol=1e-14)
        np.testing.assert_allclose(got[:5], np.log(alpha @ phi[:, words[:5]] / alpha.sum()),
                                   rtol=1e-14)
    R = 4000
    got = left_to_right(phi, alpha, doc_ptr, words, particles=R, resample=resample, seed=SEED)
    sd = np.array([limit_and_spread(phi, alpha, d, resample)[1] for d in docs]) / math.sqrt(R)
    assert np.all(np.abs(got - exact) <= 5 * sd + 1e-9)


@pytest.mark.parametrize("resample", [False, True], ids=["plain", "resample"])
def test_many_particles_converge_to_the_enumerated_limit(resample):
    """For N >= 3 the per-position average converges to sum_n log E[p_n^r], which is not
    log p(w): the kernel lands within 5 standard deviations of that limit (both computed by
    enumeration, K = 3, V = 5), the limit is within 0.25 nats of the exact marginal, and
    without resampling it is further from it than the tolerance, so an estimator that
    converged to log p(w) (e.g. averaging whole-document products) would fail here."""
    phi, alpha = _model(3, 5, 2)
    lengths = np.array([1, 2, 3, 4, 5, 6] * 2)
    doc_ptr, words = _docs(lengths, 5, 3)
    docs = [words[a:b] for a, b in itertools.pairwise(doc_ptr)]
    R = 40000
    got = left_to_right(phi, alpha, doc_ptr, words, particles=R, resample=resample, seed=SEED)
    limit, spread = np.array([limit_and_spread(phi, alpha, d, resample) for d in docs]).T
    exact = np.array([exact_log_marginal(phi, alpha, d) for d in docs])
    tol = 5 * spread / math.sqrt(R) + 1e-9  # slack: rounding of a sum of R values
    assert np.all(np.abs(got - limit) <= tol)
    np.testing.assert_allclose(limit[lengths <= 2], exact[lengths <= 2], rtol=1e-12)
    assert np.all(np.abs(limit - exact) < 0.25)
    assert np.all(np.abs(got - exact) < 0.25)
    if not resample:
        assert np.any(np.abs(limit - exact) > 3 * tol)


def test_left_to_right_perplexity_is_close_to_the_exact_perplexity():
    """Documents drawn from LDA with a known, well-separated phi: the left-to-right perplexity
    is within 2% of the exact one (enumeration), with and without resampling."""
    rng = np.random.default_rng(11)
    K, V, D = 3, 9, 30
    phi = np.full((K, V), 0.1 / V)
    for k in range(K):
        phi[k, 3 * k:3 * k + 3] += 0.9 / 3
    alpha = np.array([0.3, 0.5, 0.2])
    lengths = rng.integers(4, 9, size=D)
    words = []
    for n in lengths:
        theta = rng.dirichlet(alpha)
        z = rng.choice(K, size=n, p=theta)
        words.extend(rng.choice(V, p=phi[k]) for k in z)
    doc_ptr = np.zeros(D + 1, dtype=np.int64)
    np.cumsum(lengths, out=doc_ptr[1:])
    words = np.array(words, dtype=np.int32)
    exact_ll = math.fsum(exact_log_marginal(phi, alpha, words[a:b])
                         for a, b in itertools.pairwise(doc_ptr))
    exact = math.exp(-exact_ll / len(words))
    for resample in (False, True):
        res = left_to_right_perplexity(phi, alpha, (doc_ptr, words), particles=500,
                                       resample=resample, seed=SEED)
        assert abs(res["perplexity"] / exact - 1) < 0.02
        per_doc = left_to_right(phi, alpha, doc_ptr, words, particles=500, resample=resample,
                                seed=SEED)
        assert res["log_likelihood"] == math.fsum(per_doc)
        assert res["perplexity"] == math.exp(-math.fsum(per_doc) / len(words))
        assert (res["tokens"], res["docs"], res["particles"], res["resample"], res["seed"],
                res["estimator"]) == (len(words), D, 500, resample, SEED, "left-to-right")
    uniform = left_to_right_perplexity(np.full((K, V), 1 / V), alpha, (doc_ptr, words), seed=1)
    assert uniform["perplexity"] == pytest.approx(V, rel=1e-12)  # every p_n is exactly 1/V
    assert uniform["perplexity"] > 1.2 * exact


# -- determinism ----------------------------------------------------------------------------------

@pytest.mark.parametrize("resample", [False, True], ids=["plain", "resample"])
def test_thread_count_and_sharding_do_not_change_the_result(resample, restore_numba_threads):
    c = make_random_corpus(8, D=60, V=40, max_len=30 if resample else 80, empty_docs=(0, 17))
    phi, alpha = _model(7, c.num_words, 4)

    def run(ptr, ids, off):
        return left_to_right(phi, alpha, ptr, ids, particles=3, resample=resample, seed=SEED,
                             token_offset=off)

    numba.set_num_threads(1)
    whole = run(c.doc_ptr, c.word_ids, 0)
    if numba.config.NUMBA_NUM_THREADS >= 2:
        numba.set_num_threads(2)
        np.testing.assert_array_equal(run(c.doc_ptr, c.word_ids, 0), whole)
    for a, b in [(0, 1), (5, 23), (17, 60), (59, 60)]:
        part = slice_corpus(c, a, b)
        np.testing.assert_array_equal(run(part.doc_ptr, part.word_ids, part.token_start),
                                      whole[a:b])
    part = slice_corpus(c, 5, 23)  # a Corpus shard is keyed by its token_start
    res = left_to_right_perplexity(phi, alpha, part, particles=3, resample=resample, seed=SEED)
    assert res["log_likelihood"] == math.fsum(whole[5:23])
    assert not np.array_equal(run(part.doc_ptr, part.word_ids, 0), whole[5:23])


def test_same_seed_same_result_other_seed_other_result():
    c = make_random_corpus(3, D=10, V=20, max_len=15)
    phi, alpha = _model(5, c.num_words, 6)
    for resample in (False, True):
        def run(seed, resample=resample):
            return left_to_right(phi, alpha, c.doc_ptr, c.word_ids, particles=4,
                                 resample=resample, seed=seed)

        one = run(SEED)
        np.testing.assert_array_equal(run(SEED), one)
        other = run(SEED + 1)
        longer = c.doc_lengths() >= 2
        assert np.mean(other[longer] != one[longer]) > 0.5
        one_token = c.doc_lengths() == 1  # exact, so seed-free
        np.testing.assert_array_equal(other[one_token], one[one_token])
    plain = left_to_right(phi, alpha, c.doc_ptr, c.word_ids, particles=4, seed=SEED)
    assert not np.array_equal(plain, one)


# -- bad input ------------------------------------------------------------------------------------

def test_left_to_right_rejects_bad_arguments():
    c = make_random_corpus(1, D=3, V=10, min_len=3)
    phi, alpha = _model(4, 10, 0)

    def call(**kw):
        return left_to_right(kw.pop("phi", phi), alpha, c.doc_ptr,
                             kw.pop("word_ids", c.word_ids), **kw)

    cases = [({"particles": 0}, "particles must be in 1..2\\*\\*32, got 0"),
             ({"particles": -3}, "got -3"), ({"particles": "x"}, "particles .* got 'x'"),
             ({"particles": 2.0}, "got 2.0"),
             ({"particles": 2**32 + 1}, "particles must be in 1..2\\*\\*32, got"),
             ({"particles": 2**31, "resample": True}, "particles \\* longest document"),
             ({"resample": "yes"}, "resample"),
             ({"seed": -1}, "seed"), ({"seed": 0.5}, "seed"), ({"seed": 2**64}, "seed"),
             ({"token_offset": -1}, "token_offset"), ({"token_offset": 1.5}, "token_offset"),
             ({"word_ids": np.full(c.num_tokens, 10, dtype=np.int32)}, "word id 10"),
             ({"phi": phi * 1.01}, "sums to")]
    for kw, message in cases:
        with pytest.raises(UserError, match=message):
            call(**kw)
    zero = phi.copy()
    zero[:, 3] = 0.0
    zero /= zero.sum(axis=1, keepdims=True)
    with pytest.raises(UserError, match="probability 0"):
        call(phi=zero, word_ids=np.full(c.num_tokens, 3, dtype=np.int32))
    assert left_to_right(phi, alpha, [0], []).shape == (0,)
    assert left_to_right(phi, alpha, [0, 0, 0], []).tolist() == [0.0, 0.0]


def test_left_to_right_perplexity_rejects_bad_test_sets():
    c = make_random_corpus(2, D=4, V=30)
    phi, alpha = _model(3, 20, 0)
    with pytest.raises(UserError, match="V = 30"):
        left_to_right_perplexity(phi, alpha, c)
    with pytest.raises(UserError, match="Corpus or"):
        left_to_right_perplexity(phi, alpha, 5)
    with pytest.raises(UserError, match="no tokens"):
        left_to_right_perplexity(phi, alpha, ([0, 0], []))
    with pytest.raises(UserError, match="particles"):
        left_to_right_perplexity(phi, alpha, ([0, 2], [1, 2]), particles=0)
