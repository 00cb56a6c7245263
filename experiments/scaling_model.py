"""Project ESCA's time per iteration onto a cluster, from costs measured on one machine.

Model (one MPI rank per node, T threads per rank, no overlap of compute and communication):

    t_iter = t_sample + t_count + t_tables + t_exchange
    t_sample   = N * c_token / (P * T)            sampling, perfectly parallel over tokens
    t_count    = N * c_count / (P * T)            rebuilding a rank's word-topic counts from z
    t_tables   = V * K * c_vk / T                 per-word alias tables and the V x K scans:
                                                  every rank builds them for all V words
    t_exchange = 2 (P - 1) L + 2 (P - 1) / P * B / bw   ring allreduce of B = 4 V K bytes
                                                  (Patarasuk & Yuan, JPDC 2009); the sparse
                                                  exchange only wins while the nonzero
                                                  counts are far fewer than V K, which a
                                                  10^10-token corpus does not give

tokens/s = N / t_iter. The per-token and per-entry costs are core-seconds measured by
``esca bench`` (pass its JSON with --bench) or given on the command line.

Usage::

    python experiments/scaling_model.py --bench DIR/bench.json [--k 1000]
    python experiments/scaling_model.py --c-token 2.2e-7 --c-count 1.5e-8 --c-vk 3e-9
"""

import argparse
import json
import sys


def project(N, V, K, P, T, bw, latency, c_token, c_count, c_vk):
    """Seconds per iteration by phase, and tokens/s, for P nodes x T threads.

    Parameters
    ----------
    N, V, K : int
        Tokens, vocabulary size and topics.
    P, T : int
        Nodes (one rank each) and threads per rank.
    bw : float
        Link bandwidth, bytes/s.
    latency : float
        Per-message latency, seconds.
    c_token, c_count, c_vk : float
        Core-seconds per token (sampling), per token (count rebuild) and per V x K entry
        (table builds and scans).

    Returns
    -------
    dict
        ``sample``, ``count``, ``tables``, ``exchange``, ``total`` (seconds) and
        ``tokens_per_s``.
    """
    t = {"sample": N * c_token / (P * T), "count": N * c_count / (P * T),
         "tables": V * K * c_vk / T,
         "exchange": 0.0 if P == 1 else 2 * (P - 1) * latency + 2 * (P - 1) / P * 4 * V * K / bw}
    t["total"] = sum(t.values())
    t["tokens_per_s"] = N / t["total"]
    return t


def costs_from_bench(path, K):
    """Core-second costs from an ``esca bench`` JSON: its ``esca 1r x 1t`` run at this K.

    One thread, so seconds are core-seconds. ``sample`` includes the per-word table build
    (``tables_s``), which is charged to the V x K entries; the rest of ``sample`` to the
    tokens; ``count`` (rebuild of the word-topic counts from z) to the tokens as well.
    """
    with open(path) as f:
        bench = json.load(f)
    N, V = bench["config"]["train"]["N"], bench["config"]["train"]["V"]
    run = bench["results"][str(K)]["esca 1r x 1t"]
    if run["status"] != "ok":
        raise SystemExit(f"{path}: esca 1r x 1t at K={K} is {run['status']}")
    s = run["s_per_iter"]
    tables = run["runs"][0]["details"]["tables_s"]
    return {"c_token": (s["sample"] - tables) / N, "c_count": s["count"] / N,
            "c_vk": tables / (V * K)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="esca bench JSON to take the costs from")
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--c-token", type=float, help="core-seconds per token, sampling")
    ap.add_argument("--c-count", type=float, help="core-seconds per token, count rebuild")
    ap.add_argument("--c-vk", type=float, help="core-seconds per V x K entry, table builds")
    ap.add_argument("--tokens", type=float, default=1e10)
    ap.add_argument("--vocab", type=int, default=300_000)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--cores", type=int, default=36)
    ap.add_argument("--gbit", type=float, default=10.0, help="link speed, Gb/s")
    ap.add_argument("--latency", type=float, default=5e-6, help="seconds per message")
    args = ap.parse_args(argv)
    costs = costs_from_bench(args.bench, args.k) if args.bench else {}
    for name in ("c_token", "c_count", "c_vk"):
        if getattr(args, name) is not None:
            costs[name] = getattr(args, name)
    if set(costs) != {"c_token", "c_count", "c_vk"}:
        ap.error("give --bench or all of --c-token, --c-count, --c-vk")
    bw = args.gbit * 1e9 / 8
    print(f"costs (core-seconds): per token sample {costs['c_token']:.3g}, count "
          f"{costs['c_count']:.3g}; per V x K entry {costs['c_vk']:.3g}")
    print(f"corpus N={args.tokens:.3g} V={args.vocab} K={args.k}; {args.gbit:g} Gb/s links, "
          f"{args.latency * 1e6:g} us latency\n")
    print("| nodes x cores | sample s | count s | tables s | allreduce s | s/iter | tokens/s |")
    print("|---|---|---|---|---|---|---|")
    for P in sorted({1, 2, 5, 10, args.nodes}):
        t = project(args.tokens, args.vocab, args.k, P, args.cores, bw, args.latency, **costs)
        print(f"| {P} x {args.cores} | {t['sample']:.3f} | {t['count']:.3f} | {t['tables']:.3f} "
              f"| {t['exchange']:.3f} | {t['total']:.3f} | {t['tokens_per_s']:.3g} |")
    t = project(args.tokens, args.vocab, args.k, args.nodes, args.cores, bw, args.latency,
                **costs)
    bound = max(("sample", "count", "tables", "exchange"), key=t.get)
    print(f"\nAt {args.nodes} nodes the largest phase is {bound} ({t[bound]:.2f} s of "
          f"{t['total']:.2f} s); the ESCA paper reports > 1e9 tokens/s on 20 nodes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
