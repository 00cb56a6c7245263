"""Numba kernels shared by the samplers.

Conventions: inside the samplers the word-topic counts are kept word-major,
``n_wk`` of shape (V, K), int32, so that one word's K counts are contiguous
(the per-token loops read a word's row). The public model exposes the
transpose, ``n_kw`` (K, V). ``n_dk`` is (D_local, K) int32, ``n_k`` (K,)
int64, ``z`` (N_local,) int32 (topic of each token). ``doc_ptr`` is int64
(D_local+1,) and ``word_ids`` int32 (N_local,).

Each kernel names the plain-Python function in ``tests/naive.py`` that it
must equal. None of them draws from ``np.random``: random numbers come from
:func:`esca.rng.token_uniform`, keyed by the *global* token index
``token_start + i``.
"""

import math

import numpy as np
from numba import njit, prange

from ..rng import STREAM_INIT, token_draw, token_uniform


@njit(inline="always", cache=True)
def search_cumulative(cum, n, target):
    """Smallest k < n with cum[k] > target (n-1 if none); cum is non-decreasing."""
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(inline="always", cache=True)
def inverse_topic_totals(n_k, vbeta):
    """1 / (n_k + V beta) as float64 (K,): the frozen denominator of ESCA's p(k)."""
    inv = np.empty(len(n_k))
    for k in range(len(n_k)):
        inv[k] = 1.0 / (n_k[k] + vbeta)
    return inv


@njit(parallel=True, cache=True)
def init_topics(z, token_start, seed_lo, seed_hi, K):
    """Uniform random initial topics. Equals ``naive.init_topics``."""
    for i in prange(len(z)):
        u = token_uniform(seed_lo, seed_hi, 0, STREAM_INIT, token_start + i)
        k = int(u * K)
        z[i] = k if k < K else K - 1


@njit(parallel=True, cache=True)
def count_doc_topics(doc_ptr, z, n_dk):
    """n_dk[d, k] = tokens of document d with topic k. Equals ``naive.count_doc_topics``."""
    K = n_dk.shape[1]
    for d in prange(len(doc_ptr) - 1):
        for k in range(K):
            n_dk[d, k] = 0
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            n_dk[d, z[i]] += 1


@njit(parallel=True, cache=True)
def count_word_topics(word_ptr, word_tok, z, n_wk):
    """n_wk[w, k] = number of tokens of word w with topic k, from the inverted index.

    ``word_tok[word_ptr[w]:word_ptr[w+1]]`` are the positions of word w's
    tokens; each thread owns whole rows of ``n_wk``, so no update is lost.
    Equals ``naive.count_word_topics``.
    """
    K = n_wk.shape[1]
    for w in prange(len(word_ptr) - 1):
        for k in range(K):
            n_wk[w, k] = 0
        for j in range(word_ptr[w], word_ptr[w + 1]):
            n_wk[w, z[word_tok[j]]] += 1


@njit(parallel=True, cache=True)
def word_factor(n_wk, n_k, beta, out):
    """out[w, k] = (n_wk[w, k] + beta) / (n_k[k] + V beta), the per-word factor of ESCA's p(k).

    Frozen for a whole ESCA sweep (Zaheer et al. 2016, Alg. 2). float64 (V, K).
    """
    V, K = n_wk.shape
    vbeta = V * beta
    inv = inverse_topic_totals(n_k, vbeta)
    for w in prange(V):
        for k in range(K):
            out[w, k] = (n_wk[w, k] + beta) * inv[k]


@njit(parallel=True, cache=True)
def esca_sweep_dense(doc_ptr, word_ids, chunk_ptr, z, n_dk_old, n_dk_new, phi_w, alpha,
                     token_start, seed_lo, seed_hi, iteration, stream):
    """One ESCA sweep, dense over K: every token drawn from the previous iteration's counts.

    p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + beta) / (n_k + V beta)
    (Zaheer, Wick, Tristan, Smola, Steele, AISTATS 2016, Alg. 2), with
    ``phi_w`` = :func:`word_factor` of the previous tables and ``n_dk_old``
    the previous document counts, which *include* the token's own previous
    assignment. Because the tables are frozen, all tokens of one word in one
    document share one distribution: a run of equal word ids (as in corpora
    converted from bag-of-words formats) reuses the cumulative sums, which
    gives bit-for-bit the values a recomputation would. Documents are split
    into ``chunk_ptr`` chunks balanced by tokens; each chunk writes only its
    own documents' ``z`` and ``n_dk_new`` rows: lock-free, nothing lost.
    Equals ``naive.esca_sweep``.
    """
    K = n_dk_old.shape[1]
    for c in prange(len(chunk_ptr) - 1):
        a = np.empty(K)
        cum = np.empty(K)
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            for k in range(K):
                a[k] = n_dk_old[d, k] + alpha[k]
                n_dk_new[d, k] = 0
            prev_w = -1
            s = 0.0
            for i in range(doc_ptr[d], doc_ptr[d + 1]):
                w = word_ids[i]
                if w != prev_w:  # a run of one word shares one frozen distribution
                    prev_w = w
                    s = 0.0
                    for k in range(K):
                        s += a[k] * phi_w[w, k]
                        cum[k] = s
                u = token_uniform(seed_lo, seed_hi, iteration, stream, token_start + i)
                k = search_cumulative(cum, K, u * s)
                z[i] = k
                n_dk_new[d, k] += 1


@njit(cache=True)
def cgs_sweep(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, token_start, seed_lo, seed_hi,
              iteration, stream):
    """One sequential collapsed Gibbs sweep (Griffiths & Steyvers, PNAS 2004, eq. 5).

    p(z_i = k | z_-i) ∝ (n_dk^-i + alpha_k) (n_wk^-i + beta) / (n_k^-i + V beta),
    where ^-i excludes token i's own assignment. Updates all counts in place.
    Equals ``naive.cgs_sweep``.
    """
    V, K = n_wk.shape
    vbeta = V * beta
    cum = np.empty(K)
    for d in range(len(doc_ptr) - 1):
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = word_ids[i]
            k = z[i]
            n_dk[d, k] -= 1
            n_wk[w, k] -= 1
            n_k[k] -= 1
            s = 0.0
            for k in range(K):
                s += (n_dk[d, k] + alpha[k]) * (n_wk[w, k] + beta) / (n_k[k] + vbeta)
                cum[k] = s
            u = token_uniform(seed_lo, seed_hi, iteration, stream, token_start + i)
            k = search_cumulative(cum, K, u * s)
            z[i] = k
            n_dk[d, k] += 1
            n_wk[w, k] += 1
            n_k[k] += 1


@njit(parallel=True, cache=True)
def _lgamma_rows_words(n_wk, beta, out):
    V, K = n_wk.shape
    for w in prange(V):
        s = 0.0
        for k in range(K):
            s += math.lgamma(n_wk[w, k] + beta)
        out[w] = s


@njit(parallel=True, cache=True)
def _lgamma_rows_docs(n_dk, alpha, out):
    D, K = n_dk.shape
    for d in prange(D):
        s = 0.0
        for k in range(K):
            s += math.lgamma(n_dk[d, k] + alpha[k])
        out[d] = s


def loglik_words(n_wk, n_k, beta):
    """log p(w | z) of Griffiths & Steyvers (PNAS 2004, eq. 2), from global counts.

    K [lgamma(V beta) - V lgamma(beta)] + sum_k [sum_w lgamma(n_wk + beta) - lgamma(n_k + V beta)].
    Summed in a fixed order, so the value does not depend on the thread count.
    """
    V, K = n_wk.shape
    rows = np.empty(V)
    _lgamma_rows_words(n_wk, beta, rows)
    total = rows.sum()
    total -= sum(math.lgamma(float(n) + V * beta) for n in n_k)
    return float(total + K * (math.lgamma(V * beta) - V * math.lgamma(beta)))


def loglik_docs(doc_ptr, n_dk, alpha):
    """log p(z) of Griffiths & Steyvers (PNAS 2004, eq. 3) for the documents held here.

    sum_d [lgamma(sum alpha) - sum_k lgamma(alpha_k) + sum_k lgamma(n_dk + alpha_k)
    - lgamma(n_d + sum alpha)].
    """
    D = n_dk.shape[0]
    if D == 0:
        return 0.0
    rows = np.empty(D)
    _lgamma_rows_docs(n_dk, alpha, rows)
    asum = float(alpha.sum())
    lens = np.diff(doc_ptr).astype(np.float64)
    from scipy.special import gammaln
    const = math.lgamma(asum) - float(gammaln(alpha).sum())
    return float(rows.sum() - gammaln(lens + asum).sum() + D * const)


@njit(cache=True)
def word_doc_freq(doc_ptr, word_ids, V):
    """Number of documents containing each word, int64 (V,). Equals ``naive.word_doc_freq``."""
    df = np.zeros(V, dtype=np.int64)
    last = np.full(V, -1, dtype=np.int64)
    for d in range(len(doc_ptr) - 1):
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = word_ids[i]
            if last[w] != d:
                last[w] = d
                df[w] += 1
    return df


@njit(parallel=True, cache=True)
def prior_alias_tables(n_wk, n_k, alpha, beta, word_chunks, prob, alias, qsum):
    """Per-word alias tables of the prior part of ESCA's distribution.

    q_w(k) = alpha_k (n_wk + beta) / (n_k + V beta) is frozen for the sweep;
    ``qsum[w]`` = sum_k q_w(k), and ``prob[w]``, ``alias[w]`` (float64 and
    int32, shape (V, K)) are Walker's alias table of q_w built by Vose's
    method (Vose, IEEE TSE 1991), so one draw from q_w costs O(1).
    ``word_chunks`` splits the V words over threads. Equals
    ``naive.prior_alias_tables``.
    """
    V, K = n_wk.shape
    vbeta = V * beta
    inv = inverse_topic_totals(n_k, vbeta)
    for c in prange(len(word_chunks) - 1):
        p = np.empty(K)
        small = np.empty(K, dtype=np.int32)
        large = np.empty(K, dtype=np.int32)
        for w in range(word_chunks[c], word_chunks[c + 1]):
            total = 0.0
            for k in range(K):
                p[k] = alpha[k] * (n_wk[w, k] + beta) * inv[k]
                total += p[k]
            qsum[w] = total
            ns = 0
            nl = 0
            scale = K / total
            for k in range(K):
                p[k] *= scale
                if p[k] < 1.0:
                    small[ns] = k
                    ns += 1
                else:
                    large[nl] = k
                    nl += 1
            while ns > 0 and nl > 0:
                ns -= 1
                s_ = small[ns]
                g = large[nl - 1]
                prob[w, s_] = p[s_]
                alias[w, s_] = g
                p[g] = (p[g] + p[s_]) - 1.0
                if p[g] < 1.0:
                    nl -= 1
                    small[ns] = g
                    ns += 1
            for j in range(nl):
                prob[w, large[j]] = 1.0
                alias[w, large[j]] = large[j]
            for j in range(ns):
                prob[w, small[j]] = 1.0
                alias[w, small[j]] = small[j]


@njit(parallel=True, cache=True)
def esca_sweep_sparse(doc_ptr, word_ids, chunk_ptr, z, n_dk_old, n_dk_new, n_wk, n_k, beta,
                      prob, alias, qsum, token_start, seed_lo, seed_hi, iteration, stream):
    """One ESCA sweep in O(K_d) per token (K_d = distinct topics of the document), exact.

    ESCA's p(k) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta) (Zaheer et
    al. 2016, Alg. 2), all counts from the previous iteration, splits
    exactly into two parts (as in SparseLDA, Yao, Mimno & McCallum, KDD 2009):

        n_dk (n_wk + beta)/(n_k + V beta)      sparse over the topics with n_dk > 0
      + alpha_k (n_wk + beta)/(n_k + V beta)   = q_w(k), drawn from a per-word alias table

    One Philox block per token gives the uniform that picks the part (and
    the topic within the sparse part) and the two words for the alias draw.
    The document's nonzero topics are listed once per document, and a run of
    one word reuses its sparse cumulative sums (as in ``esca_sweep_dense``).
    Writes only the document's own ``z`` and ``n_dk_new`` rows. Equals
    ``naive.esca_sweep_sparse``.
    """
    V, K = n_wk.shape
    vbeta = V * beta
    inv = inverse_topic_totals(n_k, vbeta)
    for c in prange(len(chunk_ptr) - 1):
        topics = np.empty(K, dtype=np.int32)
        counts = np.empty(K)
        cum = np.empty(K)
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            m = 0
            for k in range(K):
                if n_dk_old[d, k] != 0:
                    topics[m] = k
                    counts[m] = n_dk_old[d, k] * inv[k]
                    m += 1
                n_dk_new[d, k] = 0
            prev_w = -1
            s = 0.0
            for i in range(doc_ptr[d], doc_ptr[d + 1]):
                w = word_ids[i]
                if w != prev_w:  # a run of one word shares one frozen distribution
                    prev_w = w
                    s = 0.0
                    for j in range(m):
                        s += counts[j] * (n_wk[w, topics[j]] + beta)
                        cum[j] = s
                u, b2, b3 = token_draw(seed_lo, seed_hi, iteration, stream, token_start + i)
                t = u * (s + qsum[w])
                if t < s:
                    k = topics[search_cumulative(cum, m, t)]
                else:
                    b = np.int64((b2 * np.uint64(K)) >> np.uint64(32))
                    if b3 * (1.0 / 4294967296.0) < prob[w, b]:
                        k = b
                    else:
                        k = alias[w, b]
                z[i] = k
                n_dk_new[d, k] += 1
