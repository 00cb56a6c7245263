"""The training job: shard the corpus over MPI ranks, sweep, exchange counts, gather the model."""

import contextlib
import dataclasses
import json
import logging
import math
import os
import resource
import signal
import time

import numpy as np

from . import distributed
from ._checks import check_int
from .checkpoint import FREE_SETTINGS as _FREE_ON_RESUME
from .config import TrainConfig
from .corpus import Corpus, read_corpus, read_doc_index, read_doc_ptr, slice_corpus
from .errors import Interrupted, UserError, WriteError
from .model import LOG_FIELDS, TopicModel
from .progress import TrainProgress

log = logging.getLogger("esca")

DEFAULT_CORPUS = "builtin:wiki250"


def train(corpus=None, num_topics=100, iterations=1000, alpha=None, beta=0.01, seed=0,
          sampler="esca", threads=None, eval_every=10, kernel="auto", optimize_interval=0,
          optimize_burn_in=None, *, config=None, comm=None, callback=None, checkpoint_every=0,
          checkpoint_dir=None, keep_checkpoints=3, resume=None, resume_settings=None,
          handle_signals=False, progress=None, init_model=None, save_on_interrupt=None):
    """Train an LDA model; under ``mpiexec`` every rank calls this with the same arguments.

    Parameters
    ----------
    corpus : str, os.PathLike or esca.Corpus, optional
        An esca HDF5 corpus (see ``esca prepare``), ``"builtin:wiki250"``
        (the default: 250 Wikipedia articles shipped with gensim) or an
        in-memory :class:`esca.Corpus`.
    num_topics, iterations, alpha, beta, seed, sampler, threads, eval_every, kernel,
    optimize_interval, optimize_burn_in
        See :class:`esca.TrainConfig` (alpha is per topic; default 5/K).
    config : esca.TrainConfig, optional
        Use this instead of the separate arguments.
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD`` (one rank without ``mpiexec``). Each rank
        reads only its contiguous shard of documents, balanced by tokens.
    callback : callable, optional
        Called on every rank after each iteration as ``callback(record)``
        with a dict of the log fields, plus ``"n_wk"`` (int32, (V, K)) and
        ``"n_k"`` (int64, (K,)): the whole corpus's counts after the
        iteration, read-only views that the next iteration overwrites, and
        ``"alpha"`` (float64, (K,)), the current alpha (a read-only view;
        it changes with ``optimize_interval``).
    progress : bool or esca.progress.TrainProgress, optional
        How rank 0 reports the run. True: the tqdm bar of ``esca train`` on
        standard error (``TrainProgress(log_every=0, bar=True)``); False:
        nothing. None (default): ``TrainProgress()``, one INFO line per
        iteration on the ``esca.progress`` logger, seen only when logging is
        configured, no bar. Or an object with the methods of
        :class:`~esca.progress.TrainProgress`: ``start(first, total,
        compiling=...)`` before the first iteration (``compiling``: whether
        it compiles the Numba kernels), ``update(record)`` (the log fields)
        after each one, ``close()`` at the end or on an error (see
        :mod:`esca.progress`).
    checkpoint_every : int
        Write a checkpoint (:mod:`esca.checkpoint`) into ``checkpoint_dir``
        after every this many iterations; 0 (default): never.
    checkpoint_dir : str, optional
        Folder of the checkpoints (created if missing; its parent must exist).
    keep_checkpoints : int
        Keep only this many newest checkpoints (>= 1; default 3).
    resume : str, optional
        A checkpoint folder: continue from its newest valid checkpoint
        (damaged ones are skipped with a warning) up to ``iterations`` in
        total. The configuration comes from the checkpoint; ``iterations``,
        ``threads`` and ``eval_every`` may be given, and a ``config`` that
        differs from the checkpoint's in anything else is refused. The
        corpus defaults to the checkpoint's and must have its checksum. The
        result is bit-identical to an uninterrupted run, at any number of
        ranks (ESCA).
    resume_settings : dict, optional
        With ``resume`` or ``init_model``: settings the user gave explicitly
        (TrainConfig field name -> value); any that differs from the
        checkpoint's or model's is refused.
    init_model : esca.TopicModel, str or os.PathLike, optional
        Continue training this model (or the model file at this path, which
        every rank reads) up to ``iterations`` in total, which must be more
        than the model's own (as with ``resume``; LightGBM's and XGBoost's
        name for it). Under MPI a TopicModel given on rank 0 only is sent to
        the others. Configuration, seed and priors come from the model, as
        with ``resume``. The corpus defaults to the model's, and must have
        its D, V, N, vocabulary, document lengths and word counts, and its
        SHA-256 when the model stores one (models from this version on do).
        An ESCA sweep reads only the previous iteration's counts, which the
        model holds, so the result equals one run of ``iterations``, bit for
        bit, at any number of ranks. A collapsed Gibbs sweep also needs every
        token's topic ``z``, which models store since this version; an older
        cgs model is refused.
    save_on_interrupt : str or os.PathLike, optional
        With ``handle_signals``: on SIGTERM or SIGINT, write the model of the
        last finished iteration here (rank 0, atomically) before raising
        :class:`esca.errors.Interrupted`; ``init_model`` continues it.
    handle_signals : bool
        On SIGTERM or SIGINT, finish the current iteration, write a
        checkpoint (when ``checkpoint_dir`` is set) and the model (to
        ``save_on_interrupt``) and raise :class:`esca.errors.Interrupted` on
        every rank (the CLI sets this); its ``model`` attribute holds the
        model of the last finished iteration on rank 0 (None elsewhere, and
        None without ``save_on_interrupt``).

    Returns
    -------
    TopicModel or None
        The model on rank 0 (``n_dk`` gathered in corpus order); None on
        the other ranks.

    Raises
    ------
    UserError
        On a bad configuration value, an unreadable or invalid corpus, a
        corpus with no tokens, count tables that would not fit in memory, no
        valid checkpoint to resume from, ranks that opened different corpora
        (:func:`esca.distributed.same_on_all_ranks`), a corpus that is not the
        checkpoint's or model's, settings that conflict with the checkpoint's
        or model's, a model that cannot be continued (no ``n_dk``, or a cgs
        model without ``z``), ``iterations`` not above the model's, or both
        ``resume`` and ``init_model``.
    Interrupted
        With ``handle_signals``, after SIGTERM or SIGINT.
    """
    comm = distributed.get_comm(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    ckpt = None
    if resume is not None and init_model is not None:
        raise UserError("resume (a checkpoint folder) and init_model (a model) cannot be "
                        "combined: continue from one of them")
    if resume is not None or init_model is not None:
        if resume is not None:
            ckpt = distributed.agree(comm, _load_resume, resume, comm)
        else:
            ckpt = distributed.agree(comm, _load_init_model, init_model, comm)
        config = _resume_config(ckpt, config, iterations, threads, eval_every, resume_settings)
        if corpus is None:
            if ckpt.corpus is None:
                raise UserError(f"model {ckpt.path} was trained on an in-memory corpus: pass "
                                "that corpus to continue it")
            corpus = distributed.agree(comm, _locate_corpus, ckpt, comm)
    elif config is None:
        config = TrainConfig(num_topics=num_topics, iterations=iterations, alpha=alpha, beta=beta,
                             seed=seed, sampler=sampler, threads=threads, eval_every=eval_every,
                             kernel=kernel, optimize_interval=optimize_interval,
                             optimize_burn_in=optimize_burn_in)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, 0)
    keep_checkpoints = check_int("keep_checkpoints", keep_checkpoints, 1)
    if checkpoint_every and checkpoint_dir is None:
        raise UserError("checkpoint_every needs a checkpoint folder (checkpoint_dir)")
    nthreads, source, shard, (D, V, N) = distributed.agree(comm, _setup, config, corpus, comm)
    _same_corpus(comm, source)  # before anything is exchanged
    K = config.num_topics
    from .memory import check_memory  # before the sampler allocates its tables
    on_node = distributed.ranks_on_node(comm)
    distributed.agree(comm, check_memory, D, V, N, K,
                      ranks_on_node=on_node, ranks=size, threads=nthreads,
                      sampler=config.sampler, kernel=config.kernel)
    if rank == 0:
        _warn_oversubscribed(nthreads, on_node)
    if ckpt is not None:
        distributed.agree(comm, _check_corpus_shape, ckpt, source, shard, (D, V, N))
    corpus_sha = distributed.agree(comm, _corpus_sha, source, ckpt, comm)
    if checkpoint_dir is not None and (checkpoint_every or handle_signals):
        distributed.agree(comm, _check_checkpoint_dir, checkpoint_dir, config, corpus_sha, ckpt,
                          resume, comm)

    from . import exchange  # noqa: PLC0415 - Numba kernels load on first use
    from .samplers import SAMPLERS
    if rank == 0:
        log.info("training %s on %s: D=%d V=%d N=%d K=%d alpha=%s beta=%g seed=%d on %d rank(s) "
                 "x %d thread(s)%s", config.sampler, _name(source), D, V, N, K,
                 _fmt_alpha(config.alpha), config.beta, config.seed, size, nthreads,
                 " (the cgs sweep itself is sequential)" if config.sampler == "cgs" else "")
    s = SAMPLERS[config.sampler](shard, config, nthreads)
    t_start = time.perf_counter()
    records = {k: [] for k in LOG_FIELDS}
    first = 1
    if ckpt is None:
        s.initialize()
        exchange.sync_counts(comm, s)
    else:
        distributed.agree(comm, _restore, s, ckpt, shard, comm)
        first = ckpt.iteration + 1
        records.update(_earlier_log(ckpt.log, ckpt.iteration))
        if rank == 0:
            log.info("%s from %s at iteration %d of %d",
                     "continuing" if ckpt.kind == "model" else "resumed", ckpt.path,
                     ckpt.iteration, config.iterations)

    def checkpoint(it):
        z = distributed.gather_rows(comm, s.z.reshape(-1, 1))
        n_dk = distributed.gather_rows(comm, s.n_dk)

        def write():
            if rank != 0:
                return None
            from .checkpoint import write_checkpoint
            try:
                path = write_checkpoint(checkpoint_dir, it, config, corpus=_name(source),
                                        corpus_sha256=corpus_sha, z=z.ravel(), n_dk=n_dk,
                                        n_wk=s.n_wk, n_k=s.n_k, alpha=s.alpha, beta=s.beta,
                                        log_records=records, ranks=size,
                                        keep=keep_checkpoints)
            except WriteError as e:  # a full disk: stop every rank; older checkpoints stay
                raise WriteError(f"{e}; {last_checkpoint_note(checkpoint_dir, config.iterations)}"
                                 ) from e
            log.info("checkpoint %s", path)
            return path
        return distributed.agree(comm, write)

    report = None
    if rank == 0:
        first_opt = config.first_optimization()
        if first_opt is not None and first_opt > config.iterations:
            log.warning("the priors are never optimized: the first optimization (a multiple of "
                        "optimize_interval=%d after optimize_burn_in=%d) would follow iteration "
                        "%d, but training stops at %d; lower the burn-in (--optimize-burn-in) or "
                        "run more iterations", config.optimize_interval, config.optimize_burn_in,
                        first_opt, config.iterations)
    if rank == 0 and progress is not False:
        report = progress
        if progress is None or progress is True:
            report = TrainProgress() if progress is None else TrainProgress(log_every=0, bar=True)
        report.start(first, config.iterations, compiling=_compiling(s))
    stop = _SignalFlag() if handle_signals else contextlib.nullcontext()
    with stop, contextlib.ExitStack() as closing:
        if report is not None:
            closing.callback(report.close)
        for it in range(first, config.iterations + 1):
            _iteration(it, s, config, comm, N, records, callback, report)
            written = checkpoint_every and it % checkpoint_every == 0
            if written:
                checkpoint(it)
            if handle_signals and it < config.iterations and stop.agreed(comm):
                where, model = "", None
                if checkpoint_dir is not None:
                    if not written:
                        checkpoint(it)
                    where = f"; resume with --resume {checkpoint_dir}"
                if save_on_interrupt is not None:
                    model = _interrupted_model(s, shard, config, comm, size, source, nthreads,
                                               records, time.perf_counter() - t_start,
                                               (D, V, N), corpus_sha, it, save_on_interrupt,
                                               stop.name, labels=getattr(ckpt, "labels", None))
                    where += (f"; model of iteration {it} written to {save_on_interrupt}; "
                              f"continue with: esca train --continue {save_on_interrupt} "
                              f"-n {config.iterations}")
                e = Interrupted(f"{stop.name} received: stopped after iteration {it} of "
                                f"{config.iterations}{where}")
                e.model = model
                raise e
    wall = time.perf_counter() - t_start
    return _finish(s, shard, config, comm, rank, size, source, nthreads, records, wall, D, V, N,
                   corpus_sha, labels=getattr(ckpt, "labels", None))


def _earlier_log(old, n):
    """The log records of iterations 1..``n`` from an earlier log ``old`` (model or checkpoint).

    ``iteration`` becomes 1..n; every other field's values go to the iterations that
    ``old["iteration"]`` names (or 1, 2, ... without it) and are NaN where ``old`` has none
    (a field that older esca versions did not log, or a log cut short).
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
            for p, x in zip(pos, v[:len(pos)]):
                col[p] = x
        out[k] = col
    return out


def _interrupted_model(s, shard, config, comm, size, source, nthreads, records, wall, DVN,
                       corpus_sha, it, path, signame, labels=None):
    """The model of iteration ``it`` (rank 0; None elsewhere), written to ``path`` by rank 0.

    Its configuration says ``it`` iterations, so that continuing it to the run's total
    repeats what the uninterrupted run would have done; its last log-likelihood is filled in.
    """
    rank = comm.Get_rank()
    if math.isnan(records["loglik_per_token"][-1]):
        records["loglik_per_token"][-1] = _loglik(s, comm) / DVN[2]
    done = dataclasses.replace(config, iterations=it)
    model = _finish(s, shard, done, comm, rank, size, source, nthreads, records, wall, *DVN,
                    corpus_sha, labels=labels)

    def write():
        if rank == 0:
            model.info["interrupted"] = {"signal": signame, "of_iterations": config.iterations}
            model.save(path)
            log.info("wrote the model of iteration %d to %s", it, path)
    try:
        distributed.agree(comm, write)
    except WriteError as e:  # a full disk: the caller of esca.train still gets the model
        err = WriteError(f"{signame} received: stopped after iteration {it} of "
                         f"{config.iterations}, but the model could not be saved: {e}")
        err.model = model
        raise err from e
    return model


def last_checkpoint_note(directory, iterations):
    """``the last checkpoint, DIR/checkpoint-....h5 (iteration I), is intact; free space and
    resume with: esca train --resume DIR -n N`` (or that there is none), for the message of a
    write that failed."""
    from .checkpoint import list_checkpoints
    found = list_checkpoints(directory) if directory and os.path.isdir(directory) else []
    if not found:
        return f"no checkpoint in {directory} yet"
    it, path = found[0]
    return (f"the last checkpoint, {path} (iteration {it}), is intact; free space and resume "
            f"with: esca train --resume {directory} -n {iterations}")


def _iteration(it, s, config, comm, N, records, callback, report):
    """One iteration: sweep and exchange, prior optimization, log record, progress report
    (``report``: rank 0's :class:`TrainProgress`, None on the other ranks), callback."""
    from . import exchange  # noqa: PLC0415 - Numba kernels load on first use
    t0 = time.perf_counter()
    s.step(it)
    exchange.after_sweep(comm, s)
    if config.optimizes_at(it):
        _optimize_priors(s, comm, comm.Get_rank())
    sec = time.perf_counter() - t0
    ll = math.nan
    if it == config.iterations or (config.eval_every and it % config.eval_every == 0):
        ll = _loglik(s, comm) / N
    rec = {"iteration": it, "seconds": sec, "tokens_per_s": N / sec if sec > 0 else math.inf,
           "loglik_per_token": ll, "sample_s": s.timings.get("sample", 0.0),
           "count_s": s.timings.get("count", 0.0),
           "allreduce_s": s.timings.get("allreduce", 0.0),
           "tables_s": s.timings.get("tables", 0.0),
           "alpha_sum": float(s.alpha.sum()), "beta": s.beta,
           "exchange_bytes": s.timings.get("exchange_bytes", 0)}
    for k in LOG_FIELDS:
        records[k].append(rec[k])
    if report is not None:
        report.update(rec)
    if callback is not None:
        rec["n_wk"], rec["n_k"] = _readonly(s.n_wk), _readonly(s.n_k)
        rec["alpha"] = _readonly(s.alpha)
        callback(rec)


def _loglik(s, comm):
    """Joint log p(w, z) of Griffiths & Steyvers (PNAS 2004, eqs. 2-3) of the whole corpus:
    the document part summed over ranks plus the word part (a collective call)."""
    return distributed.sum_over_ranks(comm, float(s.loglik_docs())) + s.loglik_words()


def _finish(s, shard, config, comm, rank, size, source, nthreads, records, wall, D, V, N,
            corpus_sha, labels=None):
    """Gather the model on rank 0 (None elsewhere); ``labels``: the continued model's."""
    from .samplers import _kernels as kern
    word_df = distributed.allreduce_sum(comm, kern.word_doc_freq(shard.doc_ptr, shard.word_ids, V))
    n_dk = distributed.gather_rows(comm, s.n_dk)
    z = None
    if s.sweep_reads_z:  # collapsed Gibbs: continuing the model needs every token's topic
        z = distributed.gather_rows(comm, s.z.reshape(-1, 1))
    rss = distributed.gather(comm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    state = distributed.gather(comm, s.state_bytes())
    tables = distributed.gather(comm, s.table_bytes())
    if rank != 0:
        return None
    info = {"corpus": _name(source), "corpus_sha256": corpus_sha, "D": D, "V": V, "N": N,
            "ranks": size, "threads": nthreads,
            "kernel": getattr(s, "kernel", None),
            "wall_seconds": wall, "peak_rss_bytes_per_rank": rss,
            "state_bytes_per_rank": state, "state_bytes_per_token": sum(state) / N,
            "table_bytes_per_rank": tables,
            "corpus_attrs": _jsonable(shard.attrs)}
    log.info("done: %d iterations in %.1f s; peak RSS per rank: %s; state %.1f bytes/token, "
             "word-topic tables %s per rank", config.iterations, wall,
             ", ".join(f"{r / 2**20:.0f} MiB" for r in rss), sum(state) / N,
             ", ".join(f"{t / 2**20:.0f} MiB" for t in tables))
    doc_index = None if isinstance(source, Corpus) else read_doc_index(source)
    return TopicModel(n_kw=s.n_wk.T.copy(), n_k=s.n_k.copy(), n_dk=n_dk, vocab=shard.vocab,
                      alpha=s.alpha.copy(), beta=s.beta, config=config,
                      log={k: np.asarray(v) for k, v in records.items()}, word_df=word_df,
                      info=info, z=None if z is None else z.ravel(), doc_index=doc_index,
                      labels=labels)


class _SignalFlag:
    """Context manager: SIGTERM and SIGINT set a flag instead of stopping the process."""

    def __init__(self):
        self.name = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread: leave it alone
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.name = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False

    def agreed(self, comm):
        """True on every rank if any rank got a signal (a collective call)."""
        self.name = next((n for n in distributed.allgather(comm, self.name) if n), None)
        return self.name is not None


def _compiling(s):
    """Whether the first sweep of sampler ``s`` compiles its Numba kernel: this process has not
    compiled it yet and Numba's cache on disk holds no version of it for this source."""
    from .samplers import _kernels as kern
    kernel = getattr(s, "kernel", None)  # ESCA's dense or sparse; the CGS sampler has none
    sweep = getattr(kern, "cgs_sweep" if kernel is None else f"esca_sweep_{kernel}")
    if sweep.signatures:
        return False
    try:  # private Numba API (numba.core.caching); any failure: assume it compiles
        return not sweep._cache._cache_file._load_index()
    except Exception:
        return True


def _warn_oversubscribed(threads, ranks_on_node):
    """Log a warning when the threads of the ranks on this node outnumber its cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    if threads * ranks_on_node > cores:
        log.warning("warning: %d thread(s) x %d rank(s) on this node = %d, more than its %d "
                    "core(s) available: slower than with fewer threads (the result is the same)",
                    threads, ranks_on_node, threads * ranks_on_node, cores)


def _load_resume(directory, comm):
    """Rank 0 picks the newest valid checkpoint; every rank then loads that file."""
    from .checkpoint import load_checkpoint, load_latest
    path = distributed.on_root(comm, lambda: load_latest(os.fspath(directory)).path)
    return load_checkpoint(path)


def _locate_corpus(ckpt, comm):
    """The corpus to continue ``ckpt`` on (rank 0 looks, see
    :func:`esca.checkpoint.locate_corpus`; a model's corpus as stored, else relative to the
    model's folder), broadcast."""
    from .checkpoint import locate_corpus
    return distributed.on_root(comm, locate_corpus, ckpt)


def _check_checkpoint_dir(directory, config, corpus_sha, ckpt, resume, comm):
    """Rank 0: refuse a checkpoint folder whose checkpoints this run would overwrite (see
    :func:`esca.checkpoint.check_fresh_folder` and
    :func:`esca.checkpoint.check_resume_folder`)."""
    from .checkpoint import check_fresh_folder, check_resume_folder, run_identity
    if comm.Get_rank() != 0:
        return
    identity = run_identity(config, corpus_sha)
    if ckpt is not None and ckpt.kind == "checkpoint":
        check_resume_folder(directory, identity, ckpt.iteration + 1, config.iterations)
    else:
        check_fresh_folder(directory, identity)



def _resume_config(ckpt, config, iterations, threads, eval_every, settings):
    """The checkpoint's configuration with the free settings replaced; refuses conflicts."""
    theirs = dataclasses.asdict(ckpt.config)
    mine = dict(settings or {})
    if config is not None:
        iterations, threads, eval_every = config.iterations, config.threads, config.eval_every
        mine.update(dataclasses.asdict(config))
    if "alpha" in mine and np.ndim(mine["alpha"]) == 0 and np.ndim(theirs["alpha"]) == 0:
        mine["alpha"] = float(mine["alpha"])
    bad = [f"{k}={mine[k]!r} ({ckpt.kind}: {theirs[k]!r})" for k in mine
           if k not in _FREE_ON_RESUME and mine[k] != theirs.get(k)]
    if bad:
        raise UserError(f"settings conflict with {ckpt.kind} {ckpt.path}: " + ", ".join(bad))
    new = dataclasses.replace(ckpt.config, iterations=iterations, threads=threads,
                              eval_every=eval_every)
    if ckpt.kind == "model" and new.iterations <= ckpt.iteration:
        raise UserError(f"iterations={new.iterations} is not more than the {ckpt.iteration} "
                        f"iterations of model {ckpt.path} (iterations is the total: give more "
                        f"than {ckpt.iteration})")
    if new.iterations < ckpt.iteration:
        raise UserError(f"iterations={new.iterations} is less than the {ckpt.iteration} "
                        f"iterations of checkpoint {ckpt.path}")
    return new


def _corpus_sha(source, ckpt, comm):
    """SHA-256 of the whole corpus (rank 0 streams it), broadcast; checks it against ``ckpt``
    (a model written before models stored it has none: :func:`_check_corpus_shape` and
    :func:`_restore` check what it does store)."""
    from .checkpoint import corpus_checksum, corpus_file_checksum
    sha = distributed.on_root(comm, corpus_checksum if isinstance(source, Corpus) else
                              corpus_file_checksum, source)
    if ckpt is not None and ckpt.corpus_sha256 is not None and sha != ckpt.corpus_sha256:
        raise UserError(f"corpus {_name(source)} (sha256 {sha[:16]}...) is not the corpus of "
                        f"{ckpt.kind} {ckpt.path} ({ckpt.corpus}, sha256 "
                        f"{ckpt.corpus_sha256[:16]}...)")
    return sha


def _check_corpus_shape(ckpt, source, shard, DVN):
    """Refuse a corpus whose D, V, N or vocabulary differ from the checkpoint's or model's."""
    theirs = (ckpt.n_dk.shape[0], ckpt.n_wk.shape[0], int(ckpt.n_k.sum()))
    if tuple(DVN) != theirs:
        raise UserError(f"corpus {_name(source)} (D={DVN[0]} V={DVN[1]} N={DVN[2]}) is not the "
                        f"corpus of {ckpt.kind} {ckpt.path} (D={theirs[0]} V={theirs[1]} "
                        f"N={theirs[2]})")
    if ckpt.vocab is not None and list(shard.vocab) != list(ckpt.vocab):
        bad = next(i for i, (a, b) in enumerate(zip(shard.vocab, ckpt.vocab)) if a != b)
        raise UserError(f"corpus {_name(source)} is not the corpus of {ckpt.kind} {ckpt.path}: "
                        f"word {bad} is {shard.vocab[bad]!r} there but {ckpt.vocab[bad]!r} in "
                        f"the {ckpt.kind}")


def _restore(s, ckpt, shard, comm):
    """Put the checkpoint's or model's state into this rank's sampler (a collective call).

    With ``z`` the count tables are rebuilt from it and checked against the stored ones.
    Without (an ESCA model: its next sweep reads only the previous counts) the stored tables
    are taken as they are, after checking them against this corpus's document lengths and
    word counts.
    """
    d0 = shard.doc_start
    n_dk = ckpt.n_dk[d0:d0 + shard.num_docs]
    if ckpt.z is None:
        s.restore_counts(n_dk, ckpt.n_wk, ckpt.n_k, ckpt.alpha, ckpt.beta)
        n_w = np.bincount(s.word_ids, minlength=s.V).astype(np.int64)
        distributed.allreduce_sum(comm, n_w)
        docs_ok = distributed.sum_over_ranks(comm, int(np.array_equal(
            n_dk.sum(axis=1, dtype=np.int64), np.diff(s.doc_ptr))))  # ranks whose documents match
        docs_ok = docs_ok == comm.Get_size()
        if not (docs_ok and np.array_equal(n_w, ckpt.n_wk.sum(axis=1, dtype=np.int64))):
            raise UserError(f"{ckpt.kind} {ckpt.path}: its counts do not match the corpus's "
                            f"{'document lengths' if not docs_ok else 'word counts'} "
                            "(not the corpus it was trained on)")
        return
    a, n = shard.token_start, len(s.z)
    s.restore(ckpt.z[a:a + n], ckpt.alpha, ckpt.beta)
    from . import exchange  # noqa: PLC0415 - Numba kernels load on first use
    exchange.sync_counts(comm, s)
    if not (np.array_equal(s.n_dk, n_dk)
            and np.array_equal(s.n_wk, ckpt.n_wk) and np.array_equal(s.n_k, ckpt.n_k)):
        raise UserError(f"{ckpt.kind} {ckpt.path}: its count tables do not match its topics "
                        "(damaged, or written for a different corpus)")


def _load_init_model(init_model, comm):
    """The state of ``init_model`` (a TopicModel or a model file) to continue, on every rank."""
    from .checkpoint import Checkpoint
    path = "<in-memory model>"
    if isinstance(init_model, (str, os.PathLike)):
        path = os.fspath(init_model)
        model = TopicModel.load(path)
    else:
        model = init_model
        have = distributed.allgather(comm, model is not None)
        if not have[0]:
            raise UserError("init_model must be given on rank 0")
        if not all(have):
            model = distributed.bcast(comm, model)
        if not isinstance(model, TopicModel):
            raise UserError(f"init_model must be an esca.TopicModel or the path of a model "
                            f"file, got {type(model).__name__}")
    c = model.config
    if model.n_dk is None:
        raise UserError(f"model {path} holds no document-topic counts (n_dk): it cannot be "
                        "trained further")
    if model.z is None and c.sampler == "cgs":
        raise UserError(f"model {path} is a cgs model without every token's topic (z), which "
                        "a collapsed Gibbs sweep needs: it was written before esca stored z; "
                        "train it again (or use --checkpoint-dir and --resume)")
    corpus = model.info.get("corpus")
    if corpus == "<in-memory corpus>":
        corpus = None
    return Checkpoint(kind="model", path=path, iteration=c.iterations, config=c,
                      corpus=corpus, corpus_sha256=model.info.get("corpus_sha256"),
                      z=model.z, n_dk=model.n_dk, n_wk=np.ascontiguousarray(model.n_kw.T),
                      n_k=model.n_k, alpha=model.alpha, beta=model.beta, log=model.log,
                      ranks=model.info.get("ranks", 1), vocab=model.vocab, labels=model.labels)


def _optimize_priors(s, comm, rank):
    """Re-estimate alpha (asymmetric) and beta (symmetric) from the current counts.

    The histograms are integers summed over ranks and n_wk is the whole corpus's, so every
    rank computes the same new priors (see :mod:`esca.hyper`).
    """
    from .hyper import doc_topic_histograms, optimize_alpha, optimize_beta
    local_max = int(max(s.n_dk.max(initial=0), np.diff(s.doc_ptr).max(initial=0)))
    max_count = distributed.max_over_ranks(comm, local_max)
    topic_hist, length_hist = doc_topic_histograms(s.n_dk, max_count)
    distributed.allreduce_sum(comm, topic_hist)
    distributed.allreduce_sum(comm, length_hist)
    s.alpha = optimize_alpha(s.alpha, topic_hist, length_hist)
    s.beta = optimize_beta(s.beta, s.n_wk, s.n_k)
    if rank == 0:
        log.info("optimized priors: sum alpha %.4g (min %.3g, max %.3g), beta %.4g",
                 s.alpha.sum(), s.alpha.min(), s.alpha.max(), s.beta)


def _setup(config, corpus, comm):
    """Validate, partition and read this rank's shard (run under :func:`distributed.agree`)."""
    rank, size = comm.Get_rank(), comm.Get_size()
    import numba
    nthreads = config.threads or min(distributed.default_threads(comm),
                                     numba.config.NUMBA_NUM_THREADS)
    _set_threads(nthreads)
    source = DEFAULT_CORPUS if corpus is None else corpus
    if isinstance(source, Corpus):
        doc_ptr, V = source.doc_ptr, source.num_words
    else:
        source = os.fspath(source)
        doc_ptr, V = read_doc_ptr(source)
    D, N = len(doc_ptr) - 1, int(doc_ptr[-1])
    if N == 0:
        raise UserError(f"corpus {_name(source)} has no tokens (D={D})")
    bounds = distributed.partition_documents(doc_ptr, size)
    a, b = int(bounds[rank]), int(bounds[rank + 1])
    if isinstance(source, Corpus):
        shard = slice_corpus(source, a, b)
    else:
        shard = read_corpus(source, (a, b))
    return nthreads, source, shard, (D, V, N)


def _same_corpus(comm, source):
    """Refuse ranks that opened different corpora (stale node-local copies, a typo in one
    rank's path): compare :func:`esca.corpus.corpus_identity` across ranks."""
    if comm.Get_size() == 1:
        return
    from .corpus import corpus_identity
    ident = distributed.agree(comm, corpus_identity, source)
    distributed.same_on_all_ranks(
        comm, ident, "corpora", label=_name(source),
        hint="every rank must read the same corpus: one path on a shared file system, or the "
             "same file copied to every node")


def _set_threads(n):
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    if n > limit:
        raise UserError(f"threads={n} is more than Numba's limit of {limit} "
                        f"(set NUMBA_NUM_THREADS={n} before starting Python)")
    numba.set_num_threads(n)


def _readonly(a):
    v = a.view()
    v.flags.writeable = False
    return v


def _name(source):
    return "<in-memory corpus>" if isinstance(source, Corpus) else str(source)


def _fmt_alpha(alpha):
    return f"{alpha:g}" if np.ndim(alpha) == 0 else "asymmetric"


def _jsonable(attrs):
    return json.loads(json.dumps(attrs, default=str))
