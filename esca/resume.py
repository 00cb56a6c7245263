"""Continuing a run: the ``resume`` argument of :func:`esca.train`, read, checked and restored.

``resume`` is a checkpoint folder (the newest valid checkpoint), a model file or an
:class:`esca.TopicModel`; either way it becomes a :class:`esca.checkpoint.Checkpoint`
(:func:`load_state`). Then the run's configuration comes from it (:func:`resume_config`),
the corpus defaults to its corpus (:func:`locate_corpus`) and must be that corpus
(:func:`check_corpus_shape`), the sampler gets its state (:func:`restore`) and the training
log its records (:func:`earlier_log`).

Every function here that takes ``comm`` is a collective call: every rank calls it, under
:func:`esca.distributed.agree` where it may refuse the input.
"""

import dataclasses
import math
import os

import numpy as np

from . import distributed
from .checkpoint import (
    FREE_SETTINGS,
    IN_MEMORY_CORPUS,
    Checkpoint,
    corpus_name,
    load_checkpoint,
    load_latest,
)
from .checkpoint import locate_corpus as _locate_on_root
from .config import TrainConfig
from .errors import ResumeError, UserError
from .model import LOG_FIELDS, TopicModel


def load_state(resume, comm):
    """The state to continue, on every rank: the ``resume`` argument of :func:`esca.train`
    told apart.

    Parameters
    ----------
    resume : str, os.PathLike or esca.TopicModel
        A folder (an existing directory): its newest valid checkpoint, which rank 0 picks and
        every rank then loads; any other path: a model file, which every rank reads; else a
        TopicModel (given on rank 0 at least: it is broadcast to the ranks without one).
    comm : mpi4py communicator

    Returns
    -------
    esca.checkpoint.Checkpoint
        ``kind`` ``"checkpoint"`` or ``"model"`` (:func:`load_model_state`).

    Raises
    ------
    UserError
        If ``resume`` is a path that does not exist, a folder without a valid checkpoint, a
        model that cannot be continued, or not a path or TopicModel.
    """
    if isinstance(resume, (str, os.PathLike)):
        path = os.fspath(resume)
        if os.path.isdir(path):
            path = distributed.on_root(comm, lambda: load_latest(path).path)
            return load_checkpoint(path)
        if not os.path.exists(path):
            raise UserError(f"resume={path}: no checkpoint folder or model file there")
    return load_model_state(resume, comm)


def load_model_state(model, comm):
    """The state of ``model`` (a TopicModel or a model file) to train further, on every rank.

    Parameters
    ----------
    model : str, os.PathLike, esca.TopicModel or None
        A model file (read by every rank), or a TopicModel on rank 0 at least (None on the
        other ranks: it is broadcast).
    comm : mpi4py communicator

    Returns
    -------
    esca.checkpoint.Checkpoint
        ``kind="model"``, ``iteration`` the model's iterations, ``z`` None for ESCA models
        (their sweeps read only the previous counts), ``vocab`` and ``labels`` the model's,
        ``corpus`` None for a model trained on an in-memory corpus.

    Raises
    ------
    UserError
        If the model is not given on rank 0, is not a TopicModel, or holds no ``n_dk``.
    esca.errors.ResumeError
        For a cgs model without ``z`` (written before esca stored it), which a collapsed
        Gibbs sweep cannot continue.
    """
    path = "<in-memory model>"
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        model = TopicModel.load(path)
    else:
        have = distributed.allgather(comm, model is not None)
        if not have[0]:
            raise UserError("resume must be given on rank 0")
        if not all(have):
            model = distributed.bcast(comm, model)
        if not isinstance(model, TopicModel):
            raise UserError(f"resume must be a checkpoint folder, a model file or an "
                            f"esca.TopicModel, got {type(model).__name__}")
    c = model.config
    if model.n_dk is None:
        raise UserError(f"model {path} holds no document-topic counts (n_dk): it cannot be "
                        "trained further")
    if model.z is None and c.sampler == "cgs":
        raise ResumeError(reason=ResumeError.MODEL_WITHOUT_Z, path=path)
    if model.z is None and c.own_topic == "exclude":
        raise UserError(f"model {path} was trained with own_topic='exclude' but holds no "
                        "per-token topics (z), which its sweeps need: it cannot be continued")
    corpus = model.info.get("corpus")
    if corpus == IN_MEMORY_CORPUS:
        corpus = None
    return Checkpoint(kind="model", path=path, iteration=c.iterations, config=c,
                      corpus=corpus, corpus_sha256=model.info.get("corpus_sha256"),
                      z=model.z, n_dk=model.n_dk, n_kw=model.n_kw,
                      n_k=model.n_k, alpha=model.alpha, beta=model.beta, log=model.log,
                      ranks=model.info.get("ranks", 1), vocab=model.vocab, labels=model.labels)


def resume_config(ckpt, config, settings):
    """The configuration of the continued run.

    Parameters
    ----------
    ckpt : esca.checkpoint.Checkpoint
        From :func:`load_state`.
    config : esca.TrainConfig or None
        The ``config`` argument of :func:`esca.train`.
    settings : dict
        Its keyword settings (TrainConfig field -> value).

    Returns
    -------
    esca.TrainConfig
        ``ckpt.config`` with the free settings (:data:`esca.checkpoint.FREE_SETTINGS`:
        iterations, threads, eval_every) of ``config`` and ``settings`` (default:
        :class:`esca.TrainConfig`'s).

    Raises
    ------
    UserError
        If any other field of ``config``, or setting given, differs from the checkpoint's;
        if ``iterations`` is below a checkpoint's iteration, or not above a model's.
    """
    theirs = dataclasses.asdict(ckpt.config)
    mine = dict(settings)
    if config is not None:
        config = dataclasses.replace(config, **settings)
        mine = dataclasses.asdict(config)
    free = {f.name: mine.get(f.name, f.default) for f in dataclasses.fields(TrainConfig)
            if f.name in FREE_SETTINGS}
    if "alpha" in mine and np.ndim(mine["alpha"]) == 0 and np.ndim(theirs["alpha"]) == 0:
        mine["alpha"] = float(mine["alpha"])
    bad = [f"{k}={mine[k]!r} ({ckpt.kind}: {theirs[k]!r})" for k in mine
           if k not in FREE_SETTINGS and mine[k] != theirs.get(k)]
    if bad:
        raise UserError(f"settings conflict with {ckpt.kind} {ckpt.path}: " + ", ".join(bad))
    new = dataclasses.replace(ckpt.config, **free)
    if ckpt.kind == "model" and new.iterations <= ckpt.iteration:
        raise UserError(f"iterations={new.iterations} is not more than the {ckpt.iteration} "
                        f"iterations of model {ckpt.path} (iterations is the total: give more "
                        f"than {ckpt.iteration})")
    if new.iterations < ckpt.iteration:
        raise UserError(f"iterations={new.iterations} is less than the {ckpt.iteration} "
                        f"iterations of checkpoint {ckpt.path}")
    return new


def locate_corpus(ckpt, comm):
    """The corpus to continue ``ckpt`` on when none is given: rank 0 looks
    (:func:`esca.checkpoint.locate_corpus`), every rank gets its answer.

    Parameters
    ----------
    ckpt : esca.checkpoint.Checkpoint
        A checkpoint, or a model loaded as one (:func:`load_model_state`).
    comm : mpi4py communicator or None
        The ranks of the run (a collective call).

    Returns
    -------
    str
        The corpus path, the same on every rank.

    Raises
    ------
    UserError
        If ``ckpt`` was trained on an in-memory corpus (it must be passed again), or its
        corpus file is not found.
    """
    if ckpt.corpus is None:
        raise UserError(f"model {ckpt.path} was trained on an in-memory corpus: pass "
                        "that corpus to continue it")
    return distributed.on_root(comm, _locate_on_root, ckpt)


def check_corpus_shape(ckpt, source, shard, DVN):
    """Refuse a corpus whose D, V, N or vocabulary differ from the checkpoint's or model's.

    Parameters
    ----------
    ckpt : esca.checkpoint.Checkpoint
    source : str or esca.Corpus
        The corpus (for the message).
    shard : esca.Corpus
        This rank's shard (its ``vocab`` is the whole corpus's).
    DVN : tuple of int
        D, V and N of the whole corpus.

    Raises
    ------
    UserError
        Naming the corpus, the checkpoint or model, and what differs.
    """
    theirs = (ckpt.n_dk.shape[0], ckpt.n_kw.shape[1], int(ckpt.n_k.sum()))
    name = corpus_name(source)
    if tuple(DVN) != theirs:
        raise UserError(f"corpus {name} (D={DVN[0]} V={DVN[1]} N={DVN[2]}) is not the "
                        f"corpus of {ckpt.kind} {ckpt.path} (D={theirs[0]} V={theirs[1]} "
                        f"N={theirs[2]})")
    if ckpt.vocab is not None and list(shard.vocab) != list(ckpt.vocab):
        # same V (checked above): some word differs
        bad = next(i for i, (a, b) in enumerate(zip(shard.vocab, ckpt.vocab, strict=True))
                   if a != b)
        raise UserError(f"corpus {name} is not the corpus of {ckpt.kind} {ckpt.path}: "
                        f"word {bad} is {shard.vocab[bad]!r} there but {ckpt.vocab[bad]!r} in "
                        f"the {ckpt.kind}")


def restore(s, ckpt, shard, comm):
    """Put the checkpoint's or model's state into this rank's sampler (a collective call).

    With ``z`` the count tables are rebuilt from it and checked against the stored ones.
    Without (an ESCA model: its next sweep reads only the previous counts) the stored tables
    are taken as they are, after checking them against this corpus's document lengths and
    word counts.

    Parameters
    ----------
    s : esca.samplers.base.ShardSampler
        This rank's sampler, not initialized.
    ckpt : esca.checkpoint.Checkpoint
    shard : esca.Corpus
        This rank's shard (``doc_start``, ``num_docs`` and ``token_start`` locate it).
    comm : mpi4py communicator

    Raises
    ------
    UserError
        If the stored counts do not match the corpus or the stored topics.
    """
    d0 = shard.doc_start
    n_dk = ckpt.n_dk[d0:d0 + shard.num_docs]
    if ckpt.z is None:
        s.restore_counts(n_dk, ckpt.n_kw.T, ckpt.n_k, ckpt.alpha, ckpt.beta)
        n_w = np.bincount(s.word_ids, minlength=s.V).astype(np.int64)
        distributed.allreduce_sum(comm, n_w)
        docs_ok = distributed.sum_over_ranks(comm, int(np.array_equal(
            n_dk.sum(axis=1, dtype=np.int64), np.diff(s.doc_ptr))))  # ranks whose documents match
        docs_ok = docs_ok == comm.Get_size()
        if not (docs_ok and np.array_equal(n_w, ckpt.n_kw.sum(axis=0, dtype=np.int64))):
            raise UserError(f"{ckpt.kind} {ckpt.path}: its counts do not match the corpus's "
                            f"{'document lengths' if not docs_ok else 'word counts'} "
                            "(not the corpus it was trained on)")
        return
    a, n = shard.token_start, len(s.z)
    s.restore(ckpt.z[a:a + n], ckpt.alpha, ckpt.beta)
    from . import exchange  # noqa: PLC0415 - Numba kernels load on first use
    exchange.sync_counts(comm, s)
    if not (np.array_equal(s.n_dk, n_dk)
            and np.array_equal(s.n_wk, ckpt.n_kw.T) and np.array_equal(s.n_k, ckpt.n_k)):
        raise UserError(f"{ckpt.kind} {ckpt.path}: its count tables do not match its topics "
                        "(damaged, or written for a different corpus)")


def earlier_log(old, n):
    """The log records of iterations 1..``n`` from an earlier log ``old`` (model or checkpoint).

    ``iteration`` becomes 1..n; every other field's values go to the iterations that
    ``old["iteration"]`` names (or 1, 2, ... without it) and are NaN where ``old`` has none
    (a field that older esca versions did not log, or a log cut short).

    Parameters
    ----------
    old : dict of str to array_like
        The checkpoint's or model's training log.
    n : int
        Its iterations.

    Returns
    -------
    dict of str to list
        Every field of :data:`esca.model.LOG_FIELDS`, n values each.
    """
    it = np.asarray(old.get("iteration", []), dtype=np.float64).ravel()
    rows = len(next((v for v in old.values() if np.ndim(v) == 1), []))
    pos = np.arange(min(rows, n))
    if len(it) == len(pos) and len(it) and np.isfinite(it).all() \
            and np.array_equal(it, np.round(it)) and it.min() >= 1 and it.max() <= n \
            and len(np.unique(it)) == len(it):
        pos = it.astype(np.int64) - 1
    out = {"iteration": list(range(1, n + 1))}
    for k in LOG_FIELDS:
        if k == "iteration":
            continue
        col = [math.nan] * n
        v = old.get(k)
        if v is not None and np.ndim(v) == 1 and np.asarray(v).dtype.kind in "iuf" \
                and len(v) >= len(pos):
            for p, x in zip(pos, v[:len(pos)], strict=True):
                col[p] = x
        out[k] = col
    return out
