"""Summarize training runs from their model files (what the closing notes report).

Usage: python experiments/train_report.py MODEL.h5 [MODEL.h5 ...] [--at 10 50 100] [--topics 10]

For each model: sampler, ranks x threads, median tokens/s and seconds per iteration (the
first iteration, which includes Numba's JIT compilation, is left out), the median split into
sample / count rebuild / allreduce, the log-likelihood per token at the chosen iterations,
peak RSS per rank, and the top words of the first few topics.
"""

import argparse
import math

import numpy as np

import esca


def summarize(path, at, ntopics, nwords=8):
    m = esca.load_model(path)
    lg, info = m.log, m.info
    keep = lg["iteration"] > 1
    def med(name):
        return float(np.median(lg[name][keep])) if keep.any() else math.nan

    lines = [f"## {path}",
             f"sampler={m.config.sampler}"
             + (f" kernel={info.get('kernel')}" if m.config.sampler == "esca" else "")
             + f" K={m.num_topics} "
             f"D={info.get('D')} V={m.num_words} N={m.num_tokens} ranks={info.get('ranks')} "
             f"threads={info.get('threads')} iterations={m.config.iterations} seed={m.config.seed}",
             f"median over iterations 2..{m.config.iterations}: "
             f"{med('tokens_per_s'):,.0f} tokens/s, "
             f"{med('seconds'):.3f} s/iteration (sample {med('sample_s'):.3f}, count rebuild "
             f"{med('count_s'):.3f}, allreduce {med('allreduce_s'):.3f})"]
    ll = {int(i): float(v) for i, v in zip(lg["iteration"], lg["loglik_per_token"], strict=True)
          if not math.isnan(v)}
    lines.append("log-likelihood per token: " + ", ".join(
        f"iter {i}: {ll[i]:.4f}" if i in ll else f"iter {i}: n/a" for i in at))
    rss = info.get("peak_rss_bytes_per_rank") or []
    lines.append("peak RSS per rank: " + ", ".join(f"{r / 2**20:.0f} MiB" for r in rss))
    lines.append(f"wall seconds (init + iterations, with JIT): {info.get('wall_seconds', 0):.1f}")
    order = np.argsort(-m.n_k, kind="stable")[:ntopics]
    for k in order:
        lines.append(f"  topic {k:3d}: " + " ".join(w for w, _ in m.top_words(int(k), nwords)))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--at", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--topics", type=int, default=10, help="topics to show (the largest)")
    args = p.parse_args()
    for path in args.models:
        print(summarize(path, args.at, args.topics))
        print()


if __name__ == "__main__":
    main()
