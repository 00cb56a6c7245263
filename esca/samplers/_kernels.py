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
from scipy.special import gammaln

from ..rng import STREAM_INIT, STREAM_INIT_BLOCKS, attempt_uniforms, pair_uniform, token_uniform


@njit(inline="always", cache=True)
def search_cumulative_from(cum, lo, n, target):
    """Smallest k in lo..n-1 with cum[k] > target (n-1 if none); cum is non-decreasing."""
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(inline="always", cache=True)
def search_cumulative(cum, n, target):
    """Smallest k < n with cum[k] > target (n-1 if none); cum is non-decreasing."""
    return search_cumulative_from(cum, 0, n, target)


@njit(inline="always", cache=True)
def own_excluded_weight(n_d, n_w, n_t, alpha_o, beta, vbeta):
    """(n_d - 1 + alpha_o)(n_w - 1 + beta)/(n_t - 1 + V beta): the weight of a token's own
    previous topic o with the token taken out of its counts (collapsed Gibbs's z_-i counts,
    Griffiths & Steyvers 2004, eq. 5), from the counts n_d = n_dk, n_w = n_wk, n_t = n_k at o
    that include the token (each >= 1). The integer subtraction comes first, so that a prior
    far below 1 is not lost to rounding."""
    return (((n_d - 1) + alpha_o) * ((n_w - 1) + beta)) / ((n_t - 1) + vbeta)


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
def init_block(doc_ptr, word_ids, chunk_ptr, z, n_dk, n_wk, n_k, alpha, beta, token_start,
               lo, hi, seed_lo, seed_hi):
    """One block of the sequential first pass: draw the tokens with global index in [lo, hi).

    Token i of document d (in the sampler's order: each document's tokens sorted by word)
    is drawn from

        p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + beta) / (n_k + V beta)

    where ``n_wk`` and ``n_k`` are the whole corpus's counts of the tokens drawn in the
    earlier blocks (frozen during the block) and ``n_dk`` counts the tokens of d drawn so
    far, this block's earlier tokens of d included: within a document the draws are
    sequential, as in a collapsed Gibbs initialization (Griffiths & Steyvers, PNAS 2004,
    eq. 5, with the word part frozen per block), across documents parallel, so the result
    does not depend on the thread count; blocks are ranges of the global token index, so
    it does not depend on the rank count either. ``n_dk`` (D_local, K) int32 is updated in
    place (start from zeros); ``z`` is written for the block's tokens only.

    A run of one word's tokens shares the cumulative sums of the run's first drawn token;
    the tokens the run drew since add (their count) x (the word factor of their topic),
    which is drawn by walking them: an exact draw from p, O(K) per run plus O(run length)
    per token. Token i's uniform is :func:`esca.rng.token_uniform` with iteration 0 and
    stream ``STREAM_INIT_BLOCKS`` at global index ``token_start + i``. Equals
    ``naive.init_block``.
    """
    K = n_dk.shape[1]
    vbeta = n_wk.shape[0] * beta
    inv = inverse_topic_totals(n_k, vbeta)
    first = max(lo - token_start, 0)
    last = min(hi - token_start, len(word_ids))
    for c in prange(len(chunk_ptr) - 1):
        d0 = chunk_ptr[c]
        d1 = chunk_ptr[c + 1]
        if d0 == d1 or doc_ptr[d1] <= first or doc_ptr[d0] >= last:
            continue
        longest = 1
        for d in range(d0, d1):
            longest = max(longest, doc_ptr[d + 1] - doc_ptr[d])
        cum = np.empty(K)
        drawn = np.empty(longest, dtype=np.int32)  # the current run's drawn topics
        for d in range(d0, d1):
            i0 = max(doc_ptr[d], first)
            i1 = min(doc_ptr[d + 1], last)
            prev_w = -1
            s = 0.0
            extra = 0.0
            m = 0
            for i in range(i0, i1):
                w = word_ids[i]
                if w != prev_w:
                    prev_w = w
                    s = 0.0
                    for k in range(K):
                        s += (n_dk[d, k] + alpha[k]) * ((n_wk[w, k] + beta) * inv[k])
                        cum[k] = s
                    extra = 0.0
                    m = 0
                t = token_uniform(seed_lo, seed_hi, 0, STREAM_INIT_BLOCKS, token_start + i) * (
                    s + extra)
                if t < s or m == 0:  # (t == s only by rounding when nothing was drawn)
                    k = search_cumulative(cum, K, t)
                else:
                    r = t - s
                    k = drawn[m - 1]
                    for j in range(m):
                        f = (n_wk[w, drawn[j]] + beta) * inv[drawn[j]]
                        if r < f:
                            k = drawn[j]
                            break
                        r -= f
                z[i] = k
                n_dk[d, k] += 1
                extra += (n_wk[w, k] + beta) * inv[k]
                drawn[m] = k
                m += 1


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
def count_word_topics(word_ptr, word_tok, z, n_wk, limit):
    """n_wk[w, k] = number of tokens of word w at positions below ``limit`` with topic k, from
    the inverted index (``limit`` = len(z): every token; less: the tokens the sequential first
    pass has drawn so far).

    ``word_tok[word_ptr[w]:word_ptr[w+1]]`` are the positions of word w's
    tokens; each thread owns whole rows of ``n_wk``, so no update is lost.
    Equals ``naive.count_word_topics(word_ids[:limit], z[:limit], V, K)``.
    """
    K = n_wk.shape[1]
    for w in prange(len(word_ptr) - 1):
        for k in range(K):
            n_wk[w, k] = 0
        for j in range(word_ptr[w], word_ptr[w + 1]):
            i = word_tok[j]
            if i < limit:
                n_wk[w, z[i]] += 1


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
def esca_sweep_dense(doc_ptr, word_ids, chunk_ptr, z, n_dk, phi_w, alpha, token_start, seed_lo,
                     seed_hi, iteration, stream, n_wk, n_k, beta, exclude_own):
    """One ESCA sweep, dense over K: every token drawn from the previous iteration's counts.

    p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + beta) / (n_k + V beta)
    (Zaheer, Wick, Tristan, Smola, Steele, AISTATS 2016, Alg. 2), with
    ``phi_w`` = :func:`word_factor` of the previous tables and ``n_dk`` the
    previous document counts, which *include* the token's own previous
    assignment. A document's old row is copied into the thread's buffer
    before the row is overwritten with the new counts, so one ``n_dk``
    table serves both. Because the tables are frozen, all tokens of one
    word in one document share one distribution: a run of equal word ids
    (the samplers sort each document's tokens by word) reuses the
    cumulative sums, bit for bit what a recomputation gives. Documents are
    split into ``chunk_ptr`` chunks balanced by tokens; each chunk writes
    only its own documents' ``z`` and ``n_dk`` rows: lock-free, nothing
    lost. Token i's uniform is :func:`esca.rng.u64_uniform` of its half of
    Philox block ``(token_start + i) // 2``. Equals ``naive.esca_sweep``.

    With ``exclude_own`` (``TrainConfig(own_topic="exclude")``) token i's own previous
    topic o = ``z[i]`` is taken out of its counts: the weight of o becomes
    :func:`own_excluded_weight`, every other weight stays. The run's
    cumulative sums stay shared: the one uniform is inverted against the
    distribution with o's interval shrunk (below o: the same search; inside:
    o; above: the search from o + 1 shifted by the removed mass), an exact
    draw with no retry. When the removed mass q(o) - p(o) exceeds half the
    run's total, that subtraction would cancel digits (priors far below 1),
    so the token is drawn in O(K) from p itself (:func:`own_excluded_draw`,
    same uniform). ``n_wk`` (V, K) int32 and ``n_k`` (K,) int64 are the
    tables ``phi_w`` was built from (read only for o) and ``beta`` is the
    prior; ``z`` must hold the previous topics, consistent with the counts.
    """
    K = n_dk.shape[1]
    vbeta = n_wk.shape[0] * beta
    for c in prange(len(chunk_ptr) - 1):
        a = np.empty(K)
        cum = np.empty(K)
        nold = np.zeros(K, dtype=np.int64)  # the old n_dk row (exclude_own only)
        pcum = np.empty(K)                  # exclude_own's O(K) draw
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            if exclude_own:
                for k in range(K):
                    nold[k] = n_dk[d, k]
            for k in range(K):
                a[k] = n_dk[d, k] + alpha[k]
                n_dk[d, k] = 0
            prev_w = -1
            s = 0.0
            blk = np.int64(-1)
            h0 = h1 = np.uint64(0)
            for i in range(doc_ptr[d], doc_ptr[d + 1]):
                w = word_ids[i]
                if w != prev_w:  # a run of one word shares one frozen distribution
                    prev_w = w
                    s = 0.0
                    for k in range(K):
                        s += a[k] * phi_w[w, k]
                        cum[k] = s
                u, blk, h0, h1 = pair_uniform(seed_lo, seed_hi, iteration, stream,
                                              token_start + i, blk, h0, h1)
                if exclude_own:
                    o = z[i]
                    qo = a[o] * phi_w[w, o]  # the term of o in cum
                    po = own_excluded_weight(nold[o], n_wk[w, o], n_k[o], alpha[o], beta, vbeta)
                    lo = cum[o - 1] if o > 0 else 0.0
                    t = u * ((s - qo) + po)
                    if qo - po > 0.5 * s:  # most of the mass is the token's own: no cancellation
                        k = own_excluded_draw(u, o, w, nold, n_wk, n_k, alpha, beta, vbeta, pcum)
                    elif t < lo:
                        k = search_cumulative(cum, K, t)
                    elif t - lo < po or o == K - 1:
                        k = o
                    else:
                        k = search_cumulative_from(cum, o + 1, K, (t - po) + qo)
                else:
                    k = search_cumulative(cum, K, u * s)
                z[i] = k
                n_dk[d, k] += 1


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


@njit(inline="always", cache=True)
def vose_alias(p, m, scale, small, large, prob, alias, off):
    """Walker's alias table of weights p[:m] (Vose, IEEE TSE 1991) into prob/alias[off:off+m].

    ``scale`` = m / sum(p[:m]); p is overwritten. Entry b keeps b with
    probability prob[off+b] and otherwise gives alias[off+b] (an index
    in 0..m-1). Equals ``naive.vose_alias``.
    """
    ns = 0
    nl = 0
    for j in range(m):
        p[j] *= scale
        if p[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s_ = small[ns]
        g = large[nl - 1]
        prob[off + s_] = p[s_]
        alias[off + s_] = g
        p[g] = (p[g] + p[s_]) - 1.0
        if p[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    for j in range(nl):
        prob[off + large[j]] = 1.0
        alias[off + large[j]] = large[j]
    for j in range(ns):
        prob[off + small[j]] = 1.0
        alias[off + small[j]] = small[j]


@njit(inline="always", cache=True)
def alias_draw(u, m, prob, alias, off):
    """Index in 0..m-1 from one uniform u in [0, 1): bucket int(u m), its fraction picks the
    side."""
    r = u * m
    b = np.int64(r)
    if b >= m:
        b = m - 1
    return b if r - b < prob[off + b] else np.int64(alias[off + b])


@njit(parallel=True, cache=True)
def word_alias_tables(n_wk, n_k, alpha, beta, word_chunks, wa_ptr, wa_nnz, wa_topic, wa_count,
                      wa_prob, wa_alias, qw):
    """Sparse per-word lists of the nonzero n_wk, with alias tables of
    alpha_k n_wk / (n_k + V beta).

    Word w's entries are ``wa_*[wa_ptr[w] : wa_ptr[w] + wa_nnz[w]]``
    (``wa_ptr`` reserves min(n_w, K) slots, n_w = tokens of w in the corpus,
    so the lists never need more than min(N, V K) entries): ``wa_topic``
    the topics with n_wk > 0 in increasing order, ``wa_count`` their
    counts, ``wa_prob``/``wa_alias`` Vose's alias table of the word part
    alpha_k n_wk/(n_k + V beta) of ESCA's distribution (see
    :func:`esca_sweep_sparse`), ``qw[w]`` its total mass. Cost O(K) per
    word to find the nonzeros plus O(K_w) to build. Equals
    ``naive.word_alias_tables``.
    """
    V, K = n_wk.shape
    inv = inverse_topic_totals(n_k, V * beta)
    for c in prange(len(word_chunks) - 1):
        p = np.empty(K)
        small = np.empty(K, dtype=np.int32)
        large = np.empty(K, dtype=np.int32)
        for w in range(word_chunks[c], word_chunks[c + 1]):
            off = wa_ptr[w]
            m = 0
            total = 0.0
            for k in range(K):
                n = n_wk[w, k]
                if n != 0:
                    wa_topic[off + m] = k
                    wa_count[off + m] = n
                    p[m] = alpha[k] * n * inv[k]
                    total += p[m]
                    m += 1
            wa_nnz[w] = m
            qw[w] = total
            if m > 0:
                vose_alias(p, m, m / total, small, large, wa_prob, wa_alias, off)


@njit(cache=True)
def global_alias_table(n_k, alpha, beta, V, prob, alias):
    """Alias table of alpha_k beta / (n_k + V beta) over all K topics; returns its total mass."""
    K = len(n_k)
    inv = inverse_topic_totals(n_k, V * beta)
    p = np.empty(K)
    total = 0.0
    for k in range(K):
        p[k] = alpha[k] * beta * inv[k]
        total += p[k]
    vose_alias(p, K, K / total, np.empty(K, dtype=np.int32), np.empty(K, dtype=np.int32), prob,
               alias, 0)
    return total


#: exclude_own in esca_sweep_sparse: proposals from the frozen distribution before the
#: exact O(K) draw (the same number in tests/naive.py).
MAX_PROPOSALS = 8


@njit(inline="always", cache=True)
def sparse_pick(u, w, q, qcum, mq, walk_word, r, rcum, topics, md, wa_ptr, wa_nnz, wa_topic,
                wa_prob, wa_alias, qw, g_prob, g_alias, gsum, K):
    """The topic that uniform u picks from the four parts of :func:`esca_sweep_sparse`
    (pair part ``qcum[:mq]`` of total q, document part ``rcum[:md]`` of total r, word w's
    alias table of mass ``qw[w]``, the global alias table of mass gsum)."""
    t = u * (((q + r) + qw[w]) + gsum)
    if t < q:  # a zero weight never wins: its cumulative sum repeats the previous
        j = search_cumulative(qcum, mq, t)
        return np.int64(wa_topic[wa_ptr[w] + j] if walk_word else topics[j])
    t -= q
    if t < r:
        return np.int64(topics[search_cumulative(rcum, md, t)])
    t -= r
    if t < qw[w]:
        off = wa_ptr[w]
        return np.int64(wa_topic[off + alias_draw(t / qw[w], wa_nnz[w], wa_prob, wa_alias,
                                                  off)])
    return alias_draw((t - qw[w]) / gsum, K, g_prob, g_alias, 0)


@njit(inline="always", cache=True)
def own_accept_ratio(n_d, n_w, n_t, alpha_o, beta, vbeta):
    """p(o)/q(o) = (a-1)(b-1)c / (a b (c-1)) <= 1 with a = n_d + alpha_o, b = n_w + beta,
    c = n_t + V beta: the probability of accepting a proposal of the token's own previous
    topic o (see :func:`own_excluded_weight`; n_d, n_w, n_t >= 1 include the token)."""
    return (own_excluded_weight(n_d, n_w, n_t, alpha_o, beta, vbeta) * (n_t + vbeta)) / \
        ((n_d + alpha_o) * (n_w + beta))


@njit(inline="always", cache=True)
def own_excluded_draw(u, o, w, nold, n_wk, n_k, alpha, beta, vbeta, cum):
    """Topic of word w drawn by inverting uniform u, in O(K), from
    (n_dk - [k=o] + alpha_k)(n_wk - [k=o] + beta)/(n_k - [k=o] + V beta) with ``nold`` the
    document's counts (K,); ``cum`` (K,) is scratch."""
    K = len(n_k)
    s = 0.0
    for k in range(K):
        if k == o:
            s += own_excluded_weight(nold[k], n_wk[w, k], n_k[k], alpha[k], beta, vbeta)
        else:
            s += ((nold[k] + alpha[k]) * (n_wk[w, k] + beta)) / (n_k[k] + vbeta)
        cum[k] = s
    return np.int64(search_cumulative(cum, K, u * s))


@njit(parallel=True, cache=True)
def esca_sweep_sparse(doc_ptr, word_ids, chunk_ptr, z, n_dk, n_wk, n_k, beta, wa_ptr, wa_nnz,
                      wa_topic, wa_count, wa_prob, wa_alias, qw, g_prob, g_alias, gsum,
                      token_start, seed_lo, seed_hi, iteration, stream, alpha, exclude_own):
    """One ESCA sweep in O(min(K_d, K_w)) per (document, word) and O(log K_d) per token, exact.

    ESCA's p(k) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta) (Zaheer et
    al. 2016, Alg. 2), all counts from the previous iteration, splits
    exactly into four parts, as SparseLDA's buckets (Yao, Mimno &
    McCallum, KDD 2009, sec. 3.4), with Z_k = n_k + V beta:

        n_dk n_wk / Z_k     pair part: topics in both the document and the word
      + beta n_dk / Z_k     document part: cumulative sums built once per document
      + alpha_k n_wk / Z_k  word part: the word's sparse alias table (word_alias_tables)
      + alpha_k beta / Z_k  global part: one alias table (global_alias_table)

    K_d and K_w are the numbers of topics with n_dk > 0 and n_wk > 0. The
    pair part is built once per run of one word in a document (the
    samplers sort each document's tokens by word) by walking the shorter
    of the document's topic list and the word's nonzero list and looking
    the other side up in a dense row (no branches: a topic missing on the
    other side gets weight 0). Its cumulative sums are bisected. Tables frozen for the sweep
    make all four parts exact, so no Metropolis-Hastings correction is needed. One
    uniform per token (its half of Philox block ``(token_start + i) // 2``)
    picks the part and, rescaled, the topic within it. The document's old
    ``n_dk`` row is read into the thread's buffers before it is
    overwritten with the new counts. Writes only its own documents' ``z``
    and ``n_dk`` rows. Equals ``naive.esca_sweep_sparse``.

    With ``exclude_own`` (``TrainConfig(own_topic="exclude")``) token i's own previous
    topic o = ``z[i]`` is taken out of its counts, exactly, by rejection against the
    frozen distribution q above (the tables stay shared by the run; only the test
    depends on o). The target p equals q except p(o) = :func:`own_excluded_weight`
    <= q(o) (proof: experiments/results/burn_in_study/README.md). A proposal k != o
    is accepted; k = o with probability p(o)/q(o) = (a-1)(b-1)c / (a b (c-1)),
    a = n_dk + alpha_o, b = n_wk + beta, c = n_k + V beta at o; else a new proposal
    is drawn. Retry j (1, 2, ...) takes the two uniforms of
    :func:`esca.rng.attempt_uniforms` (token_start + i, attempt j): the first
    tests proposal j-1, the second draws proposal j. Termination: with
    alpha, beta > 0 every proposal is accepted with probability
    Z_p/Z_q > 0, but that can be tiny (n_dk = n_wk = 1 at o with priors near
    1e-100), so after :data:`MAX_PROPOSALS` rejected proposals the token is
    drawn from p directly in O(K) (:func:`own_excluded_draw`) with the
    second uniform of retry MAX_PROPOSALS. This keeps the law exactly p:
    each proposal ends, given acceptance, with law p, and the fallback
    draws from p, so the mixture over "accepted at j" and "fell back" is p;
    a token costs at most MAX_PROPOSALS proposals and one O(K) pass.
    ``alpha`` (K,) float64 is the prior the tables were built with; ``z``
    must hold the previous topics, consistent with the counts.
    """
    V, K = n_wk.shape
    vbeta = V * beta
    inv = inverse_topic_totals(n_k, vbeta)
    for c in prange(len(chunk_ptr) - 1):
        keys = np.empty(K, dtype=np.int64)
        topics = np.empty(K, dtype=np.int32)   # the document's topics, largest count first
        dcnt = np.zeros(K)                     # n_dk / Z_k by topic (dense, 0 if absent)
        nold = np.zeros(K, dtype=np.int64)     # the old n_dk row (dense, 0 if absent)
        rcum = np.empty(K)                     # document part, cumulative over `topics`
        qcum = np.empty(K)                     # pair part, cumulative over the walked list
        pcum = np.empty(K)                     # exclude_own's O(K) fallback
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            md = 0
            for k in range(K):
                n = n_dk[d, k]
                if n != 0:
                    keys[md] = k - np.int64(n) * K  # sorts by decreasing n, then by topic
                    md += 1
                    n_dk[d, k] = 0
            keys[:md].sort()
            r = 0.0
            for j in range(md):
                k = keys[j] % K
                topics[j] = k
                nold[k] = (k - keys[j]) // K
                dcnt[k] = nold[k] * inv[k]
                r += beta * dcnt[k]
                rcum[j] = r
            prev_w = -1
            q = 0.0
            mq = 0
            walk_word = False
            blk = np.int64(-1)
            h0 = h1 = np.uint64(0)
            for i in range(doc_ptr[d], doc_ptr[d + 1]):
                w = word_ids[i]
                if w != prev_w:  # a run of one word shares one frozen distribution
                    prev_w = w
                    q = 0.0
                    off = wa_ptr[w]
                    walk_word = wa_nnz[w] <= md
                    if walk_word:  # the word's nonzero topics; weight 0 if not in the document
                        mq = wa_nnz[w]
                        for j in range(mq):  # (unsigned indices skip negative-index checks)
                            q += dcnt[np.uint64(wa_topic[off + j])] * wa_count[off + j]
                            qcum[j] = q
                    else:  # the document's topics; weight 0 if n_wk = 0
                        mq = md
                        uw = np.uint64(w)
                        for j in range(md):
                            tj = np.uint64(topics[j])
                            q += dcnt[tj] * n_wk[uw, tj]
                            qcum[j] = q
                u, blk, h0, h1 = pair_uniform(seed_lo, seed_hi, iteration, stream,
                                              token_start + i, blk, h0, h1)
                k = sparse_pick(u, w, q, qcum, mq, walk_word, r, rcum, topics, md, wa_ptr,
                                wa_nnz, wa_topic, wa_prob, wa_alias, qw, g_prob, g_alias, gsum, K)
                if exclude_own:
                    o = z[i]
                    attempt = 0
                    while k == o:
                        attempt += 1
                        v, u = attempt_uniforms(seed_lo, seed_hi, iteration, stream,
                                                token_start + i, attempt)
                        if v < own_accept_ratio(nold[o], n_wk[w, o], n_k[o], alpha[o], beta,
                                                vbeta):
                            break
                        if attempt == MAX_PROPOSALS:
                            k = own_excluded_draw(u, o, w, nold, n_wk, n_k, alpha, beta, vbeta,
                                                  pcum)
                            break
                        k = sparse_pick(u, w, q, qcum, mq, walk_word, r, rcum, topics, md,
                                        wa_ptr, wa_nnz, wa_topic, wa_prob, wa_alias, qw, g_prob,
                                        g_alias, gsum, K)
                z[i] = k
                n_dk[d, k] += 1
            for j in range(md):
                dcnt[topics[j]] = 0.0
                nold[topics[j]] = 0


@njit(parallel=True, cache=True)
def sort_within_documents(doc_ptr, word_ids):
    """Sort each document's word ids in place, so that equal words form runs (order is free
    in LDA)."""
    for d in prange(len(doc_ptr) - 1):
        word_ids[doc_ptr[d]:doc_ptr[d + 1]].sort()


@njit(cache=True)
def sorted_within_documents(doc_ptr, word_ids):
    """True if every document's word ids are non-decreasing."""
    for d in range(len(doc_ptr) - 1):
        for i in range(doc_ptr[d] + 1, doc_ptr[d + 1]):
            if word_ids[i] < word_ids[i - 1]:
                return False
    return True
