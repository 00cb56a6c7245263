"""Quality parity: held-out perplexity and coherence of ESCA, collapsed Gibbs, tomotopy and gensim.

The ESCA paper (Zaheer et al., AISTATS 2016) claims "predictive power competitive with
collapsed Gibbs sampling and variational inference". This experiment measures it. For every
corpus and every K it trains, each in its own process on one core (so that equal wall-clock
means equal compute):

* ``esca``: ESCA, symmetric alpha = 5/K and beta;
* ``esca optimized``: the same with ``--optimize-interval 10 --optimize-burn-in 50``
  (Minka's fixed point for an asymmetric alpha and a symmetric beta; Wallach, Mimno &
  McCallum, NIPS 2009);
* ``cgs``: our collapsed Gibbs baseline (Griffiths & Steyvers, PNAS 2004);
* ``tomotopy``: tomotopy's ``LDAModel`` with 1 worker (if installed);
* ``gensim``: gensim's ``LdaMulticore`` with 1 worker, one pass per iteration (if installed).

Every system trains on the same 90% of the documents (``esca.evaluate.split_holdout``, seed
1) and is scored the same way at its evaluation points, outside the timed region, from its
topic-word matrix phi: held-out perplexity by document completion (Wallach et al., ICML 2009;
``esca.evaluate.document_completion``, with the alpha the system has at that point) and u_mass
coherence of the top 10 words on the training documents (gensim's ``CoherenceModel``).
Training seconds exclude evaluation and Numba's JIT compilation and, since esca bench's
whole-run clock, include setup and iteration 1 for every system.

Each (corpus, K, system) run is a unit whose result is kept in
``OUT/CORPUS/kK/SYSTEM.json``; a unit whose result exists is not run again (``--force`` reruns),
so the experiment can be resumed or split between processes with ``--only``. At the end (or
with ``--report-only``) the units found are summarised into ``OUT/quality_parity.json``,
``OUT/quality_parity.md`` and one PNG per (corpus, K) (perplexity against iterations and
against seconds, u_mass against iterations).

Usage (from the repo root, after ``make install`` and ``.venv/bin/pip install -e '.[bench]'``)::

    .venv/bin/python experiments/quality_parity.py \\
        --corpus 20newsgroups=../shared/corpora/20newsgroups \\
        --corpus wikipedia_medium=../shared/corpora/wikipedia_medium -k 20 100 1000 \\
        --iterations 200 --out /tmp/quality_parity

A corpus is a prepared esca HDF5 file or a folder holding ``docword.*.txt.gz`` and
``vocab.*.txt`` (UCI bag of words), which is prepared into ``OUT/CORPUS/corpus.h5``.
"""

import argparse
import fnmatch
import glob
import json
import logging
import math
import os
import subprocess
import sys

import numpy as np

from esca import bench
from esca.bench import BENCH_DPI, bench_system, write_text
from esca.config import TrainConfig
from esca.corpus import read_corpus
from esca.plot import new_figure, save_png

log = logging.getLogger("esca")

SYSTEMS = {
    "esca": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 1},
    "esca optimized": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 1,
                       "esca_settings": {"optimize_interval": 10, "optimize_burn_in": 50}},
    "cgs": {"kind": "esca", "sampler": "cgs", "ranks": 1, "threads": 1},
    "tomotopy": {"kind": "tomotopy", "workers": 1, "scheme": "default", "threads": 1},
    "gensim": {"kind": "gensim", "workers": 1, "threads": 1},
}
#: Goals of issue 4: ESCA's perplexity within this fraction of CGS's after the iterations.
PARITY_TOLERANCE = {20: 0.02, 100: 0.02, 1000: 0.05}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", required=True, metavar="NAME=PATH",
                   help="a corpus: an esca HDF5 file or a UCI folder (repeatable)")
    p.add_argument("-k", "--num-topics", type=int, nargs="+", default=[20, 100, 1000])
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--iterations-for", action="append", default=[], metavar="KEY=N",
                   help="iterations (gensim: passes) of some units; KEY is a glob over "
                        "CORPUS/K/SYSTEM, e.g. 'wikipedia_medium/1000/cgs=100' or '*/gensim=10'")
    p.add_argument("--eval-every", type=int, default=20,
                   help="evaluate every this many iterations and at the end (gensim: every "
                        "pass when it runs at most 20 passes)")
    p.add_argument("--eval-sweeps", type=int, default=30)
    p.add_argument("--eval-burn-in", type=int, default=10)
    p.add_argument("--beta", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--holdout", type=float, default=0.1)
    p.add_argument("--systems", default=",".join(SYSTEMS),
                   help="comma-separated, from: " + ", ".join(SYSTEMS))
    p.add_argument("--only", action="append", default=[], metavar="GLOB",
                   help="run only the units CORPUS/K/SYSTEM matching a glob (repeatable)")
    p.add_argument("--force", action="store_true", help="rerun units whose result exists")
    p.add_argument("--report-only", action="store_true", help="only summarise existing units")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        p.error(f"unknown system {unknown[0]!r} (known: {', '.join(SYSTEMS)})")
    corpora = dict(_parse_pair(c, "--corpus") for c in args.corpus)
    overrides = [_parse_pair(x, "--iterations-for") for x in args.iterations_for]
    os.makedirs(args.out, exist_ok=True)

    if not args.report_only:
        for name, source in corpora.items():
            data = _prepare(name, source, args)
            for K in args.num_topics:
                for system in systems:
                    unit = f"{name}/{K}/{system}"
                    if args.only and not any(fnmatch.fnmatch(unit, g) for g in args.only):
                        continue
                    path = _unit_path(args.out, name, K, system)
                    if os.path.exists(path) and not args.force:
                        log.info("%s: done already (%s)", unit, path)
                        continue
                    n = args.iterations
                    for key, value in overrides:
                        if fnmatch.fnmatch(unit, key) or fnmatch.fnmatch(unit, f"*/{key}"):
                            n = int(value)
                    _run_unit(unit, system, K, n, data, args, path)
    report = summarise(args.out, args)
    write_text(os.path.join(args.out, "quality_parity.json"), json.dumps(report, indent=1))
    write_text(os.path.join(args.out, "quality_parity.md"), markdown(report))
    for name, by_k in report["results"].items():
        for K, rows in by_k.items():
            plot(rows, f"{name}, K = {K}", os.path.join(args.out, f"{name}_k{K}.png"))
    log.info("wrote %s", os.path.join(args.out, "quality_parity.md"))
    return 0


def _parse_pair(text, option):
    key, sep, value = text.rpartition("=")
    if not sep or not key or not value:
        raise SystemExit(f"quality_parity: error: {option} expects KEY=VALUE, got {text!r}")
    return key, value


def _unit_path(out, name, K, system):
    return os.path.join(out, name, f"k{K}", system.replace(" ", "_") + ".json")


def _prepare(name, source, args):
    """Prepare (if a UCI folder) and split the corpus once; returns the train/test paths."""
    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    data = {part: os.path.abspath(os.path.join(folder, "data", f"{part}.h5"))
            for part in ("train", "test")}
    if all(os.path.exists(p) for p in data.values()):
        return data
    if os.path.isdir(source):
        docword = glob.glob(os.path.join(source, "docword.*.txt.gz"))
        vocab = glob.glob(os.path.join(source, "vocab.*.txt"))
        if len(docword) != 1 or len(vocab) != 1:
            raise SystemExit(f"quality_parity: error: {source} holds no single docword.*.txt.gz "
                             "and vocab.*.txt")
        h5 = os.path.join(folder, "corpus.h5")
        if not os.path.exists(h5):
            esca = os.path.join(os.path.dirname(sys.executable), "esca")
            subprocess.run([esca, "prepare", docword[0], "--format", "uci", "--vocab", vocab[0],
                            "--out", h5], check=True)
        source = h5
    bench.write_split(source, args.holdout, args.seed, folder)
    return data


def _run_unit(unit, system, K, iterations, data, args, path):
    spec = {"system": system, "ranks": 1, **SYSTEMS[system],
            "train": data["train"], "test": data["test"],
            "num_topics": K, "alpha": TrainConfig(num_topics=K, iterations=1).alpha,
            "beta": args.beta, "seed": args.seed, "iterations": iterations,
            "eval_every": 1 if system == "gensim" and iterations <= 20 else args.eval_every,
            "eval_sweeps": args.eval_sweeps, "eval_burn_in": args.eval_burn_in,
            "coherence": "u_mass", "topn": 10}
    folder = os.path.dirname(path)
    os.makedirs(os.path.join(folder, "logs"), exist_ok=True)
    n_train = read_corpus(data["train"]).num_tokens
    # bench_system writes its worker logs under OUT/logs/; here OUT is the unit's folder.
    entry = bench_system(system, spec, 1, folder, n_train)
    entry["unit"], entry["spec"] = unit, spec
    entry["git_sha"], entry["git_dirty"] = bench.git_revision()
    entry["versions"], entry["machine"] = bench.library_versions(), bench.machine_info()
    write_text(path, json.dumps(entry, indent=1))


# -- the report --------------------------------------------------------------------------------

def summarise(out, args):
    """Collect every unit result under ``out`` and compare ESCA with the others."""
    results = {}
    for path in sorted(glob.glob(os.path.join(out, "*", "k*", "*.json"))):
        with open(path) as f:
            e = json.load(f)
        name, K, system = e["unit"].split("/")
        results.setdefault(name, {}).setdefault(int(K), {})[system] = e
    for name, by_k in results.items():
        results[name] = {K: dict(sorted(rows.items(), key=lambda kv: list(SYSTEMS).index(kv[0])))
                         for K, rows in sorted(by_k.items())}
    comparisons = {name: {K: compare(rows) for K, rows in by_k.items()}
                   for name, by_k in results.items()}
    first = next((e for by_k in results.values() for rows in by_k.values()
                  for e in rows.values()), None)
    return {"command": " ".join(sys.argv), "results": results, "comparisons": comparisons,
            "machine": first and first["machine"], "versions": first and first["versions"],
            "git_sha": first and first["git_sha"]}


def _final(e, key="perplexity"):
    return e["curve"][-1][key] if e.get("status") == "ok" and e["curve"] else None


def at_time(e, seconds):
    """The system's last evaluation point with training seconds <= ``seconds``, or None."""
    if e.get("status") != "ok":
        return None
    done = [p for p in e["curve"] if p["seconds"] <= seconds * (1 + 1e-9)]
    return done[-1] if done else None


def compare(rows):
    """ESCA against the others.

    * ``esca_over_cgs``: ESCA's perplexity over CGS's at the last iteration both reached, - 1;
    * ``equal_time[name]``: at T = the shorter of the two systems' training times, each
      system's perplexity at its last evaluation point within T (None if it had none);
    * ``optimized_over_symmetric``: final perplexity with optimized priors over ESCA's, - 1.
    """
    esca = rows.get("esca")
    if not esca or esca.get("status") != "ok":
        return {}
    c = {"esca_iterations": esca["iterations"], "esca_perplexity": _final(esca)}
    cgs = rows.get("cgs")
    if cgs and cgs.get("status") == "ok":
        it = min(esca["iterations"], cgs["iterations"])
        pe = next((p["perplexity"] for p in esca["curve"] if p["iteration"] == it), None)
        pc = next((p["perplexity"] for p in cgs["curve"] if p["iteration"] == it), None)
        if pe and pc:
            c["at_iteration"] = it
            c["esca_over_cgs"] = pe / pc - 1.0
    c["equal_time"] = {}
    for name, e in rows.items():
        if name == "esca" or e.get("status") != "ok":
            continue
        t = min(esca["curve"][-1]["seconds"], e["curve"][-1]["seconds"])
        mine, theirs = at_time(esca, t), at_time(e, t)
        c["equal_time"][name] = {
            "seconds": t,
            "esca": None if mine is None else {k: mine[k] for k in ("iteration", "perplexity")},
            "other": None if theirs is None else {k: theirs[k] for k in ("iteration",
                                                                          "perplexity")}}
    opt = rows.get("esca optimized")
    if opt and opt.get("status") == "ok" and opt["iterations"] == esca["iterations"]:
        c["optimized_over_symmetric"] = _final(opt) / _final(esca) - 1.0
    return c


def markdown(report):
    m, v = report["machine"] or {}, report["versions"] or {}
    lines = ["# Quality parity", "",
             ("Each system on one core (ESCA and CGS: 1 thread; tomotopy: 1 worker; gensim "
             "LdaMulticore: 1 worker, one pass per iteration). alpha = 5/K per topic, beta = "
             "0.01, seed 1; 10% of the documents held out. Perplexity: document completion "
             "(30 fold-in sweeps, 10 burn-in) from each system's phi and alpha; u_mass: gensim "
             "CoherenceModel, top 10 words, on the training documents. Seconds: training only."),
             "", (f"Machine: {m.get('cpu_model')}, {m.get('cores')} logical cores; esca git "
             f"{report['git_sha']}; tomotopy {v.get('tomotopy')}, gensim {v.get('gensim')}."), ""]
    cols = ["K", "system", "iterations", "s/iter", "train s", "perplexity", "u_mass",
            "ESCA vs CGS, equal iterations", "equal seconds: ESCA / this system"]
    for name, by_k in report["results"].items():
        lines += [f"## {name}", "", "| " + " | ".join(cols) + " |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for K, rows in by_k.items():
            comp = report["comparisons"][name][K]
            for system, e in rows.items():
                if e.get("status") != "ok":
                    lines.append(f"| {K} | {system} | - | {e.get('status')}: "
                                 f"{str(e.get('error'))[:60]} | | | | | |")
                    continue
                last = e["curve"][-1]
                vs = ""
                if system == "esca" and "esca_over_cgs" in comp:
                    vs = f"{comp['esca_over_cgs']:+.2%} (it {comp['at_iteration']})"
                elif system == "esca optimized" and "optimized_over_symmetric" in comp:
                    vs = f"{comp['optimized_over_symmetric']:+.2%} vs esca"
                eq = _equal_time_cell(comp.get("equal_time", {}).get(system))
                um = last.get("u_mass")
                lines.append(f"| {K} | {system} | {e['iterations']} | "
                             f"{e['s_per_iter']['total']:.4g} | {last['seconds']:,.1f} | "
                             f"{last['perplexity']:,.1f} | "
                             f"{'-' if um is None else f'{um:.3f}'} | {vs} | {eq} |")
        lines.append("")
    lines += ["Command:", "", "```", report["command"], "```", ""]
    return "\n".join(lines)


def _equal_time_cell(q):
    if q is None:
        return ""

    def one(p):
        return "none yet" if p is None else f"{p['perplexity']:,.1f} (it {p['iteration']})"
    return f"{q['seconds']:,.0f} s: {one(q['esca'])} / {one(q['other'])}"


def plot(rows, title, path):
    """Perplexity against iterations and seconds, u_mass against iterations."""
    fig = new_figure((15, 4.5))
    ax_it, ax_s, ax_c = fig.subplots(1, 3)
    for system, e in rows.items():
        if e.get("status") != "ok":
            continue
        cv = e["curve"]
        style = {"marker": "o", "markersize": 3, "color": f"C{list(SYSTEMS).index(system)}",
                 "label": system}
        ax_it.plot([p["iteration"] for p in cv], [p["perplexity"] for p in cv], **style)
        ax_s.plot([p["seconds"] for p in cv], [p["perplexity"] for p in cv], **style)
        ax_c.plot([p["iteration"] for p in cv], [p.get("u_mass", math.nan) for p in cv],
                  **style)
    ax_it.set(xlabel="iteration (gensim: pass)", ylabel="held-out perplexity", title=title)
    ax_s.set(xlabel="training seconds (log scale)", ylabel="held-out perplexity", xscale="log")
    ax_c.set(xlabel="iteration (gensim: pass)", ylabel="u_mass coherence (top 10)")
    for ax in (ax_it, ax_s):
        vals = [p["perplexity"] for e in rows.values() if e.get("status") == "ok"
                for p in e["curve"]]
        if vals:  # the first points of slow starters would squash the rest
            ax.set_ylim(0.97 * min(vals), min(max(vals), 1.6 * float(np.median(vals))))
    ax_it.legend(fontsize=8)
    save_png(fig, path, dpi=BENCH_DPI)


if __name__ == "__main__":
    sys.exit(main())
