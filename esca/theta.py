"""The theta file: topic proportions of documents, as ``esca infer`` writes them.

HDF5 layout::

    /theta      float64 (D, K)   rows sum to 1
    /doc_index  int64   (D,)     optional: each document's doc_index in its corpus
    attrs: format="esca-theta", esca_version, and the writer's provenance (``esca infer``:
           model, corpus, sweeps, burn_in, seed, tokens, tokens_skipped, seconds,
           docs_per_s, options)

or, when the name ends in ``.csv``, a CSV table with a header line and one row per document:
``doc`` (the doc_index, else 0..D-1), ``topic_0`` .. ``topic_{K-1}``, floats with 17
significant digits (``pandas.read_csv(path, index_col="doc")`` reads it back). Both are
written atomically (:mod:`esca._io`).
"""

import os

import h5py
import numpy as np

from ._io import atomic_h5, atomic_output
from ._version import __version__
from .errors import UserError

__all__ = ["FORMAT", "read_theta", "write_theta"]

FORMAT = "esca-theta"


def write_theta(path, theta, doc_index=None, attrs=None):
    """Write theta to ``path``: HDF5, or CSV when the name ends in ``.csv`` (atomically).

    Parameters
    ----------
    path : str or os.PathLike
    theta : ndarray of float64, shape (D, K)
        Topic proportions, rows summing to 1.
    doc_index : ndarray of int64, shape (D,), optional
        Each document's doc_index in its corpus (CSV: the ``doc`` column, else 0..D-1).
    attrs : dict, optional
        Provenance stored as HDF5 attributes (not in a CSV file); ``format`` and
        ``esca_version`` are set here.

    Raises
    ------
    esca.errors.WriteError
        If the file cannot be written (no such folder, no space left).
    """
    path = os.fspath(path)
    theta = np.asarray(theta, dtype=np.float64)
    if path.lower().endswith(".csv"):
        _write_csv(path, theta, doc_index)
        return
    with atomic_h5(path) as f:
        f.create_dataset("theta", data=theta)
        if doc_index is not None:
            f.create_dataset("doc_index", data=np.asarray(doc_index, dtype=np.int64))
        f.attrs.update({**(attrs or {}), "format": FORMAT, "esca_version": __version__})


def read_theta(path):
    """Read a theta file written by :func:`write_theta` (HDF5 or CSV).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    theta : ndarray of float64, shape (D, K)
    doc_index : ndarray of int64, shape (D,), or None
        None for an HDF5 file without one; a CSV file's ``doc`` column.
    attrs : dict
        The HDF5 attributes (empty for CSV).

    Raises
    ------
    UserError
        A missing file, a file that is not HDF5 or CSV of this layout, or an HDF5 file
        without ``format="esca-theta"``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"theta file not found: {path}")
    if path.lower().endswith(".csv"):
        return _read_csv(path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT or "theta" not in f:
                raise UserError(f"{path} is not an esca theta file (no format='{FORMAT}' "
                                "attribute)")
            theta = f["theta"][()]
            doc_index = f["doc_index"][()] if "doc_index" in f else None
            attrs = dict(f.attrs)
    except OSError as e:
        raise UserError(f"not a readable HDF5 file: {path} ({e})") from None
    return np.asarray(theta, dtype=np.float64), doc_index, attrs


def _write_csv(path, theta, doc_index):
    """theta as CSV (atomically): columns doc, topic_0 .. topic_{K-1}, one row per document."""
    import pandas as pd  # noqa: PLC0415 - pandas is slow to import
    doc = np.arange(theta.shape[0]) if doc_index is None else doc_index
    frame = pd.DataFrame(theta, columns=[f"topic_{k}" for k in range(theta.shape[1])],
                         index=pd.Index(doc, name="doc"))
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, float_format="%.17g")


def _read_csv(path):
    import pandas as pd  # noqa: PLC0415 - pandas is slow to import
    try:
        frame = pd.read_csv(path, index_col="doc")
    except (ValueError, pd.errors.ParserError) as e:
        raise UserError(f"{path} is not an esca theta CSV file (doc, topic_0, ...): "
                        f"{str(e).splitlines()[0]}") from None
    if not all(c == f"topic_{k}" for k, c in enumerate(frame.columns)):
        raise UserError(f"{path} is not an esca theta CSV file: its columns are not doc, "
                        "topic_0, topic_1, ...")
    return (frame.to_numpy(dtype=np.float64), frame.index.to_numpy(dtype=np.int64), {})
