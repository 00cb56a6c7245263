"""Training checkpoints: everything needed to continue a run, written atomically by rank 0.

A checkpoint is one HDF5 file ``DIR/checkpoint-ITERATION.h5`` (ITERATION zero-padded to 9
digits) holding the state after an iteration:

* ``z`` (N,), the topic of every token of the corpus, in corpus order with each document's
  tokens sorted by word id (the order the samplers use; it does not depend on the number of
  ranks), uint16 when K <= 65536 else int32;
* ``n_dk`` int32 (D, K), ``n_wk`` int32 (V, K), ``n_k`` int64 (K,): the count tables, which
  are functions of ``z`` and are checked against it on loading (the file stores the
  word-topic counts as the samplers hold them, words by topics; :class:`Checkpoint` shows
  them as ``n_kw`` (K, V), the orientation of :class:`esca.TopicModel`);
* ``alpha`` float64 (K,) and the ``beta`` attribute: the current priors (optimized or not);
* ``log/<field>``: the training log of iterations 1..ITERATION;
* attributes: ``format = "esca-checkpoint"``, ``format_version`` (2; version 1, without the
  three attributes that follow ``state_sha256``, is still read), ``iteration``, ``config``
  (:meth:`esca.TrainConfig.to_json`), ``corpus`` (the absolute path of the corpus file, or
  ``builtin:NAME``, or ``<in-memory corpus>``), ``corpus_relpath`` (the corpus file's path
  relative to the checkpoint folder; absent for builtin and in-memory corpora),
  ``corpus_sha256`` (:func:`corpus_checksum`), ``D``, ``V``, ``N``, ``ranks``,
  ``esca_version``, ``state_sha256`` (the SHA-256 of ``z``, ``n_dk``, ``n_wk``, ``n_k``,
  ``alpha`` and ``beta``), ``run_identity`` (:func:`run_identity`: which run the checkpoint
  belongs to) and ``meta_sha256`` (:func:`metadata_checksum`, the SHA-256 of every other
  attribute and of the training log). :func:`load_checkpoint` verifies both checksums: a
  checkpoint whose state or metadata (configuration, iteration, corpus, identity, log) was
  edited after it was written is damaged.

**Run identity.** Every run has an identity, the SHA-256 of its configuration without the
settings a resumed run may change (``iterations``, ``threads``, ``eval_every``; and
``optimize_burn_in`` when the priors are not optimized, since it then has no effect), which
includes the seed, and of its corpus checksum. A fresh run (no resume) refuses a checkpoint
folder that already holds checkpoints (:func:`check_fresh_folder`): of another run, which it
would overwrite and prune, or of this same run, which ``resume`` continues. A resumed run
continues the identity of the newest valid checkpoint; checkpoints of other identities in the
folder are skipped with a warning and never pruned or overwritten. Checkpoints written before
identities were stored (format version 1) get theirs computed from their configuration and
corpus checksum.

**Corpus location.** ``esca train --resume DIR`` without a corpus reads the checkpoint's
corpus: the stored absolute path, else ``corpus_relpath`` relative to the checkpoint folder
(a project folder moved or mounted elsewhere), else, for a version-1 checkpoint that stored
the path as typed, that path relative to the current folder and to the checkpoint folder and
its parent; a candidate is used only if its checksum is the stored one
(:func:`locate_corpus`).

Files are written with :func:`esca._io.atomic_h5` (built in memory, then temporary file, fsync,
rename, fsync of the folder), so a crash at any instant leaves the previous checkpoints intact;
an interrupted write leaves at most a hidden ``.checkpoint-*.tmp`` file, which is ignored and
removed by the next successful write. A full disk raises :class:`esca.errors.WriteError`
(never a crash of HDF5) before older checkpoints are pruned. No pickle: loading a checkpoint
never executes code.

Because every random number is keyed by (seed, iteration, global token index) and ``z``
determines every count table, continuing from a checkpoint repeats exactly the iterations an
uninterrupted run would have made, at any number of ranks (ESCA; the AD-LDA form of the
collapsed Gibbs baseline depends on the number of ranks by design).
"""

import dataclasses
import glob
import hashlib
import json
import logging
import os
import re

import numpy as np

from ._h5 import as_int, check_format, damaged, open_file, peek_attrs, read_attrs
from ._io import atomic_h5, check_output_dir
from ._version import __version__
from .config import ADDED_FIELDS, TrainConfig
from .corpus import BUILTIN_PREFIX, Corpus, open_corpus, read_corpus
from .errors import ResumeError, UserError

log = logging.getLogger("esca")

FORMAT = "esca-checkpoint"
FORMAT_VERSION = 2
#: Format versions :func:`load_checkpoint` reads (1: before run identities and ``meta_sha256``).
READABLE_VERSIONS = (1, 2)
#: Settings that may differ between a checkpoint and its resumed run (they do not change the
#: result): the total iterations, the threads and how often the log-likelihood is logged.
FREE_SETTINGS = ("iterations", "threads", "eval_every")
#: What checkpoints and models store as the corpus of a run on an in-memory corpus.
IN_MEMORY_CORPUS = "<in-memory corpus>"
_NAME = re.compile(r"^checkpoint-(\d{9})\.h5$")


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


def last_checkpoint(directory):
    """The newest checkpoint file in ``directory`` (by its name, not loaded), for a message.

    Parameters
    ----------
    directory : str or None
        A checkpoint folder (it need not exist).

    Returns
    -------
    tuple of (int, str) or None
        (iteration, path); None if ``directory`` is not a folder or holds no checkpoint.
    """
    found = list_checkpoints(directory) if directory and os.path.isdir(directory) else []
    return found[0] if found else None


def corpus_name(source):
    """How checkpoints, models and messages name a training corpus: its path as given,
    ``builtin:NAME``, or :data:`IN_MEMORY_CORPUS` for an :class:`esca.Corpus`."""
    return IN_MEMORY_CORPUS if isinstance(source, Corpus) else str(source)


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
    if path.startswith(BUILTIN_PREFIX):
        return corpus_checksum(read_corpus(path))
    with open_corpus(path) as (f, doc_ptr, n_total, vocab):
        h = hashlib.sha256()
        h.update(f"D={len(doc_ptr) - 1} V={len(vocab)} N={n_total}\n".encode())
        h.update(np.ascontiguousarray(doc_ptr, dtype="<i8").tobytes())
        ds = f["word_ids"]
        for a in range(0, n_total, chunk_tokens):
            h.update(np.ascontiguousarray(ds[a:a + chunk_tokens], dtype="<i4").tobytes())
    h.update("\n".join(vocab).encode("utf-8"))
    return h.hexdigest()


def state_checksum(z, n_dk, n_wk, n_k, alpha, beta):
    """SHA-256 (hex) of a checkpoint's state arrays and beta (stored as ``state_sha256``)."""
    h = hashlib.sha256()
    for a, dtype in ((z, "<i4"), (n_dk, "<i4"), (n_wk, "<i4"), (n_k, "<i8"), (alpha, "<f8")):
        h.update(np.ascontiguousarray(a, dtype=dtype).tobytes())
    h.update(np.float64(beta).tobytes())
    return h.hexdigest()


#: Settings added after run identities were first written, with the value that computes what
#: runs from before the setting did: at that value the setting is left out of the identity, so
#: older checkpoints keep theirs (esca.config.ADDED_FIELDS, where a new such field is added).
ADDED_SETTINGS = ADDED_FIELDS


def run_identity(config, corpus_sha256):
    """The identity of a training run: which checkpoints belong to it.

    Parameters
    ----------
    config : esca.TrainConfig
    corpus_sha256 : str or None
        :func:`corpus_checksum` of the training corpus.

    Returns
    -------
    str
        64 hex digits: the SHA-256 of the configuration without :data:`FREE_SETTINGS` (and
        without ``optimize_burn_in`` when ``optimize_interval`` is 0, and without the
        :data:`ADDED_SETTINGS` at their old value, so that checkpoints written before those
        fields existed keep their identity), seed included, and of ``corpus_sha256``. Two runs
        with the same identity compute the same iterations.
    """
    c = dataclasses.asdict(config)
    for k in FREE_SETTINGS:
        c.pop(k, None)
    if not c.get("optimize_interval"):
        c.pop("optimize_burn_in", None)
    for k, old in ADDED_SETTINGS.items():
        if c.get(k) == old:
            c.pop(k)
    text = json.dumps({"config": c, "corpus_sha256": corpus_sha256}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def metadata_checksum(attrs, log_records):
    """SHA-256 (hex) of a checkpoint's attributes (all but ``meta_sha256``) and its log.

    Parameters
    ----------
    attrs : dict
        The file's attributes as read back (:func:`esca._h5.read_attrs`).
    log_records : dict of str to array_like
        The ``log/<field>`` datasets.

    Returns
    -------
    str
        64 hex digits, stored as ``meta_sha256`` and verified by :func:`load_checkpoint`.
    """
    h = hashlib.sha256()
    for k in sorted(attrs):
        if k != "meta_sha256":
            h.update(json.dumps([k, _plain(attrs[k])], sort_keys=True).encode("utf-8") + b"\n")
    for k in sorted(log_records):
        a = np.ascontiguousarray(log_records[k])
        h.update(f"log/{k} {a.dtype.str} {a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class Checkpoint:
    """The state of a run after an iteration: a loaded checkpoint, the state that
    :func:`write_checkpoint` writes, or a model being trained further (see the module
    docstring for the fields).

    Attributes
    ----------
    path : str
        The file read (None for a state about to be written).
    iteration : int
    config : esca.TrainConfig
    corpus : str
    corpus_sha256 : str
    z : ndarray of int, shape (N,)
    n_dk : ndarray of int32, shape (D, K)
    n_kw : ndarray of int32, shape (K, V)
        The whole corpus's word-topic counts, topics by words (the file's ``n_wk``
        dataset, transposed: a view, not a copy).
    n_k : ndarray of int64, shape (K,)
    alpha : ndarray of float64, shape (K,)
    beta : float
    log : dict of str to array_like
        The training log of iterations 1..``iteration``.
    ranks : int
        The number of MPI ranks that wrote it.
    kind : str
        ``"checkpoint"``, or ``"model"`` for the state of a model being trained further
        (``esca.train(resume=model)``: ``z`` is None for ESCA models and ``vocab`` holds
        the model's words).
    vocab : list of str or None
    identity : str
        :func:`run_identity` (computed for version-1 checkpoints; None for a model).
    corpus_relpath : str or None
        The corpus file relative to the checkpoint folder (version 2).
    """

    kind = "checkpoint"
    path = None
    vocab = None
    identity = None
    corpus_relpath = None
    labels = None

    def __init__(self, **fields):
        self.__dict__.update(fields)


def write_checkpoint(directory, state, keep=3):
    """Write ``checkpoint-ITERATION.h5`` atomically and keep only the ``keep`` newest of this
    run (checkpoints of another :func:`run_identity` are left alone).

    Called on rank 0 with the gathered state.

    Parameters
    ----------
    directory : str
        The checkpoint folder (created if missing; its parent must exist).
    state : Checkpoint
        Its ``iteration``, ``config``, ``corpus`` (the corpus's path, stored as an absolute
        path and relative to ``directory``; or ``builtin:NAME`` or ``<in-memory corpus>``),
        ``corpus_sha256``, ``z`` (N,), ``n_dk`` (D, K), ``n_kw`` (K, V; stored as the
        ``n_wk`` dataset, (V, K)), ``n_k`` (K,), ``alpha`` (K,), ``beta``, ``log`` (the
        training log, field -> values) and ``ranks``.
    keep : int
        How many of this run's newest checkpoints to keep (at least 1 is kept).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    UserError
        If the folder cannot be created or written, or ``checkpoint-ITERATION.h5`` is there
        already and belongs to another run (it is kept).
    esca.errors.WriteError
        If the checkpoint cannot be written (a full disk); older checkpoints are then neither
        pruned nor touched.
    """
    check_output_dir(directory)
    os.makedirs(directory, exist_ok=True)
    path = checkpoint_path(directory, state.iteration)
    identity = run_identity(state.config, state.corpus_sha256)
    if os.path.exists(path) and identity_of(path) not in (identity, None):
        raise UserError(f"{path} belongs to another run: not overwriting it (move it away, "
                        "or write the checkpoints of this run into another folder)")
    corpus, z, n_dk, n_k = state.corpus, state.z, state.n_dk, state.n_k
    n_wk = np.ascontiguousarray(state.n_kw.T)  # the file's orientation (a view when it is)
    where = {"corpus": corpus}
    if not corpus.startswith(("builtin:", "<")):
        absolute = os.path.abspath(corpus)
        where = {"corpus": absolute,
                 "corpus_relpath": os.path.relpath(absolute, os.path.abspath(directory))}
    K = n_k.shape[0]
    z_dtype = np.uint16 if K <= 65536 else np.int32
    with atomic_h5(path) as f:
        f.attrs.update({
            "format": FORMAT, "format_version": FORMAT_VERSION, "iteration": state.iteration,
            "config": state.config.to_json(), **where, "corpus_sha256": state.corpus_sha256,
            "D": n_dk.shape[0], "V": n_wk.shape[0], "N": len(z), "ranks": state.ranks,
            "esca_version": __version__, "beta": float(state.beta),
            "state_sha256": state_checksum(z, n_dk, n_wk, n_k, state.alpha, state.beta),
            "run_identity": identity})
        f.create_dataset("z", data=z.astype(z_dtype), compression="gzip", compression_opts=1)
        f.create_dataset("n_dk", data=n_dk, compression="gzip", compression_opts=1)
        f.create_dataset("n_wk", data=n_wk, compression="gzip", compression_opts=1)
        f.create_dataset("n_k", data=n_k)
        f.create_dataset("alpha", data=state.alpha)
        g = f.create_group("log")
        for k, v in state.log.items():
            g.create_dataset(k, data=np.asarray(v))
        # the checksum of the attributes as a reader sees them
        f.attrs["meta_sha256"] = metadata_checksum(read_attrs(f),
                                                   {k: v[()] for k, v in g.items()})
    ours = [p for _, p in list_checkpoints(directory) if identity_of(p) == identity]
    for old in ours[max(1, keep):]:
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
        version, incomplete, its state does not match its ``state_sha256`` or (version 2) its
        attributes and log do not match its ``meta_sha256``.
    """
    with open_file(path, "checkpoint") as f, damaged(path, "esca checkpoint"):
        version = check_format(f, path, FORMAT, READABLE_VERSIONS, "checkpoint")
        a = read_attrs(f)
        fields = {name: f[name][()] for name in ("z", "n_dk", "n_wk", "n_k", "alpha")}
        logs = {k: v[()] for k, v in f["log"].items()}
        if version >= 2 and metadata_checksum(a, logs) != a.get("meta_sha256"):
            raise UserError(f"{path}: damaged checkpoint (its metadata, the attributes "
                            "and log, do not match their checksum: edited after it was "
                            "written?)")
        iteration, beta = as_int(a.get("iteration")), float(a["beta"])
        config = TrainConfig.from_json(a["config"])
        identity = run_identity(config, str(a["corpus_sha256"]))
        if version >= 2 and a.get("run_identity") != identity:
            raise UserError(f"{path}: damaged checkpoint (its run identity does not match "
                            "its configuration and corpus checksum)")
    if iteration is None or iteration < 0:
        raise UserError(f"{path}: damaged checkpoint (iteration {a.get('iteration')!r})")
    z = fields["z"].astype(np.int32)
    digest = state_checksum(z, fields["n_dk"], fields["n_wk"], fields["n_k"], fields["alpha"],
                            beta)
    if digest != a.get("state_sha256"):
        raise UserError(f"{path}: damaged checkpoint (its state does not match its checksum)")
    return Checkpoint(path=path, iteration=iteration, config=config, corpus=str(a["corpus"]),
                      corpus_sha256=str(a["corpus_sha256"]), z=z, n_dk=fields["n_dk"],
                      n_kw=fields["n_wk"].T, n_k=fields["n_k"], alpha=fields["alpha"], beta=beta,
                      log=logs, ranks=int(a.get("ranks", 1)), identity=identity,
                      corpus_relpath=a.get("corpus_relpath"), format_version=version)


def identity_of(path):
    """The :func:`run_identity` of a checkpoint file, read from its attributes only (computed
    for a version-1 file); None if the file or its attributes cannot be read.

    A cheap look at a file: it does not verify the checksums (:func:`load_checkpoint` does).
    """
    a = peek_attrs(path)
    if a is None or a.get("format") != FORMAT:
        return None
    if isinstance(a.get("run_identity"), str):
        return a["run_identity"]
    try:
        return run_identity(TrainConfig.from_json(a["config"]), str(a["corpus_sha256"]))
    except (UserError, KeyError, ValueError, TypeError):
        return None


def _describe(path):
    """``checkpoint-ITERATION.h5 (esca K=12 seed 4, corpus NAME)`` from a file's attributes."""
    name = os.path.basename(path)
    try:
        a = peek_attrs(path)
        c = TrainConfig.from_json(a["config"])
        return (f"{name} ({c.sampler} K={c.num_topics} seed {c.seed}, corpus "
                f"{os.path.basename(str(a.get('corpus')))})")
    except (OSError, UserError, KeyError, ValueError, TypeError):
        return name


def check_fresh_folder(directory, identity):
    """Refuse to start a new run whose checkpoints would go into ``directory`` when it holds
    checkpoint files already.

    A new run writes ``checkpoint-ITERATION.h5`` files from iteration 1 on and prunes all but
    the newest few, so it would overwrite and delete the checkpoints there: of another run
    (continued by ``resume``, or to be kept), or of this same run (``resume`` continues it
    instead of starting it over). Nothing is written when refused.

    Parameters
    ----------
    directory : str
        The checkpoint folder of the new run (it need not exist).
    identity : str
        :func:`run_identity` of the new run.

    Raises
    ------
    esca.errors.ResumeError
        Naming the folder, whose run its checkpoints belong to and what to do (continue
        with ``resume=``, or use another ``checkpoints.directory``); reason ``OTHER_RUN``,
        ``UNREADABLE`` or ``SAME_RUN``.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return
    found = list_checkpoints(directory)
    if not found:
        return
    ids = [(it, p, identity_of(p)) for it, p in found]
    others = [(it, p) for it, p, i in ids if i not in (identity, None)]
    unreadable = [(it, p) for it, p, i in ids if i is None]
    if others:
        it, p = others[0]
        raise ResumeError(reason=ResumeError.OTHER_RUN, directory=directory,
                          checkpoint=_describe(p), iteration=it)
    if unreadable:
        raise ResumeError(reason=ResumeError.UNREADABLE, directory=directory,
                          files=[os.path.basename(p) for _, p in unreadable])
    raise ResumeError(reason=ResumeError.SAME_RUN, directory=directory, iteration=found[0][0])


def check_resume_folder(directory, identity, first, last):
    """Refuse to continue a run into ``directory`` when it would overwrite a checkpoint of
    another run (one numbered ``first`` .. ``last``); the others are kept.

    Parameters
    ----------
    directory : str
        The checkpoint folder of the continued run (it need not exist).
    identity : str
        :func:`run_identity` of the continued run.
    first, last : int
        The iterations the run will make.

    Raises
    ------
    esca.errors.ResumeError
        Reason ``WOULD_OVERWRITE``, naming the folder and the checkpoint of the other run.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return
    others = [(it, p) for it, p in list_checkpoints(directory) if identity_of(p) != identity]
    clash = [(it, p) for it, p in others if first <= it <= last]
    if clash:
        it, p = clash[-1]
        raise ResumeError(reason=ResumeError.WOULD_OVERWRITE, directory=directory,
                          checkpoint=_describe(p), iteration=last)


def load_latest(directory):
    """The newest checkpoint in ``directory`` that loads and verifies.

    Damaged or unreadable checkpoints are skipped, each with a warning naming the file and
    the reason. Checkpoints of another run (another :func:`run_identity` than the one
    returned) are skipped with a warning naming them (and kept).

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
    for i, (_, path) in enumerate(found):
        try:
            ckpt = load_checkpoint(path)
        except UserError as e:
            log.warning("skipping checkpoint %s", e)
            continue
        others = [p for _, p in found[i + 1:] if identity_of(p) not in (ckpt.identity, None)]
        if others:
            log.warning("skipping %d checkpoint(s) of another run in %s (kept): %s; resuming "
                        "the run of the newest valid checkpoint, %s", len(others), directory,
                        ", ".join(_describe(p) for p in others), os.path.basename(path))
        return ckpt
    if found:
        raise UserError(f"no valid checkpoint in {directory} ({len(found)} damaged)")
    raise UserError(f"no checkpoint in {directory}")


def locate_corpus(ckpt, checksum=None):
    """The corpus file to continue checkpoint ``ckpt`` on when none is given.

    Candidates, in order: the stored path (absolute since format version 2; a version-1
    checkpoint stored it as typed, relative to the folder of that run); ``corpus_relpath``
    relative to the checkpoint folder; a relative stored path relative to the checkpoint
    folder and to its parent. Builtin corpora are returned as they are. When several
    candidates exist, the first whose checksum is the checkpoint's ``corpus_sha256`` is taken
    (one existing candidate is returned unchecked: training checks it).

    Parameters
    ----------
    ckpt : Checkpoint
    checksum : callable, optional
        path -> SHA-256 (default :func:`corpus_file_checksum`).

    Returns
    -------
    str

    Raises
    ------
    UserError
        If no candidate exists, or none of several has the checksum: names the corpus needed
        (path, D, V, N, SHA-256) and the places looked in.
    """
    stored = ckpt.corpus
    if stored.startswith("builtin:"):
        return stored
    folder = os.path.dirname(os.path.abspath(ckpt.path))
    names = [stored]
    if ckpt.corpus_relpath:
        names.append(os.path.join(folder, ckpt.corpus_relpath))
    if not os.path.isabs(stored):
        names += [os.path.join(folder, stored), os.path.join(os.path.dirname(folder), stored)]
    looked, found, seen = [], [], set()
    for name in names:
        key = os.path.abspath(name)
        if key in seen:
            continue
        seen.add(key)
        looked.append(name)
        if os.path.isfile(name):
            found.append(name)
    need = (f"the corpus of {ckpt.kind} {ckpt.path} is needed: {stored} (D={ckpt.n_dk.shape[0]} "
            f"V={ckpt.n_kw.shape[1]} N={int(ckpt.n_k.sum())}, sha256 "
            f"{(ckpt.corpus_sha256 or '?')[:16]}...)")
    if not found:
        raise UserError(f"{need}, not found (looked in {', '.join(looked)}): give its path as "
                        "the CORPUS argument")
    if len(found) == 1 or ckpt.corpus_sha256 is None:
        return found[0]
    checksum = checksum or corpus_file_checksum
    for name in found:
        if checksum(name) == ckpt.corpus_sha256:
            return name
    raise UserError(f"{need}; none of {', '.join(found)} has its checksum: give its path as "
                    "the CORPUS argument")


def summary(ckpt):
    """One line describing a checkpoint, for logs."""
    c = ckpt.config
    return (f"{ckpt.path}: iteration {ckpt.iteration}, {c.sampler} K={c.num_topics}, "
            f"corpus {ckpt.corpus} (sha256 {ckpt.corpus_sha256[:12]}...), "
            f"written by {ckpt.ranks} rank(s); config {json.loads(c.to_json())}")
