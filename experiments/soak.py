"""Soak run: many iterations with the resident memory sampled after every one (issue 5).

Trains ESCA for ``--iterations`` iterations (default 500) on a corpus (default
``../shared/corpora/kjv_chapters``, prepared into ``--out``'s folder when given as a UCI folder)
with checkpoints every ``--checkpoint-every`` iterations, reads this process's resident set size
from ``/proc/self/statm`` after every iteration, and fits a least-squares line to RSS against
iteration after the warm-up (``--warm-up`` iterations, default 50: JIT compilation and the first
allocations). A leak shows as a positive slope; the report gives the slope in bytes per
iteration, the RSS range after warm-up, and what the slope would add over 10,000 iterations.

Usage (from the repo root)::

    .venv/bin/python experiments/soak.py ../shared/corpora/kjv_chapters -k 100 \\
        --iterations 500 --out /tmp/soak.json

Writes a JSON result (and ``soak.png`` beside it: RSS against iteration).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import esca
from esca.bench import BENCH_DPI, git_revision, library_versions, machine_info
from esca.plot import new_figure, save_png


def rss_bytes():
    """Current resident set size of this process, in bytes (Linux /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def prepare(source, folder):
    if not os.path.isdir(source):
        return source
    docword = glob.glob(os.path.join(source, "docword.*.txt.gz"))[0]
    vocab = glob.glob(os.path.join(source, "vocab.*.txt"))[0]
    out = os.path.join(folder, os.path.basename(os.path.normpath(source)) + ".h5")
    if not os.path.exists(out):
        esca_bin = os.path.join(os.path.dirname(sys.executable), "esca")
        subprocess.run([esca_bin, "prepare", docword, "--format", "uci", "--vocab", vocab,
                        "--out", out], check=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", nargs="?", default="../shared/corpora/kjv_chapters")
    p.add_argument("-k", "--num-topics", type=int, default=100)
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--warm-up", type=int, default=50)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", required=True, metavar="RESULT.json")
    args = p.parse_args(argv)
    folder = os.path.dirname(os.path.abspath(args.out))
    corpus = prepare(args.corpus, folder)
    rss = []
    with tempfile.TemporaryDirectory(dir=folder) as ck:
        model = esca.train(corpus, num_topics=args.num_topics, iterations=args.iterations,
                           seed=1, threads=args.threads, eval_every=10,
                           checkpoint_every=args.checkpoint_every, checkpoint_dir=ck,
                           callback=lambda rec: rss.append(rss_bytes()))
    rss = np.array(rss, dtype=np.float64)
    it = np.arange(1, len(rss) + 1)
    after = it > args.warm_up
    slope, intercept = np.polyfit(it[after], rss[after], 1)
    sha, dirty = git_revision()
    result = {
        "command": " ".join(sys.argv), "corpus": corpus, "K": args.num_topics,
        "iterations": args.iterations, "warm_up": args.warm_up,
        "checkpoint_every": args.checkpoint_every, "threads": model.info["threads"],
        "N": model.num_tokens,
        "slope_bytes_per_iteration": float(slope),
        "slope_over_10000_iterations_mib": float(slope * 10000 / 2**20),
        "rss_after_warm_up_mib": {"min": float(rss[after].min() / 2**20),
                                  "max": float(rss[after].max() / 2**20),
                                  "first": float(rss[after][0] / 2**20),
                                  "last": float(rss[-1] / 2**20)},
        "rss_mib": (rss / 2**20).round(3).tolist(),
        "tokens_per_s_median": float(np.median(model.log["tokens_per_s"][1:])),
        "git_sha": sha, "git_dirty": dirty, "versions": library_versions(),
        "machine": machine_info(),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    fig = new_figure((7, 4))
    ax = fig.add_subplot()
    ax.plot(it, rss / 2**20, lw=1)
    ax.plot(it[after], (slope * it[after] + intercept) / 2**20, "--",
            label=f"fit after warm-up: {slope:+.1f} bytes/iteration")
    ax.set(xlabel="iteration", ylabel="resident set size (MiB)",
           title=f"soak: {os.path.basename(corpus)}, K={args.num_topics}")
    ax.legend()
    save_png(fig, os.path.splitext(args.out)[0] + ".png", dpi=BENCH_DPI)
    r = result["rss_after_warm_up_mib"]
    print(f"{args.iterations} iterations, K={args.num_topics}, N={model.num_tokens:,}: RSS after "
          f"warm-up {r['min']:.1f}..{r['max']:.1f} MiB (first {r['first']:.1f}, last "
          f"{r['last']:.1f}); slope {slope:+.1f} bytes/iteration "
          f"({result['slope_over_10000_iterations_mib']:+.2f} MiB per 10,000 iterations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
