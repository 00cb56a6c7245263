"""One checked reader of esca's HDF5 files: corpus.h5, model.h5 and checkpoint-*.h5.

h5py reports a damaged or foreign file with :class:`OSError`, :class:`KeyError`,
:class:`ValueError` and more, whose messages span lines and name HDF5 internals. Every
reader of an esca file goes through the functions here, which turn them into one-line
:class:`~esca.errors.UserError` messages that name the file:

* :func:`open_file` opens a file read-only: ``{what} file not found: PATH``, ``{what} path
  is a folder, not a file: PATH``, :func:`not_hdf5_error` (a text file says which ``esca
  prepare`` command converts it), ``not a readable HDF5 file: PATH (...)`` (a truncated file);
* :func:`check_format` checks the ``format`` and ``format_version`` attributes;
* :func:`damaged` turns h5py's errors inside a ``with`` block into ``corrupted {what} PATH:
  ...``;
* :func:`attr`, :func:`read_attrs` and :func:`as_int` read attributes as plain values,
  :func:`dataset` checks a dataset's kind, rank and dtype, :func:`read_vocab` decodes the
  vocabulary.
"""

import contextlib
import gzip
import os
import re
import zlib

import h5py
import numpy as np

from .errors import UserError, one_line

#: Errors h5py raises on a damaged file (and numpy on a dataset too large to hold).
H5_ERRORS = (OSError, KeyError, RuntimeError, TypeError, ValueError, MemoryError,
             AttributeError)

_MISSING = object()


def scalar(value):
    """An HDF5 attribute as a plain Python value (bytes decoded, size-1 arrays unwrapped)."""
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return value


def attr(f, name, default=None):
    """Attribute ``name`` of the open file or group ``f`` as a plain value (:func:`scalar`);
    ``default`` if it is absent or unreadable."""
    try:
        return scalar(f.attrs[name]) if name in f.attrs else default
    except H5_ERRORS:
        return default


def read_attrs(f):
    """All readable attributes of the open file or group ``f``: {name: plain value}."""
    try:
        names = list(f.attrs)
    except H5_ERRORS:
        return {}
    return {k: v for k in names if (v := attr(f, k, _MISSING)) is not _MISSING}


def peek_attrs(path):
    """The attributes of the HDF5 file ``path`` (:func:`read_attrs`), or None if it cannot be
    opened; a cheap look that raises nothing."""
    try:
        with h5py.File(path, "r") as f:
            return read_attrs(f)
    except H5_ERRORS:
        return None


def as_int(value):
    """``value`` as an int if it is an integer (int, numpy int or integral float), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def is_hdf5(path):
    """True if ``path`` starts with the HDF5 signature (``h5py.is_hdf5``); unreadable: True.

    An unreadable file is left to ``h5py.File``, whose error message says why.
    """
    try:
        return h5py.is_hdf5(path)
    except (OSError, ValueError):
        return True


def guess_input_format(path):
    """The ``esca prepare --format`` that a file which is not HDF5 looks like, or None.

    Looks at the first kilobyte (decompressed when gzip): ``%%MatrixMarket`` -> ``mm``;
    three lines of one integer each -> ``uci``; lines ``M id:count ...`` -> ``ldac``; other
    text -> ``text``; binary data (NUL bytes, invalid UTF-8) -> None.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
        if head[:2] == b"\x1f\x8b":
            head = zlib.decompressobj(31).decompress(head, 1024)
        elif path.endswith(".gz"):
            return None
    except (OSError, zlib.error, gzip.BadGzipFile):
        return None
    head = head[:1024]
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # not just a character cut at the end
            return None
        text = head[:e.start].decode("utf-8")
    lines = text.splitlines()[:-1] or text.splitlines()  # the last line may be cut
    if text.startswith("%%MatrixMarket"):
        return "mm"
    if len(lines) >= 3 and all(ln.strip().isdigit() for ln in lines[:3]):
        return "uci"
    if lines and all(re.fullmatch(r"\s*\d+(\s+\d+:\d+)*\s*", ln) for ln in lines):
        return "ldac"
    return "text"


def not_hdf5_error(path, what):
    """The :class:`UserError` for a file that is not HDF5 where an esca ``what`` is expected.

    Parameters
    ----------
    path : str
    what : {"corpus", "model", "checkpoint"}
        For a corpus the message says which ``esca prepare`` command converts the file (see
        :func:`guess_input_format`); for a model, that ``esca train`` writes models.
    """
    fmt = guess_input_format(path)
    kind = {"text": "a text file, not HDF5", "uci": "a UCI bag-of-words file, not HDF5",
            "mm": "a Matrix Market file, not HDF5", "ldac": "an LDA-C file, not HDF5",
            None: "not an HDF5 file"}[fmt]
    if what == "model":
        return UserError(f"{path} is not an esca model ({kind}); 'esca train' writes models")
    if what != "corpus":
        return UserError(f"{path} is not an esca {what} ({kind})")
    options = {"text": "text", "uci": "uci --vocab VOCAB.txt",
               "mm": "mm --dictionary CORPUS.dict", "ldac": "ldac --vocab VOCAB.txt",
               None: "text|uci|mm|ldac"}[fmt]
    return UserError(f"{path} is not an esca corpus ({kind}); convert it first: "
                     f"esca prepare {path} --format {options} --out corpus.h5")


def open_file(path, what):
    """Open the esca ``what`` file ``path`` read-only.

    Parameters
    ----------
    path : str
    what : {"corpus", "model", "checkpoint"}
        Names the file in the messages.

    Returns
    -------
    h5py.File
        Open for reading; the caller closes it (``with open_file(...) as f``).

    Raises
    ------
    UserError
        ``{what} file not found: PATH``; ``{what} path is a folder, not a file: PATH``;
        :func:`not_hdf5_error`; ``not a readable HDF5 file: PATH (h5py's reason)`` for a
        truncated or unreadable HDF5 file.
    """
    if not os.path.exists(path):
        raise UserError(f"{what} file not found: {path}")
    if os.path.isdir(path):
        raise UserError(f"{what} path is a folder, not a file: {path}")
    if not is_hdf5(path):
        raise not_hdf5_error(path, what)
    try:
        return h5py.File(path, "r")
    except H5_ERRORS as e:
        raise UserError(f"not a readable HDF5 file: {path} ({one_line(e)})") from None


def check_format(f, path, fmt, versions, what, hint=""):
    """Check the ``format`` and ``format_version`` attributes of the open file ``f``.

    Parameters
    ----------
    f : h5py.File
    path : str
    fmt : str
        The expected ``format`` (``"esca-corpus"``, ...).
    versions : tuple of int
        The format versions this esca reads.
    what : str
        ``"corpus"``, ``"model"`` or ``"checkpoint"``, for the messages.
    hint : str
        Appended to the message of a wrong ``format`` (``"; convert it with ..."``).

    Returns
    -------
    int
        The file's format version.

    Raises
    ------
    UserError
        ``PATH is not an esca {what} (no format='FMT' attribute)HINT`` or ``PATH: unknown
        {what} format version RAW (this esca reads version V)``.
    """
    if attr(f, "format") != fmt:
        raise UserError(f"{path} is not an esca {what} (no format='{fmt}' attribute){hint}")
    raw = attr(f, "format_version")
    version = as_int(raw)
    if version not in versions:
        reads = (f"version {versions[0]}" if len(versions) == 1
                 else "versions " + ", ".join(map(str, versions)))
        raise UserError(f"{path}: unknown {what} format version {raw!r} (this esca reads "
                        f"{reads})")
    return version


@contextlib.contextmanager
def damaged(path, what):
    """Turn h5py's errors (:data:`H5_ERRORS`) raised in the ``with`` body into one line.

    A :class:`UserError` raised in the body passes unchanged; any other error of
    :data:`H5_ERRORS` becomes ``UserError("corrupted {what} PATH: <its message on one
    line>")`` (``what`` as ``"HDF5 corpus"``, ``"esca model"``).
    """
    try:
        yield
    except UserError:
        raise
    except H5_ERRORS as e:
        raise UserError(f"corrupted {what} {path}: {one_line(e)}") from None


_KIND_WORDS = {"iu": "int", "iuf": "number", "string": "UTF-8 strings"}


def dataset(f, path, name, ndim, kinds, required=True):
    """The dataset ``name`` of the open file ``f``, checked to be ``ndim``-D of ``kinds``.

    Parameters
    ----------
    f : h5py.File or h5py.Group
    path : str
        Names the file in the messages.
    name : str
    ndim : int
    kinds : {"iu", "iuf", "string"}
        Integers, numbers (integers or floats), or UTF-8 strings.
    required : bool
        If False a missing dataset gives None.

    Returns
    -------
    h5py.Dataset or None
        Not read yet (``ds[()]`` or a slice reads it).

    Raises
    ------
    UserError
        ``PATH: missing dataset 'NAME'``, ``PATH: 'NAME' is a Group, not a dataset``,
        ``PATH: dataset 'NAME' must be 1-D, got shape S`` or ``PATH: dataset 'NAME' has the
        wrong dtype D (expected int)``.
    """
    if name not in f:
        if required:
            raise UserError(f"{path}: missing dataset '{name}'")
        return None
    ds = f[name]
    if not isinstance(ds, h5py.Dataset):
        raise UserError(f"{path}: '{name}' is a {type(ds).__name__}, not a dataset")
    if ds.ndim != ndim:
        raise UserError(f"{path}: dataset '{name}' must be {ndim}-D, got shape {ds.shape}")
    ok = (h5py.check_string_dtype(ds.dtype) is not None if kinds == "string"
          else ds.dtype.kind in kinds)
    if not ok:
        raise UserError(f"{path}: dataset '{name}' has the wrong dtype {ds.dtype} "
                        f"(expected {_KIND_WORDS[kinds]})")
    return ds


def read_vocab(f, path):
    """The ``vocab`` dataset of the open file ``f`` as a list of V str.

    Raises
    ------
    UserError
        ``PATH: vocabulary word I is not valid UTF-8 (...)``.
    """
    raw = f["vocab"][()]
    words = []
    for i, v in enumerate(raw):
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UserError(f"{path}: vocabulary word {i} is not valid UTF-8 "
                                f"({v[max(0, e.start - 10):e.start + 10]!r})") from None
        words.append(str(v))
    return words
