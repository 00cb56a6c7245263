"""``esca prepare``: every input format round-trips through a real HDF5 file; pruning = gensim."""

import argparse
import collections
import gzip
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest
from gensim.corpora import BleiCorpus, Dictionary, MmCorpus

from esca.cli import prepare as cli_prepare
from esca.corpora import readers
from esca.corpora.prepare import Pruning, TextOptions, prepare_corpus
from esca.corpus import read_corpus
from esca.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "corpora")

WORDS = ["apple", "banana", "café", "naïve", "zebra", "river", "stone", "cloud", "eagle", "forest",
         "garden", "harbor", "island", "jungle", "kettle", "lemon", "mountain", "needle", "ocean",
         "pepper", "quartz", "rocket", "sunset", "tunnel", "umbrella"]
EMPTY = (0, 9, 19)  # empty documents: first, middle, last


def _make_docs():
    rng = np.random.default_rng(7)
    p = 1.0 / np.arange(1, len(WORDS) + 1)
    docs = []
    for i in range(20):
        n = 0 if i in EMPTY else int(rng.integers(1, 14))
        docs.append([WORDS[k] for k in rng.choice(len(WORDS), size=n, p=p / p.sum())])
    return docs


DOCS = _make_docs()
USED = sorted({w for d in DOCS for w in d})
UNUSED = "zzz-never-used"
NNZ = sum(len(set(d)) for d in DOCS)


def _tie_free_keep_n():
    """A keep_n whose cut falls between two different document frequencies (no ties)."""
    dfs = sorted(collections.Counter(w for d in DOCS for w in set(d)).values(), reverse=True)
    return next(k for k in range(4, len(dfs)) if dfs[k - 1] > dfs[k])


KEEP_N = _tie_free_keep_n()


# ---------------------------------------------------------------- writers of each input format

def write_text(folder, docs, gz=False):
    path = os.path.join(folder, "docs.txt.gz" if gz else "docs.txt")
    data = "".join(" ".join(d) + "\n" for d in docs).encode("utf-8")
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    return path, {}


def write_uci(folder, docs, gz=False, vocab=None, header=None):
    """UCI docword + vocab; ``header`` overrides (D, W, NNZ)."""
    vocab = vocab or sorted(set(USED) | {UNUSED})
    wid = {w: i + 1 for i, w in enumerate(vocab)}
    body = [f"{d + 1} {wid[w]} {c}" for d, doc in enumerate(docs)
            for w, c in sorted(collections.Counter(doc).items(), key=lambda x: wid[x[0]])]
    D, W, NNZ = header or (len(docs), len(vocab), len(body))
    path = os.path.join(folder, "docword.t.txt.gz" if gz else "docword.t.txt")
    with (gzip.open if gz else open)(path, "wt") as f:
        f.write(f"{D}\n{W}\n{NNZ}\n" + "".join(line + "\n" for line in body))
    vpath = os.path.join(folder, "vocab.t.txt")
    with open(vpath, "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in vocab))
    return path, {"vocab": vpath}


def write_mm(folder, docs, text_dict=False):
    d = Dictionary(docs)
    path, dpath = os.path.join(folder, "corpus.mm"), os.path.join(folder, "corpus.dict")
    MmCorpus.serialize(path, [d.doc2bow(doc) for doc in docs], id2word=d)
    d.save_as_text(dpath) if text_dict else d.save(dpath)
    return path, {"dictionary": dpath}


def write_ldac(folder, docs):
    d = Dictionary(docs)
    path = os.path.join(folder, "corpus.ldac")
    BleiCorpus.serialize(path, [d.doc2bow(doc) for doc in docs], id2word=d)
    return path, {"vocab": path + ".vocab"}


WRITERS = {
    "text": lambda f, docs: write_text(f, docs),
    "text.gz": lambda f, docs: write_text(f, docs, gz=True),
    "uci": lambda f, docs: write_uci(f, docs),
    "uci.gz": lambda f, docs: write_uci(f, docs, gz=True),
    "uci-used": lambda f, docs: write_uci(f, docs, vocab=USED),
    "mm": lambda f, docs: write_mm(f, docs),
    "mm-textdict": lambda f, docs: write_mm(f, docs, text_dict=True),
    "ldac": lambda f, docs: write_ldac(f, docs),
}


PRUNING_FIELDS = ("no_below", "no_above", "keep_n", "stopwords")


def prepare(tmp_path, kind, docs=DOCS, **options):
    path, files = WRITERS[kind](str(tmp_path), docs)
    out = str(tmp_path / "corpus.h5")
    pruning = Pruning(**{k: options.pop(k) for k in PRUNING_FIELDS if k in options})
    stats = prepare_corpus(path, kind.split(".")[0].split("-")[0], out, **files,
                           pruning=pruning, **options)
    return stats, read_corpus(out), files


def words_of(c):
    """Per-document lists of words of a corpus read back from disk."""
    return [[c.vocab[i] for i in c.word_ids[a:b]]
            for a, b in zip(c.doc_ptr[:-1], c.doc_ptr[1:], strict=True)]


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("kind", ["text", "text.gz", "uci", "uci.gz", "mm", "mm-textdict", "ldac"])
def test_round_trip(tmp_path, kind):
    stats, c, files = prepare(tmp_path, kind)
    kept = [i for i, d in enumerate(DOCS) if d]
    got = words_of(c)
    assert [sorted(d) for d in got] == [sorted(DOCS[i]) for i in kept]
    if kind.startswith("text"):
        assert got == [DOCS[i] for i in kept]  # token order too
    else:  # bag of words: tokens in vocabulary order within a document
        for doc, ids in zip(got, np.split(c.word_ids, c.doc_ptr[1:-1]), strict=True):
            assert np.all(np.diff(ids) >= 0), doc
    c.validate()
    with h5py.File(tmp_path / "corpus.h5") as f:
        assert f["doc_index"][()].tolist() == kept
        assert f.attrs["n_empty_dropped"] == len(EMPTY)
    expected_v = len(USED) + (kind.startswith("uci"))  # UCI keeps its never-used word
    assert stats == {"D": len(kept), "V": expected_v, "N": sum(map(len, DOCS)),
                     "n_empty_dropped": len(EMPTY), "n_input_docs": len(DOCS),
                     "seconds": stats["seconds"]}
    assert (c.num_docs, c.num_words, c.num_tokens) == (stats["D"], stats["V"], stats["N"])
    assert c.attrs["D"] == stats["D"] and c.attrs["N"] == stats["N"]
    prov = json.loads(c.attrs["provenance"])
    assert prov["input_format"] == kind.split(".")[0].split("-")[0]
    assert os.path.isabs(prov["source"]) and os.path.exists(prov["source"])
    for name, path in files.items():
        assert prov[name] == os.path.abspath(path)


def test_uci_keeps_never_used_words(tmp_path):
    _, c, _ = prepare(tmp_path, "uci")
    assert c.vocab == sorted(set(USED) | {UNUSED})
    assert not np.any(c.word_ids == c.vocab.index(UNUSED))
    _, c, _ = prepare(tmp_path, "uci", no_above=0.5)  # gensim's no_below=0: df 0 is kept
    assert UNUSED in c.vocab
    _, c, _ = prepare(tmp_path, "uci", no_below=1)
    assert UNUSED not in c.vocab


@pytest.mark.parametrize("block_bytes", [1, 7, 40])
def test_uci_documents_split_across_read_blocks(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(readers, "BLOCK_BYTES", block_bytes)
    stats, c, _ = prepare(tmp_path, "uci")
    assert [sorted(d) for d in words_of(c)] == [sorted(d) for d in DOCS if d]
    assert c.attrs["n_empty_dropped"] == len(EMPTY)
    vocab = tmp_path / "v.txt"
    vocab.write_text("a\nb\n")
    bad = tmp_path / "dw.txt"
    bad.write_text("3\n2\n5\n1 1 1\n2 1 1\n2 2 1\n3 1 1\n1 2 2\n")
    with pytest.raises(UserError, match="line 8: docID 1 comes after docID 3"):
        prepare_corpus(str(bad), "uci", str(tmp_path / "c.h5"), vocab=str(vocab))


# ---------------------------------------------------------------- pruning agrees with gensim

def gensim_kept(no_below=None, no_above=None, keep_n=None, stopwords=()):
    ref = Dictionary(DOCS)
    ref.filter_tokens(bad_ids=[ref.token2id[w] for w in stopwords if w in ref.token2id])
    if (no_below, no_above, keep_n) != (None, None, None):
        ref.filter_extremes(no_below=no_below or 0, no_above=1.0 if no_above is None else no_above,
                            keep_n=keep_n)
    return ref


PRUNINGS = [
    {"no_below": 3},
    {"no_above": 0.3},
    {"keep_n": KEEP_N},
    {"stopwords": ["apple", "café", "not-in-corpus"]},
    {"no_below": 2, "no_above": 0.6, "keep_n": KEEP_N - 2, "stopwords": ["banana"]},
]


@pytest.mark.parametrize("kind", ["text", "uci-used", "mm", "ldac"])
@pytest.mark.parametrize("options", PRUNINGS, ids=lambda o: "+".join(o))
def test_pruning_matches_gensim_filter_extremes(tmp_path, kind, options):
    ref = gensim_kept(**options)
    kept = set(ref.token2id)
    opts = dict(options)
    if "stopwords" in opts:
        (tmp_path / "stop.txt").write_text("\n".join(opts["stopwords"]) + "\n\n", encoding="utf-8")
        opts["stopwords"] = str(tmp_path / "stop.txt")
    stats, c, _ = prepare(tmp_path, kind, **opts)
    assert set(c.vocab) == kept
    if kind == "text":
        assert c.vocab == [ref[i] for i in range(len(ref))]
    else:  # surviving words keep their original id order
        ids = Dictionary(DOCS)
        source_order = USED if kind == "uci-used" else [ids[i] for i in range(len(ids))]
        assert c.vocab == [w for w in source_order if w in kept]
    pruned = [sorted(w for w in d if w in kept) for d in DOCS]
    assert [sorted(d) for d in words_of(c)] == [d for d in pruned if d]
    assert stats["n_empty_dropped"] == sum(1 for d in pruned if not d)
    assert c.attrs["n_empty_dropped"] == stats["n_empty_dropped"] >= len(EMPTY)


def test_pruning_reference_is_plain_document_frequency():
    """The gensim reference itself, checked against counting by hand."""
    df = collections.Counter(w for d in DOCS for w in set(d))
    assert set(gensim_kept(no_below=3).token2id) == {w for w, n in df.items() if n >= 3}
    assert set(gensim_kept(no_above=0.3).token2id) == {w for w, n in df.items() if n <= 6}
    top = sorted(df.values(), reverse=True)[:KEEP_N]
    assert sorted(df[w] for w in gensim_kept(keep_n=KEEP_N).token2id) == sorted(top)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("header, numbers", [
    ((5, None, None), ["6", "1..5"]),  # docID beyond D
    ((None, 99, None), ["W=99", str(len(USED) + 1)]),
    ((None, None, 7), ["NNZ=7"]),
])
def test_uci_header_mismatch(tmp_path, header, numbers):
    good = (len(DOCS), len(USED) + 1, NNZ)
    written = [g if h is None else h for h, g in zip(header, good, strict=True)]
    path, files = write_uci(str(tmp_path), DOCS, header=written)
    with pytest.raises(UserError) as e:
        prepare_corpus(path, "uci", str(tmp_path / "c.h5"), **files)
    for n in numbers:
        assert n in str(e.value)
    if header[2] is not None:
        assert f"{NNZ} entries" in str(e.value)
    assert not (tmp_path / "c.h5").exists()


def test_uci_unsorted_and_malformed_lines(tmp_path):
    vocab = tmp_path / "v.txt"
    vocab.write_text("a\nb\n")
    bad = tmp_path / "dw.txt"
    for body, needle in [("2 1 1\n1 2 1\n", "line 5"), ("1 1 1\n1 x 2\n", "line 5"),
                         ("1 1 1 1\n", "line 4")]:
        bad.write_text(f"2\n2\n{body.count(chr(10))}\n{body}")
        with pytest.raises(UserError, match=needle):
            prepare_corpus(str(bad), "uci", str(tmp_path / "c.h5"), vocab=str(vocab))


def test_ldac_unsorted_ids_and_bad_lines(tmp_path):
    (tmp_path / "v.txt").write_text("a\nb\nc\n")
    src = tmp_path / "c.ldac"
    src.write_text("2 2:1 0:2\n0\n1 1:3\n")
    stats = prepare_corpus(str(src), "ldac", str(tmp_path / "c.h5"), vocab=str(tmp_path / "v.txt"))
    c = read_corpus(str(tmp_path / "c.h5"))
    assert words_of(c) == [["a", "a", "c"], ["b", "b", "b"]]
    assert stats["n_empty_dropped"] == 1
    for text, needle in [("2 1:1\n", "M=2"), ("1 5:1\n", "id 5"), ("1 1:1\n\n", "line 2")]:
        src.write_text(text)
        with pytest.raises(UserError, match=needle):
            prepare_corpus(str(src), "ldac", str(tmp_path / "c.h5"), vocab=str(tmp_path / "v.txt"))


def test_mm_bad_bodies(tmp_path):
    Dictionary([["a", "b"], ["c"]]).save(str(tmp_path / "d"))
    head = "%%MatrixMarket matrix coordinate real general\n3 3 "
    for body, needle in [("3\n1 1 1\n2 3 2\n1 2 1\n", "sorted by row"),
                         ("2\n1 1 1.5\n2 3 2\n", "row 1: .*integers"),
                         ("2\n1 1 1\n2 4 2\n", "row 2"),
                         ("3\n1 1 1\n2 3 2\n", "3 non-zeros .* has 2")]:
        (tmp_path / "c.mm").write_text(head + body)
        with pytest.raises(UserError, match=needle):
            prepare_corpus(str(tmp_path / "c.mm"), "mm", str(tmp_path / "o.h5"),
                           dictionary=str(tmp_path / "d"))
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.parametrize("gz", [False, True])
def test_invalid_utf8_names_the_line(tmp_path, gz):
    path = tmp_path / ("bad.txt.gz" if gz else "bad.txt")
    data = b"good line\nanother good one\nbad \xff\xfe token\nlast\n"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(UserError, match=r"line 3\b.*UTF-8"):
        prepare_corpus(str(path), "text", str(tmp_path / "c.h5"))


def test_zero_tokens_writes_nothing(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n\t\n")
    with pytest.raises(UserError, match="has no tokens"):
        prepare_corpus(str(path), "text", str(tmp_path / "c.h5"))
    with pytest.raises(UserError, match="has no tokens"):
        prepare(tmp_path, "uci", no_below=1000)
    assert not any(p.name.endswith(".h5") or p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_failure_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "corpus.h5"
    out.write_bytes(b"sentinel")
    path, files = write_uci(str(tmp_path), DOCS, header=(len(DOCS), len(USED) + 1, NNZ + 1))
    with pytest.raises(UserError, match="NNZ"):  # found only at the end of the writing pass
        prepare_corpus(path, "uci", str(out), **files)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xc3\n")
    with pytest.raises(UserError, match="line 2"):
        prepare_corpus(str(bad), "text", str(out))
    assert out.read_bytes() == b"sentinel"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["corpus.h5", "bad.txt", "docword.t.txt", "vocab.t.txt"])


def test_bad_arguments_name_the_value(tmp_path):
    txt, _ = write_text(str(tmp_path), DOCS)
    out = str(tmp_path / "c.h5")
    cases = [
        (dict(input_path=str(tmp_path / "nope.txt"), fmt="text"), "nope.txt"),
        (dict(input_path=txt, fmt="uci"), "vocab"),
        (dict(input_path=txt, fmt="ldac", vocab=str(tmp_path / "v.txt")), "v.txt"),
        (dict(input_path=txt, fmt="mm"), "dictionary"),
        (dict(input_path=txt, fmt="csv"), "csv"),
        (dict(input_path=txt, fmt="text", vocab=txt), "vocab is only used with fmt='uci'"),
        (dict(input_path=txt, fmt="text", pruning=Pruning(no_above=1.5)),
         "pruning.no_above must be a fraction in (0, 1], got 1.5"),
        (dict(input_path=txt, fmt="text", pruning=Pruning(no_below=-1)), "-1"),
        (dict(input_path=txt, fmt="text", pruning=Pruning(keep_n=0)), "pruning.keep_n"),
        (dict(input_path=txt, fmt="text", pruning=Pruning(stopwords=str(tmp_path / "s.txt"))),
         "s.txt"),
        (dict(input_path=txt, fmt="text", holdout=2),
         "holdout must be a fraction in (0, 1), got 2"),
        (dict(input_path=txt, fmt="uci", vocab=txt, text=TextOptions(encoding="latin-1")),
         "only used with fmt='text'"),
    ]
    for kwargs, needle in cases:
        with pytest.raises(UserError, match=re.escape(needle)) as e:
            prepare_corpus(out=out, **kwargs)
        assert "--" not in str(e.value)  # the library names parameters, not flags
    with pytest.raises(UserError, match="overwrite"):
        prepare_corpus(txt, "text", txt)
    mm, files = write_mm(str(tmp_path), DOCS)
    with pytest.raises(UserError, match="Dictionary"):
        prepare_corpus(mm, "mm", out, dictionary=txt)
    assert not os.path.exists(out)


# ---------------------------------------------------------------- command line

def test_cli_run_through_setup_arguments(tmp_path, capsys):
    txt, _ = write_text(str(tmp_path), DOCS)
    parser = argparse.ArgumentParser(prog="esca")
    cli_prepare.setup_arguments(parser.add_subparsers())
    out = str(tmp_path / "c.h5")
    args = parser.parse_args(["prepare", txt, "--format", "text", "--out", out, "--no-below", "2"])
    assert args.func is cli_prepare.run and args.func(args) == 0
    msg = capsys.readouterr().out
    assert msg.startswith(f"wrote {out}: D=") and "empty documents" in msg
    assert read_corpus(out).num_words == len(gensim_kept(no_below=2))


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "esca", "__main__.py")),
                    reason="python -m esca is not available")
def test_cli_subprocess(tmp_path):
    path, files = write_uci(str(tmp_path), DOCS, gz=True)
    out = str(tmp_path / "c.h5")
    cmd = [sys.executable, "-m", "esca", "prepare", path, "--format", "uci", "--out", out,
           "--vocab", files["vocab"]]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (f"wrote {out}: D={len(DOCS) - len(EMPTY)} V={len(USED) + 1} "
            f"N={sum(map(len, DOCS))} tokens; dropped {len(EMPTY)} empty documents") in r.stdout
    r = subprocess.run(cmd[:-1] + [str(tmp_path / "missing.txt")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("esca: error: ") and "missing.txt" in r.stderr
    assert "Traceback" not in r.stderr


# ---------------------------------------------------------------- a real corpus

@pytest.mark.shared
def test_kjv_uci_and_text_agree(tmp_path):
    folder = os.path.join(SHARED, "kjv_chapters")
    if not os.path.isdir(folder):
        pytest.skip(f"shared corpora not found at {folder}")
    vocab = os.path.join(folder, "vocab.kjv_chapters.txt")
    su = prepare_corpus(os.path.join(folder, "docword.kjv_chapters.txt.gz"), "uci",
                        str(tmp_path / "u.h5"), vocab=vocab)
    st = prepare_corpus(os.path.join(folder, "kjv_chapters.tokens.txt.gz"), "text",
                        str(tmp_path / "t.h5"))
    for s in (su, st):
        assert (s["D"], s["N"], s["V"], s["n_empty_dropped"]) == (1189, 350225, 4533, 0)
    u, t = read_corpus(str(tmp_path / "u.h5")), read_corpus(str(tmp_path / "t.h5"))
    assert np.array_equal(u.doc_ptr, t.doc_ptr)
    # Map the text vocabulary onto UCI ids, then compare documents as sorted id runs.
    uci_id = {w: i for i, w in enumerate(u.vocab)}
    to_uci = np.array([uci_id[w] for w in t.vocab])
    doc_of = np.repeat(np.arange(u.num_docs), u.doc_lengths())
    a = to_uci[t.word_ids][np.lexsort((to_uci[t.word_ids], doc_of))]
    b = u.word_ids[np.lexsort((u.word_ids, doc_of))]
    assert np.array_equal(a, b)


def test_holdout_writes_a_seeded_test_file(tmp_path):
    """``esca prepare --holdout F --seed S`` (as a subprocess): NAME.test.h5 gets a seeded F of
    the documents, NAME.h5 the rest; they share the training vocabulary; same seed, same split."""
    rng = np.random.default_rng(5)
    lines = [" ".join(f"w{int(x)}" for x in rng.zipf(1.6, size=rng.integers(3, 30)) % 200)
             for _ in range(80)]
    src = tmp_path / "docs.txt"
    src.write_text("\n".join(lines) + "\n")
    splits = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.h5"
        r = subprocess.run([sys.executable, "-m", "esca", "prepare", str(src), "--format", "text",
                            "--out", str(out), "--holdout", "0.25", "--seed", "3"],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        test_out = tmp_path / f"{name}.test.h5"
        t_train, t_test = read_corpus(out), read_corpus(test_out)
        # The final counts, once, under the final names (no temporary file named anywhere).
        wrote = [ln for ln in r.stdout.splitlines() if ln.startswith("wrote")]
        assert wrote[0].startswith(
            f"wrote {out}: D=60 V={t_train.num_words} N={t_train.num_tokens} tokens "
            "(training documents); dropped 0 empty documents")
        oov = json.loads(t_test.attrs["provenance"])["holdout"]["test_tokens_dropped_oov"]
        assert wrote[1] == (
            f"wrote {test_out}: D=20 N={t_test.num_tokens} tokens (held out with seed 3; "
            f"{oov} token{'' if oov == 1 else 's'} of words unseen in training dropped)")
        assert len(wrote) == 2
        assert ".tmp" not in r.stdout + r.stderr and "D=80" not in r.stdout
        with h5py.File(out) as f, h5py.File(tmp_path / f"{name}.test.h5") as g:
            splits.append((f["doc_index"][()], g["doc_index"][()]))
            assert json.loads(g.attrs["provenance"])["holdout"]["part"] == "test"
        train, test = read_corpus(out), read_corpus(tmp_path / f"{name}.test.h5")
        assert test.vocab == train.vocab and train.num_docs == 60
        assert np.bincount(train.word_ids, minlength=train.num_words).min() > 0
        for d in range(train.num_docs):   # each training document is its input line
            words = [train.vocab[w] for w in train.word_ids[train.doc_ptr[d]:train.doc_ptr[d + 1]]]
            assert words == lines[splits[-1][0][d]].split()
    (tr_a, te_a), (tr_b, te_b) = splits
    assert set(tr_a) | set(te_a) == set(range(80)) and not set(tr_a) & set(te_a)
    np.testing.assert_array_equal(te_a, te_b)


def test_holdout_bad_fraction_writes_nothing(tmp_path):
    src = tmp_path / "docs.txt"
    src.write_text("a b\nc d\n")
    r = subprocess.run([sys.executable, "-m", "esca", "prepare", str(src), "--format", "text",
                        "--out", str(tmp_path / "x.h5"), "--holdout", "1.5"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "--holdout" in r.stderr and "1.5" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "x.test.h5").exists()
