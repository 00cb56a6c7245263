"""The sparse + alias ESCA kernel: equals its plain-Python reference, and both ESCA kernels
draw from exactly p(k) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta).
"""

import numpy as np
import pytest
from scipy import stats

import esca
from esca import TrainConfig
from esca.distributed import partition_documents
from esca.rng import STREAM_ESCA, split_seed
from esca.samplers import EscaSampler
from esca.samplers import _kernels as kern

import naive

SEED = 2**33 + 99
BETA = 0.05


def _alpha(K, asymmetric):
    return (np.random.default_rng(K).uniform(0.05, 1.0, size=K) if asymmetric
            else np.full(K, 0.3))


def _tables(n_wk, n_k, alpha, threads_chunks=3, beta=BETA):
    """Build the kernel's word and global alias tables, as EscaSampler does."""
    V, K = n_wk.shape
    wa_ptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(np.minimum(n_wk.sum(axis=1), K), out=wa_ptr[1:])
    size = int(wa_ptr[-1])
    wa = (wa_ptr, np.full(V, -1, dtype=np.int64), np.full(size, -1, dtype=np.int32),
          np.full(size, -1, dtype=np.int32), np.full(size, -1.0),
          np.full(size, -1, dtype=np.int32), np.empty(V))
    chunks = np.linspace(0, V, threads_chunks + 1).astype(np.int64)
    kern.word_alias_tables(n_wk, n_k, alpha, beta, chunks, *wa)
    g_prob, g_alias = np.empty(K), np.empty(K, dtype=np.int32)
    gsum = kern.global_alias_table(n_k, alpha, beta, V, g_prob, g_alias)
    return wa, (g_prob, g_alias, gsum)


def _sparse_sweep(doc_ptr, word_ids, chunk_ptr, z, n_dk, n_wk, n_k, alpha, token_start, it,  # noqa: PLR0913 - a kernel's arrays
                  threads_chunks=3, beta=BETA, exclude_own=False):
    """One kernel sweep in place on (z, n_dk)."""
    wa, g = _tables(n_wk, n_k, alpha, threads_chunks, beta)
    kern.esca_sweep_sparse(doc_ptr, word_ids, chunk_ptr, z, n_dk, n_wk, n_k, beta, *wa, *g,
                           token_start, *split_seed(SEED), it, STREAM_ESCA, alpha, exclude_own)


def _encoded(prob, alias):
    """The distribution an alias table encodes:
    (prob[j] + sum_{b: alias[b]=j} (1 - prob[b])) / m."""
    m = len(prob)
    p = np.array(prob, dtype=float)
    for b in range(m):
        if alias[b] != b:
            p[alias[b]] += 1.0 - prob[b]
    return p / m


@pytest.mark.parametrize("K", [1, 5, 13])
@pytest.mark.parametrize("asym", [False, True])
def test_alias_tables_equal_reference_and_are_exact(random_corpus, K, asym):
    c = random_corpus
    alpha = _alpha(K, asym)
    z = np.random.default_rng(K).integers(0, K, size=c.num_tokens).astype(np.int32)
    n_wk = naive.count_word_topics(c.word_ids, z, c.num_words, K)
    n_k = np.bincount(z, minlength=K).astype(np.int64)
    V = c.num_words
    tables, (g_prob, g_alias, gsum) = _tables(n_wk, n_k, alpha)
    wa_ptr, nnz, topic, count, prob, alias, qw = tables
    ref = naive.word_alias_tables(n_wk, n_k, alpha, BETA)
    q = alpha * n_wk / (n_k + V * BETA)
    for w in range(V):
        a, m = wa_ptr[w], nnz[w]
        rtopics, rcounts, rprob, ralias, rq = ref[w]
        assert topic[a:a + m].tolist() == rtopics == np.flatnonzero(n_wk[w]).tolist()
        assert count[a:a + m].tolist() == rcounts == n_wk[w, rtopics].tolist()
        assert prob[a:a + m].tolist() == rprob and alias[a:a + m].tolist() == ralias
        assert qw[w] == rq
        assert m <= wa_ptr[w + 1] - a
        if m:   # the table encodes the word part exactly
            np.testing.assert_allclose(_encoded(prob[a:a + m], alias[a:a + m]),
                                       q[w, rtopics] / q[w].sum(), rtol=1e-12, atol=1e-15)
            assert np.all((prob[a:a + m] >= 0) & (prob[a:a + m] <= 1))
    np.testing.assert_allclose(qw, q.sum(axis=1), rtol=1e-12)
    rg = naive.global_alias_table(n_k, alpha, BETA, V)
    assert (g_prob.tolist(), g_alias.tolist(), gsum) == rg
    gq = alpha * BETA / (n_k + V * BETA)
    np.testing.assert_allclose(_encoded(g_prob, g_alias), gq / gq.sum(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("exclude_own", [False, True])
@pytest.mark.parametrize("token_start", [0, 2**32 - 300])
@pytest.mark.parametrize("K,asym", [(5, False), (7, True)])
def test_esca_sweep_sparse_equals_reference(random_corpus, K, asym, token_start, exclude_own):
    c = random_corpus
    alpha = _alpha(K, asym)
    z_ref = naive.init_topics(c.num_tokens, token_start, SEED, K)
    n_dk_ref = naive.count_doc_topics(c.doc_ptr, z_ref, K)
    chunkings = [partition_documents(c.doc_ptr, p) for p in (1, 3, 3 * c.num_docs)]
    states = [(z_ref.copy(), n_dk_ref.copy()) for _ in chunkings]
    for it in range(1, 6):
        n_wk = naive.count_word_topics(c.word_ids, z_ref, c.num_words, K)
        n_k = np.bincount(z_ref, minlength=K).astype(np.int64)
        z_ref, n_dk_ref = naive.esca_sweep_sparse(c.doc_ptr, c.word_ids, z_ref, n_dk_ref, n_wk,
                                                  n_k, alpha, BETA, token_start, SEED, it,
                                                  STREAM_ESCA, exclude_own)
        for j, chunk_ptr in enumerate(chunkings):
            z, n_dk = (a.copy() for a in states[j])
            _sparse_sweep(c.doc_ptr, c.word_ids, chunk_ptr, z, n_dk, n_wk, n_k, alpha,
                          token_start, it, exclude_own=exclude_own)
            np.testing.assert_array_equal(z, z_ref, err_msg=f"iteration {it}")
            np.testing.assert_array_equal(n_dk, n_dk_ref)
            states[j] = z, n_dk


def _one_word_document(K, n_tokens, seed, beta=BETA):
    """A stale state and one document made of n_tokens copies of word 0.

    All its tokens share one ESCA distribution, so one sweep gives n_tokens
    independent draws from it.
    """
    rng = np.random.default_rng(seed)
    V = 4
    n_wk = rng.integers(0, 50, size=(V, K)).astype(np.int32)
    n_wk[0, rng.choice(K, size=K // 2, replace=False)] = 0   # some topics unseen for the word
    n_k = n_wk.sum(axis=0).astype(np.int64) + rng.integers(0, 30, size=K)
    n_dk = np.zeros((1, K), dtype=np.int32)
    active = rng.choice(K, size=max(1, K // 3), replace=False)   # a sparse document
    n_dk[0, active] = rng.integers(1, 400, size=len(active))
    alpha = rng.uniform(0.01, 0.5, size=K)
    p = (n_dk[0] + alpha) * (n_wk[0] + beta) / (n_k + V * beta)
    doc_ptr = np.array([0, n_tokens], dtype=np.int64)
    word_ids = np.zeros(n_tokens, dtype=np.int32)
    return doc_ptr, word_ids, n_dk, n_wk, n_k, alpha, p / p.sum()


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
@pytest.mark.parametrize("K,beta", [(6, BETA), (40, BETA), (40, 20.0), (200, BETA)])
def test_kernels_draw_from_the_exact_distribution(kernel, K, beta):
    """Chi-square goodness of fit of 200,000 draws against the exact ESCA probabilities.

    beta=20 gives the global part (alpha_k beta / Z_k, the only mass of the
    topics absent from both the document and the word) a large share.
    """
    n = 200_000
    doc_ptr, word_ids, n_dk, n_wk, n_k, alpha, p = _one_word_document(K, n, K, beta)
    z = np.zeros(n, dtype=np.int32)
    n_dk_new = n_dk.copy()   # the kernels overwrite the document's row with the new counts
    chunk_ptr = np.array([0, 1], dtype=np.int64)
    if kernel == "dense":
        phi_w = np.empty(n_wk.shape)
        kern.word_factor(n_wk, n_k, beta, phi_w)
        kern.esca_sweep_dense(doc_ptr, word_ids, chunk_ptr, z, n_dk_new, phi_w, alpha,
                              0, *split_seed(SEED), 1, STREAM_ESCA, n_wk, n_k, beta, False)
    else:
        _sparse_sweep(doc_ptr, word_ids, chunk_ptr, z, n_dk_new, n_wk, n_k, alpha, 0, 1, 1, beta)
    observed = np.bincount(z, minlength=K)
    assert observed.sum() == n
    np.testing.assert_array_equal(n_dk_new[0], observed)
    expected = p * n
    # Pool topics with tiny expectations so the chi-square approximation holds.
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    assert stats.chisquare(obs, exp).pvalue > 1e-4
    # and a blunt check that could fail on a systematically wrong kernel
    np.testing.assert_allclose(observed / n, p, atol=0.005)


@pytest.mark.parametrize("own_topic", ["include", "exclude"])
def test_sparse_sampler_threads_and_invariants(own_topic):
    """kernel='sparse' through the trainer: 1 and 2 threads bit-identical, invariants hold."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads")
    runs = [esca.train(num_topics=12, iterations=8, seed=5, threads=t, kernel="sparse",
                       eval_every=4, own_topic=own_topic) for t in (1, 2)]
    a, b = runs
    assert a.config.own_topic == own_topic
    if own_topic == "exclude":  # its models store every token's topic
        np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.n_kw, b.n_kw)
    np.testing.assert_array_equal(a.n_dk, b.n_dk)
    assert a.n_kw.sum() == a.num_tokens
    np.testing.assert_array_equal(a.n_k, a.n_kw.sum(axis=1))
    np.testing.assert_array_equal(a.n_dk.sum(axis=0), a.n_k)
    ll = a.log["loglik_per_token"]
    assert ll[7] > ll[3]


def test_sampler_kernel_choice():
    c = esca.read_corpus("builtin:wiki250")
    small = EscaSampler(c, TrainConfig(num_topics=10, iterations=1))
    large = EscaSampler(c, TrainConfig(num_topics=300, iterations=1))
    forced = EscaSampler(c, TrainConfig(num_topics=10, iterations=1, kernel="sparse"))
    assert (small.kernel, large.kernel, forced.kernel) == ("dense", "sparse", "sparse")
    with pytest.raises(esca.UserError, match="'fast'"):
        TrainConfig(kernel="fast")


@pytest.mark.parametrize("exclude_own", [False, True])
@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_runs_of_one_word_equal_reference(random_corpus, kernel, exclude_own):
    """Documents stored bag-of-words style (each word's tokens adjacent): the kernels reuse a
    run's distribution and must still equal the references, which recompute it per token."""
    c = random_corpus
    word_ids = c.word_ids.copy()
    for d in range(c.num_docs):
        word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]].sort()
    assert np.sum(word_ids[1:] == word_ids[:-1]) > c.num_tokens // 10   # many runs
    K, alpha = 6, _alpha(6, True)
    z_ref = naive.init_topics(c.num_tokens, 0, SEED, K)
    n_dk_ref = naive.count_doc_topics(c.doc_ptr, z_ref, K)
    z, n_dk = z_ref.copy(), n_dk_ref.copy()
    chunk_ptr = partition_documents(c.doc_ptr, 3)
    ref_sweep = naive.esca_sweep if kernel == "dense" else naive.esca_sweep_sparse
    for it in range(1, 5):
        n_wk = naive.count_word_topics(word_ids, z_ref, c.num_words, K)
        n_k = np.bincount(z_ref, minlength=K).astype(np.int64)
        z_ref, n_dk_ref = ref_sweep(c.doc_ptr, word_ids, z_ref, n_dk_ref, n_wk, n_k, alpha, BETA,
                                    0, SEED, it, STREAM_ESCA, exclude_own)
        if kernel == "dense":
            phi_w = np.empty(n_wk.shape)
            kern.word_factor(n_wk, n_k, BETA, phi_w)
            kern.esca_sweep_dense(c.doc_ptr, word_ids, chunk_ptr, z, n_dk, phi_w, alpha, 0,
                                  *split_seed(SEED), it, STREAM_ESCA, n_wk, n_k, BETA,
                                  exclude_own)
        else:
            _sparse_sweep(c.doc_ptr, word_ids, chunk_ptr, z, n_dk, n_wk, n_k, alpha, 0, it,
                          exclude_own=exclude_own)
        np.testing.assert_array_equal(z, z_ref, err_msg=f"iteration {it}")
        np.testing.assert_array_equal(n_dk, n_dk_ref)


@pytest.mark.parametrize("exclude_own", [False, True])
def test_long_documents_equal_reference(exclude_own):
    """Long documents with many topics: the pair part walks the word's list for some words and
    the document's list for others; both must equal the reference."""
    from helpers import make_random_corpus
    c = make_random_corpus(7, D=10, V=40, min_len=3, max_len=300)
    K, alpha = 120, _alpha(120, True)
    z_ref = naive.init_topics(c.num_tokens, 0, SEED, K)
    n_dk_ref = naive.count_doc_topics(c.doc_ptr, z_ref, K)
    K_d = (n_dk_ref > 0).sum(axis=1)
    K_w = (naive.count_word_topics(c.word_ids, z_ref, c.num_words, K) > 0).sum(axis=1)
    assert K_w.min() < K_d.max() and K_w.max() > K_d.min()   # both walks happen
    z, n_dk = z_ref.copy(), n_dk_ref.copy()
    chunk_ptr = partition_documents(c.doc_ptr, 2)
    for it in range(1, 4):
        n_wk = naive.count_word_topics(c.word_ids, z_ref, c.num_words, K)
        n_k = np.bincount(z_ref, minlength=K).astype(np.int64)
        z_ref, n_dk_ref = naive.esca_sweep_sparse(c.doc_ptr, c.word_ids, z_ref, n_dk_ref, n_wk,
                                                  n_k, alpha, BETA, 0, SEED, it, STREAM_ESCA,
                                                  exclude_own)
        _sparse_sweep(c.doc_ptr, c.word_ids, chunk_ptr, z, n_dk, n_wk, n_k, alpha, 0, it,
                      exclude_own=exclude_own)
        np.testing.assert_array_equal(z, z_ref, err_msg=f"iteration {it}")
        np.testing.assert_array_equal(n_dk, n_dk_ref)


def test_training_and_fold_in_thresholds_have_distinct_names():
    """The sampler's kernel threshold and the fold-in's are two constants with two names (one
    name meant 100 in the sampler and 32 in esca.infer); esca.evaluate re-exports the latter."""
    import esca.evaluate
    import esca.infer
    import esca.samplers.esca
    assert esca.samplers.esca.SPARSE_MIN_K == 100
    assert esca.infer.FOLD_IN_SPARSE_MIN_K == esca.evaluate.FOLD_IN_SPARSE_MIN_K == 32
    assert not hasattr(esca.infer, "SPARSE_MIN_K")
    assert "FOLD_IN_SPARSE_MIN_K" in esca.evaluate.__all__


def test_sampler_leaves_the_callers_corpus_alone():
    """A sampler sorts its own copy of each document's tokens; the Corpus it was given (here
    the cached builtin one) keeps its word_ids object and order."""
    c = esca.read_corpus("builtin:wiki250")
    before, ids = c.word_ids, c.word_ids.copy()
    s = EscaSampler(c, TrainConfig(num_topics=10, iterations=1))
    assert c.word_ids is before
    np.testing.assert_array_equal(c.word_ids, ids)
    assert not np.array_equal(s.word_ids, ids)  # the sampler's copy is sorted
