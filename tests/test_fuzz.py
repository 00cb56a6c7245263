"""Fuzzing of the corpus readers and the HDF5 loader with hypothesis.

The property, for every input: the reader returns a valid corpus, or raises
:class:`esca.UserError` with a one-line message; any other exception is a bug.
"A valid corpus" means: ``doc_ptr`` int64, starting at 0, never decreasing,
ending at N; ``word_ids`` int32 in ``0..V-1``; ``len(vocab) == V``, distinct
strings. The bag-of-words readers are also checked item by item: increasing
document indices below ``num_docs``, ids in range, counts in ``0..2**31-1``.

Inputs are both *near-valid* (a valid file put through a few mutations: header
counts changed, fields replaced by huge, negative or non-numeric values, lines
deleted, duplicated or swapped, invalid UTF-8 and NUL bytes, truncation) and
raw random bytes. Every run is derandomized (the same examples every time) and
bounded so that the module runs in well under a minute on one core; the number
of examples run is reported at the end of the session.
"""

import gzip
import io
import json
import os
import struct

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esca.corpora import readers
from esca.corpora.prepare import Pruning, prepare_corpus
from esca.corpus import read_corpus, read_doc_index, read_doc_ptr
from esca.errors import UserError

EXAMPLES = {"text": 150, "uci": 150, "ldac": 120, "mm": 120, "hdf5_arrays": 200,
            "hdf5_bytes": 60, "hdf5_mutated": 150}

COUNTS = {}  # test name -> examples run
OUTCOMES = {"valid": 0, "user_error": 0}  # over all calls of outcome()


def fuzz_settings(name):
    return settings(max_examples=EXAMPLES[name], deadline=None, derandomize=True,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """Print how many examples each property saw (in the terminal summary, also without -s)."""
    yield
    total = sum(COUNTS.values())
    line = (f"test_fuzz: {total} examples in total ("
            + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
            + f"); reader calls: {OUTCOMES['valid']} returned a valid result, "
            f"{OUTCOMES['user_error']} raised UserError")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + line)
    else:  # pragma: no cover
        print(line)
    path = os.environ.get("ESCA_FUZZ_COUNTS")
    if path:
        with open(path, "w") as f:
            json.dump({"total": total, **COUNTS, "outcomes": OUTCOMES}, f)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def count(name):
    COUNTS[name] = COUNTS.get(name, 0) + 1


def outcome(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or None if it raised UserError with a one-line message.

    Any other exception propagates and fails the test.
    """
    try:
        result = fn(*args, **kwargs)
    except UserError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        OUTCOMES["user_error"] += 1
        return None
    OUTCOMES["valid"] += 1
    return result


def check_corpus(c, V=None):
    """The invariants of a corpus returned by a reader."""
    assert c.doc_ptr.dtype == np.int64 and c.doc_ptr.ndim == 1
    assert c.word_ids.dtype == np.int32 and c.word_ids.ndim == 1
    assert len(c.doc_ptr) >= 1 and c.doc_ptr[0] == 0
    assert np.all(np.diff(c.doc_ptr) >= 0)
    assert c.doc_ptr[-1] == len(c.word_ids)
    assert isinstance(c.vocab, list) and all(isinstance(w, str) for w in c.vocab)
    assert len(set(c.vocab)) == len(c.vocab)
    if V is not None:
        assert len(c.vocab) == V
    if len(c.word_ids):
        assert c.word_ids.min() >= 0 and c.word_ids.max() < len(c.vocab)


def check_prepared(stats, out):
    """A conversion that succeeded wrote a valid corpus that matches its summary."""
    c = read_corpus(str(out))
    check_corpus(c, stats["V"])
    assert (c.num_docs, c.num_tokens) == (stats["D"], stats["N"])
    assert stats["N"] > 0 and np.all(np.diff(c.doc_ptr) > 0)  # empty documents are dropped
    assert stats["n_input_docs"] == stats["D"] + stats["n_empty_dropped"]
    index = read_doc_index(str(out))
    assert index is not None and len(index) == c.num_docs and np.all(np.diff(index) > 0)


def check_bow_items(reader, vocab_size):
    """Iterate a bag-of-words reader; check each yielded document."""
    prev = -1
    for k, ids, counts in reader:
        assert isinstance(k, int) and k > prev
        prev = k
        assert ids.dtype == np.int64 and counts.dtype == np.int64 and len(ids) == len(counts)
        if len(ids):
            assert ids.min() >= 0 and ids.max() < vocab_size
            assert counts.min() >= 0 and counts.max() <= readers.MAX_COUNT
    assert reader.num_docs is not None and prev < reader.num_docs


# -- strategies: tokens, numbers and mutations ---------------------------------------------

WORDS = ["apple", "bank", "café", "naïve", "river", "stone", "日本", "x", "a_b", "Z"]
NASTY_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\r", b"\t", b"\x0c", b"\x1f\x8b",
               b"\xe2\x80\xa8", b"\x85", b"%", b":", b"-", b"."]
NUMBERS = st.one_of(
    st.integers(0, 12),
    st.integers(-3, 2**31 + 2),
    st.sampled_from([2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 2**64, 10**19, 10**40]),
).map(str)
FIELDS = st.one_of(NUMBERS, st.sampled_from(["", "x", "1.5", "2.0", "-0", "1e3", "nan", "inf",
                                              "1:1", "0:0", "3:", ":2", "1:-1", "%", "%%"]))
SEP = st.sampled_from([" ", "  ", "\t", " \t"])


@st.composite
def junk_lines(draw):
    """A line of fields and separators, sometimes with a nasty byte inside."""
    fields = draw(st.lists(FIELDS, min_size=0, max_size=5))
    line = draw(SEP).join(fields).encode()
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(line)))
        line = line[:pos] + draw(st.sampled_from(NASTY_BYTES)) + line[pos:]
    return line


@st.composite
def mutate(draw, data):
    """Apply 0-3 random edits to ``data`` (bytes): replace, delete, insert, duplicate or swap
    lines, flip a byte, or truncate."""
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "dup", "swap", "flip",
                                     "truncate", "blank"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "replace" and lines:
            lines[i] = draw(junk_lines())
        elif kind == "delete" and lines:
            del lines[i]
        elif kind == "insert":
            lines.insert(i, draw(junk_lines()))
        elif kind == "dup" and lines:
            lines.insert(i, lines[i])
        elif kind == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "blank":
            lines.insert(i, b"")
        elif kind in ("flip", "truncate"):
            blob = b"\n".join(lines)
            if not blob:
                continue
            pos = draw(st.integers(0, len(blob) - 1))
            if kind == "flip":
                blob = blob[:pos] + bytes([draw(st.integers(0, 255))]) + blob[pos + 1:]
            else:
                blob = blob[:pos]
            lines = blob.split(b"\n")
    return b"\n".join(lines)


@st.composite
def bow_docs(draw, max_docs=6, max_words=6):
    """(V, docs): docs as sorted lists of (word id, count) with 0-based ids."""
    V = draw(st.integers(1, max_words))
    docs = draw(st.lists(
        st.dictionaries(st.integers(0, V - 1), st.integers(1, 4), max_size=V)
        .map(lambda d: sorted(d.items())), min_size=0, max_size=max_docs))
    return V, docs


def maybe_gzip(draw, data):
    """Sometimes gzip the bytes (and sometimes cut the gzip stream short)."""
    if not draw(st.booleans()):
        return data, ""
    z = gzip.compress(data, mtime=0)
    if draw(st.booleans()):
        z = z[:draw(st.integers(0, len(z)))]
    return z, ".gz"


@st.composite
def vocab_file(draw, V):
    """A vocabulary file of V words, sometimes off by one, with a duplicate or invalid UTF-8."""
    words = [f"w{i}" for i in range(V)]
    kind = draw(st.sampled_from(["ok"] * 6 + ["short", "long", "dup", "utf8", "blank"]))
    if kind == "short" and words:
        words.pop()
    elif kind == "long":
        words.append("extra")
    elif kind == "dup" and len(words) > 1:
        words[-1] = words[0]
    data = "".join(w + "\n" for w in words).encode()
    if kind == "utf8":
        data = b"\xff" + data
    elif kind == "blank":
        data = b"\n" + data
    return data


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def prepare_and_check(work, src, fmt, pruning=None, **files):
    """prepare_corpus on ``src``; ``pruning``: a dict of :class:`Pruning` fields, checked
    (and refused with a one-line UserError) inside the call like the CLI's flags."""
    out = work / "out.h5"

    def prepare():
        prune = Pruning(**pruning) if pruning else None
        return prepare_corpus(src, fmt, str(out), pruning=prune, **files)

    stats = outcome(prepare)
    if stats is not None:
        check_prepared(stats, out)
    leftovers = [p.name for p in work.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, leftovers
    return stats


# -- text ------------------------------------------------------------------------------------

@st.composite
def text_inputs(draw):
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300))
    lines = draw(st.lists(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
                          max_size=8))
    data = "\n".join(lines).encode("utf-8") + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    return draw(mutate(data))


@fuzz_settings("text")
@given(data=st.data())
def test_text_reader(work, data):
    count("text")
    raw = data.draw(text_inputs(), label="input")
    blob, suffix = maybe_gzip(data.draw, raw)
    src = write(work / f"docs.txt{suffix}", blob)
    docs = outcome(lambda: list(readers.iter_text_documents(src)))
    if docs is not None:
        assert all(isinstance(t, str) and t and not any(c.isspace() for c in t)
                   for doc in docs for t in doc)
    options = data.draw(st.sampled_from([{}, {}, {"no_below": 2}, {"no_above": 0.5},
                                         {"keep_n": 2}, {"no_below": -1}, {"no_above": 1.5}]),
                        label="options")
    stats = prepare_and_check(work, src, "text", pruning=options)
    if stats is not None and not options:
        assert docs is not None and stats["N"] == sum(map(len, docs))
        assert stats["n_input_docs"] == len(docs)


# -- UCI -------------------------------------------------------------------------------------

@st.composite
def uci_inputs(draw):
    V, docs = draw(bow_docs())
    body = [f"{d + 1} {w + 1} {c}" for d, doc in enumerate(docs) for w, c in doc]
    header = [len(docs), V, len(body)]
    if draw(st.booleans()):  # a header count off by a little or by a lot
        i = draw(st.integers(0, 2))
        header[i] = draw(st.one_of(st.integers(0, 12), st.sampled_from([10**12, 10**19, -1])))
    data = ("\n".join(map(str, header + body)) + "\n").encode()
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=200))
    return V, draw(mutate(data))


@fuzz_settings("uci")
@given(data=st.data())
def test_uci_reader(work, data):
    count("uci")
    V, raw = data.draw(uci_inputs(), label="docword")
    blob, suffix = maybe_gzip(data.draw, raw)
    src = write(work / f"docword.txt{suffix}", blob)
    vocab = write(work / "vocab.txt", data.draw(vocab_file(V), label="vocab"))
    words = outcome(readers.read_word_list, vocab, "--vocab")
    if words is not None:
        reader = outcome(readers.UciDocword, src, len(words))
        if reader is not None:
            outcome(check_bow_items, reader, len(words))
    prepare_and_check(work, src, "uci", vocab=vocab)


# -- LDA-C -----------------------------------------------------------------------------------

@st.composite
def ldac_inputs(draw):
    V, docs = draw(bow_docs())
    lines = [" ".join([str(len(doc))] + [f"{w}:{c}" for w, c in doc]) for doc in docs]
    data = "\n".join(lines).encode() + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=200))
    return V, draw(mutate(data))


@fuzz_settings("ldac")
@given(data=st.data())
def test_ldac_reader(work, data):
    count("ldac")
    V, raw = data.draw(ldac_inputs(), label="ldac")
    src = write(work / "corpus.ldac", raw)
    vocab = write(work / "vocab.txt", data.draw(vocab_file(V), label="vocab"))
    words = outcome(readers.read_word_list, vocab, "--vocab")
    if words is not None:
        outcome(check_bow_items, readers.LdacCorpus(src, len(words)), len(words))
    prepare_and_check(work, src, "ldac", vocab=vocab)


# -- Matrix Market ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dictionaries(work):
    """gensim Dictionaries of 1..6 words (w0, w1, ...), saved with save_as_text."""
    from gensim.corpora import Dictionary
    paths = {}
    for V in range(1, 7):
        d = Dictionary([[f"w{i}" for i in range(V)]])
        assert [d.token2id[f"w{i}"] for i in range(V)] == list(range(V))
        paths[V] = str(work / f"dict{V}.txt")
        d.save_as_text(paths[V])
    return paths


@st.composite
def mm_inputs(draw):
    V, docs = draw(bow_docs())
    body = [f"{d + 1} {w + 1} {draw(st.sampled_from([str(c), f'{c}.0', f'{c}e0']))}"
            for d, doc in enumerate(docs) for w, c in doc]
    sizes = [len(docs), V, len(body)]
    if draw(st.booleans()):
        i = draw(st.integers(0, 2))
        sizes[i] = draw(st.one_of(st.integers(0, 12), st.sampled_from([10**12, 2**53, 10**19])))
    banner = draw(st.sampled_from(["%%MatrixMarket matrix coordinate real general",
                                   "%%matrixmarket matrix coordinate integer general",
                                   "%%MatrixMarket matrix array real general", "", "hello"]))
    comments = draw(st.lists(st.sampled_from(["% a comment", "%", ""]), max_size=2))
    lines = [banner, *comments, " ".join(map(str, sizes)) + "    ", *body]
    data = ("\n".join(lines) + "\n").encode()
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=200))
    return V, draw(mutate(data))


@fuzz_settings("mm")
@given(data=st.data())
def test_mm_reader(work, dictionaries, data):
    count("mm")
    V, raw = data.draw(mm_inputs(), label="mm")
    blob, suffix = maybe_gzip(data.draw, raw)
    src = write(work / f"corpus.mm{suffix}", blob)
    dict_V = data.draw(st.sampled_from([V, V, V, max(1, V - 1), min(6, V + 1)]), label="dict V")
    reader = outcome(readers.MmDocs, src, dict_V)
    if reader is not None:
        outcome(check_bow_items, reader, dict_V)
    prepare_and_check(work, src, "mm", dictionary=dictionaries[dict_V])


# -- the HDF5 loader: files built from fuzzed arrays and attributes ---------------------------

INT_DTYPES = [np.int64, np.int32, np.uint64, np.uint8, np.int8]


@st.composite
def int_array(draw, good, dtypes=INT_DTYPES):
    """``good`` (a list of ints), or a fuzzed variant: another dtype, a changed value, a
    shuffled or shortened copy, floats, 2-D or scalar."""
    kind = draw(st.sampled_from(["good"] * 4 + ["dtype", "value", "shuffle", "short", "float",
                                                "2d", "scalar", "empty", "string"]))
    arr = np.asarray(good, dtype=np.int64)
    if kind == "dtype":
        dt = draw(st.sampled_from(dtypes))
        info = np.iinfo(dt)
        return np.clip(arr, info.min, info.max).astype(dt)
    if kind == "value" and len(arr):
        arr = arr.copy()
        arr[draw(st.integers(0, len(arr) - 1))] = draw(
            st.sampled_from([-1, -(2**40), 2**31, 2**40, 2**62, 0, 1, 5, 7]))
        return arr
    if kind == "shuffle":
        return np.asarray(draw(st.permutations(list(arr))), dtype=np.int64)
    if kind == "short" and len(arr):
        return arr[:-1]
    if kind == "float":
        return arr.astype(np.float64) + draw(st.sampled_from([0.0, 0.5]))
    if kind == "2d" and len(arr) >= 2:
        return arr[: len(arr) // 2 * 2].reshape(-1, 2)
    if kind == "scalar":
        return np.int64(arr[0] if len(arr) else 0)
    if kind == "empty":
        return np.zeros(0, dtype=np.int64)
    if kind == "string":
        return np.array([str(x) for x in arr], dtype=object)
    return arr


ATTR_VALUES = st.sampled_from([None, 1, 99, 0, -1, "1", "x", 1.0, 1.5, b"esca-corpus",
                               "esca-corpus", "esca-model", np.array([1, 2]), np.int8(1),
                               np.array(["esca-corpus", "x"], dtype=object)])


@st.composite
def hdf5_corpora(draw):
    """A dict describing an HDF5 corpus: datasets (or None to leave out) and attributes."""
    V, docs = draw(bow_docs(max_docs=5, max_words=5))
    ids = [w for doc in docs for w, c in doc for _ in range(c)]
    ptr = np.concatenate([[0], np.cumsum([sum(c for _, c in doc) for doc in docs])]).tolist()
    vocab_kind = draw(st.sampled_from(["good"] * 5 + ["dup", "short", "long", "int", "bytes",
                                                      "badutf8", "nul", "empty-word"]))
    vocab = [f"w{i}" for i in range(V)]
    if vocab_kind == "dup" and V > 1:
        vocab[1] = vocab[0]
    elif vocab_kind == "short":
        vocab = vocab[:-1]
    elif vocab_kind == "long":
        vocab = vocab + ["extra"]
    elif vocab_kind == "empty-word":
        vocab[0] = ""
    spec = {"doc_ptr": draw(int_array(ptr)), "word_ids": draw(int_array(ids)),
            "vocab": (vocab, vocab_kind), "attrs": {}, "doc_index": None, "groups": []}
    good_attrs = {"format": "esca-corpus", "format_version": 1, "D": len(docs), "V": V,
                  "N": len(ids)}
    for name, value in good_attrs.items():
        spec["attrs"][name] = (value if draw(st.integers(0, 5)) else draw(ATTR_VALUES))
    if draw(st.integers(0, 3)) == 0:
        spec["doc_index"] = draw(int_array(list(range(len(docs)))))
    for name in ("doc_ptr", "word_ids", "vocab"):
        if draw(st.integers(0, 15)) == 0:
            spec[name] = None  # missing
        elif draw(st.integers(0, 30)) == 0:
            spec[name] = None
            spec["groups"].append(name)  # a group where a dataset should be
    return spec


def write_hdf5(path, spec):
    with h5py.File(path, "w") as f:
        for name in ("doc_ptr", "word_ids", "doc_index"):
            if spec[name] is not None:
                f.create_dataset(name, data=spec[name])
        if spec["vocab"] is not None:
            words, kind = spec["vocab"]
            if kind == "int":
                f.create_dataset("vocab", data=np.arange(len(words)))
            elif kind == "bytes":
                f.create_dataset("vocab", data=np.array([w.encode() for w in words], dtype="S"))
            elif kind in ("badutf8", "nul"):
                bad = [w.encode() for w in words]
                if bad:
                    bad[0] = b"\xff\xfe" if kind == "badutf8" else b"a\x00b"
                f.create_dataset("vocab", data=np.array(bad, dtype=object),
                                 dtype=h5py.string_dtype("utf-8" if kind == "nul" else "ascii"))
            else:
                f.create_dataset("vocab", data=np.array(words, dtype=object),
                                 dtype=h5py.string_dtype("utf-8"))
        for name in spec["groups"]:
            f.create_group(name)
        for name, value in spec["attrs"].items():
            if value is not None:
                f.attrs[name] = value


def load_and_check(path, doc_range=None):
    """read_doc_ptr, read_corpus (whole and a range) and read_doc_index: valid or UserError."""
    head = outcome(read_doc_ptr, path)
    whole = outcome(read_corpus, path)
    if whole is not None:
        check_corpus(whole)
        assert head is not None
        np.testing.assert_array_equal(head[0], whole.doc_ptr)
        assert head[1] == whole.num_words
        index = outcome(read_doc_index, path)
        assert index is None or len(index) == whole.num_docs
        if doc_range is not None:
            D = whole.num_docs
            a, b = sorted((doc_range[0] % (D + 1), doc_range[1] % (D + 1)))
            part = read_corpus(path, (a, b))
            check_corpus(part, whole.num_words)
            np.testing.assert_array_equal(
                part.word_ids, whole.word_ids[whole.doc_ptr[a]:whole.doc_ptr[b]])
    return whole


@fuzz_settings("hdf5_arrays")
@given(spec=hdf5_corpora(), doc_range=st.tuples(st.integers(0, 10), st.integers(0, 10)))
def test_hdf5_loader_fuzzed_arrays(work, spec, doc_range):
    count("hdf5_arrays")
    path = str(work / "fuzzed.h5")
    try:
        write_hdf5(path, spec)
    except (TypeError, ValueError):  # h5py itself cannot store this combination
        return
    load_and_check(path, doc_range)


# -- the HDF5 loader: raw bytes, and byte-level mutations of a valid file ---------------------

def small_valid_corpus_bytes():
    """A valid esca corpus file of a few KB (contiguous datasets, written with h5py)."""
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.create_dataset("doc_ptr", data=np.array([0, 3, 3, 7], dtype=np.int64))
        f.create_dataset("word_ids", data=np.array([0, 1, 2, 2, 1, 0, 3], dtype=np.int32))
        f.create_dataset("vocab", data=np.array(["a", "bé", "c", "d"], dtype=object),
                         dtype=h5py.string_dtype("utf-8"))
        f.attrs.update({"format": "esca-corpus", "format_version": 1, "D": 3, "V": 4, "N": 7})
    return bio.getvalue()


VALID = small_valid_corpus_bytes()


def test_small_valid_corpus_is_valid(tmp_path):
    path = write(tmp_path / "valid.h5", VALID)
    c = read_corpus(path)
    check_corpus(c, 4)
    assert c.word_ids.tolist() == [0, 1, 2, 2, 1, 0, 3]


@fuzz_settings("hdf5_bytes")
@given(blob=st.one_of(st.binary(max_size=600),
                      st.binary(max_size=200).map(lambda b: VALID[:8] + b)))
def test_hdf5_loader_random_bytes(work, blob):
    count("hdf5_bytes")
    load_and_check(write(work / "random.h5", blob))


@st.composite
def mutated_valid(draw):
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["byte", "byte", "word", "truncate"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "byte":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "word" and pos + 8 <= len(data):
            value = draw(st.sampled_from([0, 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1]))
            data[pos:pos + 8] = struct.pack("<Q", value)
        else:
            del data[pos:]
    return bytes(data)


@fuzz_settings("hdf5_mutated")
@given(blob=mutated_valid())
def test_hdf5_loader_mutated_valid_file(work, blob):
    count("hdf5_mutated")
    load_and_check(write(work / "mutated.h5", blob), doc_range=(1, 3))
