"""Held-out and training metrics: document-completion perplexity, log-likelihood per token,
topic coherence (gensim glue), and :func:`evaluate_model`, the report of ``esca evaluate``.
"""

import math
import os

import numpy as np
from numba import njit, prange

from ._checks import check_int, check_seed
from .corpus import BUILTIN_PREFIX, Corpus, read_corpus
from .distributed import allgather, partition_documents, rank_and_size
from .errors import UserError
from .export import to_gensim_dictionary
from .infer import (
    FoldInSampling,
    check_model,
    check_sweeps,
    check_test_documents,
    fold_in_rows,
    same_inputs,
    word_rows,
)
from .left_to_right import left_to_right_perplexity
from .samplers._kernels import loglik_docs, loglik_words
from .split import completion_halves


@njit(parallel=True, cache=True)
def _doc_loglik(theta, phi_loc, held_ptr, held_loc, out):
    """out[d] = sum over the held-out tokens of document d of log sum_k theta_dk phi_kw."""
    K = theta.shape[1]
    for d in prange(len(held_ptr) - 1):
        total = 0.0
        for i in range(held_ptr[d], held_ptr[d + 1]):
            w = held_loc[i]
            p = 0.0
            for k in range(K):
                p += theta[d, k] * phi_loc[w, k]
            total += math.log(p)
        out[d] = total




def document_completion(phi, alpha, test, *, sweeps=50, burn_in=10, seed=0, comm=None):
    """Held-out perplexity by document completion with a folded-in theta.

    Each test document is split by :func:`completion_halves` into an
    observed half w^(1) (even positions) and a held-out half w^(2) (odd
    positions) (document completion, Wallach, Murray, Salakhutdinov & Mimno,
    ICML 2009). theta_d is inferred from w^(1) alone by :func:`fold_in`
    (same ``sweeps``, ``burn_in``, ``seed``), and each held-out token is
    scored with that point estimate:

        log_likelihood = sum_d sum_{i in w_d^(2)} log sum_k theta_dk phi_{k, w_i}
        perplexity     = exp(-log_likelihood / tokens)

    This plugs in a point estimate of theta instead of integrating over
    theta as the estimators studied by Wallach et al. do, so it approximates
    p(w^(2) | w^(1), phi, alpha) rather than estimating it without bias; it
    is the usual practical form, and cheap. A document whose observed half is empty
    (an empty document) gets theta = alpha / sum(alpha). Per-document sums
    are added with ``math.fsum``, so the result does not depend on the
    thread count.

    With an MPI communicator of R ranks, every rank passes the same test
    documents, folds in and scores only its contiguous share of them
    (:func:`esca.distributed.partition_documents`, balanced by observed
    tokens), and the per-document log-likelihoods are gathered to every
    rank. Fold-in draws are keyed by the token's index in the whole
    observed half, so every rank returns exactly the result of one rank.

    Parameters
    ----------
    phi : array_like of float64, shape (K, V)
        Rows sum to 1 (within 1e-6).
    alpha : float or array_like of float64, shape (K,)
    test : esca.corpus.Corpus or (doc_ptr, word_ids)
        Test documents over the same vocabulary as phi (a Corpus must have
        V words); ``doc_ptr`` int64 (D+1,), ``word_ids`` int32 (N,).
    sweeps, burn_in, seed : int
        As in :func:`fold_in`.
    comm : mpi4py.MPI.Comm, optional
        Collective over ``comm``: every rank must call it with the same
        arguments. Default: one process.

    Returns
    -------
    dict
        ``perplexity`` (float), ``log_likelihood`` (float, natural log,
        summed over held-out tokens), ``tokens`` (held-out tokens scored),
        ``docs`` (test documents folded in), ``docs_scored`` (documents with
        at least one held-out token), ``kernel`` ("dense" or "sparse"),
        ``sweeps``, ``burn_in``, ``seed``, ``ranks``.

    Raises
    ------
    UserError
        Everything :func:`fold_in` raises; a held-out word with probability
        0 under every topic; a Corpus whose vocabulary size differs from
        phi's V; no held-out token at all (every document has < 2 tokens);
        ranks that pass different inputs (:func:`same_inputs`).
    """
    where = "document_completion"
    same_inputs(comm, where, phi, alpha, test, sweeps=sweeps, burn_in=burn_in, seed=seed)
    phi, alpha = check_model(phi, alpha, where)
    K, V = phi.shape
    doc_ptr, word_ids, _ = check_test_documents(test, V, where)
    sweeps, burn_in = check_sweeps(sweeps, burn_in)
    seed = check_seed("seed", seed)
    obs_ptr, obs_ids, held_ptr, held_ids = completion_halves(doc_ptr, word_ids)
    if len(held_ids) == 0:
        raise UserError(f"{where}: no held-out tokens (every test document has fewer than "
                        "2 tokens)")
    sampling = FoldInSampling(sweeps, burn_in, seed)
    sparse = sampling.use_sparse(K)
    # Rows of phi_loc: the observed half's words first (they get alias tables), then the
    # words that occur only in the held-out half.
    obs_words = np.unique(obs_ids)
    held_only = np.setdiff1d(np.unique(held_ids), obs_words, assume_unique=True)
    words = np.concatenate([obs_words, held_only]).astype(np.int64)
    row = np.full(V, -1, dtype=np.int32)
    row[words] = np.arange(len(words), dtype=np.int32)
    phi_loc = word_rows(phi, words, where)
    rank, size = rank_and_size(comm)
    bounds = partition_documents(obs_ptr, size)
    a, b = int(bounds[rank]), int(bounds[rank + 1])
    o0, o1, h0, h1 = obs_ptr[a], obs_ptr[b], held_ptr[a], held_ptr[b]
    theta = fold_in_rows(phi_loc, len(obs_words), alpha, obs_ptr[a:b + 1], row[obs_ids[o0:o1]],
                         sampling, token_offset=o0)
    per_doc = np.empty(b - a)
    _doc_loglik(theta, phi_loc, held_ptr[a:b + 1] - h0, row[held_ids[h0:h1]], per_doc)
    if size > 1:
        per_doc = np.concatenate(allgather(comm, per_doc))
    ll = math.fsum(per_doc.tolist())
    tokens = len(held_ids)
    return {"perplexity": math.exp(-ll / tokens), "log_likelihood": ll, "tokens": int(tokens),
            "docs": int(len(doc_ptr) - 1),
            "docs_scored": int(np.count_nonzero(np.diff(held_ptr))),
            "kernel": "sparse" if sparse else "dense",
            "sweeps": sweeps, "burn_in": burn_in, "seed": seed, "ranks": size}


def training_loglik_per_token(model):
    """Joint log p(w, z) / N of the model's training counts (Griffiths & Steyvers, PNAS 2004,
    eqs. 2-3), from ``n_kw``, ``n_k`` and ``n_dk``; float.

    Raises
    ------
    UserError
        If the model holds no document-topic counts, or no tokens (N = 0).
    """
    if model.n_dk is None:
        raise UserError("the model holds no document-topic counts (n_dk)")
    if model.num_tokens == 0:
        raise UserError("the model holds no tokens (N = 0, every n_k is 0), so it has no "
                        "log-likelihood per token")
    doc_ptr = np.zeros(model.n_dk.shape[0] + 1, dtype=np.int64)
    np.cumsum(model.n_dk.sum(axis=1, dtype=np.int64), out=doc_ptr[1:])
    n_wk = np.ascontiguousarray(model.n_kw.T)
    total = (loglik_words(n_wk, model.n_k, model.beta)
             + loglik_docs(doc_ptr, np.ascontiguousarray(model.n_dk), model.alpha))
    return total / model.num_tokens


def coherence(model, measure, *, corpus=None, texts=None, topn=10):
    """Topic coherence by gensim's ``CoherenceModel`` (Röder, Both & Hinneburg, WSDM 2015).

    Parameters
    ----------
    model : esca.TopicModel
    measure : {"u_mass", "c_npmi", "c_v", "c_uci"}
        ``u_mass`` (Mimno et al., EMNLP 2011) needs ``corpus``; the sliding-window
        measures need ``texts``.
    corpus : esca.Corpus, optional
        The training corpus (word ids in the model's vocabulary).
    texts : list of list of str, optional
        Tokenized documents.
    topn : int
        Top words per topic.

    Returns
    -------
    (float, list of float)
        The mean coherence and the coherence of each topic.

    Raises
    ------
    ValueError
        From gensim, on an unknown ``measure`` or when the input it needs is missing.
    """
    return topic_coherence(model.topics(topn), to_gensim_dictionary(model), measure,
                           corpus=None if corpus is None else bag_of_words(corpus), texts=texts)


def topic_coherence(topics, dictionary, measure, *, corpus=None, texts=None):
    """Coherence of given top-word lists by gensim's ``CoherenceModel``.

    Parameters
    ----------
    topics : list of list of str
        The top words of each topic, most probable first (all lists of one length).
    dictionary : gensim.corpora.Dictionary
        Maps the words to the ids used in ``corpus``.
    measure : {"u_mass", "c_npmi", "c_v", "c_uci"}
    corpus : list of list of (int, int), optional
        Bag-of-words documents (:func:`bag_of_words`), for ``u_mass``.
    texts : list of list of str, optional
        Tokenized documents, for the sliding-window measures.

    Returns
    -------
    (float, list of float)
        The mean coherence and the coherence of each topic.

    Raises
    ------
    ValueError
        From gensim, on an unknown ``measure`` or when the input it needs is missing.
    """
    from gensim.models.coherencemodel import CoherenceModel  # noqa: PLC0415 - gensim is slow
    kwargs = {"texts": texts} if texts is not None else {"corpus": corpus}
    cm = CoherenceModel(topics=topics, dictionary=dictionary, coherence=measure,
                        topn=len(topics[0]), **kwargs)
    per_topic = [float(x) for x in cm.get_coherence_per_topic()]
    return float(np.mean(per_topic)), per_topic


def bag_of_words(corpus):
    """The corpus as gensim bag-of-words: per document, sorted (word id, count) pairs of int."""
    return [list(zip(*(x.tolist() for x in np.unique(corpus.word_ids[a:b], return_counts=True)),
                     strict=True))
            for a, b in zip(corpus.doc_ptr[:-1], corpus.doc_ptr[1:], strict=True)]


def evaluate_model(model, test=None, *, train_corpus=None, texts=None, topn=10, sweeps=50,
                   burn_in=10, seed=0, left_to_right=None, comm=None):
    """Everything ``esca evaluate`` reports about a trained model, as a dict.

    The report holds the training log-likelihood per token
    (:func:`training_loglik_per_token`); with ``test``, the held-out perplexity
    by document completion (:func:`document_completion`) and, with
    ``left_to_right``, by the left-to-right estimator
    (:func:`esca.left_to_right.left_to_right_perplexity`); the topic coherence
    (:func:`coherence`): ``u_mass`` on the training corpus, ``c_npmi`` and
    ``c_v`` on ``texts``; and per topic its tokens, label, top words and
    coherences.

    Parameters
    ----------
    model : esca.TopicModel
    test : esca.Corpus, optional
        Held-out documents, matched to the model's vocabulary by word string
        (:meth:`esca.TopicModel.map_documents`; tokens of unknown words are
        skipped and counted).
    train_corpus : esca.Corpus or str, optional
        The training corpus (or its path) for ``u_mass``. Default: the corpus
        the model was trained on (``model.info["corpus"]``) if it is a builtin
        corpus or an existing file, else no ``u_mass``.
    texts : list of list of str, optional
        Tokenized documents for ``c_npmi`` and ``c_v``.
    topn : int
        Top words per topic, >= 1.
    sweeps, burn_in, seed : int
        Fold-in settings of :func:`document_completion`; ``seed`` seeds the
        left-to-right estimator too.
    left_to_right : dict, optional
        Keyword arguments of :func:`esca.left_to_right.left_to_right_perplexity`
        (``particles``, ``resample``); ``{}`` runs it with its defaults, None
        (default) skips it. Needs ``test``.
    comm : mpi4py.MPI.Comm, optional
        The held-out estimates are collective over ``comm`` (every rank passes
        the same model, test documents and settings, and gets the one-rank
        numbers); the rest is computed on rank 0 only, and the other ranks
        return only ``K``, ``V`` and the held-out entries.

    Returns
    -------
    dict
        In this order: ``K``, ``V``; with ``test``, ``heldout`` (``perplexity``,
        ``log_likelihood``, ``tokens``, ``docs``, ``ranks``,
        ``tokens_of_unknown_words_skipped``); with ``left_to_right``,
        ``left_to_right`` (``perplexity``, ``log_likelihood``, ``tokens``,
        ``docs``, ``particles``, ``resample``, ``ranks``);
        ``training_loglik_per_token`` (float); ``coherence`` (measure -> mean
        over topics); ``topics``, a list of K dicts with ``topic``, ``label``,
        ``tokens`` (n_k), ``top_words`` and one entry per coherence measure.

    Raises
    ------
    UserError
        On bad ``topn``, ``left_to_right`` without ``test``, an unreadable
        ``train_corpus``, and everything the estimators raise.
    """
    topn = check_int("topn", topn, 1)
    if left_to_right is not None and test is None:
        raise UserError("evaluate_model: left_to_right needs test documents (test=)")
    rank, _ = rank_and_size(comm)
    out = {"K": model.num_topics, "V": model.num_words}
    if test is not None:
        doc_ptr, word_ids, skipped = model.map_documents(test)
        phi = model.phi  # computed once for both estimators
        res = document_completion(phi, model.alpha, (doc_ptr, word_ids), sweeps=sweeps,
                                  burn_in=burn_in, seed=seed, comm=comm)
        out["heldout"] = {k: res[k] for k in ("perplexity", "log_likelihood", "tokens", "docs",
                                              "ranks")}
        out["heldout"]["tokens_of_unknown_words_skipped"] = skipped
        if left_to_right is not None:
            res = left_to_right_perplexity(phi, model.alpha, (doc_ptr, word_ids), seed=seed,
                                           comm=comm, **left_to_right)
            out["left_to_right"] = {k: res[k] for k in ("perplexity", "log_likelihood",
                                                        "tokens", "docs", "particles",
                                                        "resample", "ranks")}
    if rank != 0:
        return out
    out["training_loglik_per_token"] = training_loglik_per_token(model)
    if train_corpus is None:
        path = model.info.get("corpus")
        if path and (path.startswith(BUILTIN_PREFIX) or os.path.exists(path)):
            train_corpus = path
    coh = {}
    if train_corpus is not None:
        if not isinstance(train_corpus, Corpus):
            train_corpus = read_corpus(train_corpus)
        coh["u_mass"] = coherence(model, "u_mass", corpus=train_corpus, topn=topn)
    if texts is not None:
        for measure in ("c_npmi", "c_v"):
            coh[measure] = coherence(model, measure, texts=texts, topn=topn)
    out["coherence"] = {m: mean for m, (mean, _) in coh.items()}
    top_words = model.topics(topn)
    labels = model.labels
    out["topics"] = [{"topic": k, "label": labels[k], "tokens": int(model.n_k[k]),
                      "top_words": top_words[k],
                      **{m: per[k] for m, (_, per) in coh.items()}}
                     for k in range(model.num_topics)]
    return out
