"""``esca corpora``: list, download, verify and convert the standard LDA benchmark corpora."""

import argparse
import dataclasses
import json
import os

from esca.corpora.download import check_hex
from esca.corpora.fetch import (
    DEFAULT_TIMEOUT,
    Conversion,
    Pruning,
    Source,
    check_options,
    corpus_status,
    default_cache_dir,
    fetch_corpus,
)
from esca.corpora.registry import REGISTRY, get_corpus
from esca.errors import OutputIsInputError, UserError

from ._common import show_progress_bar

HELP = "list, download and convert standard corpora (KOS, NIPS, NYTimes, 20NG, Wikipedia...)"

DESCRIPTION = """\
The standard LDA benchmark corpora, fetched from their canonical public sources into a cache
folder and converted into esca HDF5 corpora:

  kos, nips, enron, nytimes, pubmed   UCI Bag of Words (archive.ics.uci.edu)
  20newsgroups                        20 Newsgroups, bydate train/test split
  wikipedia                           an English Wikipedia dump (dumps.wikimedia.org)

cache folder: --cache-dir, else $ESCA_DATA, else $XDG_CACHE_HOME/esca, else ~/.cache/esca;
each corpus in its own subfolder (for example ~/.cache/esca/kos/).

examples:
  esca corpora list
  esca corpora fetch kos
  esca corpora fetch 20newsgroups --cache-dir /data/esca
"""

LIST_DESCRIPTION = """\
Print every standard corpus: its size as published (D documents, V vocabulary, N tokens; ~
marks an approximate value), the download size, what the cache holds (converted, downloaded,
partial download, or -), the license of the data and the main source URL.

examples:
  esca corpora list
  esca corpora list --cache-dir /data/esca
  esca corpora list --json > corpora.json
"""

FETCH_DESCRIPTION = """\
Download NAME's files into CACHE/NAME/, verify them and convert them into CACHE/NAME/NAME.h5.

download: resumable. An interrupted download stays in FILE.part and the next fetch resumes it
with an HTTP Range request; a server that ignores the range makes the download restart from
the start. A network error or timeout is one line 'esca: error: ...' (exit status 2) and keeps
the partial file. A progress bar is shown on a terminal (not with --quiet).

verification: every file's SHA-256 is checked over the whole file before it is renamed into
place. The expected value is --sha256, else the registry's pinned value, else the value
recorded in CACHE/NAME/FILE.sha256 by the first download. A file without any (the UCI files)
is trusted on first use: its digest is recorded with a warning, and later downloads must
match it. Wikipedia dumps are also checked against the SHA-1 published beside the dump
(enwiki-DATE-sha1sums.txt). A mismatch deletes the download and exits with status 2.
Before that, what arrived must be what its name says: an empty file, an HTML page (a
mirror's error page sent with status 200) or a .gz/.bz2/.xz/.zip/.tar file without its magic
bytes is deleted and nothing is recorded; a file trusted on first use must also decompress
to its end. A cached file that fails the check (left by an older esca) is deleted with its
recorded digest and fetched again. --force discards recorded digests.

conversion (skipped with --no-convert; reuses 'esca prepare'):
  UCI            'esca prepare --format uci' of docword.NAME.txt.gz and vocab.NAME.txt; no
                 pruning (UCI already dropped stop words and rare words).
  20newsgroups   subject and unquoted body of each post, tokenized as gensim's WikiCorpus
                 does (lowercase letter runs of 2-15 characters) minus gensim's stop words;
                 train posts -> 20newsgroups.h5 (pruning: --no-below 5), test posts ->
                 20newsgroups.test.h5 with the train vocabulary. 20newsgroups.docs.tsv names
                 every document (train/alt.atheism/49960) by its doc_index.
  wikipedia      gensim's WikiCorpus (articles of 50+ tokens, no redirects) minus stop words
                 -> enwiki-DATE.h5 (pruning: --no-below 20 --no-above 0.1 --keep-n 100000, as
                 gensim's make_wiki); enwiki-DATE.docs.tsv gives page ids and titles. Hours
                 and tens of GB for a full dump.

mirrors: --mirror URL downloads URL/FILE for each file of NAME (a folder holding the same
file names: docword.kos.txt.gz and vocab.kos.txt, 20news-bydate.tar.gz, or
enwiki-latest-pages-articles.xml.bz2 with enwiki-latest-sha1sums.txt).

examples:
  esca corpora fetch kos                    # ~/.cache/esca/kos/kos.h5
  esca corpora fetch nytimes --holdout 0.1 --seed 1   # nytimes.h5 and nytimes.test.h5
  esca corpora fetch 20newsgroups --no-below 10
  esca corpora fetch kos --sha256 docword.kos.txt.gz=HEX   # pin a digest by hand
  esca corpora fetch pubmed --no-convert    # download only (about 1.9 GB)
  esca corpora fetch wikipedia --dump-date 20240601 --processes 8
  esca corpora fetch kos --mirror https://example.org/uci-bag-of-words/
  mpiexec -n 4 esca train ~/.cache/esca/kos/kos.h5 -k 50 -n 1000 --out kos-model.h5
"""


def setup_arguments(subparsers):
    """Add the ``corpora`` subcommand (with ``list`` and ``fetch``) to ``subparsers``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``corpora`` subparser.
    """
    raw = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("corpora", help=HELP, description=DESCRIPTION, formatter_class=raw)
    sub = p.add_subparsers(dest="corpora_command", metavar="ACTION")
    sub.required = True

    lp = sub.add_parser("list", help="list the standard corpora and what the cache holds",
                        description=LIST_DESCRIPTION, formatter_class=raw)
    lp.add_argument("--cache-dir", metavar="DIR", help="cache folder (see 'esca corpora -h')")
    lp.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    lp.set_defaults(func=run_list)

    fp = sub.add_parser("fetch", help="download, verify and convert one corpus",
                        description=FETCH_DESCRIPTION, formatter_class=raw)
    fp.add_argument("name", metavar="NAME", help="corpus name (see 'esca corpora list')")
    fp.add_argument("--cache-dir", metavar="DIR", help="cache folder (see 'esca corpora -h')")
    fp.add_argument("--out", metavar="CORPUS.h5",
                    help="converted corpus (default CACHE/NAME/NAME.h5)")
    fp.add_argument("--no-convert", dest="convert", action="store_false",
                    help="download and verify only")
    fp.add_argument("--mirror", metavar="URL",
                    help="download every file of NAME from URL/FILE instead of its sources")
    fp.add_argument("--sha256", action="append", metavar="[FILE=]HEX",
                    help="expected SHA-256 of FILE (repeatable; FILE may be left out when NAME "
                         "has one file)")
    fp.add_argument("--dump-date", metavar="YYYYMMDD",
                    help="wikipedia: the dump of this date (default: the latest dump)")
    fp.add_argument("--force", action="store_true",
                    help="delete the cached files of NAME and their recorded digests; fetch "
                         "and convert again")
    fp.add_argument("--reconvert", action="store_true",
                    help="convert again even if the output exists")
    fp.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                    help=f"network timeout (default {DEFAULT_TIMEOUT:g})")
    g = fp.add_argument_group("conversion (as 'esca prepare')")
    g.add_argument("--holdout", type=float, metavar="F",
                   help="write a seeded fraction F of the documents to NAME.test.h5 "
                        "(not 20newsgroups, which has its own test split)")
    g.add_argument("--seed", type=int, default=0, help="seed of the --holdout split (default 0)")
    g.add_argument("--no-below", type=int, metavar="N",
                   help="drop words in fewer than N documents (default: per corpus, see above)")
    g.add_argument("--no-above", type=float, metavar="F",
                   help="drop words in more than a fraction F of the documents")
    g.add_argument("--keep-n", type=int, metavar="N",
                   help="keep only the N words of highest document frequency")
    g.add_argument("--processes", type=int, metavar="N",
                   help="wikipedia: worker processes of gensim's WikiCorpus (default cores-1)")
    fp.set_defaults(func=run_fetch)
    for q in (lp, fp):  # like 'esca --quiet', also accepted after the action
        q.add_argument("--quiet", "-q", dest="quiet", action="store_true",
                       default=argparse.SUPPRESS,
                       help="log warnings and errors only: no progress bar")
    return p


def _count(value, approx):
    if value is None:
        return "-"
    if not approx:
        return f"{value:,}"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"~{value / scale:.3g}{unit}"
    return f"~{value}"


def _size(spec):
    """Download size for the table: exact, ``12.3 MB+`` (some file sizes unknown), or a note."""
    known = [f.size for f in spec.files if f.size is not None]
    if not known:
        return spec.size_note or "?"
    total = sum(known)
    more = "+" if len(known) < len(spec.files) else ""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if total >= scale:
            return f"{total / scale:.3g} {unit}{more}"
    return f"{total} B{more}"


def _rows(cache_dir):
    rows = []
    for spec in REGISTRY.values():
        rows.append({
            "name": spec.name, "title": spec.title, "kind": spec.kind,
            "docs": spec.docs, "vocab": spec.vocab, "tokens": spec.tokens,
            "approximate": list(spec.approx), "download_bytes": spec.download_size,
            "download": _size(spec), "cached": corpus_status(spec, cache_dir),
            "license": spec.license, "source": spec.source_url.format(date="latest"),
            "urls": [u.format(date="latest") for f in spec.files for u in f.urls],
            "sha256_pinned": {f.name: f.sha256 for f in spec.files},
            "aliases": list(spec.aliases), "description": spec.description,
        })
    return rows


def run_list(args):
    """Run ``esca corpora list``: print the registry as a table (or JSON).

    Returns
    -------
    int
        0.
    """
    cache_dir = args.cache_dir or default_cache_dir()
    rows = _rows(cache_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    head = ("NAME", "DOCS", "VOCAB", "TOKENS", "DOWNLOAD", "CACHED", "LICENSE", "SOURCE")
    table = [head] + [(r["name"], _count(r["docs"], "docs" in r["approximate"]),
                       _count(r["vocab"], "vocab" in r["approximate"]),
                       _count(r["tokens"], "tokens" in r["approximate"]),
                       r["download"], r["cached"], r["license"], r["source"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {1, 2, 3}
    for row in table:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())
    print(f"\ncache: {os.path.abspath(cache_dir)}   (- : values that depend on the conversion; "
          "~ : approximate)")
    print("fetch one with: esca corpora fetch NAME   (see 'esca corpora fetch -h')")
    return 0


def parse_sha256_options(values, spec=None):
    """Turn ``--sha256 [FILE=]HEX`` values into a dict ``{FILE or None: hex}``.

    Parameters
    ----------
    values : list of str or None
        The ``--sha256`` values.
    spec : esca.corpora.registry.StandardCorpus, optional
        The corpus fetched: a value without ``FILE=`` needs a corpus of one file, and
        ``FILE`` must name one of its files (not checked for a corpus whose file names come
        from its published checksum list: wikipedia).

    Returns
    -------
    dict
        For :class:`esca.corpora.fetch.Source`'s ``sha256``.

    Raises
    ------
    UserError
        A value that is not 64 hex digits, a file named twice, or (with ``spec``) a file the
        corpus does not have.
    """
    out = {}
    for v in values or ():
        name, _, hexd = v.rpartition("=")
        key = name or None
        if key in out:
            raise UserError(f"--sha256 given twice for {key or 'the file'}")
        out[key] = check_hex(hexd, "sha256", f"--sha256 {v}")
    if spec is None or spec.checksum_file or not out:
        return out
    files = [f.name for f in spec.files]
    if None in out and len(files) != 1:
        raise UserError(f"{spec.name} has {len(files)} files ({', '.join(files)}); "
                        "give --sha256 FILE=HEX")
    for key in out:
        if key is not None and key not in files:
            raise UserError(f"--sha256 {key}=...: {spec.name} has no file {key!r} "
                            f"(files: {', '.join(files)})")
    return out


def run_fetch(args):
    """Run ``esca corpora fetch``: download, verify and convert; print what was written.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    UserError
        Everything :func:`esca.corpora.fetch.fetch_corpus` raises (an unknown name, a
        network error with the partial download kept, a digest mismatch, a conversion
        error); the CLI prints it as one line and exits with status 2.
    """
    progress = show_progress_bar(args)
    spec = get_corpus(args.name)
    source = Source(mirror=args.mirror, sha256=parse_sha256_options(args.sha256, spec),
                    dump_date=args.dump_date, timeout=args.timeout)
    given = {k: getattr(args, k) for k in ("no_below", "no_above", "keep_n")
             if getattr(args, k) is not None}
    # The pruning flags given replace the corpus's own values (`esca corpora list`); the
    # others stay.
    pruning = (dataclasses.replace(Pruning(**spec.prune), **given) if given else None)
    conversion = Conversion(holdout=args.holdout, seed=args.seed, pruning=pruning,
                            processes=args.processes)
    check_options(spec, source, conversion, {"holdout": "--holdout", "timeout": "--timeout",
                                             "mirror": "--mirror", "dump_date": "--dump-date"})
    try:
        r = fetch_corpus(args.name, cache_dir=args.cache_dir, out=args.out, source=source,
                         conversion=conversion, convert=args.convert, force=args.force,
                         reconvert=args.reconvert, progress=progress)
    except OutputIsInputError as e:  # --out names a download (known only after planning)
        if e.option != "out":
            raise
        raise e.named("--out") from e
    for f in r["files"]:
        got = f"downloaded {f['downloaded']} bytes" if f["downloaded"] else "cached"
        print(f"{f['path']}: {got}, sha256 {f['sha256']} ({f['verified']})")
    if r["corpus"] is None:
        print(f"downloaded {r['name']} into {r['folder']}; convert it with: "
              f"esca corpora fetch {r['name']}" + (f" --cache-dir {args.cache_dir}"
                                                   if args.cache_dir else ""))
        return 0
    s = r["stats"]
    if s is not None:
        empty = s["n_empty_dropped"]
        h = s.get("holdout")
        D, V, N = (s["D"], s["V"], s["N"]) if h is None else (
            h["train_docs"], h["V"], h["train_tokens"])
        print(f"wrote {r['corpus']}: D={D} V={V} N={N} tokens; dropped {empty} "
              f"empty document{'' if empty == 1 else 's'} ({s['seconds']:.1f} s)")
        if "test" in s:
            t = s["test"]
            print(f"wrote {t['path']}: D={t['D']} N={t['N']} tokens (test split, train "
                  f"vocabulary; {t['n_oov_dropped']} tokens of other words dropped)")
        elif h is not None:
            print(f"wrote {h['test_path']}: D={h['test_docs']} N={h['test_tokens']} tokens "
                  f"(held out; {h['test_tokens_dropped_oov']} tokens of words unseen in "
                  "training dropped)")
        if "docs_tsv" in s:
            print(f"document names: {s['docs_tsv']}")
    else:
        print(f"already converted: {r['corpus']} (--reconvert to convert again)")
    stem = os.path.splitext(os.path.basename(r["corpus"]))[0]
    print(f"train on it: esca train {r['corpus']} --num-topics 100 --iterations 1000 "
          f"--out {stem}-model.h5")
    return 0
