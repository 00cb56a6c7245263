"""``esca evaluate``: how good a trained model is."""

import argparse
import hashlib
import json
import os

import numpy as np

import esca
from esca.corpora.readers import iter_text_documents
from esca.corpus import BUILTIN_PREFIX, corpus_identity
from esca.distributed import agree, get_comm, same_on_all_ranks
from esca.errors import UserError

DESCRIPTION = """\
Evaluate MODEL.h5 and print a table (or JSON with --json):

  training LL/token    joint log p(w, z)/N of the model's counts (Griffiths & Steyvers 2004)
  held-out perplexity  document completion on TEST_CORPUS (Wallach et al., ICML 2009): theta
                       is folded in on every other token of each test document with phi
                       fixed, and the remaining tokens are scored
  left-to-right        with --left-to-right: perplexity of the whole test documents by the
                       left-to-right particle estimator (Wallach et al. 2009, Algorithm 3;
                       Mallet's evaluate-topics), --num-particles R, --use-resampling
  coherence            gensim CoherenceModel: u_mass on the training corpus (--train-corpus,
                       default the corpus the model was trained on), and c_npmi and c_v on
                       --texts (one tokenized document per line) when given
  per topic            tokens (n_k), label (if set with 'esca label'), top words and
                       coherence

Under 'mpiexec -n R' the held-out estimates are split over the ranks by documents and give
exactly the one-rank numbers; rank 0 computes the rest and prints. Every rank reads MODEL.h5
and TEST_CORPUS itself; ranks that read different ones (stale copies on a node) are refused.

examples:
  esca evaluate model.h5 corpus.test.h5
  esca evaluate model.h5 corpus.test.h5 --left-to-right --num-particles 20
  esca evaluate model.h5 corpus.test.h5 --texts docs.txt --json > eval.json
  mpiexec -n 2 esca evaluate model.h5 corpus.test.h5 --left-to-right
"""


def setup_arguments(subparsers):
    """Add the ``evaluate`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("evaluate", help="log-likelihood, held-out perplexity, coherence",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("test", metavar="TEST_CORPUS", nargs="?",
                   help="esca corpus of held-out documents (see esca prepare --holdout)")
    p.add_argument("--train-corpus", metavar="CORPUS.h5",
                   help="training corpus for u_mass (default: the model's, if readable)")
    p.add_argument("--texts", metavar="FILE",
                   help="tokenized documents, one per line, for c_npmi and c_v")
    p.add_argument("--topn", type=int, default=10, help="top words per topic (default 10)")
    p.add_argument("--sweeps", type=int, default=50, help="fold-in sweeps (default 50)")
    p.add_argument("--burn-in", type=int, default=10, help="fold-in burn-in (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--left-to-right", action="store_true",
                   help="also estimate perplexity with the left-to-right estimator")
    p.add_argument("--num-particles", type=int, default=10,
                   help="left-to-right particles (default 10, as in Mallet)")
    p.add_argument("--use-resampling", action="store_true",
                   help="left-to-right: resample earlier topics at every position "
                        "(O(N_d^2) per document; off by default, as in Mallet)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca evaluate``; returns the exit status (0).

    Raises
    ------
    UserError
        On unreadable files or bad options.
    """
    from esca.metrics import evaluate_model  # noqa: PLC0415 - Numba kernels, loaded lazily
    if args.topn < 1:
        raise UserError(f"--topn must be at least 1, got {args.topn}")
    if args.left_to_right and not args.test:
        raise UserError("--left-to-right needs a TEST_CORPUS")
    if args.train_corpus and not (args.train_corpus.startswith(BUILTIN_PREFIX)
                                  or os.path.exists(args.train_corpus)):
        raise UserError(f"--train-corpus {args.train_corpus}: no such file")
    comm = get_comm()  # MPI.COMM_WORLD: one rank without mpiexec
    if comm.Get_size() == 1:
        comm = None  # one rank: no collective at all
    rank = 0 if comm is None else comm.Get_rank()
    model = _read_on_every_rank(comm, esca.load_model, args.model, _model_identity, "models")
    test = None
    if args.test:
        test = _read_on_every_rank(comm, esca.read_corpus, args.test, corpus_identity,
                                   "test corpora")
    texts = None
    if args.texts and rank == 0:
        texts = [doc for doc in iter_text_documents(args.texts) if doc]
    l2r = ({"particles": args.num_particles, "resample": args.use_resampling}
           if args.left_to_right else None)
    out = {"model": args.model,
           **evaluate_model(model, test, train_corpus=args.train_corpus, texts=texts,
                            topn=args.topn, sweeps=args.sweeps, burn_in=args.burn_in,
                            seed=args.seed, left_to_right=l2r, comm=comm)}
    if rank != 0:
        return 0
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"model {args.model}: K={model.num_topics} V={model.num_words}")
    print(f"training LL/token      {out['training_loglik_per_token']:.4f}")
    if "heldout" in out:
        h = out["heldout"]
        print(f"held-out perplexity    {h['perplexity']:.2f}  (document completion, "
              f"{h['tokens']} tokens of {h['docs']} documents)")
    if "left_to_right" in out:
        h = out["left_to_right"]
        print(f"left-to-right          {h['perplexity']:.2f}  ({h['particles']} particles"
              f"{', resampling' if h['resample'] else ''}, {h['tokens']} tokens of "
              f"{h['docs']} documents)")
    for m, v in out["coherence"].items():
        print(f"coherence {m:<12} {v:.4f}")
    measures = list(out["coherence"])
    show_labels = any(t["label"] for t in out["topics"])
    print("\n| topic | " + ("label | " if show_labels else "") + "tokens | "
          + " | ".join(measures) + (" | " if measures else "") + "top words |")
    print("|---:|" + ("---|" if show_labels else "") + "---:|" + "---:|" * len(measures)
          + "---|")
    for t in out["topics"]:
        label = t["label"].replace("|", "\\|") + " | " if show_labels else ""
        print(f"| {t['topic']} | {label}{t['tokens']} | "
              + "".join(f"{t[m]:.3f} | " for m in measures) + " ".join(t["top_words"]) + " |")
    return 0


def _model_identity(model):
    """K, V and a SHA-256 (16 hex digits) of the counts, priors and vocabulary of a model."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(model.n_kw, dtype="<i8"),
              np.ascontiguousarray(model.alpha, dtype="<f8"), np.array([model.beta], "<f8")):
        h.update(a.tobytes())
    h.update("\n".join(model.vocab).encode("utf-8", "surrogatepass"))
    return {"K": model.num_topics, "V": model.num_words,
            "counts, priors and vocabulary": h.hexdigest()[:16]}


def _read_on_every_rank(comm, read, path, identity, what):
    """``read(path)`` on every rank; under MPI a read error on one rank stops all of them and
    ranks whose ``identity`` of what they read differs are refused (before any exchange)."""
    if comm is None:
        return read(path)
    value = agree(comm, read, path)
    same_on_all_ranks(comm, agree(comm, identity, value), what, label=path,
                      hint="every rank must read the same file: one path on a shared file "
                           "system, or the same file copied to every node")
    return value
