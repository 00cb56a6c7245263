"""Streaming readers for the input formats of ``esca prepare``.

Every reader reads its file front to back and holds one document (or one
block of a bag-of-words body) at a time, so files larger than memory can be
read. Bag-of-words readers yield ``(source_index, ids, counts)`` for every
document of the input, empty ones included:

    source_index  int                      position of the document in the input (0-based)
    ids           ndarray of int64, (M,)   0-based word ids, as stored (maybe unsorted)
    counts        ndarray of int64, (M,)   occurrences of each id, >= 0

Malformed input raises :class:`~esca.errors.UserError` naming the file and line.
"""

import contextlib
import gzip
import os
import re
import zlib

import numpy as np

from esca.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_BYTES = 4 << 20
MAX_COUNT = 2**31 - 1

# A UCI body line that is not blank and not three unsigned integers.
_BAD_TRIPLE = re.compile(rb"^(?![ \t]*\d+[ \t]+\d+[ \t]+\d+[ \t\r]*$).*\S.*$", re.MULTILINE)
_LDAC_LINE = re.compile(rb"[ \t]*(\d+)((?:[ \t]+\d+:\d+)*)[ \t\r]*\n?")


def check_file(path, what):
    """Return ``path`` as a str, or raise :class:`UserError` if it is not an existing file."""
    if path is None:
        raise UserError(f"{what} is required")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"{what} not found: {path}")
    if not os.path.isfile(path):
        raise UserError(f"{what} is not a file: {path}")
    return path


@contextlib.contextmanager
def open_binary(path):
    """Open ``path`` for binary reading, decompressing gzip (``.gz`` suffix or gzip magic bytes).

    Read errors inside the ``with`` block (I/O errors, a truncated or corrupt
    gzip stream) become :class:`UserError`.
    """
    try:
        with open(path, "rb") as raw:
            is_gzip = raw.read(2) == GZIP_MAGIC or path.endswith(".gz")
            raw.seek(0)
            if not is_gzip:
                yield raw
                return
            with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                yield fh
    except (OSError, EOFError, zlib.error) as e:
        raise UserError(f"cannot read {path}: {e}") from None


def _decode(line, path, lineno):
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: line {lineno}: invalid UTF-8 at byte {e.start} "
                        f"({line[max(0, e.start - 10):e.start + 10]!r})") from None


def iter_text_documents(path):
    """Yield the documents of a tokenized text file, one per line (empty lines included).

    Parameters
    ----------
    path : str
        Plain or gzip-compressed UTF-8 text; tokens are separated by whitespace.

    Yields
    ------
    list of str
        The tokens of the next line.

    Raises
    ------
    UserError
        On invalid UTF-8 (naming the 1-based line number) or an unreadable file.
    """
    with open_binary(path) as fh:
        for lineno, line in enumerate(fh, 1):
            yield _decode(line, path, lineno).split()


def read_word_list(path, what, positional=True):
    """Read one word per line (``vocab`` files, stop-word lists).

    Parameters
    ----------
    path : str
    what : str
        Name of the file in error messages (``"--vocab"``).
    positional : bool
        If true, line i is word i: blank lines are errors (except at the end of
        the file) and so are duplicates. If false, blank lines are skipped.

    Returns
    -------
    list of str

    Raises
    ------
    UserError
        Invalid UTF-8, a blank line inside a positional list, or a duplicate word.
    """
    words, seen, blank_at = [], {}, None
    with open_binary(path) as fh:
        for lineno, line in enumerate(fh, 1):
            word = _decode(line, path, lineno).strip()
            if not positional:
                if word:
                    words.append(word)
                continue
            if not word:
                blank_at = blank_at or lineno
                continue
            if blank_at is not None:
                raise UserError(f"{what} {path}: line {blank_at} is blank (line i must be word i)")
            if word in seen:
                raise UserError(f"{what} {path}: word {word!r} appears on lines "
                                f"{seen[word]} and {lineno}")
            seen[word] = lineno
            words.append(word)
    return words


def _blocks(fh):
    """Yield blocks of whole lines of about BLOCK_BYTES bytes."""
    while True:
        block = fh.read(BLOCK_BYTES)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += fh.readline()
        yield block


def _line_of_row(block, first_line, row):
    """1-based line number of the ``row``-th non-blank line of ``block``."""
    for i, line in enumerate(block.split(b"\n")):
        if line.strip():
            if row == 0:
                return first_line + i
            row -= 1
    return first_line


class UciDocword:
    """The body of a UCI bag-of-words ``docword.NAME.txt[.gz]`` file, read as a stream.

    The file has three header lines D, W, NNZ, then ``docID wordID count``
    lines with 1-based ids, sorted by docID. Documents absent from the body
    are empty.

    Parameters
    ----------
    path : str
    vocab_size : int
        Number of words in the vocabulary file; must equal W.

    Attributes
    ----------
    num_docs, num_words, num_nnz : int
        The header's D, W and NNZ.

    Raises
    ------
    UserError
        A malformed header, W different from ``vocab_size``; while iterating,
        a malformed line, an id out of range, docIDs out of order, or a body
        whose number of entries differs from NNZ.
    """

    def __init__(self, path, vocab_size):
        self.path = path
        with open_binary(path) as fh:
            self.num_docs, self.num_words, self.num_nnz = self._read_header(fh)
        if self.num_words != vocab_size:
            raise UserError(f"{path}: header says W={self.num_words} words but the vocabulary "
                            f"has {vocab_size}")

    def _read_header(self, fh):
        values = []
        for name, lineno in (("D", 1), ("W", 2), ("NNZ", 3)):
            line = fh.readline().strip()
            if not line.isdigit():
                raise UserError(f"{self.path}: line {lineno}: expected the header count {name}, "
                                f"got {line[:40]!r}")
            values.append(int(line))
        return values

    def _parse(self, block, first_line):
        bad = _BAD_TRIPLE.search(block)
        if bad:
            lineno = first_line + block.count(b"\n", 0, bad.start())
            raise UserError(f"{self.path}: line {lineno}: expected 'docID wordID count', "
                            f"got {bad.group()[:60]!r}")
        triples = np.fromstring(block, dtype=np.int64, sep=" ").reshape(-1, 3)
        for col, name, lo, hi, why in ((0, "docID", 1, self.num_docs, " (header D)"),
                                       (1, "wordID", 1, self.num_words, " (header W)"),
                                       (2, "count", 0, MAX_COUNT, "")):
            out = (triples[:, col] < lo) | (triples[:, col] > hi)
            if out.any():
                row = int(np.argmax(out))
                raise UserError(f"{self.path}: line {_line_of_row(block, first_line, row)}: "
                                f"{name} {triples[row, col]} is outside {lo}..{hi}{why}")
        return triples[:, 0] - 1, triples[:, 1] - 1, triples[:, 2]

    def __iter__(self):
        empty = np.zeros(0, dtype=np.int64)
        nnz, next_doc = 0, 0
        carry = (empty, empty, empty)
        with open_binary(self.path) as fh:
            self._read_header(fh)
            first_line = 4
            for block in _blocks(fh):
                d, w, c = self._parse(block, first_line)
                nnz += len(d)
                n_carry = len(carry[0])
                d, w, c = (np.concatenate(pair) for pair in zip(carry, (d, w, c)))
                step = np.diff(d)
                if (step < 0).any():
                    i = int(np.argmax(step < 0)) + 1
                    line = _line_of_row(block, first_line, i - n_carry)
                    raise UserError(f"{self.path}: line {line}: docID {d[i] + 1} comes after "
                                    f"docID {d[i - 1] + 1}; the body must be sorted by docID")
                bounds = np.concatenate(([0], np.flatnonzero(step) + 1, [len(d)]))
                for a, b in zip(bounds[:-2], bounds[1:-1]):
                    doc = int(d[a])
                    for k in range(next_doc, doc):
                        yield k, empty, empty
                    yield doc, w[a:b], c[a:b]
                    next_doc = doc + 1
                a = bounds[-2]
                carry = (d[a:], w[a:], c[a:])
                first_line += block.count(b"\n")
        if len(carry[0]):
            doc = int(carry[0][0])
            for k in range(next_doc, doc):
                yield k, empty, empty
            yield doc, carry[1], carry[2]
            next_doc = doc + 1
        if nnz != self.num_nnz:
            raise UserError(f"{self.path}: header says NNZ={self.num_nnz} but the body has "
                            f"{nnz} entries")
        for k in range(next_doc, self.num_docs):
            yield k, empty, empty


class LdacCorpus:
    """An LDA-C (Blei) corpus file, read as a stream: each line is ``M id:count ...``.

    Ids are 0-based; counts must be non-negative integers. Same reading as
    :class:`gensim.corpora.BleiCorpus`, except that blank lines are errors.

    Parameters
    ----------
    path : str
    vocab_size : int
        Ids must be below this.

    Attributes
    ----------
    num_docs : int or None
        Number of lines, known after a complete iteration.

    Raises
    ------
    UserError
        While iterating: a malformed line, M different from the number of
        pairs, or an id not below ``vocab_size``.
    """

    def __init__(self, path, vocab_size):
        self.path = path
        self.vocab_size = vocab_size
        self.num_docs = None

    def __iter__(self):
        n_lines = 0
        with open_binary(self.path) as fh:
            for n, line in enumerate(fh):
                m = _LDAC_LINE.fullmatch(line)
                if m is None:
                    raise UserError(f"{self.path}: line {n + 1}: expected 'M id:count id:count "
                                    f"...', got {line[:60]!r}")
                pairs = np.fromstring(m.group(2).replace(b":", b" "), dtype=np.int64, sep=" ")
                if len(pairs) != 2 * int(m.group(1)):
                    raise UserError(f"{self.path}: line {n + 1}: says M={int(m.group(1))} but "
                                    f"has {len(pairs) // 2} id:count pairs")
                ids, counts = pairs[0::2], pairs[1::2]
                if len(ids) and ids.max() >= self.vocab_size:
                    raise UserError(f"{self.path}: line {n + 1}: word id {ids.max()} is not below "
                                    f"the vocabulary size {self.vocab_size}")
                if len(ids) and counts.max() > MAX_COUNT:
                    raise UserError(f"{self.path}: line {n + 1}: count {counts.max()} is too large")
                yield n, ids, counts
                n_lines = n + 1
        self.num_docs = n_lines


class MmDocs:
    """A gensim Matrix Market corpus (documents are rows), read as a stream with gensim's MmReader.

    Parameters
    ----------
    path : str
        Plain or compressed (by suffix) ``.mm`` file.
    vocab_size : int
        Size of the dictionary; term ids must be below it.

    Attributes
    ----------
    num_docs, num_terms, num_nnz : int
        From the header.

    Raises
    ------
    UserError
        An unreadable header, more terms in the header than in the
        dictionary; while iterating, a malformed line, rows out of order,
        a term id outside the dictionary, a non-integer or negative count,
        or a body whose number of entries differs from the header.
    """

    def __init__(self, path, vocab_size):
        from gensim.matutils import MmReader

        self.path = path
        try:
            self._reader = MmReader(path)
        except (ValueError, OSError, StopIteration) as e:
            raise UserError(f"{path}: not a readable Matrix Market file "
                            f"({' '.join(str(e).split())})") from None
        self.num_docs = self._reader.num_docs
        self.num_terms = self._reader.num_terms
        self.num_nnz = self._reader.num_nnz
        if self.num_terms > vocab_size:
            raise UserError(f"{path}: header says {self.num_terms} terms but the dictionary "
                            f"has {vocab_size} words")
        self.vocab_size = vocab_size

    def __iter__(self):
        nnz, prev = 0, -1
        try:
            for row, doc in self._reader:
                if row >= self.num_docs:
                    raise UserError(f"{self.path}: row {row + 1} is beyond the header's "
                                    f"{self.num_docs} documents")
                if row <= prev:
                    raise AssertionError  # MmReader asserts this too, unless python -O
                prev = row
                ids = np.fromiter((t for t, _ in doc), dtype=np.int64, count=len(doc))
                vals = np.fromiter((v for _, v in doc), dtype=np.float64, count=len(doc))
                counts = vals.astype(np.int64)
                if len(doc) and (ids.min() < 0 or ids.max() >= self.vocab_size
                                 or (counts != vals).any() or vals.min() < 0
                                 or vals.max() > MAX_COUNT):
                    raise UserError(f"{self.path}: row {row + 1}: term ids must be in "
                                    f"1..{self.vocab_size} and values non-negative integers")
                nnz += len(doc)
                yield row, ids, counts
        except (ValueError, AssertionError, OSError) as e:
            if isinstance(e, UserError):
                raise
            msg = ("rows must be sorted by row (document) number"
                   if isinstance(e, AssertionError) else " ".join(str(e).split()))
            raise UserError(f"{self.path}: {msg}") from None
        if nnz != self.num_nnz:
            raise UserError(f"{self.path}: header says {self.num_nnz} non-zeros but the body "
                            f"has {nnz}")


def load_dictionary(path):
    """Load a gensim :class:`~gensim.corpora.Dictionary` saved with ``save`` or ``save_as_text``.

    Raises
    ------
    UserError
        If neither loader can read the file, or the ids are not ``0 .. len-1``.
    """
    from gensim.corpora import Dictionary

    try:
        d = Dictionary.load(path)
    except Exception:  # not a pickle: try the text format
        try:
            d = Dictionary.load_from_text(path)
        except Exception as e:
            raise UserError(f"--dictionary {path}: not a gensim Dictionary saved with save() "
                            f"or save_as_text() ({e})") from None
    if not isinstance(d, Dictionary):
        raise UserError(f"--dictionary {path}: holds a {type(d).__name__}, not a gensim Dictionary")
    if sorted(d.token2id.values()) != list(range(len(d))):
        raise UserError(f"--dictionary {path}: word ids are not 0..{len(d) - 1}; "
                        "call compactify() before saving it")
    return d
