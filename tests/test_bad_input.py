"""Bad input: one table of cases, each a real ``python -m esca ...`` subprocess.

Every row of :data:`CASES` builds a bad input in a fresh folder, runs the
command there and checks that

* the exit status is 2;
* standard error is exactly one line, ``esca: error: ...``, that names the bad
  value or file (the row's expected substrings), with no traceback;
* nothing was lost or half-written: every file of the folder is byte-identical
  afterwards and no file was added (no temporary file left behind). Where the
  command names an output, an earlier output is put there first (a file, or for
  ``export`` and ``plot`` a folder holding an earlier export or plot) and must survive.

The same table is in ``docs/errors.md`` with the actual messages; regenerate it
after changing a message or adding a row with::

    python tests/test_bad_input.py          # rewrites the table in docs/errors.md

Further tests: ``--debug`` shows the traceback, and under ``mpiexec -n 2`` the
message is printed once. "More ranks than documents" is not an error; it is
covered by tests/test_mpi.py (``test_esca_two_ranks_bit_identical[one-doc]``,
``test_one_document_leaves_a_rank_empty``).
"""

import dataclasses
import gzip
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import helpers
from helpers import MPIEXEC, SCRIPTS, child_env, needs_mpiexec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "errors.md"
TIMEOUT = 120  # seconds per command; a hang fails the test instead of blocking CI
MPI_TIMEOUT = 300
SENTINEL = b"an earlier output that must survive this failing command\n"
BEGIN = "<!-- BEGIN ERROR TABLE (python tests/test_bad_input.py) -->"
END = "<!-- END ERROR TABLE -->"

VOCAB = ["apple", "bank", "café", "river", "stone", "naïve"]  # V = 6
DOC_PTR = [0, 3, 3, 7]  # D = 3, the middle document empty
WORD_IDS = [0, 1, 2, 2, 3, 4, 5]  # N = 7


# -- builders of inputs (each takes the case's folder) ----------------------------------------

def _bytes(name, data):
    def build(d):
        (d / name).write_bytes(data)
    return build


def _text(name, text):
    return _bytes(name, text.encode("utf-8"))


def _corpus(name="c.h5", doc_ptr=DOC_PTR, word_ids=WORD_IDS, vocab=VOCAB, attrs=None,
            drop=(), dtypes=None):
    """An esca corpus written with h5py, so that any invariant can be broken."""
    dtypes = {"doc_ptr": np.int64, "word_ids": np.int32, **(dtypes or {})}

    def build(d):
        with h5py.File(d / name, "w") as f:
            for key, value in (("doc_ptr", doc_ptr), ("word_ids", word_ids)):
                if key not in drop:
                    f.create_dataset(key, data=np.asarray(value, dtype=dtypes[key]))
            if "vocab" not in drop:
                f.create_dataset("vocab", data=np.array(vocab, dtype=object),
                                 dtype=h5py.string_dtype("utf-8"))
            f.attrs.update({"format": "esca-corpus", "format_version": 1,
                            "D": len(doc_ptr) - 1, "V": len(vocab), "N": len(word_ids),
                            **(attrs or {})})
    return build


def _wide_corpus(name="wide.h5", V=50_000):
    """A valid corpus over a 50,000-word vocabulary (few tokens)."""
    return _corpus(name, vocab=[f"w{i}" for i in range(V)])


def _model(name="m.h5", K=3, vocab=VOCAB, override=None, attrs=None, drop=()):
    """A small esca model (saved by TopicModel.save), then optionally damaged with h5py."""
    def build(d):
        import esca
        rng = np.random.default_rng(0)
        V = len(vocab)
        n_kw = rng.integers(0, 5, size=(K, V)).astype(np.int32)
        model = esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=np.ones((2, K), np.int32),
                                vocab=vocab, alpha=np.full(K, 0.1), beta=0.01,
                                config=esca.TrainConfig(num_topics=K, iterations=1),
                                word_df=np.ones(V, np.int64))
        model.save(str(d / name))
        with h5py.File(d / name, "a") as f:
            for key in drop:
                del f[key]
            for key, value in (override or {}).items():
                del f[key]
                f.create_dataset(key, data=value)
            f.attrs.update(attrs or {})
    return build


def _cgs_model_without_z(name="m.h5"):
    """A collapsed Gibbs model as esca wrote it before models stored z."""
    def build(d):
        import esca
        config = esca.TrainConfig(num_topics=3, iterations=1, sampler="cgs").to_json()
        _model(name, attrs={"config": config, "sampler": "cgs"})(d)
    return build


def _labels_model(n, name="m.h5"):
    """A K=3 model whose ``topic_labels`` dataset holds ``n`` strings."""
    def build(d):
        _model(name)(d)
        with h5py.File(d / name, "a") as f:
            f.create_dataset("topic_labels", data=np.array(["x"] * n, dtype=object),
                             dtype=h5py.string_dtype("utf-8"))
    return build


def _log_model(log, name="m.h5"):
    """The K=3 model of :func:`_model` whose ``log/`` group holds ``log`` (name -> array)."""
    def build(d):
        _model(name)(d)
        with h5py.File(d / name, "a") as f:
            for key, value in log.items():
                f["log"].create_dataset(key, data=value)
    return build


def _truncated(name, source_builder, source_name):
    """A valid file cut in half."""
    def build(d):
        source_builder(d)
        data = (d / source_name).read_bytes()
        (d / name).write_bytes(data[:len(data) // 2])
        (d / source_name).unlink()
    return build


def _uci(body, header=None, vocab=("a", "b", "c", "d")):
    """docword.txt (header D W NNZ, then the body lines) and vocab.txt."""
    lines = [ln for ln in body.splitlines() if ln.strip()]
    D = max([int(ln.split()[0]) for ln in lines] or [1])
    D, W, NNZ = header or (D, len(vocab), len(lines))
    return _all(_text("docword.txt", f"{D}\n{W}\n{NNZ}\n" + body),
                _text("vocab.txt", "".join(w + "\n" for w in vocab)))


def _mm(body, header="%%MatrixMarket matrix coordinate real general", words=4):
    def build(d):
        from gensim.corpora import Dictionary
        Dictionary([[f"w{i}" for i in range(words)]]).save_as_text(str(d / "corpus.dict"))
        (d / "corpus.mm").write_text(f"{header}\n{body}")
    return build


def _mkdir(name, mode=None):
    def build(d):
        (d / name).mkdir()
        if mode is not None:
            os.chmod(d / name, mode)
            if os.access(d / name, os.W_OK):
                pytest.skip(f"chmod {mode:o} does not stop this user (root?) from writing")
    return build


def _link(name, target, symbolic=True):
    """``name`` as a symbolic (or hard) link to ``target`` (both relative to the folder)."""
    def build(d):
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        if symbolic:
            os.symlink(target, d / name)
        else:
            os.link(d / target, d / name)
    return build


def _all(*builders):
    def build(d):
        for b in builders:
            b(d)
    return build


DOCS_TXT = _text("docs.txt", "river bank stone\nthe café by the river\n")


def _checkpoints(folder="ckpt", corpus="c.h5", seed=0, then_remove=()):
    """Checkpoints of a one-iteration K=3 run on ``corpus`` (written by esca.train), then
    the files ``then_remove`` removed."""
    def build(d):
        import esca
        esca.train(str(d / corpus), num_topics=3, iterations=1, seed=seed, threads=1,
                   eval_every=0, checkpoints=esca.CheckpointPolicy(str(d / folder), every=1),
                   progress=False)
        for name in then_remove:
            (d / name).unlink()
    return build


def _bytes_in(folder, name, data):
    def build(d):
        (d / folder).mkdir(parents=True, exist_ok=True)
        (d / folder / name).write_bytes(data)
    return build


def _fetch_lock(name):
    """The lock file 'esca corpora fetch' creates in the cache, so that the folder is unchanged."""
    return _bytes_in(f"cache/{name}", ".lock", b"")


#: The case's folder as a file:// mirror (a process's /proc/self/cwd is its working folder).
MIRROR = "file:///proc/self/cwd/mirror/"
ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
              b"<body><h1>Service Unavailable</h1><p>The mirror is down for maintenance."
              b"</p></body></html>\n" * 8)
UCI_GZ = gzip.compress(b"2\n4\n3\n1 1 2\n1 3 1\n2 4 5\n", mtime=0)
KOS_VOCAB = b"a\nb\nc\nd\n"
MPI_MARKS = (pytest.mark.mpi, needs_mpiexec)


# -- the table --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input.

    ``argv`` runs in the case's folder; ``expect`` are substrings of the one-line message;
    ``out`` is the output named on the command line and ``out_kind`` what to put there
    first ("file": an earlier output file, "dir": a folder holding an earlier export or
    plot, see :func:`earlier_output_name`; None: nothing, the case is about the output
    path itself). With ``ranks`` > 1 the command runs under ``mpiexec -n RANKS`` through
    ``tests/scripts/rank_args.py``, which gives each rank its own files (``{rank}`` in an argument
    becomes the rank).
    """

    id: str
    input: str
    argv: tuple
    expect: tuple
    build: object = None
    out: str = None
    out_kind: str = "file"
    marks: tuple = ()
    ranks: int = 1


TRAIN = ("train", "-k", "3", "-n", "2", "--threads", "1", "--top", "0")

CASES = [
    # ---- esca prepare: files and options
    Case("prepare-missing-input", "input file does not exist",
         ("prepare", "missing.txt", "--format", "text", "--out", "c.h5"),
         ("input file not found", "missing.txt"), out="c.h5"),
    Case("prepare-input-is-folder", "input path is a folder (--format uci)",
         ("prepare", "docs", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("input file is not a file", "docs"), _mkdir("docs"), out="c.h5"),
    Case("prepare-text-invalid-utf8", "text with invalid UTF-8 on line 3",
         ("prepare", "docs.txt", "--format", "text", "--out", "c.h5"),
         ("docs.txt", "line 3", "invalid UTF-8"),
         _bytes("docs.txt", b"river bank\nstone\ncaf\xe9 au lait\n"), out="c.h5"),
    Case("prepare-text-nul-byte", "a binary file given as text (NUL byte on line 2)",
         ("prepare", "docs.txt", "--format", "text", "--out", "c.h5"),
         ("docs.txt", "line 2", "NUL byte"),
         _bytes("docs.txt", b"river bank\n\x00\x01\x02binary\n"), out="c.h5"),
    Case("prepare-text-zero-tokens", "text of blank lines only: zero tokens, every document empty",
         ("prepare", "docs.txt", "--format", "text", "--out", "c.h5"),
         ("docs.txt has no tokens", "3 empty documents"), _text("docs.txt", "\n   \n\t\n"),
         out="c.h5"),
    Case("prepare-text-gzip-truncated", "a gzip file cut short",
         ("prepare", "docs.txt.gz", "--format", "text", "--out", "c.h5"),
         ("cannot read docs.txt.gz",),
         _bytes("docs.txt.gz", gzip.compress(b"river bank stone\n" * 200)[:60]), out="c.h5"),
    Case("prepare-pruned-to-nothing", "pruning leaves no word (--no-below 100)",
         ("prepare", "docs.txt", "--format", "text", "--no-below", "100", "--out", "c.h5"),
         ("has no tokens", "after pruning"), DOCS_TXT, out="c.h5"),
    Case("prepare-no-above-out-of-range", "--no-above 1.5",
         ("prepare", "docs.txt", "--format", "text", "--no-above", "1.5", "--out", "c.h5"),
         ("--no-above", "1.5"), DOCS_TXT, out="c.h5"),
    Case("prepare-holdout-out-of-range", "--holdout 1.5",
         ("prepare", "docs.txt", "--format", "text", "--holdout", "1.5", "--out", "c.h5"),
         ("--holdout", "1.5"), DOCS_TXT, out="c.h5"),
    Case("prepare-holdout-one-document", "--holdout of a one-document corpus",
         ("prepare", "one.txt", "--format", "text", "--holdout", "0.5", "--out", "c.h5"),
         ("at least 2 documents", "has 1"), _text("one.txt", "river bank\n"), out="c.h5"),
    Case("prepare-out-is-input", "--out names the input file",
         ("prepare", "docs.txt", "--format", "text", "--out", "docs.txt"),
         ("--out docs.txt would overwrite the input file",), DOCS_TXT, out="docs.txt",
         out_kind=None),
    Case("prepare-format-needs-vocab", "--format uci without --vocab",
         ("prepare", "docword.txt", "--format", "uci", "--out", "c.h5"),
         ("--vocab", "is required"), _uci("1 1 1\n"), out="c.h5"),
    # ---- esca prepare: UCI
    Case("prepare-uci-nnz-mismatch", "UCI header NNZ=7, body of 3 entries",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("NNZ=7", "3 entries"), _uci("1 1 2\n1 3 1\n2 2 5\n", header=(2, 4, 7)), out="c.h5"),
    Case("prepare-uci-docid-beyond-D", "UCI header D=2, body has docID 3",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 6", "docID 3 is outside 1..2"), _uci("1 1 2\n2 3 1\n3 2 5\n", header=(2, 4, 3)),
         out="c.h5"),
    Case("prepare-uci-vocab-size-mismatch", "UCI header W=9, vocabulary of 4 words",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("W=9", "vocabulary has 4"), _uci("1 1 2\n", header=(1, 9, 1)), out="c.h5"),
    Case("prepare-uci-wordid-zero", "UCI wordID 0 (ids are 1-based)",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 5", "wordID 0 is outside 1..4"), _uci("1 1 2\n1 0 1\n"), out="c.h5"),
    Case("prepare-uci-negative-count", "UCI count -3",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 4", "expected 'docID wordID count'", "-3"), _uci("1 2 -3\n"), out="c.h5"),
    Case("prepare-uci-unsorted", "UCI body not sorted by docID",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 5", "docID 1 comes after docID 2", "sorted by docID"),
         _uci("2 1 1\n1 2 1\n"), out="c.h5"),
    Case("prepare-uci-bad-header", "UCI header line is not a number",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 1", "expected the header count D", "three"),
         _all(_text("docword.txt", "three\n4\n1\n1 1 1\n"), _text("vocab.txt", "a\nb\nc\nd\n")),
         out="c.h5"),
    Case("prepare-uci-huge-number", "UCI count 99999999999999999999",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 4", "99999999999999999999 is too large"), _uci("1 2 99999999999999999999\n"),
         out="c.h5"),
    Case("prepare-uci-every-document-empty", "UCI header D=3, NNZ=0: every document empty",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("has no tokens", "3 empty documents"), _uci("", header=(3, 4, 0)), out="c.h5"),
    Case("prepare-vocab-invalid-utf8", "vocabulary file with invalid UTF-8 on line 2",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("vocab.txt", "line 2", "invalid UTF-8"),
         _all(_uci("1 1 1\n"), _bytes("vocab.txt", b"a\n\xff\xfe\nc\nd\n")), out="c.h5"),
    Case("prepare-vocab-duplicate-word", "vocabulary file lists a word twice",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("vocab.txt", "'b' appears on lines 2 and 4"),
         _all(_uci("1 1 1\n"), _text("vocab.txt", "a\nb\nc\nb\n")), out="c.h5"),
    # ---- esca prepare: LDA-C
    Case("prepare-ldac-id-out-of-range", "LDA-C word id 7 with a 4-word vocabulary",
         ("prepare", "c.ldac", "--format", "ldac", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 2", "word id 7 is not below the vocabulary size 4"),
         _all(_text("c.ldac", "1 0:2\n2 1:1 7:3\n"), _text("vocab.txt", "a\nb\nc\nd\n")),
         out="c.h5"),
    Case("prepare-ldac-count-mismatch", "LDA-C line says M=3 but has 2 pairs",
         ("prepare", "c.ldac", "--format", "ldac", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 1", "M=3", "2 id:count pairs"),
         _all(_text("c.ldac", "3 0:2 1:1\n"), _text("vocab.txt", "a\nb\nc\nd\n")), out="c.h5"),
    Case("prepare-ldac-negative-id", "LDA-C negative word id",
         ("prepare", "c.ldac", "--format", "ldac", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("line 1", "expected 'M id:count", "-1:2"),
         _all(_text("c.ldac", "1 -1:2\n"), _text("vocab.txt", "a\nb\nc\nd\n")), out="c.h5"),
    # ---- esca prepare: Matrix Market
    Case("prepare-mm-bad-banner", "Matrix Market file without its banner line",
         ("prepare", "corpus.mm", "--format", "mm", "--dictionary", "corpus.dict", "--out",
          "c.h5"),
         ("not a readable Matrix Market file", "line 1"), _mm("1 1 1\n", header="2 4 1"),
         out="c.h5"),
    Case("prepare-mm-term-out-of-range", "Matrix Market term id 5 with 4 terms",
         ("prepare", "corpus.mm", "--format", "mm", "--dictionary", "corpus.dict", "--out",
          "c.h5"),
         ("row 2", "term id 5 is outside 1..4"),
         _mm("2 4 2\n1 1 1\n2 5 2\n"), out="c.h5"),
    Case("prepare-mm-non-integer-value", "Matrix Market value 1.5 (not a count)",
         ("prepare", "corpus.mm", "--format", "mm", "--dictionary", "corpus.dict", "--out",
          "c.h5"),
         ("row 1", "value 1.5 is not a count"), _mm("2 4 2\n1 1 1.5\n2 3 2\n"), out="c.h5"),
    Case("prepare-mm-more-terms-than-dictionary", "Matrix Market header of 9 terms, "
         "dictionary of 4 words",
         ("prepare", "corpus.mm", "--format", "mm", "--dictionary", "corpus.dict", "--out",
          "c.h5"),
         ("9 terms", "dictionary has 4 words"), _mm("2 9 1\n1 1 1\n"), out="c.h5"),
    Case("prepare-mm-dictionary-not-a-dictionary", "--dictionary is not a gensim Dictionary",
         ("prepare", "corpus.mm", "--format", "mm", "--dictionary", "notes.txt", "--out", "c.h5"),
         ("dictionary file notes.txt", "not a gensim Dictionary"),
         _all(_mm("2 4 1\n1 1 1\n"), _text("notes.txt", "just some notes\n")), out="c.h5"),
    # ---- esca train: the corpus file
    Case("train-missing-corpus", "corpus file does not exist",
         TRAIN + ("missing.h5", "--out", "m.h5"), ("corpus file not found", "missing.h5"),
         out="m.h5"),
    Case("train-corpus-is-folder", "corpus path is a folder",
         TRAIN + ("corpus", "--out", "m.h5"), ("corpus path is a folder", "corpus"),
         _mkdir("corpus"), out="m.h5"),
    Case("train-text-renamed-h5", "a text file renamed .h5",
         TRAIN + ("notes.h5", "--out", "m.h5"),
         ("notes.h5 is not an esca corpus (a text file", "esca prepare notes.h5 --format text"),
         _text("notes.h5", "this is a text file, not HDF5\n"), out="m.h5"),
    Case("train-truncated-h5", "a valid corpus file cut in half",
         TRAIN + ("half.h5", "--out", "m.h5"), ("half.h5", "truncated"),
         _truncated("half.h5", _wide_corpus("whole.h5"), "whole.h5"), out="m.h5"),
    Case("train-model-given-as-corpus", "a model file where a corpus is expected",
         TRAIN + ("m0.h5", "--out", "m.h5"), ("m0.h5 is not an esca corpus",),
         _model("m0.h5"), out="m.h5"),
    Case("train-missing-dataset", "corpus without its word_ids dataset",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "missing dataset 'word_ids'"),
         _corpus("bad.h5", drop=("word_ids",)), out="m.h5"),
    Case("train-wrong-dtype", "float word_ids",
         TRAIN + ("bad.h5", "--out", "m.h5"),
         ("bad.h5", "dataset 'word_ids' has the wrong dtype float64"),
         _corpus("bad.h5", dtypes={"word_ids": np.float64}), out="m.h5"),
    Case("train-format-version-99", "corpus with format_version 99",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "unknown corpus format version 99"),
         _corpus("bad.h5", attrs={"format_version": 99}), out="m.h5"),
    Case("train-doc-ptr-decreasing", "doc_ptr not monotonic",
         TRAIN + ("bad.h5", "--out", "m.h5"),
         ("bad.h5", "doc_ptr is not monotonic at document 1 (4 > 3)"),
         _corpus("bad.h5", doc_ptr=[0, 4, 3, 7]), out="m.h5"),
    Case("train-doc-ptr-wrong-end", "doc_ptr ends before the last token",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "doc_ptr ends at 6", "7 tokens"),
         _corpus("bad.h5", doc_ptr=[0, 3, 3, 6]), out="m.h5"),
    Case("train-word-id-equals-V", "word id V (= 6) in a 6-word vocabulary",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "word id 6 is out of range 0..5"),
         _corpus("bad.h5", word_ids=[0, 1, 2, 2, 3, 6, 5]), out="m.h5"),
    Case("train-negative-word-id", "negative word id",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "word id -1 is out of range 0..5"),
         _corpus("bad.h5", word_ids=[0, 1, -1, 2, 3, 4, 5]), out="m.h5"),
    Case("train-word-id-wraps-int32", "int64 word id 2**32 (would wrap to 0 as int32)",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "word id 4294967296 is out of range"),
         _corpus("bad.h5", word_ids=[0, 1, 2, 2**32, 3, 4, 5], dtypes={"word_ids": np.int64}),
         out="m.h5"),
    Case("train-zero-tokens", "corpus with zero documents and zero tokens",
         TRAIN + ("empty.h5", "--out", "m.h5"), ("empty.h5 has no tokens", "D=0"),
         _corpus("empty.h5", doc_ptr=[0], word_ids=[]), out="m.h5"),
    Case("train-every-document-empty", "every document empty",
         TRAIN + ("empty.h5", "--out", "m.h5"), ("empty.h5 has no tokens", "D=3"),
         _corpus("empty.h5", doc_ptr=[0, 0, 0, 0], word_ids=[]), out="m.h5"),
    Case("train-vocab-size-mismatch", "attribute V=9, vocab dataset of 6 words",
         TRAIN + ("bad.h5", "--out", "m.h5"),
         ("bad.h5", "attribute V=9 disagrees with the 6 words"),
         _corpus("bad.h5", attrs={"V": 9}), out="m.h5"),
    Case("train-duplicate-word", "a word twice in the vocabulary",
         TRAIN + ("bad.h5", "--out", "m.h5"), ("bad.h5", "'bank' appears twice"),
         _corpus("bad.h5", vocab=["apple", "bank", "café", "bank", "stone", "naïve"]),
         out="m.h5"),
    # ---- esca train: options
    Case("train-K-0", "--num-topics 0", ("train", "c.h5", "--num-topics", "0", "--out", "m.h5"),
         ("num_topics (K) must be >= 1, got 0",), _corpus(), out="m.h5"),
    Case("train-K-too-large", "K = 100,000,000 topics on a 50,000-word corpus",
         ("train", "wide.h5", "-k", "100000000", "-n", "1", "--threads", "1", "--out", "m.h5"),
         ("K=100000000 needs about", "on this node", "MemAvailable"), _wide_corpus(),
         out="m.h5"),
    Case("train-out-is-corpus", "--out names the training corpus",
         TRAIN + ("c.h5", "--out", "c.h5"),
         ("--out c.h5 would overwrite the input CORPUS.h5 c.h5",), _corpus()),
    Case("train-resume-missing-dir", "--resume names a folder that does not exist",
         TRAIN + ("--resume", "ckpt", "--out", "m.h5"),
         ("checkpoint folder not found", "ckpt"), out="m.h5"),
    Case("train-resume-empty-dir", "--resume names a folder without checkpoints",
         TRAIN + ("--resume", "ckpt", "--out", "m.h5"), ("no checkpoint in", "ckpt"),
         _mkdir("ckpt"), out="m.h5"),
    Case("train-checkpoint-every-without-dir", "--checkpoint-every without --checkpoint-dir",
         TRAIN + ("c.h5", "--checkpoint-every", "1", "--out", "m.h5"),
         ("--checkpoint-every needs --checkpoint-dir",), _corpus(), out="m.h5"),
    Case("train-alpha-0", "--alpha 0", TRAIN + ("c.h5", "--alpha", "0", "--out", "m.h5"),
         ("alpha must be a finite number > 0, got 0.0",), _corpus(), out="m.h5"),
    Case("train-alpha-negative", "--alpha -1", TRAIN + ("c.h5", "--alpha", "-1", "--out", "m.h5"),
         ("alpha must be a finite number > 0, got -1.0",), _corpus(), out="m.h5"),
    Case("train-alpha-nan", "--alpha nan", TRAIN + ("c.h5", "--alpha", "nan", "--out", "m.h5"),
         ("alpha must be a finite number > 0, got nan",), _corpus(), out="m.h5"),
    Case("train-alpha-inf", "--alpha inf", TRAIN + ("c.h5", "--alpha", "inf", "--out", "m.h5"),
         ("alpha must be a finite number > 0, got inf",), _corpus(), out="m.h5"),
    Case("train-beta-0", "--beta 0", TRAIN + ("c.h5", "--beta", "0", "--out", "m.h5"),
         ("beta must be a finite number > 0, got 0.0",), _corpus(), out="m.h5"),
    Case("train-beta-nan", "--beta nan", TRAIN + ("c.h5", "--beta", "nan", "--out", "m.h5"),
         ("beta must be a finite number > 0, got nan",), _corpus(), out="m.h5"),
    Case("train-beta-inf", "--beta inf", TRAIN + ("c.h5", "--beta", "inf", "--out", "m.h5"),
         ("beta must be a finite number > 0, got inf",), _corpus(), out="m.h5"),
    Case("train-iterations-0", "--iterations 0",
         ("train", "c.h5", "-k", "3", "--iterations", "0", "--out", "m.h5"),
         ("iterations must be in 1..2**32-1, got 0",), _corpus(), out="m.h5"),
    Case("train-log-every-negative", "--log-every -1",
         TRAIN + ("c.h5", "--log-every", "-1", "--out", "m.h5"),
         ("--log-every must be >= 0, got -1",), _corpus(), out="m.h5"),
    # ---- output paths
    Case("train-out-folder-missing", "--out in a folder that does not exist",
         TRAIN + ("c.h5", "--out", "missing/m.h5"), ("output folder does not exist", "missing"),
         _corpus(), out="missing/m.h5", out_kind=None),
    Case("train-out-parent-is-a-file", "--out below a path that is a file (fails even for root)",
         TRAIN + ("c.h5", "--out", "afile/m.h5"), ("afile",),
         _all(_corpus(), _text("afile", "keep me\n")), out="afile/m.h5", out_kind=None),
    Case("train-out-folder-not-writable", "--out in a read-only folder (skipped for root)",
         TRAIN + ("c.h5", "--out", "ro/m.h5"), ("output folder is not writable", "ro"),
         _all(_corpus(), _mkdir("ro", 0o555)), out="ro/m.h5", out_kind=None),
    Case("train-out-is-folder", "--out is an existing folder",
         TRAIN + ("c.h5", "--out", "outdir"), ("output path is a folder", "outdir"),
         _all(_corpus(), _mkdir("outdir")), out="outdir", out_kind=None),
    Case("prepare-out-folder-missing", "prepare --out in a folder that does not exist",
         ("prepare", "docs.txt", "--format", "text", "--out", "missing/c.h5"),
         ("output folder does not exist", "missing"), DOCS_TXT, out="missing/c.h5",
         out_kind=None),
    Case("export-out-is-a-file", "export --out names an existing file",
         ("export", "m.h5", "--out", "gensim"), ("output folder is an existing file", "gensim"),
         _model(), out="gensim"),
    Case("export-out-parent-missing", "export --out below a folder that does not exist",
         ("export", "m.h5", "--out", "missing/gensim"), ("output folder does not exist",
                                                         "missing"),
         _model(), out="missing/gensim", out_kind=None),
    Case("export-pyldavis-out-is-folder", "export --format pyldavis --out names a folder",
         ("export", "m.h5", "--format", "pyldavis", "--out", "outdir"),
         ("output path is a folder, not a file", "outdir"), _all(_model(), _mkdir("outdir")),
         out="outdir", out_kind=None),
    Case("plot-out-is-a-file", "plot --out names an existing file",
         ("plot", "m.h5", "--out", "afile"), ("output folder is an existing file", "afile"),
         _model(), out="afile"),
    # ---- models: topics, export, evaluate, infer
    Case("topics-missing-model", "model file does not exist", ("topics", "missing.h5"),
         ("model file not found", "missing.h5")),
    Case("topics-corpus-given-as-model", "a corpus where a model is expected",
         ("topics", "c.h5"), ("c.h5 is not an esca model",), _corpus()),
    Case("topics-top-0", "--top 0", ("topics", "m.h5", "--top", "0"), ("--top", "got 0"),
         _model()),
    Case("topics-model-truncated", "a model file cut in half", ("topics", "half.h5"),
         ("half.h5", "truncated"), _truncated("half.h5", _model("whole.h5", K=50), "whole.h5")),
    Case("topics-model-format-version-99", "model with format_version 99",
         ("topics", "m.h5"), ("m.h5", "unknown model format version 99"),
         _model(attrs={"format_version": 99})),
    Case("topics-model-missing-dataset", "model without n_kw", ("topics", "m.h5"),
         ("m.h5", "missing dataset 'n_kw'"), _model(drop=("n_kw",))),
    Case("topics-model-n_k-mismatch", "model whose n_k has the wrong length",
         ("topics", "m.h5"), ("m.h5", "'n_k' has shape (2,)", "must be (3,)"),
         _model(override={"n_k": np.array([1, 2], dtype=np.int64)})),
    Case("topics-model-vocab-mismatch", "model whose vocabulary is shorter than n_kw",
         ("topics", "m.h5"), ("m.h5", "'vocab' has shape (5,)", "must be (6,)"),
         _model(override={"vocab": np.array(VOCAB[:5], dtype=h5py.string_dtype("utf-8"))})),
    Case("topics-model-bad-config", "model whose config attribute is not JSON",
         ("topics", "m.h5"), ("m.h5", "config is not valid JSON"),
         _model(attrs={"config": "{num_topics: 3"})),
    Case("export-missing-model", "export of a model that does not exist",
         ("export", "missing.h5", "--out", "gensim"), ("model file not found", "missing.h5"),
         out="gensim", out_kind="dir"),
    Case("export-model-alpha-wrong-length", "export of a model whose alpha has 2 values for "
         "K=3", ("export", "m.h5", "--out", "gensim"), ("m.h5", "'alpha' has shape (2,)"),
         _model(override={"alpha": np.array([0.1, 0.1])}), out="gensim", out_kind="dir"),
    Case("export-unknown-format", "export --format xml",
         ("export", "m.h5", "--format", "xml", "--out", "x"),
         ("unknown export format 'xml'", "gensim, mallet, csv, pyldavis"), _model(), out="x",
         out_kind="dir"),
    Case("export-num-top-words-0", "export --format mallet --num-top-words 0",
         ("export", "m.h5", "--format", "mallet", "--out", "mallet", "--num-top-words", "0"),
         ("--num-top-words must be >= 1, got 0",), _model(), out="mallet", out_kind="dir"),
    Case("export-corpus-with-gensim", "export --corpus with --format gensim",
         ("export", "m.h5", "--format", "gensim", "--out", "gensim", "--corpus", "c.h5"),
         ("--corpus names documents for --format mallet or csv, not gensim",),
         _all(_model(), _corpus()), out="gensim", out_kind="dir"),
    Case("export-corpus-other-size", "export --corpus of 3 documents, model of 2",
         ("export", "m.h5", "--format", "mallet", "--out", "mallet", "--corpus", "other.h5"),
         ("corpus other.h5 has 3 documents but the model has 2",),
         _all(_model(), _corpus("other.h5")), out="mallet", out_kind="dir"),
    Case("export-csv-corpus-is-a-model", "export --format csv --corpus names a model",
         ("export", "m.h5", "--format", "csv", "--out", "tables", "--corpus", "m.h5"),
         ("m.h5 is not an esca corpus",), _model(), out="tables", out_kind="dir"),
    Case("export-pyldavis-terms-31", "export --format pyldavis --num-top-words 31",
         ("export", "m.h5", "--format", "pyldavis", "--out", "t.html", "--num-top-words", "31"),
         ("pyLDAvis shows 1 to 30 words per topic, got 31",), _model(), out="t.html"),
    Case("plot-missing-model", "plot a model that does not exist",
         ("plot", "missing.h5", "--out", "plots"), ("model file not found", "missing.h5"),
         out="plots", out_kind="dir"),
    Case("plot-top-0", "plot --top 0", ("plot", "m.h5", "--out", "plots", "--top", "0"),
         ("--top must be >= 1, got 0",), _model(), out="plots", out_kind="dir"),
    Case("plot-topic-out-of-range", "plot --topics 9 of a K=3 model",
         ("plot", "m.h5", "--out", "plots", "--topics", "9"),
         ("topic 9 does not exist", "topics 0..2"), _model(), out="plots", out_kind="dir"),
    Case("plot-bad-topics", "plot --topics 3-1 (a range backwards)",
         ("plot", "m.h5", "--out", "plots", "--topics", "3-1"),
         ("--topics: cannot read '3-1'",), _model(), out="plots", out_kind="dir"),
    Case("evaluate-missing-model", "evaluate a model that does not exist",
         ("evaluate", "missing.h5", "c.h5"), ("model file not found", "missing.h5"), _corpus()),
    Case("evaluate-test-corpus-truncated", "evaluate on a test corpus cut in half",
         ("evaluate", "m.h5", "half.h5"), ("half.h5", "truncated"),
         _all(_model(), _truncated("half.h5", _wide_corpus("whole.h5"), "whole.h5"))),
    Case("evaluate-model-given-as-test-corpus", "a model where the test corpus is expected",
         ("evaluate", "m.h5", "m.h5"), ("m.h5 is not an esca corpus",), _model()),
    Case("evaluate-topn-0", "evaluate --topn 0", ("evaluate", "m.h5", "--topn", "0"),
         ("--topn", "got 0"), _model()),
    Case("infer-missing-model", "infer with a model that does not exist",
         ("infer", "missing.h5", "c.h5", "--out", "theta.h5"),
         ("model file not found", "missing.h5"), _corpus(), out="theta.h5"),
    Case("infer-model-given-as-corpus", "infer on a model file instead of a corpus",
         ("infer", "m.h5", "m.h5", "--out", "theta.h5"), ("m.h5 is not an esca corpus",),
         _model(), out="theta.h5"),
    Case("infer-out-is-the-corpus", "infer --out names the input corpus",
         ("infer", "m.h5", "c.h5", "--out", "c.h5"),
         ("--out c.h5 would overwrite the input CORPUS.h5",), _all(_model(), _corpus()),
         out="c.h5", out_kind=None),
    Case("infer-sweeps-0", "infer --sweeps 0",
         ("infer", "m.h5", "c.h5", "--out", "theta.h5", "--sweeps", "0"),
         ("sweeps must be in 1..2**32-1, got 0",), _all(_model(), _corpus()), out="theta.h5"),
    # ---- esca corpora
    Case("corpora-fetch-unknown-name", "corpora fetch of a name not in the registry",
         ("corpora", "fetch", "nosuch", "--cache-dir", "cache"),
         ("unknown corpus 'nosuch'", "esca corpora list")),
    # ---- a text or bag-of-words file where an esca HDF5 corpus or model is expected
    Case("train-on-text-file", "train on a text file (not converted)",
         TRAIN + ("docs.txt", "--out", "m.h5"),
         ("docs.txt is not an esca corpus", "esca prepare docs.txt --format text --out"),
         DOCS_TXT, out="m.h5"),
    Case("train-on-uci-gz", "train on a gzip UCI docword file (not converted)",
         TRAIN + ("docword.kos.txt.gz", "--out", "m.h5"),
         ("docword.kos.txt.gz is not an esca corpus (a UCI bag-of-words file",
          "esca prepare docword.kos.txt.gz --format uci --vocab"),
         _bytes("docword.kos.txt.gz", gzip.compress(b"2\n3\n2\n1 1 2\n2 3 1\n", mtime=0)),
         out="m.h5"),
    Case("infer-on-text-file", "infer on a text file instead of a corpus",
         ("infer", "m.h5", "docs.txt", "--out", "theta.h5"),
         ("docs.txt is not an esca corpus", "esca prepare docs.txt --format text"),
         _all(_model(), DOCS_TXT), out="theta.h5"),
    Case("infer-text-file-as-model", "infer with a text file as the model",
         ("infer", "docs.txt", "c.h5", "--out", "theta.h5"),
         ("docs.txt is not an esca model (a text file", "esca train"),
         _all(_corpus(), DOCS_TXT), out="theta.h5"),
    Case("evaluate-on-text-file", "evaluate on a text file as the test corpus",
         ("evaluate", "m.h5", "docs.txt"),
         ("docs.txt is not an esca corpus", "esca prepare docs.txt --format text"),
         _all(_model(), DOCS_TXT)),
    # ---- esca prepare: raw text (--tokenize, folders, encodings)
    Case("prepare-min-length-without-tokenize", "--min-length without --tokenize",
         ("prepare", "docs.txt", "--format", "text", "--min-length", "3", "--out", "c.h5"),
         ("--min-length is only used with --tokenize",), DOCS_TXT, out="c.h5"),
    Case("prepare-tokenize-uci", "--tokenize with --format uci",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--tokenize",
          "--out", "c.h5"),
         ("--tokenize is only used with --format text, not uci",), _uci("1 1 1\n"),
         out="c.h5"),
    Case("prepare-max-length-below-min", "--max-length 2 below --min-length 3",
         ("prepare", "docs.txt", "--format", "text", "--tokenize", "--min-length", "3",
          "--max-length", "2", "--out", "c.h5"),
         ("--max-length 2 is below --min-length 3",), DOCS_TXT, out="c.h5"),
    Case("prepare-bad-token-pattern", "--token-pattern that is not a regular expression",
         ("prepare", "docs.txt", "--format", "text", "--tokenize", "--token-pattern", "(\\w+",
          "--out", "c.h5"),
         ("--token-pattern '(\\\\w+' is not a valid regular expression",), DOCS_TXT,
         out="c.h5"),
    Case("prepare-unknown-encoding", "--encoding of a codec that does not exist",
         ("prepare", "docs.txt", "--format", "text", "--encoding", "klingon", "--out", "c.h5"),
         ("unknown --encoding 'klingon'",), DOCS_TXT, out="c.h5"),
    Case("prepare-utf16-encoding", "--encoding utf-16 (lines are not split on one byte)",
         ("prepare", "docs.txt", "--format", "text", "--encoding", "utf-16", "--out", "c.h5"),
         ("--encoding utf-16 is not supported",), DOCS_TXT, out="c.h5"),
    Case("prepare-empty-folder", "a folder without files as text input",
         ("prepare", "docs", "--format", "text", "--out", "c.h5"),
         ("input folder docs holds no files",), _mkdir("docs"), out="c.h5"),
    Case("prepare-folder-file-invalid-utf8", "a folder whose second file has invalid UTF-8",
         ("prepare", "posts", "--format", "text", "--tokenize", "--out", "c.h5"),
         ("posts/b.txt: line 2: invalid UTF-8",),
         _all(_mkdir("posts"), _text("posts/a.txt", "first post\n"),
              _bytes("posts/b.txt", b"second\ncaf\xe9 post\n")), out="c.h5"),
    Case("prepare-tokenize-like-untokenized", "--tokenize-like a corpus not made with --tokenize",
         ("prepare", "docs.txt", "--format", "text", "--tokenize-like", "c0.h5", "--out", "c.h5"),
         ("c0.h5 was not written by 'esca prepare --tokenize'",),
         _all(DOCS_TXT, _corpus("c0.h5")), out="c.h5"),
    # ---- esca train --continue (a saved model trained further)
    Case("train-continue-missing-model", "--continue names a model that does not exist",
         ("train", "--continue", "missing.h5", "-n", "4", "--out", "m.h5"),
         ("model file not found", "missing.h5"), out="m.h5"),
    Case("train-continue-n-not-above", "--continue a 1-iteration model with -n 1 (-n is the "
         "total)", ("train", "--continue", "m0.h5", "-n", "1", "--out", "m.h5"),
         ("iterations=1 is not more than the 1 iterations of model m0.h5",), _model("m0.h5"),
         out="m.h5"),
    Case("train-continue-conflicting-K", "--continue a K=3 model with -k 4",
         ("train", "--continue", "m0.h5", "-n", "4", "-k", "4", "--out", "m.h5"),
         ("settings conflict with model m0.h5", "num_topics=4 (model: 3)"), _model("m0.h5"),
         out="m.h5"),
    Case("train-continue-and-resume", "--continue and --resume together",
         ("train", "--continue", "m0.h5", "--resume", "ckpt", "-n", "4", "--out", "m.h5"),
         ("--resume and --continue cannot be combined",), _all(_model("m0.h5"), _mkdir("ckpt")),
         out="m.h5"),
    Case("train-continue-other-corpus", "--continue a model of 2 documents on a corpus of 3",
         ("train", "c.h5", "--continue", "m0.h5", "-n", "4", "--out", "m.h5"),
         ("corpus c.h5 (D=3 V=6 N=7) is not the corpus of model m0.h5 (D=2",),
         _all(_model("m0.h5"), _corpus()), out="m.h5"),
    Case("train-continue-old-cgs-model", "--continue a cgs model without z (older esca)",
         ("train", "c.h5", "--continue", "m0.h5", "-n", "4", "--out", "m.h5"),
         ("cgs model without every token's topic (z)", "use --checkpoint-dir and --resume"),
         _all(_cgs_model_without_z("m0.h5"), _corpus()), out="m.h5"),
    # ---- topic labels and top documents
    Case("label-bad-syntax", "label assignment without '='", ("label", "m.h5", "sports"),
         ("'sports'", "must be TOPIC=LABEL"), _model()),
    Case("label-topic-out-of-range", "label of topic 7 of a K=3 model",
         ("label", "m.h5", "1=ok", "7=sports"), ("'7=sports'", "topic 7 does not exist",
                                                "0..2"), _model()),
    Case("label-topic-not-a-number", "label assignment with a word for the topic",
         ("label", "m.h5", "space=nasa"), ("'space=nasa'", "'space' is not a number"),
         _model()),
    Case("label-with-tab", "a label holding a tab", ("label", "m.h5", "1=space\tnasa"),
         ("'space\\tnasa'", "one line without tabs"), _model()),
    Case("label-file-wrong-length", "--labels file with 2 lines for K=3",
         ("label", "m.h5", "--labels", "labels.txt"),
         ("labels.txt has 2 lines", "3 topics"), _all(_model(), _text("labels.txt", "a\nb\n"))),
    Case("label-file-missing", "--labels file does not exist",
         ("label", "m.h5", "--labels", "nosuch.txt"), ("no such file", "nosuch.txt"), _model()),
    Case("topics-docs-negative", "--docs -1", ("topics", "m.h5", "--docs", "-1"),
         ("--docs", "got -1"), _model()),
    Case("topics-docs-without-n_dk", "--docs of a model without document-topic counts",
         ("topics", "m.h5", "--docs", "2"), ("no document-topic counts",),
         _model(drop=("n_dk",))),
    Case("topics-titles-without-docs", "--titles without --docs",
         ("topics", "m.h5", "--titles", "t.txt"), ("--titles", "--docs"),
         _all(_model(), _text("t.txt", "a\nb\n"))),
    Case("topics-titles-no-column", "--titles TSV whose header has no 'title' column",
         ("topics", "m.h5", "--docs", "1", "--titles", "t.tsv"),
         ("t.tsv", "no column 'title'", "doc_index, name", "--title-column"),
         _all(_model(), _text("t.tsv", "doc_index\tname\n0\ta\n1\tb\n"))),
    Case("topics-titles-too-short", "--titles with fewer names than documents",
         ("topics", "m.h5", "--docs", "1", "--titles", "t.txt"),
         ("t.txt", "1 names", "doc_index 1"), _all(_model(), _text("t.txt", "only one\n"))),
    Case("topics-model-bad-topic-labels", "model whose topic_labels has the wrong length",
         ("topics", "m.h5"), ("m.h5", "'topic_labels' must be 3 UTF-8 strings"),
         _labels_model(2)),
    # ---- esca train: checkpoint folders and run identity (issue 13.2, 13.9)
    Case("train-checkpoint-dir-of-another-run", "a new run into a --checkpoint-dir holding the "
         "checkpoints of another run (seed 5)",
         TRAIN + ("c.h5", "--checkpoint-every", "1", "--checkpoint-dir", "ckpt", "--out",
                  "m.h5"),
         ("checkpoint folder ckpt holds checkpoints of another run", "seed 5",
          "--resume ckpt", "new --checkpoint-dir"), _all(_corpus(), _checkpoints(seed=5)),
         out="m.h5"),
    Case("train-checkpoint-dir-of-this-run", "a new run into a --checkpoint-dir holding its "
         "own checkpoints (same settings, corpus and seed)",
         TRAIN + ("c.h5", "--checkpoint-every", "1", "--checkpoint-dir", "ckpt", "--out",
                  "m.h5"),
         ("checkpoint folder ckpt already holds checkpoints of this same run",
          "--resume ckpt"), _all(_corpus(), _checkpoints()), out="m.h5"),
    Case("train-resume-corpus-not-found", "--resume when the checkpoint's corpus is nowhere "
         "(removed)",
         ("train", "--resume", "ckpt", "-n", "4", "--threads", "1", "--top", "0", "--out",
          "m.h5"),
         ("the corpus of checkpoint ckpt/checkpoint-000000001.h5 is needed", "c.h5 (D=3 V=6 N=7",
          "not found (looked in", "give its path as the CORPUS argument"),
         _all(_corpus(), _checkpoints(then_remove=("c.h5",))), out="m.h5"),
    # ---- issue 13.7: a mirror's error page, and a cache poisoned by an older esca
    Case("corpora-fetch-html-error-page", "the mirror answers an HTML error page with status "
         "200 for docword.kos.txt.gz",
         ("corpora", "fetch", "kos", "--cache-dir", "cache", "--mirror", MIRROR, "--no-convert"),
         ("docword.kos.txt.gz downloaded from " + MIRROR + "docword.kos.txt.gz is an HTML page "
          "of 1.31 kB", "not a gzip file: deleted, no checksum recorded",
          "esca corpora fetch kos --mirror URL"),
         _all(_bytes_in("mirror", "docword.kos.txt.gz", ERROR_PAGE),
              _bytes_in("mirror", "vocab.kos.txt", b"a\nb\nc\nd\n"), _fetch_lock("kos"))),
    Case("corpora-fetch-poisoned-record", "the cache records the sha256 of an error page (an "
         "older esca trusted it); the real file arrives",
         ("corpora", "fetch", "kos", "--cache-dir", "cache", "--mirror", MIRROR, "--no-convert"),
         ("sha256 mismatch for docword.kos.txt.gz", "(recorded in",
          "discard the record and fetch again with: esca corpora fetch kos --force"),
         _all(_bytes_in("mirror", "docword.kos.txt.gz", UCI_GZ),
              _bytes_in("mirror", "vocab.kos.txt", b"a\nb\nc\nd\n"), _fetch_lock("kos"),
              _bytes_in("cache/kos", "docword.kos.txt.gz.sha256",
                        f"{hashlib.sha256(ERROR_PAGE).hexdigest()}  docword.kos.txt.gz\n"
                        .encode()))),
    Case("corpora-fetch-out-is-a-download", "corpora fetch --out names a cached download "
         "(the library names its parameter out=; esca names --out)",
         ("corpora", "fetch", "kos", "--cache-dir", "cache", "--mirror", MIRROR,
          "--sha256", f"docword.kos.txt.gz={hashlib.sha256(UCI_GZ).hexdigest()}",
          "--sha256", f"vocab.kos.txt={hashlib.sha256(KOS_VOCAB).hexdigest()}",
          "--out", "cache/kos/vocab.kos.txt"),
         ("error: --out ", "cache/kos/vocab.kos.txt would overwrite the input download ",
          "vocab.kos.txt; choose another path"),
         _all(*(_bytes_in("cache/kos", name, data) for name, data in (
             ("docword.kos.txt.gz", UCI_GZ), ("vocab.kos.txt", KOS_VOCAB))),
              *(_bytes_in("cache/kos", name + ".sha256",
                          f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode())
                for name, data in (("docword.kos.txt.gz", UCI_GZ),
                                   ("vocab.kos.txt", KOS_VOCAB))),
              _fetch_lock("kos"))),
    # ---- issue 13.8: ranks that read different files (mpiexec -n 2; rank r reads c{r}.h5)
    Case("train-ranks-read-different-corpora", "rank 1 reads another corpus of the same D, V "
         "and N (a stale node-local copy)", TRAIN + ("c{rank}.h5", "--out", "m.h5"),
         ("the ranks read different corpora: rank 1 (c1.h5) differs from rank 0 (c0.h5) in "
          "word ids", "every rank must read the same corpus"),
         _all(_corpus("c0.h5"), _corpus("c1.h5", word_ids=WORD_IDS[::-1])), out="m.h5",
         marks=MPI_MARKS, ranks=2),
    Case("train-ranks-read-different-V", "rank 1 reads a corpus of another V",
         TRAIN + ("c{rank}.h5", "--out", "m.h5"),
         ("the ranks read different corpora: rank 1 (c1.h5) differs from rank 0 (c0.h5) in "
          "V (7 vs 6), vocabulary",),
         _all(_corpus("c0.h5"), _corpus("c1.h5", vocab=VOCAB + ["extra"])), out="m.h5",
         marks=MPI_MARKS, ranks=2),
    Case("evaluate-ranks-read-different-test-corpora", "rank 1 reads another test corpus",
         ("evaluate", "m.h5", "t{rank}.h5"),
         ("the ranks read different test corpora: rank 1 (t1.h5) differs from rank 0 (t0.h5) "
          "in word ids",),
         _all(_model(), _corpus("t0.h5"), _corpus("t1.h5", word_ids=WORD_IDS[::-1])),
         marks=MPI_MARKS, ranks=2),
    Case("evaluate-ranks-read-different-models", "rank 1 reads another model",
         ("evaluate", "m{rank}.h5", "c.h5"),
         ("the ranks read different models: rank 1 (m1.h5) differs from rank 0 (m0.h5) in "
          "counts, priors and vocabulary",),
         _all(_model("m0.h5"), _model("m1.h5", vocab=VOCAB[::-1]), _corpus()),
         marks=MPI_MARKS, ranks=2),
    # ---- an output that is one of the command's inputs (issue 13.3); also through links
    Case("export-pyldavis-out-is-the-model", "export --format pyldavis --out names the model",
         ("export", "m.h5", "--format", "pyldavis", "--out", "m.h5"),
         ("--out m.h5 would overwrite the input MODEL.h5 m.h5",), _model(), out="m.h5",
         out_kind=None),
    Case("export-out-is-hard-link-to-model", "export --out names a hard link to the model",
         ("export", "m.h5", "--format", "pyldavis", "--out", "page.html"),
         ("--out page.html would overwrite the input MODEL.h5 m.h5",),
         _all(_model(), _link("page.html", "m.h5", symbolic=False)), out="page.html",
         out_kind=None),
    Case("export-csv-out-folder-is-the-model", "export --format csv --out names the model file",
         ("export", "m.h5", "--format", "csv", "--out", "m.h5"),
         ("--out m.h5 would overwrite the input MODEL.h5 m.h5",), _model(), out="m.h5",
         out_kind=None),
    Case("export-csv-would-replace-the-model", "export --format csv into the folder of a model "
         "named theta.csv", ("export", "d/theta.csv", "--format", "csv", "--out", "d"),
         ("--out d would overwrite the input MODEL.h5 d/theta.csv (as theta.csv)",),
         _all(_mkdir("d"), _model("d/theta.csv")), out="d", out_kind=None),
    Case("export-mallet-out-is-the-corpus", "export --format mallet --out names --corpus",
         ("export", "m.h5", "--format", "mallet", "--corpus", "c.h5", "--out", "c.h5"),
         ("--out c.h5 would overwrite the input --corpus c.h5",), _all(_model(), _corpus()),
         out="c.h5", out_kind=None),
    Case("plot-out-is-the-model-via-symlinked-folder", "plot --out through a linked folder "
         "names the model", ("plot", "m.h5", "--out", "up/m.h5"),
         ("--out up/m.h5 would overwrite the input MODEL.h5 m.h5",),
         _all(_model(), _link("up", ".")), out="up/m.h5", out_kind=None),
    Case("train-out-is-the-continue-model", "train --continue m0.h5 --out m0.h5",
         ("train", "c.h5", "--continue", "m0.h5", "-n", "4", "--out", "m0.h5"),
         ("--out m0.h5 would overwrite the input --continue model m0.h5",),
         _all(_model("m0.h5"), _corpus()), out="m0.h5", out_kind=None),
    Case("train-out-is-symlink-to-corpus", "train --out names a symbolic link to the corpus",
         TRAIN + ("c.h5", "--out", "link.h5"),
         ("--out link.h5 would overwrite the input CORPUS.h5 c.h5",),
         _all(_corpus(), _link("link.h5", "c.h5")), out="link.h5", out_kind=None),
    Case("train-checkpoint-dir-is-the-corpus", "train --checkpoint-dir names the corpus file",
         TRAIN + ("c.h5", "--checkpoint-dir", "c.h5", "--out", "m.h5"),
         ("--checkpoint-dir c.h5 would overwrite the input CORPUS.h5 c.h5",), _corpus(),
         out="m.h5"),
    Case("prepare-out-is-hard-link-to-input", "prepare --out names a hard link to the input",
         ("prepare", "docs.txt", "--format", "text", "--out", "c.h5"),
         ("--out c.h5 would overwrite the input file docs.txt",),
         _all(DOCS_TXT, _link("c.h5", "docs.txt", symbolic=False)), out="c.h5", out_kind=None),
    Case("prepare-holdout-file-is-input", "prepare --holdout whose test file is the input",
         ("prepare", "c.test.h5", "--format", "text", "--holdout", "0.5", "--out", "c.h5"),
         ("the --holdout test file", "would overwrite the input file c.test.h5",),
         _text("c.test.h5", "river bank stone\nthe café by the river\n"), out="c.h5"),
    Case("infer-out-is-symlink-to-model", "infer --out names a symbolic link to the model",
         ("infer", "m.h5", "c.h5", "--out", "link.h5"),
         ("--out link.h5 would overwrite the input MODEL.h5 m.h5",),
         _all(_model(), _corpus(), _link("link.h5", "m.h5")), out="link.h5", out_kind=None),
    Case("bench-out-holds-the-corpus-as-its-split", "bench the train split of an earlier "
         "bench into the same folder", ("bench", "out/data/train.h5", "-k", "3", "--out", "out"),
         ("--out out would overwrite the input CORPUS.h5 out/data/train.h5 (as data/train.h5)",),
         _all(_mkdir("out"), _mkdir("out/data"), _corpus("out/data/train.h5")), out="out",
         out_kind=None),
    # ---- issue 13.6: integers checked as integers (not through float), one range per kind
    Case("train-seed-above-max", "--seed 2**63 (one above the largest seed)",
         TRAIN + ("c.h5", "--seed", "9223372036854775808", "--out", "m.h5"),
         ("seed must be in 0..2**63-1, got 9223372036854775808",), _corpus(), out="m.h5"),
    Case("train-iterations-huge", "--iterations 99999999999999999999",
         ("train", "c.h5", "-k", "3", "--iterations", "99999999999999999999", "--out", "m.h5"),
         ("iterations must be in 1..2**32-1, got 99999999999999999999",), _corpus(),
         out="m.h5"),
    Case("infer-seed-above-max", "infer --seed 2**63",
         ("infer", "m.h5", "c.h5", "--out", "theta.h5", "--seed", "9223372036854775808"),
         ("seed must be in 0..2**63-1, got 9223372036854775808",), _all(_model(), _corpus()),
         out="theta.h5"),
    # ---- issue 13.5: a bag-of-words document that asks for more memory than there is
    Case("prepare-uci-counts-beyond-memory", "UCI docID 1 with 8192 counts of 2**31-1 "
         "(64 TiB of tokens, from a 131 kB file)",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("docword.txt: docID 1 (17592186036224 tokens, the sum of its counts) needs about "
          "65536.0 GiB of memory but only ", "is available ("),
         _uci("1 1 2147483647\n" * 8192, header=(1, 4, 8192)), out="c.h5"),
    Case("prepare-ldac-counts-beyond-memory", "LDA-C line with 8192 counts of 2**31-1",
         ("prepare", "corpus.ldac", "--format", "ldac", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("corpus.ldac: line 1 (17592186036224 tokens, the sum of its counts) needs about "
          "65536.0 GiB of memory but only ", "is available ("),
         _all(_text("corpus.ldac", "8192" + " 0:2147483647" * 8192 + "\n"),
              _text("vocab.txt", "a\nb\n")), out="c.h5"),
    # ---- priors whose log-likelihood would be meaningless (-inf, NaN, rounding noise)
    Case("train-alpha-below-range", "--alpha 1e-320 (the log-likelihood was -inf)",
         TRAIN + ("c.h5", "--alpha", "1e-320", "--out", "m.h5"),
         ("alpha must be in 1e-100..1e6", "got 1e-320"), _corpus(), out="m.h5"),
    Case("train-beta-above-range", "--beta 1e300 (the log-likelihood was rounding noise)",
         TRAIN + ("c.h5", "--beta", "1e300", "--out", "m.h5"),
         ("beta must be in 1e-100..1e6", "got 1e+300"), _corpus(), out="m.h5"),
    # ---- issue 13: degenerate models, malformed training logs, line endings and encodings
    Case("plot-model-log-strings", "model whose log/seconds holds strings",
         ("plot", "m.h5", "--out", "plots"),
         ("m.h5", "'log/seconds' must be a 1-D numeric dataset", "dtype |S1"),
         _log_model({"seconds": np.array([b"a"])}), out="plots", out_kind="dir"),
    Case("topics-model-log-longer-than-iterations", "model of 1 iteration with a log of 5",
         ("topics", "m.h5", "--summary"),
         ("m.h5", "the training log ('log/iteration') has 5 values",
          "trained for 1 iterations"),
         _log_model({"iteration": np.arange(1, 6), "seconds": np.ones(5)})),
    Case("train-continue-log-lengths-differ", "--continue a model whose log fields differ in "
         "length", ("train", "c.h5", "--continue", "m0.h5", "-n", "4", "--out", "m.h5"),
         ("m0.h5", "'log/seconds' has 2 values but 'log/iteration' has 1"),
         _all(_log_model({"iteration": [1], "seconds": [0.1, 0.2]}, "m0.h5"), _corpus()),
         out="m.h5"),
    Case("topics-model-log-iteration-nan", "model whose log/iteration holds NaN",
         ("topics", "m.h5", "--summary"),
         ("m.h5", "'log/iteration' must hold increasing iteration numbers in 1..1", "nan"),
         _log_model({"iteration": [np.nan]})),
    Case("export-pyldavis-no-tokens", "pyLDAvis page of a model without tokens (N = 0)",
         ("export", "m.h5", "--format", "pyldavis", "--out", "t.html"),
         ("the model holds no tokens (N = 0",),
         _model(override={"n_kw": np.zeros((3, 6), np.int32), "n_k": np.zeros(3, np.int64)}),
         out="t.html"),
    Case("evaluate-model-no-tokens", "evaluate a model without tokens (N = 0)",
         ("evaluate", "m.h5", "c.h5"), ("the model holds no tokens (N = 0",),
         _all(_model(override={"n_kw": np.zeros((3, 6), np.int32),
                               "n_k": np.zeros(3, np.int64)}), _corpus())),
    Case("prepare-text-cr-only", "text with old Mac (CR-only) line endings",
         ("prepare", "docs.txt", "--format", "text", "--out", "c.h5"),
         ("docs.txt", "line 1", "carriage return", "tr '\\r' '\\n'"),
         _bytes("docs.txt", b"river bank\rstone cafe\rthe river\r"), out="c.h5"),
    Case("prepare-uci-vocab-cr-only", "UCI vocab.txt with CR-only line endings",
         ("prepare", "docword.txt", "--format", "uci", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("vocab.txt", "line 1", "carriage return"),
         _all(_uci("1 1 1\n"), _bytes("vocab.txt", b"a\rb\rc\rd\r")), out="c.h5"),
    Case("prepare-ldac-cr-only", "LDA-C corpus with CR-only line endings",
         ("prepare", "c.ldac", "--format", "ldac", "--vocab", "vocab.txt", "--out", "c.h5"),
         ("c.ldac", "line 1", "carriage return"),
         _all(_bytes("c.ldac", b"1 0:2\r1 1:1\r"), _text("vocab.txt", "a\nb\n")), out="c.h5"),
    Case("topics-titles-invalid-utf8", "--titles file with a Latin-1 byte on line 2",
         ("topics", "m.h5", "--docs", "1", "--titles", "t.txt"),
         ("--titles t.txt", "line 2", "invalid UTF-8"),
         _all(_model(), _bytes("t.txt", b"first\ncaf\xe9 au lait\n"))),
    Case("label-file-cr-only", "--labels file with CR-only line endings",
         ("label", "m.h5", "--labels", "labels.txt"),
         ("--labels labels.txt", "line 1", "carriage return"),
         _all(_model(), _bytes("labels.txt", b"a\rb\rc\r"))),
    Case("label-file-nul-byte", "--labels file with a NUL byte on line 3",
         ("label", "m.h5", "--labels", "labels.txt"),
         ("--labels labels.txt", "line 3", "NUL byte"),
         _all(_model(), _bytes("labels.txt", b"a\nb\nc\x00\n"))),
]


def _params():
    return [pytest.param(c, id=c.id, marks=c.marks) for c in CASES]


# -- running and checking -----------------------------------------------------------------------

def _env():
    """The environment without MPI launcher variables, one Numba thread."""
    return child_env(NUMBA_NUM_THREADS="1")


def run(cmd, cwd, timeout=TIMEOUT):
    """Run ``cmd`` in its own process group (killed whole on a timeout)."""
    return helpers.run(cmd, cwd, timeout, env=_env())[0]


def esca(*argv):
    return [sys.executable, "-m", "esca", *argv]


def command(case):
    """``python -m esca ARGV``; for ``ranks`` > 1 under ``mpiexec -n RANKS`` through
    tests/scripts/rank_args.py (each ``{rank}`` in an argument becomes the rank)."""
    if case.ranks == 1:
        return esca(*case.argv)
    return [MPIEXEC, "-n", case.ranks, sys.executable, SCRIPTS / "rank_args.py", *case.argv]


def one_error_line(r, expect):
    """Exit status 2 and exactly one stderr line ``esca: error: ...`` holding ``expect``."""
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, f"{r.args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("esca: error: "), lines[0]
    for text in expect:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def snapshot(folder):
    """Every file and folder under ``folder``: relative path -> SHA-256 of the bytes or "dir"."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), folder)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def earlier_output_name(argv):
    """The file an earlier run of ``argv`` left in its output folder (``out_kind="dir"``)."""
    if argv[0] == "plot":
        return "top_words.png"
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "gensim"
    return {"mallet": "topic-keys.txt", "csv": "theta.csv"}.get(fmt, "lda.model")


def set_up(case, folder):
    """Build the case's inputs and its earlier output in ``folder``."""
    if case.build is not None:
        case.build(folder)
    if case.out is not None and case.out_kind is not None:
        out = folder / case.out
        if case.out_kind == "dir":
            out.mkdir()
            (out / earlier_output_name(case.argv)).write_bytes(SENTINEL)
        else:
            out.write_bytes(SENTINEL)


@pytest.mark.parametrize("case", _params())
def test_bad_input(case, tmp_path):
    set_up(case, tmp_path)
    before = snapshot(tmp_path)
    r = run(command(case), tmp_path, timeout=TIMEOUT if case.ranks == 1 else MPI_TIMEOUT)
    one_error_line(r, case.expect)
    assert snapshot(tmp_path) == before  # nothing lost, nothing half-written, no temp file
    if case.out is not None and case.out_kind == "file":
        assert (tmp_path / case.out).read_bytes() == SENTINEL
    if case.out is not None and case.out_kind == "dir":
        assert (tmp_path / case.out / earlier_output_name(case.argv)).read_bytes() == SENTINEL


def test_table_has_enough_distinct_cases():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 30


def test_every_case_is_documented():
    """Every row of the table is in docs/errors.md, with the expected parts of its message."""
    rows = _doc_rows(DOCS.read_text(encoding="utf-8"))
    missing = [c.id for c in CASES if c.id not in rows]
    assert not missing, f"run 'python tests/test_bad_input.py' to add {missing} to {DOCS}"
    for c in CASES:
        if any(m.name == "xfail" for m in c.marks):
            continue  # its message changes once the expected behaviour is wired in
        for text in c.expect:
            assert text in rows[c.id], (c.id, text, rows[c.id])


def test_debug_shows_the_traceback(tmp_path):
    r = run(esca("--debug", "train", "missing.h5", "-k", "3", "--threads", "1"), tmp_path)
    assert r.returncode == 2
    assert "Traceback (most recent call last)" in r.stderr
    assert "UserError" in r.stderr
    lines = r.stderr.splitlines()
    assert lines[-1] == "esca: error: corpus file not found: missing.h5"
    assert sum(ln.startswith("esca: error:") for ln in lines) == 1


def test_prepare_failure_keeps_earlier_holdout_files(tmp_path):
    """A failing ``prepare --holdout`` leaves both earlier files (train and test) as they were."""
    (tmp_path / "docs.txt").write_text("river\n")
    (tmp_path / "c.h5").write_bytes(SENTINEL)
    (tmp_path / "c.test.h5").write_bytes(SENTINEL)
    before = snapshot(tmp_path)
    r = run(esca("prepare", "docs.txt", "--format", "text", "--out", "c.h5", "--holdout", "0.5"),
            tmp_path)
    one_error_line(r, ["at least 2 documents"])
    assert snapshot(tmp_path) == before


# -- the memory estimate behind train-K-too-large ---------------------------------------------

def test_check_memory_says_how_much_is_needed():
    from esca.errors import UserError
    from esca.memory import check_memory
    with pytest.raises(UserError) as e:
        check_memory(3, 50_000, 7, 10**8, available_bytes=2**30)
    msg = str(e.value)
    assert msg.startswith("K=100000000 needs about ") and "GiB for its count tables on this node" \
        in msg and "only 1.0 GiB is available (given)" in msg
    assert "\n" not in msg
    est = check_memory(3, 6, 7, 3)  # MemAvailable (if readable) is plenty
    assert est["node"] == est["per_rank"] + est["rank0_extra"]
    assert est["available"] is None or est["available"] > est["node"]
    two = check_memory(3, 6, 7, 3, ranks_on_node=2, available_bytes=10**9)
    assert two["node"] == 2 * two["per_rank"] + two["rank0_extra"]


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_memory_estimate_matches_the_samplers_arrays(kernel, restore_numba_threads):
    """The estimate of each array equals what the sampler allocates (the sparse alias lists:
    at most the estimate, which is their worst case)."""
    import esca
    from esca.memory import estimate_train_bytes
    from esca.samplers.esca import EscaSampler
    rng = np.random.default_rng(3)
    D, V, K = 40, 50, 7
    doc_ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 30, size=D))]).astype(np.int64)
    corpus = esca.Corpus(doc_ptr, rng.integers(0, V, size=doc_ptr[-1]).astype(np.int32),
                         [f"w{i}" for i in range(V)])
    config = esca.TrainConfig(num_topics=K, iterations=1, kernel=kernel, threads=1)
    s = EscaSampler(corpus, config, threads=1)
    est = estimate_train_bytes(D, V, corpus.num_tokens, K, kernel=kernel)
    for name, arr in (("word_ids", s.word_ids), ("z", s.z), ("word_tok", s.word_tok),
                      ("doc_ptr", s.doc_ptr), ("word_ptr", s.word_ptr), ("n_dk", s.n_dk),
                      ("n_wk", s.n_wk), ("n_k", s.n_k)):
        assert est[name] == arr.nbytes, name
    if kernel == "dense":
        assert est["word_factor"] == s.phi_w.nbytes
    else:
        s.initialize()
        s._layout_word_tables()
        actual = s.table_bytes() - s.n_wk.nbytes - s.n_k.nbytes
        assert actual <= est["alias_tables"] <= actual + 20 * corpus.num_tokens


# -- under mpiexec -n 2: the message once -------------------------------------------------------

MPI_CASES = [c for c in CASES if c.id in ("train-word-id-equals-V", "train-alpha-nan",
                                          "train-truncated-h5", "train-on-text-file",
                                          # a ResumeError re-raised without its fields on
                                          # rank 1 (rank 0 raised it, or all ranks did)
                                          "train-checkpoint-dir-of-another-run",
                                          "train-continue-old-cgs-model")]


@pytest.mark.mpi
@needs_mpiexec
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in MPI_CASES])
def test_bad_input_under_mpiexec_prints_once(case, tmp_path):
    set_up(case, tmp_path)
    before = snapshot(tmp_path)
    r = run([MPIEXEC, "-n", 2, *esca(*case.argv)], tmp_path, timeout=MPI_TIMEOUT)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("esca: error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, r.stderr
    for text in case.expect:
        assert text in errors[0], (text, errors[0])
    assert snapshot(tmp_path) == before


# -- docs/errors.md -----------------------------------------------------------------------------

def _doc_rows(text):
    """{case id: the whole table row} of the error table in docs/errors.md."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            rows[m.group(1)] = line.replace("\\|", "|")
    return rows


def _cell(text):
    return text.replace("|", "\\|")


def _actual_message(case):
    """Run a case in a scratch folder; its stderr line with the folder's path replaced by '.'."""
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        try:
            set_up(case, d)
        except pytest.skip.Exception:
            return f"esca: error: {' ... '.join(case.expect)} (not run when the tests run as root)"
        r = run(command(case), d, timeout=TIMEOUT if case.ranks == 1 else MPI_TIMEOUT)
        return " ".join(r.stderr.strip().splitlines()[-1:]).replace(str(d.resolve()), ".") \
            .replace(str(d), ".")


def write_docs_table(path=DOCS):
    """Rewrite the table between the markers of docs/errors.md from the actual messages."""
    rows = ["| case | input | command | message (stderr; exit status 2) |", "|---|---|---|---|"]
    for c in CASES:
        msg = _actual_message(c)
        mpi = f"mpiexec -n {c.ranks} " if c.ranks > 1 else ""
        rows.append(f"| `{c.id}` | {_cell(c.input)} | `{mpi}esca {_cell(' '.join(c.argv))}` | "
                    f"`{_cell(msg)}` |")
    text = path.read_text(encoding="utf-8")
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:a] + "\n" + "\n".join(rows) + "\n" + text[b:], encoding="utf-8")
    print(f"wrote {len(CASES)} rows to {path}")


if __name__ == "__main__":
    write_docs_table()
