"""``esca topics``: print the top words of every topic of a model."""

import argparse
import logging

import esca
from esca.corpora.readers import read_lines
from esca.errors import UserError, is_placeholder_vocab

DESCRIPTION = """\
Print one line per topic of MODEL.h5: its number, its label (if set with
'esca label'), its share of the training tokens (n_k / N) and its top words by
n_kw (the order of phi_kw). With --docs N, the N training documents with the
highest theta_dk follow each topic line, as theta and the document's id (its
doc_index in the training corpus, or a title from --titles).

examples:
  esca topics model.h5
  esca topics model.h5 --top 20 | grep -i music
  esca topics model.h5 --docs 3 --titles docs.wikipedia_medium.tsv.gz
  esca topics model.h5 --summary
"""


def setup_arguments(subparsers):
    """Add the ``topics`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("topics", help="print the top words of every topic",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("--top", type=int, default=10, metavar="N", help="words per topic (default 10)")
    p.add_argument("--docs", type=int, default=0, metavar="N",
                   help="also list the N documents with the highest theta of each topic")
    p.add_argument("--titles", metavar="FILE",
                   help="document names for --docs: a TSV file with a header holding a "
                        "'title' column (or --title-column), or one name per line; row i "
                        "names the source document with doc_index i (plain or .gz)")
    p.add_argument("--title-column", default="title", metavar="NAME",
                   help="column of --titles to use (default 'title')")
    p.add_argument("--summary", action="store_true",
                   help="print the model summary (corpus, priors, training, topics)")
    p.set_defaults(func=run)


def topic_lines(model, top):
    """One line per topic: id, label, share of tokens, top words (ranked once for all topics)."""
    N = max(model.num_tokens, 1)
    words = model.topics(top)
    labels = model.labels
    return [f"topic {k:3d}" + (f' "{labels[k]}"' if labels[k] else "")
            + f" ({100.0 * model.n_k[k] / N:5.2f}%): {' '.join(words[k])}"
            for k in range(model.num_topics)]


def print_topics(model, top, docs=0, doc_labels=None):
    """Print one line per topic (and its top ``docs`` documents, indented, if ``docs``)."""
    lines = topic_lines(model, top)
    top_docs = model.top_documents_all(docs, doc_labels) if docs else None
    for k, line in enumerate(lines):
        print(line)
        for label, p in top_docs[k] if top_docs else ():
            print(f"    {p:.4f}  {label}")


def read_titles(path, column="title"):
    """Document names from ``path``: a TSV with a header naming ``column``, or one per line.

    Returns
    -------
    list of str
        Row i names the source document whose ``doc_index`` is i.

    Raises
    ------
    UserError
        If the file cannot be read (see :func:`esca.corpora.readers.read_lines`: UTF-8, lines
        ending with ``\n`` or ``\r\n``), or a TSV header lacks ``column``.
    """
    rows = read_lines(path, "--titles")
    if rows and "\t" in rows[0]:
        header = rows[0].split("\t")
        if column not in header:
            raise UserError(f"--titles {path}: no column '{column}' in its header "
                            f"({', '.join(header)}); choose one with --title-column")
        j = header.index(column)
        return [(r.split("\t") + [""] * len(header))[j] for r in rows[1:]]
    return rows


def doc_titles(model, path, column="title"):
    """A name per training document of ``model`` from the titles file ``path``.

    Document d is named by row ``model.doc_index[d]`` (or d) of the file.

    Raises
    ------
    UserError
        If the file has fewer rows than a document's index needs.
    """
    titles = read_titles(path, column)
    index = range(model.num_docs) if model.doc_index is None else model.doc_index.tolist()
    need = max(index, default=-1)
    if need >= len(titles):
        raise UserError(f"--titles {path}: {len(titles)} names, but the model's documents "
                        f"go up to doc_index {need}")
    return [titles[i] for i in index]


def run(args):
    """Run ``esca topics`` with parsed arguments; returns the exit status (0)."""
    if args.top < 1:
        raise UserError(f"--top must be >= 1, got {args.top}")
    if args.docs < 0:
        raise UserError(f"--docs must be >= 0, got {args.docs}")
    if args.titles and not args.docs:
        raise UserError("--titles names documents for --docs N; give --docs too")
    model = esca.load_model(args.model)
    if is_placeholder_vocab(model.vocab):
        logging.getLogger("esca").warning(
            "%s: the words are the placeholder names x0 .. x%d (an esca.LDA fitted on a matrix "
            "without word names); name them with LDA.set_vocabulary(words) and save again",
            args.model, model.num_words - 1)
    doc_labels = doc_titles(model, args.titles, args.title_column) if args.titles else None
    if args.summary:
        model.summary(top_n=args.top, top_docs=args.docs, doc_labels=doc_labels)
        return 0
    print_topics(model, args.top, args.docs, doc_labels)
    return 0
