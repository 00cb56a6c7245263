"""``esca label``: name the topics of a model (stored in the model file)."""

import argparse

import esca
from esca.corpora.readers import read_lines
from esca.errors import UserError

DESCRIPTION = """\
Set, change or remove topic labels of MODEL.h5 and rewrite it in place
(atomically: on any error the file is left as it was). A label is one line of
text; 'esca topics', 'esca evaluate', 'esca plot', the model summary and every
export show it. TOPIC=LABEL sets topic TOPIC's label (TOPIC from 0 as 'esca
topics' prints it), TOPIC= removes it; --labels FILE sets all K labels from a
file of K lines (an empty line leaves that topic unlabelled), applied before the
assignments; options go before MODEL.h5 or after the last assignment. Without
assignments, the current labels are printed (topic, a tab, label).

examples:
  esca label model.h5 3="space exploration" 7=sports
  esca label model.h5 7=
  esca label --labels labels.txt model.h5
  esca label model.h5
"""


def setup_arguments(subparsers):
    """Add the ``label`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("label", help="set the labels of topics",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("assignments", nargs="*", metavar="TOPIC=LABEL",
                   help="label of a topic (TOPIC= removes it)")
    p.add_argument("--labels", metavar="FILE",
                   help="K labels, one per line (UTF-8), applied before the assignments")
    p.add_argument("--out", "-o", metavar="OUT.h5",
                   help="write the labelled model here instead of over MODEL.h5")
    p.set_defaults(func=run)


def parse_assignment(text, num_topics):
    """``(topic, label)`` from ``"TOPIC=LABEL"``.

    Raises
    ------
    UserError
        If ``text`` has no '=', or TOPIC is not a topic number 0..K-1.
    """
    topic, sep, label = text.partition("=")
    if not sep:
        raise UserError(f"label assignment {text!r} must be TOPIC=LABEL, "
                        f"e.g. 3=\"space exploration\"")
    try:
        k = int(topic.strip())
    except ValueError:
        raise UserError(f"label assignment {text!r}: topic {topic!r} is not a number") from None
    if not 0 <= k < num_topics:
        raise UserError(f"label assignment {text!r}: topic {k} does not exist; the model has "
                        f"topics 0..{num_topics - 1}")
    return k, label


def read_labels_file(path, num_topics):
    """K labels from ``path`` (one per line).

    Raises
    ------
    UserError
        If the file cannot be read as UTF-8 text (see
        :func:`esca.corpora.readers.read_lines`) or does not have K lines.
    """
    lines = read_lines(path, "--labels")
    if len(lines) != num_topics:
        raise UserError(f"--labels {path} has {len(lines)} lines, but the model has "
                        f"{num_topics} topics (one label per line, empty for none)")
    return lines


def run(args):
    """Run ``esca label``; returns the exit status (0).

    Raises
    ------
    UserError
        On an unreadable model or labels file, a bad assignment or label.
    """
    model = esca.load_model(args.model)
    K = model.num_topics
    if not args.assignments and not args.labels:
        for k, label in enumerate(model.labels):
            print(f"{k}\t{label}")
        return 0
    if args.labels:
        model.labels = read_labels_file(args.labels, K)
    for text in args.assignments:
        model.set_label(*parse_assignment(text, K))
    out = args.out or args.model
    model.save(out)
    n = sum(1 for x in model.labels if x)
    print(f"wrote {out}: {n} of {K} topics labelled")
    return 0
