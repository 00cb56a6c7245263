"""Running one system of ``esca bench``: each run in its own worker process
(``python -m esca._bench_worker``, under ``mpiexec`` for several ranks), its result read back
and summarized over repeats."""

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np

from .systems import BINARIES, MODULES

log = logging.getLogger("esca")

THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
MPI_LAUNCHER_PREFIXES = ("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIR_")


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
        installed) or "failed" (a run failed; ``error`` says why), the spec's
        ``esca_settings`` (systems trained by esca.train only), and for "ok" the medians of
        the runs.
    """
    common = {"iterations": spec["iterations"], "repeats": repeats, "ranks": spec["ranks"],
              "threads": spec["threads"]}
    if "esca_settings" in spec:
        common["esca_settings"] = spec["esca_settings"]
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
    entry = {"status": "ok", "error": None, **common,
             **_summarize(runs, n_train * spec["iterations"], n_train)}
    log.info("K=%d: %s: %s tokens/s (median iteration), %s tokens/s (whole run, %.4g s), "
             "held-out perplexity %.1f", spec["num_topics"], name,
             f"{entry['tokens_per_s']:,.0f}", f"{entry['tokens_per_s_whole_run']:,.0f}",
             entry["whole_run_s"], entry["heldout_perplexity"])
    return entry


def _unavailable(spec):
    module = MODULES.get(spec["kind"])
    if module and importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install 'esca-lda[bench]')"
    program = BINARIES.get(spec["kind"])
    if program and shutil.which(program) is None:
        return (f"no {program} program on PATH (C++, not on PyPI: see 'WarpLDA' in "
                "docs/benchmarks.md for how to build it)")
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


def _summarize(runs, work, n_train):
    """Medians over repeats of each run's medians and whole-run seconds (``work``: training
    tokens x iterations); peak RSS is the maximum over repeats."""
    first = runs[0]
    s = {k: None if v is None else float(np.median([r["s_per_iter"][k] for r in runs]))
         for k, v in first["s_per_iter"].items()}
    whole = float(np.median([r["whole_run_s"] for r in runs]))
    ll = first["loglik_per_token"]
    return {
        "tokens_per_s": n_train / s["total"], "s_per_iter": s,
        "whole_run_s": whole, "tokens_per_s_whole_run": work / whole,
        "whole_run_note": first["whole_run_note"],
        "peak_rss_bytes": [max(x) for x in zip(*(r["peak_rss_bytes"] for r in runs),
                                               strict=True)],
        "peak_rss_with_eval_bytes": [max(x) for x in
                                     zip(*(r["peak_rss_with_eval_bytes"] for r in runs),
                                         strict=True)],
        "loglik_per_token": None if ll is None else float(np.median(
            [r["loglik_per_token"] for r in runs])),
        "loglik_definition": first["loglik_definition"],
        "heldout_perplexity": float(np.median([r["heldout"]["perplexity"] for r in runs])),
        "curve": first["curve"],
        "curve_note": "first run; seconds on the whole-run clock: from the start of the "
                      "training call, evaluation and JIT compilation excluded",
        "timing": first["timing"], "rss_note": first["rss_note"], "runs": runs,
    }
