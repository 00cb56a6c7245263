"""``esca export``: write a model in another toolkit's format."""

import argparse

import esca
from esca._io import check_not_input, check_output_dir, check_output_file
from esca.errors import OutputIsInputError, UserError
from esca.export import EXPORT_FORMATS, FORMATS, doc_labels_from_corpus, export_model

DESCRIPTION = """\
Export MODEL.h5 for another toolkit. Every export is atomic: files are written
beside the output and renamed into place, so a failed export leaves an
earlier one intact.

formats (--format):
  gensim    DIR/lda.model (+ companion files) and DIR/dictionary.dict: load them with
            gensim.models.LdaModel.load and gensim.corpora.Dictionary.load. alpha is
            the model's per-topic alpha (optimized if training optimized it), eta is beta.
  mallet    DIR/topic-keys.txt and DIR/doc-topics.txt, as Mallet 2.0.8 writes
            --output-topic-keys and --output-doc-topics (tab-separated, no header):
              topic-keys.txt  k<TAB>alpha_k<TAB>word1 word2 ... wordN<SPACE>
              doc-topics.txt  d<TAB>name<TAB>theta_d0<TAB>theta_d1 ... (K columns)
  csv       DIR/theta.csv (documents x topic_0..topic_K-1) and DIR/phi.csv
            (topic_0..topic_K-1 x words), labelled, floats that round-trip:
            pandas.read_csv(path, index_col=0)
  pyldavis  FILE.html: an interactive pyLDAvis page (topic map and word bars) with
            its JavaScript, CSS and data inlined, so it works offline. Needs the
            optional extra: pip install 'esca-lda[viz]'. LDAvis numbers topics from 1
            (its topic t is esca topic t-1). pyLDAvis ranks all V words of every
            topic, about 8 s per million topics x words on one core (1 s for
            K=5, V=30,000; 12 s for K=50, V=30,000).

Documents are named by their row in the training corpus (0..D-1) unless
--corpus names the corpus the model was trained on: then by its doc_index
(each document's line or position in the source before esca prepare dropped
empty documents).

examples:
  esca export model.h5 --format gensim --out gensim/
  esca export model.h5 --format mallet --out mallet/ --num-top-words 10
  esca export model.h5 --format mallet --out mallet/ --corpus corpus.h5
  esca export model.h5 --format csv --out tables/
  esca export model.h5 --format pyldavis --out topics.html
"""


def setup_arguments(subparsers):
    """Add the ``export`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "export", help="export a model (gensim, Mallet, CSV, pyLDAvis page)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    # Checked in run(), not by argparse, so that a bad value is one line "esca: error: ...".
    p.add_argument("--format", "-f", default="gensim", metavar="{" + ",".join(EXPORT_FORMATS) + "}",
                   help="output format (default gensim)")
    p.add_argument("--out", "-o", required=True, metavar="PATH",
                   help="output folder (gensim, mallet, csv) or HTML file (pyldavis)")
    p.add_argument("--num-top-words", "--top", dest="num_words", type=int, metavar="N",
                   help="words per topic: mallet topic keys (default 20, like Mallet's "
                   "--num-top-words) or the pyldavis bar chart (1-30, default 30)")
    p.add_argument("--corpus", metavar="CORPUS.h5",
                   help="the training corpus: name documents by its doc_index (mallet, csv)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca export`` with parsed arguments; returns the exit status (0).

    Raises
    ------
    UserError
        Unknown format, unreadable model or corpus, bad options, or an output
        that cannot be written.
    """
    fmt = args.format.lower()
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {args.format!r}; choose one of "
                        f"{', '.join(EXPORT_FORMATS)}")
    if args.num_words is not None and args.num_words < 1:
        raise UserError(f"--num-top-words must be >= 1, got {args.num_words}")
    form = FORMATS[fmt]
    if args.corpus is not None and not form.takes_doc_labels:
        named = " or ".join(f.name for f in FORMATS.values() if f.takes_doc_labels)
        raise UserError(f"--corpus names documents for --format {named}, not {fmt}")
    # Check the output before the (possibly slow) model load and export.
    inputs = [("MODEL.h5", args.model), ("--corpus", args.corpus)]
    check_not_input(args.out, inputs, "--out")
    (check_output_file if form.out_is_file else check_output_dir)(args.out)
    if form.check is not None:
        form.check()
    model = esca.load_model(args.model)
    labels = None if args.corpus is None else doc_labels_from_corpus(model, args.corpus)
    try:
        paths = export_model(model, fmt, args.out, num_words=args.num_words, doc_labels=labels,
                             protect=inputs)
    except OutputIsInputError as e:  # a file written into the folder would replace an input
        raise e.named("--out") from e
    for path in paths:
        print(f"wrote {path}")
    return 0
