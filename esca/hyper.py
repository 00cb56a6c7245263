"""Hyperparameter optimization: asymmetric alpha and symmetric beta by Minka's fixed point.

Wallach, Mimno & McCallum, "Rethinking LDA: Why Priors Matter", NIPS 2009, learn an
asymmetric document-topic prior alpha and a symmetric topic-word prior beta from the
sampler's counts, as Mallet's ``--optimize-interval`` does. The statistics are integer
histograms (exact when summed over MPI ranks), so every rank computes the same update.
"""

import numpy as np
from scipy.special import digamma

from ._checks import MAX_PRIOR, MIN_PRIOR
from .errors import UserError


def doc_topic_histograms(n_dk, max_count):
    """Histograms of the document-topic counts, for :func:`optimize_alpha`.

    Parameters
    ----------
    n_dk : ndarray of int, shape (D, K)
    max_count : int
        Largest count to expect (at least every n_dk and every document length).

    Returns
    -------
    topic_hist : ndarray of int32, shape (K, max_count + 1)
        ``topic_hist[k, n]`` = documents with n_dk = n (column 0 is left 0).
    length_hist : ndarray of int64, shape (max_count + 1,)
        ``length_hist[n]`` = documents of n tokens (n >= 1).
    """
    D, K = n_dk.shape
    topic_hist = np.zeros((K, max_count + 1), dtype=np.int32)
    ks, ds = np.nonzero(n_dk.T)
    np.add.at(topic_hist, (ks, n_dk[ds, ks]), 1)
    lens = n_dk.sum(axis=1, dtype=np.int64)
    length_hist = np.bincount(lens[lens > 0], minlength=max_count + 1).astype(np.int64)
    return topic_hist, length_hist


def optimize_alpha(alpha, topic_hist, length_hist, iterations=200, tol=1e-10):
    """Minka's fixed-point update of an asymmetric Dirichlet alpha (Minka 2000, eq. 55).

    alpha_k <- alpha_k sum_n C_k(n) [psi(n + alpha_k) - psi(alpha_k)]
                       / sum_n C(n) [psi(n + alpha_0) - psi(alpha_0)],   alpha_0 = sum_k alpha_k,

    with C_k(n) documents whose topic k has n tokens and C(n) documents of n tokens
    (Wallach, Mimno & McCallum, NIPS 2009, sec. 3). Iterated to convergence.

    Parameters
    ----------
    alpha : array_like of float, shape (K,)
    topic_hist, length_hist : ndarray of int
        From :func:`doc_topic_histograms` (summed over ranks).

    Returns
    -------
    ndarray of float64, shape (K,)
        The new alpha; a topic with no tokens keeps a tiny positive value (1e-10) so that
        alpha stays a valid Dirichlet parameter, and no value exceeds the largest prior
        accepted, 1e6 (:data:`esca._checks.MAX_PRIOR`).
    """
    alpha = np.asarray(alpha, dtype=np.float64).copy()
    ks, ns = np.nonzero(topic_hist)
    counts = topic_hist[ks, ns].astype(np.float64)
    lens = np.flatnonzero(length_hist)
    lcounts = length_hist[lens].astype(np.float64)
    if len(lens) == 0:
        raise UserError("cannot optimize alpha: no document has tokens")
    for _ in range(iterations):
        a0 = alpha.sum()
        den = float(np.dot(lcounts, digamma(lens + a0) - digamma(a0)))
        num = np.bincount(ks, weights=counts * (digamma(ns + alpha[ks]) - digamma(alpha[ks])),
                          minlength=len(alpha))
        new = np.clip(alpha * num / den, 1e-10, MAX_PRIOR)
        done = np.max(np.abs(new - alpha) / alpha) < tol
        alpha = new
        if done:
            break
    return alpha


def optimize_beta(beta, n_wk, n_k, iterations=200, tol=1e-10):
    """Minka's fixed-point update of a symmetric topic-word prior beta.

    beta <- beta sum_{k,w} [psi(n_wk + beta) - psi(beta)]
                 / (V sum_k [psi(n_k + V beta) - psi(V beta)])

    (Wallach, Mimno & McCallum, NIPS 2009; Minka 2000 with one shared parameter).
    ``n_wk`` (V, K) and ``n_k`` (K,) are the whole corpus's counts.

    Returns
    -------
    float
        Kept within the priors accepted, 1e-100..1e6 (:data:`esca._checks.MIN_PRIOR`,
        ``MAX_PRIOR``): the fixed point of a corpus without topic structure is infinite.
    """
    V = n_wk.shape[0]
    nz = n_wk[n_wk > 0].astype(np.float64)
    nk = np.asarray(n_k, dtype=np.float64)
    for _ in range(iterations):
        num = float(np.sum(digamma(nz + beta) - digamma(beta)))
        den = V * float(np.sum(digamma(nk + V * beta) - digamma(V * beta)))
        new = min(max(beta * num / den, MIN_PRIOR), MAX_PRIOR)
        done = abs(new - beta) / beta < tol
        beta = new
        if done:
            break
    return float(beta)
