"""One system of ``esca bench``, run in its own process so that its peak RSS is its own.

``python -m esca._bench_worker --spec JSON --out RESULT.json`` (under ``mpiexec -n R`` for
ESCA at R ranks) trains one system on the bench's ``train.h5``, scores held-out perplexity
from the system's topic-word matrix at every evaluation point, outside the timed region, and
writes a JSON result (rank 0 only). The spec is made by :func:`esca.bench.worker_spec`.
"""

import argparse
import json
import logging
import resource
import sys
import time
import traceback

import numpy as np

from .corpus import read_corpus
from .distributed import abort_job, barrier, gather, get_comm
from .errors import UserError, exit_status

log = logging.getLogger("esca")

LOGLIK = {
    "esca": "joint log p(w, z) / N of the last iteration's counts (Griffiths & Steyvers 2004)",
    "tomotopy": "LDAModel.ll_per_word after the last iteration: tomotopy's joint log p(w, z) / N",
    "gensim": "n/a (variational): LdaMulticore has no sampled z; its ELBO is not comparable",
    "lda": "lda.LDA.loglikelihood() / N: joint log p(w, z) of the last sample",
    "sklearn": "n/a (variational): LatentDirichletAllocation has no sampled z",
}
RSS_NOTE = ("peak_rss_bytes: getrusage maxrss when training first reached an evaluation point, "
            "before the evaluation (training only); peak_rss_with_eval_bytes: at the end")


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

    Seconds per iteration are medians over iterations 2..N of rank 0's log (iteration 1
    includes Numba's JIT compilation). Held-out perplexity is computed in the ``train()``
    callback on rank 0 while the other ranks wait at a barrier; the log's seconds do not
    include the callback, so evaluation is outside the timing.
    """
    from .infer import phi_from_counts
    from .train import train
    comm = get_comm()  # MPI.COMM_WORLD
    rank = comm.Get_rank()
    evaluate = _evaluator(spec) if rank == 0 else None
    points, train_rss = [], []

    def callback(rec):
        if not _is_eval_point(rec["iteration"], spec):
            return
        if not train_rss:
            train_rss.append(_maxrss())
        if rank == 0:
            phi = phi_from_counts(rec["n_wk"].T, rec["beta"])
            points.append((rec["iteration"], evaluate(phi, rec["alpha"].copy())))
        barrier(comm)

    model = train(spec["train"], num_topics=spec["num_topics"], iterations=spec["iterations"],
                  alpha=spec["alpha"], beta=spec["beta"], seed=spec["seed"],
                  sampler=spec["sampler"], threads=spec["threads"], eval_every=0, comm=comm,
                  callback=callback, optimize_interval=spec.get("optimize_interval", 0),
                  optimize_burn_in=spec.get("optimize_burn_in", 200))
    rss, rss_end = gather(comm, train_rss[0]), gather(comm, _maxrss())
    if rank != 0:
        return None
    lg = model.log
    sec = lg["seconds"]
    parts = {"total": sec, "sample": lg["sample_s"], "count": lg["count_s"],
             "allreduce": lg["allreduce_s"]}
    parts["other"] = sec - parts["sample"] - parts["count"] - parts["allreduce"]
    timed = slice(1, None) if len(sec) > 1 else slice(None)
    s_per_iter = {k: float(np.median(v[timed])) for k, v in parts.items()}
    # x-axis: cumulative training seconds with iteration 1 (JIT) replaced by the median.
    clock = np.cumsum(np.concatenate([[s_per_iter["total"]], sec[1:]]))
    curve = [(it, float(clock[it - 1]), h) for it, h in points]
    if len(sec) > 1:
        which = (f"median over iterations 2..N; iteration 1 ({sec[0]:.4g} s) includes JIT "
                 "compilation and is left out")
    else:
        which = "one iteration only, which includes JIT compilation"
    return _result(spec, s_per_iter, float(lg["loglik_per_token"][-1]), curve, rss, rss_end,
                   timing="per-iteration seconds of rank 0's training log (sweep + count "
                   f"rebuild + allreduce), {which}",
                   curve_clock="cumulative training seconds; iteration 1 counted as the median "
                   "iteration time instead of its measured time (JIT)",
                   first_iteration_s=float(sec[0]), kernel=model.info.get("kernel"),
                   tables_s=float(np.median(lg["tables_s"][timed])),
                   exchange_bytes_per_iter=float(np.median(lg["exchange_bytes"][timed])),
                   state_bytes_per_token=model.info["state_bytes_per_token"],
                   table_bytes_per_rank=model.info["table_bytes_per_rank"],
                   ranks=model.info["ranks"], threads=model.info["threads"],
                   optimize_interval=spec.get("optimize_interval", 0),
                   optimize_burn_in=spec.get("optimize_burn_in", 200),
                   alpha_sum=float(model.alpha.sum()), beta=float(model.beta))


def run_tomotopy(spec):
    """tomotopy ``LDAModel`` trained in timed chunks of ``eval_every`` iterations.

    ``train(0)`` initialises the model untimed; ``optim_interval = 0`` keeps alpha fixed.
    The topic-word counts are read back as ``get_topic_word_dist(k, normalize=False) - eta``
    and mapped from tomotopy's vocabulary order to ``train.h5``'s.
    """
    import tomotopy as tp

    from .infer import phi_from_counts
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    K, V = spec["num_topics"], train.num_words
    mdl = tp.LDAModel(tw=tp.TermWeight.ONE, min_cf=0, rm_top=0, k=K, alpha=spec["alpha"],
                      eta=spec["beta"], seed=spec["seed"])
    vocab = np.array(train.vocab, dtype=object)
    for a, b in zip(train.doc_ptr[:-1], train.doc_ptr[1:]):
        if b > a:
            mdl.add_doc(vocab[train.word_ids[a:b]].tolist())
    scheme = getattr(tp.ParallelScheme, spec["scheme"].upper())
    workers = spec["workers"]
    mdl.train(0, workers=workers, parallel=scheme)
    mdl.optim_interval = 0
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

    per_iter, curve, rss = _run_chunks(spec, chunk, phi, evaluate)
    return _result(spec, _peer_split(per_iter), float(mdl.ll_per_word), curve, rss, [_maxrss()],
                   timing="seconds of each train() chunk of eval_every iterations divided by "
                   "its iterations, median over chunks; train(0) initialisation untimed",
                   workers=workers, scheme=spec["scheme"])


def run_gensim(spec):
    """gensim ``LdaMulticore`` (online variational Bayes), one timed ``update()`` per pass.

    One pass over the corpus counts as one iteration. Its topic-word matrix is the
    normalised variational parameter lambda (``state.get_lambda()``) in float64.
    """
    from gensim.models import LdaMulticore
    train = read_corpus(spec["train"])
    evaluate = _evaluator(spec, train)
    X = _doc_term(train)
    bow = [list(zip(X.indices[a:b].tolist(), X.data[a:b].tolist()))
           for a, b in zip(X.indptr[:-1], X.indptr[1:])]
    K = spec["num_topics"]
    mdl = LdaMulticore(corpus=None, num_topics=K, id2word=dict(enumerate(train.vocab)),
                       workers=spec["workers"], alpha=np.full(K, spec["alpha"]),
                       eta=spec["beta"], random_state=spec["seed"], eval_every=None)

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

    per_iter, curve, rss_train = _run_chunks(spec, chunk, phi, evaluate, rss)
    return _result(spec, _peer_split(per_iter), None, curve, rss_train, rss(),
                   timing="seconds of each update() call (one pass over the corpus, including "
                   "starting gensim's worker pool), median over passes",
                   rss_processes="[main process, largest worker process]",
                   workers=spec["workers"])


def run_lda(spec):
    """The ``lda`` package's collapsed Gibbs sampler; one timed ``fit()``, evaluated at the end."""
    import lda

    from .infer import phi_from_counts
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
                   [(n, total, h)], [rss], [_maxrss()],
                   timing="whole fit() divided by the iterations (includes lda's "
                   "initialisation, which turns the matrix into token lists, and its two "
                   "log-likelihood evaluations)")


def run_sklearn(spec):
    """scikit-learn's ``LatentDirichletAllocation`` (batch variational Bayes, Hoffman, Blei &
    Bach 2010); one timed ``fit()`` of ``max_iter`` EM iterations, evaluated at the end.

    Its topic-word matrix is ``components_`` (the variational parameter lambda) normalised
    to rows summing to 1, in float64.
    """
    from sklearn.decomposition import LatentDirichletAllocation
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
                   timing="whole fit() divided by its EM iterations (max_iter)",
                   learning_method=spec["method"], n_iter=int(mdl.n_iter_))


RUNNERS = {"esca": run_esca, "tomotopy": run_tomotopy, "gensim": run_gensim, "lda": run_lda,
           "sklearn": run_sklearn}


# -- helpers ---------------------------------------------------------------------------------

def _is_eval_point(it, spec):
    every = spec["eval_every"]
    return it == spec["iterations"] or (every > 0 and it % every == 0)


def _run_chunks(spec, chunk, phi, evaluate, rss=None):
    """Train in chunks ending at the evaluation points; evaluate between chunks, untimed.

    ``chunk(m)`` trains m iterations and returns (iterations, seconds) pairs of its timed
    units. Returns (seconds per iteration of every unit, (iteration, seconds, evaluation)
    triples, RSS before the first evaluation as a list of bytes).
    """
    rss = rss or (lambda: [_maxrss()])
    n = spec["iterations"]
    stops = [it for it in range(1, n + 1) if _is_eval_point(it, spec)]
    per_iter, curve, clock, done, rss_train = [], [], 0.0, 0, None
    for stop in stops:
        units = chunk(stop - done)
        per_iter += [s / m for m, s in units]
        clock += sum(s for _, s in units)
        done = stop
        rss_train = rss_train or rss()
        curve.append((stop, clock, evaluate(phi())))
    return per_iter, curve, rss_train


def _evaluator(spec, train=None):
    """``evaluate(phi, alpha=None)``: the held-out document completion of ``phi`` (alpha
    defaults to the spec's symmetric alpha), plus with ``spec["coherence"]`` (a gensim measure
    on the training corpus, e.g. "u_mass") that coherence of phi's top ``spec["topn"]`` words.
    """
    from .metrics import bag_of_words, document_completion, topic_coherence
    test = read_corpus(spec["test"])
    measure = spec.get("coherence")
    if measure:
        from gensim.corpora import Dictionary
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


def _result(spec, s_per_iter, loglik, curve, rss, rss_end, timing, **details):
    """The worker's JSON result; ``curve`` holds (iteration, seconds, evaluation) triples."""
    return {"iterations": spec["iterations"], "s_per_iter": s_per_iter,
            "loglik_per_token": None if loglik is None else float(loglik),
            "loglik_definition": LOGLIK[spec["kind"]], "heldout": curve[-1][2],
            "curve": [{"iteration": it, "seconds": sec, "perplexity": h["perplexity"],
                       **({m: h[m]} if (m := spec.get("coherence")) else {})}
                      for it, sec, h in curve],
            "peak_rss_bytes": rss, "peak_rss_with_eval_bytes": rss_end,
            "rss_note": RSS_NOTE, "timing": timing, "details": details}


def _doc_term(c):
    """The corpus as a (D, V) scipy CSR matrix of int64 counts (``c`` is left untouched)."""
    import scipy.sparse
    docs = np.repeat(np.arange(c.num_docs), c.doc_lengths())
    return scipy.sparse.coo_matrix((np.ones(c.num_tokens, dtype=np.int64), (docs, c.word_ids)),
                                   shape=(c.num_docs, c.num_words)).tocsr()


def _maxrss(who=resource.RUSAGE_SELF):
    """Peak resident set size in bytes (Linux reports KiB, macOS bytes)."""
    return resource.getrusage(who).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


if __name__ == "__main__":
    sys.exit(main())
