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

import dataclasses
import json
import os

import h5py
import numpy as np

from ._io import atomic_path
from .errors import UserError

FORMAT = "esca-corpus"
FORMAT_VERSION = 1
BUILTIN_PREFIX = "builtin:"
BUILTIN_NAMES = ("wiki250",)


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
    """Raise :class:`UserError` unless ``doc_ptr`` holds valid offsets for ``n_tokens`` tokens."""
    if len(doc_ptr) < 1 or doc_ptr[0] != 0:
        raise UserError(f"{where}: doc_ptr must start at 0")
    d = np.diff(doc_ptr)
    if len(d) and d.min() < 0:
        bad = int(np.argmax(d < 0))
        raise UserError(f"{where}: doc_ptr is not monotonic at document {bad} "
                        f"({int(doc_ptr[bad])} > {int(doc_ptr[bad + 1])})")
    if doc_ptr[-1] != n_tokens:
        raise UserError(f"{where}: doc_ptr ends at {int(doc_ptr[-1])} "
                        f"but there are {n_tokens} tokens")


def check_word_ids(word_ids, num_words, where):
    """Raise :class:`UserError` if a word id is negative or not below ``num_words``."""
    if len(word_ids) == 0:
        return
    lo, hi = int(word_ids.min()), int(word_ids.max())
    if lo < 0 or hi >= num_words:
        bad = lo if lo < 0 else hi
        raise UserError(f"{where}: word id {bad} is out of range 0..{num_words - 1}")


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
        If the arrays break the format's invariants or the folder is not writable.
    """
    with CorpusWriter(path, vocab=vocab, provenance=provenance) as w:
        doc_ptr = np.asarray(doc_ptr, dtype=np.int64)
        word_ids = np.asarray(word_ids, dtype=np.int32)
        check_doc_ptr(doc_ptr, len(word_ids), path)
        check_word_ids(word_ids, len(vocab), path)
        w.add_many(doc_ptr, word_ids, doc_index=doc_index)
        w.n_empty_dropped = int(n_empty_dropped)


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
    """

    def __init__(self, path, vocab=None, provenance=None, chunk_tokens=1 << 22):
        self.path = path
        self.vocab = vocab
        self.provenance = dict(provenance or {})
        self.n_empty_dropped = 0
        self._chunk = chunk_tokens
        self._ctx = None

    def __enter__(self):
        self._ctx = atomic_path(self.path)
        tmp = self._ctx.__enter__()
        self._f = h5py.File(tmp, "w")
        self._ds = self._f.create_dataset("word_ids", shape=(0,), maxshape=(None,), dtype=np.int32,
                                          chunks=(min(self._chunk, 1 << 20),))
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

    def _write(self, arr):
        if len(arr):
            self._ds.resize((self._n + len(arr),))
            self._ds[self._n:] = arr
            self._n += len(arr)

    def _flush(self):
        self._write(self._buf[:self._nbuf])
        self._nbuf = 0

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._flush()
                if self.vocab is None:
                    raise ValueError("CorpusWriter: vocab was never set")
                doc_ptr = np.zeros(len(self._lens) + 1, dtype=np.int64)
                np.cumsum(np.asarray(self._lens, dtype=np.int64), out=doc_ptr[1:])
                assert doc_ptr[-1] == self._n
                f = self._f
                f.create_dataset("doc_ptr", data=doc_ptr)
                f.create_dataset("vocab", data=np.array(list(self.vocab), dtype=object),
                                 dtype=h5py.string_dtype("utf-8"))
                if self._has_index:
                    f.create_dataset("doc_index", data=np.asarray(self._index, dtype=np.int64))
                from . import __version__
                prov = {"esca_version": __version__, **self.provenance}
                f.attrs.update({
                    "format": FORMAT, "format_version": FORMAT_VERSION,
                    "D": len(self._lens), "V": len(self.vocab), "N": self._n,
                    "n_empty_dropped": int(self.n_empty_dropped),
                    "provenance": json.dumps(prov, sort_keys=True, default=str),
                })
        finally:
            self._f.close()
        return self._ctx.__exit__(exc_type, exc, tb)


def _open_h5(path):
    if not os.path.exists(path):
        raise UserError(f"corpus file not found: {path}")
    if os.path.isdir(path):
        raise UserError(f"corpus path is a folder, not a file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise UserError(f"not a readable HDF5 file: {path} ({e})") from None
    try:
        if f.attrs.get("format") != FORMAT:
            raise UserError(f"{path} is not an esca corpus (no format='{FORMAT}' attribute); "
                            "convert it with 'esca prepare'")
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise UserError(f"{path}: unknown corpus format version {version} "
                            f"(this esca reads version {FORMAT_VERSION})")
        for name, kinds in (("doc_ptr", "iu"), ("word_ids", "iu"), ("vocab", "OSU")):
            if name not in f:
                raise UserError(f"{path}: missing dataset '{name}'")
            if f[name].dtype.kind not in kinds and h5py.check_string_dtype(f[name].dtype) is None:
                raise UserError(f"{path}: dataset '{name}' has the wrong dtype {f[name].dtype}")
    except BaseException:
        f.close()
        raise
    return f


def _read_vocab(f):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v)
            for v in f["vocab"].asstr()[()]]


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

    Raises
    ------
    UserError
        Missing file, not HDF5, not an esca corpus, unknown format version,
        missing dataset, wrong dtype, non-monotonic ``doc_ptr`` or word ids
        out of range.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        whole = builtin_corpus(path[len(BUILTIN_PREFIX):])
        return whole if doc_range is None else slice_corpus(whole, *doc_range)
    path = os.fspath(path)
    with _open_h5(path) as f:
        try:
            doc_ptr = f["doc_ptr"][()].astype(np.int64, copy=False)
            n_total = f["word_ids"].shape[0]
            check_doc_ptr(doc_ptr, n_total, path)
            vocab = _read_vocab(f)
            D = len(doc_ptr) - 1
            a, b = (0, D) if doc_range is None else doc_range
            if not (0 <= a <= b <= D):
                raise UserError(f"{path}: document range {a}..{b} is outside 0..{D}")
            t0, t1 = int(doc_ptr[a]), int(doc_ptr[b])
            word_ids = f["word_ids"][t0:t1].astype(np.int32, copy=False)
            attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
        except (OSError, KeyError, RuntimeError) as e:
            raise UserError(f"corrupted HDF5 corpus {path}: {e}") from None
    check_word_ids(word_ids, len(vocab), path)
    return Corpus(doc_ptr[a:b + 1] - doc_ptr[a], word_ids, vocab, doc_start=a, token_start=t0,
                  num_docs_total=D, num_tokens_total=n_total, attrs=attrs)


def read_doc_ptr(path):
    """Return ``(doc_ptr, V)`` of a corpus without reading its tokens (for partitioning)."""
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        c = read_corpus(path)
        return c.doc_ptr, c.num_words
    with _open_h5(os.fspath(path)) as f:
        doc_ptr = f["doc_ptr"][()].astype(np.int64, copy=False)
        check_doc_ptr(doc_ptr, f["word_ids"].shape[0], path)
        return doc_ptr, f["vocab"].shape[0]


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
    English Wikipedia articles, one per line, stemmed, about 331K tokens.
    """
    if name not in BUILTIN_NAMES:
        raise UserError(f"unknown builtin corpus '{name}' (known: "
                        + ", ".join(BUILTIN_PREFIX + n for n in BUILTIN_NAMES) + ")")
    import gensim
    path = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data",
                        "head500.noblanks.cor")
    if not os.path.exists(path):
        raise UserError(f"builtin corpus '{name}' not found in the installed gensim at {path}")
    return path


_BUILTIN_CACHE = {}


def builtin_corpus(name="wiki250"):
    """Load a builtin corpus into memory (split on whitespace, vocabulary in first-seen order)."""
    if name in _BUILTIN_CACHE:
        return _BUILTIN_CACHE[name]
    path = builtin_path(name)
    token2id, ids, lens = {}, [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            toks = line.split()
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
