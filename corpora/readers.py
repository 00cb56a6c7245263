"""Streaming readers for the input formats of ``esca prepare``.

Every reader reads its file front to back and holds one document (or one
block of a bag-of-words body) at a time, so files larger than memory can be
read. Bag-of-words readers yield ``(source_index, ids, counts)`` for every
document stored in the input, in increasing ``source_index``:

    source_index  int                      position of the document in the input (0-based)
    ids           ndarray of int64, (M,)   0-based word ids, as stored (maybe unsorted)
    counts        ndarray of int64, (M,)   occurrences of each id, 0 <= count < 2**31

Documents that the input leaves out (UCI docIDs and Matrix Market rows absent from the
body) are empty and are not yielded, so a header that announces billions of documents
costs nothing; after a complete iteration ``num_docs`` is the number of input documents,
stored or left out.

Malformed input raises :class:`~esca.errors.UserError` naming the file and line.
Every text reader accepts a UTF-8 byte order mark, ``\r\n`` line endings and a last line
without ``\n``, and refuses invalid UTF-8, NUL bytes and carriage returns inside a line
(CR-only "old Mac" line endings, which would make the whole file one line), naming the
line.
"""

import bz2
import codecs
import contextlib
import gzip
import logging
import os
import re
import zlib

import numpy as np

from esca.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_BYTES = 4 << 20
MAX_COUNT = 2**31 - 1
#: Header counts (D, W, NNZ, ...) above this are refused as nonsense (and 18 digits fit int64).
MAX_HEADER = 10**18 - 1

# A UCI body line that is not blank and not three unsigned integers.
_BAD_TRIPLE = re.compile(rb"^(?![ \t]*\d+[ \t]+\d+[ \t]+\d+[ \t\r]*$).*\S.*$", re.MULTILINE)
# A Matrix Market body line that is not blank and not two unsigned integers and a number.
_BAD_MM_TRIPLE = re.compile(rb"^(?![ \t]*\d+[ \t]+\d+[ \t]+[-+]?(?:\d+\.?\d*|\.\d+)"
                            rb"(?:[eE][-+]?\d+)?[ \t\r]*$).*\S.*$", re.MULTILINE)
_MM_BANNER = re.compile(rb"%%MatrixMarket[ \t]+matrix[ \t]+coordinate[ \t]+(real|integer)"
                        rb"[ \t]+general[ \t\r]*\n?", re.IGNORECASE)
_MM_SIZE = re.compile(rb"[ \t]*(\d+)[ \t]+(\d+)[ \t]+(\d+)[ \t\r]*\n?")
_LDAC_LINE = re.compile(rb"[ \t]*(\d+)((?:[ \t]+\d+:\d+)*)[ \t\r]*\n?")
# A number too long for int64 (np.fromstring would clamp it silently).
_HUGE = re.compile(rb"\d{19,}")


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
    """Open ``path`` for binary reading, decompressing gzip (``.gz`` suffix or gzip magic
    bytes) and bzip2 (``.bz2`` suffix).

    Read errors inside the ``with`` block (I/O errors, a truncated or corrupt
    compressed stream) become :class:`UserError`.
    """
    try:
        with open(path, "rb") as raw:
            is_gzip = raw.read(2) == GZIP_MAGIC or path.endswith(".gz")
            raw.seek(0)
            if path.endswith(".bz2"):
                with bz2.BZ2File(raw, mode="rb") as fh:
                    yield fh
            elif is_gzip:
                with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                    yield fh
            else:
                yield raw
    except (OSError, EOFError, zlib.error) as e:
        raise UserError(f"cannot read {path}: {' '.join(str(e).split())}") from None


def check_encoding(encoding, name="encoding"):
    """Return the codec name of ``encoding``, or raise :class:`UserError`.

    Lines are split on the byte ``\\n`` before decoding, so only encodings that write
    ``\\n`` as that one byte (UTF-8, Latin-1, cp1252, ...; not UTF-16 or UTF-32) are accepted.

    Parameters
    ----------
    encoding : str
        A codec name.
    name : str
        How the value is named in the messages (the CLI passes ``"--encoding"``).

    Returns
    -------
    str
        The codec's canonical name (``"utf-8"``, ``"iso8859-1"``, ...).

    Raises
    ------
    UserError
        An unknown codec, or one that does not write ``\\n`` as that one byte.
    """
    try:
        codec = codecs.lookup(encoding).name
        ok = "\n a".encode(codec) == b"\n a"
    except (LookupError, TypeError, UnicodeError):
        raise UserError(f"unknown {name} {encoding!r}") from None
    if not ok or codec.startswith(("utf-16", "utf-32")):
        raise UserError(f"{name} {encoding} is not supported: lines must end with the byte "
                        "\\n (use UTF-8, Latin-1, cp1252, ...)")
    return codec


def _decode(line, path, lineno, encoding="utf-8"):
    """One line of a text file as str; undecodable bytes or a NUL byte are a UserError.

    A UTF-8 byte order mark at the start of ``line`` 1 is dropped.
    """
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError as e:
        name = "UTF-8" if encoding in ("utf-8", "utf8") else encoding
        raise UserError(f"{path}: line {lineno}: invalid {name} at byte {e.start} "
                        f"({line[max(0, e.start - 10):e.start + 10]!r})") from None
    if "\0" in text:
        at = line.index(b"\0")
        raise UserError(f"{path}: line {lineno}: NUL byte at byte {at} "
                        f"({line[max(0, at - 10):at + 10]!r}); is this a binary file?")
    if lineno == 1 and text.startswith("\ufeff"):
        text = text[1:]
    _check_cr(line, path, lineno)
    return text


def _check_cr(line, path, lineno):
    """Refuse a carriage return inside ``line`` (bytes): old Mac (CR-only) line endings.

    Lines end with ``\n`` or ``\r\n``; a file of CR-only line endings would otherwise be
    read as a single line.
    """
    at = line.rstrip(b"\r\n").find(b"\r")
    if at >= 0:
        raise UserError(f"{path}: line {lineno}: carriage return (\\r) inside the line at byte "
                        f"{at}: old Mac line endings? Lines must end with \\n or \\r\\n "
                        f"(convert with: tr '\\r' '\\n')")


def _strip_bom(line, lineno):
    """``line`` (bytes) without a UTF-8 byte order mark when it is line 1."""
    return line[3:] if lineno == 1 and line.startswith(b"\xef\xbb\xbf") else line


def read_lines(path, what):
    """The lines of a small UTF-8 text file (plain or gzip) as a list of str.

    Lines end with ``\n`` or ``\r\n`` (the last one may lack it); a UTF-8 byte order
    mark is dropped. Only ``\n`` ends a line: unlike :meth:`str.splitlines`, characters
    such as U+2028 or U+0085 inside a line stay in it.

    Parameters
    ----------
    path : str
    what : str
        The option that named the file, for messages (``"--titles"``).

    Raises
    ------
    UserError
        A missing or unreadable file; invalid UTF-8, a NUL byte or a carriage return
        inside a line (CR-only line endings), naming the line.
    """
    if not os.path.isfile(path):
        raise UserError(f"{what}: no such file: {path}")
    lines = []
    with open_binary(path) as fh:
        for lineno, line in enumerate(fh, 1):
            lines.append(_decode(line, f"{what} {path}", lineno).rstrip("\n").rstrip("\r"))
    return lines


def iter_text_documents(path, encoding="utf-8", split=str.split):
    """Yield the documents of a text file, one per line (empty lines included).

    Parameters
    ----------
    path : str
        Plain or gzip-compressed text; a UTF-8 byte order mark and ``\\r\\n`` line
        endings are accepted.
    encoding : str
        Codec of the file (see :func:`check_encoding`).
    split : callable
        Turns the text of a line into its tokens; default ``str.split`` (tokens separated
        by whitespace), else e.g. a :class:`esca.corpora.text.Tokenizer`.

    Yields
    ------
    list of str
        The tokens of the next line.

    Raises
    ------
    UserError
        On undecodable bytes or a NUL byte (naming the 1-based line number) or an
        unreadable file.
    """
    with open_binary(path) as fh:
        for lineno, line in enumerate(fh, 1):
            yield split(_decode(line, path, lineno, encoding))


def list_text_files(folder):
    """The files of ``folder`` and its subfolders, as sorted paths relative to it.

    Names starting with ``.`` (hidden files and folders) are skipped; symbolic links to
    folders are not followed.

    Raises
    ------
    UserError
        If the folder holds no file.
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(root, folder)
        for name in sorted(files):
            if not name.startswith("."):
                found.append(name if rel == "." else os.path.join(rel, name))
    if not found:
        raise UserError(f"input folder {folder} holds no files (one file is one document)")
    return found


def iter_file_documents(folder, files, encoding="utf-8", split=str.split):
    """Yield the documents of a folder, one per file (see :func:`list_text_files`).

    Each file (plain or gzip) is read whole; a UTF-8 byte order mark is dropped.
    Errors name the file and line as :func:`iter_text_documents` does.
    """
    for name in files:
        path = os.path.join(folder, name)
        with open_binary(path) as fh:
            data = fh.read()
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            lineno = data.count(b"\n", 0, e.start) + 1
            start = data.rfind(b"\n", 0, e.start) + 1
            _decode(data[start:data.find(b"\n", e.start) + 1 or None], path, lineno, encoding)
            raise  # pragma: no cover - _decode raised
        if "\0" in text:
            at = data.index(b"\0")
            lineno = data.count(b"\n", 0, at) + 1
            start = data.rfind(b"\n", 0, at) + 1
            _decode(data[start:data.find(b"\n", at) + 1 or None], path, lineno, encoding)
        yield split(text[1:] if text.startswith("\ufeff") else text)


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
        Invalid UTF-8 or a NUL byte, a blank line inside a positional list, or a
        duplicate word.
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
    """1-based line number and text of the ``row``-th non-blank line of ``block``."""
    for i, line in enumerate(block.split(b"\n")):
        if line.strip():
            if row == 0:
                return first_line + i, line
            row -= 1
    return first_line, b""


def _check_huge(block, first_line, path):
    """Refuse a number too long for int64 (numpy's parser would clamp it silently)."""
    huge = _HUGE.search(block)
    if huge:
        lineno = first_line + block.count(b"\n", 0, huge.start())
        raise UserError(f"{path}: line {lineno}: number {huge.group()[:40].decode()} is too "
                        "large")


def _header_count(value, path, lineno, name):
    """A header count as an int, refusing values above :data:`MAX_HEADER`."""
    n = int(value)
    if n > MAX_HEADER:
        raise UserError(f"{path}: line {lineno}: header count {name}={n} is too large "
                        f"(at most {MAX_HEADER})")
    return n


class _TripleFile:
    """Shared streaming of a sorted ``doc term value`` body (UCI and Matrix Market).

    Subclasses set ``path``, ``num_docs`` and ``num_nnz``, read their header in
    ``_read_header(fh)`` (returning the 1-based number of the first body line) and check
    a block of body lines in ``_parse(block, first_line)`` (returning 0-based document
    ids, 0-based word ids and counts, int64).
    """

    def _check_columns(self, triples, block, first_line, columns):
        """Raise for the first value outside its range.

        ``columns`` holds ``(col, name, lo, hi, why, per_row)`` with inclusive bounds;
        ``per_row`` prefixes the message with the line's first field (``row 2: ...``).
        """
        for col, name, lo, hi, why, per_row in columns:
            out = (triples[:, col] < lo) | (triples[:, col] > hi)
            if out.any():
                row = int(np.argmax(out))
                lineno, line = _line_of_row(block, first_line, row)
                fields = [x.decode() for x in line.split()]
                token = fields[col] if col < len(fields) else triples[row, col]
                where = f"{self._id_name} {fields[0]}: " if per_row else ""
                raise UserError(f"{self.path}: line {lineno}: {where}{name} {token} is "
                                f"outside {lo}..{hi}{why}")

    def _order_error(self, block, first_line, row, doc, prev):
        lineno, _ = _line_of_row(block, first_line, row)
        return UserError(f"{self.path}: line {lineno}: {self._id_name} {doc + 1} comes after "
                         f"{self._id_name} {prev + 1}; the body must be sorted by "
                         f"{self._sorted_by}")

    def __iter__(self):
        empty = np.zeros(0, dtype=np.int64)
        nnz = 0
        carry = (empty, empty, empty)
        with open_binary(self.path) as fh:
            first_line = self._read_header(fh)
            for block in _blocks(fh):
                d, w, c = self._parse(block, first_line)
                nnz += len(d)
                n_carry = len(carry[0])
                d, w, c = (np.concatenate(pair) for pair in zip(carry, (d, w, c), strict=True))
                step = np.diff(d)
                if (step < 0).any():
                    i = int(np.argmax(step < 0)) + 1
                    raise self._order_error(block, first_line, i - n_carry, int(d[i]),
                                            int(d[i - 1]))
                bounds = np.concatenate(([0], np.flatnonzero(step) + 1, [len(d)]))
                for a, b in zip(bounds[:-2], bounds[1:-1], strict=True):
                    yield int(d[a]), w[a:b], c[a:b]
                a = bounds[-2]
                carry = (d[a:], w[a:], c[a:])
                first_line += block.count(b"\n")
        if len(carry[0]):
            yield int(carry[0][0]), carry[1], carry[2]
        if nnz != self.num_nnz:
            raise UserError(self._nnz_error(nnz))


class UciDocword(_TripleFile):
    """The body of a UCI bag-of-words ``docword.NAME.txt[.gz]`` file, read as a stream.

    The file has three header lines D, W, NNZ, then ``docID wordID count``
    lines with 1-based ids, sorted by docID. Documents absent from the body
    are empty (and not yielded, see the module docstring).

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
        A malformed header or a header count above 10**18, W different from
        ``vocab_size``; while iterating, a malformed line, an id out of range
        (docID above D, wordID above W), a count of 2**31 or more, docIDs out
        of order, or a body whose number of entries differs from NNZ.
    """

    _id_name = "docID"
    _sorted_by = "docID"

    def __init__(self, path, vocab_size):
        self.path = path
        with open_binary(path) as fh:
            self.num_docs, self.num_words, self.num_nnz = self._header(fh)
        if self.num_words != vocab_size:
            raise UserError(f"{path}: header says W={self.num_words} words but the vocabulary "
                            f"has {vocab_size}")

    def _header(self, fh):
        values = []
        for name, lineno in (("D", 1), ("W", 2), ("NNZ", 3)):
            line = _strip_bom(fh.readline(), lineno)
            _check_cr(line, self.path, lineno)
            line = line.strip()
            if not line.isdigit():
                raise UserError(f"{self.path}: line {lineno}: expected the header count {name}, "
                                f"got {line[:40]!r}")
            values.append(_header_count(line, self.path, lineno, name))
        return values

    def _read_header(self, fh):
        self._header(fh)
        return 4

    def _parse(self, block, first_line):
        bad = _BAD_TRIPLE.search(block)
        if bad:
            lineno = first_line + block.count(b"\n", 0, bad.start())
            raise UserError(f"{self.path}: line {lineno}: expected 'docID wordID count', "
                            f"got {bad.group()[:60]!r}")
        _check_huge(block, first_line, self.path)
        triples = np.fromstring(block, dtype=np.int64, sep=" ").reshape(-1, 3)
        self._check_columns(triples, block, first_line, (
            (0, "docID", 1, self.num_docs, " (header D)", False),
            (1, "wordID", 1, self.num_words, " (header W)", False),
            (2, "count", 0, MAX_COUNT, "", False)))
        return triples[:, 0] - 1, triples[:, 1] - 1, triples[:, 2]

    def _nnz_error(self, nnz):
        return (f"{self.path}: header says NNZ={self.num_nnz} but the body has {nnz} "
                "entries")


class LdacCorpus:
    """An LDA-C (Blei) corpus file, read as a stream: each line is ``M id:count ...``.

    Ids are 0-based; counts must be non-negative integers. Same reading as
    :class:`gensim.corpora.BleiCorpus`, except that blank lines are errors.
    Every line is a document and is yielded.

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
        pairs, an id not below ``vocab_size``, or a count of 2**31 or more.
    """

    _id_name = "line"

    def __init__(self, path, vocab_size):
        self.path = path
        self.vocab_size = vocab_size
        self.num_docs = None

    def __iter__(self):
        n_lines = 0
        with open_binary(self.path) as fh:
            for n, line in enumerate(fh):
                line = _strip_bom(line, n + 1)
                m = _LDAC_LINE.fullmatch(line)
                if m is None:
                    _check_cr(line, self.path, n + 1)
                if m is None:
                    raise UserError(f"{self.path}: line {n + 1}: expected 'M id:count id:count "
                                    f"...', got {line[:60]!r}")
                _check_huge(line, n + 1, self.path)
                pairs = np.fromstring(m.group(2).replace(b":", b" "), dtype=np.int64, sep=" ")
                if len(pairs) != 2 * int(m.group(1)):
                    raise UserError(f"{self.path}: line {n + 1}: says M={int(m.group(1))} but "
                                    f"has {len(pairs) // 2} id:count pairs")
                ids, counts = pairs[0::2], pairs[1::2]
                if len(ids) and ids.max() >= self.vocab_size:
                    raise UserError(f"{self.path}: line {n + 1}: word id {ids.max()} is not below "
                                    f"the vocabulary size {self.vocab_size}")
                if len(ids) and counts.max() > MAX_COUNT:
                    raise UserError(f"{self.path}: line {n + 1}: count {counts.max()} is too "
                                    f"large (at most {MAX_COUNT})")
                yield n, ids, counts
                n_lines = n + 1
        self.num_docs = n_lines


class MmDocs(_TripleFile):
    """A gensim Matrix Market corpus (documents are rows), read as a stream.

    The layout gensim's :class:`~gensim.corpora.MmCorpus` writes and reads: a
    banner line ``%%MatrixMarket matrix coordinate real general`` (or
    ``integer``), comment lines starting with ``%``, a size line
    ``documents terms non-zeros``, then ``row column value`` lines with
    1-based ids, sorted by row. Values must be non-negative integers (``2``
    or ``2.0``). Rows absent from the body are empty (and not yielded).

    Parameters
    ----------
    path : str
        Plain, gzip or bzip2 (``.bz2``) ``.mm`` file.
    vocab_size : int
        Size of the dictionary; the header's number of terms must not exceed it.

    Attributes
    ----------
    num_docs, num_terms, num_nnz : int
        From the size line.

    Raises
    ------
    UserError
        A missing or malformed banner or size line, more terms in the header
        than in the dictionary; while iterating, a malformed line, rows out of
        order, a row or term id outside the header's sizes, a value that is
        not a non-negative integer below 2**31, or a body whose number of
        entries differs from the header.
    """

    _id_name = "row"
    _sorted_by = "row (document) number"

    def __init__(self, path, vocab_size):
        self.path = path
        with open_binary(path) as fh:
            _, (self.num_docs, self.num_terms, self.num_nnz) = self._header(fh)
        if self.num_terms > vocab_size:
            raise UserError(f"{path}: header says {self.num_terms} terms but the dictionary "
                            f"has {vocab_size} words")
        self.vocab_size = vocab_size

    def _header(self, fh):
        banner = _strip_bom(fh.readline(), 1)
        _check_cr(banner, self.path, 1)
        if not _MM_BANNER.fullmatch(banner):
            raise UserError(f"{self.path}: not a readable Matrix Market file: line 1: expected "
                            f"'%%MatrixMarket matrix coordinate real general', "
                            f"got {banner[:60]!r}")
        lineno = 1
        for line in fh:
            lineno += 1
            if line.startswith(b"%") or not line.strip():
                continue
            m = _MM_SIZE.fullmatch(line)
            if m is None:
                raise UserError(f"{self.path}: not a readable Matrix Market file: line "
                                f"{lineno}: expected 'documents terms non-zeros', "
                                f"got {line[:60]!r}")
            sizes = [_header_count(m.group(i + 1), self.path, lineno, name)
                     for i, name in enumerate(("documents", "terms", "non-zeros"))]
            for n, name in zip(sizes[:2], ("documents", "terms"), strict=True):
                if n >= 2**53:  # the body is parsed as float64
                    raise UserError(f"{self.path}: line {lineno}: header count {name}={n} is "
                                    "too large (at most 2**53 - 1)")
            return lineno + 1, sizes
        raise UserError(f"{self.path}: not a readable Matrix Market file: no size line "
                        "'documents terms non-zeros' after the banner")

    def _read_header(self, fh):
        first, _ = self._header(fh)
        return first

    def _parse(self, block, first_line):
        bad = _BAD_MM_TRIPLE.search(block)
        if bad:
            lineno = first_line + block.count(b"\n", 0, bad.start())
            raise UserError(f"{self.path}: line {lineno}: expected 'row column value', "
                            f"got {bad.group()[:60]!r}")
        # Parsed as float64: ids of 19 digits or more come out above 2**53, beyond the
        # header's sizes, and are refused below with the text of their line.
        triples = np.fromstring(block, dtype=np.float64, sep=" ").reshape(-1, 3)
        self._check_columns(triples, block, first_line, (
            (0, "row", 1, self.num_docs, f" (header: {self.num_docs} documents)", False),
            (1, "term id", 1, self.num_terms, f" (header: {self.num_terms} terms)", True)))
        vals = triples[:, 2]
        vals = np.where(np.isfinite(vals) & (np.abs(vals) <= MAX_COUNT), vals, -0.5)
        counts = vals.astype(np.int64)
        bad_value = (counts != vals) | (vals < 0)
        if bad_value.any():
            row = int(np.argmax(bad_value))
            lineno, line = _line_of_row(block, first_line, row)
            fields = line.split()
            raise UserError(f"{self.path}: line {lineno}: row {fields[0].decode()}: value "
                            f"{fields[2].decode()} is not a count; values must be non-negative "
                            f"integers up to {MAX_COUNT}")
        return triples[:, 0].astype(np.int64) - 1, triples[:, 1].astype(np.int64) - 1, counts

    def _nnz_error(self, nnz):
        return (f"{self.path}: header says {self.num_nnz} non-zeros but the body has "
                f"{nnz}")


@contextlib.contextmanager
def _quiet_root_logger():
    """Keep gensim's ``logging.warning`` calls off standard error while inside the block.

    ``logging.warning`` installs a stderr handler on the root logger when it has none
    (``basicConfig``); a temporary ``NullHandler`` prevents that, so a user error stays
    the only line on standard error.
    """
    root = logging.getLogger()
    handler = None
    if not root.handlers:
        handler = logging.NullHandler()
        root.addHandler(handler)
    try:
        yield
    finally:
        if handler is not None:
            root.removeHandler(handler)


def load_dictionary(path, what="dictionary file"):
    """Load a gensim :class:`~gensim.corpora.Dictionary` saved with ``save`` or ``save_as_text``.

    ``Dictionary.save`` writes a pickle, and loading a pickle can run code: load only
    dictionaries from a trusted source (``save_as_text`` files are plain text).

    Parameters
    ----------
    path : str
    what : str
        How the file is named in the messages, before its path.

    Returns
    -------
    gensim.corpora.Dictionary

    Raises
    ------
    UserError
        If neither loader can read the file, or the ids are not ``0 .. len-1``.
    """
    from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import

    with _quiet_root_logger():
        try:
            d = Dictionary.load(path)
        except Exception:  # not a pickle: try the text format
            try:
                d = Dictionary.load_from_text(path)
            except Exception as e:
                raise UserError(f"{what} {path}: not a gensim Dictionary saved with save() "
                                f"or save_as_text() ({' '.join(str(e).split())})") from None
    if not isinstance(d, Dictionary):
        raise UserError(f"{what} {path}: holds a {type(d).__name__}, not a gensim "
                        "Dictionary")
    ids = list(d.token2id.values())
    if not all(isinstance(i, (int, np.integer)) for i in ids) or sorted(ids) != list(range(len(d))):
        raise UserError(f"{what} {path}: word ids are not 0..{len(d) - 1}; "
                        "call compactify() before saving it")
    return d
