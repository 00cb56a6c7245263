"""The esca corpus: one HDF5 file holding every document as a run of word ids.

Layout (format version 1)::

    /doc_ptr    int64  (D+1,)  document d is word_ids[doc_ptr[d]:doc_ptr[d+1]]
    /word_ids   int32  (N,)    token word ids in 0..V-1, in document order
    /vocab      UTF-8 strings (V,)
    /doc_index  int64  (D,)    optional: position of each document in the source
                               (line number, UCI docID-1, ...) before empty documents were dropped
    attrs: format="esca-corpus", format_version=1, D, V, N, n_empty_dropped,
           provenance (JSON string: source path, input format, pruning options, esca version)

Each MPI rank reads ``doc_ptr`` (small) and then only its own slice of
``word_ids`` (see :func:`esca.distributed.partition_documents`).
"""

import contextlib
import dataclasses
import hashlib
import json
import os

import h5py
import numpy as np

from ._h5 import as_int, attr, check_format, damaged, dataset, open_file, read_attrs, read_vocab
from ._io import SpaceReservation, atomic_output
from ._version import __version__
from .errors import UserError

FORMAT = "esca-corpus"
FORMAT_VERSION = 1
BUILTIN_PREFIX = "builtin:"
BUILTIN_NAMES = ("wiki250", "lee")
#: File of each builtin corpus in gensim's ``test/test_data``.
_BUILTIN_FILES = {"wiki250": "head500.noblanks.cor", "lee": "lee_background.cor"}


@dataclasses.dataclass
class Corpus:
    """Documents as runs of word ids (a whole corpus, or one rank's shard of it).

    Attributes
    ----------
    doc_ptr : ndarray of int64, shape (D_local + 1,)
        Offsets into ``word_ids``; starts at 0.
    word_ids : ndarray of int32, shape (N_local,)
        Word ids in ``0 .. V-1``.
    vocab : list of str, length V
    doc_start : int
        Global index of this shard's first document (0 for a whole corpus).
    token_start : int
        Global index of this shard's first token (0 for a whole corpus).
    num_docs_total : int
        D of the whole corpus.
    num_tokens_total : int
        N of the whole corpus.
    attrs : dict
        The file's attributes (format version, provenance, ...).
    """

    doc_ptr: np.ndarray
    word_ids: np.ndarray
    vocab: list
    doc_start: int = 0
    token_start: int = 0
    num_docs_total: int = -1
    num_tokens_total: int = -1
    attrs: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.doc_ptr = np.ascontiguousarray(self.doc_ptr, dtype=np.int64)
        self.word_ids = np.ascontiguousarray(self.word_ids, dtype=np.int32)
        if self.num_docs_total < 0:
            self.num_docs_total = self.num_docs
        if self.num_tokens_total < 0:
            self.num_tokens_total = self.num_tokens

    @property
    def num_docs(self):
        """Number of documents held here (D for a whole corpus)."""
        return len(self.doc_ptr) - 1

    @property
    def num_tokens(self):
        """Number of tokens held here (N for a whole corpus)."""
        return int(self.doc_ptr[-1] - self.doc_ptr[0]) if len(self.doc_ptr) else 0

    @property
    def num_words(self):
        """Vocabulary size V."""
        return len(self.vocab)

    def doc_lengths(self):
        """Tokens per document, int64 of shape (D_local,)."""
        return np.diff(self.doc_ptr)

    def validate(self):
        """Check the invariants of the format.

        Raises
        ------
        UserError
            If ``doc_ptr`` does not start at 0, is not non-decreasing or does
            not end at ``len(word_ids)``, or a word id is outside ``0..V-1``.
        """
        check_doc_ptr(self.doc_ptr, len(self.word_ids), "corpus")
        check_word_ids(self.word_ids, self.num_words, "corpus")


def check_doc_ptr(doc_ptr, n_tokens, where):
    """Raise :class:`UserError` unless ``doc_ptr`` holds valid offsets for ``n_tokens`` tokens.

    Valid offsets are a 1-D integer array of D+1 >= 1 entries that starts at 0, never
    decreases and ends at ``n_tokens``.
    """
    doc_ptr = np.asarray(doc_ptr)
    if doc_ptr.ndim != 1:
        raise UserError(f"{where}: doc_ptr must be 1-D (D+1 offsets), got shape {doc_ptr.shape}")
    if len(doc_ptr) < 1:
        raise UserError(f"{where}: doc_ptr is empty; it needs D+1 >= 1 offsets starting at 0")
    if doc_ptr[0] != 0:
        raise UserError(f"{where}: doc_ptr must start at 0, got {doc_ptr[0]}")
    if len(doc_ptr) > 1:
        # Compare neighbours rather than np.diff: unsigned offsets must not wrap around.
        dec = doc_ptr[1:] < doc_ptr[:-1]
        if dec.any():
            bad = int(np.argmax(dec))
            raise UserError(f"{where}: doc_ptr is not monotonic at document {bad} "
                            f"({doc_ptr[bad]} > {doc_ptr[bad + 1]})")
    if doc_ptr[-1] != n_tokens:
        raise UserError(f"{where}: doc_ptr ends at {doc_ptr[-1]} "
                        f"but there are {n_tokens} tokens")


def check_word_ids(word_ids, num_words, where):
    """Raise :class:`UserError` if a word id is negative or not below ``num_words``.

    ``word_ids`` may have any integer dtype; the check is made before any cast to int32.
    """
    if len(word_ids) == 0:
        return
    lo, hi = int(word_ids.min()), int(word_ids.max())
    if lo < 0 or hi >= num_words:
        bad = lo if lo < 0 else hi
        raise UserError(f"{where}: word id {bad} is out of range 0..{num_words - 1}")


def check_vocab(vocab, where):
    """Raise :class:`UserError` unless ``vocab`` is a list of distinct strings HDF5 can store.

    Parameters
    ----------
    vocab : sequence of str
    where : str
        Names the file or function in the message.

    Raises
    ------
    UserError
        A word that is not a ``str``, holds a NUL character (HDF5 strings end at NUL) or
        cannot be encoded as UTF-8 (a lone surrogate), or a word that appears twice.
    """
    seen = {}
    for i, w in enumerate(vocab):
        if not isinstance(w, str):
            raise UserError(f"{where}: vocabulary entry {i} is a {type(w).__name__}, not a "
                            f"string: {w!r}")
        if "\0" in w:
            raise UserError(f"{where}: vocabulary word {i} ({w!r}) contains a NUL character, "
                            "which HDF5 strings cannot hold")
        try:
            w.encode("utf-8")
        except UnicodeEncodeError:
            raise UserError(f"{where}: vocabulary word {i} ({w!r}) is not valid Unicode "
                            "(lone surrogate)") from None
        if w in seen:
            raise UserError(f"{where}: vocabulary word {w!r} appears twice (entries "
                            f"{seen[w]} and {i}); words must be distinct")
        seen[w] = i


def write_corpus(path, doc_ptr, word_ids, vocab, provenance=None, doc_index=None,
                 n_empty_dropped=0):
    """Write a whole in-memory corpus to ``path`` atomically.

    Parameters
    ----------
    path : str
    doc_ptr : array_like of int64, shape (D+1,)
    word_ids : array_like of int32, shape (N,)
    vocab : sequence of str, length V
    provenance : dict, optional
        Stored as JSON in the ``provenance`` attribute.
    doc_index : array_like of int64, shape (D,), optional
    n_empty_dropped : int

    Raises
    ------
    UserError
        If the arrays break the format's invariants (see :func:`check_doc_ptr`,
        :func:`check_word_ids`, :func:`check_vocab`) or the folder is not writable;
        nothing is written then.
    """
    doc_ptr, word_ids = np.asarray(doc_ptr), np.asarray(word_ids)
    check_doc_ptr(doc_ptr, len(word_ids), path)
    check_word_ids(word_ids, len(vocab), path)
    if doc_index is not None and np.shape(doc_index) != (len(doc_ptr) - 1,):
        raise UserError(f"{path}: doc_index has shape {np.shape(doc_index)}, expected one "
                        f"entry per document ({len(doc_ptr) - 1},)")
    with CorpusWriter(path, vocab=vocab, provenance=provenance) as w:
        doc_ptr = doc_ptr.astype(np.int64, copy=False)
        word_ids = word_ids.astype(np.int32, copy=False)
        w.add_many(doc_ptr, word_ids, doc_index=doc_index)
        w.n_empty_dropped = int(n_empty_dropped)


#: Bytes reserved beyond the tokens for HDF5's last partial chunk (256 KiB), its B-tree and
#: headers (and 1/64 of the tokens' bytes more, for the chunk index of a large corpus).
_RESERVE_MARGIN = 384 << 10


class CorpusWriter:
    """Stream documents into a new corpus file, written atomically on close.

    Use as a context manager; ``add(ids)`` appends one document. Nothing
    appears at ``path`` unless the ``with`` block completes. Memory use is the
    chunk buffer plus 16 bytes per document.

    Parameters
    ----------
    path : str
    vocab : sequence of str, optional
        Can also be set later through the ``vocab`` attribute, before closing.
    provenance : dict, optional
    chunk_tokens : int
        Tokens buffered in memory before a write (default 4M, 16 MiB).

    Raises
    ------
    esca.errors.WriteError
        When the disk is full: the space for the tokens is reserved before HDF5 writes them
        (:class:`esca._io.SpaceReservation`), so the error comes from Python, with the size
        needed, and the temporary file is removed.
    """

    def __init__(self, path, vocab=None, provenance=None, chunk_tokens=1 << 22):
        self.path = path
        self.vocab = vocab
        self.provenance = dict(provenance or {})
        self.n_empty_dropped = 0
        self._chunk = chunk_tokens
        self._ctx = None

    def __enter__(self):
        self._f = self._space = None
        self._ctx = atomic_output(self.path)
        tmp = self._ctx.__enter__()
        try:
            # HDF5 crashes the process when a write fails for want of space, so the space is
            # reserved ahead of its writes (see SpaceReservation): a full disk ends here.
            self._f = h5py.File(tmp, "w")  # truncates the file: reserve after it
            self._space = SpaceReservation(tmp, self.path)
            self._space.reserve(_RESERVE_MARGIN)
        except BaseException as e:
            if self._space is not None:
                self._space.close()
            if self._f is not None:
                self._f.close()  # nothing written yet beyond the superblock
            self._ctx.__exit__(type(e), e, e.__traceback__)
            raise
        # HDF5 chunks of 64K tokens (256 KiB): a small corpus stays a small file.
        self._ds = self._f.create_dataset("word_ids", shape=(0,), maxshape=(None,), dtype=np.int32,
                                          chunks=(min(self._chunk, 1 << 16),))
        self._buf = np.empty(self._chunk, dtype=np.int32)
        self._nbuf = 0
        self._n = 0
        self._ptr = [np.zeros(1, dtype=np.int64)]
        self._lens = []
        self._index = []
        self._has_index = False
        return self

    def add(self, ids, source_index=None):
        """Append one document (int array of word ids; may be empty only if the caller wants it)."""
        ids = np.asarray(ids, dtype=np.int32)
        self._lens.append(len(ids))
        if source_index is not None:
            self._has_index = True
            self._index.append(int(source_index))
        if self._nbuf + len(ids) > len(self._buf):
            self._flush()
        if len(ids) > len(self._buf):
            self._write(ids)
        else:
            self._buf[self._nbuf:self._nbuf + len(ids)] = ids
            self._nbuf += len(ids)

    def add_many(self, doc_ptr, word_ids, doc_index=None):
        """Append many documents given as offsets ``doc_ptr`` (D+1) into ``word_ids``."""
        self._flush()
        self._write(np.asarray(word_ids[doc_ptr[0]:doc_ptr[-1]], dtype=np.int32))
        self._lens.extend(np.diff(doc_ptr).tolist())
        if doc_index is not None:
            self._has_index = True
            self._index.extend(np.asarray(doc_index, dtype=np.int64).tolist())

    def _reserve(self, nbytes):
        """Reserve the space of the tokens written so far plus ``nbytes`` and a margin for
        HDF5's chunk rounding and metadata."""
        self._space.reserve(4 * self._n + int(nbytes) + _RESERVE_MARGIN + (4 * self._n >> 6))

    def _write(self, arr):
        if len(arr):
            self._reserve(4 * len(arr))
            self._ds.resize((self._n + len(arr),))
            self._ds[self._n:] = arr
            self._n += len(arr)

    def _flush(self):
        self._write(self._buf[:self._nbuf])
        self._nbuf = 0

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                if exc_type is None:
                    self._finish()
            finally:
                try:
                    self._f.close()
                    if exc_type is None:
                        self._space.trim()
                finally:
                    self._space.close()
        except BaseException as e:  # the temporary file goes, and ``path`` stays as it was
            self._ctx.__exit__(type(e), e, e.__traceback__)
            raise
        return self._ctx.__exit__(exc_type, exc, tb)

    def _finish(self):
        self._flush()
        if self.vocab is None:
            raise ValueError("CorpusWriter: vocab was never set")
        check_vocab(self.vocab, self.path)
        doc_ptr = np.zeros(len(self._lens) + 1, dtype=np.int64)
        np.cumsum(np.asarray(self._lens, dtype=np.int64), out=doc_ptr[1:])
        assert doc_ptr[-1] == self._n
        words = sum(len(w.encode("utf-8")) + 48 for w in self.vocab)  # global heap + reference
        self._reserve(16 * len(doc_ptr) + words)
        f = self._f
        f.create_dataset("doc_ptr", data=doc_ptr)
        f.create_dataset("vocab", data=np.array(list(self.vocab), dtype=object),
                         dtype=h5py.string_dtype("utf-8"))
        if self._has_index:
            if len(self._index) != len(self._lens):
                raise ValueError("CorpusWriter: give source_index for every document or none")
            f.create_dataset("doc_index", data=np.asarray(self._index, dtype=np.int64))
        prov = {"esca_version": __version__, **self.provenance}
        f.attrs.update({
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "D": len(self._lens), "V": len(self.vocab), "N": self._n,
            "n_empty_dropped": int(self.n_empty_dropped),
            "provenance": json.dumps(prov, sort_keys=True, default=str),
        })


_DATASETS = (("doc_ptr", "iu"), ("word_ids", "iu"), ("vocab", "string"))


def _open_checked(path):
    """The corpus file ``path`` open for reading, its format and datasets checked.

    Raises
    ------
    UserError
        As :func:`esca._h5.open_file` and :func:`esca._h5.check_format`; a missing dataset,
        or one that is not 1-D or of the wrong dtype (:func:`esca._h5.dataset`).
    """
    f = open_file(path, "corpus")
    try:
        with damaged(path, "HDF5 corpus"):
            check_format(f, path, FORMAT, (FORMAT_VERSION,), "corpus",
                         hint="; convert it with 'esca prepare'")
            for name, kinds in _DATASETS:
                dataset(f, path, name, 1, kinds)
    except BaseException:
        f.close()
        raise
    return f


def _read_header(f, path):
    """Read and check ``doc_ptr`` and the D, V, N attributes; return (doc_ptr, N, V).

    ``doc_ptr`` is returned as int64 (D+1,) after it was checked in its stored dtype.
    """
    doc_ptr = f["doc_ptr"][()]
    n_total = f["word_ids"].shape[0]
    V = f["vocab"].shape[0]
    check_doc_ptr(doc_ptr, n_total, path)
    D = len(doc_ptr) - 1
    for name, value, what in (("D", D, "documents in doc_ptr"),
                              ("V", V, "words in the vocab dataset"),
                              ("N", n_total, "tokens in word_ids")):
        stored = attr(f, name)
        if stored is not None and as_int(stored) != value:
            raise UserError(f"{path}: attribute {name}={stored!r} disagrees with the "
                            f"{value} {what}")
    if "doc_index" in f:
        ds = f["doc_index"]
        if not isinstance(ds, h5py.Dataset) or ds.shape != (D,) or ds.dtype.kind not in "iu":
            raise UserError(f"{path}: 'doc_index' must be {D} integers (one per document), "
                            f"got {getattr(ds, 'shape', type(ds).__name__)} "
                            f"{getattr(ds, 'dtype', '')}".rstrip())
    return doc_ptr.astype(np.int64), n_total, V


@contextlib.contextmanager
def open_corpus(path):
    """Yield ``(f, doc_ptr, N, vocab)`` of the checked corpus file ``path``, open for reading.

    The format, the datasets and ``doc_ptr`` against the D, V, N attributes are checked and
    the vocabulary is read (UTF-8, not yet checked for repeats: :func:`check_vocab`); h5py's
    errors in the ``with`` body become one-line :class:`UserError` messages
    (:func:`esca._h5.damaged`).

    Parameters
    ----------
    path : str or os.PathLike
        An esca HDF5 corpus (not ``builtin:NAME``).

    Yields
    ------
    f : h5py.File
    doc_ptr : ndarray of int64, shape (D+1,)
    N : int
    vocab : list of str, length V

    Raises
    ------
    UserError
        As :func:`read_corpus`, for the checks that do not need the tokens.
    """
    path = os.fspath(path)
    with _open_checked(path) as f, damaged(path, "HDF5 corpus"):
        doc_ptr, n_total, _ = _read_header(f, path)
        yield f, doc_ptr, n_total, read_vocab(f, path)


def read_corpus(path, doc_range=None):
    """Read a corpus file, whole or a contiguous range of its documents.

    Parameters
    ----------
    path : str
        An esca HDF5 corpus (see the module docstring) or ``builtin:wiki250``.
    doc_range : (int, int), optional
        Global ``[start, stop)`` document range to read; only the matching
        slice of ``word_ids`` is read from disk.

    Returns
    -------
    Corpus
        ``doc_ptr`` int64 (D_local+1,) from 0, ``word_ids`` int32 (N_local,) in
        ``0..V-1``, ``vocab`` V distinct str.

    Raises
    ------
    UserError
        Missing file, not HDF5, truncated or damaged HDF5, not an esca corpus,
        unknown format version, missing dataset, a dataset of the wrong dtype
        or shape, non-monotonic ``doc_ptr``, D, V or N attributes that
        disagree with the datasets, word ids out of range, a vocabulary that
        is not valid UTF-8 or repeats a word.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        whole = builtin_corpus(path[len(BUILTIN_PREFIX):])
        return whole if doc_range is None else slice_corpus(whole, *doc_range)
    path = os.fspath(path)
    with open_corpus(path) as (f, doc_ptr, n_total, vocab):
        D = len(doc_ptr) - 1
        a, b = (0, D) if doc_range is None else doc_range
        if not (0 <= a <= b <= D):
            raise UserError(f"{path}: document range {a}..{b} is outside 0..{D}")
        t0, t1 = int(doc_ptr[a]), int(doc_ptr[b])
        word_ids = f["word_ids"][t0:t1]
        attrs = read_attrs(f)
    check_word_ids(word_ids, len(vocab), path)  # in the stored dtype: no wrap-around
    check_vocab(vocab, path)
    return Corpus(doc_ptr[a:b + 1] - doc_ptr[a], word_ids.astype(np.int32), vocab,
                  doc_start=a, token_start=t0, num_docs_total=D, num_tokens_total=n_total,
                  attrs=attrs)


def read_doc_ptr(path):
    """Return ``(doc_ptr, V)`` of a corpus without reading its tokens (for partitioning).

    Raises
    ------
    UserError
        As :func:`read_corpus`, for the checks that do not need the tokens.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        c = read_corpus(path)
        return c.doc_ptr, c.num_words
    path = os.fspath(path)
    with _open_checked(path) as f, damaged(path, "HDF5 corpus"):
        doc_ptr, _, V = _read_header(f, path)
    return doc_ptr, V


def read_corpus_attrs(path):
    """The attributes of a corpus file (``provenance`` etc.) without reading its datasets.

    Returns
    -------
    dict
        Attribute name -> plain Python value (``provenance`` is a JSON string).

    Raises
    ------
    UserError
        As :func:`read_doc_ptr`.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        return dict(read_corpus(path).attrs)
    path = os.fspath(path)
    with _open_checked(path) as f:
        return read_attrs(f)


#: Tokens in each of the :data:`IDENTITY_WINDOWS` windows of ``word_ids`` that
#: :func:`corpus_identity` hashes.
IDENTITY_WINDOW = 4096
IDENTITY_WINDOWS = 16


def _digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else np.ascontiguousarray(p).tobytes())
    return h.hexdigest()[:16]


def _identity_windows(N):
    """Start of each hashed window of ``word_ids`` (evenly spaced, the last one ends at N)."""
    if N <= IDENTITY_WINDOW * IDENTITY_WINDOWS:
        return [0], N
    return np.linspace(0, N - IDENTITY_WINDOW, IDENTITY_WINDOWS).astype(np.int64).tolist(), \
        IDENTITY_WINDOW


def corpus_identity(source):
    """A cheap identity of a whole corpus, to check that every MPI rank opened the same one.

    Reads only ``doc_ptr``, the vocabulary, the attributes and 16 windows of 4,096 tokens of
    ``word_ids`` (the whole of a corpus of up to 65,536 tokens), never the whole token array;
    see :func:`esca.distributed.same_on_all_ranks`.

    Parameters
    ----------
    source : str, os.PathLike or Corpus
        An esca HDF5 corpus, ``builtin:NAME``, or a whole in-memory corpus.

    Returns
    -------
    dict
        ``D``, ``V``, ``N`` (int); ``doc_ptr``, ``vocabulary`` and ``word ids`` (the first
        16 hex digits of the SHA-256 of the document offsets as little-endian int64, of the
        words joined by newlines in UTF-8, and of the sampled windows of word ids as
        little-endian int32); and ``stored sha256`` when the file has a ``corpus_sha256``
        or ``sha256`` attribute (a full checksum written with it). Equal for two copies of
        the same corpus, whatever their paths.

    Raises
    ------
    UserError
        As :func:`read_corpus`, for an unreadable or malformed file.
    """
    if isinstance(source, Corpus):
        doc_ptr, vocab, attrs = source.doc_ptr, source.vocab, source.attrs
        N = int(doc_ptr[-1])
        starts, width = _identity_windows(N)
        sample = np.concatenate([np.asarray(source.word_ids[a:a + width], dtype="<i4")
                                 for a in starts])
    elif isinstance(source, str) and source.startswith(BUILTIN_PREFIX):
        return corpus_identity(read_corpus(source))
    else:
        with open_corpus(source) as (f, doc_ptr, N, vocab):
            starts, width = _identity_windows(N)
            ds = f["word_ids"]
            sample = np.concatenate([np.asarray(ds[a:a + width], dtype="<i4") for a in starts])
            attrs = read_attrs(f)
    out = {"D": len(doc_ptr) - 1, "V": len(vocab), "N": int(doc_ptr[-1]),
           "doc_ptr": _digest(np.asarray(doc_ptr, dtype="<i8")),
           "vocabulary": _digest("\n".join(vocab).encode("utf-8", "surrogatepass")),
           "word ids": _digest(sample)}
    stored = (attrs or {}).get("corpus_sha256", (attrs or {}).get("sha256"))
    if stored is not None:
        out["stored sha256"] = str(stored)
    return out


def read_doc_index(path):
    """The ``doc_index`` dataset of a corpus file (int64, (D,)), or None if it has none.

    Raises
    ------
    UserError
        As :func:`read_doc_ptr`.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        return None
    path = os.fspath(path)
    with _open_checked(path) as f, damaged(path, "HDF5 corpus"):
        _read_header(f, path)
        return f["doc_index"][()].astype(np.int64) if "doc_index" in f else None


def slice_corpus(c, a, b):
    """Return documents ``[a, b)`` of an in-memory corpus as a shard.

    Parameters
    ----------
    c : Corpus
    a, b : int
        Local document range, ``0 <= a <= b <= c.num_docs``.

    Returns
    -------
    Corpus
        ``doc_ptr`` rebased to 0 (a new int64 array of shape (b-a+1,)),
        ``word_ids`` a view, and ``doc_start``/``token_start`` the global
        indices of the first document and token.
    """
    t0, t1 = int(c.doc_ptr[a]), int(c.doc_ptr[b])
    return Corpus(c.doc_ptr[a:b + 1] - c.doc_ptr[a], c.word_ids[t0:t1], c.vocab,
                  doc_start=c.doc_start + a, token_start=c.token_start + t0,
                  num_docs_total=c.num_docs_total, num_tokens_total=c.num_tokens_total,
                  attrs=c.attrs)


def builtin_path(name="wiki250"):
    """Path of a corpus shipped inside an installed package.

    ``wiki250`` is gensim's ``test/test_data/head500.noblanks.cor``: 250
    English Wikipedia articles, one per line, already lowercased, stemmed and
    without stop words, about 331K tokens. ``lee`` is
    ``test/test_data/lee_background.cor``: the 300 Australian news articles of
    the Lee corpus (Lee, Pincombe & Welsh 2005), raw text, one per line.
    """
    if name not in BUILTIN_NAMES:
        raise UserError(f"unknown builtin corpus '{name}' (known: "
                        + ", ".join(BUILTIN_PREFIX + n for n in BUILTIN_NAMES) + ")")
    import gensim  # noqa: PLC0415 - gensim is slow to import
    path = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data",
                        _BUILTIN_FILES[name])
    if not os.path.exists(path):
        raise UserError(f"builtin corpus '{name}' not found in the installed gensim at {path}")
    return path


_BUILTIN_CACHE = {}


def _lee_documents(path):
    """Documents of the raw ``lee`` file as token lists: gensim's ``simple_preprocess``
    (lowercase, no accents, 2-15 letters) without gensim's English ``STOPWORDS`` and without
    words in more than half of the documents ("said", "says"; gensim's
    ``filter_extremes(no_above=0.5)``)."""
    from gensim.parsing.preprocessing import STOPWORDS  # noqa: PLC0415 - gensim is slow
    from gensim.utils import simple_preprocess  # noqa: PLC0415 - gensim is slow
    with open(path, encoding="utf-8") as fh:
        docs = [[t for t in simple_preprocess(line, deacc=True) if t not in STOPWORDS]
                for line in fh if line.strip()]
    df = {}
    for doc in docs:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    return [[t for t in doc if df[t] <= 0.5 * len(docs)] for doc in docs]


def builtin_corpus(name="wiki250"):
    """Load a builtin corpus into memory (vocabulary in first-seen order).

    ``wiki250`` is split on whitespace; ``lee`` is tokenized by :func:`_lee_documents`.
    """
    if name in _BUILTIN_CACHE:
        return _BUILTIN_CACHE[name]
    path = builtin_path(name)
    if name == "lee":
        docs = _lee_documents(path)
    else:
        with open(path, encoding="utf-8") as fh:
            docs = [line.split() for line in fh]
    token2id, ids, lens = {}, [], []
    for toks in docs:
        if not toks:
            continue
        ids.extend(token2id.setdefault(t, len(token2id)) for t in toks)
        lens.append(len(toks))
    doc_ptr = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=doc_ptr[1:])
    c = Corpus(doc_ptr, np.array(ids, dtype=np.int32), list(token2id),
               attrs={"format": FORMAT, "format_version": FORMAT_VERSION,
                      "provenance": json.dumps({"source": path, "builtin": name})})
    _BUILTIN_CACHE[name] = c
    return c
