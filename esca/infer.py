"""Fold-in: theta for documents with the topics phi fixed, and the checks of its inputs.

* :func:`phi_from_counts` turns topic-word counts into phi.
* :func:`fold_in` infers theta for documents with the topics phi fixed, by
  collapsed Gibbs sampling of their topic assignments (as Mallet's
  ``TopicInferencer`` does); :func:`fold_in_rows` is its driver over word rows
  of phi, shared with :func:`esca.metrics.document_completion`.
* :func:`check_model`, :func:`check_documents`, :func:`check_test_documents`,
  :func:`check_sweeps`, :func:`same_inputs`, :func:`word_rows` and
  :func:`thread_chunks` are the input checks and helpers that
  :mod:`esca.metrics` and :mod:`esca.left_to_right` share.

Array conventions follow ``esca/samplers/_kernels.py``: ``doc_ptr`` int64
(D+1,), ``word_ids`` int32 (N,), ``phi`` float64 (K, V) topic-major with rows
summing to 1, ``alpha`` float64 (K,), ``theta`` float64 (D, K). Inside the
kernels the columns of phi for the words that occur are copied once into a
word-major ``phi_loc`` (W, K), so that one word's K values are contiguous, and
word ids are replaced by their row in it (``word_loc``).

Fold-in random numbers come from :func:`esca.rng.token_draw`, keyed by
(seed, sweep, ``STREAM_FOLDIN``, token index in ``word_ids``), so theta does
not depend on the thread count or on how documents are split into chunks.
"""

import hashlib
import itertools
import math
from dataclasses import dataclass, replace

import numba
import numpy as np
from numba import njit, prange

from ._checks import MAX_ITERATIONS, MAX_PRIOR, MIN_PRIOR, check_int, check_prior, check_seed
from .corpus import Corpus, check_doc_ptr, check_word_ids
from .distributed import partition_documents, rank_and_size, same_on_all_ranks
from .errors import UserError
from .rng import STREAM_FOLDIN, split_seed, token_draw, token_uniform
from .samplers._kernels import search_cumulative, vose_alias

#: :func:`fold_in` (and :func:`esca.metrics.document_completion`) uses the sparse + alias
#: kernel when K is at least this, else the dense one. Not the training sampler's threshold
#: (``esca.samplers.esca.SPARSE_MIN_K``): the fold-in kernels are other kernels.
#: Depends on K only (never on the thread count), so a given K always gives the same theta.
#: Measured with 1 thread, 400 documents of 300 tokens, V = 5000, 50 sweeps: on documents
#: drawn from the model (theta ~ Dirichlet(0.1)) sparse is faster at every K tried (16 to 256);
#: on uniformly random words (every token spread over all topics) dense is faster up to
#: K = 32 (by about 15%) and slower from K = 64.
FOLD_IN_SPARSE_MIN_K = 32

#: Tolerance on the row sums of phi.
PHI_ROW_SUM_TOL = 1e-6

def phi_from_counts(n_kw, beta):
    """Topic-word distributions from counts: the posterior mean under a symmetric Dirichlet(beta).

    phi_kw = (n_kw + beta) / (n_k + V beta), with n_k = sum_w n_kw
    (Griffiths & Steyvers, PNAS 2004, the phi estimate that follows eq. 5).

    Parameters
    ----------
    n_kw : array_like of int, shape (K, V)
        Word-topic counts, topic-major (``TopicModel.n_kw``). Non-negative
        floating-point counts are accepted too.
    beta : float
        Dirichlet parameter, > 0.

    Returns
    -------
    phi : ndarray of float64, shape (K, V)
        Rows sum to 1.

    Raises
    ------
    UserError
        If ``n_kw`` is not a 2-D array of non-negative numbers, or ``beta``
        is not a positive finite number.
    """
    n_kw = np.asarray(n_kw)
    if n_kw.ndim != 2 or n_kw.dtype.kind not in "iuf" or n_kw.shape[1] == 0:
        raise UserError(f"n_kw must be a 2-D (K, V) array of counts with V >= 1, "
                        f"got shape {n_kw.shape} and dtype {n_kw.dtype}")
    if n_kw.size and not (np.isfinite(n_kw).all() and n_kw.min() >= 0):
        raise UserError("n_kw must hold non-negative finite counts")
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise UserError(f"beta must be a positive number, got {beta!r}") from None
    if not (beta > 0 and math.isfinite(beta)):
        raise UserError(f"beta must be a positive finite number, got {beta!r}")
    check_prior("beta", beta)
    V = n_kw.shape[1]
    n_k = n_kw.sum(axis=1, dtype=np.int64 if n_kw.dtype.kind in "iu" else np.float64)
    return (n_kw + beta) / (n_k[:, None] + V * beta)


# -- input checks (shared with esca.metrics and esca.left_to_right) --------------------------------

def check_sweeps(sweeps, burn_in):
    """(sweeps, burn_in) as ints, checked: 1 <= sweeps <= MAX_ITERATIONS, 0 <= burn_in < sweeps.

    Raises
    ------
    UserError
        Naming the parameter that is out of range or not an integer.
    """
    sweeps = check_int("sweeps", sweeps, 1, MAX_ITERATIONS)
    burn_in = check_int("burn_in", burn_in)
    if not 0 <= burn_in < sweeps:
        raise UserError(f"burn_in must be in 0 .. sweeps-1 = {sweeps - 1}, got {burn_in}")
    return sweeps, burn_in


def check_model(phi, alpha, where):
    """A model's phi and alpha, checked and converted for the kernels.

    Parameters
    ----------
    phi : array_like, shape (K, V)
        Non-negative finite values, rows summing to 1 (within ``PHI_ROW_SUM_TOL``).
    alpha : float or array_like, shape (K,)
        Positive, within the priors' range (:data:`esca._checks.MIN_PRIOR` ..
        :data:`esca._checks.MAX_PRIOR`).
    where : str
        The caller's name, which starts every error message.

    Returns
    -------
    phi : ndarray of float64, shape (K, V), C-contiguous
    alpha : ndarray of float64, shape (K,)

    Raises
    ------
    UserError
        Naming the bad value: shape, dtype, a negative or non-finite entry, a row not
        summing to 1, alpha of the wrong length or out of range.
    """
    phi = np.asarray(phi)
    if phi.ndim != 2 or phi.shape[0] < 1 or phi.shape[1] < 1 or phi.dtype.kind not in "iuf":
        raise UserError(f"{where}: phi must be a (K, V) array of probabilities, "
                        f"got shape {phi.shape} and dtype {phi.dtype}")
    phi = np.ascontiguousarray(phi, dtype=np.float64)
    K = phi.shape[0]
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim == 0:
        alpha = np.full(K, float(alpha))
    if alpha.shape != (K,):
        raise UserError(f"{where}: alpha has shape {alpha.shape} but phi has K = {K} topics")
    if not (np.isfinite(alpha).all() and alpha.min() > 0):
        raise UserError(f"{where}: alpha must be positive and finite, got minimum {alpha.min()!r}")
    if not (MIN_PRIOR <= alpha.min() and alpha.max() <= MAX_PRIOR):
        check_prior(f"{where}: alpha", alpha.min() if alpha.min() < MIN_PRIOR else alpha.max())
    alpha = np.ascontiguousarray(alpha)
    rows = phi.sum(axis=1)
    bad = np.flatnonzero(~np.isfinite(rows))
    if len(bad):
        raise UserError(f"{where}: phi row {int(bad[0])} holds a NaN or infinite value")
    if phi.min() < 0:
        k, w = np.unravel_index(int(np.argmin(phi)), phi.shape)
        raise UserError(f"{where}: phi[{k}, {w}] = {phi[k, w]!r} is negative")
    bad = np.flatnonzero(np.abs(rows - 1.0) > PHI_ROW_SUM_TOL)
    if len(bad):
        raise UserError(f"{where}: phi row {int(bad[0])} sums to {rows[bad[0]]!r}, not 1")
    return phi, alpha


def check_documents(doc_ptr, word_ids, V, where):
    """(doc_ptr int64 (D+1,), word_ids int32 (N,)), C-contiguous, with word ids in 0..V-1.

    Raises
    ------
    UserError
        If either is not a 1-D integer array, ``doc_ptr`` is not a valid offsets array
        for N tokens (:func:`esca.corpus.check_doc_ptr`), or a word id is outside 0..V-1;
        the message starts with ``where``.
    """
    doc_ptr = np.asarray(doc_ptr)
    word_ids = np.asarray(word_ids)
    if doc_ptr.ndim != 1 or word_ids.ndim != 1 or doc_ptr.dtype.kind not in "iu" \
            or (word_ids.dtype.kind not in "iu" and len(word_ids)):
        raise UserError(f"{where}: doc_ptr and word_ids must be 1-D integer arrays")
    doc_ptr = np.ascontiguousarray(doc_ptr, dtype=np.int64)
    check_doc_ptr(doc_ptr, len(word_ids), where)
    check_word_ids(word_ids, V, where)  # against phi's V
    return doc_ptr, np.ascontiguousarray(word_ids, dtype=np.int32)


# -- kernels -------------------------------------------------------------------------------------

_BLOCK = 16  # words per block of the phi transpose


@njit(parallel=True, cache=True)
def _gather_word_rows(phi, words, out):
    """out[j, k] = phi[k, words[j]]: the word-major (W, K) copy of the columns of phi in use.

    Blocks of 16 words (sorted ids, so usually close in memory) per task.
    """
    K = phi.shape[0]
    W = len(words)
    for b in prange((W + _BLOCK - 1) // _BLOCK):
        j0 = b * _BLOCK
        j1 = min(W, j0 + _BLOCK)
        for k in range(K):
            for j in range(j0, j1):
                out[j, k] = phi[k, words[j]]


@njit(parallel=True, cache=True)
def _alias_tables(phi_loc, alpha, row_chunks, prob, alias, qsum):
    """Walker alias tables of q_w(k) = alpha_k phi_kw for the first rows of ``phi_loc``.

    The prior part of the fold-in conditional, built once per call by Vose's
    method (Vose, "A linear algorithm for generating random numbers with a
    given distribution", IEEE TSE 1991; ``_kernels.vose_alias``) in O(K) per
    word. ``qsum[w]`` = sum_k q_w(k) (summed in order k = 0..K-1);
    ``prob``/``alias`` (float64 and int32, shape (W_alias, K)) give
    P(k) = (prob[k] + sum_{b: alias[b]=k} (1 - prob[b])) / K = q_w(k) / qsum[w].
    ``row_chunks`` splits the rows over threads. Row w equals
    ``naive.vose_alias`` of q_w.
    """
    K = phi_loc.shape[1]
    for c in prange(len(row_chunks) - 1):
        p = np.empty(K)
        small = np.empty(K, dtype=np.int32)
        large = np.empty(K, dtype=np.int32)
        for w in range(row_chunks[c], row_chunks[c + 1]):
            total = 0.0
            for k in range(K):
                p[k] = alpha[k] * phi_loc[w, k]
                total += p[k]
            qsum[w] = total
            vose_alias(p, K, K / total, small, large, prob[w], alias[w], 0)


@njit(parallel=True, cache=True)
def _fold_in_dense(doc_ptr, word_loc, chunk_ptr, phi_loc, alpha,  # noqa: PLR0913 - a Numba kernel
                   sweeps, burn_in, seed_lo, seed_hi, token_offset, rao_blackwell, z, theta):
    """Collapsed Gibbs fold-in with phi fixed, O(K) per token.

    p(z_i = k | z_-i) ∝ (n_dk^-i + alpha_k) phi_kw  (Griffiths & Steyvers,
    PNAS 2004, eq. 5 with the word factor replaced by the fixed phi).
    Sweep 0 initialises each token in document order from the same
    conditional with only the tokens before it counted; sweeps 1..sweeps
    resample every token in order. In each sweep s > burn_in, with
    ``rao_blackwell`` every token adds its conditional p(z_i = k | z_-i)
    (before its draw) to acc_k, else the counts n_dk after the sweep are
    added; theta_dk = (acc_k / (sweeps - burn_in) + alpha_k) / (n_d + sum alpha).
    Token i uses ``token_uniform(seed, s, STREAM_FOLDIN, token_offset + i)``
    (``token_offset``: the index of ``word_loc[0]`` in a larger set of
    documents this call is a slice of, 0 for a whole set). A document is
    folded in whole by one task (all its sweeps), writing only its own ``z``
    and ``theta`` entries. Equals ``naive.fold_in_dense``.
    """
    K = phi_loc.shape[1]
    asum = 0.0
    for k in range(K):
        asum += alpha[k]
    nsamp = sweeps - burn_in
    for c in prange(len(chunk_ptr) - 1):
        n = np.zeros(K, dtype=np.int32)
        acc = np.zeros(K, dtype=np.float64)
        cum = np.empty(K)
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            i0 = doc_ptr[d]
            i1 = doc_ptr[d + 1]
            for it in range(sweeps + 1):
                rb = rao_blackwell and it > burn_in
                for i in range(i0, i1):
                    w = word_loc[i]
                    if it > 0:
                        n[z[i]] -= 1
                    s = 0.0
                    for k in range(K):
                        s += (n[k] + alpha[k]) * phi_loc[w, k]
                        cum[k] = s
                    if rb:
                        inv = 1.0 / s
                        for k in range(K):
                            acc[k] += (n[k] + alpha[k]) * phi_loc[w, k] * inv
                    u = token_uniform(seed_lo, seed_hi, it, STREAM_FOLDIN, token_offset + i)
                    k = search_cumulative(cum, K, u * s)
                    z[i] = k
                    n[k] += 1
                if it > burn_in and not rao_blackwell:
                    for k in range(K):
                        acc[k] += n[k]
            nd = i1 - i0
            for k in range(K):
                theta[d, k] = (acc[k] / nsamp + alpha[k]) / (nd + asum)
                acc[k] = 0
                n[k] = 0


@njit(parallel=True, cache=True)
def _fold_in_sparse(doc_ptr, word_loc, chunk_ptr, phi_loc, alpha,  # noqa: PLR0913 - a Numba kernel
                    prob, alias, qsum, sweeps, burn_in, seed_lo, seed_hi, token_offset,
                    rao_blackwell, z, inv_z, theta):
    """Collapsed Gibbs fold-in with phi fixed, O(K_d) per token (K_d = topics in the document).

    The same conditional as ``_fold_in_dense`` split exactly in two, as in
    SparseLDA (Yao, Mimno & McCallum, KDD 2009) with phi fixed:

        (n_dk^-i + alpha_k) phi_kw = n_dk^-i phi_kw    sparse over the topics with n_dk^-i > 0
                                   + alpha_k phi_kw    q_w(k), drawn in O(1) from an alias table

    The document's nonzero topics are kept in ``topics[:m]`` (with each
    topic's slot in ``pos``), updated as tokens move: a topic whose count
    drops to 0 is swapped with the last one, a topic that appears is
    appended. One Philox block per token, ``token_draw(seed, s,
    STREAM_FOLDIN, token_offset + i)``, gives u, which picks the part (t = u (S + Q) < S:
    sparse, searched in the cumulative sums; else the alias table) and the
    two words b2, b3 of the alias draw (column (b2 K) >> 32, accepted if
    b3 / 2**32 < prob). Sweeps, initialisation and theta as in
    ``_fold_in_dense``. The Rao-Blackwellized conditional is added in two
    parts: n_dk^-i phi_kw / Z_i over the listed topics at once (Z_i = S + Q,
    the conditional's normaliser), and alpha_k phi_kw / Z_i through
    ``inv_z[i]`` (float64 (N,), zero on entry and on return), the sum of
    1 / Z_i over the kept sweeps, multiplied out once per document:
    O(N_d K) per document instead of O(K) per token and sweep. Equals
    ``naive.fold_in_sparse``.
    """
    K = phi_loc.shape[1]
    asum = 0.0
    for k in range(K):
        asum += alpha[k]
    nsamp = sweeps - burn_in
    for c in prange(len(chunk_ptr) - 1):
        n = np.zeros(K, dtype=np.int32)
        acc = np.zeros(K, dtype=np.float64)
        pos = np.full(K, -1, dtype=np.intp)
        topics = np.empty(K, dtype=np.intp)  # intp indexes faster than int32 here (~7%)
        cum = np.empty(K)
        for d in range(chunk_ptr[c], chunk_ptr[c + 1]):
            i0 = doc_ptr[d]
            i1 = doc_ptr[d + 1]
            m = 0
            for it in range(sweeps + 1):
                rb = rao_blackwell and it > burn_in
                for i in range(i0, i1):
                    w = word_loc[i]
                    if it > 0:
                        k = z[i]
                        n[k] -= 1
                        if n[k] == 0:  # swap the last listed topic into k's slot
                            m -= 1
                            last = topics[m]
                            topics[pos[k]] = last
                            pos[last] = pos[k]
                            pos[k] = -1
                    row = phi_loc[w]
                    s = 0.0
                    for j in range(m):
                        t_ = topics[j]
                        s += n[t_] * row[t_]
                        cum[j] = s
                    if rb:
                        inv = 1.0 / (s + qsum[w])
                        for j in range(m):
                            t_ = topics[j]
                            acc[t_] += n[t_] * row[t_] * inv
                        inv_z[i] += inv
                    u, b2, b3 = token_draw(seed_lo, seed_hi, it, STREAM_FOLDIN, token_offset + i)
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
                    if n[k] == 0:
                        topics[m] = k
                        pos[k] = m
                        m += 1
                    n[k] += 1
                if it > burn_in and not rao_blackwell:
                    for j in range(m):
                        acc[topics[j]] += n[topics[j]]
            if rao_blackwell:
                for i in range(i0, i1):
                    row = phi_loc[word_loc[i]]
                    for k in range(K):
                        acc[k] += alpha[k] * row[k] * inv_z[i]
                    inv_z[i] = 0.0
            nd = i1 - i0
            for k in range(K):
                theta[d, k] = (acc[k] / nsamp + alpha[k]) / (nd + asum)
                acc[k] = 0
                n[k] = 0
                pos[k] = -1


# -- fold-in driver ------------------------------------------------------------------------------

def word_rows(phi, words, where):
    """phi_loc float64 (W, K): the columns ``words`` (int64 (W,)) of phi (K, V), word-major.

    Raises
    ------
    UserError
        If one of the words has probability 0 under every topic (the message starts with
        ``where``).
    """
    phi_loc = np.empty((len(words), phi.shape[0]), dtype=np.float64)
    _gather_word_rows(phi, words, phi_loc)
    if len(words):
        zero = np.flatnonzero(phi_loc.max(axis=1) <= 0.0)
        if len(zero):
            raise UserError(f"{where}: word id {int(words[zero[0]])} has probability 0 under "
                            "every topic (smooth phi, e.g. with beta > 0)")
    return phi_loc


def thread_chunks(n, per_thread=8):
    """How many chunks to split ``n`` items into for the parallel kernels: ``per_thread`` per
    Numba thread, at most ``n``, at least 1. Results never depend on it (every random number
    is keyed by its token)."""
    return max(1, min(n, per_thread * numba.get_num_threads()))


#: With a ``progress`` callback, fold-in runs in about this many chunks of documents ...
PROGRESS_CHUNKS = 100
#: ... of at least this many tokens each, so that small inputs run in one chunk.
MIN_CHUNK_TOKENS = 200_000


@dataclass(frozen=True)
class FoldInSampling:
    """How :func:`fold_in_rows` samples: the Gibbs schedule, the seed and the kernel.

    Plain values, checked by the callers (:func:`check_sweeps`, :func:`esca._checks.check_seed`).

    Attributes
    ----------
    sweeps : int
        Gibbs sweeps after the initialisation, >= 1.
    burn_in : int
        Sweeps left out of the average, 0 <= burn_in < sweeps.
    seed : int
        0 <= seed <= 2**63-1.
    sparse : bool or None
        The sparse + alias kernel (True), the dense one (False), or chosen by K (None:
        sparse when K >= :data:`FOLD_IN_SPARSE_MIN_K`).
    rao_blackwell : bool
        Average each token's conditional (True, what :func:`fold_in` does) or its sampled
        topic (False).
    """

    sweeps: int
    burn_in: int
    seed: int
    sparse: bool | None = None
    rao_blackwell: bool = True

    def use_sparse(self, K):
        """Whether the sparse kernel runs for K topics: ``sparse``, or chosen by K when None."""
        return K >= FOLD_IN_SPARSE_MIN_K if self.sparse is None else bool(self.sparse)


def fold_in_rows(phi_loc, n_alias, alpha, doc_ptr, word_loc, sampling, *, token_offset=0,
                 progress=None, chunk_tokens=None):
    """theta (D, K) from the word rows ``phi_loc``; rows < ``n_alias`` get alias tables.

    ``sampling`` is a :class:`FoldInSampling`. ``doc_ptr`` may start above 0 (a slice of a
    larger set of documents): token i of ``word_loc`` is then keyed as token
    ``token_offset + i``. The documents run in contiguous chunks of about ``chunk_tokens``
    tokens (one chunk when None), with ``progress("fold-in", done, D)`` called before the
    first and after each; documents are independent and every random number is keyed by its
    token's index, so theta does not depend on the chunks."""
    K = phi_loc.shape[1]
    D = len(doc_ptr) - 1
    doc_ptr = doc_ptr - doc_ptr[0]
    N = len(word_loc)
    sparse = sampling.use_sparse(K)
    sweeps, burn_in, rao_blackwell = sampling.sweeps, sampling.burn_in, sampling.rao_blackwell
    seed_lo, seed_hi = split_seed(sampling.seed)
    theta = np.empty((D, K), dtype=np.float64)
    parts = 1 if chunk_tokens is None else max(1, min(D, -(-N // max(1, chunk_tokens))))
    bounds = partition_documents(doc_ptr, parts).tolist()
    # Chunks go to threads one at a time (dynamic), which keeps both threads busy when
    # chunks cost different amounts or a core is shared; theta does not depend on it.
    with numba.parallel_chunksize(1):
        if sparse:
            prob = np.empty((n_alias, K), dtype=np.float64)
            alias = np.empty((n_alias, K), dtype=np.int32)
            qsum = np.empty(n_alias, dtype=np.float64)
            row_chunks = np.linspace(0, n_alias, thread_chunks(n_alias) + 1)
            row_chunks = row_chunks.astype(np.int64)
            _alias_tables(phi_loc, alpha, row_chunks, prob, alias, qsum)
        if progress is not None:
            progress("fold-in", 0, D)
        for a, b in itertools.pairwise(bounds):
            if a == b:
                continue
            t0, t1 = int(doc_ptr[a]), int(doc_ptr[b])
            ptr = doc_ptr[a:b + 1] - t0
            loc = word_loc[t0:t1]
            chunk_ptr = partition_documents(ptr, thread_chunks(b - a))
            z = np.empty(t1 - t0, dtype=np.int32)
            out = theta[a:b]
            offset = np.int64(token_offset + t0)
            if sparse:
                _fold_in_sparse(ptr, loc, chunk_ptr, phi_loc, alpha, prob, alias, qsum,
                                sweeps, burn_in, seed_lo, seed_hi, offset, rao_blackwell, z,
                                np.zeros(t1 - t0), out)
            else:
                _fold_in_dense(ptr, loc, chunk_ptr, phi_loc, alpha, sweeps, burn_in,
                               seed_lo, seed_hi, offset, rao_blackwell, z, out)
            if progress is not None:
                progress("fold-in", b, D)
    return theta


def fold_in(phi, alpha, doc_ptr, word_ids, *, sweeps=50, burn_in=10, seed=0, progress=None,
            chunk_tokens=None):
    """Infer theta for documents with the topics phi fixed, by collapsed Gibbs fold-in.

    Each token's topic is resampled from

        p(z_i = k | z_-i, w, phi) ∝ (n_dk^-i + alpha_k) phi_{k, w_i}

    the collapsed Gibbs conditional of Griffiths & Steyvers (PNAS 2004,
    eq. 5) with the word factor (n_wk^-i + beta)/(n_k^-i + V beta) replaced
    by the fixed phi, as in Mallet's ``TopicInferencer``. Sweep 0 initialises
    the topics sequentially from the same conditional, counting only the
    document's earlier tokens (n_dk^<i); sweeps 1..``sweeps`` resample every
    token in document order. The estimate is Rao-Blackwellized: in every
    sweep after ``burn_in``, each token contributes its whole conditional
    distribution p(z_i = k | z_-i, w, phi), taken just before its draw,
    instead of the indicator of the topic it draws:

        nbar_dk  = (1 / (sweeps - burn_in)) sum_{s > burn_in} sum_{i in d} p^(s)(z_i = k | z_-i)
        theta_dk = (nbar_dk + alpha_k) / (n_d + sum_k alpha_k)

    At stationarity each conditional has expectation P(z_i = k | w), so
    nbar_dk estimates the posterior mean of n_dk like the average of the
    sampled counts n_dk^(s) (whose (n_dk + alpha_k)/(n_d + sum alpha) is the
    theta estimate that follows eq. 5 in G&S 2004), with lower variance
    (Rao-Blackwell theorem; Casella & Robert, Biometrika 1996), which lets
    fewer sweeps reach the same accuracy. ``sweeps = burn_in + 1`` uses one
    sweep. An empty document gets the prior mean alpha / sum(alpha).

    Two kernels draw exactly from this conditional, chosen by K only:
    K < ``FOLD_IN_SPARSE_MIN_K`` (32) uses an O(K) cumulative-sum draw per token;
    larger K splits the conditional as in SparseLDA (Yao, Mimno & McCallum,
    KDD 2009) into n_dk phi_kw, summed over the document's current topics
    (O(K_d) per token), and alpha_k phi_kw, drawn from a Walker alias table
    built once per call for each distinct word of ``word_ids`` (Vose, IEEE
    TSE 1991; O(K) per word). The two kernels use the random numbers
    differently, so their thetas differ for one seed while following the same
    distribution. Random numbers are keyed by (seed, sweep, token index in
    ``word_ids``), so theta is identical for any thread count.

    Parameters
    ----------
    phi : array_like of float64, shape (K, V)
        Topic-word distributions; rows sum to 1 (within 1e-6).
    alpha : float or array_like of float64, shape (K,)
        Dirichlet parameter of theta, > 0.
    doc_ptr : array_like of int64, shape (D+1,)
    word_ids : array_like of int32, shape (N,)
        Word ids in 0..V-1.
    sweeps : int
        Gibbs sweeps after the initialisation, >= 1.
    burn_in : int
        Sweeps left out of the average, 0 <= burn_in < sweeps.
    seed : int
        0 <= seed <= 2**63-1 (:data:`esca._checks.MAX_SEED`).
    progress : callable, optional
        Called as ``progress("fold-in", done, D)`` with the documents done: once
        before the first chunk (0) and after each chunk of documents.
    chunk_tokens : int, optional
        Tokens per chunk (about; a document is never split). Default: one
        chunk without ``progress``, else ``max(MIN_CHUNK_TOKENS, ceil(N /
        PROGRESS_CHUNKS))``. The phi rows and alias tables are built once for
        all chunks, and theta is bit-identical for any chunk size.

    Returns
    -------
    theta : ndarray of float64, shape (D, K)
        Rows sum to 1.

    Raises
    ------
    UserError
        If phi is not a (K, V) array of non-negative finite values with rows
        summing to 1, alpha is not positive or does not have K entries, a
        word id is outside 0..V-1, a word that occurs has probability 0
        under every topic, ``doc_ptr`` is invalid, sweeps < 1, burn_in not in
        0..sweeps-1, or seed is not an integer in 0..2**63-1.
    """
    if progress is not None and chunk_tokens is None:
        chunk_tokens = max(MIN_CHUNK_TOKENS, -(-len(word_ids) // PROGRESS_CHUNKS))
    return _fold_in(phi, alpha, doc_ptr, word_ids, FoldInSampling(sweeps, burn_in, seed),
                    progress=progress, chunk_tokens=chunk_tokens)


def _fold_in(phi, alpha, doc_ptr, word_ids, sampling, *, progress=None, chunk_tokens=None):
    """:func:`fold_in` with every choice of ``sampling`` (a :class:`FoldInSampling`): the kernel
    forced (``sparse`` True/False) or chosen by K (None); ``rao_blackwell=False`` averages
    the sampled counts instead of the conditionals."""
    phi, alpha = check_model(phi, alpha, "fold_in")
    doc_ptr, word_ids = check_documents(doc_ptr, word_ids, phi.shape[1], "fold_in")
    sweeps, burn_in = check_sweeps(sampling.sweeps, sampling.burn_in)
    seed = check_seed("seed", sampling.seed)
    sampling = replace(sampling, sweeps=sweeps, burn_in=burn_in, seed=seed)
    words, word_loc = np.unique(word_ids, return_inverse=True)
    phi_loc = word_rows(phi, words.astype(np.int64), "fold_in")
    return fold_in_rows(phi_loc, len(words), alpha, doc_ptr, word_loc.astype(np.int32).ravel(),
                        sampling, progress=progress, chunk_tokens=chunk_tokens)


def _digest(x):
    """dtype, shape and SHA-256 (16 hex digits) of an array's bytes; a type name otherwise."""
    try:
        a = np.ascontiguousarray(x)
    except (TypeError, ValueError):
        return type(x).__name__
    if a.dtype.kind == "O":
        return type(x).__name__
    return f"{a.dtype.str}{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()[:16]}"


def same_inputs(comm, where, phi, alpha, test, **settings):
    """Under MPI, refuse ranks that pass different inputs (a collective call).

    Every rank of :func:`document_completion` and
    :func:`esca.left_to_right.left_to_right_perplexity` must pass the same model, test
    documents and settings; ranks that do not would score a mix of them, or one of them
    would stop alone while the others wait. Compared before any input is checked:
    SHA-256 of ``phi``, ``alpha``, the test documents' ``doc_ptr`` and ``word_ids``,
    and the settings' ``repr``.

    Raises
    ------
    UserError
        On every rank, naming the ranks and the inputs that differ
        (:func:`esca.distributed.same_on_all_ranks`).
    """
    if rank_and_size(comm)[1] == 1:
        return
    docs = (test.doc_ptr, test.word_ids) if isinstance(test, Corpus) else (
        tuple(test) if isinstance(test, (tuple, list)) and len(test) == 2 else (test, None))
    ident = {"phi": _digest(phi), "alpha": _digest(alpha),
             "test documents": _digest(docs[0]) + " " + _digest(docs[1]),
             **{k: repr(v) for k, v in settings.items()}}
    same_on_all_ranks(comm, ident, f"inputs to {where}",
                      hint="every rank must pass the same model, test documents and settings")


def check_test_documents(test, V, where):
    """(doc_ptr, word_ids, token_offset) of a test set given as a Corpus (its ``token_start``
    is the offset) or a (doc_ptr, word_ids) pair (offset 0), checked against V words.

    Raises
    ------
    UserError
        If ``test`` is neither, a Corpus has another vocabulary size than V, or the
        documents fail :func:`check_documents`.
    """
    if isinstance(test, Corpus):
        if test.num_words != V:
            raise UserError(f"{where}: the test corpus has V = {test.num_words} words "
                            f"but phi has V = {V}")
        doc_ptr, word_ids, token_offset = test.doc_ptr, test.word_ids, test.token_start
    else:
        try:
            doc_ptr, word_ids = test
        except (TypeError, ValueError):
            raise UserError(f"{where}: test must be a Corpus or a (doc_ptr, word_ids) pair") \
                from None
        token_offset = 0
    doc_ptr, word_ids = check_documents(doc_ptr, word_ids, V, where)
    return doc_ptr, word_ids, token_offset
