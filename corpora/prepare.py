"""Convert text and bag-of-words corpora into the esca HDF5 corpus (``esca prepare``).

Every format is read as a stream, in at most two passes: pass 1 collects the
vocabulary (text) or the document frequencies (bag-of-words formats, only
when pruning needs them); pass 2 writes the documents through
:class:`esca.corpus.CorpusWriter`, so nothing appears at the output path
unless the conversion succeeds.

Progress: each pass reports to an optional ``progress(stage, done, total)``
callable (such as :class:`esca.progress.StageProgress`) every
:data:`REPORT_EVERY` input documents and once at its end with ``done ==
total``. The stages are ``"vocabulary"`` (text pass 1; total unknown until
its end), ``"doc frequencies"`` (bag-of-words pass 1, only when pruning needs
it) and ``"writing"`` (pass 2). ``done`` counts input documents, empty ones
included; the total is the number of input documents when known (UCI and
Matrix Market headers, a finished pass 1), else None.
"""

import contextlib
import dataclasses
import json
import logging
import os
import time
from itertools import repeat

import numpy as np

from esca._checks import check_fraction, check_int
from esca._io import atomic_output, check_not_input, check_output_file, make_temp_file
from esca.corpus import CorpusWriter, check_vocab, read_corpus, read_doc_index, write_corpus
from esca.errors import UserError
from esca.memory import check_allocation
from esca.split import split_holdout

from .readers import (
    LdacCorpus,
    MmDocs,
    UciDocword,
    check_encoding,
    check_file,
    iter_file_documents,
    iter_text_documents,
    list_text_files,
    load_dictionary,
    read_word_list,
)
from .text import ENGLISH, english_stopwords

FORMATS = ("text", "uci", "mm", "ldac")

#: Input documents between two calls of a ``progress`` callable.
REPORT_EVERY = 1000
#: A bag-of-words document expanding to this many bytes or more is first checked against
#: the memory available (:func:`esca.memory.check_allocation`).
EXPAND_CHECK_BYTES = 64 << 20

logger = logging.getLogger(__name__)


def prepare_corpus(input_path, fmt, out, *, vocab=None, dictionary=None, pruning=None,
                   holdout=None, seed=0, progress=None, text=None):
    """Convert a corpus file into an esca HDF5 corpus, written atomically to ``out``.

    Formats (``fmt``):

    ``text``
        One document per line, tokens separated by whitespace, UTF-8 (or
        ``text.encoding``), plain or gzip. If ``input_path`` is a folder, each file
        in it and its subfolders (sorted by path, hidden names skipped) is one
        document, and the list of files is written to :func:`docs_path` of
        ``out`` (``doc_index`` = row). With ``text.tokenizer`` the text is raw: each
        document's tokens are ``tokenizer(text)``. The vocabulary is built with a
        gensim ``Dictionary`` (first-seen order, ``prune_at=None``); tokens keep
        their order.
    ``uci``
        UCI bag-of-words ``docword.NAME.txt[.gz]`` plus ``vocab``
        (line i = wordID i). Documents absent from the body are empty.
    ``mm``
        gensim Matrix Market corpus (documents are rows) plus ``dictionary``
        (``Dictionary.save`` or ``save_as_text``); vocabulary = tokens in id order.
    ``ldac``
        LDA-C lines ``M id:count ...`` (0-based ids) plus ``vocab``.

    For bag-of-words formats each document becomes its word ids repeated
    ``count`` times, in increasing word id order.

    Pruning (all off by default: every word is kept; see :class:`Pruning`) removes the stop
    words first, then applies gensim's ``Dictionary.filter_extremes(no_below, no_above,
    keep_n)`` with document frequencies over all input documents (empty ones included).
    Surviving words keep their relative order. Documents left empty are dropped and
    counted; the kept documents' 0-based input positions (line, docID-1, row) are stored as
    ``doc_index``.

    Parameters
    ----------
    input_path : str or path-like
    fmt : {"text", "uci", "mm", "ldac"}
    out : str or path-like
        Output HDF5 file; replaced atomically, left untouched on error.
    vocab : str, optional
        Vocabulary file, one word per line; required for ``uci`` and ``ldac``.
    dictionary : str, optional
        gensim Dictionary file; required for ``mm``.
    pruning : Pruning, optional
        Stop words and document-frequency pruning; default none.
    holdout : float, optional
        Hold out this fraction (0 < F < 1) of the documents, chosen by ``seed``, into
        :func:`holdout_path` of ``out`` (see :func:`write_holdout`); ``out`` then holds
        the training documents. The conversion goes to a temporary file that is split
        and then renamed to ``out``, so a failing split (fewer than 2 documents, ...)
        leaves an existing ``out`` untouched.
    seed : int
        Seed of the hold-out split.
    progress : callable, optional
        Called as ``progress(stage, done, total)`` while reading (see the
        module docstring); default: no progress report.
    text : TextOptions, optional
        ``text`` only: the tokenizer and the codec of the input; default whitespace-split
        UTF-8.

    Returns
    -------
    dict
        ``D`` (documents written), ``V`` (vocabulary size), ``N`` (tokens),
        ``n_empty_dropped``, ``n_input_docs`` (ints) and ``seconds`` (float).
        The file holds ``doc_ptr`` int64 (D+1,), ``word_ids`` int32 (N,),
        ``vocab`` (V,), ``doc_index`` int64 (D,) and a provenance attribute.
        With ``holdout``, also ``holdout``: the split's summary (see
        :func:`write_holdout`); D, V and N are those of the whole conversion.
        For a folder, also ``docs_tsv``: the path of the document list.

    Raises
    ------
    UserError
        Unknown format; missing input, ``vocab``, ``dictionary`` or stop-words file; a
        file or ``text`` options given that the format does not use; a bad pruning
        value; ``out`` naming an input file or a folder; malformed input (invalid UTF-8
        with its line number, UCI header counts that disagree with the body or the
        vocabulary, ...); no tokens left; a bad hold-out fraction or too few documents to
        split. The messages name the parameters (``holdout=``, ``pruning.no_above``).
    """
    t0 = time.perf_counter()
    if fmt not in FORMATS:
        raise UserError(f"unknown input format {fmt!r} (known: {', '.join(FORMATS)})")
    text = TextOptions() if text is None else text
    if text != TextOptions() and fmt != "text":
        raise UserError(f"text={text} is only used with fmt='text', not {fmt!r}")
    encoding = check_encoding(text.encoding or "utf-8", "text.encoding")
    pruning = Pruning() if pruning is None else pruning
    folder = fmt == "text" and input_path is not None and os.path.isdir(input_path)
    input_path = os.fspath(input_path) if folder else check_file(input_path, "input file")
    vocab, dictionary = _check_side_files(fmt, vocab, dictionary)
    check_pruning(pruning)
    if holdout is not None:
        check_fraction("holdout", holdout)
    stopwords = pruning.stopwords
    stop_path = None if stopwords in (None, "none", ENGLISH) else check_file(
        stopwords, "stop-words file (pruning.stopwords)")
    inputs = [("file", None if folder else input_path), ("vocab file", vocab),
              ("dictionary file", dictionary), ("stop-words file", stop_path)]
    out = _check_output(out, inputs)
    src = _Source(input_path, fmt, vocab, dictionary,
                  list_text_files(input_path) if folder else None,
                  text.tokenizer, encoding)
    if not folder:
        return _prepare_split(src, pruning, stop_path, out, inputs, holdout, seed, progress,
                              t0)
    _check_output(docs_path(out), inputs, "the document list")
    with atomic_output(docs_path(out)) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("doc_index\tpath\n")
            f.writelines(f"{i}\t{_tsv(name)}\n" for i, name in enumerate(src.files))
        stats = _prepare_split(src, pruning, stop_path, out, inputs, holdout, seed, progress,
                               t0)
    stats["docs_tsv"] = docs_path(out)
    return stats


@dataclasses.dataclass(frozen=True)
class TextOptions:
    """How :func:`prepare_corpus` reads ``fmt="text"`` input (``esca prepare --tokenize
    ...``, ``--encoding``).

    Parameters
    ----------
    tokenizer : esca.corpora.text.Tokenizer, optional
        Tokenize raw text with it (its settings are stored in the provenance, key
        ``tokenizer``). Default: split on whitespace.
    encoding : str
        The codec of the input (default UTF-8; ASCII-compatible codecs).
    """

    tokenizer: object = None
    encoding: str = "utf-8"


@dataclasses.dataclass(frozen=True)
class _Source:
    """A checked input of :func:`prepare_corpus` (``files``: a folder's files, else None)."""

    path: str
    fmt: str
    vocab: str | None
    dictionary: str | None
    files: list | None
    tokenizer: object
    encoding: str


def _prepare_split(src, pruning, stop_path, out, inputs, holdout, seed, progress, t0):
    """:func:`_convert` to ``out``; with ``holdout``, to a temporary file that is split."""
    if holdout is None:
        stats = _convert(src, pruning, stop_path, out, out, progress)
        stats["seconds"] = time.perf_counter() - t0
        return stats
    _check_output(holdout_path(out), inputs, "the test file (holdout)")
    check_output_file(out)
    tmp = make_temp_file(out)
    try:
        stats = _convert(src, pruning, stop_path, tmp, out, progress)
        stats["holdout"] = write_holdout(tmp, holdout, seed, holdout_path(out))
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    stats["seconds"] = time.perf_counter() - t0
    return stats


def _convert(src, pruning, stop_path, path, shown_as, progress):
    """Convert the input ``src`` into the corpus file ``path`` (named ``shown_as``)."""
    stopwords, tokenizer = pruning.stopwords, src.tokenizer
    if stopwords == ENGLISH:
        stop = sorted(english_stopwords())
    elif stop_path is None:
        stop = []
    else:
        stop = read_word_list(stop_path, "stop-words file", positional=False)
    stop_source = ENGLISH if stopwords == ENGLISH else _abs(stop_path)
    if tokenizer is not None and stop:
        if tokenizer.stopwords:
            raise UserError("stop words given twice: to the Tokenizer and as "
                            "pruning.stopwords")
        tokenizer = dataclasses.replace(tokenizer, stopwords=stop, stopwords_source=stop_source)
    prune = dict(no_below=pruning.no_below, no_above=pruning.no_above, keep_n=pruning.keep_n,
                 stopwords=[] if tokenizer is not None else stop)
    provenance = {
        "source": os.path.abspath(src.path), "input_format": src.fmt,
        "vocab": _abs(src.vocab), "dictionary": _abs(src.dictionary),
        "pruning": {"no_below": pruning.no_below, "no_above": pruning.no_above,
                    "keep_n": pruning.keep_n, "stopwords": stop_source,
                    "n_stopwords": len(stop)},
    }
    if src.fmt == "text":
        provenance.update(encoding=src.encoding,
                          documents="files" if src.files is not None else "lines",
                          tokenizer=None if tokenizer is None else tokenizer.to_dict())
        split = str.split if tokenizer is None else tokenizer
        if src.files is not None:
            def read():
                return iter_file_documents(src.path, src.files, src.encoding, split)
        else:
            def read():
                return iter_text_documents(src.path, src.encoding, split)
        words, docs = _text_documents(read, src.path, prune, progress)
        num_input = None
    else:
        source, words = _open_bow(src.fmt, src.path, src.vocab, src.dictionary)
        words, docs = _bow_documents(source, words, prune, progress)
        num_input = lambda: source.num_docs  # noqa: E731 - known after the pass
    pruned = bool(stop) or _filters_extremes(prune)
    stats = _write(path, words, docs, provenance, src.path, num_input, pruned,
                   shown_as=shown_as)
    logger.debug("wrote %s: %s", shown_as, stats)
    return stats


def _abs(path):
    return None if path is None else os.path.abspath(path)


def _check_side_files(fmt, vocab, dictionary):
    needs = {"uci": "vocab", "ldac": "vocab", "mm": "dictionary"}.get(fmt)
    if vocab is not None and needs != "vocab":
        raise UserError(f"vocab is only used with fmt='uci' or 'ldac', not {fmt!r}")
    if dictionary is not None and needs != "dictionary":
        raise UserError(f"dictionary is only used with fmt='mm', not {fmt!r}")
    if needs == "vocab":
        vocab = check_file(vocab, f"vocab file (for fmt={fmt!r})")
    if needs == "dictionary":
        dictionary = check_file(dictionary, "dictionary file (for fmt='mm')")
    return vocab, dictionary


def check_pruning(pruning, names=None):
    """Raise :class:`UserError` unless ``pruning`` holds valid values.

    Parameters
    ----------
    pruning : Pruning
    names : dict of str to str, optional
        How each field is named in the messages (the CLI passes its flags:
        ``{"no_below": "--no-below", ...}``); default ``pruning.FIELD``.

    Raises
    ------
    UserError
        ``no_below`` not an integer >= 0, ``no_above`` not a fraction in (0, 1], ``keep_n``
        not an integer >= 1.
    """
    names = {f: f"pruning.{f}" for f in ("no_below", "no_above", "keep_n")} | (names or {})
    if pruning.no_below is not None:
        check_int(names["no_below"], pruning.no_below, 0)
    if pruning.no_above is not None:
        check_fraction(names["no_above"], pruning.no_above, one=True)
    if pruning.keep_n is not None:
        check_int(names["keep_n"], pruning.keep_n, 1)


def _check_output(out, inputs, option="out"):
    out = os.fspath(out)
    if os.path.isdir(out):
        raise UserError(f"{option} is a folder, not a file: {out}")
    check_not_input(out, inputs, option)
    return out


def _open_bow(fmt, input_path, vocab, dictionary):
    """Return ``(reader, words)``: a bag-of-words reader and its vocabulary in id order."""
    if fmt == "mm":
        d = load_dictionary(dictionary)
        words = [None] * len(d)
        for word, i in d.token2id.items():
            words[i] = word
        check_vocab(words, f"dictionary file {dictionary}")
        return MmDocs(input_path, len(words)), words
    words = read_word_list(vocab, "vocab file")
    reader = UciDocword if fmt == "uci" else LdacCorpus
    return reader(input_path, len(words)), words


def _filters_extremes(prune):
    return (prune["no_below"], prune["no_above"], prune["keep_n"]) != (None, None, None)


def _prune(d, no_below, no_above, keep_n, stopwords):
    """Remove ``stopwords`` from gensim Dictionary ``d``, then ``filter_extremes`` (in place)."""
    stop_ids = [d.token2id[w] for w in stopwords if w in d.token2id]
    if stop_ids:
        d.filter_tokens(bad_ids=stop_ids)
    if (no_below, no_above, keep_n) != (None, None, None):
        d.filter_extremes(no_below=no_below or 0, no_above=1.0 if no_above is None else no_above,
                          keep_n=keep_n)


def _reported(items, progress, stage, total=None, position=None):
    """Yield ``items``, calling ``progress(stage, done, total)`` on the way.

    ``done`` is the number of items received so far, or ``position(item) + 1``
    (the input position of a document, when the input leaves some out). It
    is reported at the start, every :data:`REPORT_EVERY` items and after the
    last item with ``done == total`` (once); ``total`` (an int, None, or a
    callable returning either, read at each report) defaults to ``done`` at
    the end.
    """
    if progress is None:
        yield from items
        return

    def report(done, n):
        progress(stage, done, n)
        return done, n

    def get_total():
        return total() if callable(total) else total

    done = 0
    last = report(0, get_total())
    for n, item in enumerate(items, 1):
        done = n if position is None else position(item) + 1
        if n % REPORT_EVERY == 0:
            last = report(done, get_total())
        yield item
    n_total = get_total()
    n_total = done if n_total is None else n_total
    if last != (n_total, n_total):
        report(n_total, n_total)


def _text_documents(read, path, prune, progress=None):
    """Pass 1: build and prune the vocabulary. Returns it and a generator for pass 2.

    ``read()`` returns a fresh iterator over the documents' token lists (called once per pass).
    """
    from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import

    logger.info("pass 1: building the vocabulary of %s", path)
    d = Dictionary()
    d.add_documents(_reported(read(), progress, "vocabulary"), prune_at=None)
    num_docs = d.num_docs
    n_words = len(d)
    _prune(d, **prune)
    words = [None] * len(d)
    for word, i in d.token2id.items():
        words[i] = word
    get, pruned = d.token2id.get, len(d) < n_words

    def docs():
        for k, tokens in enumerate(_reported(read(), progress, "writing", num_docs)):
            ids = np.fromiter(map(get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
            yield k, (ids[ids >= 0] if pruned else ids)

    return words, docs()


def _bow_documents(source, words, prune, progress=None):
    """Prune the vocabulary of a bag-of-words reader (pass 1 if needed); return it and pass 2."""
    remap = np.arange(len(words), dtype=np.int64)
    if prune["stopwords"] or _filters_extremes(prune):
        remap, words = _bow_pruning(source, words, prune, progress)

    def docs():
        for k, ids, counts in _bow_reported(source, progress, "writing"):
            if len(ids) > 1 and (ids[1:] < ids[:-1]).any():
                order = np.argsort(ids, kind="stable")
                ids, counts = ids[order], counts[order]
            new = remap[ids]
            keep = (new >= 0) & (counts > 0)
            _check_expansion(source, k, counts[keep])
            yield k, np.repeat(new[keep].astype(np.int32), counts[keep])

    return words, docs()


def _check_expansion(source, k, counts):
    """Refuse a document whose tokens (int32, the sum of its ``counts``) would not fit in
    the memory available (a count of 2**31 - 1 asks for 8 GiB), before expanding it."""
    n = int(counts.sum())
    if 4 * n >= EXPAND_CHECK_BYTES:
        check_allocation(4 * n, f"{source.path}: {source._id_name} {k + 1} ({n} tokens, the "
                                "sum of its counts)")


def _bow_reported(source, progress, stage):
    """The documents of a bag-of-words reader, reported by input position (see
    :func:`_reported`)."""
    return _reported(source, progress, stage, total=lambda: source.num_docs,
                     position=lambda item: item[0])


def _bow_pruning(source, words, prune, progress=None):
    """Return ``(remap, kept_words)``: old id -> new id (-1 if pruned), int64 (V_old,)."""
    from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import

    d = Dictionary()
    d.token2id = {w: i for i, w in enumerate(words)}
    if _filters_extremes(prune):
        logger.info("pass 1: counting document frequencies in %s", source.path)
        dfs = np.zeros(len(words), dtype=np.int64)
        for _, ids, counts in _bow_reported(source, progress, "doc frequencies"):
            dfs[np.unique(ids[counts > 0])] += 1
        d.num_docs = source.num_docs  # documents left out of the body included
        d.dfs = dict(enumerate(dfs.tolist()))
    _prune(d, **prune)
    old = np.array([i for i, w in enumerate(words) if w in d.token2id], dtype=np.int64)
    remap = np.full(len(words), -1, dtype=np.int64)
    remap[old] = np.arange(len(old))
    kept = [words[i] for i in old]
    assert all(d.token2id[w] == i for i, w in enumerate(kept))  # compactify keeps the order
    return remap, kept


def _write(out, words, docs, provenance, input_path, num_input=None, pruned=False,
           shown_as=None):
    """Pass 2: write the non-empty documents of ``docs`` ((index, int ids) pairs) to ``out``.

    ``num_input``, if given, returns the number of input documents after the pass (for
    readers that do not yield the documents their input leaves out); by default every
    input document is one item of ``docs``. ``pruned`` (the vocabulary was pruned) only
    changes the message when no token is left. ``shown_as`` names ``out`` in the log
    (the final name when ``out`` is a temporary file).
    """
    n_input = n_written = n_tokens = 0
    logger.info("pass 2: writing %s", shown_as or out)
    with CorpusWriter(out, vocab=words, provenance=provenance) as w:
        for k, ids in docs:
            n_input += 1
            if len(ids) == 0:
                continue
            w.add(ids, source_index=k)
            n_written += 1
            n_tokens += len(ids)
        if num_input is not None:
            n_input = num_input()
        n_empty = n_input - n_written
        if n_tokens == 0:
            raise UserError(f"{input_path} has no tokens ({n_empty} empty document"
                            f"{'' if n_empty == 1 else 's'}{' after pruning' if pruned else ''})"
                            "; nothing was written")
        w.n_empty_dropped = n_empty
    return {"D": n_written, "V": len(words), "N": n_tokens,
            "n_empty_dropped": n_empty, "n_input_docs": n_input}


def docs_path(out):
    """The list of input files written beside ``out`` for a folder input: NAME.docs.tsv."""
    root, _ = os.path.splitext(os.fspath(out))
    return f"{root}.docs.tsv"


def _tsv(name):
    """A file name as one TSV field (tabs and newlines escaped as ``\\t``, ``\\n``)."""
    return name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def holdout_path(out):
    """The test file written beside ``out`` by :func:`write_holdout`: NAME.h5 -> NAME.test.h5."""
    root, ext = os.path.splitext(os.fspath(out))
    return f"{root}.test{ext or '.h5'}"


def write_holdout(path, fraction, seed, test_path=None):
    """Split the corpus file ``path`` into training and test documents, in place.

    The test documents (a seeded ``fraction`` of them, see
    :func:`esca.evaluate.split_holdout`) go to ``test_path`` (default
    :func:`holdout_path`), and ``path`` is replaced by the training
    documents. Both share the training vocabulary (words seen only in test
    documents are dropped, and counted); ``doc_index`` keeps each
    document's position in the original input, and the provenance records
    the split. Each file is written atomically, the test file first.

    Returns
    -------
    dict
        The split's summary (see ``split_holdout``), with ``test_path`` and the final
        counts: ``V`` (shared vocabulary), ``train_tokens``, ``test_tokens``.

    Raises
    ------
    UserError
        On a bad fraction or seed, fewer than 2 documents, or an unwritable folder.
    """
    path = os.fspath(path)
    test_path = os.fspath(test_path) if test_path is not None else holdout_path(path)
    whole = read_corpus(path)
    index = read_doc_index(path)
    index = np.arange(whole.num_docs) if index is None else index
    dropped = int(whole.attrs.get("n_empty_dropped", 0))
    prov = json.loads(whole.attrs.get("provenance", "{}"))
    train, test, info = split_holdout(whole, fraction, seed)
    summary = {k: v for k, v in info.items() if not k.endswith("_doc_ids")}
    for part, c, ids, out in (("test", test, info["test_doc_ids"], test_path),
                              ("train", train, info["train_doc_ids"], path)):
        write_corpus(out, c.doc_ptr, c.word_ids, c.vocab,
                     provenance={**prov, "holdout": {**summary, "part": part}},
                     doc_index=index[ids], n_empty_dropped=dropped)
    return {**summary, "test_path": test_path, "V": len(train.vocab),
            "train_tokens": train.num_tokens, "test_tokens": test.num_tokens}


@dataclasses.dataclass(frozen=True)
class Pruning:
    """Vocabulary pruning of :func:`prepare_corpus` (``esca prepare --stopwords``,
    ``--no-below``, ``--no-above``, ``--keep-n``); all off by default.

    The stop words are removed first; ``no_below``, ``no_above`` and ``keep_n`` then go to
    gensim's ``Dictionary.filter_extremes``; None leaves that kind of pruning out. Checked
    by :func:`check_pruning` when used.

    Parameters
    ----------
    no_below : int, optional
        Drop words in fewer than ``no_below`` documents.
    no_above : float, optional
        Drop words in more than a fraction ``no_above`` (0 < F <= 1) of the documents.
    keep_n : int, optional
        Keep only the ``keep_n`` words of highest document frequency.
    stopwords : str, optional
        File of words to remove, one per line; or "english" for gensim's 337 English stop
        words (``gensim.parsing.preprocessing.STOPWORDS``); "none" or None: no stop words.
        With a tokenizer (:class:`TextOptions`), they are normalized (lowercase, accents)
        like the tokens.
    """

    no_below: int | None = None
    no_above: float | None = None
    keep_n: int | None = None
    stopwords: str | None = None

    def filters(self):
        """The ``filter_extremes`` settings as a dict (``no_below``, ``no_above``,
        ``keep_n``), as stored in a corpus's provenance."""
        return {"no_below": self.no_below, "no_above": self.no_above, "keep_n": self.keep_n}
