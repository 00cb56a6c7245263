"""``esca train``: train an LDA model (run it under mpiexec for several ranks)."""

import os


def setup_arguments(subparsers):
    """Add the ``train`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "train", help="train an LDA model",
        description="Train LDA on an esca corpus. Under 'mpiexec -n R' every rank reads its own "
        "shard of documents and the word-topic counts are summed after every sweep.")
    p.add_argument("corpus", nargs="?", default=None, metavar="CORPUS.h5",
                   help="corpus written by 'esca prepare', or builtin:wiki250 (the default: 250 "
                   "Wikipedia articles shipped with gensim)")
    p.add_argument("--num-topics", "-k", type=int, default=100, metavar="K",
                   help="number of topics K (default 100)")
    p.add_argument("--iterations", "-n", type=int, default=1000, metavar="N",
                   help="number of sweeps (default 1000)")
    p.add_argument("--alpha", type=float, default=None, metavar="A",
                   help="document-topic prior PER TOPIC (symmetric). Mallet's --alpha is the SUM "
                   "over topics: Mallet --alpha 5 equals esca --alpha 5/K. Default 5/K")
    p.add_argument("--beta", type=float, default=0.01, metavar="B",
                   help="topic-word prior (gensim's eta; default 0.01, as Mallet)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--sampler", choices=("esca", "cgs"), default="esca",
                   help="esca (parallel, default) or cgs (collapsed Gibbs baseline; AD-LDA over "
                   "several ranks)")
    p.add_argument("--kernel", choices=("auto", "dense", "sparse"), default="auto",
                   help="ESCA kernel: dense O(K) or sparse+alias O(K_d) per token; both exact "
                   "(default auto: sparse for K >= 100)")
    p.add_argument("--threads", "-t", type=int, default=None, metavar="T",
                   help="Numba threads per rank (default: cores / ranks on the node)")
    p.add_argument("--eval-every", type=int, default=10, metavar="N",
                   help="log-likelihood every N iterations (default 10; 0: only at the end)")
    p.add_argument("--optimize-interval", type=int, default=0, metavar="N",
                   help="re-estimate an asymmetric alpha and a symmetric beta (Minka's fixed "
                        "point, as Mallet) every N iterations; 0 (default): keep them")
    p.add_argument("--optimize-burn-in", type=int, default=200, metavar="N",
                   help="iterations before the first optimization (default 200)")
    p.add_argument("--out", "-o", default=None, metavar="MODEL.h5",
                   help="write the model here (HDF5); without it the model is not saved")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="print the top N words of every topic at the end (0: do not print)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca train`` with parsed arguments; returns the exit status (0)."""
    if args.threads and args.threads > 0:
        # Numba reads its thread limit once, at import.
        limit = int(os.environ.get("NUMBA_NUM_THREADS", "0") or 0)
        if args.threads > max(limit, os.cpu_count() or 1):
            os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    import esca
    from esca._io import check_output_file
    config = esca.TrainConfig(num_topics=args.num_topics, iterations=args.iterations,
                              alpha=args.alpha, beta=args.beta, seed=args.seed,
                              sampler=args.sampler, threads=args.threads,
                              eval_every=args.eval_every, kernel=args.kernel,
                              optimize_interval=args.optimize_interval,
                              optimize_burn_in=args.optimize_burn_in)
    if args.out:
        check_output_file(args.out)
    model = esca.train(args.corpus, config=config)
    if model is None:  # not rank 0
        return 0
    if args.out:
        model.save(args.out)
        print(f"wrote {args.out}")
    if args.top > 0:
        from .topics import print_topics
        print_topics(model, args.top)
    return 0
