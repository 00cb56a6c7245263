"""``esca prepare``: convert a text or bag-of-words corpus into an esca HDF5 corpus."""

from esca.corpora.prepare import FORMATS, prepare_corpus

HELP = "convert a corpus (text, UCI, Matrix Market, LDA-C) into an esca HDF5 corpus"

DESCRIPTION = """\
Convert INPUT into the esca HDF5 corpus format, reading it as a stream.

formats:
  text  one document per line, tokens separated by whitespace (UTF-8, plain or .gz)
  uci   UCI bag-of-words docword.NAME.txt[.gz]; needs --vocab vocab.NAME.txt
  mm    gensim Matrix Market corpus (documents are rows); needs --dictionary
  ldac  LDA-C lines 'M id:count ...' (0-based ids); needs --vocab

No vocabulary pruning happens unless asked for. Documents that are empty (in
the input, or after pruning) are dropped and counted. The output file is
written atomically: on any error an existing file is left untouched.

With --holdout F, a seeded fraction F of the documents is written to
NAME.test.h5 beside --out NAME.h5 and never trained on; both files share the
training vocabulary (test tokens of words unseen in training are dropped).

Progress: when standard error is a terminal, each pass that runs longer than
a second draws a bar over the input documents there; otherwise a pass logs a
line every 10 seconds. --quiet (before or after 'prepare') hides both.

examples:
  esca prepare docs.txt --format text --out docs.h5
  esca prepare docs.txt.gz --format text --stopwords stop.txt --no-below 5 \\
      --no-above 0.5 --keep-n 50000 --out docs.h5
  esca prepare docword.kos.txt.gz --format uci --vocab vocab.kos.txt --out kos.h5 \\
      --holdout 0.1 --seed 1      # kos.h5 (train) and kos.test.h5 (test)
  esca prepare corpus.mm --format mm --dictionary corpus.dict --out corpus.h5
"""


def setup_arguments(subparsers):
    """Add the ``prepare`` subcommand to an argparse ``subparsers`` object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The new subparser; its ``func`` default is :func:`run`.
    """
    import argparse

    p = subparsers.add_parser("prepare", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", help="corpus file to convert")
    p.add_argument("--format", dest="fmt", required=True, choices=FORMATS,
                   help="input format")
    p.add_argument("--out", required=True, metavar="CORPUS.h5", help="output HDF5 corpus")
    p.add_argument("--vocab", metavar="FILE",
                   help="vocabulary, one word per line "
                        "(uci: line i is wordID i; ldac: line i is id i-1)")
    p.add_argument("--dictionary", metavar="FILE",
                   help="gensim Dictionary (Dictionary.save or save_as_text) for --format mm")
    g = p.add_argument_group("vocabulary pruning (gensim Dictionary.filter_extremes; "
                             "off by default)")
    g.add_argument("--no-below", type=int, metavar="N",
                   help="drop words found in fewer than N documents")
    g.add_argument("--no-above", type=float, metavar="F",
                   help="drop words found in more than a fraction F (0 < F <= 1) of documents")
    g.add_argument("--keep-n", type=int, metavar="N",
                   help="then keep only the N words of highest document frequency")
    g.add_argument("--stopwords", metavar="FILE",
                   help="remove these words (one per line) before the other filters")
    h = p.add_argument_group("held-out documents")
    h.add_argument("--holdout", type=float, metavar="F",
                   help="write a seeded fraction F (0 < F < 1) of the documents to NAME.test.h5")
    h.add_argument("--seed", type=int, default=0,
                   help="seed of the --holdout split (default 0)")
    p.set_defaults(func=run)
    return p


def run(args):
    """Run ``esca prepare`` with parsed arguments and print a one-line summary.

    Parameters
    ----------
    args : argparse.Namespace
        As built by the parser of :func:`setup_arguments`.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    UserError
        Everything :func:`esca.corpora.prepare.prepare_corpus` raises; then
        nothing is written (an existing ``--out`` is left as it was).
    """
    from esca.progress import StageProgress

    from .main import show_progress_bar
    with StageProgress(bar=show_progress_bar(args)) as progress:
        s = prepare_corpus(args.input, args.fmt, args.out, vocab=args.vocab,
                           dictionary=args.dictionary, no_below=args.no_below,
                           no_above=args.no_above, keep_n=args.keep_n,
                           stopwords=args.stopwords, holdout=args.holdout, seed=args.seed,
                           progress=progress)
    empty = s["n_empty_dropped"]
    print(f"wrote {args.out}: D={s['D']} V={s['V']} N={s['N']} tokens; dropped {empty} empty "
          f"document{'' if empty == 1 else 's'} ({s['seconds']:.1f} s)")
    if args.holdout is not None:
        h = s["holdout"]
        print(f"held out {h['test_docs']} of {h['train_docs'] + h['test_docs']} documents "
              f"(seed {args.seed}) to {h['test_path']}; {args.out} keeps {h['train_docs']}; "
              f"{h['test_tokens_dropped_oov']} test tokens of words unseen in training dropped")
    return 0
