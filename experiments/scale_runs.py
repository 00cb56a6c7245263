"""Growth with the work (issue 15): a bigger K and a bigger corpus, in tokens/s over the run.

Two subcommands:

``repeat``
    Write a corpus that is CORPUS.h5 repeated R times with the documents in a shuffled order
    (one permutation of all R x D documents, numpy's PCG64 with ``--seed``), so that every
    thread chunk and rank shard mixes all parts of the original. ``wikipedia_medium`` x 20
    is the issue's 200M-token corpus (10,114,867 x 20 = 202M tokens; about 0.8 GB on disk)::

        python experiments/scale_runs.py repeat wiki.h5 20 wiki_x20.h5

``train``
    Train with ``esca.train`` on the whole corpus (no held-out split, no evaluation) and
    print one JSON line: N, K, iterations, threads, the whole call's seconds, tokens/s over
    the whole run (N x iterations / seconds of the call: reading the corpus, setup, the first
    pass and every iteration included), the median seconds per iteration of iterations
    2.., the peak RSS of the process (bytes, getrusage), and the model's table bytes. The
    kernels are compiled first by a 2-iteration run on builtin:wiki250 with the same K and
    kernel, so the timed call holds no JIT compile::

        python experiments/scale_runs.py train wiki.h5 -k 100 -n 50 --threads 2
        python experiments/scale_runs.py train wiki.h5 -k 10000 -n 50 --threads 2
        python experiments/scale_runs.py train wiki_x20.h5 -k 1000 -n 5 --threads 2

Run one ``train`` at a time on an otherwise idle machine; peak RSS is the process's (run
each configuration in its own process, as above).
"""

import argparse
import json
import resource
import sys
import time

import numpy as np

import esca


def cmd_repeat(args):
    c = esca.read_corpus(args.corpus)
    lengths = np.diff(c.doc_ptr)
    D = len(lengths)
    order = np.random.default_rng(args.seed).permutation(D * args.times) % D
    new_lengths = lengths[order]
    doc_ptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(new_lengths, out=doc_ptr[1:])
    word_ids = np.empty(int(doc_ptr[-1]), dtype=np.int32)
    for j, d in enumerate(order):
        word_ids[doc_ptr[j]:doc_ptr[j + 1]] = c.word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]]
    esca.write_corpus(args.out, doc_ptr, word_ids, list(c.vocab),
                      provenance={"made_by": "experiments/scale_runs.py repeat",
                                  "source": args.corpus, "times": args.times,
                                  "seed": args.seed})
    print(json.dumps({"out": args.out, "D": len(order), "N": int(doc_ptr[-1]),
                      "V": c.num_words}))


def cmd_train(args):
    settings = dict(num_topics=args.k, threads=args.threads, eval_every=0, seed=args.seed,
                    progress=False)
    esca.train("builtin:wiki250", iterations=2, **settings)  # compile the kernels
    t0 = time.perf_counter()
    model = esca.train(args.corpus, iterations=args.iterations, **settings)
    seconds = time.perf_counter() - t0
    N = int(model.n_k.sum())
    per_iter = np.asarray(model.log["seconds"], dtype=float)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "corpus": args.corpus, "N": N, "K": args.k, "iterations": args.iterations,
        "threads": args.threads, "kernel": model.info.get("kernel"),
        "init_blocks": model.info["init_blocks"], "whole_run_s": round(seconds, 3),
        "tokens_per_s_whole_run": round(N * args.iterations / seconds),
        "median_s_per_iteration_2on": float(np.median(per_iter[1:]))
        if len(per_iter) > 1 else None,
        "median_tokens_per_s_2on": round(N / float(np.median(per_iter[1:])))
        if len(per_iter) > 1 else None,
        "peak_rss_bytes": rss,
        "loglik_per_token": float(model.log["loglik_per_token"][-1])}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("repeat")
    r.add_argument("corpus")
    r.add_argument("times", type=int)
    r.add_argument("out")
    r.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("corpus")
    t.add_argument("-k", type=int, required=True)
    t.add_argument("-n", "--iterations", type=int, default=50)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    {"repeat": cmd_repeat, "train": cmd_train}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
