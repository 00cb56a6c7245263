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
from .checkpoint import (
    Checkpoint,
    check_fresh_folder,
    check_resume_folder,
    corpus_checksum,
    corpus_file_checksum,
    corpus_name,
    last_checkpoint,
    run_identity,
    write_checkpoint,
)
from .config import CheckpointPolicy, TrainConfig
from .corpus import (
    Corpus,
    corpus_identity,
    read_corpus,
    read_doc_index,
    read_doc_ptr,
    slice_corpus,
)
from .errors import CheckpointWriteError, Interrupted, UserError, WriteError
from .memory import check_memory
from .model import LOG_FIELDS, TopicModel
from .progress import TrainProgress
from .resume import (
    check_corpus_shape,
    earlier_log,
    load_state,
    locate_corpus,
    restore,
    resume_config,
)

log = logging.getLogger("esca")

DEFAULT_CORPUS = "builtin:wiki250"


#: Keyword arguments that :func:`train` no longer takes, and where they went.
_MOVED = {"checkpoint_every": "checkpoints=esca.CheckpointPolicy(every=...)",
          "checkpoint_dir": "checkpoints=esca.CheckpointPolicy(directory=...)",
          "keep_checkpoints": "checkpoints=esca.CheckpointPolicy(keep=...)",
          "save_on_interrupt": "checkpoints=esca.CheckpointPolicy(model_on_interrupt=...)",
          "init_model": "resume=MODEL",
          "resume_settings": "the settings themselves, as keyword arguments"}
_SETTINGS = tuple(f.name for f in dataclasses.fields(TrainConfig))


def train(corpus=None, config=None, *, comm=None, checkpoints=None, resume=None, progress=None,
          callback=None, handle_signals=False, **settings):
    """Train an LDA model; under ``mpiexec`` every rank calls this with the same arguments.

    ``train(corpus, config)`` trains with a :class:`esca.TrainConfig`; as a convenience its
    fields may be given as keyword arguments instead (``train(corpus, num_topics=20,
    iterations=500)`` is ``train(corpus, TrainConfig(num_topics=20, iterations=500))``;
    with ``config`` too, they replace its fields: ``dataclasses.replace(config,
    **settings)``, so a default ``optimize_burn_in`` keeps the number ``config`` computed from
    its own ``iterations``). The defaults are :class:`esca.TrainConfig`'s.

    Parameters
    ----------
    corpus : str, os.PathLike or esca.Corpus, optional
        An esca HDF5 corpus (see ``esca prepare``), ``"builtin:wiki250"``
        (the default: 250 Wikipedia articles shipped with gensim) or an
        in-memory :class:`esca.Corpus`. With ``resume``, the default is the
        checkpoint's or model's corpus.
    config : esca.TrainConfig, optional
        The hyperparameters and settings (default ``TrainConfig()``).
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD`` (one rank without ``mpiexec``). Each rank
        reads only its contiguous shard of documents, balanced by tokens.
    checkpoints : esca.CheckpointPolicy, optional
        Where and how often to write checkpoints (:mod:`esca.checkpoint`), and
        the model file written on a signal; default ``CheckpointPolicy()``: none.
    resume : str, os.PathLike or esca.TopicModel, optional
        Continue an earlier run up to ``iterations`` in total; told apart by
        what it is:

        * a **folder** (an existing directory): a checkpoint folder. Training
          continues from its newest valid checkpoint (damaged ones are skipped
          with a warning). The result is bit-identical to an uninterrupted run,
          at any number of ranks (ESCA).
        * any **other path**: a model file written by
          :meth:`esca.TopicModel.save`, which every rank reads.
        * an :class:`esca.TopicModel`: that model (on every rank).

        Training a model further needs ``iterations`` above the model's own
        (LightGBM's and XGBoost's ``init_model``). An ESCA sweep reads only the
        previous iteration's counts, which the model holds, so the result
        equals one run of ``iterations``, bit for bit, at any number of ranks.
        A collapsed Gibbs sweep also needs every token's topic ``z``, which
        models store since esca stores it; an older cgs model is refused.

        The configuration, seed and priors come from the checkpoint or model:
        ``iterations``, ``threads`` and ``eval_every`` may be given; any other
        setting given (a keyword argument, or every field of ``config``) that
        differs from the checkpoint's or model's is refused. The corpus
        defaults to the checkpoint's or model's and must be the same corpus
        (its SHA-256, or for models from older versions its D, V, N,
        vocabulary, document lengths and word counts).
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
    callback : callable, optional
        Called on every rank after each iteration as ``callback(record)``
        with a dict of the log fields, plus ``"n_kw"`` (int32, (K, V)) and
        ``"n_k"`` (int64, (K,)): the whole corpus's counts after the
        iteration, read-only views that the next iteration overwrites
        (``n_kw`` is a transposed view of the sampler's table, not
        C-contiguous), and ``"alpha"`` (float64, (K,)), the current alpha
        (a read-only view; it changes with ``optimize_interval``).
    handle_signals : bool
        On SIGTERM or SIGINT, finish the current iteration, write a
        checkpoint (when ``checkpoints.directory`` is set) and the model (to
        ``checkpoints.model_on_interrupt``) and raise
        :class:`esca.errors.Interrupted` on every rank (the CLI sets this);
        its ``model`` attribute holds the model of the last finished
        iteration on rank 0 (None elsewhere, and None without
        ``model_on_interrupt``).
    **settings
        Fields of :class:`esca.TrainConfig` (``num_topics``, ``iterations``,
        ``alpha``, ``beta``, ``seed``, ``sampler``, ``threads``,
        ``eval_every``, ``kernel``, ``optimize_interval``,
        ``optimize_burn_in``).

    Returns
    -------
    TopicModel or None
        The model on rank 0 (``n_dk`` gathered in corpus order); None on
        the other ranks.

    Raises
    ------
    TypeError
        On a keyword argument that is not a :class:`esca.TrainConfig` field,
        a ``config`` that is not a TrainConfig or ``checkpoints`` that is not
        a CheckpointPolicy.
    UserError
        On a bad configuration value, an unreadable or invalid corpus, a
        corpus with no tokens, count tables that would not fit in memory, no
        valid checkpoint to resume from, a ``resume`` path that does not
        exist, ranks that opened different corpora
        (:func:`esca.distributed.same_on_all_ranks`), a corpus that is not the
        checkpoint's or model's, settings that conflict with the checkpoint's
        or model's, a model that cannot be continued (no ``n_dk``, or a cgs
        model without ``z``), or ``iterations`` not above the model's.
    Interrupted
        With ``handle_signals``, after SIGTERM or SIGINT.
    """
    policy = _check_arguments(config, checkpoints, settings)
    comm = distributed.get_comm(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    ckpt = None
    if resume is None:
        config = TrainConfig(**settings) if config is None else \
            dataclasses.replace(config, **settings)
    else:
        ckpt = distributed.agree(comm, load_state, resume, comm)
        config = resume_config(ckpt, config, settings)
        if corpus is None:
            corpus = distributed.agree(comm, locate_corpus, ckpt, comm)
    nthreads, source, shard, (D, V, N) = distributed.agree(comm, _setup, config, corpus, comm)
    _same_corpus(comm, source)  # before anything is exchanged
    K = config.num_topics
    on_node = distributed.ranks_on_node(comm)
    distributed.agree(comm, check_memory, D, V, N, K,  # before the sampler allocates tables
                      ranks_on_node=on_node, ranks=size, threads=nthreads,
                      sampler=config.sampler, kernel=config.kernel)
    if rank == 0:
        _warn_oversubscribed(nthreads, on_node)
    if ckpt is not None:
        distributed.agree(comm, check_corpus_shape, ckpt, source, shard, (D, V, N))
    corpus_sha = distributed.agree(comm, _corpus_sha, source, ckpt, comm)
    if policy.directory is not None and (policy.every or handle_signals):
        distributed.agree(comm, _check_checkpoint_dir, policy.directory, config, corpus_sha,
                          ckpt, comm)

    from .samplers import SAMPLERS  # noqa: PLC0415 - Numba kernels load on first use
    if rank == 0:
        log.info("training %s on %s: D=%d V=%d N=%d K=%d alpha=%s beta=%g seed=%d on %d rank(s) "
                 "x %d thread(s)%s", config.sampler, corpus_name(source), D, V, N, K,
                 _fmt_alpha(config.alpha), config.beta, config.seed, size, nthreads,
                 " (the cgs sweep itself is sequential)" if config.sampler == "cgs" else "")
    run = _Run(sampler=SAMPLERS[config.sampler](shard, config, nthreads), shard=shard,
               config=config, comm=comm, source=source, threads=nthreads, shape=(D, V, N),
               corpus_sha=corpus_sha, records={k: [] for k in LOG_FIELDS},
               labels=getattr(ckpt, "labels", None))
    s = run.sampler
    first = 1
    if ckpt is None:
        _initialize(s, comm, config.first_pass_blocks(N), N)
    else:
        distributed.agree(comm, restore, s, ckpt, shard, comm)
        first = ckpt.iteration + 1
        run.records.update(earlier_log(ckpt.log, ckpt.iteration))
        if rank == 0:
            log.info("%s from %s at iteration %d of %d",
                     "continuing" if ckpt.kind == "model" else "resumed", ckpt.path,
                     ckpt.iteration, config.iterations)
    if rank == 0:
        _warn_no_optimization(config)
    report = _progress_report(progress) if rank == 0 else None
    if report is not None:
        report.start(first, config.iterations, compiling=_compiling(s))
    stop = _SignalFlag() if handle_signals else contextlib.nullcontext()
    with stop, contextlib.ExitStack() as closing:
        if report is not None:
            closing.callback(report.close)
        for it in range(first, config.iterations + 1):
            _iteration(it, s, config, comm, N, run.records, callback, report)
            written = policy.every and it % policy.every == 0
            if written:
                _checkpoint(run, policy, it)
            if handle_signals and it < config.iterations and stop.agreed(comm):
                _stop(run, policy, it, stop.name, written)
    run.wall = time.perf_counter() - run.t_start
    return _finish(run)


def _initialize(s, comm, blocks, N):
    """The sampler's first topics and the whole corpus's tables: uniform random (``blocks``
    0) or the sequential first pass in ``blocks`` blocks of the N global token indices, with
    the counts exchanged after each block (see ``TrainConfig.init_blocks``)."""
    from . import exchange  # noqa: PLC0415 - Numba kernels load on first use
    if not blocks:
        s.initialize()
        exchange.sync_counts(comm, s)
        return
    t0 = time.perf_counter()
    for b in range(blocks):
        s.initialize_block(b * N // blocks, (b + 1) * N // blocks)
        exchange.sync_counts(comm, s)
    log.info("sequential first pass in %d blocks: %.2f s", blocks, time.perf_counter() - t0)


def _check_arguments(config, checkpoints, settings):
    """Refuse arguments of :func:`train` of the wrong kind (TypeError, as Python does for
    an unknown keyword); returns the checkpoint policy."""
    for name in settings:
        if name not in _SETTINGS:
            moved = f" (use {_MOVED[name]})" if name in _MOVED else ""
            raise TypeError(f"train() got an unexpected keyword argument {name!r}{moved}")
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"train(): config must be an esca.TrainConfig, got "
                        f"{type(config).__name__} (give settings by name: num_topics=...)")
    if checkpoints is None:
        return CheckpointPolicy()
    if not isinstance(checkpoints, CheckpointPolicy):
        raise TypeError(f"train(): checkpoints must be an esca.CheckpointPolicy, got "
                        f"{type(checkpoints).__name__}")
    return checkpoints


@dataclasses.dataclass
class _Run:
    """One training run on this rank: what the helpers of :func:`train` share.

    ``sampler`` (:class:`esca.samplers.base.ShardSampler`), ``shard`` (this rank's
    :class:`~esca.corpus.Corpus`), ``source`` (the corpus path or the whole in-memory corpus),
    ``threads`` (Numba threads per rank), ``shape`` (D, V, N of the whole corpus),
    ``records`` (the training log, field -> list), ``labels`` (a continued model's topic
    labels), ``t_start`` and ``wall`` (seconds, :func:`time.perf_counter`).
    """

    sampler: object
    shard: Corpus
    config: TrainConfig
    comm: object
    source: object
    threads: int
    shape: tuple
    corpus_sha: str
    records: dict
    labels: object = None
    t_start: float = dataclasses.field(default_factory=time.perf_counter)
    wall: float = 0.0


def _warn_no_optimization(config):
    """Log a warning when ``optimize_interval`` is set but no optimization falls within the
    run's iterations."""
    first_opt = config.first_optimization()
    if first_opt is not None and first_opt > config.iterations:
        log.warning("the priors are never optimized: the first optimization (a multiple of "
                    "optimize_interval=%d after optimize_burn_in=%d) would follow iteration "
                    "%d, but training stops at %d; lower the burn-in (optimize_burn_in) or "
                    "run more iterations", config.optimize_interval, config.optimize_burn_in,
                    first_opt, config.iterations)


def _progress_report(progress):
    """Rank 0's progress reporter for the ``progress`` argument of :func:`train` (None for
    False)."""
    if progress is False:
        return None
    if progress is None:
        return TrainProgress()
    if progress is True:
        return TrainProgress(log_every=0, bar=True)
    return progress


def _checkpoint(run, policy, it):
    """Gather the state of iteration ``it`` and write it into ``policy.directory`` (rank 0;
    a collective call); returns the path written on rank 0."""
    s, comm = run.sampler, run.comm
    z = distributed.gather_rows(comm, s.z.reshape(-1, 1))
    n_dk = distributed.gather_rows(comm, s.n_dk)

    def write():
        if comm.Get_rank() != 0:
            return None
        state = Checkpoint(iteration=it, config=run.config, corpus=corpus_name(run.source),
                           corpus_sha256=run.corpus_sha, z=z.ravel(), n_dk=n_dk,
                           n_kw=s.n_wk.T, n_k=s.n_k, alpha=s.alpha, beta=s.beta,
                           log=run.records, ranks=comm.Get_size())
        try:
            path = write_checkpoint(policy.directory, state, keep=policy.keep)
        except WriteError as e:  # a full disk: stop every rank; older checkpoints stay
            raise CheckpointWriteError(cause=str(e), directory=policy.directory,
                                       iterations=run.config.iterations,
                                       last=last_checkpoint(policy.directory), path=e.path
                                       ) from e
        log.info("checkpoint %s", path)
        return path
    return distributed.agree(comm, write)


def _stop(run, policy, it, signame, written):
    """After a signal: write the checkpoint of iteration ``it`` (unless ``written``) and the
    model (``policy.model_on_interrupt``), then raise :class:`Interrupted` on every rank."""
    where, model = "", None
    total = run.config.iterations
    if policy.directory is not None:
        if not written:
            _checkpoint(run, policy, it)
        where = f"; its checkpoint is in {policy.directory} (continue with resume=that folder)"
    if policy.model_on_interrupt is not None:
        model = _interrupted_model(run, it, policy.model_on_interrupt, signame)
        where += (f"; model of iteration {it} written to {policy.model_on_interrupt} "
                  f"(continue with resume=that file, iterations={total})")
    e = Interrupted(f"{signame} received: stopped after iteration {it} of {total}{where}")
    e.model, e.signal, e.iteration, e.iterations = model, signame, it, total
    e.checkpoint_dir, e.model_path = policy.directory, policy.model_on_interrupt
    raise e


def _interrupted_model(run, it, path, signame):
    """The model of iteration ``it`` (rank 0; None elsewhere), written to ``path`` by rank 0.

    Its configuration says ``it`` iterations, so that continuing it to the run's total
    repeats what the uninterrupted run would have done; its last log-likelihood is filled in.
    """
    comm, config, records = run.comm, run.config, run.records
    rank = comm.Get_rank()
    if math.isnan(records["loglik_per_token"][-1]):
        records["loglik_per_token"][-1] = _loglik(run.sampler, comm) / run.shape[2]
    run.wall = time.perf_counter() - run.t_start
    model = _finish(run, dataclasses.replace(config, iterations=it))

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
        rec["n_kw"], rec["n_k"] = _readonly(s.n_wk.T), _readonly(s.n_k)
        rec["alpha"] = _readonly(s.alpha)
        callback(rec)


def _loglik(s, comm):
    """Joint log p(w, z) of Griffiths & Steyvers (PNAS 2004, eqs. 2-3) of the whole corpus:
    the document part summed over ranks plus the word part (a collective call)."""
    return distributed.sum_over_ranks(comm, float(s.loglik_docs())) + s.loglik_words()


def _finish(run, config=None):
    """Gather the model on rank 0 (None elsewhere); ``config``: the one it stores (default
    the run's)."""
    from .samplers import _kernels as kern  # noqa: PLC0415 - Numba kernels, loaded on use
    s, shard, comm, source, records = run.sampler, run.shard, run.comm, run.source, run.records
    config = run.config if config is None else config
    rank, size = comm.Get_rank(), comm.Get_size()
    (D, V, N), wall = run.shape, run.wall
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
    info = {"corpus": corpus_name(source), "corpus_sha256": run.corpus_sha, "D": D, "V": V, "N": N,
            "ranks": size, "threads": run.threads,
            "kernel": getattr(s, "kernel", None), "init_blocks": config.first_pass_blocks(N),
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
                      labels=run.labels)


class _SignalFlag:
    """Context manager: SIGTERM and SIGINT set a flag instead of stopping the process."""

    def __init__(self):
        self.name = None  # the signal every rank agreed on (set by agreed)
        self.received = None  # the signal this process received (set by the handler only)
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread: leave it alone
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False

    def agreed(self, comm):
        """True on every rank if any rank got a signal (a collective call).

        The handler writes only ``received``: a signal that arrives while this call runs (after
        the value was sent) is seen by the next call instead of being overwritten and lost.
        """
        self.name = next((n for n in distributed.allgather(comm, self.received) if n), None)
        return self.name is not None


def _compiling(s):
    """Whether the first sweep of sampler ``s`` compiles its Numba kernel: this process has not
    compiled it yet and Numba's cache on disk holds no version of it for this source."""
    from .samplers import _kernels as kern  # noqa: PLC0415 - Numba kernels, loaded on use
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


def _check_checkpoint_dir(directory, config, corpus_sha, ckpt, comm):
    """Rank 0: refuse a checkpoint folder whose checkpoints this run would overwrite (see
    :func:`esca.checkpoint.check_fresh_folder` and
    :func:`esca.checkpoint.check_resume_folder`)."""
    if comm.Get_rank() != 0:
        return
    identity = run_identity(config, corpus_sha)
    if ckpt is not None and ckpt.kind == "checkpoint":
        check_resume_folder(directory, identity, ckpt.iteration + 1, config.iterations)
    else:
        check_fresh_folder(directory, identity)


def _corpus_sha(source, ckpt, comm):
    """SHA-256 of the whole corpus (rank 0 streams it), broadcast; checks it against ``ckpt``
    (a model written before models stored it has none: :func:`esca.resume.check_corpus_shape` and
    :func:`esca.resume.restore` check what it does store)."""
    sha = distributed.on_root(comm, corpus_checksum if isinstance(source, Corpus) else
                              corpus_file_checksum, source)
    if ckpt is not None and ckpt.corpus_sha256 is not None and sha != ckpt.corpus_sha256:
        raise UserError(f"corpus {corpus_name(source)} (sha256 {sha[:16]}...) is not the corpus of "
                        f"{ckpt.kind} {ckpt.path} ({ckpt.corpus}, sha256 "
                        f"{ckpt.corpus_sha256[:16]}...)")
    return sha


def _optimize_priors(s, comm, rank):
    """Re-estimate alpha (asymmetric) and beta (symmetric) from the current counts.

    The histograms are integers summed over ranks and n_wk is the whole corpus's, so every
    rank computes the same new priors (see :mod:`esca.hyper`).
    """
    from .hyper import (  # noqa: PLC0415 - scipy is slow to import
        doc_topic_histograms,
        optimize_alpha,
        optimize_beta,
    )
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
    import numba  # noqa: PLC0415 - Numba loads on first use
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
        raise UserError(f"corpus {corpus_name(source)} has no tokens (D={D})")
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
    ident = distributed.agree(comm, corpus_identity, source)
    distributed.same_on_all_ranks(
        comm, ident, "corpora", label=corpus_name(source),
        hint="every rank must read the same corpus: one path on a shared file system, or the "
             "same file copied to every node")


def _set_threads(n):
    import numba  # noqa: PLC0415 - Numba loads on first use
    limit = numba.config.NUMBA_NUM_THREADS
    if n > limit:
        raise UserError(f"threads={n} is more than Numba's limit of {limit} "
                        f"(set NUMBA_NUM_THREADS={n} before starting Python)")
    numba.set_num_threads(n)


def _readonly(a):
    v = a.view()
    v.flags.writeable = False
    return v


def _fmt_alpha(alpha):
    return f"{alpha:g}" if np.ndim(alpha) == 0 else "asymmetric"


def _jsonable(attrs):
    return json.loads(json.dumps(attrs, default=str))
