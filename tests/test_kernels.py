"""Every kernel of esca/samplers/_kernels.py equals its plain-Python reference in naive.py.

Also: count invariants after each step of the sampler classes (one shard, no
MPI: the samplers hold no communicator), and properties of ``esca.distributed.partition_documents``.
The sparse/alias ESCA kernel is tested elsewhere.
"""

import math

import numpy as np
import pytest

from esca import TrainConfig
from esca.corpus import slice_corpus
from esca.distributed import partition_documents
from esca.rng import STREAM_CGS, STREAM_ESCA, split_seed
from esca.samplers import CgsSampler, EscaSampler
from esca.samplers import _kernels as kern

import naive

SEED = 2**40 + 12345  # uses both 32-bit key words
BETA = 0.05


def _alpha(K, asymmetric):
    if asymmetric:
        return np.random.default_rng(K).uniform(0.05, 1.0, size=K)
    return np.full(K, 0.3)


@pytest.fixture(params=[(5, False), (7, False), (5, True), (7, True)],
                ids=["K5", "K7", "K5-asym", "K7-asym"])
def setup(request, random_corpus):
    K, asym = request.param
    return random_corpus, K, _alpha(K, asym)


def _inverted_index(word_ids, V):
    """word_ptr, word_tok as built by ShardSampler."""
    word_tok = np.argsort(word_ids, kind="stable").astype(np.int32)
    word_ptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(np.bincount(word_ids, minlength=V), out=word_ptr[1:])
    return word_ptr, word_tok


def _kernel_counts(c, z, K):
    """(n_dk, n_wk, n_k) from z with the kernels."""
    n_dk = np.zeros((c.num_docs, K), dtype=np.int32)
    kern.count_doc_topics(c.doc_ptr, z, n_dk)
    n_wk = np.zeros((c.num_words, K), dtype=np.int32)
    kern.count_word_topics(*_inverted_index(c.word_ids, c.num_words), z, n_wk, len(z))
    return n_dk, n_wk, np.bincount(z, minlength=K).astype(np.int64)


def _random_z(c, K, seed=0):
    return np.random.default_rng(seed).integers(0, K, size=c.num_tokens).astype(np.int32)


# -- one kernel at a time ------------------------------------------------------------------------

@pytest.mark.parametrize("token_start", [0, 2**32 - 300])
@pytest.mark.parametrize("K", [1, 5, 7])
def test_init_topics(random_corpus, K, token_start):
    N = random_corpus.num_tokens
    z = np.full(N, -1, dtype=np.int32)
    kern.init_topics(z, token_start, *split_seed(SEED), K)
    np.testing.assert_array_equal(z, naive.init_topics(N, token_start, SEED, K))
    assert z.min() >= 0 and z.max() < K


@pytest.mark.parametrize("K", [5, 7])
def test_count_doc_topics(random_corpus, K):
    c = random_corpus
    z = _random_z(c, K)
    n_dk = np.full((c.num_docs, K), 99, dtype=np.int32)  # the kernel must zero the rows itself
    kern.count_doc_topics(c.doc_ptr, z, n_dk)
    np.testing.assert_array_equal(n_dk, naive.count_doc_topics(c.doc_ptr, z, K))


@pytest.mark.parametrize("K", [5, 7])
def test_count_word_topics(random_corpus, K):
    c = random_corpus
    z = _random_z(c, K)
    n_wk = np.full((c.num_words, K), 99, dtype=np.int32)
    kern.count_word_topics(*_inverted_index(c.word_ids, c.num_words), z, n_wk, len(z))
    np.testing.assert_array_equal(n_wk, naive.count_word_topics(c.word_ids, z, c.num_words, K))


@pytest.mark.parametrize("K", [5, 7])
def test_word_factor(random_corpus, K):
    c = random_corpus
    _, n_wk, n_k = _kernel_counts(c, _random_z(c, K), K)
    out = np.empty((c.num_words, K))
    kern.word_factor(n_wk, n_k, BETA, out)
    np.testing.assert_array_equal(out, naive.word_factor(n_wk, n_k, BETA))


def test_word_doc_freq(random_corpus):
    c = random_corpus
    got = kern.word_doc_freq(c.doc_ptr, c.word_ids, c.num_words)
    np.testing.assert_array_equal(got, naive.word_doc_freq(c.doc_ptr, c.word_ids, c.num_words))
    assert got[-2:].tolist() == [0, 0]


def test_loglik(setup):
    c, K, alpha = setup
    n_dk, n_wk, n_k = _kernel_counts(c, _random_z(c, K, seed=3), K)
    got = kern.loglik_docs(c.doc_ptr, n_dk, alpha) + kern.loglik_words(n_wk, n_k, BETA)
    want = naive.loglik(c.doc_ptr, n_dk, n_wk, n_k, alpha, BETA)
    assert math.isfinite(want) and want < 0
    assert got == pytest.approx(want, rel=1e-9)


# -- whole sweeps, several in a row --------------------------------------------------------------

def _esca_kernel_sweep(c, z, n_dk, n_wk, n_k, alpha, token_start, it, chunk_ptr,  # noqa: PLR0913 - a kernel's arrays
                       exclude_own=False):
    phi_w = np.empty(n_wk.shape)
    kern.word_factor(n_wk, n_k, BETA, phi_w)
    z, n_dk = z.copy(), n_dk.copy()   # the kernel overwrites the rows with the new counts
    kern.esca_sweep_dense(c.doc_ptr, c.word_ids, chunk_ptr, z, n_dk, phi_w, alpha, token_start,
                          *split_seed(SEED), it, STREAM_ESCA, n_wk, n_k, BETA, exclude_own)
    return z, n_dk


@pytest.mark.parametrize("exclude_own", [False, True])
@pytest.mark.parametrize("token_start", [0, 2**32 - 300])
def test_esca_sweep_dense(setup, token_start, exclude_own):
    c, K, alpha = setup
    z_ref = naive.init_topics(c.num_tokens, token_start, SEED, K)
    n_dk_ref = naive.count_doc_topics(c.doc_ptr, z_ref, K)
    # chunkings: one chunk, several, one per document, more chunks than documents
    chunkings = [partition_documents(c.doc_ptr, p) for p in (1, 3, c.num_docs, 3 * c.num_docs)]
    states = [(z_ref.copy(), n_dk_ref.copy()) for _ in chunkings]
    for it in range(1, 6):
        n_wk_ref = naive.count_word_topics(c.word_ids, z_ref, c.num_words, K)
        n_k_ref = np.bincount(z_ref, minlength=K).astype(np.int64)
        z_ref, n_dk_ref = naive.esca_sweep(c.doc_ptr, c.word_ids, z_ref, n_dk_ref, n_wk_ref,
                                           n_k_ref, alpha, BETA, token_start, SEED, it,
                                           STREAM_ESCA, exclude_own)
        for j, chunk_ptr in enumerate(chunkings):
            z, n_dk = states[j]
            _, n_wk, n_k = _kernel_counts(c, z, K)
            z, n_dk = _esca_kernel_sweep(c, z, n_dk, n_wk, n_k, alpha, token_start, it, chunk_ptr,
                                         exclude_own)
            np.testing.assert_array_equal(z, z_ref, err_msg=f"iteration {it}, chunks {chunk_ptr}")
            np.testing.assert_array_equal(n_dk, n_dk_ref)
            states[j] = z, n_dk
    # the chain moved (the sweeps are not trivially the identity)
    assert not np.array_equal(z_ref, naive.init_topics(c.num_tokens, token_start, SEED, K))


@pytest.mark.parametrize("token_start", [0, 2**32 - 300])
def test_cgs_sweep(setup, token_start):
    c, K, alpha = setup
    z0 = naive.init_topics(c.num_tokens, token_start, SEED, K)
    ref = (z0, *_kernel_counts(c, z0, K))
    got = tuple(a.copy() for a in ref)
    for it in range(1, 6):
        ref = naive.cgs_sweep(c.doc_ptr, c.word_ids, *ref, alpha, BETA, token_start, SEED, it,
                              STREAM_CGS)
        kern.cgs_sweep(c.doc_ptr, c.word_ids, *got, alpha, BETA, token_start, *split_seed(SEED),
                       it, STREAM_CGS)  # in place
        for name, a, b in zip(("z", "n_dk", "n_wk", "n_k"), got, ref, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} after iteration {it}")
    assert not np.array_equal(got[0], z0)


# -- the sampler classes: count invariants after every step --------------------------------------

def _check_invariants(s, c, K):
    z = s.z
    assert z.min() >= 0 and z.max() < K
    assert s.n_wk.sum() == c.num_tokens
    np.testing.assert_array_equal(s.n_k, s.n_wk.sum(axis=0))
    np.testing.assert_array_equal(s.n_dk.sum(axis=1), c.doc_lengths())
    np.testing.assert_array_equal(s.n_dk, naive.count_doc_topics(c.doc_ptr, z, K))
    np.testing.assert_array_equal(s.n_wk, naive.count_word_topics(c.word_ids, z, c.num_words, K))
    assert s.n_dk.dtype == np.int32 and s.n_wk.dtype == np.int32 and s.n_k.dtype == np.int64


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("sampler", ["esca", "esca-exclude", "cgs"])
def test_sampler_invariants_and_reference(setup, sampler, threads):
    """Sampler steps keep the counts consistent and follow the naive chain exactly.

    Runs on a shard that does not start at token 0 (documents 3.. of the
    corpus), as a rank > 0 would.
    """
    whole, K, alpha = setup
    c = slice_corpus(whole, 3, whole.num_docs)
    assert c.token_start > 0
    sampler, _, own = sampler.partition("-")
    cfg = TrainConfig(num_topics=K, iterations=6, alpha=tuple(alpha), beta=BETA, seed=SEED,
                      sampler=sampler, own_topic=own or "include")
    cls = {"esca": EscaSampler, "cgs": CgsSampler}[sampler]
    s = cls(c, cfg, threads=threads)
    # The references walk the tokens in the sampler's order (its copy, sorted within each
    # document); the sampler leaves the shard's own word_ids as they were.
    c.word_ids = s.word_ids
    s.initialize()
    _check_invariants(s, c, K)
    z = naive.init_topics(c.num_tokens, c.token_start, SEED, K)
    np.testing.assert_array_equal(s.z, z)
    n_dk = naive.count_doc_topics(c.doc_ptr, z, K)
    for it in range(1, 7):
        s.step(it)  # one shard alone: no exchange, the tables are exact already
        _check_invariants(s, c, K)
        assert set(s.timings) >= {"sample", "count"}
        n_wk = naive.count_word_topics(c.word_ids, z, c.num_words, K)
        n_k = np.bincount(z, minlength=K).astype(np.int64)
        if sampler == "esca":
            z, n_dk = naive.esca_sweep(c.doc_ptr, c.word_ids, z, n_dk, n_wk, n_k, alpha, BETA,
                                       c.token_start, SEED, it, STREAM_ESCA, own == "exclude")
        else:
            z, n_dk, n_wk, n_k = naive.cgs_sweep(c.doc_ptr, c.word_ids, z, n_dk, n_wk, n_k,
                                                 alpha, BETA, c.token_start, SEED, it, STREAM_CGS)
        np.testing.assert_array_equal(s.z, z, err_msg=f"iteration {it}")
    n_wk = naive.count_word_topics(c.word_ids, z, c.num_words, K)
    n_k = np.bincount(z, minlength=K)
    ll = s.loglik_docs() + s.loglik_words()  # one shard: the whole corpus's log p(w, z)
    assert ll == pytest.approx(naive.loglik(c.doc_ptr, n_dk, n_wk, n_k, alpha, BETA), rel=1e-9)


# -- partitioning --------------------------------------------------------------------------------

def _random_doc_ptr(r):
    D = int(r.integers(0, 60))
    kind = int(r.integers(0, 3))
    if kind == 0:
        lens = r.integers(0, 20, size=D)
    elif kind == 1:  # heavy-tailed lengths, many empty documents
        lens = (r.pareto(1.2, size=D) * 5).astype(np.int64) * (r.random(D) < 0.7)
    else:
        lens = np.full(D, int(r.integers(0, 5)))
    doc_ptr = np.zeros(D + 1, dtype=np.int64)
    np.cumsum(lens, out=doc_ptr[1:])
    return doc_ptr


def test_partition_documents_properties():
    r = np.random.default_rng(99)
    for case in range(500):
        doc_ptr = _random_doc_ptr(r)
        D, N = len(doc_ptr) - 1, int(doc_ptr[-1])
        max_len = int(np.diff(doc_ptr).max()) if D else 0
        for parts in {1, 2, int(r.integers(1, 9)), D + 1, D + 7}:
            b = partition_documents(doc_ptr, parts)
            where = f"case {case}: parts={parts} doc_ptr={doc_ptr.tolist()} bounds={b.tolist()}"
            assert b.dtype == np.int64 and b.shape == (parts + 1,), where
            assert b[0] == 0 and b[-1] == D, where
            assert np.all(np.diff(b) >= 0), where
            tokens = doc_ptr[b[1:]] - doc_ptr[b[:-1]]
            assert tokens.sum() == N, where
            assert np.all(tokens <= N / parts + max_len), where
            np.testing.assert_array_equal(partition_documents(doc_ptr, parts), b)  # pure


def test_partition_documents_examples():
    doc_ptr = np.array([0, 10, 20, 30, 40])
    assert partition_documents(doc_ptr, 1).tolist() == [0, 4]
    assert partition_documents(doc_ptr, 2).tolist() == [0, 2, 4]
    assert partition_documents(doc_ptr, 4).tolist() == [0, 1, 2, 3, 4]
    b = partition_documents(doc_ptr, 10)  # more parts than documents: some are empty
    assert b[0] == 0 and b[-1] == 4 and np.all(np.diff(b) >= 0)
    assert partition_documents(np.array([0]), 3).tolist() == [0, 0, 0, 0]  # no documents


# -- the sequential first pass (TrainConfig.init_blocks) -----------------------------------------

@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("blocks", [1, 3, 8])
def test_first_pass_blocks_follow_the_reference(setup, blocks, threads):
    """Blocks of global token indices, on a shard that starts inside the corpus (as a rank > 0
    does): each block equals naive.init_block from the counts of the earlier blocks, and the
    sampler's tables count exactly the tokens drawn so far. Block edges fall inside documents
    and inside runs of one word (the corpus has V = 30, so runs of 2 and more are common)."""
    whole, K, alpha = setup
    c = slice_corpus(whole, 3, whole.num_docs)
    cfg = TrainConfig(num_topics=K, iterations=1, alpha=tuple(alpha), beta=BETA, seed=SEED,
                      init_blocks=blocks)
    s = EscaSampler(c, cfg, threads=threads)
    c.word_ids = s.word_ids
    N_all = c.token_start + c.num_tokens + 11  # tokens of later ranks too
    z = np.zeros(c.num_tokens, dtype=np.int32)
    n_dk = np.zeros((c.num_docs, K), dtype=np.int32)
    n_wk = np.zeros((c.num_words, K), dtype=np.int32)
    n_k = np.zeros(K, dtype=np.int64)
    for b in range(blocks):
        lo, hi = b * N_all // blocks, (b + 1) * N_all // blocks
        s.initialize_block(lo, hi)  # one shard: its counts are the whole corpus's
        z, n_dk = naive.init_block(c.doc_ptr, c.word_ids, z, n_dk, n_wk, n_k, alpha, BETA,
                                   c.token_start, lo, hi, SEED)
        limit = min(max(hi - c.token_start, 0), c.num_tokens)
        np.testing.assert_array_equal(s.z[:limit], z[:limit], err_msg=f"block {b}")
        np.testing.assert_array_equal(s.n_dk, n_dk, err_msg=f"block {b}")
        n_wk = naive.count_word_topics(c.word_ids[:limit], z[:limit], c.num_words, K)
        n_k = np.bincount(z[:limit], minlength=K).astype(np.int64)
        np.testing.assert_array_equal(s.n_wk, n_wk)
        np.testing.assert_array_equal(s.n_k, n_k)
    _check_invariants(s, c, K)  # every token drawn: the tables are those of z
    assert 0 <= s.z.min() and s.z.max() < K
