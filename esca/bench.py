"""``esca bench``: speed, memory and held-out perplexity of ESCA and the LDA trainers a user
would pick instead, on one corpus, with one evaluator.

The corpus is split once into ``DIR/data/train.h5`` and ``DIR/data/test.h5``
(:func:`esca.evaluate.split_holdout`); every system trains on exactly the training tokens with
the same K, alpha (per topic), beta, iteration count and seed, each run in its own process
(:mod:`esca._bench_worker`) so that its peak RSS is its own. Held-out perplexity is computed
for every system by :func:`esca.evaluate.document_completion` from the system's topic-word
matrix phi, outside the timed region. Results go to ``DIR/bench.json`` (configuration, git SHA,
library versions, machine, every run), ``DIR/bench.md`` (one table per K, and the command),
``DIR/tokens_per_s.png`` and ``DIR/perplexity_vs_seconds.png``; the workers' output is kept in
``DIR/logs/``.
"""

import dataclasses
import datetime
import importlib.util
import json
import logging
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys

import numpy as np

from ._checks import MAX_ITERATIONS, check_int
from ._io import atomic_path, check_not_input, check_output_dir, check_outputs_not_inputs
from ._version import __version__
from .config import TrainConfig
from .corpus import read_corpus, write_corpus
from .errors import UserError
from .plot import new_figure, save_png

log = logging.getLogger("esca")

# name -> how its worker runs it; "threads" is also the child's NUMBA/OMP/MKL/OpenBLAS limit.
SYSTEMS = {
    "esca 1r x 1t": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 1},
    "esca 1r x 2t": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 2},
    "esca 2r x 1t": {"kind": "esca", "sampler": "esca", "ranks": 2, "threads": 1},
    "cgs 1r": {"kind": "esca", "sampler": "cgs", "ranks": 1, "threads": 1},
    "tomotopy w1": {"kind": "tomotopy", "workers": 1, "scheme": "default", "threads": 1},
    "tomotopy w2 partition": {"kind": "tomotopy", "workers": 2, "scheme": "partition",
                              "threads": 2},
    "tomotopy w2 copy_merge": {"kind": "tomotopy", "workers": 2, "scheme": "copy_merge",
                               "threads": 2},
    # gensim's documentation recommends workers = physical cores - 1.
    "gensim LdaMulticore": {"kind": "gensim", "workers": max(1, (os.cpu_count() or 2) - 1),
                            "threads": 1},
    "lda": {"kind": "lda", "threads": 1},
    "sklearn batch": {"kind": "sklearn", "method": "batch", "threads": 1},
}
MODULES = {"tomotopy": "tomotopy", "gensim": "gensim", "lda": "lda", "sklearn": "sklearn"}
THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
MPI_LAUNCHER_PREFIXES = ("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIR_")
#: Resolution of the bench figures (and of the experiments' figures).
BENCH_DPI = 120
OUTPUTS = ("bench.json", "bench.md", "tokens_per_s.png", "perplexity_vs_seconds.png")
#: Every file :func:`run_bench` writes into its folder besides the logs: the split and OUTPUTS.
WRITES = ("data/train.h5", "data/test.h5", *OUTPUTS)


@dataclasses.dataclass(frozen=True)
class Training:
    """The training settings every system gets, at every K (checked as :class:`TrainConfig`).

    Parameters
    ----------
    iterations : int
        Iterations (gensim: passes) per system, unless :func:`run_bench`'s ``iterations_for``
        says otherwise.
    alpha : float, optional
        Document-topic prior per topic, the same for every system; default 5/K.
    beta : float
        Topic-word prior (gensim's and tomotopy's ``eta``).
    seed : int
        Seed of the split, of every system and of the evaluator.
    """

    iterations: int = 100
    alpha: float | None = None
    beta: float = 0.01
    seed: int = 1


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """When and how held-out perplexity is computed (document completion).

    Parameters
    ----------
    every : int
        Held-out perplexity every this many iterations and at the end (0: at the end only).
    sweeps, burn_in : int
        Gibbs sweeps of the document-completion fold-in, and how many of them to discard
        (``burn_in < sweeps``).
    """

    every: int = 10
    sweeps: int = 30
    burn_in: int = 10


def check_evaluation(evaluation, names=None):
    """``evaluation`` with its values checked as ints.

    Parameters
    ----------
    evaluation : Evaluation
    names : dict of str to str, optional
        How each field is named in the messages (the CLI passes its flags:
        ``{"every": "--eval-every", ...}``); default ``evaluation.FIELD``.

    Returns
    -------
    Evaluation

    Raises
    ------
    UserError
        ``every`` not an integer >= 0, ``sweeps`` not in 1..MAX_ITERATIONS, ``burn_in`` not an
        integer >= 0 or not below ``sweeps``.
    """
    n = {f: f"evaluation.{f}" for f in ("every", "sweeps", "burn_in")} | (names or {})
    every = check_int(n["every"], evaluation.every, 0)
    sweeps = check_int(n["sweeps"], evaluation.sweeps, 1, MAX_ITERATIONS)
    burn_in = check_int(n["burn_in"], evaluation.burn_in, 0)
    if burn_in >= sweeps:
        raise UserError(f"{n['burn_in']} ({burn_in}) must be less than {n['sweeps']} "
                        f"({sweeps})")
    return Evaluation(every, sweeps, burn_in)


def run_bench(corpus, num_topics, out, *, training=None, evaluation=None, holdout=0.1,
              systems=None, iterations_for=None, repeats=1):
    """Benchmark every selected system at every K and write the reports into ``out``.

    Parameters
    ----------
    corpus : str or os.PathLike
        An esca HDF5 corpus or ``builtin:wiki250``.
    num_topics : sequence of int
        The K values.
    out : str or os.PathLike
        Output folder; created if missing (its parent must exist).
    training : Training, optional
        Iterations, alpha, beta and seed of every system; default ``Training()``.
    evaluation : Evaluation, optional
        When and how held-out perplexity is computed; default ``Evaluation()``.
    holdout : float
        Fraction of documents held out for perplexity, in (0, 1).
    systems : sequence of str, optional
        System names or families (first word of a name: esca, cgs, tomotopy, gensim, lda, sklearn),
        case-insensitive; default all of :data:`SYSTEMS`.
    iterations_for : mapping of str to int, optional
        Iterations for some systems (names or families), e.g. ``{"lda": 20}``.
    repeats : int
        Runs per system; reported times are medians over runs of each run's median.

    Returns
    -------
    dict
        The content of ``bench.json``.

    Raises
    ------
    UserError
        On a bad value (K < 1, alpha or beta <= 0, holdout outside (0, 1), an unknown system,
        burn-in >= sweeps, ...), an unreadable corpus, an unusable output folder, or one
        whose files (``data/train.h5`` ...) would replace the corpus.
    """
    training = Training() if training is None else training
    ks = list(dict.fromkeys(num_topics))
    if not ks:
        raise UserError("give at least one K (num_topics)")
    configs = {K: TrainConfig(num_topics=K, iterations=training.iterations,
                              alpha=training.alpha, beta=training.beta, seed=training.seed)
               for K in ks}
    base = configs[ks[0]]
    ev = check_evaluation(Evaluation() if evaluation is None else evaluation)
    repeats = check_int("repeats", repeats, 1)
    names = select_systems(systems)
    iters = dict.fromkeys(names, base.iterations)
    for key, n in (iterations_for or {}).items():
        n = check_int(f"iterations for {key!r}", n, 1, MAX_ITERATIONS)
        iters.update((name, n) for name in select_systems([key], "iterations_for")
                     if name in iters)
    out = os.fspath(out)
    inputs = [("CORPUS.h5", os.fspath(corpus))]
    check_not_input(out, inputs)
    check_outputs_not_inputs(out, WRITES, inputs)
    check_output_dir(out)
    whole, train, test, split_info, data = write_split(corpus, holdout, base.seed, out)

    def sizes(c):
        return {"D": c.num_docs, "V": c.num_words, "N": c.num_tokens}

    sha, dirty = git_revision()
    report = {
        "command": command_line(corpus, ks, out, iterations=training.iterations,
                                alpha=training.alpha, beta=training.beta, seed=training.seed,
                                holdout=holdout, systems=names,
                                iterations_for={n: i for n, i in iters.items()
                                                if i != base.iterations},
                                eval_every=ev.every, eval_sweeps=ev.sweeps,
                                eval_burn_in=ev.burn_in, repeats=repeats),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": {
            "corpus": os.fspath(corpus), "corpus_abspath": _abspath(corpus),
            "source": sizes(whole), "train": sizes(train), "test": sizes(test),
            "train_path": data["train"], "test_path": data["test"],
            "holdout": float(holdout), "split": split_info,
            "num_topics": ks, "alpha": {str(K): configs[K].alpha for K in ks},
            "alpha_rule": "5/K (default)" if training.alpha is None else "given",
            "beta": base.beta, "iterations": base.iterations, "iterations_per_system": iters,
            "seed": base.seed, "repeats": repeats, "systems": names,
            "eval": {"method": "document completion (Wallach et al. 2009): theta folded in on "
                     "the even-position tokens of each held-out document with phi fixed, the "
                     "odd-position tokens scored (esca.evaluate.document_completion)",
                     "every": ev.every, "sweeps": ev.sweeps, "burn_in": ev.burn_in,
                     "seed": training.seed},
        },
        "git_sha": sha, "git_dirty": dirty, "versions": library_versions(),
        "machine": machine_info(),
        "results": {},
    }
    for K in ks:
        rows = report["results"][str(K)] = {}
        for name in names:
            spec = worker_spec(name, train=data["train"], test=data["test"], num_topics=K,
                               alpha=configs[K].alpha, beta=base.beta, seed=base.seed,
                               iterations=iters[name], eval_every=ev.every,
                               eval_sweeps=ev.sweeps, eval_burn_in=ev.burn_in)
            rows[name] = bench_system(name, spec, repeats, out, train.num_tokens)
            write_text(os.path.join(out, "bench.json"), json.dumps(report, indent=1))
    write_text(os.path.join(out, "bench.md"), markdown(report))
    plot_tokens_per_s(report, os.path.join(out, "tokens_per_s.png"))
    plot_perplexity(report, os.path.join(out, "perplexity_vs_seconds.png"))
    return report


def write_split(corpus, holdout, seed, out):
    """Split a corpus into the benchmark's train and test parts and write them.

    Parameters
    ----------
    corpus : str or os.PathLike
        The corpus to split (a path of corpus.h5 or ``builtin:NAME``).
    holdout : float
        Fraction of documents held out for testing, in (0, 1).
    seed : int
        Seed of the split (:func:`esca.evaluate.split_holdout`).
    out : str or os.PathLike
        The benchmark folder: the parts go to ``out/data/{train,test}.h5``; ``out/data`` and
        ``out/logs`` are created.

    Returns
    -------
    tuple
        ``(whole, train, test, info, paths)``: the three :class:`esca.Corpus`, the split's
        JSON-ready description (without the document id lists) and ``{part: absolute path}``.
    """
    from .evaluate import split_holdout
    whole = read_corpus(os.fspath(corpus))
    train, test, info = split_holdout(whole, holdout, seed)
    for sub in ("data", "logs"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    paths = {}
    for part, c in (("train", train), ("test", test)):
        paths[part] = os.path.abspath(os.path.join(out, "data", f"{part}.h5"))
        write_corpus(paths[part], c.doc_ptr, c.word_ids, c.vocab,
                     provenance={"source": os.fspath(corpus), "bench_part": part,
                                 "holdout": float(holdout), "seed": seed})
        log.info("%s: D=%d V=%d N=%d -> %s", part, c.num_docs, c.num_words, c.num_tokens,
                 paths[part])
    info = {k: v for k, v in info.items() if not k.endswith("_doc_ids")}
    return whole, train, test, json.loads(json.dumps(info, default=str)), paths


def select_systems(items=None, name="systems"):
    """Names of :data:`SYSTEMS` picked by ``items`` (names or families), in table order.

    Parameters
    ----------
    items : iterable of str, optional
        System names or families (first word of a name), case-insensitive; default all.
    name : str
        How ``items`` is named in the message (the CLI passes ``"--systems"``).

    Returns
    -------
    list of str

    Raises
    ------
    UserError
        If an item matches no system.
    """
    if items is None:
        return list(SYSTEMS)
    picked = set()
    for item in items:
        key = " ".join(str(item).split()).lower()
        found = [n for n in SYSTEMS if key in (n.lower(), n.split()[0].lower())]
        if not found:
            raise UserError(f"unknown system {str(item).strip()!r} in {name} (known: "
                            + ", ".join(SYSTEMS) + "; or a family: esca, cgs, tomotopy, "
                            "gensim, lda, sklearn)")
        picked.update(found)
    return [n for n in SYSTEMS if n in picked]


def worker_spec(system, **settings):
    """The JSON-able spec of one run of ``system`` for :mod:`esca._bench_worker`.

    ``settings``: train, test (corpus paths), num_topics, alpha, beta, seed, iterations,
    eval_every, eval_sweeps, eval_burn_in.
    """
    return {"system": system, "ranks": 1, **SYSTEMS[system], **settings}


def command_line(corpus, num_topics, out, **settings):
    """The ``esca bench`` command that repeats a run, with every setting explicit."""
    s = settings
    args = ["esca", "bench", os.fspath(corpus), "-k", *map(str, num_topics),
            "--iterations", s["iterations"], "--beta", s["beta"], "--seed", s["seed"],
            "--holdout", s["holdout"], "--systems", ",".join(s["systems"]),
            "--eval-every", s["eval_every"], "--eval-sweeps", s["eval_sweeps"],
            "--eval-burn-in", s["eval_burn_in"], "--repeats", s["repeats"]]
    if s["alpha"] is not None:
        args += ["--alpha", s["alpha"]]
    for name, n in s["iterations_for"].items():
        args += ["--iterations-for", f"{name}={n}"]
    return shlex.join([*map(str, args), "--out", os.fspath(out)])


# -- running one system ------------------------------------------------------------------------

class _Failed(Exception):
    pass


def bench_system(name, spec, repeats, out, n_train):
    """Run one system ``repeats`` times, each in its own worker process.

    Parameters
    ----------
    name : str
        The system's name (a key of :data:`SYSTEMS`), used in log lines and log file names.
    spec : dict
        The worker's settings (:func:`worker_spec`).
    repeats : int
        Number of runs; the entry reports medians over them.
    out : str
        The benchmark folder; each run's worker log goes to ``out/logs/``.
    n_train : int
        Tokens of the training corpus (N), for tokens per second.

    Returns
    -------
    dict
        The system's entry of bench.json: ``status`` "ok", "skipped" (its package is not
        installed) or "failed" (a run failed; ``error`` says why), and for "ok" the
        medians of the runs.
    """
    common = {"iterations": spec["iterations"], "repeats": repeats, "ranks": spec["ranks"],
              "threads": spec["threads"]}
    reason = _unavailable(spec)
    if reason:
        log.info("K=%d: skipping %s: %s", spec["num_topics"], name, reason)
        return {"status": "skipped", "error": reason, **common}
    runs = []
    for r in range(1, repeats + 1):
        log.info("K=%d: %s, %d iterations (run %d of %d)", spec["num_topics"], name,
                 spec["iterations"], r, repeats)
        tag = f"k{spec['num_topics']}-{name.replace(' ', '_')}-run{r}"
        try:
            runs.append(_launch(spec, os.path.join(out, "logs", tag)))
        except _Failed as e:
            log.warning("K=%d: %s failed: %s", spec["num_topics"], name, e)
            return {"status": "failed", "error": str(e), **common}
    entry = {"status": "ok", "error": None, **common, **_summarize(runs, n_train)}
    log.info("K=%d: %s: %s tokens/s, %.4g s/iteration, held-out perplexity %.1f",
             spec["num_topics"], name, f"{entry['tokens_per_s']:,.0f}",
             entry["s_per_iter"]["total"], entry["heldout_perplexity"])
    return entry


def _unavailable(spec):
    module = MODULES.get(spec["kind"])
    if module and importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install 'esca-lda[bench]')"
    if spec["ranks"] > 1 and find_mpiexec() is None:
        return "no mpiexec next to python or on PATH"
    return None


def find_mpiexec():
    """``mpiexec`` beside ``sys.executable`` (the mpich wheel puts it there), else on PATH."""
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return exe if os.access(exe, os.X_OK) else shutil.which("mpiexec")


def _launch(spec, stem):
    """Run one worker; stdout and stderr go to ``stem.out`` / ``stem.err``; returns its result."""
    result = stem + ".json"
    if os.path.exists(result):
        os.unlink(result)
    cmd = [sys.executable, "-m", "esca._bench_worker", "--spec", json.dumps(spec),
           "--out", result]
    if spec["ranks"] > 1:
        cmd = [find_mpiexec(), "-n", str(spec["ranks"]), *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith(MPI_LAUNCHER_PREFIXES)}
    env.update(dict.fromkeys(THREAD_VARS, str(spec["threads"])))
    with open(stem + ".out", "w") as so, open(stem + ".err", "w") as se:
        rc = subprocess.run(cmd, stdout=so, stderr=se, env=env, check=False).returncode
    if rc != 0 or not os.path.exists(result):
        with open(stem + ".err", errors="replace") as f:
            tail = "\n".join(f.read().strip().splitlines()[-15:])
        raise _Failed(f"exit status {rc}; stderr ({stem}.err) ends with:\n{tail}")
    with open(result) as f:
        return json.load(f)


def _summarize(runs, n_train):
    """Medians over repeats of each run's medians; peak RSS is the maximum over repeats."""
    first = runs[0]
    s = {k: None if v is None else float(np.median([r["s_per_iter"][k] for r in runs]))
         for k, v in first["s_per_iter"].items()}
    ll = first["loglik_per_token"]
    return {
        "tokens_per_s": n_train / s["total"], "s_per_iter": s,
        "peak_rss_bytes": [max(x) for x in zip(*(r["peak_rss_bytes"] for r in runs))],
        "peak_rss_with_eval_bytes": [max(x) for x in
                                     zip(*(r["peak_rss_with_eval_bytes"] for r in runs))],
        "loglik_per_token": None if ll is None else float(np.median(
            [r["loglik_per_token"] for r in runs])),
        "loglik_definition": first["loglik_definition"],
        "heldout_perplexity": float(np.median([r["heldout"]["perplexity"] for r in runs])),
        "curve": first["curve"],
        "curve_note": "first run; seconds are training seconds only (evaluation excluded)"
                      + (f"; {first['details']['curve_clock']}"
                         if "curve_clock" in first["details"] else ""),
        "timing": first["timing"], "rss_note": first["rss_note"], "runs": runs,
    }


# -- context -----------------------------------------------------------------------------------

def git_revision():
    """(``git rev-parse HEAD``, whether tracked files differ from it) of the esca source tree;
    (None, None) when it is not a git checkout or git is missing."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args):
        try:
            r = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                               timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if sha else None
    return sha, None if status is None else bool(status)


def library_versions():
    """Versions of Python, esca, the libraries it uses and the peers (None: not installed).

    ``mpi_library`` is the first line of ``MPI.Get_library_version()``, asked in a child
    process so that this one does not initialise MPI.
    """
    from importlib import metadata
    v = {"python": platform.python_version(), "esca": __version__}
    for pkg in ("numpy", "numba", "mpi4py", "mpich", "h5py", "scipy", "gensim", "tomotopy",
                "lda", "scikit-learn", "matplotlib"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = None
    r = subprocess.run([sys.executable, "-c",
                        "from mpi4py import MPI; print(MPI.Get_library_version())"],
                       capture_output=True, text=True, check=False)
    lines = r.stdout.strip().splitlines() if r.returncode == 0 else []
    v["mpi_library"] = " ".join(lines[0].split()) if lines else None
    return v


def machine_info():
    """Platform, CPU model, logical cores and total memory (bytes) of this machine."""
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f
                        if ln.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        memory = None
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_model": cpu,
            "cores": os.cpu_count(), "memory_bytes": memory}


# -- reports -----------------------------------------------------------------------------------

COLUMNS = ("system", "iterations", "tokens/s", "s/iter", "sample", "count", "allreduce",
           "other", "MiB exchanged/iter", "state B/token", "peak RSS MiB", "LL/token",
           "held-out perplexity")


def markdown(report):
    """``bench.md``: the setting, one table per K, and the command that produced it."""
    c, m, v = report["config"], report["machine"], report["versions"]
    tr, te = c["train"], c["test"]
    lines = [
        f"# esca bench: {c['corpus']}", "",
        (f"Train D={tr['D']:,} V={tr['V']:,} N={tr['N']:,}; held out {c['holdout']:g} of the "
         f"documents: D={te['D']:,} N={te['N']:,}. alpha per topic "
         f"{', '.join(f'{a:g} (K={k})' for k, a in c['alpha'].items())}, beta {c['beta']:g}, "
         f"seed {c['seed']}, {c['repeats']} run(s) per system."),
        f"Machine: {m['cpu_model']}, {m['cores']} logical cores, "
        + (f"{m['memory_bytes'] / 2**30:.1f} GiB; " if m["memory_bytes"] else "")
        + f"Python {v['python']}, esca {v['esca']} (git {report['git_sha'] or 'n/a'}"
        + (" with local changes" if report["git_dirty"] else "") + "), "
        f"{v['mpi_library'] or 'MPI n/a'}.", "",
        ("tokens/s = train N / median seconds per iteration (ESCA and CGS: iterations 2..N, "
         "leaving out JIT compilation; peers: median over timed chunks or passes, lda: whole "
         "fit / iterations). sample / count / allreduce / other split ESCA's iteration "
         "('-' for peers); sample includes building the per-word tables. MiB exchanged/iter: "
         "bytes rank 0 received in the count exchange. state B/token: ESCA's per-token and "
         "per-document state (everything but the word-topic tables). Peak RSS per process before the first held-out evaluation. "
         "LL/token is each system's own training log-likelihood (definitions in bench.json). "
         f"Held-out perplexity: document completion ({c['eval']['sweeps']} sweeps, "
         f"{c['eval']['burn_in']} burn-in) from each system's phi, by esca's evaluator."), ""]
    for K, rows in report["results"].items():
        lines += [f"## K = {K}", "", "| " + " | ".join(COLUMNS) + " |",
                  "|---|" + "---:|" * (len(COLUMNS) - 1)]
        lines += ["| " + " | ".join(_row(name, e)) + " |" for name, e in rows.items()]
        lines.append("")
    lines += ["Command:", "", "```", report["command"], "```", ""]
    return "\n".join(lines)


def _row(name, e):
    if e["status"] != "ok":
        note = f"skipped: {e['error']}" if e["status"] == "skipped" else "failed (see bench.json)"
        return [name, "-", note] + ["-"] * (len(COLUMNS) - 3)
    s = e["s_per_iter"]
    split = ["-" if s[k] is None else f"{s[k]:.4g}" for k in ("sample", "count", "allreduce",
                                                               "other")]
    ll = "n/a (variational)" if e["loglik_per_token"] is None else f"{e['loglik_per_token']:.4f}"
    d = e["runs"][0]["details"]
    exch = ("-" if "exchange_bytes_per_iter" not in d
            else f"{d['exchange_bytes_per_iter'] / 2**20:,.1f}")
    state = "-" if "state_bytes_per_token" not in d else f"{d['state_bytes_per_token']:.1f}"
    return [name, str(e["iterations"]), f"{e['tokens_per_s']:,.0f}", f"{s['total']:.4g}", *split,
            exch, state,
            ", ".join(f"{b / 2**20:,.0f}" for b in e["peak_rss_bytes"]), ll,
            f"{e['heldout_perplexity']:,.1f}"]


def _color(name):
    return f"C{list(SYSTEMS).index(name) % 10}"


def plot_tokens_per_s(report, path):
    """Grouped bars of tokens/s: one group per system, one bar per K, log y axis."""
    results = report["results"]
    names = [n for n in report["config"]["systems"]
             if any(rows[n]["status"] == "ok" for rows in results.values())]
    fig = new_figure((max(6.0, 1.0 * len(names) + 2), 4.8))
    ax = fig.add_subplot()
    x, width = np.arange(len(names)), 0.8 / len(results)
    for j, (K, rows) in enumerate(results.items()):
        tps = [rows[n]["tokens_per_s"] if rows[n]["status"] == "ok" else math.nan for n in names]
        ax.bar(x + (j - (len(results) - 1) / 2) * width, tps, width, label=f"K = {K}")
    if names:
        ax.set_yscale("log")
        ax.legend()
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel("tokens/s (median; log scale)")
    ax.set_title(f"Training throughput on {os.path.basename(report['config']['corpus'])}")
    save_png(fig, path, dpi=BENCH_DPI)


def plot_perplexity(report, path):
    """Held-out perplexity against training seconds: one panel per K, one line per system."""
    results = report["results"]
    fig = new_figure((4.5 * len(results) + 2.5, 4.5))
    legend = {}
    for ax, (K, rows) in zip(fig.subplots(1, len(results), squeeze=False)[0], results.items()):
        for name, e in rows.items():
            if e["status"] == "ok":
                legend[name], = ax.plot([p["seconds"] for p in e["curve"]],
                                        [p["perplexity"] for p in e["curve"]], marker="o",
                                        markersize=3, color=_color(name))
        if ax.lines:
            ax.set_xscale("log")
        ax.set_xlabel("training seconds (log scale; evaluation and JIT excluded)")
        ax.set_ylabel("held-out perplexity")
        ax.set_title(f"K = {K}")
    if legend:
        fig.legend(legend.values(), legend.keys(), loc="outside right upper", fontsize=8)
    save_png(fig, path, dpi=BENCH_DPI)


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (:func:`esca._io.atomic_path`).

    Parameters
    ----------
    path : str
        The file written.
    text : str
        Its contents.
    """
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def _abspath(corpus):
    corpus = os.fspath(corpus)
    return corpus if corpus.startswith("builtin:") else os.path.abspath(corpus)
