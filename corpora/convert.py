"""Turn downloaded corpus archives into esca corpora (the conversion of ``esca corpora fetch``).

Conversion reuses ``esca prepare`` (:func:`esca.corpora.prepare.prepare_corpus`): UCI files
go through ``--format uci``; 20 Newsgroups posts and Wikipedia articles are cleaned and
tokenized (:mod:`esca.corpora.text`) into a ``NAME.tokens.txt.gz`` file (one document per line,
tokens separated by spaces) that goes through ``--format text``, beside a ``NAME.docs.tsv``
naming each document.
"""

import dataclasses
import gzip
import logging
import os
import tarfile
import xml.etree.ElementTree as ET
import zlib

import numpy as np

from esca._io import atomic_path
from esca.corpus import CorpusWriter, read_corpus
from esca.errors import UserError, one_line

from .download import remove_files, write_text
from .prepare import Pruning, holdout_path, prepare_corpus
from .text import STOPWORDS_SOURCE, english_stopwords, newsgroup_text, tokenize_text

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Conversion:
    """How ``esca corpora fetch`` converts the downloaded files (the options of ``esca prepare``).

    Parameters
    ----------
    holdout : float, optional
        As ``esca prepare --holdout``: hold out a seeded fraction of the documents (UCI and
        Wikipedia; 20 Newsgroups has its own train/test split).
    seed : int
        Seed of the held-out split.
    pruning : Pruning, optional
        Vocabulary pruning; None: the registry entry's ``prune`` values
        (``Pruning(**spec.prune)``).
    processes : int, optional
        Worker processes of gensim's WikiCorpus (default: cores - 1).
    """

    holdout: float | None = None
    seed: int = 0
    pruning: Pruning | None = None
    processes: int | None = None


def convert_downloads(spec, paths, out, folder, options, *, force=False):
    """Convert the downloaded files of ``spec`` into the esca corpus ``out``.

    Parameters
    ----------
    spec : StandardCorpus
        The registry entry; its ``kind`` (``uci``, ``20newsgroups``, ``wikipedia``) picks
        the conversion.
    paths : dict
        ``{role: path}`` of the downloaded files (``docword`` and ``vocab``; ``archive``;
        ``dump``).
    out : str
        Path of the converted corpus; a test split goes beside it (``NAME.test.h5``).
    folder : str
        The corpus's cache folder (token files and ``NAME.docs.tsv`` go there).
    options : Conversion
        Held-out split, pruning and worker processes.
    force : bool
        Wikipedia: tokenize the dump again even if its token file exists.

    Returns
    -------
    dict
        The conversion's summary (:func:`esca.corpora.prepare.prepare_corpus`'s, plus
        ``test`` for 20 Newsgroups and ``docs_tsv`` for text corpora).

    Raises
    ------
    UserError
        An unknown corpus kind, a damaged download, or what ``prepare_corpus`` raises.
    """
    pruning = Pruning(**spec.prune) if options.pruning is None else options.pruning
    if spec.kind == "uci":
        return prepare_corpus(paths["docword"], "uci", out, vocab=paths["vocab"],
                              pruning=pruning, holdout=options.holdout, seed=options.seed)
    if spec.kind == "20newsgroups":
        return convert_20newsgroups(paths["archive"], out, folder, pruning)
    if spec.kind == "wikipedia":
        return convert_wikipedia(paths["dump"], out, folder, pruning, holdout=options.holdout,
                                 seed=options.seed, processes=options.processes, force=force)
    raise UserError(f"{spec.name}: unknown corpus kind {spec.kind!r}")


def _stopwords():
    return english_stopwords()


def _numeric_key(name):
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def _write_tokens(path, docs):
    """Write ``docs`` (token lists) to ``path`` atomically, gzip, one document per line."""
    with atomic_path(path) as tmp, gzip.GzipFile(tmp, "wb", compresslevel=4, mtime=0) as gz:
        for tokens in docs:
            gz.write((" ".join(tokens) + "\n").encode("utf-8"))


def convert_20newsgroups(archive, out, folder, pruning):
    """Convert ``20news-bydate.tar.gz`` into ``out`` (train posts) and ``NAME.test.h5``.

    Posts are ordered train then test, by newsgroup, then by post number; each becomes the
    tokens (:func:`tokenize_text`) of :func:`newsgroup_text`. The train tokens go through
    ``esca prepare --format text`` with ``pruning``; the test file uses the train vocabulary
    (test tokens of other words are dropped, so are test posts left empty). Both files'
    ``doc_index`` is the post's row in ``20newsgroups.docs.tsv`` (0-based, train first),
    whose columns are ``doc_index split newsgroup source_id`` (``train/alt.atheism/49960``).

    Returns
    -------
    dict
        The train file's ``prepare_corpus`` summary plus ``test``: ``D``, ``N``,
        ``n_empty_dropped``, ``n_oov_dropped`` of the test file, and ``docs_tsv``.

    Raises
    ------
    UserError
        An unreadable or damaged archive, or one without ``20news-bydate-train/GROUP/POST``
        members.
    """
    stem = os.path.splitext(os.path.basename(out))[0]
    tokens_paths = {s: os.path.join(folder, f"20newsgroups.{s}.tokens.txt.gz")
                    for s in ("train", "test")}
    docs_tsv = os.path.join(folder, "20newsgroups.docs.tsv")
    posts = {}
    logger.info("reading %s", archive)
    stop = _stopwords()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for m in tar:
                parts = [p for p in m.name.split("/") if p not in ("", ".")]
                if not m.isfile() or len(parts) != 3 or parts[0] not in (
                        "20news-bydate-train", "20news-bydate-test"):
                    continue
                split = parts[0].rsplit("-", 1)[1]
                raw = tar.extractfile(m).read()
                key = (split != "train", parts[1], _numeric_key(parts[2]))
                posts[key] = (split, parts[1], f"{split}/{parts[1]}/{parts[2]}",
                              tokenize_text(newsgroup_text(raw), stop))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise UserError(f"cannot read {archive}: {one_line(e)}") from None
    rows = [posts[k] for k in sorted(posts)]
    n_train = sum(1 for r in rows if r[0] == "train")
    if n_train == 0:
        raise UserError(f"{archive} holds no posts under 20news-bydate-train/GROUP/POST")
    write_text(docs_tsv, "doc_index\tsplit\tnewsgroup\tsource_id\n" + "".join(
        f"{i}\t{split}\t{group}\t{source_id}\n"
        for i, (split, group, source_id, _) in enumerate(rows)))
    for split in ("train", "test"):
        _write_tokens(tokens_paths[split], (r[3] for r in rows if r[0] == split))
    folder_out = os.path.dirname(out)
    tmp_train = os.path.join(folder_out, f".{stem}.train.h5.tmp")
    test_out = holdout_path(out)
    try:
        stats = prepare_corpus(tokens_paths["train"], "text", tmp_train, pruning=pruning)
        vocab = read_corpus(tmp_train).vocab
        index = {w: i for i, w in enumerate(vocab)}
        n_test = n_oov = n_empty = 0
        prov = {"source": os.path.abspath(archive), "input_format": "20newsgroups",
                "split": "test", "vocabulary": "train split", "pruning": pruning.filters(),
                "tokenizer": "gensim.corpora.wikicorpus.tokenize", "stopwords": STOPWORDS_SOURCE}
        with CorpusWriter(test_out, vocab=vocab, provenance=prov) as w:
            for k, r in enumerate(rows[n_train:]):
                ids = np.array([index[t] for t in r[3] if t in index], dtype=np.int32)
                n_oov += len(r[3]) - len(ids)
                if len(ids) == 0:
                    n_empty += 1
                    continue
                w.add(ids, source_index=n_train + k)
                n_test += len(ids)
            w.n_empty_dropped = n_empty
        os.replace(tmp_train, out)
    finally:
        remove_files(tmp_train)
    stats["test"] = {"D": len(rows) - n_train - n_empty, "N": n_test,
                     "n_empty_dropped": n_empty, "n_oov_dropped": n_oov, "path": test_out}
    stats["docs_tsv"] = docs_tsv
    return stats


def convert_wikipedia(dump, out, folder, pruning, *, holdout=None, seed=0, processes=None,
                      force=False):
    """Convert a MediaWiki ``pages-articles.xml.bz2`` dump into the esca corpus ``out``.

    Articles are read with ``gensim.corpora.WikiCorpus(dump, dictionary={}, metadata=True)``:
    main namespace only, wiki markup removed, redirects and articles of fewer than 50 tokens
    skipped, tokens as in :func:`tokenize_text` (stop words removed afterwards). The tokens
    go to ``enwiki-DATE.tokens.txt.gz`` (kept and reused by a later conversion, e.g. with
    other pruning) and ``enwiki-DATE.docs.tsv`` (``doc_index page_id title``), then through
    ``esca prepare --format text`` with ``pruning`` (and ``holdout``).

    Returns
    -------
    dict
        The ``prepare_corpus`` summary plus ``docs_tsv``.

    Raises
    ------
    UserError
        A damaged bz2 stream or XML that is not a MediaWiki export.
    KeyboardInterrupt
        If the reading was interrupted (gensim stops quietly; nothing is written then).
    """
    from gensim.corpora.wikicorpus import WikiCorpus  # noqa: PLC0415 - gensim is slow to import

    stem = os.path.basename(dump).split("-pages-")[0]
    tokens_path = os.path.join(folder, f"{stem}.tokens.txt.gz")
    docs_tsv = os.path.join(folder, f"{stem}.docs.tsv")
    if force or not (os.path.exists(tokens_path) and os.path.exists(docs_tsv)):
        logger.info("reading %s with gensim's WikiCorpus (this takes hours for a full dump)",
                    dump)
        stop = _stopwords()
        wiki = WikiCorpus(dump, processes=processes, dictionary={}, metadata=True)
        n = 0
        try:
            # Both files appear together, and only when every article was read.
            with atomic_path(docs_tsv) as tmp_docs, atomic_path(tokens_path) as tmp_tokens, \
                    open(tmp_docs, "w", encoding="utf-8") as fd, \
                    gzip.GzipFile(tmp_tokens, "wb", compresslevel=4, mtime=0) as gz:
                fd.write("doc_index\tpage_id\ttitle\n")
                for tokens, (pageid, title) in wiki.get_texts():
                    words = [t for t in tokens if t not in stop]
                    gz.write((" ".join(words) + "\n").encode("utf-8"))
                    clean = " ".join(str(title).split())
                    fd.write(f"{n}\t{pageid}\t{clean}\n")
                    n += 1
                    if n % 100_000 == 0:
                        logger.info("%d articles", n)
                if getattr(wiki, "length", None) is None:  # gensim swallowed a Ctrl-C
                    raise KeyboardInterrupt
        except (OSError, EOFError, ET.ParseError, ValueError) as e:
            if isinstance(e, UserError):
                raise
            raise UserError(f"cannot read the Wikipedia dump {dump}: {one_line(e)}") from None
        logger.info("%d articles in %s", n, tokens_path)
    stats = prepare_corpus(tokens_path, "text", out, pruning=pruning, holdout=holdout,
                           seed=seed)
    stats["docs_tsv"] = docs_tsv
    return stats
