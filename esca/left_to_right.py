"""Held-out likelihood by the left-to-right particle estimator, with phi and alpha fixed.

Wallach, Murray, Salakhutdinov & Mimno, "Evaluation Methods for Topic
Models", ICML 2009, Algorithm 3 (also Wallach's PhD thesis, Cambridge 2008,
ch. 3); the estimator of Mallet's ``evaluate-topics``
(``cc.mallet.topics.MarginalProbEstimator.evaluateLeftToRight``). The
probability of a document is split by the chain rule into one factor per
token, each estimated by R particles that walk through the document from
left to right:

    log p(w_d | phi, alpha) = sum_n log p(w_n | w_<n, phi, alpha)

    p(w_n | w_<n, phi, alpha) ≈ (1/R) sum_r p_n^r,
    p_n^r = sum_k phi_{k, w_n} (n_k^<n,r + alpha_k) / (n - 1 + sum_k alpha_k)

where n_k^<n,r counts the tokens before position n (1-based) that particle r
has assigned to topic k, and (n_k + alpha_k)/(n - 1 + sum alpha) is
p(z_n = k | z_<n, alpha), the Dirichlet-multinomial predictive. After p_n^r
is taken, particle r draws z_n ∝ phi_{k, w_n} (n_k^<n,r + alpha_k). With
resampling, before position n each particle also resamples z_1..z_{n-1} in
order, each from (n_k^-n' + alpha_k) phi_{k, w_n'} with the counts of its
n - 2 other earlier tokens (one collapsed Gibbs sweep over the prefix,
Griffiths & Steyvers, PNAS 2004, eq. 5 with phi fixed). As in Wallach's
algorithm and in Mallet, the particles are averaged per position, and the
logs of these averages are summed.

Array conventions are those of :mod:`esca.infer`: ``doc_ptr`` int64 (D+1,),
``word_ids`` int32 (N,), ``phi`` float64 (K, V), ``alpha`` float64 (K,); the
kernel reads a word-major copy ``phi_loc`` (W, K) of the columns of phi for
the W distinct words, with word ids replaced by their row in it.
"""

import math
import operator

import numba
import numpy as np
from numba import njit, prange

from ._checks import check_int, check_seed
from .distributed import allgather, partition_documents, rank_and_size
from .errors import UserError
from .infer import (
    check_documents,
    check_model,
    check_test_documents,
    same_inputs,
    thread_chunks,
    word_rows,
)
from .rng import STREAM_L2R, STREAM_L2R_RESAMPLE, split_seed, token_uniform
from .samplers._kernels import search_cumulative

#: Largest counter word 2 of a Philox block plus one: the random-number keys need
#: particles <= 2**32, and with resampling particles * N_d <= 2**32 for every document.
MAX_ITERATION = 2**32


@njit(parallel=True, cache=True)
def _left_to_right(doc_ptr, word_loc, chunk_ptr, phi_loc, alpha,  # noqa: PLR0913 - a Numba kernel
                   particles, resample, token_offset, seed_lo, seed_hi, out):
    """out[d] = log p(w_d) estimated left to right with ``particles`` particles (Wallach et al.,
    ICML 2009, Algorithm 3); O(R N_d K) per document, O(R N_d^2 K) with ``resample``.

    For each particle r the topic counts start at 0; at position j (0-based) of
    document d (token i = doc_ptr[d] + j, global index t = token_offset + i):

    * with ``resample``, the earlier positions j' = 0..j-1 are resampled in
      order from (n_k^-j' + alpha_k) phi_loc[w_j', k], drawing with
      ``token_uniform(seed, r * N_d + j, STREAM_L2R_RESAMPLE, token_offset + i')``
      (i' = doc_ptr[d] + j');
    * p_j^r = (sum_k (n_k + alpha_k) phi_loc[w_j, k]) / (j + sum_k alpha_k), the sum taken
      in order k = 0..K-1, and acc[j] += p_j^r (particles in order r = 0..R-1);
    * z_j is drawn from the same weights (cumulative sums, ``search_cumulative``) with
      ``token_uniform(seed, r, STREAM_L2R, t)``.

    Then out[d] = sum_j log(acc[j] / R), in order j = 0..N_d-1 (0.0 for an empty
    document). Each document is handled whole by one task, with per-chunk
    scratch arrays (``z``, ``acc`` of the chunk's longest document), so the
    result depends neither on the thread count nor on the chunking. Equals
    ``naive.left_to_right``.
    """
    K = phi_loc.shape[1]
    asum = 0.0
    for k in range(K):
        asum += alpha[k]
    for c in prange(len(chunk_ptr) - 1):
        d0 = chunk_ptr[c]
        d1 = chunk_ptr[c + 1]
        longest = 0
        for d in range(d0, d1):
            longest = max(longest, doc_ptr[d + 1] - doc_ptr[d])
        n = np.zeros(K, dtype=np.int32)
        cum = np.empty(K)
        z = np.empty(longest, dtype=np.int32)
        acc = np.empty(longest)
        for d in range(d0, d1):
            i0 = doc_ptr[d]
            nd = doc_ptr[d + 1] - i0
            for j in range(nd):
                acc[j] = 0.0
            for r in range(particles):
                for k in range(K):
                    n[k] = 0
                for j in range(nd):
                    if resample:
                        it = r * nd + j
                        for jp in range(j):
                            n[z[jp]] -= 1
                            row = phi_loc[word_loc[i0 + jp]]
                            s = 0.0
                            for k in range(K):
                                s += (n[k] + alpha[k]) * row[k]
                                cum[k] = s
                            u = token_uniform(seed_lo, seed_hi, it, STREAM_L2R_RESAMPLE,
                                              token_offset + i0 + jp)
                            k = search_cumulative(cum, K, u * s)
                            z[jp] = k
                            n[k] += 1
                    row = phi_loc[word_loc[i0 + j]]
                    s = 0.0
                    for k in range(K):
                        s += (n[k] + alpha[k]) * row[k]
                        cum[k] = s
                    acc[j] += s / (j + asum)
                    u = token_uniform(seed_lo, seed_hi, r, STREAM_L2R, token_offset + i0 + j)
                    k = search_cumulative(cum, K, u * s)
                    z[j] = k
                    n[k] += 1
            total = 0.0
            for j in range(nd):
                total += math.log(acc[j] / particles)
            out[d] = total


def _check_particles(particles, where):
    return check_int(f"{where}: particles", particles, 1, MAX_ITERATION)


def _check_resample(resample, where):
    if not isinstance(resample, (bool, np.bool_)):
        raise UserError(f"{where}: resample must be True or False, got {resample!r}")
    return bool(resample)


def _run(phi, alpha, doc_ptr, word_ids, particles, resample, seed, token_offset, where):
    """Per-document log p(w_d), float64 (D,), for a checked model and checked documents."""
    particles = _check_particles(particles, where)
    resample = _check_resample(resample, where)
    seed = check_seed("seed", seed)
    token_offset = check_int(f"{where}: token_offset", token_offset, 0)
    if token_offset > 2**63 - 1 - len(word_ids):
        raise UserError(f"{where}: token_offset must be in 0 .. 2**63-1-N, got {token_offset!r}")
    D = len(doc_ptr) - 1
    longest = int(np.diff(doc_ptr).max()) if D else 0
    if resample and particles * longest > MAX_ITERATION:
        raise UserError(f"{where}: with resampling, particles * longest document = "
                        f"{particles} * {longest} must be at most 2**32")
    words, word_loc = np.unique(word_ids, return_inverse=True)
    phi_loc = word_rows(phi, words.astype(np.int64), where)
    seed_lo, seed_hi = split_seed(seed)
    out = np.empty(D, dtype=np.float64)
    # Chunks go to threads one at a time (dynamic), as in esca.infer; out does not depend on it.
    with numba.parallel_chunksize(1):
        _left_to_right(doc_ptr, word_loc.astype(np.int32).ravel(),
                       partition_documents(doc_ptr, thread_chunks(D)), phi_loc, alpha, particles,
                       resample, token_offset, seed_lo, seed_hi, out)
    return out


def left_to_right(phi, alpha, doc_ptr, word_ids, *, particles=10, resample=False, seed=0,
                  token_offset=0):
    """Per-document log p(w_d | phi, alpha) by the left-to-right estimator.

    Wallach, Murray, Salakhutdinov & Mimno, ICML 2009, Algorithm 3, as
    implemented by Mallet's ``evaluate-topics``: for each of R particles,
    for n = 1..N_d,

        p_n^r = sum_k phi_{k, w_n} (n_k^<n,r + alpha_k) / (n - 1 + sum_k alpha_k)
        z_n^r ~ phi_{k, w_n} (n_k^<n,r + alpha_k)

    and log p(w_d) ≈ sum_n log((1/R) sum_r p_n^r): the particles are averaged
    per position, not per document. With ``resample``, each particle first
    resamples z_1..z_{n-1} in order from their collapsed conditionals
    (n_k^-n' + alpha_k) phi_{k, w_n'}, which brings the particle closer to the
    posterior p(z_<n | w_<n) but costs O(N_d^2 K) per particle and document
    instead of O(N_d K). The default ``resample=False`` is Mallet's (its
    ``--use-resampling`` is off by default).

    The estimate is exact for a document of one token (p_1 needs no
    particles), and for two tokens the p_2 average is an unbiased estimate
    of p(w_2 | w_1). For longer documents the per-position average is
    neither unbiased nor consistent as R grows, with or without resampling:
    the particles do not follow the posterior p(z_<n | w_<n) (without
    resampling each z_n is drawn given w_n and the earlier topics only, and
    one Gibbs sweep per position only moves them towards it), so as R grows
    the estimate tends to sum_n log E[p_n^r], not to log p(w_d). By
    enumeration on documents of 3 to 6 tokens with K = 3 the gap reaches
    about 0.2 nats per document without resampling and is smaller with it
    (``tests/test_left_to_right.py``; see also Buntine, "Estimating
    likelihoods for topic models", ACML 2009).

    Random numbers come from :func:`esca.rng.token_uniform` keyed by the
    global token index ``token_offset + i`` (i = index in ``word_ids``) and
    never by thread or chunk:

    * the draw of z_n in particle r: iteration r, stream ``STREAM_L2R``, token
      ``token_offset + i_n``;
    * the resampling of z_n' before position n in particle r: iteration
      r N_d + (n - 1), stream ``STREAM_L2R_RESAMPLE``, token ``token_offset + i_n'``.

    Each (particle, position, earlier position) of a document therefore has its
    own counter, so results are identical for any thread count, and evaluating
    documents a..b-1 alone with ``token_offset = doc_ptr[a]`` (an MPI shard)
    gives the same per-document values as the whole call. Keys fit the 32-bit
    iteration word when particles <= 2**32 and, with resampling,
    particles * N_d <= 2**32 for every document.

    Parameters
    ----------
    phi : array_like of float64, shape (K, V)
        Topic-word distributions; rows sum to 1 (within 1e-6).
    alpha : float or array_like of float64, shape (K,)
        Dirichlet parameter of theta, > 0.
    doc_ptr : array_like of int64, shape (D+1,)
    word_ids : array_like of int32, shape (N,)
        Word ids in 0..V-1.
    particles : int
        R, >= 1.
    resample : bool
        Resample the earlier topics before each position (Algorithm 3 as
        written); costs O(N_d^2) per document.
    seed : int
        0 <= seed <= 2**63-1 (:data:`esca._checks.MAX_SEED`).
    token_offset : int
        Global index of ``word_ids[0]`` (``Corpus.token_start`` of a shard), >= 0.

    Returns
    -------
    log_p : ndarray of float64, shape (D,)
        Natural log of the estimate of p(w_d | phi, alpha) per document; 0.0
        for an empty document.

    Raises
    ------
    UserError
        If phi is not a (K, V) array of non-negative finite values with rows
        summing to 1, alpha is not positive or does not have K entries,
        ``doc_ptr`` is invalid, a word id is outside 0..V-1, a word that
        occurs has probability 0 under every topic, particles is not an
        integer in 1..2**32, resample is not a bool, seed is not an integer in
        0..2**63-1, token_offset is negative, or with resampling
        particles * N_d > 2**32 for some document.
    """
    where = "left_to_right"
    phi, alpha = check_model(phi, alpha, where)
    doc_ptr, word_ids = check_documents(doc_ptr, word_ids, phi.shape[1], where)
    return _run(phi, alpha, doc_ptr, word_ids, particles, resample, seed, token_offset, where)


def left_to_right_perplexity(phi, alpha, test, *, particles=10, resample=False, seed=0,
                             comm=None):
    """Held-out perplexity of whole test documents by the left-to-right estimator.

        log_likelihood = sum_d log p(w_d | phi, alpha)     (:func:`left_to_right`)
        perplexity     = exp(-log_likelihood / tokens)

    (Wallach, Murray, Salakhutdinov & Mimno, ICML 2009, Algorithm 3 for each
    log p(w_d); perplexity as in Blei, Ng & Jordan, JMLR 2003, section 7.1.)
    Unlike :func:`esca.metrics.document_completion` no token is used to
    infer theta: theta is integrated out and every token is scored. The
    per-document values are added with ``math.fsum``. A Corpus shard is
    evaluated with ``token_offset = test.token_start``, so its documents get
    the values they get in the whole corpus.

    With an MPI communicator of R ranks, every rank passes the same test
    documents, estimates only its contiguous share of them (balanced by
    tokens, :func:`esca.distributed.partition_documents`) with the matching
    token offset, and the per-document values are gathered to every rank, so
    every rank returns exactly the one-rank result.

    Parameters
    ----------
    phi : array_like of float64, shape (K, V)
        Rows sum to 1 (within 1e-6).
    alpha : float or array_like of float64, shape (K,)
    test : esca.corpus.Corpus or (doc_ptr, word_ids)
        Test documents over the same vocabulary as phi (a Corpus must have
        V words); ``doc_ptr`` int64 (D+1,), ``word_ids`` int32 (N,).
    particles, resample, seed
        As in :func:`left_to_right`.
    comm : mpi4py.MPI.Comm, optional
        Collective over ``comm``: every rank must call it with the same
        arguments. Default: one process.

    Returns
    -------
    dict
        ``perplexity`` (float), ``log_likelihood`` (float, natural log, summed
        over documents), ``tokens`` (N), ``docs`` (D), ``particles``,
        ``resample``, ``seed``, ``estimator`` ("left-to-right"), ``ranks``.

    Raises
    ------
    UserError
        Everything :func:`left_to_right` raises; a Corpus whose vocabulary
        size differs from phi's V; a test set without tokens; ranks that pass
        different inputs (:func:`esca.infer.same_inputs`).
    """
    where = "left_to_right_perplexity"
    same_inputs(comm, where, phi, alpha, test, particles=particles, resample=resample,
                seed=seed)
    phi, alpha = check_model(phi, alpha, where)
    doc_ptr, word_ids, token_offset = check_test_documents(test, phi.shape[1], where)
    if len(word_ids) == 0:
        raise UserError(f"{where}: the test set has no tokens")
    rank, size = rank_and_size(comm)
    bounds = partition_documents(doc_ptr, size)
    a, b = int(bounds[rank]), int(bounds[rank + 1])
    error = None
    try:
        per_doc = _run(phi, alpha, doc_ptr[a:b + 1] - doc_ptr[a],
                       word_ids[doc_ptr[a]:doc_ptr[b]], particles, resample, seed,
                       token_offset + int(doc_ptr[a]), where)
    except UserError as e:  # raised on every rank, so that no rank waits in allgather
        error = str(e)
    errors = [e for e in allgather(comm, error) if e is not None]
    if errors:
        raise UserError(errors[0])
    if size > 1:
        per_doc = np.concatenate(allgather(comm, per_doc))
    ll = math.fsum(per_doc.tolist())
    tokens = len(word_ids)
    return {"perplexity": math.exp(-ll / tokens), "log_likelihood": ll, "tokens": int(tokens),
            "docs": int(len(doc_ptr) - 1), "particles": operator.index(particles),
            "resample": bool(resample), "seed": operator.index(seed),
            "estimator": "left-to-right", "ranks": size}
