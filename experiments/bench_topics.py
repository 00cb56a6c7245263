"""Wall time of ``esca topics`` and ``esca evaluate`` on trained models (issue 12, item 1).

Each command runs as a subprocess (``ESCA topics MODEL`` and ``ESCA evaluate MODEL TEST``,
stdout discarded); reported per model: the median wall seconds of ``--runs`` runs, or
``null`` with ``"stopped_after_s"`` when a run exceeded ``--timeout`` (the process is
killed and the remaining runs are skipped). ``--per-call`` also times one call of
``TopicModel.top_words(0, 10)`` in-process, with the Python of the given esca (median of 3).

Usage (from the repo root)::

    .venv/bin/python experiments/bench_topics.py --esca .venv/bin/esca \\
        --models k100.h5 k1000.h5 --test wiki.test.h5 --runs 3 --timeout 900 \\
        --out bench_topics.json

Writes JSON and prints a markdown table. Use ``--esca /path/to/old/.venv/bin/esca`` for a
before/after comparison.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PER_CALL = """\
import sys, time, statistics, esca
m = esca.load_model(sys.argv[1])
ts = []
for _ in range(3):
    t = time.perf_counter(); m.top_words(0, 10); ts.append(time.perf_counter() - t)
print(statistics.median(ts))
"""


def time_command(cmd, runs, timeout):
    """Median wall seconds of ``runs`` runs of ``cmd``, or (None, timeout) when one is stopped."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            return None, timeout, times
        times.append(time.perf_counter() - t)
    return statistics.median(times), None, times


def main(argv=None):
    """Run the benchmark; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--esca", default=os.path.join(os.path.dirname(sys.executable), "esca"),
                   help="esca executable (default: the one beside this Python)")
    p.add_argument("--models", nargs="+", required=True, metavar="MODEL.h5")
    p.add_argument("--test", required=True, metavar="TEST.h5", help="held-out corpus")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    p.add_argument("--commands", nargs="+", default=["topics", "evaluate"],
                   choices=["topics", "evaluate"])
    p.add_argument("--per-call", action="store_true",
                   help="also time one TopicModel.top_words(0, 10) call")
    p.add_argument("--label", default="", help="a name for this run (e.g. before/after)")
    p.add_argument("--out", help="JSON file to write")
    args = p.parse_args(argv)
    python = os.path.join(os.path.dirname(os.path.realpath(args.esca)), "python")
    if not os.path.exists(python):
        python = os.path.join(os.path.dirname(args.esca), "python")
    rows = []
    for model in args.models:
        with subprocess.Popen([python, "-c", "import esca,sys; m=esca.load_model(sys.argv[1]);"
                               "print(m.num_topics, m.num_words)", model],
                              stdout=subprocess.PIPE, text=True) as proc:
            K, V = map(int, proc.stdout.read().split())
        for command in args.commands:
            cmd = [args.esca, "--quiet", command, model] + ([args.test] if command == "evaluate"
                                                             else [])
            median, stopped, times = time_command(cmd, args.runs, args.timeout)
            rows.append({"label": args.label, "model": model, "K": K, "V": V,
                         "command": " ".join(os.path.basename(c) if i == 0 else c
                                             for i, c in enumerate(cmd)),
                         "median_s": median, "runs_s": times, "stopped_after_s": stopped})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        if args.per_call:
            out = subprocess.run([python, "-c", PER_CALL, model], capture_output=True,
                                 text=True, check=True)
            rows.append({"label": args.label, "model": model, "K": K, "V": V,
                         "command": "TopicModel.top_words(0, 10)",
                         "median_s": float(out.stdout.split()[-1]), "runs_s": [],
                         "stopped_after_s": None})
    result = {"esca": args.esca, "test": args.test, "runs": args.runs, "rows": rows,
              "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    print("| run | K | command | wall |")
    print("|---|---:|---|---:|")
    for r in rows:
        t = r["median_s"]
        s = f"> {r['stopped_after_s']:.0f} s (stopped)" if t is None \
            else f"{t * 1000:.2f} ms" if t < 0.1 else f"{t:.2f} s"
        print(f"| {r['label']} | {r['K']} | `{r['command']}` | {s} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
