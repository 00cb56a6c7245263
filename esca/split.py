"""Train/test splitting of a corpus, and the two halves of document completion.

* :func:`split_holdout` splits a corpus into training and test documents, with
  the vocabulary compacted to the words of the training documents.
* :func:`completion_halves` splits every test document into an observed half
  (tokens at even positions) and a held-out half (odd positions), for
  :func:`esca.metrics.document_completion`.

Array conventions follow ``esca/samplers/_kernels.py``: ``doc_ptr`` int64
(D+1,), ``word_ids`` int32 (N,).
"""

import json

import numpy as np

from ._checks import check_seed
from .corpus import Corpus, check_doc_ptr
from .errors import UserError

# -- train / test split --------------------------------------------------------------------------

def _ptr_from_lengths(lengths):
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


def split_holdout(corpus, fraction, seed):
    """Split a corpus into training and test documents.

    ``round(fraction * D)`` documents (at least 1, at most D - 1) are chosen
    for the test set by a permutation from ``np.random.default_rng(seed)``;
    both parts keep the corpus order of their documents. The training corpus
    gets a compacted vocabulary: only the words that occur in its documents,
    in their original relative order, with word ids renumbered. The test
    corpus uses the same vocabulary; its tokens whose word does not occur in
    training (out of vocabulary) are dropped, and a test document left empty
    is dropped. Empty training documents are kept.

    Parameters
    ----------
    corpus : esca.corpus.Corpus
        A whole corpus (``doc_start == 0`` and all ``num_docs_total`` documents).
    fraction : float
        Share of the documents to hold out, ``0 < fraction < 1``.
    seed : int
        Non-negative seed of the permutation.

    Returns
    -------
    train : esca.corpus.Corpus
        ``doc_ptr`` int64 (D_train+1,), ``word_ids`` int32 over the compacted
        vocabulary of V_train words.
    test : esca.corpus.Corpus
        Same vocabulary as ``train``. Both corpora have ``doc_start = 0``,
        ``token_start = 0`` and the source's ``attrs`` with ``D``, ``V``,
        ``N`` (when present) set to their own sizes, plus ``attrs["holdout"]``,
        a JSON string ``{"part", "fraction", "seed", "source_docs",
        "source_words"}``.
    info : dict
        ``train_docs``, ``test_docs`` (documents in the returned corpora),
        ``train_doc_ids``, ``test_doc_ids`` (int64 arrays: each part's
        documents as positions in ``corpus``),
        ``test_tokens_dropped_oov``, ``test_docs_dropped_empty`` (test
        documents dropped because no token was left, including documents
        that were empty to begin with), ``fraction``, ``seed``.

    Raises
    ------
    UserError
        If ``fraction`` is not a number in (0, 1), ``seed`` is not a
        non-negative integer, the corpus has fewer than 2 documents or is a
        shard, or the corpus breaks its format's invariants.
    """
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise UserError(f"holdout fraction must be a number in (0, 1), got {fraction!r}") from None
    if not 0.0 < f < 1.0:
        raise UserError(f"holdout fraction must be in (0, 1), got {fraction!r}")
    seed = check_seed("seed", seed)
    D = corpus.num_docs
    if corpus.doc_start != 0 or D != corpus.num_docs_total:
        raise UserError(f"split_holdout needs a whole corpus, got documents "
                        f"{corpus.doc_start}..{corpus.doc_start + D} of {corpus.num_docs_total}")
    if D < 2:
        raise UserError(f"split_holdout needs at least 2 documents, the corpus has {D}")
    corpus.validate()
    V = corpus.num_words
    n_test = min(max(round(f * D), 1), D - 1)
    is_test = np.zeros(D, dtype=bool)
    is_test[np.random.default_rng(seed).permutation(D)[:n_test]] = True
    lens = corpus.doc_lengths()
    token_is_test = np.repeat(is_test, lens)
    ids = corpus.word_ids

    train_ids = ids[~token_is_test]
    in_train = np.zeros(V, dtype=bool)
    in_train[train_ids] = True
    kept_words = np.flatnonzero(in_train)
    new_id = np.full(V, -1, dtype=np.int64)
    new_id[kept_words] = np.arange(len(kept_words))
    vocab = [corpus.vocab[w] for w in kept_words]

    train_ptr = _ptr_from_lengths(lens[~is_test])
    train_words = new_id[train_ids].astype(np.int32)

    test_new = new_id[ids[token_is_test]]
    keep = test_new >= 0
    test_doc = np.repeat(np.arange(n_test), lens[is_test])
    kept_lens = np.bincount(test_doc[keep], minlength=n_test)
    test_ptr = _ptr_from_lengths(kept_lens[kept_lens > 0])
    test_words = test_new[keep].astype(np.int32)

    info = {"train_docs": int(D - n_test), "test_docs": int(len(test_ptr) - 1),
            "train_doc_ids": np.flatnonzero(~is_test),
            "test_doc_ids": np.flatnonzero(is_test)[kept_lens > 0],
            "test_tokens_dropped_oov": int(len(keep) - keep.sum()),
            "test_docs_dropped_empty": int(np.count_nonzero(kept_lens == 0)),
            "fraction": f, "seed": seed}

    def part(name, ptr, words):
        attrs = dict(corpus.attrs)
        for key, value in (("D", len(ptr) - 1), ("V", len(vocab)), ("N", len(words))):
            if key in attrs:
                attrs[key] = int(value)
        attrs["holdout"] = json.dumps({"part": name, "fraction": f, "seed": seed,
                                       "source_docs": int(D), "source_words": int(V)},
                                      sort_keys=True)
        return Corpus(ptr, words, list(vocab), attrs=attrs)

    return part("train", train_ptr, train_words), part("test", test_ptr, test_words), info


def completion_halves(doc_ptr, word_ids):
    """Split every document into an observed and a held-out half for document completion.

    Wallach, Murray, Salakhutdinov & Mimno, "Evaluation Methods for Topic
    Models", ICML 2009: each test document w_d is split into w_d^(1), used to
    infer theta_d, and w_d^(2), whose probability p(w_d^(2) | w_d^(1), phi,
    alpha) is reported. Here tokens at even positions 0, 2, 4, ... of each
    document form the observed half and odd positions the held-out half, so
    a document of n tokens gives ceil(n/2) observed and floor(n/2) held-out
    tokens, interleaved along the document.

    Parameters
    ----------
    doc_ptr : array_like of int64, shape (D+1,)
    word_ids : array_like of int32, shape (N,)

    Returns
    -------
    obs_ptr : ndarray of int64, shape (D+1,)
    obs_ids : ndarray of int32, shape (N - N//2 summed per document,)
    held_ptr : ndarray of int64, shape (D+1,)
    held_ids : ndarray of int32
        Both halves keep every document (possibly empty) in order.

    Raises
    ------
    UserError
        If ``doc_ptr`` does not start at 0, decreases or does not end at N.
    """
    doc_ptr = np.asarray(doc_ptr, dtype=np.int64)
    word_ids = np.asarray(word_ids).astype(np.int32, copy=False)
    check_doc_ptr(doc_ptr, len(word_ids), "completion_halves")
    lens = np.diff(doc_ptr)
    pos = np.arange(len(word_ids), dtype=np.int64) - np.repeat(doc_ptr[:-1], lens)
    even = (pos & 1) == 0
    return (_ptr_from_lengths((lens + 1) // 2), np.ascontiguousarray(word_ids[even]),
            _ptr_from_lengths(lens // 2), np.ascontiguousarray(word_ids[~even]))
