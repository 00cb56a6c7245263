"""``esca bench``: tokens/s, time split, peak RSS and held-out perplexity of ESCA and its peers."""

import argparse

from esca import bench
from esca._io import check_not_input, check_outputs_not_inputs
from esca.errors import UserError

EPILOG = """systems (--systems takes names or families, comma-separated):
  esca 1r x 1t, esca 1r x 2t, esca 2r x 1t (mpiexec -n 2), cgs 1r,
  tomotopy w1, tomotopy w2 partition, tomotopy w2 copy_merge, gensim LdaMulticore, lda,
  sklearn batch (scikit-learn LatentDirichletAllocation, batch variational Bayes),
  warplda 2t (the C++ program warplda on PATH; how to build it: docs/benchmarks.md)
  Peers that are not installed are skipped (pip install 'esca-lda[bench]').

time to quality (TTQ): training seconds until held-out perplexity reaches P*
  (--target-perplexity, or by default the final perplexity of the fastest tomotopy
  2-worker run at the same K), interpolated between evaluation points.

examples:
  esca bench corpus.h5 -k 100 1000 --iterations 100 --out bench_out
  esca bench corpus.h5 -k 100 --systems esca,cgs,lda --iterations-for lda=20 \\
      --repeats 3 --out bench_k100
  esca bench corpus.h5 -k 100 --systems esca,tomotopy --esca-set own_topic=exclude \\
      --esca-set kernel=sparse --out bench_exclude

writes DIR/bench.json, DIR/bench.md, DIR/tokens_per_s.png, DIR/perplexity_vs_seconds.png,
the train/test split in DIR/data/ and every run's output in DIR/logs/."""


def setup_arguments(subparsers):
    """Add the ``bench`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "bench", help="benchmark ESCA against CGS and the installed peers",
        description="Split the corpus into train and held-out documents, train every system on "
        "the same tokens with the same K, alpha, beta, iterations and seed (each in its own "
        "process), and report tokens/s, seconds per iteration (sample / count / allreduce / "
        "other), tokens/s over the whole run, peak RSS, log-likelihood per token, held-out "
        "perplexity by document completion, computed by esca's evaluator from each system's "
        "topic-word matrix, and time to a target perplexity.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS.h5",
                   help="corpus written by 'esca prepare', or builtin:wiki250")
    p.add_argument("--num-topics", "-k", type=int, nargs="+", required=True, metavar="K",
                   help="one or more numbers of topics")
    p.add_argument("--iterations", "-n", type=int, default=100, metavar="N",
                   help="iterations per system (gensim: passes; default 100)")
    p.add_argument("--alpha", type=float, default=None, metavar="A",
                   help="document-topic prior PER TOPIC, for every system (default 5/K)")
    p.add_argument("--beta", type=float, default=0.01, metavar="B",
                   help="topic-word prior (eta in gensim and tomotopy; default 0.01)")
    p.add_argument("--seed", type=int, default=1, metavar="S",
                   help="seed of the split, of every system and of the evaluator (default 1)")
    p.add_argument("--holdout", type=float, default=0.1, metavar="F",
                   help="fraction of documents held out for perplexity (default 0.1)")
    p.add_argument("--systems", default=None, metavar="LIST",
                   help="comma-separated system names or families (esca, cgs, tomotopy, gensim, "
                   "lda, sklearn, warplda; default all)")
    p.add_argument("--iterations-for", action="append", default=[], metavar="NAME=N",
                   help="iterations for one system or family, e.g. lda=20 (repeatable; "
                   "default: --iterations for every system)")
    p.add_argument("--esca-set", action="append", default=[], metavar="NAME=VALUE",
                   help="a setting of esca.TrainConfig, e.g. own_topic=exclude, kernel=dense, "
                   "optimize_interval=10, for every run trained by esca.train: "
                   + ", ".join(bench.ESCA_SYSTEMS) + " (not the peers). Repeatable; VALUE is "
                   "parsed by the field's type. Not allowed: what the bench sets itself ("
                   + ", ".join(bench.ESCA_OWNED) + "). Default: none (TrainConfig's defaults)")
    p.add_argument("--eval-every", type=int, default=10, metavar="N",
                   help="held-out perplexity every N iterations and at the end (default 10; "
                   "0: at the end only)")
    p.add_argument("--eval-sweeps", type=int, default=30, metavar="S",
                   help="Gibbs sweeps of the document-completion fold-in (default 30)")
    p.add_argument("--eval-burn-in", type=int, default=10, metavar="B",
                   help="fold-in sweeps discarded before averaging theta (default 10)")
    p.add_argument("--target-perplexity", type=float, default=None, metavar="P",
                   help="held-out perplexity P* of time to quality, at every K (default: the "
                   "final perplexity of the fastest tomotopy 2-worker run at that K)")
    p.add_argument("--repeats", type=int, default=1, metavar="R",
                   help="runs per system; medians over runs are reported (default 1)")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="output folder (created; its parent must exist)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca bench`` with parsed arguments; returns the exit status (0).

    The flags are checked first with their names (systems, evaluation, esca settings, the
    output folder);
    :func:`esca.bench.run_bench` checks the rest.
    """
    iterations_for = {}
    for item in args.iterations_for:
        name, sep, n = item.rpartition("=")
        if not sep or not name.strip():
            raise UserError(f"--iterations-for takes NAME=N, got {item!r}")
        try:
            iterations_for[name] = int(n)
        except ValueError:
            raise UserError(f"--iterations-for {name}: N must be an integer, got {n!r}") from None
    esca_settings = {}
    for item in args.esca_set:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--esca-set takes NAME=VALUE, got {item!r}")
        if name in esca_settings:
            raise UserError(f"--esca-set sets {name} twice")
        esca_settings[name] = value
    esca_settings = bench.check_esca_settings(esca_settings, "--esca-set")
    systems = None if args.systems is None else args.systems.split(",")
    evaluation = bench.Evaluation(every=args.eval_every, sweeps=args.eval_sweeps,
                                  burn_in=args.eval_burn_in, target=args.target_perplexity)
    bench.check_evaluation(evaluation, {"every": "--eval-every", "sweeps": "--eval-sweeps",
                                        "burn_in": "--eval-burn-in",
                                        "target": "--target-perplexity"})
    bench.select_systems(systems, "--systems")
    for name in iterations_for:
        bench.select_systems([name], "--iterations-for")
    inputs = [("CORPUS.h5", args.corpus)]
    check_not_input(args.out, inputs, "--out")
    check_outputs_not_inputs(args.out, bench.WRITES, inputs, "--out")
    training = bench.Training(iterations=args.iterations, alpha=args.alpha, beta=args.beta,
                              seed=args.seed, esca_settings=esca_settings)
    bench.run_bench(args.corpus, args.num_topics, args.out, training=training,
                    evaluation=evaluation, holdout=args.holdout, systems=systems,
                    iterations_for=iterations_for, repeats=args.repeats)
    with open(f"{args.out}/bench.md") as f:
        print(f.read())
    print("wrote " + ", ".join(f"{args.out}/{name}" for name in bench.OUTPUTS))
    return 0
