"""``esca plot``: PNG plots of a model's training curves and topics."""

import argparse
import re

import esca
from esca._io import check_not_input, check_output_dir, check_outputs_not_inputs
from esca.errors import UserError
from esca.plot import PLOT_FILES, plot_model

DESCRIPTION = """\
Write PNG plots of MODEL.h5 into DIR (created if missing; each file replaced
atomically):

  loglik_iteration.png  log-likelihood per token against iteration
  loglik_seconds.png    the same against cumulative training seconds
                        (sweep + count exchange, without the evaluation itself)
  tokens_per_s.png      tokens per second of every iteration
  top_words.png         bar charts of the top words (by phi) of each topic,
                        the first 20 topics unless --topics chooses others

The log-likelihood is evaluated every --eval-every iterations of esca train;
only those points are drawn.

examples:
  esca plot model.h5 --out plots/
  esca plot model.h5 --out plots/ --top 15 --topics 0-4,10
  esca plot model.h5 --out plots/ --dpi 200
"""


def parse_topics(text):
    """``"0-4,10"`` -> ``[0, 1, 2, 3, 4, 10]``; raises UserError on anything else."""
    topics = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if m is None or (m[2] is not None and not 0 <= int(m[2]) - int(m[1]) <= 100_000):
            raise UserError(f"--topics: cannot read {part!r} in {text!r}; use topic numbers "
                            "and ranges like 0-4,10")
        topics.extend(range(int(m[1]), int(m[2] or m[1]) + 1))
    return topics


def setup_arguments(subparsers):
    """Add the ``plot`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("plot", help="PNG plots of training curves and top words",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the PNG files")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="words per topic in top_words.png (default 10)")
    p.add_argument("--topics", metavar="LIST",
                   help="topics for top_words.png, e.g. 0-4,10 (default: the first 20)")
    p.add_argument("--dpi", type=int, default=100, help="resolution (default 100)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca plot`` with parsed arguments; returns the exit status (0).

    Raises
    ------
    UserError
        Unreadable model, bad options or an output folder that cannot be written.
    """
    if args.top < 1:
        raise UserError(f"--top must be >= 1, got {args.top}")
    if not 10 <= args.dpi <= 1000:
        raise UserError(f"--dpi must be between 10 and 1000, got {args.dpi}")
    topics = None if args.topics is None else parse_topics(args.topics)
    inputs = [("MODEL.h5", args.model)]
    check_not_input(args.out, inputs, "--out")
    check_outputs_not_inputs(args.out, PLOT_FILES, inputs, "--out")
    check_output_dir(args.out)
    model = esca.load_model(args.model)
    for path in plot_model(model, args.out, top=args.top, topics=topics, dpi=args.dpi,
                           protect=inputs):
        print(f"wrote {path}")
    return 0
