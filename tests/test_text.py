"""Raw text: the tokenizer (esca.corpora.text) and ``esca prepare --tokenize`` end to end."""

import json
import os
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest
from gensim.parsing.preprocessing import STOPWORDS
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

import esca
from esca.corpora import fetch
from esca.corpora.prepare import Pruning, TextOptions, prepare_corpus
from esca.corpora.text import Tokenizer, newsgroup_text, tokenize_text
from esca.corpus import read_corpus
from esca.errors import UserError

LEE = datapath("lee_background.cor")  # 300 raw news stories, one per line (ships with gensim)

RAW = ("The cat sat on the mat.\n"
       "THE MAT, the Mat and a café: Café au lait at 9 o'clock!\n"
       "Über naïve résumé; supercalifragilisticexpialidocious x y _under\n")

POST = (b"From: someone@example.com (Some One)\n"
        b"Subject: Re: Re: Caf\xe9 prices in Ottawa\n"
        b"Organization: Carleton University\n"
        b"Lines: 7\n"
        b"\n"
        b"In article <1993Apr5.1234@foo.edu> other@foo.edu writes:\n"
        b"> quoted nonsense about bicycles\n"
        b"| more quoted zebras\n"
        b"The espresso downtown is cheaper than uptown.\n"
        b"\n"
        b"-- \n"
        b"Some One, coffee drinker\n")

def readme_recipe():
    """The shell block of the README's "Raw text to topics" section, as written there."""
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Raw text to topics", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def run_esca(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, check=False)


def doc_words(c, d):
    return [c.vocab[w] for w in c.word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]]]


# -- the tokenizer ---------------------------------------------------------------------------

def test_case_punctuation_and_accents_become_the_same_words():
    tok = Tokenizer()
    first, second, third = (tok(line) for line in RAW.splitlines())
    assert first == ["the", "cat", "sat", "on", "the", "mat"]          # "The", "mat." too
    assert second == ["the", "mat", "the", "mat", "and", "cafe", "cafe", "au", "lait", "at",
                      "clock"]    # "THE", "Mat", "café", "Café"; "9", "o" and "a" dropped
    # too long (34 letters), too short ("x", "y") and "_under" (gensim drops a leading _)
    assert third == ["uber", "naive", "resume"]


def test_default_tokenizer_is_gensim_simple_preprocess_deacc():
    with open(LEE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    tok = Tokenizer()
    assert len(lines) == 300
    for line in lines:
        assert tok(line) == simple_preprocess(line, deacc=True)


@pytest.mark.parametrize("text", [
    "foo_bar _baz qux_ 2nd 42x x42 a1b2c3", "x\u0663y (Arabic-Indic digit)", "Ǆungla ﬁne ǈ",
    "naïve CAFÉ Œuvre straße İstanbul", "日本語のテキスト и русский текст", "tab\tnew\nline\r",
    "", "   ", "O'Neil's e-mail: a.b@c.de http://x.org/?q=1"])
def test_same_tokens_as_gensim_on_unusual_text(text):
    for deacc in (False, True):
        assert Tokenizer(deaccent=deacc)(text) == simple_preprocess(text, deacc=deacc)


def test_options_lowercase_accents_lengths():
    text = "Café DE Paris a bb ccc dddd"
    assert Tokenizer(lowercase=False, deaccent=False)(text) == ["Café", "DE", "Paris", "bb",
                                                               "ccc", "dddd"]
    assert Tokenizer(min_length=3, max_length=3)(text) == ["ccc"]
    assert Tokenizer(min_length=1)(text)[-4:] == ["a", "bb", "ccc", "dddd"]


def test_stopwords_english_is_gensims_list_normalized_like_the_text():
    assert Tokenizer(stopwords="english")("The cat sat on the mat.") == ["cat", "sat", "mat"]
    assert Tokenizer(stopwords="english").stopwords == STOPWORDS
    # a user's list goes through the same lowercasing and accent stripping as the tokens
    assert Tokenizer(stopwords=["Über", "CAT"])("über cat Uber dog") == ["dog"]
    with pytest.raises(UserError, match="'englsh'"):
        Tokenizer(stopwords="englsh")


def test_token_pattern_matches_scikit_learn():
    from sklearn.feature_extraction.text import CountVectorizer
    with open(LEE, encoding="utf-8") as f:
        lines = f.read().splitlines()[:50]
    analyzer = CountVectorizer(strip_accents="unicode").build_analyzer()
    tok = Tokenizer(token_pattern=r"(?u)\b\w\w+\b", min_length=1, max_length=10**6)
    for line in lines:
        assert tok(line) == analyzer(line)
    assert tok("R2D2 and C-3PO, 42") == ["r2d2", "and", "3po", "42"]


@pytest.mark.parametrize("bad, match", [
    (dict(min_length=0), "min_length must be >= 1, got 0"),
    (dict(min_length=4, max_length=3), "max_length 3 is below min_length 4"),
    (dict(token_pattern="(a"), "token_pattern '\\(a' is not a valid regular expression"),
    (dict(clean="usenet"), "unknown clean 'usenet'"),
])
def test_bad_settings(bad, match):
    """The library names its parameters (esca prepare names its flags: test_bad_input.py)."""
    with pytest.raises(UserError, match=match) as e:
        Tokenizer(**bad)
    assert "--" not in str(e.value)


def test_clean_newsgroups_strips_headers_and_quotes():
    tokens = Tokenizer(clean="newsgroups")(POST)
    assert tokens[:4] == ["cafe", "prices", "in", "ottawa"]       # the Subject, without Re:
    for gone in ("from", "someone", "example", "organization", "carleton", "lines",
                 "article", "writes", "quoted", "bicycles", "zebras", "re"):
        assert gone not in tokens
    assert "espresso" in tokens and "downtown" in tokens
    # CRLF line endings clean the same way
    assert Tokenizer(clean="newsgroups")(POST.replace(b"\n", b"\r\n")) == tokens


def test_clean_newsgroups_is_what_corpora_fetch_does():
    """``--clean newsgroups --keep-accents --stopwords english`` = the 20newsgroups fetch."""
    ours = Tokenizer(clean="newsgroups", deaccent=False, stopwords="english")
    assert ours(POST) == fetch.tokenize_text(fetch.newsgroup_text(POST))
    assert fetch.newsgroup_text is newsgroup_text and fetch.tokenize_text is tokenize_text


def test_clean_wikipedia_strips_markup():
    markup = ("'''Paris''' is the [[capital city|capital]] of {{Infobox country|name=France}}"
              "[[France]].<ref>{{cite web|url=http://example.com}}</ref> "
              "[[Category:Capitals]]\n== History ==\nThe city grew.")
    tokens = Tokenizer(clean="wikipedia")(markup)
    assert tokens[:6] == ["paris", "is", "the", "capital", "of", "france"]
    for gone in ("infobox", "ref", "cite", "url", "http", "category"):
        assert gone not in tokens
    assert tokens[-3:] == ["the", "city", "grew"]


def test_settings_round_trip():
    for tok in (Tokenizer(), Tokenizer(stopwords="english", clean="newsgroups", min_length=3),
                Tokenizer(lowercase=False, deaccent=False, token_pattern=r"\S+",
                          stopwords=["Zebra", "x"])):
        settings = json.loads(json.dumps(tok.to_dict()))
        assert Tokenizer.from_dict(settings) == tok


# -- esca prepare --tokenize -----------------------------------------------------------------

def test_cli_tokenize_crlf_bom_writes_a_corpus_and_trains(tmp_path):
    """A UTF-8 file with a byte order mark and CRLF line endings, end to end: prepare
    --tokenize writes real HDF5 whose words are the tokenizer's, and a model trains on it."""
    src = tmp_path / "raw.txt"
    src.write_bytes(b"\xef\xbb\xbf" + RAW.replace("\n", "\r\n").encode("utf-8"))
    out = tmp_path / "raw.h5"
    r = run_esca("prepare", src, "--format", "text", "--tokenize", "--stopwords", "english",
                 "--out", out)
    assert r.returncode == 0, r.stderr
    c = read_corpus(out)
    assert doc_words(c, 0) == ["cat", "sat", "mat"]
    assert doc_words(c, 1) == ["mat", "mat", "cafe", "cafe", "au", "lait", "clock"]
    assert doc_words(c, 2) == ["uber", "naive", "resume"]
    assert sorted(c.vocab) == sorted(["cat", "sat", "mat", "cafe", "au", "lait", "clock",
                                      "uber", "naive", "resume"])
    prov = json.loads(c.attrs["provenance"])
    assert prov["tokenizer"]["stopwords"] == "english" and prov["pruning"]["n_stopwords"] == 337
    assert prov["encoding"] == "utf-8" and prov["documents"] == "lines"
    tok = Tokenizer.from_corpus(out)   # the same tokenizer, for new text
    assert tok == Tokenizer(stopwords="english")
    assert tok("The MAT!") == ["mat"]

    model = tmp_path / "m.h5"
    r = run_esca("train", out, "-k", "2", "-n", "5", "--threads", "1", "--out", model)
    assert r.returncode == 0, r.stderr
    m = esca.load_model(model)
    assert m.vocab == c.vocab and int(m.n_kw.sum()) == c.num_tokens == 13


def test_without_tokenize_the_bom_is_dropped_and_crlf_split(tmp_path):
    src = tmp_path / "tok.txt"
    src.write_bytes(b"\xef\xbb\xbfthe cat\r\nthe mat\r\n")
    prepare_corpus(src, "text", tmp_path / "t.h5")
    c = read_corpus(tmp_path / "t.h5")
    assert sorted(c.vocab) == ["cat", "mat", "the"]
    assert doc_words(c, 0) == ["the", "cat"] and doc_words(c, 1) == ["the", "mat"]


@pytest.mark.parametrize("encoding, message", [
    ("klingon", "unknown text.encoding 'klingon'"),
    ("utf-16", "text.encoding utf-16 is not supported")])
def test_bad_encoding_names_the_parameter(encoding, message, tmp_path):
    """prepare_corpus names its parameter (esca prepare names --encoding: test_bad_input.py)."""
    src = tmp_path / "t.txt"
    src.write_text("a b\n")
    with pytest.raises(UserError, match=message):
        prepare_corpus(src, "text", tmp_path / "t.h5", text=TextOptions(encoding=encoding))
    assert not (tmp_path / "t.h5").exists()


def test_latin1_text_with_encoding(tmp_path):
    src = tmp_path / "latin.txt"
    src.write_bytes("Caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    with pytest.raises(UserError, match="line 1: invalid UTF-8"):
        prepare_corpus(src, "text", tmp_path / "l.h5", text=TextOptions(tokenizer=Tokenizer()))
    prepare_corpus(src, "text", tmp_path / "l.h5",
                   text=TextOptions(tokenizer=Tokenizer(), encoding="latin-1"))
    assert sorted(read_corpus(tmp_path / "l.h5").vocab) == ["cafe", "creme"]


def test_cli_folder_of_newsgroup_posts(tmp_path):
    """A folder of posts (one per file, Latin-1, a subfolder, a hidden file skipped) with
    --clean newsgroups: the headers are gone and NAME.docs.tsv names each document."""
    posts = tmp_path / "posts"
    (posts / "sci.crypt").mkdir(parents=True)
    (posts / "rec.autos").mkdir()
    (posts / "rec.autos" / "101").write_bytes(POST)
    (posts / "rec.autos" / "102").write_bytes(b"Subject: brakes\n\nThe brakes squeal.\n")
    (posts / "sci.crypt" / "7").write_bytes(b"Subject: keys\nFrom: x@y.z\n\nPublic keys "
                                            b"and private keys.\r\n")
    (posts / ".hidden").write_bytes(b"Subject: never\n\nnever read\n")
    out = tmp_path / "posts.h5"
    r = run_esca("prepare", posts, "--format", "text", "--tokenize", "--clean", "newsgroups",
                 "--stopwords", "english", "--keep-accents", "--out", out)
    assert r.returncode == 0, r.stderr
    c = read_corpus(out)
    assert c.num_docs == 3
    assert doc_words(c, 0) == fetch.tokenize_text(fetch.newsgroup_text(POST))
    assert doc_words(c, 0)[:3] == ["café", "prices", "ottawa"]     # decoded as Latin-1
    assert doc_words(c, 1) == ["brakes", "brakes", "squeal"]
    assert doc_words(c, 2) == ["keys", "public", "keys", "private", "keys"]
    assert "never" not in c.vocab and "organization" not in c.vocab
    docs_tsv = tmp_path / "posts.docs.tsv"
    assert docs_tsv.read_text().splitlines() == [
        "doc_index\tpath", "0\trec.autos/101", "1\trec.autos/102", "2\tsci.crypt/7"]
    assert f"wrote {docs_tsv}" in r.stdout
    prov = json.loads(c.attrs["provenance"])
    assert prov["documents"] == "files" and prov["encoding"] == "iso8859-1"
    assert prov["tokenizer"]["clean"] == "newsgroups"


def test_folder_with_holdout_leaves_no_temporary_file(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    rng = np.random.default_rng(0)
    words = ["river", "bank", "stone", "water", "money", "loan"]
    for i in range(20):
        (docs / f"{i:02d}.txt").write_text(" ".join(rng.choice(words, 8)) + ".\n")
    r = run_esca("prepare", docs, "--format", "text", "--tokenize", "--holdout", "0.25",
                 "--seed", "2", "--out", tmp_path / "d.h5")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.docs.tsv", "d.h5", "d.test.h5",
                                                          "docs"]
    rows = (tmp_path / "d.docs.tsv").read_text().splitlines()[1:]
    assert [row.split("\t")[1] for row in rows] == [f"{i:02d}.txt" for i in range(20)]
    with h5py.File(tmp_path / "d.h5") as f, h5py.File(tmp_path / "d.test.h5") as g:
        train, test = f["doc_index"][()], g["doc_index"][()]
    assert len(test) == 5 and sorted(np.concatenate([train, test])) == list(range(20))


def test_tokenize_like_reuses_the_settings_for_infer(tmp_path):
    """New raw text prepared with --tokenize-like TRAIN.h5 is tokenized as TRAIN.h5 was
    (stop words and lengths included), so esca infer sees the training words."""
    train_txt, new_txt = tmp_path / "train.txt", tmp_path / "new.txt"
    train_txt.write_text("Rivers and the BANK of the river.\nMoney, loans and banks!\n" * 5)
    new_txt.write_text("The river's bank; a LOAN of money in the bank.\n")
    r = run_esca("prepare", train_txt, "--format", "text", "--tokenize", "--stopwords",
                 "english", "--min-length", "4", "--out", tmp_path / "train.h5")
    assert r.returncode == 0, r.stderr
    r = run_esca("prepare", new_txt, "--format", "text", "--tokenize-like",
                 tmp_path / "train.h5", "--out", tmp_path / "new.h5")
    assert r.returncode == 0, r.stderr
    c = read_corpus(tmp_path / "new.h5")
    assert doc_words(c, 0) == ["river", "bank", "loan", "money", "bank"]   # no "the", "of", "s"
    assert json.loads(c.attrs["provenance"])["tokenizer"]["min_length"] == 4
    r = run_esca("train", tmp_path / "train.h5", "-k", "2", "-n", "5", "--threads", "1",
                 "--out", tmp_path / "m.h5")
    assert r.returncode == 0, r.stderr
    r = run_esca("infer", tmp_path / "m.h5", tmp_path / "new.h5", "--out", tmp_path / "t.h5",
                 "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "(4 tokens, 1 of unknown words skipped)" in r.stdout    # "loan": only "loans"
    for extra in (["--min-length", "2"], ["--stopwords", "english"], ["--tokenize"]):
        r = run_esca("prepare", new_txt, "--format", "text", "--tokenize-like",
                     tmp_path / "train.h5", *extra, "--out", tmp_path / "x.h5")
        assert r.returncode == 2 and extra[0] in r.stderr and "--tokenize-like" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_tokenizer_options_need_tokenize(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("a b\n")
    for flag in (["--min-length", "3"], ["--keep-accents"], ["--clean", "wikipedia"],
                 ["--token-pattern", "\\w+"], ["--no-lowercase"]):
        r = run_esca("prepare", src, "--format", "text", *flag, "--out", tmp_path / "a.h5")
        assert r.returncode == 2 and f"{flag[0]} is only used with --tokenize" in r.stderr
    assert not (tmp_path / "a.h5").exists()


def test_readme_recipe(tmp_path):
    """The "raw text -> topics" recipe of the README runs as written, on gensim's Lee corpus."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep
           + os.environ.get("PATH", "")}
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_recipe()], cwd=tmp_path, env=env,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    topics = [ln for ln in r.stdout.splitlines() if ln.startswith("topic")][-10:]
    assert [int(ln.split()[1]) for ln in topics] == list(range(10))
    c = read_corpus(tmp_path / "lee.h5")
    assert c.num_docs == 300 and not {"the", "said"} & set(c.vocab)   # stop word, > 50% of docs
    assert all(len(ln.split(":", 1)[1].split()) == 8 for ln in topics)
    with h5py.File(tmp_path / "theta.h5") as f:
        theta = f["theta"][()]
    assert theta.shape == (50, 10) and np.allclose(theta.sum(axis=1), 1)


def test_stopwords_english_prunes_a_bag_of_words_vocabulary(tmp_path):
    """--stopwords english also works without --tokenize (here on UCI bag-of-words)."""
    (tmp_path / "vocab.txt").write_text("the\nriver\nof\nbank\n")
    (tmp_path / "docword.txt").write_text("2\n4\n4\n1 1 3\n1 2 1\n2 3 2\n2 4 1\n")
    prepare_corpus(tmp_path / "docword.txt", "uci", tmp_path / "u.h5",
                   vocab=tmp_path / "vocab.txt", pruning=Pruning(stopwords="english"))
    c = read_corpus(tmp_path / "u.h5")
    assert c.vocab == ["river", "bank"] and doc_words(c, 0) == ["river"]
    assert json.loads(c.attrs["provenance"])["pruning"]["stopwords"] == "english"
