"""Every accepted kind of documents, as runs of word ids: an :class:`esca.Corpus` or model word ids.

:class:`esca.LDA` (fit, transform, score), :meth:`esca.TopicModel.map_documents` (and so
:meth:`esca.TopicModel.transform`, ``esca infer`` and ``esca evaluate``) read their documents
here. The kinds, and the vocabulary each brings:

==========================================  =====================================================
input ``X``                                 vocabulary (the words of the word ids)
==========================================  =====================================================
document-term matrix (scipy.sparse or       its columns; word names from ``vocabulary=``; the
dense, e.g. ``CountVectorizer`` output)     estimator falls back to a DataFrame's column names,
                                            else ``"x0"``, ``"x1"``.. with a
                                            ``PlaceholderVocabularyWarning``
list of token lists (``[["a", "b"], ...]``) ``vocabulary=`` if given, else the distinct tokens
                                            in sorted order (as ``CountVectorizer``)
gensim bag-of-words corpus                  the gensim ``Dictionary`` passed as ``vocabulary=``
(``[[(id, count), ...], ...]``)             (word id i is ``dictionary[i]``)
path of an esca HDF5 corpus, or an          the corpus's own vocabulary
:class:`esca.Corpus`
==========================================  =====================================================

Documents keep their order and so do the tokens inside a token list; a row of a matrix or a
bag of words becomes its word ids in the order stored (column order for a matrix), each repeated
by its count. The same documents, tokens in the same order, over the same vocabulary in the same
order therefore give bit-identical models from every input kind, for a given seed (the samplers
key their random numbers by token position, :mod:`esca.rng`). Another token or word order gives
another sample from the same posterior: the topics agree, not the numbers.

Against a trained model (:func:`model_word_ids`) words are matched by string and tokens of
words the model does not know are left out (and counted), except for a matrix or a bag of words
given without ``vocabulary``: their columns or ids are the model's word ids.

Every error is a :class:`esca.UserError` (a ValueError) whose message starts with ``where``,
the name of the caller (``"LDA.fit"``, ``"TopicModel.transform"``).

scipy.sparse is imported only when a matrix is read (it takes longer to import than esca),
scikit-learn only to validate a matrix or read a fitted vectorizer.
"""

import numbers
import os
import sys
from collections.abc import Mapping

import numpy as np

from .corpus import Corpus, check_vocab, check_word_ids, read_corpus
from .errors import UserError
from .memory import check_allocation

__all__ = ["MAX_COUNT", "bow_tokens", "check_matrix", "input_kind", "is_gensim_dictionary",
           "matrix_tokens", "model_word_ids", "to_corpus", "token_ids", "token_vocab",
           "vocab_list"]

#: Largest single count accepted in a document-term matrix or bag of words (int32).
MAX_COUNT = np.iinfo(np.int32).max

#: The sparse formats a matrix may come in (as scikit-learn's ``accept_sparse``).
SPARSE_FORMATS = ("csr", "csc", "coo")

#: Tokens (4 bytes each) from which the memory available is checked before expanding counts.
_CHECK_ALLOCATION_TOKENS = 16 << 20


def input_kind(X, vocabulary=None, *, where="documents"):
    """Which kind of documents ``X`` is, and ``X`` read into a list if it was a one-pass iterable.

    Parameters
    ----------
    X : object
        Documents of any kind of the module docstring (a generator or a streamed gensim
        corpus is read once, into a list).
    vocabulary : object, optional
        Decides between "bow" (a gensim Dictionary) and "tokens" when every document is
        empty.
    where : str
        The caller, first in the error message.

    Returns
    -------
    kind : {"corpus", "matrix", "tokens", "bow"}
        A path or an esca.Corpus is a "corpus"; a sparse matrix or an array-like object
        (``__array__``) is a "matrix". Otherwise the first non-empty document decides: a
        list of str is "tokens", a list of pairs "bow", numbers a "matrix" (a list of rows).
        No documents at all is a "matrix" (which :func:`check_matrix` refuses).
    X : object
        ``X``, or the list read from it.

    Raises
    ------
    UserError
        If a document is a string (raw text, not yet split into tokens).
    """
    if isinstance(X, (str, bytes, os.PathLike, Corpus)):
        return "corpus", X
    if _is_sparse(X) or hasattr(X, "__array__") or not hasattr(X, "__iter__"):
        return "matrix", X  # check_matrix names the problem of a non-iterable
    X = _materialize(X)
    for doc in X:
        if isinstance(doc, (str, bytes)):
            raise UserError(f"{where}: documents must be lists of tokens, got the string "
                            f"{_short(doc)}; split them into tokens (e.g. str.split) or pass a "
                            "CountVectorizer matrix")
        if not hasattr(doc, "__iter__") or hasattr(doc, "shape"):
            return "matrix", X
        first = next(iter(doc), None)
        if first is None:
            continue
        if isinstance(first, str):
            return "tokens", X
        if isinstance(first, (tuple, list)) and len(first) == 2:
            return "bow", X
        return "matrix", X
    if len(X) == 0:
        return "matrix", X
    return ("bow" if is_gensim_dictionary(vocabulary) else "tokens"), X


def is_gensim_dictionary(obj):
    """True for a gensim ``Dictionary`` (anything with ``token2id`` and ``id2token``)."""
    return hasattr(obj, "token2id") and hasattr(obj, "id2token")


def vocab_list(vocabulary, V=None, *, where="vocabulary", of="X has {V} columns"):
    """The words in word-id order from a Dictionary, a mapping, a vectorizer or a sequence.

    Parameters
    ----------
    vocabulary : gensim.corpora.Dictionary, mapping, vectorizer or sequence of str
        A Dictionary or a mapping of int id to word (gensim's ``id2word``), a mapping of
        word to column (``CountVectorizer.vocabulary_``), an object with
        ``get_feature_names_out()`` (a fitted ``CountVectorizer``), or the words in order.
    V : int, optional
        The number of words there must be, if known.
    where : str
        The caller, first in the error message.
    of : str
        What has V words, in the error message (``{V}`` is replaced by V).

    Returns
    -------
    list of str, length V

    Raises
    ------
    UserError
        On ids that are not 0..n-1 each once, a word that is not a str or appears twice,
        an unfitted vectorizer, or a number of words other than ``V``.
    """
    if hasattr(vocabulary, "get_feature_names_out") and not is_gensim_dictionary(vocabulary):
        from sklearn.exceptions import NotFittedError  # noqa: PLC0415 - sklearn is slow to import
        try:
            vocabulary = vocabulary.get_feature_names_out()
        except NotFittedError:
            raise UserError(f"{where}: vocabulary is a {type(vocabulary).__name__} that is not "
                            "fitted (sklearn.base.clone, e.g. in GridSearchCV, gives an "
                            "unfitted copy); pass the fitted one or its words "
                            "(get_feature_names_out())") from None
    if is_gensim_dictionary(vocabulary):
        pairs = list(vocabulary.items())  # (id, word)
    elif isinstance(vocabulary, Mapping):
        items = list(vocabulary.items())
        pairs = [(i, w) for w, i in items] if items and isinstance(items[0][0], str) else items
    elif isinstance(vocabulary, (str, bytes)):
        raise UserError(f"{where}: vocabulary must be a sequence of words, a mapping or a "
                        f"gensim Dictionary, got the string {_short(vocabulary)}")
    else:
        try:
            pairs = list(enumerate(vocabulary))
        except TypeError:
            raise UserError(f"{where}: vocabulary must be a sequence of words, a mapping or a "
                            f"gensim Dictionary, got {type(vocabulary).__name__}") from None
    n = len(pairs)
    words = [None] * n
    for i, w in pairs:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < n \
                or words[i] is not None:
            raise UserError(f"{where}: the vocabulary's ids must be 0..{n - 1}, each once; got "
                            f"{i!r} (for {w!r})")
        words[i] = w.item() if isinstance(w, np.str_) else w
    check_vocab(words, f"{where}: vocabulary")
    if V is not None and n != V:
        raise UserError(f"{where}: the vocabulary has {n} words but {of.format(V=V)}")
    return words


def check_matrix(X):
    """``X`` validated as a 2-D matrix of numbers by scikit-learn's ``check_array``.

    Parameters
    ----------
    X : array_like or sparse matrix, shape (D, V)

    Returns
    -------
    ndarray or scipy.sparse matrix, shape (D, V)
        Sparse input stays sparse (csr, csc or coo).

    Raises
    ------
    ValueError
        scikit-learn's message on a matrix that is not 2-D, holds NaN or infinity, or has
        no rows or no columns.
    """
    from sklearn.utils.validation import check_array  # noqa: PLC0415 - sklearn is slow to import
    return check_array(X, accept_sparse=SPARSE_FORMATS)


def matrix_tokens(X, where):
    """(doc_ptr, word_ids) of a validated (D, V) count matrix, row by row.

    Each row's word ids are its columns in increasing order, column j repeated ``X[d, j]``
    times.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix, shape (D, V)
        Counts, already checked for shape and finiteness (:func:`check_matrix`).
    where : str
        The caller, first in the error message.

    Returns
    -------
    doc_ptr : ndarray of int64, shape (D+1,)
    word_ids : ndarray of int32, shape (N,)
        N is the sum of the counts.

    Raises
    ------
    UserError
        On a negative or non-integer count, one above :data:`MAX_COUNT`, or more tokens
        than fit in the memory available.
    """
    import scipy.sparse as sp  # noqa: PLC0415 - scipy.sparse is slow to import
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()  # also sorts the columns of every row
    data = X.data
    _check_counts(data, where, lambda j: (int(np.searchsorted(X.indptr, j, side="right") - 1),
                                          int(X.indices[j])))
    counts = data.astype(np.int64)
    cum = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=cum[1:])
    _check_expansion(int(cum[-1]), where)
    return cum[X.indptr], np.repeat(X.indices.astype(np.int32), counts)


def bow_tokens(docs, V, where):
    """(doc_ptr, word_ids) of a gensim bag-of-words corpus over ``V`` words.

    Each (id, count) pair becomes ``count`` tokens of ``id``, in the order of the pairs.

    Parameters
    ----------
    docs : iterable of iterable of (int, number)
    V : int
        Number of words; ids must be in ``0..V-1``.
    where : str
        The caller, first in the error message.

    Returns
    -------
    doc_ptr : ndarray of int64, shape (D+1,)
    word_ids : ndarray of int32, shape (N,)

    Raises
    ------
    UserError
        On a document that is not a list of (id, count) pairs, an id outside 0..V-1, or a
        count that is negative, not finite, not whole or above :data:`MAX_COUNT`.
    """
    docs = _materialize(docs)
    ids, counts, lens = [], [], np.zeros(len(docs), dtype=np.int64)
    for d, doc in enumerate(docs):
        n = 0
        for pair in doc:
            try:
                i, c = pair
            except (TypeError, ValueError):
                raise UserError(f"{where}: document {d} of the bag-of-words corpus holds "
                                f"{_short(pair)}, not an (id, count) pair") from None
            ids.append(i)
            counts.append(c)
            n += 1
        lens[d] = n
    try:
        ids_arr = np.asarray(ids)
        counts_arr = np.asarray(counts)
        if ids_arr.dtype.kind not in "iu" and len(ids_arr):
            raise TypeError
        if counts_arr.dtype.kind not in "iufb" and len(counts_arr):
            raise TypeError
    except (TypeError, ValueError):
        raise UserError(f"{where}: bag-of-words ids must be integers and counts numbers") \
            from None
    ids_arr = ids_arr.astype(np.int64)
    if len(counts_arr) and not np.isfinite(counts_arr).all():
        j = int(np.flatnonzero(~np.isfinite(counts_arr))[0])
        raise UserError(f"{where}: bag-of-words count {counts_arr[j].item()!r} (document "
                        f"{_doc_of(lens, j)}) is not finite")
    pair_ptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lens, out=pair_ptr[1:])
    _check_counts(counts_arr, where, lambda j: (_doc_of(lens, j), int(ids_arr[j])))
    check_word_ids(ids_arr, V, f"{where}: bag-of-words corpus")
    reps = counts_arr.astype(np.int64)
    cum = np.zeros(len(reps) + 1, dtype=np.int64)
    np.cumsum(reps, out=cum[1:])
    _check_expansion(int(cum[-1]), where)
    return cum[pair_ptr], np.repeat(ids_arr.astype(np.int32), reps)


def token_vocab(docs, where):
    """The distinct tokens of token lists in sorted order (as ``CountVectorizer``).

    Raises
    ------
    UserError
        On a document that is not a list of tokens or a token that is not a str.
    """
    return sorted({t for d, doc in enumerate(docs) for t in _tokens(doc, d, where)})


def token_ids(docs, index, where):
    """Token lists as word ids, leaving out tokens not in ``index``.

    Parameters
    ----------
    docs : sequence of sequence of str
    index : mapping of str to int
        Word -> word id.
    where : str
        The caller, first in the error message.

    Returns
    -------
    doc_ptr : ndarray of int64, shape (D+1,)
    word_ids : ndarray of int32, shape (N,)
        The ids of the tokens in ``index``, in text order.
    skipped : int
        Tokens left out.

    Raises
    ------
    UserError
        On a document that is not a list of tokens or a token that is not a str.
    """
    lens = np.zeros(len(docs), dtype=np.int64)
    ids = []
    seen = 0
    for d, doc in enumerate(docs):
        before = len(ids)
        for t in _tokens(doc, d, where):
            seen += 1
            i = index.get(t, -1)
            if i >= 0:
                ids.append(i)
        lens[d] = len(ids) - before
    doc_ptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lens, out=doc_ptr[1:])
    return doc_ptr, np.asarray(ids, dtype=np.int32), seen - len(ids)


def to_corpus(X, vocabulary=None, *, where, read=True):
    """Documents that bring their own words, as an :class:`esca.Corpus`.

    Parameters
    ----------
    X : token lists, gensim bag-of-words corpus, esca.Corpus, str or os.PathLike
        See the module docstring. A matrix has no words of its own: name its columns and
        use :func:`matrix_tokens`.
    vocabulary : optional
        The words (:func:`vocab_list`): required with a bag of words, optional with token
        lists (a fixed vocabulary; other tokens are left out), refused with an esca corpus.
    where : str
        The caller, first in the error message.
    read : bool, default=True
        Read a corpus path; False returns the path as a str (so that each MPI rank of
        :func:`esca.train` can read only its own documents).

    Returns
    -------
    esca.Corpus or str

    Raises
    ------
    UserError
        As :func:`input_kind`, :func:`vocab_list`, :func:`bow_tokens` and
        :func:`token_ids`, on a matrix, on a bag of words without its Dictionary, on
        ``vocabulary`` with an esca corpus, or on an unreadable corpus file.
    """
    kind, X = input_kind(X, vocabulary, where=where)
    if kind == "corpus":
        return _corpus(X, vocabulary, where, read)
    if kind == "matrix":
        raise UserError(f"{where}: a document-term matrix has no words of its own")
    if kind == "bow":
        if vocabulary is None:
            raise UserError(f"{where}: a gensim bag-of-words corpus needs its Dictionary for "
                            "the words: pass vocabulary=dictionary")
        vocab = vocab_list(vocabulary, where=where)
        return Corpus(*bow_tokens(X, len(vocab), where), vocab)
    vocab = token_vocab(X, where) if vocabulary is None else vocab_list(vocabulary, where=where)
    doc_ptr, word_ids, _ = token_ids(X, {w: i for i, w in enumerate(vocab)}, where)
    return Corpus(doc_ptr, word_ids, vocab)


def model_word_ids(X, vocab, *, vocabulary=None, where):
    """Documents of any kind as word ids of a trained model, matched by word.

    Parameters
    ----------
    X : matrix, token lists, gensim bag-of-words corpus, esca.Corpus, str or os.PathLike
        See the module docstring.
    vocab : sequence of str, length V
        The model's words.
    vocabulary : optional
        The words of ``X`` (:func:`vocab_list`). Without it a matrix must have V columns,
        the model's words, and a bag of words must use the model's word ids. Refused with
        token lists (their tokens are the words) and with an esca corpus.
    where : str
        The caller, first in the error message.

    Returns
    -------
    doc_ptr : ndarray of int64, shape (D+1,)
    word_ids : ndarray of int32, shape (N,)
        Model word ids; tokens of words the model does not know are left out.
    skipped : int
        Tokens left out.

    Raises
    ------
    UserError
        As :func:`to_corpus` and :func:`matrix_tokens`; on a matrix without ``vocabulary``
        whose number of columns is not V.
    ValueError
        scikit-learn's message on a matrix that is not 2-D or holds NaN or infinity.
    """
    V = len(vocab)
    kind, X = input_kind(X, vocabulary, where=where)
    if kind == "tokens" and vocabulary is not None:
        raise UserError(f"{where}: vocabulary= does not apply to token lists here: tokens are "
                        "matched to the model's vocabulary by word")
    if kind == "matrix":
        X = check_matrix(X)
        if vocabulary is None:
            if X.shape[1] != V:
                raise UserError(f"{where}: X has {X.shape[1]} columns but the model has V={V} "
                                "words; name the columns with vocabulary= to match them by word")
            return (*matrix_tokens(X, where), 0)
        corpus = Corpus(*matrix_tokens(X, where), vocab_list(vocabulary, X.shape[1], where=where))
    elif kind == "bow" and vocabulary is None:
        return (*bow_tokens(X, V, where), 0)
    elif kind == "tokens":
        return token_ids(X, {w: i for i, w in enumerate(vocab)}, where)
    else:
        corpus = to_corpus(X, vocabulary, where=where)
    return _remap(corpus, vocab)


# -- helpers -------------------------------------------------------------------------------------

def _corpus(X, vocabulary, where, read):
    """An esca.Corpus (validated), or a path: read (``read``) or returned as a str."""
    if vocabulary is not None:
        raise UserError(f"{where}: vocabulary= does not apply to an esca corpus, which holds "
                        "its own vocabulary")
    if isinstance(X, Corpus):
        X.validate()
        return X
    path = os.fsdecode(X) if isinstance(X, bytes) else os.fspath(X)
    return read_corpus(path) if read else path


def _remap(corpus, vocab):
    """(doc_ptr, word_ids, skipped) of ``corpus`` in the words ``vocab``, matched by string."""
    index = {w: i for i, w in enumerate(vocab)}
    remap = np.array([index.get(w, -1) for w in corpus.vocab], dtype=np.int64)
    ids = remap[corpus.word_ids] if len(corpus.vocab) else np.zeros(0, np.int64)
    lens = np.diff(corpus.doc_ptr)
    keep = ids >= 0
    doc_of = np.repeat(np.arange(len(lens)), lens)
    doc_ptr = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_of[keep], minlength=len(lens)), out=doc_ptr[1:])
    return doc_ptr, ids[keep].astype(np.int32), int(len(ids) - keep.sum())


def _is_sparse(X):
    """True for a scipy.sparse matrix or array (without importing scipy.sparse)."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(X)


def _materialize(X):
    """``X`` as a list or tuple (a one-pass iterable, e.g. a generator, is read once)."""
    return X if isinstance(X, (list, tuple)) else list(X)


def _short(value, n=40):
    text = repr(value)
    return text if len(text) <= n else text[:n - 3] + "..."


def _tokens(doc, d, where):
    """The tokens of document ``d``, checked to be str."""
    if isinstance(doc, (str, bytes)) or not hasattr(doc, "__iter__"):
        raise UserError(f"{where}: document {d} is {_short(doc)}, not a list of tokens")
    for t in doc:
        if not isinstance(t, str):
            raise UserError(f"{where}: tokens must be str, got {_short(t)} "
                            f"({type(t).__name__}) in a document")
    return doc


def _check_counts(data, where, position):
    """Raise unless ``data`` holds whole numbers in 0..MAX_COUNT; ``position(j)`` names entry j."""
    if data.dtype.kind == "b" or len(data) == 0:
        return
    bad = np.flatnonzero(data < 0)
    if len(bad):
        j = int(bad[0])
        raise UserError(f"Negative values in data passed to {where}: X{list(position(j))} = "
                        f"{data[j].item()!r}; term counts must be >= 0")
    if data.dtype.kind == "f":
        bad = np.flatnonzero(data != np.floor(data))
        if len(bad):
            j = int(bad[0])
            raise UserError(f"{where}: X{list(position(j))} = {data[j].item()!r} is not a whole "
                            "number; the samplers draw one topic per token, so X must hold "
                            "term counts (e.g. from CountVectorizer), not TF-IDF or other weights")
    bad = np.flatnonzero(data > MAX_COUNT)
    if len(bad):
        j = int(bad[0])
        raise UserError(f"{where}: X{list(position(j))} = {data[j].item()!r} is more than the "
                        f"largest count supported, {MAX_COUNT}")


def _check_expansion(n_tokens, where):
    """Refuse counts whose tokens (int32) would not fit in the memory available."""
    if n_tokens >= _CHECK_ALLOCATION_TOKENS:
        check_allocation(4 * n_tokens, f"{where}: X ({n_tokens} tokens, the sum of its counts)")


def _doc_of(lens, j):
    """The document holding pair ``j`` given the pairs per document ``lens``."""
    return int(np.searchsorted(np.cumsum(lens), j, side="right"))
