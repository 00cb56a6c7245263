"""``esca prepare``: convert a text or bag-of-words corpus into an esca HDF5 corpus."""

import argparse
import os

from esca._checks import check_fraction
from esca._io import check_not_input
from esca.corpora.prepare import (
    FORMATS,
    Pruning,
    TextOptions,
    check_pruning,
    holdout_path,
    prepare_corpus,
)
from esca.corpora.readers import check_encoding
from esca.corpora.text import (
    CLEANERS,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MIN_LENGTH,
    ENGLISH,
    Tokenizer,
    check_tokenizer,
)
from esca.errors import UserError
from esca.progress import StageProgress

from ._common import show_progress_bar

HELP = "convert a corpus (text, UCI, Matrix Market, LDA-C) into an esca HDF5 corpus"

DESCRIPTION = """\
Convert INPUT into the esca HDF5 corpus format, reading it as a stream.

formats:
  text  one document per line, tokens separated by whitespace (UTF-8, plain or .gz);
        INPUT may be a folder: each file in it (and its subfolders) is one document,
        and NAME.docs.tsv beside --out lists them (row = doc_index)
  uci   UCI bag-of-words docword.NAME.txt[.gz]; needs --vocab vocab.NAME.txt
  mm    gensim Matrix Market corpus (documents are rows); needs --dictionary
  ldac  LDA-C lines 'M id:count ...' (0-based ids); needs --vocab

Raw text (--format text --tokenize): each document is tokenized as gensim's
simple_preprocess(text, deacc=True) does: lowercased, accents stripped
("Café" -> "cafe"), tokens are runs of letters (no digits or punctuation) of 2
to 15 characters. --stopwords english removes gensim's 337 English stop words.
--clean newsgroups|wikipedia first applies the cleaning of 'esca corpora fetch'.
The settings are stored in the corpus (provenance "tokenizer"): --tokenize-like
CORPUS.h5 tokenizes new documents the same way (in Python:
esca.corpora.Tokenizer.from_corpus("CORPUS.h5")).

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
  esca prepare raw.txt --format text --tokenize --stopwords english --no-below 2 \\
      --out raw.h5
  esca prepare posts/ --format text --tokenize --clean newsgroups --stopwords english \\
      --out posts.h5      # one post per file; posts.docs.tsv names them
  esca prepare new.txt --format text --tokenize-like raw.h5 --out new.h5   # for esca infer
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
    g.add_argument("--stopwords", metavar="english|FILE|none",
                   help="remove these words before the other filters: 'english' (gensim's "
                        "337 English stop words), a FILE of words (one per line), or 'none' "
                        "(default)")
    t = p.add_argument_group("raw text (--format text)")
    t.add_argument("--tokenize", action="store_true",
                   help="tokenize raw text like gensim's simple_preprocess(deacc=True): "
                        "lowercase, strip accents, runs of letters of --min-length to "
                        "--max-length characters (default: split on whitespace only)")
    t.add_argument("--tokenize-like", metavar="CORPUS.h5",
                   help="tokenize as the corpus CORPUS.h5 was (its stored --tokenize, "
                        "--stopwords, --clean... settings), e.g. new documents for 'esca infer'")
    t.add_argument("--min-length", type=int, metavar="N",
                   help=f"with --tokenize: drop tokens shorter than N characters "
                        f"(default {DEFAULT_MIN_LENGTH})")
    t.add_argument("--max-length", type=int, metavar="N",
                   help=f"with --tokenize: drop tokens longer than N characters "
                        f"(default {DEFAULT_MAX_LENGTH})")
    t.add_argument("--token-pattern", metavar="REGEX",
                   help="with --tokenize: tokens are the matches of REGEX instead of runs "
                        "of letters (scikit-learn's default is '(?u)\\b\\w\\w+\\b')")
    t.add_argument("--no-lowercase", dest="lowercase", action="store_false", default=None,
                   help="with --tokenize: keep upper case")
    t.add_argument("--keep-accents", dest="deaccent", action="store_false", default=None,
                   help="with --tokenize: keep accents")
    t.add_argument("--clean", choices=CLEANERS,
                   help="clean each document first as 'esca corpora fetch' does: newsgroups "
                        "(drop the header block except the Subject, and quoted lines; one "
                        "post per file, Latin-1) or wikipedia (strip MediaWiki markup)")
    t.add_argument("--encoding", metavar="NAME",
                   help="codec of the text (default utf-8; latin-1 with --clean newsgroups); "
                        "a UTF-8 byte order mark and CRLF line endings are accepted")
    h = p.add_argument_group("held-out documents")
    h.add_argument("--holdout", type=float, metavar="F",
                   help="write a seeded fraction F (0 < F < 1) of the documents to NAME.test.h5")
    h.add_argument("--seed", type=int, default=0,
                   help="seed of the --holdout split (default 0)")
    p.set_defaults(func=run)
    return p


def _tokenizer(args):
    """The :class:`Tokenizer` of the raw-text options, or None without --tokenize."""
    options = {"--min-length": args.min_length, "--max-length": args.max_length,
               "--token-pattern": args.token_pattern,
               "--no-lowercase": False if args.lowercase is False else None,
               "--keep-accents": False if args.deaccent is False else None,
               "--clean": args.clean}
    if args.tokenize_like is not None:
        for flag, value in {**options, "--tokenize": args.tokenize or None}.items():
            if value is not None:
                raise UserError(f"{flag} cannot be combined with --tokenize-like (the settings "
                                f"come from {args.tokenize_like})")
        if args.fmt != "text":
            raise UserError(f"--tokenize-like is only used with --format text, not {args.fmt}")
        tokenizer = Tokenizer.from_corpus(args.tokenize_like)
        if args.stopwords is not None and tokenizer.stopwords:
            raise UserError(f"--stopwords cannot be combined with --tokenize-like "
                            f"{args.tokenize_like}: its tokenizer already removes "
                            f"{len(tokenizer.stopwords)} stop words "
                            f"({tokenizer.stopwords_source})")
        return tokenizer
    if not args.tokenize:
        for flag, value in options.items():
            if value is not None:
                raise UserError(f"{flag} is only used with --tokenize")
        return None
    if args.fmt != "text":
        raise UserError(f"--tokenize is only used with --format text, not {args.fmt}")
    min_length = DEFAULT_MIN_LENGTH if args.min_length is None else args.min_length
    max_length = DEFAULT_MAX_LENGTH if args.max_length is None else args.max_length
    check_tokenizer(min_length, max_length, args.token_pattern, args.clean,
                    {"min_length": "--min-length", "max_length": "--max-length",
                     "token_pattern": "--token-pattern", "clean": "--clean"})
    return Tokenizer(lowercase=args.lowercase is not False, deaccent=args.deaccent is not False,
                     min_length=min_length, max_length=max_length,
                     token_pattern=args.token_pattern, clean=args.clean)


def _check_flags(args, pruning):
    """The checks of :func:`prepare_corpus` on values given as flags, with the flags named.

    Raises
    ------
    UserError
        A bad ``--holdout`` or pruning value; ``--vocab`` or ``--dictionary`` missing or
        given for a format that does not use it; ``--out`` (or the ``--holdout`` test file)
        naming an input file.
    """
    if args.holdout is not None:
        check_fraction("--holdout", args.holdout)
    check_pruning(pruning, {"no_below": "--no-below", "no_above": "--no-above",
                            "keep_n": "--keep-n"})
    needs = {"uci": "--vocab", "ldac": "--vocab", "mm": "--dictionary"}.get(args.fmt)
    if args.vocab is not None and needs != "--vocab":
        raise UserError(f"--vocab is only used with --format uci or ldac, not {args.fmt}")
    if args.dictionary is not None and needs != "--dictionary":
        raise UserError(f"--dictionary is only used with --format mm, not {args.fmt}")
    if needs is not None and (args.vocab if needs == "--vocab" else args.dictionary) is None:
        raise UserError(f"{needs} (for --format {args.fmt}) is required")
    folder = args.fmt == "text" and os.path.isdir(args.input)
    stop = None if args.stopwords in (None, "none", ENGLISH) else args.stopwords
    inputs = [("file", None if folder else args.input), ("--vocab", args.vocab),
              ("--dictionary", args.dictionary), ("--stopwords", stop)]
    if os.path.isdir(args.out):
        raise UserError(f"--out is a folder, not a file: {args.out}")
    check_not_input(args.out, inputs, "--out")
    if args.holdout is not None:
        check_not_input(holdout_path(args.out), inputs, "the --holdout test file")


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
    tokenizer = _tokenizer(args)
    encoding = args.encoding or ("latin-1" if args.clean == "newsgroups" else "utf-8")
    if args.encoding is not None and args.fmt != "text":
        raise UserError(f"--encoding is only used with --format text, not {args.fmt}")
    pruning = Pruning(no_below=args.no_below, no_above=args.no_above, keep_n=args.keep_n,
                      stopwords=args.stopwords)
    _check_flags(args, pruning)
    if args.encoding is not None:
        check_encoding(args.encoding, "--encoding")
    with StageProgress(bar=show_progress_bar(args)) as progress:
        s = prepare_corpus(args.input, args.fmt, args.out, vocab=args.vocab,
                           dictionary=args.dictionary, pruning=pruning, holdout=args.holdout,
                           seed=args.seed, progress=progress,
                           text=TextOptions(tokenizer=tokenizer, encoding=encoding))
    empty = s["n_empty_dropped"]
    dropped = (f"dropped {empty} empty document{'' if empty == 1 else 's'} "
               f"({s['seconds']:.1f} s)")
    if args.holdout is None:
        print(f"wrote {args.out}: D={s['D']} V={s['V']} N={s['N']} tokens; {dropped}")
    else:
        h = s["holdout"]
        oov = h["test_tokens_dropped_oov"]
        print(f"wrote {args.out}: D={h['train_docs']} V={h['V']} N={h['train_tokens']} tokens "
              f"(training documents); {dropped}")
        print(f"wrote {h['test_path']}: D={h['test_docs']} N={h['test_tokens']} tokens "
              f"(held out with seed {args.seed}; {oov} token{'' if oov == 1 else 's'} of words "
              "unseen in training dropped)")
    if s.get("docs_tsv"):
        print(f"wrote {s['docs_tsv']}: the input file of each document (row = doc_index)")
    return 0
