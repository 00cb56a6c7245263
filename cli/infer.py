"""``esca infer``: topic proportions of new documents under a trained model.

The documents are read by :mod:`esca.inputs`; the output file's format is :mod:`esca.theta`.
"""

import argparse
import json
import os
import time

import esca
from esca._io import check_not_input, check_output_file
from esca.corpus import BUILTIN_PREFIX, read_doc_index
from esca.errors import UserError
from esca.inputs import model_word_ids
from esca.progress import StageProgress
from esca.theta import write_theta

from ._common import show_progress_bar

DESCRIPTION = """\
Infer theta (document-topic proportions) for the documents of CORPUS.h5 under
MODEL.h5 by fold-in Gibbs sampling with the model's phi fixed: each token is
resampled from (n_dk + alpha_k) phi_kw for --sweeps sweeps, and theta averages
the sweeps after --burn-in. Documents run in parallel over Numba threads and
the result depends only on --seed. Words of CORPUS.h5 are matched to the
model's vocabulary by string; unknown words are skipped and counted.

writes OUT.h5 (atomically):
  /theta      float64 (D, K)   rows sum to 1
  /doc_index  int64   (D,)     the corpus's doc_index, when it has one
  attrs: format="esca-theta", model, corpus, sweeps, burn_in, seed, tokens,
         tokens_skipped, seconds, docs_per_s
or, when OUT ends in .csv, a CSV table (atomically) with a header line and one row per
document: doc (the corpus's doc_index, else 0..D-1), topic_0 .. topic_{K-1}
(pandas.read_csv("theta.csv", index_col="doc") reads it back).

Progress: the documents are folded in in chunks of about 1% of the tokens
(at least 200,000 tokens each; the result is bit-identical to one call of
esca.evaluate.fold_in). When standard error is a terminal, a run longer than
a second draws a bar over the documents there; otherwise a line is logged
every 10 seconds. --quiet (before or after 'infer') hides both.

examples:
  esca prepare new.txt --format text --out new.h5
  esca infer model.h5 new.h5 --out theta.h5 --sweeps 50 --burn-in 10 --seed 1
  esca infer model.h5 new.h5 -o theta.h5 --threads 4 --quiet
  esca infer model.h5 new.h5 --out theta.csv
"""

def setup_arguments(subparsers):
    """Add the ``infer`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("infer", help="infer topic proportions of new documents",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("corpus", metavar="CORPUS.h5", help="esca corpus (see esca prepare)")
    p.add_argument("--out", "-o", required=True, metavar="OUT.h5",
                   help="theta in HDF5, or CSV when the name ends in .csv")
    p.add_argument("--sweeps", type=int, default=50, help="Gibbs sweeps (default 50)")
    p.add_argument("--burn-in", type=int, default=10,
                   help="sweeps discarded before averaging theta (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, help="Numba threads (default: all)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca infer``; returns the exit status (0).

    Raises
    ------
    UserError
        On an unreadable model or corpus, bad options or an unwritable output.
    """
    import numba  # noqa: PLC0415 - loaded lazily (see esca train --threads)

    from esca.infer import fold_in  # noqa: PLC0415 - Numba kernels, loaded lazily

    check_output_file(args.out)
    check_not_input(args.out, [(name, path) for name, path in (
        ("MODEL.h5", args.model), ("CORPUS.h5", args.corpus))
        if not path.startswith(BUILTIN_PREFIX)], "--out")
    if args.threads is not None:
        if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
            raise UserError(f"--threads must be in 1..{numba.config.NUMBA_NUM_THREADS}, "
                            f"got {args.threads}")
        numba.set_num_threads(args.threads)
    model = esca.load_model(args.model)
    doc_ptr, word_ids, skipped = model_word_ids(esca.read_corpus(args.corpus), model.vocab,
                                                where=args.corpus)
    t0 = time.perf_counter()
    with StageProgress(bar=show_progress_bar(args)) as progress:
        theta = fold_in(model.phi, model.alpha, doc_ptr, word_ids, sweeps=args.sweeps,
                        burn_in=args.burn_in, seed=args.seed, progress=progress)
    sec = time.perf_counter() - t0
    D = theta.shape[0]
    doc_index = read_doc_index(args.corpus)
    write_theta(args.out, theta, doc_index, attrs={
        "model": os.path.abspath(args.model), "corpus": os.path.abspath(args.corpus),
        "sweeps": args.sweeps, "burn_in": args.burn_in, "seed": args.seed,
        "tokens": len(word_ids), "tokens_skipped": skipped, "seconds": sec,
        "docs_per_s": D / sec if sec > 0 else 0.0,
        "options": json.dumps(vars(args), default=str)})
    print(f"inferred theta of {D} documents ({len(word_ids)} tokens, {skipped} of unknown words "
          f"skipped) in {sec:.2f} s: {D / sec if sec > 0 else 0.0:,.0f} documents/s "
          f"(including Numba compilation on a first run); wrote {args.out}")
    return 0
