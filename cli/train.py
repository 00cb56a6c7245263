"""``esca train``: train an LDA model (run it under mpiexec for several ranks)."""

import argparse
import dataclasses
import os
import sys

import esca
from esca._checks import check_int
from esca._io import check_not_input, check_output_dir, check_output_file
from esca.checkpoint import last_checkpoint
from esca.config import CheckpointPolicy, TrainConfig
from esca.errors import CheckpointWriteError, Interrupted, ResumeError, UserError, WriteError
from esca.progress import TrainProgress

from ._common import isatty, show_progress_bar
from .topics import print_topics

#: The options that set a field of :class:`esca.TrainConfig` (its field names). Their parser
#: default is None, so that only the ones the user gave reach :func:`esca.train` (the
#: defaults are TrainConfig's; with --resume and --continue the others come from the
#: checkpoint or model, and the ones given are checked against it).
SETTINGS = tuple(f.name for f in dataclasses.fields(TrainConfig))

EPILOG = """examples:
  esca train corpus.h5 -k 50 -n 500 --out model.h5
  mpiexec -n 4 esca train corpus.h5 -k 100 -n 1000 --threads 8 --out model.h5
  esca train -k 20 -n 100 --top 5                  (the builtin wiki250 corpus, nothing saved)
  esca train corpus.h5 -k 100 --log-every 50 --out model.h5 > train.log
  esca train corpus.h5 -k 100 --out model.h5 --quiet   (warnings and errors only)

progress:
  When standard error is a terminal, rank 0 draws a progress bar there with the tokens/s of the
  latest iteration and the latest log-likelihood per token (computed every --eval-every
  iterations). Standard output gets a line 'iter I  SECONDS s  RATE tokens/s[  LL/token X]'
  after every --log-every-th iteration and after the last. By default: after the first
  iteration, every --eval-every-th one (with its LL/token), the last, and any that ends 10
  seconds or more after the previous line; none when the bar is drawn and standard output is
  a terminal too. The first iteration of a run that compiles the Numba kernels (a first run,
  or after an upgrade) is slower: the bar and its line say '(compiling)'. --quiet hides the
  bar and all but warnings and errors. Under mpiexec only rank 0 reports (and mpiexec's pipes
  are not terminals: plain lines).

checkpoints and resume:
  esca train corpus.h5 -k 100 -n 1000 --checkpoint-every 50 --checkpoint-dir ckpt --out m.h5
  esca train --resume ckpt -n 1000 --out m.h5     (continue to 1000 iterations in total)
A checkpoint holds the configuration, the iteration, every token's topic, the count tables, the
priors and the corpus checksum; it is written atomically (a crash never damages the previous
one). --resume continues from the newest valid checkpoint, bit-identically to an uninterrupted
run, at any number of ranks; settings other than --iterations, --threads and --eval-every come
from the checkpoint and conflicting values are refused. The corpus defaults to the
checkpoint's (its absolute path, else relative to DIR). A new run refuses a --checkpoint-dir
that holds checkpoints (of another run, or of this one): resume, or give a new folder.
SIGTERM or SIGINT (a scheduler's preemption) stops the run at the end of the current
iteration, after writing a checkpoint when --checkpoint-dir is set, with exit status 75.

training a model further:
  esca train corpus.h5 -k 100 -n 200 --out m200.h5
  esca train --continue m200.h5 -n 500 --out m500.h5   (300 more: 500 iterations in total)
--continue MODEL.h5 trains a saved model further to --iterations in total (more than the
model's). Configuration, seed and priors come from the model and conflicting values are
refused; the corpus defaults to the model's and must be the same corpus (checked against the
model's corpus checksum, or for models from older versions against D, V, N, the vocabulary,
document lengths and word counts). An ESCA sweep needs only the previous iteration's counts,
which the model holds, so m500.h5 equals one 500-iteration run bit for bit (with the same
--optimize-burn-in: continuing keeps the model's), at any number of ranks, with
--optimize-interval too; the training log continues. Collapsed Gibbs (--sampler cgs) needs
every token's topic as well, which cgs models store (exact at the same number of ranks: AD-LDA
depends on it); a cgs model written by an older esca is refused. Without --checkpoint-dir,
SIGTERM or SIGINT writes the model of the last finished iteration to --out (atomically) and
says how to continue it.
"""


def setup_arguments(subparsers):
    """Add the ``train`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "train", help="train an LDA model",
        description="Train LDA on an esca corpus. Under 'mpiexec -n R' every rank reads its own "
        "shard of documents and the word-topic counts are summed after every sweep.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", nargs="?", default=None, metavar="CORPUS.h5",
                   help="corpus written by 'esca prepare', builtin:wiki250 (the default: 250 "
                   "Wikipedia articles shipped with gensim, stemmed) or builtin:lee (300 news "
                   "articles shipped with gensim, unstemmed)")
    p.add_argument("--num-topics", "-k", type=int, default=None, metavar="K",
                   help=f"number of topics K (default {TrainConfig.num_topics})")
    p.add_argument("--iterations", "-n", type=int, default=None, metavar="N",
                   help=f"number of sweeps (default {TrainConfig.iterations})")
    p.add_argument("--alpha", type=float, default=None, metavar="A",
                   help="document-topic prior PER TOPIC (symmetric). Mallet's --alpha is the SUM "
                   "over topics: Mallet --alpha 5 equals esca --alpha 5/K. Default 5/K")
    p.add_argument("--beta", type=float, default=None, metavar="B",
                   help=f"topic-word prior (gensim's eta; default {TrainConfig.beta}, as "
                   "Mallet)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help=f"random seed, 0..2**63-1 (default {TrainConfig.seed})")
    p.add_argument("--sampler", choices=("esca", "cgs"), default=None,
                   help="esca (parallel, default) or cgs (collapsed Gibbs baseline; AD-LDA over "
                   "several ranks)")
    p.add_argument("--kernel", choices=("auto", "dense", "sparse"), default=None,
                   help="ESCA kernel: dense O(K) or sparse+alias O(K_d) per token; both exact "
                   "(default auto: sparse for K >= 100)")
    p.add_argument("--own-topic", dest="own_topic", choices=("include", "exclude"),
                   default=None,
                   help="ESCA: count a token's own previous topic in its stale counts (include, "
                        "default, as Zaheer et al. 2016) or take it out (exclude, as collapsed "
                        "Gibbs); both exact. Models of exclude runs store every token's topic")
    p.add_argument("--init-blocks", dest="init_blocks", type=int, default=None, metavar="B",
                   help="start with a sequential first pass in B blocks of the corpus (each "
                        "token drawn given the earlier blocks' word counts and its document's "
                        "earlier tokens, ranks exchange counts after each block); 0: uniform "
                        "random topics (default: esca up to 8 blocks of >= 200,000 tokens when "
                        "alpha >= 0.05 per topic, else 0; cgs 0). Results do not depend on "
                        "threads or ranks")
    p.add_argument("--threads", "-t", type=int, default=None, metavar="T",
                   help="Numba threads per rank (default: cores / ranks on the node)")
    p.add_argument("--eval-every", type=int, default=None, metavar="N",
                   help=f"log-likelihood every N iterations (default {TrainConfig.eval_every}; "
                   "0: only at the end)")
    p.add_argument("--optimize-interval", type=int, default=None, metavar="N",
                   help="re-estimate an asymmetric alpha and a symmetric beta (Minka's fixed "
                        "point, as Mallet) every N iterations; 0 (default): keep them")
    p.add_argument("--optimize-burn-in", type=int, default=None, metavar="N",
                   help="iterations before the first optimization (default: a quarter of "
                        "--iterations, at most 200)")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="write a checkpoint after every N iterations (default 0: never)")
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="folder of the checkpoints (created if missing)")
    p.add_argument("--keep-checkpoints", type=int, default=3, metavar="K",
                   help="keep the K newest checkpoints (default 3)")
    p.add_argument("--resume", metavar="DIR",
                   help="continue from the newest valid checkpoint in DIR to --iterations in "
                        "total (checkpoints continue into DIR unless --checkpoint-dir is given)")
    p.add_argument("--continue", dest="continue_from", metavar="MODEL.h5",
                   help="train this saved model further, to --iterations in total (settings "
                        "and corpus default to the model's)")
    p.add_argument("--out", "-o", default=None, metavar="MODEL.h5",
                   help="write the model here (HDF5); without it the model is not saved. "
                        "Without --checkpoint-dir, SIGTERM or SIGINT writes the model of the "
                        "last finished iteration here")
    p.add_argument("--log-every", type=int, default=None, metavar="N",
                   help="log a line after every N iterations and after the last (0: none; "
                   "default: every 10 seconds and every --eval-every iterations, or none when "
                   "the progress bar and standard output share a terminal)")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="print the top N words of every topic at the end (default 10; 0: do "
                   "not print)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca train`` with parsed arguments; returns the exit status (0)."""
    if args.threads and args.threads > 0:
        # Numba reads its thread limit once, at import (esca imports it on first use).
        limit = int(os.environ.get("NUMBA_NUM_THREADS", "0") or 0)
        if args.threads > max(limit, os.cpu_count() or 1):
            os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    settings = {k: getattr(args, k) for k in SETTINGS if getattr(args, k) is not None}
    if args.log_every is not None and args.log_every < 0:
        raise UserError(f"--log-every must be >= 0, got {args.log_every}")
    if args.checkpoint_every and not (args.checkpoint_dir or args.resume):
        raise UserError("--checkpoint-every needs --checkpoint-dir")
    if args.resume and args.continue_from:
        raise UserError("--resume and --continue cannot be combined: continue from a "
                        "checkpoint folder or from a model")
    ckpt_dir = args.checkpoint_dir or args.resume
    inputs = [("CORPUS.h5", args.corpus), ("--continue model", args.continue_from)]
    if args.out:
        check_not_input(args.out, inputs, "--out")
        check_output_file(args.out)
    if ckpt_dir:
        check_not_input(ckpt_dir, inputs, "--checkpoint-dir")
    if ckpt_dir and args.checkpoint_every:
        check_output_dir(ckpt_dir)
    policy = CheckpointPolicy(
        directory=ckpt_dir, every=check_int("--checkpoint-every", args.checkpoint_every, 0),
        keep=check_int("--keep-checkpoints", args.keep_checkpoints, 1),
        # without checkpoints, an interrupted run keeps its last iteration in --out
        model_on_interrupt=args.out if args.out and not ckpt_dir else None)
    # esca.train(resume=) tells a folder (checkpoints) from a file (a model); say which
    # one the flag needed when it is missing
    if args.resume and not os.path.isdir(args.resume):
        raise UserError(f"checkpoint folder not found: {args.resume}")
    if args.continue_from and not os.path.isfile(args.continue_from):
        raise UserError(f"model file not found: {args.continue_from}")
    try:
        model = esca.train(args.corpus, checkpoints=policy,
                           resume=args.resume or args.continue_from, handle_signals=True,
                           progress=_progress(args), **settings)
    except Interrupted as e:
        raise _stopped(e) from None
    except ResumeError as e:  # names resume= and checkpoints.directory: say the flags
        raise e.named("--resume", "--checkpoint-dir") from e
    except CheckpointWriteError as e:  # says resume=DIR, iterations=N: say the command
        raise e.named(_resume_command(e.directory, e.iterations)) from e
    if model is None:  # not rank 0
        return 0
    if args.out:
        _save(model, args.out, ckpt_dir, model.config.iterations)
        print(f"wrote {args.out}")
    if args.top > 0:
        print_topics(model, args.top)
    return 0


def _stopped(e):
    """The :class:`esca.errors.Interrupted` of :func:`esca.train`, saying how to continue
    with this command's flags."""
    where = ""
    if e.checkpoint_dir is not None:
        where = f"; resume with --resume {e.checkpoint_dir}"
    if e.model_path is not None:
        where += (f"; model of iteration {e.iteration} written to {e.model_path}; continue "
                  f"with: esca train --continue {e.model_path} -n {e.iterations}")
    new = Interrupted(f"{e.signal} received: stopped after iteration {e.iteration} of "
                      f"{e.iterations}{where}")
    new.__dict__.update(vars(e))
    return new


def _save(model, out, ckpt_dir, iterations):
    """Write the trained model to ``out``; when that fails (a full disk), keep the training:
    write the model into the checkpoint folder instead, and say where it is or that the last
    checkpoint survives and how to resume (:class:`esca.errors.WriteError`, exit status 74)."""
    try:
        model.save(out)
        return
    except WriteError as e:
        failed = e
    if not ckpt_dir:
        raise WriteError(f"{failed}; the trained model was not saved (no --checkpoint-dir): "
                         "free space and train again") from failed
    fallback = os.path.join(ckpt_dir, os.path.basename(out))
    if os.path.abspath(fallback) != os.path.abspath(out):
        try:
            model.save(fallback)
        except UserError as e:
            why = str(e).split(": ", 2)[-1] if str(e).startswith("cannot write") else str(e)
            note = f"it could not be written to {fallback} either ({why})"
        else:
            raise WriteError(f"{failed}; the model was written to {fallback} instead") \
                from failed
    else:
        note = "the trained model was not saved"
    raise CheckpointWriteError(cause=f"{failed}; {note}", directory=ckpt_dir,
                               iterations=iterations, last=last_checkpoint(ckpt_dir),
                               resume_with=_resume_command(ckpt_dir, iterations),
                               path=failed.path) from failed


def _resume_command(directory, iterations):
    """``esca train --resume DIR -n N``: how to continue from the checkpoints in DIR."""
    return f"esca train --resume {directory} -n {iterations}"


#: Printed on standard error (by rank 0) when training starts without --out.
NO_OUT_WARNING = "esca train: warning: no --out given: the model will not be saved"


def _progress(args):
    """The :class:`esca.progress.TrainProgress` of ``esca train`` (see the epilog's "progress");
    without --out it first warns that the model will not be saved, once the settings and the
    corpus have been checked (rank 0 only: only rank 0 reports progress)."""

    class Progress(TrainProgress):
        def start(self, first, total, compiling=False):
            if not args.out:
                print(NO_OUT_WARNING, file=sys.stderr, flush=True)
            super().start(first, total, compiling=compiling)

    bar = show_progress_bar(args)
    log_every = args.log_every
    if log_every is None and bar and isatty(sys.stdout):
        log_every = 0
    return Progress(log_every=log_every, bar=bar)
