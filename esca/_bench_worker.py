"""One system of ``esca bench``, run in its own process so that its peak RSS is its own.

``python -m esca._bench_worker --spec JSON --out RESULT.json`` (under ``mpiexec -n R`` for
ESCA at R ranks) trains one system on the bench's ``train.h5``, scores held-out perplexity
from the system's topic-word matrix at every evaluation point, outside the timed region, and
writes a JSON result (rank 0 only). The spec is made by :func:`esca.bench.worker_spec`.
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

from .config import TrainConfig
from .corpus import Corpus, read_corpus
from .distributed import abort_job, barrier, gather, get_comm
from .errors import UserError, exit_status
from .train import train as esca_train

log = logging.getLogger("esca")

LOGLIK = {
    "esca": "joint log p(w, z) / N of the last iteration's counts (Griffiths & Steyvers 2004)",
    "tomotopy": "LDAModel.ll_per_word after the last iteration: tomotopy's joint log p(w, z) / N",
    "gensim": "n/a (variational): LdaMulticore has no sampled z; its ELBO is not comparable",
    "lda": "lda.LDA.loglikelihood() / N: joint log p(w, z) of the last sample",
    "sklearn": "n/a (variational): LatentDirichletAllocation has no sampled z",
    "warplda": "the 'log_likelihood (per token)' WarpLDA prints for its last iteration (its "
               "own computation, made during the sweep)",
}
RSS_NOTE = ("peak_rss_bytes: getrusage maxrss when training first reached an evaluation point, "
            "before the evaluation (training only); peak_rss_with_eval_bytes: at the end")
#: What whole_run_s covers, per kind; tokens/s over the whole run = N x iterations / it.
WHOLE_RUN = {
    "esca": "the whole esca.train() call (reading the corpus, setup, iteration 1 included), "
            "less the evaluations in its callback and less any Numba compiling or cache "
            "loading inside the call (the kernels are compiled before it by a 2-iteration run "
            "of the same configuration on a tiny corpus; details.jit_s_in_run, measured from "
            "Numba's compiler-lock events, is what was still subtracted)",
    "tomotopy": "LDAModel(), add_doc() of every document (not the conversion of word ids to "
                "strings), train(0) and every train() chunk; evaluations excluded",
    "gensim": "LdaMulticore() and every update() pass; evaluations excluded (the bag-of-words "
              "conversion before it is not timed)",
    "lda": "the whole fit()",
    "sklearn": "the whole fit()",
    "warplda": "the whole 'warplda --estimate' process (loading its binary corpus, "
               "initialization, iterations, writing the model); the 'format' step that "
               "converts the text input is timed apart (details.format_s)",
}


def main(argv=None):
    """Run one system; returns the exit status (0, else :func:`esca.errors.exit_status`: 1 on a
    bug, 2 on a user error, 74 on an output that could not be written)."""
    p = argparse.ArgumentParser(prog="python -m esca._bench_worker", description=__doc__)
    p.add_argument("--spec", required=True, help="JSON object made by esca.bench.worker_spec")
    p.add_argument("--out", required=True, metavar="RESULT.json")
    args = p.parse_args(argv)
    spec = json.loads(args.spec)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        result = RUNNERS[spec["kind"]](spec)
    except Exception as e:
        status = exit_status(e)
        if isinstance(e, UserError):
            print(f"esca: error: {e}", file=sys.stderr)
        else:
            traceback.print_exc()
        abort_job(status)  # do not leave the other ranks in a collective
        return status
    if result is not None:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


# -- the systems -----------------------------------------------------------------------------

def run_esca(spec):
    """ESCA or the collapsed Gibbs baseline through :func:`esca.train`, at any number of ranks.

    The configuration is :func:`esca_config`'s (the spec's ``esca_settings`` included); the
    result's ``details["config"]`` is the configuration the model was trained with.
    Seconds per iteration are medians over iterations 2..N of rank 0's log. The whole run is
    timed on rank 0 by a :class:`TrainingClock` around the ``train()`` call, after a warm-up
    (:func:`warm_up`) has compiled the kernels. Held-out perplexity is computed in the
    ``train()`` callback on rank 0 while the other ranks wait at a barrier; the clock is paused
    during the callback, and the log's seconds do not include it.
    """
    from .infer import phi_from_counts  # noqa: PLC0415 - Numba kernels load lazily
    comm = get_comm()  # MPI.COMM_WORLD
    rank = comm.Get_rank()
    evaluate = _evaluator(spec) if rank == 0 else None
    points, train_rss = [], []
    config = esca_config(spec)
    warm_up(config, comm)

    with compile_listener() as compiling:
        clock = TrainingClock(compiling)

        def callback(rec):
            if not _is_eval_point(rec["iteration"], spec):
                return
            now = clock.seconds()
            with clock.paused():
                if not train_rss:
                    train_rss.append(_maxrss())
                if rank == 0:
                    phi = phi_from_counts(rec["n_kw"], rec["beta"])
                    points.append((rec["iteration"], now, evaluate(phi, rec["alpha"].copy())))
                barrier(comm)

        model = esca_train(spec["train"], config, comm=comm, callback=callback)
        whole = clock.seconds()
    rss, rss_end = gather(comm, train_rss[0]), gather(comm, _maxrss())
    jit = gather(comm, clock.jit_seconds())
    if rank != 0:
        return None
    lg = model.log
    sec = lg["seconds"]
    parts = {"total": sec, "sample": lg["sample_s"], "count": lg["count_s"],
             "allreduce": lg["allreduce_s"]}
    parts["other"] = sec - parts["sample"] - parts["count"] - parts["allreduce"]
    timed = slice(1, None) if len(sec) > 1 else slice(None)
    s_per_iter = {k: float(np.median(v[timed])) for k, v in parts.items()}
    if len(sec) > 1:
        which = (f"median over iterations 2..N (iteration 1, {sec[0]:.4g} s, is in the whole "
                 "run)")
    else:
        which = "one iteration only"
    return _result(spec, s_per_iter, float(lg["loglik_per_token"][-1]), points, rss, rss_end,
                   whole_run_s=whole,
                   timing="per-iteration seconds of rank 0's training log (sweep + count "
                   f"rebuild + allreduce), {which}",
                   jit_s_in_run=jit, first_iteration_s=float(sec[0]),
                   kernel=model.info.get("kernel"),
                   tables_s=float(np.median(lg["tables_s"][timed])),
                   exchange_bytes_per_iter=float(np.median(lg["exchange_bytes"][timed])),
                   state_bytes_per_token=model.info["state_bytes_per_token"],
                   table_bytes_per_rank=model.info["table_bytes_per_rank"],
                   ranks=model.info["ranks"], threads=model.info["threads"],
                   optimize_interval=model.config.optimize_interval,
                   optimize_burn_in=model.config.optimize_burn_in,
                   alpha_sum=float(model.alpha.sum()), beta=float(model.beta),
                   config=json.loads(model.config.to_json()))


def esca_config(spec):
    """The :class:`TrainConfig` of one esca-kind run.

    The bench's own settings (:data:`esca.bench.systems.ESCA_OWNED`) come from the spec:
    num_topics, iterations, alpha, beta, seed, sampler, threads, and ``eval_every=0`` (the
    log-likelihood only at the last iteration; held-out evaluation runs in the callback);
    every other field from ``spec["esca_settings"]`` (checked by
    :func:`esca.bench.check_esca_settings`; TrainConfig's defaults for the rest).

    Parameters
    ----------
    spec : dict
        A spec made by :func:`esca.bench.worker_spec`.

    Returns
    -------
    TrainConfig

    Raises
    ------
    TypeError
        ``spec["esca_settings"]`` holds a field the bench sets itself (a bug: the bench
        checks the settings before it starts any worker).
    UserError
        A value TrainConfig rejects.
    """
    return TrainConfig(num_topics=spec["num_topics"], iterations=spec["iterations"],
                       alpha=spec["alpha"], beta=spec["beta"], seed=spec["seed"],
                       sampler=spec["sampler"], threads=spec["threads"], eval_every=0,
                       **spec.get("esca_settings", {}))


def warm_up(config, comm):
    """Compile (or load from Numba's cache) every kernel that training with ``config`` calls,
    by training the same configuration for 2 iterations on two tiny in-memory corpora (8
    documents of 40 tokens over 30 words, where at several ranks the count exchange is
    dense, and over 2,000 words, where it is sparse), so that the timed run holds no
    compilation. Kernels whose argument types depend on the corpus's size (e.g. a flat
    index of V x K >= 2**31 entries) can still compile in the timed run: :func:`run_esca`
    measures that and subtracts it.

    Parameters
    ----------
    config : TrainConfig
        The timed run's configuration (same K, sampler, kernel, threads; with
        ``optimize_interval`` > 0 the warm-up optimizes the priors too).
    comm : mpi4py communicator
        The timed run's communicator (every rank compiles its own kernels).
    """
    warm = dataclasses.replace(config, iterations=2, optimize_burn_in=0,
                               optimize_interval=min(config.optimize_interval, 1))
    for V in (30, 2000):
        tiny = Corpus(doc_ptr=np.arange(0, 8 * 40 + 1, 40),
                      word_ids=np.arange(8 * 40) * 7 % V, vocab=[f"w{i}" for i in range(V)])
        esca_train(tiny, warm, comm=comm, progress=False, callback=lambda rec: None)


@contextlib.contextmanager
def compile_listener():
    """A :class:`CompileTimer` listening to Numba's compiler-lock events while the context
    is open (the lock is held while a kernel compiles or loads from the on-disk cache)."""
    from numba.core import event  # noqa: PLC0415 - numba is slow to import

    class Listener(event.Listener):
        def on_start(self, ev):
            timer.start()

        def on_end(self, ev):
            timer.end()

    timer = CompileTimer()
    with event.install_listener("numba:compiler_lock", Listener()):
        yield timer


class CompileTimer:
    """Seconds spent inside (possibly nested) start/end events, like Numba's TimingListener,
    but readable while an event is open: ``seconds`` counts the open one up to now."""

    def __init__(self):
        self.depth, self.total, self.since = 0, 0.0, 0.0

    def start(self):
        if self.depth == 0:
            self.since = time.perf_counter()
        self.depth += 1

    def end(self):
        self.depth -= 1
        if self.depth == 0:
            self.total += time.perf_counter() - self.since

    @property
    def seconds(self):
        return self.total + (time.perf_counter() - self.since if self.depth else 0.0)


class TrainingClock:
    """Seconds of training since it was made, less the spans spent in :meth:`paused` and
    less compiling (``compiling``, a :class:`CompileTimer`) outside those spans."""

    def __init__(self, compiling):
        self.compiling = compiling
        self.start = time.perf_counter()
        self.pause_s = self.pause_jit_s = 0.0

    def jit_seconds(self):
        """Compiling seconds counted against training (outside the paused spans)."""
        return self.compiling.seconds - self.pause_jit_s

    def seconds(self):
        """Training seconds so far."""
        return time.perf_counter() - self.start - self.pause_s - self.jit_seconds()

    @contextlib.contextmanager
    def paused(self):
        """Stop the clock inside the block (an evaluation, and its own compiling)."""
        t, j = time.perf_counter(), self.compiling.seconds
        try:
            yield
        finally:
            self.pause_s += time.perf_counter() - t
            self.pause_jit_s += self.compiling.seconds - j


def run_tomotopy(spec):
    """tomotopy ``LDAModel`` trained in timed chunks of ``eval_every`` iterations.

    The model's setup (``LDAModel()``, ``add_doc()`` per document, ``train(0)``) is timed
    into the whole run but not into the per-iteration median; ``optim_interval = 0`` keeps
    alpha fixed. The topic-word counts are read back as
    ``get_topic_word_dist(k, normalize=False) - eta`` and mapped from tomotopy's vocabulary
    order to ``train.h5``'s.
    """
    import tomotopy as tp  # noqa: PLC0415 - optional peer package

    from .infer import phi_from_counts  # noqa: PLC0415 - Numba kernels load lazily
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    K, V = spec["num_topics"], train.num_words
    vocab = np.array(train.vocab, dtype=object)
    t0 = time.perf_counter()
    mdl = tp.LDAModel(tw=tp.TermWeight.ONE, min_cf=0, rm_top=0, k=K, alpha=spec["alpha"],
                      eta=spec["beta"], seed=spec["seed"])
    untimed = 0.0
    for a, b in zip(train.doc_ptr[:-1], train.doc_ptr[1:], strict=True):
        if b > a:
            t = time.perf_counter()
            words = vocab[train.word_ids[a:b]].tolist()
            untimed += time.perf_counter() - t
            mdl.add_doc(words)
    scheme = getattr(tp.ParallelScheme, spec["scheme"].upper())
    workers = spec["workers"]
    mdl.train(0, workers=workers, parallel=scheme)
    mdl.optim_interval = 0
    setup = time.perf_counter() - t0 - untimed
    index = {w: i for i, w in enumerate(train.vocab)}
    cols = np.array([index[w] for w in mdl.used_vocabs], dtype=np.int64)

    def chunk(m):
        t0 = time.perf_counter()
        mdl.train(m, workers=workers, parallel=scheme)
        return [(m, time.perf_counter() - t0)]

    def phi():
        raw = np.array([mdl.get_topic_word_dist(k, normalize=False) for k in range(K)],
                       dtype=np.float64)
        n_kw = np.zeros((K, V))
        n_kw[:, cols] = np.rint(raw - mdl.eta)
        return phi_from_counts(n_kw, spec["beta"])

    per_iter, curve, rss, whole = _run_chunks(spec, chunk, phi, evaluate, setup)
    return _result(spec, _peer_split(per_iter), float(mdl.ll_per_word), curve, rss, [_maxrss()],
                   whole_run_s=whole,
                   timing="seconds of each train() chunk of eval_every iterations divided by "
                   "its iterations, median over chunks; the setup is not in it",
                   setup_s=setup, workers=workers, scheme=spec["scheme"])


def run_gensim(spec):
    """gensim ``LdaMulticore`` (online variational Bayes), one timed ``update()`` per pass.

    One pass over the corpus counts as one iteration. Its topic-word matrix is the
    normalised variational parameter lambda (``state.get_lambda()``) in float64. The
    model's construction is in the whole run, not in the per-pass median.
    """
    from gensim.models import LdaMulticore  # noqa: PLC0415 - gensim is slow to import
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    X = _doc_term(train)
    bow = [list(zip(X.indices[a:b].tolist(), X.data[a:b].tolist(), strict=True))
           for a, b in zip(X.indptr[:-1], X.indptr[1:], strict=True)]
    K = spec["num_topics"]
    t0 = time.perf_counter()
    mdl = LdaMulticore(corpus=None, num_topics=K, id2word=dict(enumerate(train.vocab)),
                       workers=spec["workers"], alpha=np.full(K, spec["alpha"]),
                       eta=spec["beta"], random_state=spec["seed"], eval_every=None)
    setup = time.perf_counter() - t0

    def chunk(m):
        out = []
        for _ in range(m):
            t0 = time.perf_counter()
            mdl.update(bow)
            out.append((1, time.perf_counter() - t0))
        return out

    def phi():
        lam = mdl.state.get_lambda().astype(np.float64)
        return lam / lam.sum(axis=1, keepdims=True)

    def rss():  # the E-step runs in pool processes, reaped after each update()
        return [_maxrss(), _maxrss(resource.RUSAGE_CHILDREN)]

    per_iter, curve, rss_train, whole = _run_chunks(spec, chunk, phi, evaluate, setup, rss)
    return _result(spec, _peer_split(per_iter), None, curve, rss_train, rss(),
                   whole_run_s=whole, setup_s=setup,
                   timing="seconds of each update() call (one pass over the corpus, including "
                   "starting gensim's worker pool), median over passes",
                   rss_processes="[main process, largest worker process]",
                   workers=spec["workers"])


def run_lda(spec):
    """The ``lda`` package's collapsed Gibbs sampler; one timed ``fit()``, evaluated at the end."""
    import lda  # noqa: PLC0415 - optional peer package

    from .infer import phi_from_counts  # noqa: PLC0415 - Numba kernels load lazily
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    X = _doc_term(train)
    n = spec["iterations"]
    mdl = lda.LDA(n_topics=spec["num_topics"], n_iter=n, alpha=spec["alpha"], eta=spec["beta"],
                  random_state=spec["seed"], refresh=n)
    t0 = time.perf_counter()
    mdl.fit(X)
    total = time.perf_counter() - t0
    rss = _maxrss()
    h = evaluate(phi_from_counts(mdl.nzw_, spec["beta"]))
    return _result(spec, _peer_split([total / n]), mdl.loglikelihood() / train.num_tokens,
                   [(n, total, h)], [rss], [_maxrss()], whole_run_s=total,
                   timing="whole fit() divided by the iterations (includes lda's "
                   "initialisation, which turns the matrix into token lists, and its two "
                   "log-likelihood evaluations)")


def run_sklearn(spec):
    """scikit-learn's ``LatentDirichletAllocation`` (batch variational Bayes, Hoffman, Blei &
    Bach 2010); one timed ``fit()`` of ``max_iter`` EM iterations, evaluated at the end.

    Its topic-word matrix is ``components_`` (the variational parameter lambda) normalised
    to rows summing to 1, in float64.
    """
    from sklearn.decomposition import LatentDirichletAllocation  # noqa: PLC0415 - slow import
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    X = _doc_term(train)
    n = spec["iterations"]
    mdl = LatentDirichletAllocation(
        n_components=spec["num_topics"], doc_topic_prior=spec["alpha"],
        topic_word_prior=spec["beta"], learning_method=spec["method"], max_iter=n,
        evaluate_every=-1, n_jobs=spec["threads"], random_state=spec["seed"])
    t0 = time.perf_counter()
    mdl.fit(X)
    total = time.perf_counter() - t0
    rss = _maxrss()
    lam = mdl.components_.astype(np.float64)
    h = evaluate(lam / lam.sum(axis=1, keepdims=True))
    return _result(spec, _peer_split([total / n]), None, [(n, total, h)], [rss], [_maxrss()],
                   whole_run_s=total, timing="whole fit() divided by its EM iterations (max_iter)",
                   learning_method=spec["method"], n_iter=int(mdl.n_iter_))


def run_warplda(spec):
    """WarpLDA (Chen et al., VLDB 2016), the C++ program ``warplda`` found on PATH, with its
    ``format`` program from the same folder (docs/benchmarks.md says how to build both).

    The training split is written in WarpLDA's text input (:func:`write_warplda_input`),
    converted by ``format``, and trained by one ``warplda --estimate`` process with the same
    K, alpha (WarpLDA takes the sum, alpha x K), beta and iterations; WarpLDA has no seed.
    Its word-topic counts (``.model``, :func:`read_warplda_model`) give phi, scored once at
    the end. Its threads are OMP_NUM_THREADS (the spec's ``threads``); peak RSS is the
    largest child process's (``format`` or ``warplda``).
    """
    from .infer import phi_from_counts  # noqa: PLC0415 - Numba kernels load lazily
    exe = shutil.which("warplda")
    if exe is None:
        raise UserError("no warplda program on PATH")
    fmt = os.path.join(os.path.dirname(os.path.realpath(exe)), "format")
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    K, n = spec["num_topics"], spec["iterations"]
    with tempfile.TemporaryDirectory(prefix="esca-warplda-") as work:
        prefix = os.path.join(work, "train")
        write_warplda_input(train, prefix + ".txt")
        t0 = time.perf_counter()
        _run_program([fmt, "-input", prefix + ".txt", "-prefix", prefix])
        format_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = _run_program([exe, "--estimate", "--prefix", prefix, "--k", str(K),
                            "--niter", str(n), "--alpha", repr(spec["alpha"] * K),
                            "--beta", repr(spec["beta"]), "--writeinfo=false",
                            "--dumpz=false"])
        whole = time.perf_counter() - t0
        rss = [_maxrss(resource.RUSAGE_CHILDREN)]
        n_kw = read_warplda_model(prefix + ".model", read_warplda_vocab(prefix + ".vocab"),
                                  train.num_words)
    print(out, end="")
    seconds, loglik = parse_warplda_log(out)
    if n_kw.shape[0] != K:
        raise RuntimeError(f"warplda wrote {n_kw.shape[0]} topics, asked for {K}")
    h = evaluate(phi_from_counts(n_kw, spec["beta"]))
    per_iter = seconds or [whole / n]
    return _result(spec, _peer_split(per_iter), loglik, [(n, whole, h)], rss, rss,
                   whole_run_s=whole,
                   timing="median of the per-iteration seconds WarpLDA prints" if seconds
                   else "the whole warplda run divided by its iterations (no log lines)",
                   format_s=format_s, threads=spec["threads"], seed="none (WarpLDA has none)",
                   rss_processes="[largest child process: format or warplda]")


def write_warplda_input(corpus, path):
    """Write ``corpus`` in WarpLDA's text input (Yahoo! LDA's): one line per non-empty
    document, ``id1 id2 word word ...``, with each word written as its esca word id in
    decimal (so no word needs escaping and the ids come back from WarpLDA's ``.vocab``).

    Parameters
    ----------
    corpus : esca.Corpus
    path : str
        The text file written.
    """
    with open(path, "w") as f:
        for d, (a, b) in enumerate(zip(corpus.doc_ptr[:-1], corpus.doc_ptr[1:], strict=True)):
            if b > a:
                f.write(f"d{d} d{d} " + " ".join(map(str, corpus.word_ids[a:b].tolist()))
                        + "\n")


def read_warplda_vocab(path):
    """WarpLDA's ``.vocab`` (line v: the word of its id v) as esca word ids, int64 of shape
    (V_used,), for input written by :func:`write_warplda_input`."""
    with open(path) as f:
        return np.array([int(line.split()[0]) for line in f if line.strip()], dtype=np.int64)


def read_warplda_model(path, word_ids, V):
    """WarpLDA's ``.model`` as esca's counts.

    The file's first line is ``V_used K alpha beta``; line v + 2 is word v's row of the
    word-topic counts in libsvm format, ``nnz<TAB>topic:count topic:count ...``.

    Parameters
    ----------
    path : str
    word_ids : ndarray of int64, shape (V_used,)
        esca's word id of each WarpLDA word (:func:`read_warplda_vocab`).
    V : int
        esca's vocabulary size.

    Returns
    -------
    ndarray of float64, shape (K, V)
        n_kw; zero for the words WarpLDA never saw.

    Raises
    ------
    RuntimeError
        The file does not match ``word_ids`` (another row count or an entry count).
    """
    with open(path) as f:
        head = f.readline().split()
        nv, K = int(head[0]), int(head[1])
        if nv != len(word_ids):
            raise RuntimeError(f"{path}: {nv} words, its vocabulary has {len(word_ids)}")
        n_kw = np.zeros((K, V))
        for v in range(nv):
            fields = f.readline().split()
            pairs = [x.split(":") for x in fields[1:]]
            if not fields or int(fields[0]) != len(pairs):
                raise RuntimeError(f"{path}: row {v + 1} is not 'nnz topic:count ...'")
            for k, c in pairs:
                n_kw[int(k), word_ids[v]] = int(c)
    return n_kw


_WARPLDA_ITERATION = re.compile(r"^Iteration \d+, (\S+) s,[^\n]*?"
                                r"(?:log_likelihood \(per token\) (\S+))?[ \t]*$", re.MULTILINE)


def parse_warplda_log(text):
    """(seconds of every iteration, the last iteration's log-likelihood per token or None)
    from the lines ``Iteration I, S s, M Mtokens/s, log_likelihood (per token) L`` that
    ``warplda`` prints."""
    seconds, loglik = [], None
    for m in _WARPLDA_ITERATION.finditer(text):
        seconds.append(float(m.group(1)))
        loglik = float(m.group(2)) if m.group(2) is not None else None
    return seconds, loglik


def _run_program(cmd):
    """Run ``cmd``; its stdout, or RuntimeError with the end of its output when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{cmd[0]} exited with status {r.returncode}:\n{tail}")
    return r.stdout


RUNNERS = {"esca": run_esca, "tomotopy": run_tomotopy, "gensim": run_gensim, "lda": run_lda,
           "sklearn": run_sklearn, "warplda": run_warplda}


# -- helpers ---------------------------------------------------------------------------------

def _is_eval_point(it, spec):
    every = spec["eval_every"]
    return it == spec["iterations"] or (every > 0 and it % every == 0)


def _run_chunks(spec, chunk, phi, evaluate, setup, rss=None):
    """Train in chunks ending at the evaluation points; evaluate between chunks, untimed.

    ``chunk(m)`` trains m iterations and returns (iterations, seconds) pairs of its timed
    units; ``setup`` is the seconds spent before the first chunk. Returns (seconds per
    iteration of every unit, (iteration, whole-run seconds, evaluation) triples, RSS before
    the first evaluation as a list of bytes, whole-run seconds).
    """
    rss = rss or (lambda: [_maxrss()])
    n = spec["iterations"]
    stops = [it for it in range(1, n + 1) if _is_eval_point(it, spec)]
    per_iter, curve, clock, done, rss_train = [], [], float(setup), 0, None
    for stop in stops:
        units = chunk(stop - done)
        per_iter += [s / m for m, s in units]
        clock += sum(s for _, s in units)
        done = stop
        rss_train = rss_train or rss()
        curve.append((stop, clock, evaluate(phi())))
    return per_iter, curve, rss_train, clock


def _evaluator(spec, train=None):
    """``evaluate(phi, alpha=None)``: the held-out document completion of ``phi`` (alpha
    defaults to the spec's symmetric alpha), plus with ``spec["coherence"]`` (a gensim measure
    on the training corpus, e.g. "u_mass") that coherence of phi's top ``spec["topn"]`` words.
    """
    from .metrics import (  # noqa: PLC0415 - Numba kernels load lazily
        bag_of_words,
        document_completion,
        topic_coherence,
    )
    test = read_corpus(spec["test"])
    measure = spec.get("coherence")
    if measure:
        from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import
        train = train if train is not None else read_corpus(spec["train"])
        vocab = np.array(train.vocab, dtype=object)
        dictionary = Dictionary()
        dictionary.token2id = {w: i for i, w in enumerate(train.vocab)}
        bow = bag_of_words(train)
        topn = spec.get("topn", 10)

    def evaluate(phi, alpha=None):
        if alpha is None:
            alpha = np.full(spec["num_topics"], float(spec["alpha"]))
        h = document_completion(phi, alpha, test, sweeps=spec["eval_sweeps"],
                                burn_in=spec["eval_burn_in"], seed=spec["seed"])
        if measure:
            top = np.argsort(-phi, axis=1, kind="stable")[:, :topn]
            h[measure], _ = topic_coherence(vocab[top].tolist(), dictionary, measure, corpus=bow)
            h["coherence_topn"] = topn
        return h
    return evaluate


def _peer_split(per_iter):
    return {"total": float(np.median(per_iter)), "sample": None, "count": None,
            "allreduce": None, "other": None}


def _result(spec, s_per_iter, loglik, curve, rss, rss_end, *, whole_run_s, timing, **details):
    """The worker's JSON result; ``curve`` holds (iteration, whole-run seconds, evaluation)
    triples; ``whole_run_s`` is the training seconds of the whole run (:data:`WHOLE_RUN`)."""
    return {"iterations": spec["iterations"], "s_per_iter": s_per_iter,
            "whole_run_s": float(whole_run_s), "whole_run_note": WHOLE_RUN[spec["kind"]],
            "loglik_per_token": None if loglik is None else float(loglik),
            "loglik_definition": LOGLIK[spec["kind"]], "heldout": curve[-1][2],
            "curve": [{"iteration": it, "seconds": sec, "perplexity": h["perplexity"],
                       **({m: h[m]} if (m := spec.get("coherence")) else {})}
                      for it, sec, h in curve],
            "peak_rss_bytes": rss, "peak_rss_with_eval_bytes": rss_end,
            "rss_note": RSS_NOTE, "timing": timing, "details": details}


def _doc_term(c):
    """The corpus as a (D, V) scipy CSR matrix of int64 counts (``c`` is left untouched)."""
    import scipy.sparse  # noqa: PLC0415 - scipy.sparse is slow to import
    docs = np.repeat(np.arange(c.num_docs), c.doc_lengths())
    return scipy.sparse.coo_matrix((np.ones(c.num_tokens, dtype=np.int64), (docs, c.word_ids)),
                                   shape=(c.num_docs, c.num_words)).tocsr()


def _maxrss(who=resource.RUSAGE_SELF):
    """Peak resident set size in bytes (Linux reports KiB, macOS bytes)."""
    return resource.getrusage(who).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


if __name__ == "__main__":
    sys.exit(main())
