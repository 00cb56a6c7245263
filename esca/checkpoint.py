"""Training checkpoints: everything needed to continue a run, written atomically by rank 0.

A checkpoint is one HDF5 file ``DIR/checkpoint-ITERATION.h5`` (ITERATION zero-padded to 9
digits) holding the state after an iteration:

* ``z`` (N,), the topic of every token of the corpus, in corpus order with each document's
  tokens sorted by word id (the order the samplers use; it does not depend on the number of
  ranks), uint16 when K <= 65536 else int32;
* ``n_dk`` int32 (D, K), ``n_wk`` int32 (V, K), ``n_k`` int64 (K,): the count tables, which
  are functions of ``z`` and are checked against it on loading;
* ``alpha`` float64 (K,) and the ``beta`` attribute: the current priors (optimized or not);
* ``log/<field>``: the training log of iterations 1..ITERATION;
* attributes: ``format = "esca-checkpoint"``, ``format_version``, ``iteration``, ``config``
  (:meth:`esca.TrainConfig.to_json`), ``corpus`` (its name), ``corpus_sha256``
  (:func:`corpus_checksum`), ``D``, ``V``, ``N``, ``ranks``, ``esca_version`` and
  ``state_sha256``, the SHA-256 of ``z``, ``n_dk``, ``n_wk``, ``n_k``, ``alpha`` and ``beta``,
  which :func:`load_checkpoint` verifies.

Files are written with :func:`esca._io.atomic_h5` (built in memory, then temporary file, fsync,
rename, fsync of the folder), so a crash at any instant leaves the previous checkpoints intact;
an interrupted write leaves at most a hidden ``.checkpoint-*.tmp`` file, which is ignored and
removed by the next successful write. A full disk raises :class:`esca.errors.WriteError`
(never a crash of HDF5) before older checkpoints are pruned. No pickle: loading a checkpoint never executes code.

Because every random number is keyed by (seed, iteration, global token index) and ``z``
determines every count table, continuing from a checkpoint repeats exactly the iterations an
uninterrupted run would have made, at any number of ranks (ESCA; the AD-LDA form of the
collapsed Gibbs baseline depends on the number of ranks by design).
"""

import glob
import hashlib
import json
import logging
import os
import re
import signal

import h5py
import numpy as np

from ._io import atomic_h5, check_output_dir
from .config import TrainConfig
from .errors import UserError

log = logging.getLogger("esca")

FORMAT = "esca-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^checkpoint-(\d{9})\.h5$")
#: Test hook: the checkpoint of this iteration kills its own process (SIGKILL) half-written.
CRASH_ENV = "ESCA_TEST_CRASH_IN_CHECKPOINT"


def checkpoint_path(directory, iteration):
    """``DIR/checkpoint-ITERATION.h5`` with ITERATION zero-padded to 9 digits."""
    return os.path.join(directory, f"checkpoint-{iteration:09d}.h5")


def list_checkpoints(directory):
    """(iteration, path) of the checkpoint files in ``directory``, newest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(directory), "checkpoint-*.h5")):
        m = _NAME.match(os.path.basename(path))
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found, reverse=True)


def corpus_checksum(corpus):
    """SHA-256 (hex) of a corpus's D, V, N, ``doc_ptr``, ``word_ids`` and vocabulary.

    Parameters
    ----------
    corpus : esca.Corpus
        A whole corpus (all documents).

    Returns
    -------
    str
        64 hex digits; equal for two corpora exactly when their documents, word ids and
        vocabularies are equal (up to SHA-256 collisions).
    """
    h = hashlib.sha256()
    h.update(f"D={corpus.num_docs} V={corpus.num_words} N={corpus.num_tokens}\n".encode())
    h.update(np.ascontiguousarray(corpus.doc_ptr, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(corpus.word_ids, dtype="<i4").tobytes())
    h.update("\n".join(corpus.vocab).encode("utf-8"))
    return h.hexdigest()


def corpus_file_checksum(path, chunk_tokens=1 << 24):
    """:func:`corpus_checksum` of a corpus file, reading its tokens a chunk at a time.

    Equal to ``corpus_checksum(read_corpus(path))`` without holding the whole corpus in
    memory (``esca train`` stores it in every model and checkpoint).

    Parameters
    ----------
    path : str
        An esca HDF5 corpus or ``builtin:NAME``.
    chunk_tokens : int
        Tokens read at a time.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    UserError
        As :func:`esca.read_corpus`, for an unreadable or malformed file.
    """
    from .corpus import (
        _H5_ERRORS,
        BUILTIN_PREFIX,
        _one_line,
        _open_h5,
        _read_header,
        _read_vocab,
        read_corpus,
    )
    if path.startswith(BUILTIN_PREFIX):
        return corpus_checksum(read_corpus(path))
    with _open_h5(path) as f:
        try:
            doc_ptr, n_total, _ = _read_header(f, path)
            vocab = _read_vocab(f, path)
            h = hashlib.sha256()
            h.update(f"D={len(doc_ptr) - 1} V={len(vocab)} N={n_total}\n".encode())
            h.update(np.ascontiguousarray(doc_ptr, dtype="<i8").tobytes())
            ds = f["word_ids"]
            for a in range(0, n_total, chunk_tokens):
                h.update(np.ascontiguousarray(ds[a:a + chunk_tokens], dtype="<i4").tobytes())
        except _H5_ERRORS as e:
            if isinstance(e, UserError):
                raise
            raise UserError(f"corrupted HDF5 corpus {path}: {_one_line(e)}") from None
    h.update("\n".join(vocab).encode("utf-8"))
    return h.hexdigest()


def state_checksum(z, n_dk, n_wk, n_k, alpha, beta):
    """SHA-256 (hex) of a checkpoint's state arrays and beta (stored as ``state_sha256``)."""
    h = hashlib.sha256()
    for a, dtype in ((z, "<i4"), (n_dk, "<i4"), (n_wk, "<i4"), (n_k, "<i8"), (alpha, "<f8")):
        h.update(np.ascontiguousarray(a, dtype=dtype).tobytes())
    h.update(np.float64(beta).tobytes())
    return h.hexdigest()


class Checkpoint:
    """A loaded checkpoint (see the module docstring for the fields).

    Attributes
    ----------
    path : str
    iteration : int
    config : esca.TrainConfig
    corpus : str
    corpus_sha256 : str
    z : ndarray of int32, shape (N,)
    n_dk : ndarray of int32, shape (D, K)
    n_wk : ndarray of int32, shape (V, K)
    n_k : ndarray of int64, shape (K,)
    alpha : ndarray of float64, shape (K,)
    beta : float
    log : dict of str to ndarray
        The training log of iterations 1..``iteration``.
    kind : str
        ``"checkpoint"``, or ``"model"`` for the state of a model being trained further
        (``esca.train(init_model=...)``: ``z`` is None for ESCA models and ``vocab`` holds
        the model's words).
    vocab : list of str or None
    """

    kind = "checkpoint"
    vocab = None

    def __init__(self, **fields):
        self.__dict__.update(fields)


def write_checkpoint(directory, iteration, config, *, corpus, corpus_sha256, z, n_dk, n_wk,
                     n_k, alpha, beta, log_records, ranks, keep=3):
    """Write ``checkpoint-ITERATION.h5`` atomically and keep only the ``keep`` newest.

    Called on rank 0 with the gathered state (see the module docstring for the arrays).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    UserError
        If the folder cannot be created or written.
    esca.errors.WriteError
        If the checkpoint cannot be written (a full disk); older checkpoints are then neither
        pruned nor touched.
    """
    from . import __version__
    check_output_dir(directory)
    os.makedirs(directory, exist_ok=True)
    path = checkpoint_path(directory, iteration)
    K = n_k.shape[0]
    z_dtype = np.uint16 if K <= 65536 else np.int32
    with atomic_h5(path) as f:
        f.attrs.update({
            "format": FORMAT, "format_version": FORMAT_VERSION, "iteration": iteration,
            "config": config.to_json(), "corpus": corpus, "corpus_sha256": corpus_sha256,
            "D": n_dk.shape[0], "V": n_wk.shape[0], "N": len(z), "ranks": ranks,
            "esca_version": __version__, "beta": float(beta),
            "state_sha256": state_checksum(z, n_dk, n_wk, n_k, alpha, beta)})
        f.create_dataset("z", data=z.astype(z_dtype), compression="gzip", compression_opts=1)
        f.create_dataset("n_dk", data=n_dk, compression="gzip", compression_opts=1)
        if os.environ.get(CRASH_ENV) == str(iteration):  # fault-injection test hook
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        f.create_dataset("n_wk", data=n_wk, compression="gzip", compression_opts=1)
        f.create_dataset("n_k", data=n_k)
        f.create_dataset("alpha", data=alpha)
        g = f.create_group("log")
        for k, v in log_records.items():
            g.create_dataset(k, data=np.asarray(v))
    for _, old in list_checkpoints(directory)[max(1, keep):]:
        _remove(old)
    for tmp in glob.glob(os.path.join(glob.escape(directory), ".checkpoint-*.tmp")):
        _remove(tmp)  # left by a crashed write; ours was renamed already
    return path


def _remove(path):
    try:
        os.unlink(path)
    except OSError as e:  # pragma: no cover - a file removed by someone else
        log.warning("could not remove %s: %s", path, e)


def load_checkpoint(path):
    """Read and verify one checkpoint file.

    Returns
    -------
    Checkpoint

    Raises
    ------
    UserError
        If the file is missing, not HDF5, not an esca checkpoint, of an unknown format
        version, incomplete, or its state does not match its ``state_sha256``.
    """
    from .corpus import _as_int, _attrs
    try:
        with h5py.File(path, "r") as f:
            a = _attrs(f)
            if a.get("format") != FORMAT:
                raise UserError(f"{path} is not an esca checkpoint")
            if _as_int(a.get("format_version")) != FORMAT_VERSION:
                raise UserError(f"{path}: unknown checkpoint format version "
                                f"{a.get('format_version')!r} (this esca reads {FORMAT_VERSION})")
            fields = {name: f[name][()] for name in ("z", "n_dk", "n_wk", "n_k", "alpha")}
            logs = {k: v[()] for k, v in f["log"].items()}
            iteration, beta = _as_int(a.get("iteration")), float(a["beta"])
            config = TrainConfig.from_json(a["config"])
    except UserError:
        raise
    except (OSError, KeyError, ValueError, TypeError, AttributeError) as e:
        raise UserError(f"{path}: unreadable or incomplete checkpoint ({e})") from None
    z = fields["z"].astype(np.int32)
    digest = state_checksum(z, fields["n_dk"], fields["n_wk"], fields["n_k"], fields["alpha"],
                            beta)
    if digest != a.get("state_sha256"):
        raise UserError(f"{path}: damaged checkpoint (its state does not match its checksum)")
    return Checkpoint(path=path, iteration=iteration, config=config, corpus=str(a["corpus"]),
                      corpus_sha256=str(a["corpus_sha256"]), z=z, n_dk=fields["n_dk"],
                      n_wk=fields["n_wk"], n_k=fields["n_k"], alpha=fields["alpha"], beta=beta,
                      log=logs, ranks=int(a.get("ranks", 1)))


def load_latest(directory):
    """The newest checkpoint in ``directory`` that loads and verifies.

    Damaged or unreadable checkpoints are skipped, each with a warning naming the file and
    the reason.

    Returns
    -------
    Checkpoint

    Raises
    ------
    UserError
        If ``directory`` does not exist or holds no valid checkpoint.
    """
    if not os.path.isdir(directory):
        raise UserError(f"checkpoint folder not found: {directory}")
    found = list_checkpoints(directory)
    for _, path in found:
        try:
            return load_checkpoint(path)
        except UserError as e:
            log.warning("skipping checkpoint %s", e)
    if found:
        raise UserError(f"no valid checkpoint in {directory} ({len(found)} damaged)")
    raise UserError(f"no checkpoint in {directory}")


def summary(ckpt):
    """One line describing a checkpoint, for logs."""
    c = ckpt.config
    return (f"{ckpt.path}: iteration {ckpt.iteration}, {c.sampler} K={c.num_topics}, "
            f"corpus {ckpt.corpus} (sha256 {ckpt.corpus_sha256[:12]}...), "
            f"written by {ckpt.ranks} rank(s); config {json.loads(c.to_json())}")
