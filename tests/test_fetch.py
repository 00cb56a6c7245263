"""``esca corpora``: download, resume, verify and convert, against a real HTTP server on 127.0.0.1.

Nothing here reaches the internet: every URL points at a ``ThreadingHTTPServer`` started by
the ``http_server`` fixture (conftest.py, helpers.start_http_server), which serves byte ranges
(``Range: bytes=N-`` -> 206, ``If-Range``, 416) and can be told to drop the connection after
N bytes, to ignore ranges, to stall, or to answer 404. The corpora are small synthetic files in
the real layouts (UCI bag of words, the 20news-bydate tarball, a MediaWiki XML dump with its
sha1sums list).
"""

import bz2
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from esca.corpora import download, fetch
from esca.corpora.fetch import Conversion, DownloadError, Pruning, Source, fetch_corpus
from esca.corpora.prepare import holdout_path
from esca.corpora.registry import REGISTRY, RemoteFile, StandardCorpus
from esca.corpus import read_corpus, read_doc_index
from esca.errors import UserError

from helpers import make_20news_tarball, sha256

TIMEOUT = 120  # seconds for a CLI subprocess


def make_uci(name, D=12, V=9, seed=0):
    """A UCI bag-of-words pair (docword gz bytes, vocab bytes) and its D, V, N."""
    rng = np.random.default_rng(seed)
    lines, N = [], 0
    for d in range(1, D + 1):
        for w in sorted(rng.choice(V, size=int(rng.integers(1, V)), replace=False) + 1):
            c = int(rng.integers(1, 5))
            lines.append(f"{d} {w} {c}")
            N += c
    text = f"{D}\n{V}\n{len(lines)}\n" + "\n".join(lines) + "\n"
    vocab = "".join(f"word{i}\n" for i in range(V)).encode()
    return gzip.compress(text.encode(), mtime=0), vocab, (D, V, N)


def one_file_spec(server, name, data, sha=None, path=None):
    """A registry entry of one file served at ``path`` (default ``/files/NAME``)."""
    path = path or f"/files/{name}"
    server.state.files[path] = data
    return StandardCorpus(name="blob", kind="uci", title="t", description="d",
                          files=(RemoteFile(name, "docword", (server.url + path,), sha256=sha,
                                            sha256_source="test"),),
                          license="-", homepage="-")


def uci_spec(server, name, docword, vocab, docword_sha=None):
    server.state.files[f"/uci/docword.{name}.txt.gz"] = docword
    server.state.files[f"/uci/vocab.{name}.txt"] = vocab
    return StandardCorpus(
        name=name, kind="uci", title=name, description="synthetic UCI corpus",
        files=(RemoteFile(f"docword.{name}.txt.gz", "docword",
                          (f"{server.url}/uci/docword.{name}.txt.gz",), sha256=docword_sha,
                          sha256_source="the test"),
               RemoteFile(f"vocab.{name}.txt", "vocab", (f"{server.url}/uci/vocab.{name}.txt",))),
        license="-", homepage="-")


# ----------------------------------------------------------------------------- library


def test_fetch_uci_verifies_converts_and_caches(server, tmp_path, caplog):
    docword, vocab, (D, V, N) = make_uci("tiny")
    spec = uci_spec(server, "tiny", docword, vocab, docword_sha=sha256(docword))
    caplog.set_level("INFO", logger="esca")
    r = fetch_corpus(spec, cache_dir=tmp_path)
    folder = tmp_path / "tiny"
    assert r["corpus"] == str(folder / "tiny.h5") and r["converted"]
    c = read_corpus(r["corpus"])
    assert (c.num_docs, c.num_words, c.num_tokens) == (D, V, N)
    assert c.vocab == [f"word{i}" for i in range(V)]
    assert (folder / "docword.tiny.txt.gz").read_bytes() == docword
    # The pinned file is verified; the unpinned one is trusted on first use, with a warning.
    by_name = {f["name"]: f for f in r["files"]}
    assert by_name["docword.tiny.txt.gz"]["verified"] == "pinned: registry (the test)"
    assert by_name["vocab.tiny.txt"]["verified"] == "not pinned: trusted on first use and recorded"
    assert (folder / "vocab.tiny.txt.sha256").read_text() == f"{sha256(vocab)}  vocab.tiny.txt\n"
    assert any("not pinned" in m and "vocab.tiny.txt" in m for m in caplog.messages)
    assert not list(folder.glob("*.part*"))
    # A second fetch uses the cache: no request, no conversion.
    n_requests = len(server.state.requests)
    r2 = fetch_corpus(spec, cache_dir=tmp_path)
    assert len(server.state.requests) == n_requests and not r2["converted"]
    assert [f["downloaded"] for f in r2["files"]] == [0, 0]
    assert fetch.corpus_status(spec, tmp_path) == "converted"


def test_resumed_download_sends_range_and_is_byte_identical(server, tmp_path):
    data = np.random.default_rng(1).bytes(200_000)
    spec = one_file_spec(server, "big.bin", data, sha=sha256(data))
    server.state.drop_after["/files/big.bin"] = 70_000
    with pytest.raises(DownloadError) as e:
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    msg = str(e.value)
    part = tmp_path / "blob" / "big.bin.part"
    assert "\n" not in msg and "interrupted after 70000 of 200000 bytes" in msg
    assert str(part) in msg and "resumes" in msg
    assert part.stat().st_size == 70_000 and not (tmp_path / "blob" / "big.bin").exists()
    assert fetch.corpus_status(spec, tmp_path) == "partial"

    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    _, headers, status = server.state.requests[-1]
    assert headers["Range"] == "bytes=70000-" and status == 206
    assert headers["If-Range"].startswith('"')  # the ETag recorded with the .part
    assert (tmp_path / "blob" / "big.bin").read_bytes() == data
    assert r["files"][0]["downloaded"] == 130_000 and r["corpus"] is None
    assert not part.exists() and not (tmp_path / "blob" / "big.bin.part.json").exists()


def test_checksum_mismatch_deletes_the_download(server, tmp_path):
    data = b"the real bytes\n" * 100
    wrong = "0" * 64
    spec = one_file_spec(server, "f.txt", data, sha=wrong)
    with pytest.raises(UserError) as e:
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    msg = str(e.value)
    assert "sha256 mismatch for f.txt" in msg and wrong in msg and sha256(data) in msg
    assert "\n" not in msg
    assert sorted(os.listdir(tmp_path / "blob")) == [".lock"]  # no file, .part or record


def test_recorded_digest_checks_later_downloads(server, tmp_path):
    spec = one_file_spec(server, "v.txt", b"version one\n")
    first = fetch_corpus(spec, cache_dir=tmp_path, convert=False)["files"][0]["sha256"]
    os.unlink(tmp_path / "blob" / "v.txt")
    server.state.files["/files/v.txt"] = b"version two\n"  # changed upstream
    with pytest.raises(UserError, match=f"expected {first} \\(recorded in .*v.txt.sha256\\)"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert not (tmp_path / "blob" / "v.txt").exists()
    # Pinning the new value by hand replaces the record.
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False,
                     source=Source(sha256={None: sha256(b"version two\n")}))
    assert r["files"][0]["verified"] == "pinned: --sha256"
    assert download.read_record(str(tmp_path / "blob" / "v.txt.sha256")) == sha256(b"version two\n")


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    data = np.random.default_rng(2).bytes(50_000)
    spec = one_file_spec(server, "r.bin", data, sha=sha256(data))
    (tmp_path / "blob").mkdir()
    (tmp_path / "blob" / "r.bin.part").write_bytes(b"\0" * 5_000)  # not even a prefix
    server.state.ignore_range.add("/files/r.bin")
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    _, headers, status = server.state.requests[-1]
    assert headers["Range"] == "bytes=5000-" and status == 200
    assert (tmp_path / "blob" / "r.bin").read_bytes() == data
    assert r["files"][0]["downloaded"] == 50_000


@pytest.mark.parametrize("extra", [0, 10])
def test_416_complete_or_oversized_part(server, tmp_path, extra):
    data = b"abcdefghij" * 1000
    spec = one_file_spec(server, "c.bin", data, sha=sha256(data))
    (tmp_path / "blob").mkdir()
    (tmp_path / "blob" / "c.bin.part").write_bytes(data + b"x" * extra)
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    statuses = [s for p, _, s in server.state.requests if p == "/files/c.bin"]
    assert statuses == ([416] if extra == 0 else [416, 200])
    assert (tmp_path / "blob" / "c.bin").read_bytes() == data
    assert r["files"][0]["downloaded"] == (0 if extra == 0 else len(data))


def test_http_error_and_timeout_are_one_line_user_errors(server, tmp_path):
    spec = one_file_spec(server, "gone.bin", b"x")
    del server.state.files["/files/gone.bin"]
    with pytest.raises(DownloadError, match=r"cannot download http://127\.0\.0\.1:\d+/files/"
                                            r"gone\.bin: HTTP 404"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    data = b"y" * 10_000
    spec = one_file_spec(server, "slow.bin", data)
    server.state.drop_after["/files/slow.bin"] = 4_000
    with pytest.raises(DownloadError):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    server.state.stall["/files/slow.bin"] = 1.5
    with pytest.raises(DownloadError) as e:
        fetch_corpus(spec, cache_dir=tmp_path, convert=False, source=Source(timeout=0.3))
    msg = str(e.value)
    assert "timed out" in msg and "slow.bin.part" in msg and "\n" not in msg
    assert (tmp_path / "blob" / "slow.bin.part").stat().st_size == 4_000


def test_unknown_corpus_and_bad_options(tmp_path):
    with pytest.raises(UserError, match="unknown corpus 'nope'"):
        fetch_corpus("nope", cache_dir=tmp_path)
    with pytest.raises(UserError, match="own train/test split"):
        fetch_corpus("20ng", cache_dir=tmp_path, conversion=Conversion(holdout=0.1))
    with pytest.raises(UserError, match="wikipedia only"):
        fetch_corpus("kos", cache_dir=tmp_path, source=Source(dump_date="20240101"))
    with pytest.raises(UserError, match="key source.sha256 by file name"):
        fetch_corpus("kos", cache_dir=tmp_path,
                     source=Source(sha256={None: "a" * 64}, mirror="http://127.0.0.1:9/"))
    with pytest.raises(UserError, match="source.sha256 names 'x.gz', but kos has no such file"):
        fetch_corpus("kos", cache_dir=tmp_path,
                     source=Source(sha256={"x.gz": "a" * 64}, mirror="http://127.0.0.1:9/"))


@pytest.mark.parametrize("source, conversion, message", [
    (Source(timeout=0), None, "source.timeout must be positive, got 0"),
    (Source(mirror="ftp://x/"), None, "source.mirror must be an http://, https:// or file://"),
    (Source(dump_date="20240101"), None, "source.dump_date applies to wikipedia only, not kos"),
    (None, Conversion(holdout=0.1), "conversion.holdout does not apply")])
def test_library_messages_name_parameters(source, conversion, message, tmp_path):
    """fetch_corpus names its parameters (esca corpora fetch names its flags, below)."""
    name = "20ng" if conversion else "kos"
    with pytest.raises(UserError, match=re.escape(message)):
        fetch_corpus(name, cache_dir=tmp_path, source=source, conversion=conversion)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flags, message", [
    (["--timeout", "0"], "--timeout must be positive, got 0"),
    (["--mirror", "ftp://x/"], "--mirror must be an http://, https:// or file:// URL"),
    (["--dump-date", "20240101"], "--dump-date applies to wikipedia only, not kos"),
    (["--sha256", "a" * 64], "kos has 2 files (docword.kos.txt.gz, vocab.kos.txt); give "
     "--sha256 FILE=HEX"),
    (["--sha256", "x.gz=" + "a" * 64], "--sha256 x.gz=...: kos has no file 'x.gz'"),
    (["--sha256", "kos=abc"], "--sha256 kos=abc: 'abc' is not a sha256 digest"),
    (["--sha256", "a" * 64, "--sha256", "b" * 64], "--sha256 given twice for the file")])
def test_cli_messages_name_flags(flags, message, tmp_path):
    """esca corpora fetch checks its flags first and names them, before any download."""
    r = subprocess.run([sys.executable, "-m", "esca", "corpora", "fetch", "kos", "--cache-dir",
                        str(tmp_path / "cache"), *flags], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 2 and r.stderr.startswith(f"esca: error: {message}"), r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "cache" / "kos").exists()


def test_parse_sha256_options():
    from esca.cli.corpora import parse_sha256_options
    assert parse_sha256_options(["f.gz=" + "A" * 64]) == {"f.gz": "a" * 64}
    assert parse_sha256_options(None) == {}


def test_cache_dir_default(monkeypatch):
    env = {"HOME": "/h"}
    monkeypatch.setenv("HOME", "/h")
    assert fetch.default_cache_dir(env) == "/h/.cache/esca"
    assert fetch.default_cache_dir({**env, "XDG_CACHE_HOME": "/x"}) == "/x/esca"
    assert fetch.default_cache_dir({**env, "XDG_CACHE_HOME": "rel"}) == "/h/.cache/esca"
    assert fetch.default_cache_dir({**env, "ESCA_DATA": "/d", "XDG_CACHE_HOME": "/x"}) == "/d"


# ----------------------------------------------------------------------------- 20 Newsgroups

def test_20newsgroups_train_test_and_document_names(server, tmp_path):
    data = make_20news_tarball()
    server.state.files["/ng/20news-bydate.tar.gz"] = data
    # The real registry entry, from a mirror, with the synthetic archive's digest pinned.
    r = fetch_corpus("20newsgroups", cache_dir=tmp_path,
                     source=Source(mirror=server.url + "/ng/", sha256={None: sha256(data)}),
                     conversion=Conversion(pruning=Pruning(no_below=1)))
    folder = tmp_path / "20newsgroups"
    train, test = read_corpus(r["corpus"]), read_corpus(r["test_corpus"])
    assert r["test_corpus"] == str(folder / "20newsgroups.test.h5")
    assert train.num_docs == 4 and test.num_docs == 1 and test.vocab == train.vocab
    assert "quotedonly" not in train.vocab and "orbital" in train.vocab  # quotes gone, subject in
    assert "the" not in train.vocab and "and" not in train.vocab       # stop words gone
    rows = (folder / "20newsgroups.docs.tsv").read_text().splitlines()
    assert rows[0] == "doc_index\tsplit\tnewsgroup\tsource_id"
    assert [ln.split("\t")[3] for ln in rows[1:]] == [
        "train/alt.atheism/9", "train/alt.atheism/51000", "train/sci.space/60001",
        "train/sci.space/60002", "test/alt.atheism/53000", "test/sci.space/70000"]
    assert list(read_doc_index(r["corpus"])) == [0, 1, 2, 3]
    assert list(read_doc_index(r["test_corpus"])) == [5]  # test/alt.atheism/53000 left empty
    assert r["stats"]["test"]["n_empty_dropped"] == 1
    words = [test.vocab[i] for i in test.word_ids]
    assert sorted(set(words)) == ["launch", "orbit", "rocket"]  # telescope, optics: unseen



def test_cli_pruning_flags_replace_only_the_entrys_values_they_name(server, tmp_path):
    """``--keep-n`` alone keeps the registry's ``no_below`` of 20newsgroups (5: more than the
    4 training posts here, so nothing is left); with ``--no-below 1`` both flags apply, to the
    test split too, and ``no_above`` stays the entry's (none)."""
    data = make_20news_tarball()
    server.state.files["/ng/20news-bydate.tar.gz"] = data
    cache = tmp_path / "cache"
    common = ["corpora", "fetch", "20newsgroups", "--cache-dir", cache, "--mirror",
              server.url + "/ng/", "--sha256", sha256(data), "--keep-n", 3]
    r = run_cli(common, tmp_path)
    one_error_line(r, "has no tokens (4 empty documents after pruning)")
    r = run_cli([*common, "--no-below", 1], tmp_path)
    assert r.returncode == 0, r.stderr
    h5 = cache / "20newsgroups" / "20newsgroups.h5"
    train = read_corpus(h5)
    assert len(train.vocab) == 3
    assert re.search(rf"wrote {re.escape(str(h5))}: D=\d+ V=3 ", r.stdout)
    prov = json.loads(train.attrs["provenance"])
    assert {k: prov["pruning"][k] for k in ("no_below", "no_above", "keep_n")} == {
        "no_below": 1, "no_above": None, "keep_n": 3}
    test_prov = json.loads(read_corpus(holdout_path(str(h5))).attrs["provenance"])
    assert test_prov["pruning"] == {"no_below": 1, "no_above": None, "keep_n": 3}

# ----------------------------------------------------------------------------- Wikipedia

ARTICLE_WORDS = {
    "Astronomy": "astronomy studies stars planets galaxies telescopes comets nebulae orbits",
    "Botany": "botany studies plants flowers leaves roots seeds trees photosynthesis soil",
}


def _page(title, pid, text, ns=0):
    return (f"<page><title>{title}</title><ns>{ns}</ns><id>{pid}</id><revision><id>{pid}0"
            f"</id><text xml:space=\"preserve\">{text}</text></revision></page>")


def make_wiki_dump():
    pages = [_page(t, i + 10, f"'''{t}''' [[Science|science]]. " + " ".join([w] * 8))
             for i, (t, w) in enumerate(ARTICLE_WORDS.items())]
    pages.append(_page("Astro", 30, "#REDIRECT [[Astronomy]]"))
    pages.append(_page("Stub", 31, "A short stub about stars."))
    pages.append(_page("Talk:Astronomy", 32, " ".join([ARTICLE_WORDS["Astronomy"]] * 8), ns=1))
    xml = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" '
           'xml:lang="en"><siteinfo><sitename>Wikipedia</sitename><dbname>enwiki</dbname>'
           '</siteinfo>' + "".join(pages) + "</mediawiki>")
    return bz2.compress(xml.encode())


def serve_wiki(server, dump, sha1=None, date="latest"):
    """Serve a dump and its sha1sums list (naming the dated files) in ``/wiki/``."""
    server.state.files[f"/wiki/enwiki-{date}-pages-articles.xml.bz2"] = dump
    sha1 = sha1 or hashlib.sha1(dump).hexdigest()
    server.state.files[f"/wiki/enwiki-{date}-sha1sums.txt"] = (
        f"{'1' * 40}  enwiki-20240101-pages-articles-multistream.xml.bz2\n"
        f"{sha1}  enwiki-20240101-pages-articles.xml.bz2\n"
        f"{'2' * 40}  enwiki-20240101-pages-articles1.xml-p1p41242.bz2\n").encode()


@pytest.mark.parametrize("date", [None, "20240101"])
def test_wikipedia_dump_verified_by_published_sha1_and_converted(server, tmp_path, date):
    dump = make_wiki_dump()
    serve_wiki(server, dump, date=date or "latest")
    r = fetch_corpus("enwiki", cache_dir=tmp_path,
                     source=Source(mirror=server.url + "/wiki", dump_date=date),
                     conversion=Conversion(processes=1, pruning=Pruning(no_below=1,
                                                                        no_above=1.0)))
    folder = tmp_path / "wikipedia"
    assert r["corpus"] == str(folder / "enwiki-20240101.h5")
    f = r["files"][0]
    assert f["path"] == str(folder / "enwiki-20240101-pages-articles.xml.bz2")
    assert f["verified"] == (f"sha256 recorded now; sha1 from {server.url}/wiki/"
                             f"enwiki-{date or 'latest'}-sha1sums.txt")
    assert (folder / "enwiki-20240101-sha1sums.txt").exists()
    c = read_corpus(r["corpus"])
    assert c.num_docs == 2  # the redirect, the stub and the talk page are skipped
    assert {"astronomy", "botany", "telescopes", "science"} <= set(c.vocab)
    rows = (folder / "enwiki-20240101.docs.tsv").read_text().splitlines()
    assert rows == ["doc_index\tpage_id\ttitle", "0\t10\tAstronomy", "1\t11\tBotany"]
    assert fetch.corpus_status(REGISTRY["wikipedia"], tmp_path) == "converted"
    # Offline (the list cannot be fetched): the cached list and dump are used.
    del server.state.files[f"/wiki/enwiki-{date or 'latest'}-sha1sums.txt"]
    again = fetch_corpus("enwiki", cache_dir=tmp_path,
                         source=Source(mirror=server.url + "/wiki", dump_date=date))
    assert again["corpus"] == r["corpus"] and not again["converted"]
    assert again["files"][0]["downloaded"] == 0


def test_wikipedia_sha1_mismatch(server, tmp_path):
    serve_wiki(server, make_wiki_dump(), sha1="f" * 40)
    with pytest.raises(UserError, match="sha1 mismatch for enwiki-20240101-pages-articles"):
        fetch_corpus("wikipedia", cache_dir=tmp_path, source=Source(mirror=server.url + "/wiki/"))
    assert not list((tmp_path / "wikipedia").glob("*.bz2*"))


# ----------------------------------------------------------------------------- CLI


def run_cli(args, cwd):
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


def one_error_line(r, *names):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("esca: error: "), r.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def test_cli_help_and_list(tmp_path):
    for args in (["corpora", "--help"], ["corpora", "list", "--help"],
                 ["corpora", "fetch", "--help"]):
        r = run_cli(args, tmp_path)
        assert r.returncode == 0 and "examples:" in r.stdout and "esca corpora" in r.stdout
    r = run_cli(["corpora", "list", "--cache-dir", tmp_path], tmp_path)
    assert r.returncode == 0, r.stderr
    names = [ln.split()[0] for ln in r.stdout.splitlines()[1:8]]
    assert names == list(REGISTRY) == ["kos", "nips", "enron", "nytimes", "pubmed",
                                       "20newsgroups", "wikipedia"]
    assert "3,430" in r.stdout and "CC BY 4.0" in r.stdout


def test_cli_fetch_through_a_mirror(server, tmp_path):
    docword, vocab, (D, V, N) = make_uci("kos")
    server.state.files["/m/docword.kos.txt.gz"] = docword
    server.state.files["/m/vocab.kos.txt"] = vocab
    cache = tmp_path / "cache"
    # A wrong pin: exit status 2, one line, nothing placed under the final name.
    r = run_cli(["corpora", "fetch", "kos", "--cache-dir", cache, "--mirror", server.url + "/m/",
                 "--sha256", "docword.kos.txt.gz=" + "0" * 64], tmp_path)
    one_error_line(r, "sha256 mismatch for docword.kos.txt.gz", "0" * 64, sha256(docword))
    assert not (cache / "kos" / "docword.kos.txt.gz").exists()
    # An interrupted download: one line, the .part is kept.
    server.state.drop_after["/m/docword.kos.txt.gz"] = 50
    r = run_cli(["corpora", "fetch", "kos", "--cache-dir", cache, "--mirror", server.url + "/m/"],
                tmp_path)
    one_error_line(r, "interrupted after 50 of", "docword.kos.txt.gz.part")
    # Resumed and converted; the output says where and how to train.
    r = run_cli(["corpora", "fetch", "kos", "--cache-dir", cache, "--mirror", server.url + "/m/"],
                tmp_path)
    assert r.returncode == 0, r.stderr
    out = str(cache / "kos" / "kos.h5")
    assert f"wrote {out}: D={D} V={V} N={N} tokens" in r.stdout
    assert f"train on it: esca train {out}" in r.stdout
    assert "not pinned" in r.stdout and "resuming at byte 50" in r.stdout
    assert server.state.requests[-2][1]["Range"] == "bytes=50-"
    r = run_cli(["corpora", "list", "--cache-dir", cache], tmp_path)
    assert re.search(r"^kos .* converted ", r.stdout, re.MULTILINE), r.stdout


# ----------------------------------------------------------------------------- bad downloads

ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
              b"<body><h1>Service Unavailable</h1><p>The mirror is down for maintenance."
              b"</p></body></html>\n" * 8)


def _tar_bytes():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


def _zip_bytes():
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "abc" * 100)
    return buf.getvalue()


GOOD = {"f.gz": gzip.compress(b"1 2 3\n" * 100, mtime=0), "f.bz2": bz2.compress(b"x" * 1000),
        "f.zip": _zip_bytes(), "f.tar": _tar_bytes(), "f.txt": b"word0\nword1\n",
        "f.tar.gz": gzip.compress(_tar_bytes(), mtime=0)}
WORDS = {"f.gz": "not a gzip file", "f.bz2": "not a bzip2 file", "f.zip": "not a zip archive",
         "f.tar": "not a tar archive", "f.txt": "not the expected file",
         "f.tar.gz": "not a gzip-compressed tar archive"}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_html_error_page_with_status_200_is_refused_and_not_trusted(server, tmp_path, name):
    """A mirror answering its error page with 200: nothing is kept or recorded as trusted."""
    spec = one_file_spec(server, name, ERROR_PAGE)
    server.state.content_type[f"/files/{name}"] = "text/html; charset=utf-8"
    with pytest.raises(fetch.BadDownload) as e:
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    msg = str(e.value)
    assert "\n" not in msg
    assert f"{name} downloaded from {server.url}/files/{name} is an HTML page of 1.31 kB " \
           f"(Content-Type text/html), {WORDS[name]}: deleted, no checksum recorded" in msg
    assert "esca corpora fetch blob --mirror URL" in msg
    assert sorted(os.listdir(tmp_path / "blob")) == [".lock"]  # no file, .part or .sha256
    # The mirror recovers: the next fetch gets the real file and trusts it.
    server.state.files[f"/files/{name}"] = GOOD[name]
    del server.state.content_type[f"/files/{name}"]
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert r["files"][0]["sha256"] == sha256(GOOD[name])
    assert (tmp_path / "blob" / name).read_bytes() == GOOD[name]


@pytest.mark.parametrize("name", ["f.gz", "f.bz2", "f.zip", "f.tar"])
def test_wrong_type_without_content_type_is_refused(server, tmp_path, name):
    """No Content-Type, not HTML, but not the promised kind either (no magic bytes)."""
    spec = one_file_spec(server, name, b"plain text where a compressed file belongs\n" * 20)
    with pytest.raises(fetch.BadDownload, match=f"is a file of 860 bytes starting with "
                                                f"b'plain text where', {WORDS[name]}"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert sorted(os.listdir(tmp_path / "blob")) == [".lock"]


@pytest.mark.parametrize("name", ["f.gz", "f.bz2", "f.zip", "f.tar.gz"])
def test_damaged_file_is_not_trusted_on_first_use(server, tmp_path, name):
    """Right magic bytes but cut short: it must decompress to its end before it is trusted."""
    data = GOOD[name] if name != "f.gz" else gzip.compress(np.random.default_rng(0).bytes(
        50_000), mtime=0)
    spec = one_file_spec(server, name, data[:len(data) * 2 // 3])
    with pytest.raises(fetch.BadDownload, match="that is damaged"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert sorted(os.listdir(tmp_path / "blob")) == [".lock"]


def test_empty_file_and_size_far_below_the_registry_size(server, tmp_path):
    spec = one_file_spec(server, "e.txt", b"")
    with pytest.raises(fetch.BadDownload, match="is an empty file, not the expected file"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    data = GOOD["f.gz"]
    server.state.files["/files/s.gz"] = data
    spec = StandardCorpus(name="blob", kind="uci", title="t", description="d", license="-",
                          homepage="-", files=(RemoteFile("s.gz", "docword",
                                                          (server.url + "/files/s.gz",),
                                                          size=10 * len(data)),))
    with pytest.raises(fetch.BadDownload, match=f"is {len(data)} bytes, not the "
                                                f"{download.human_size(10 * len(data))} file the "
                                                "registry lists"):
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert sorted(os.listdir(tmp_path / "blob")) == [".lock"]


def test_error_page_from_the_first_source_tries_the_next(server, tmp_path):
    data = GOOD["f.gz"]
    server.state.files["/a/f.gz"] = ERROR_PAGE
    server.state.files["/b/f.gz"] = data
    spec = StandardCorpus(name="blob", kind="uci", title="t", description="d", license="-",
                          homepage="-", files=(RemoteFile(
                              "f.gz", "docword", (server.url + "/a/f.gz", server.url + "/b/f.gz"),
                              sha256=sha256(data), sha256_source="test"),))
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    assert r["files"][0]["sha256"] == sha256(data)
    assert [p for p, _, _ in server.state.requests] == ["/a/f.gz", "/b/f.gz"]


def test_cache_poisoned_by_an_older_esca_is_repaired(server, tmp_path, caplog):
    """An older esca cached the error page and recorded its digest as trusted."""
    docword, vocab, (D, V, N) = make_uci("tiny")
    spec = uci_spec(server, "tiny", docword, vocab)
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "docword.tiny.txt.gz").write_bytes(ERROR_PAGE)
    (folder / "docword.tiny.txt.gz.sha256").write_text(
        f"{sha256(ERROR_PAGE)}  docword.tiny.txt.gz\n")
    r = fetch_corpus(spec, cache_dir=tmp_path)
    c = read_corpus(r["corpus"])
    assert (c.num_docs, c.num_words, c.num_tokens) == (D, V, N)
    assert (folder / "docword.tiny.txt.gz").read_bytes() == docword
    assert download.read_record(str(folder / "docword.tiny.txt.gz.sha256")) == sha256(docword)
    assert any("is an HTML page of 1.31 kB, not a gzip file" in m and "deleted it and the "
               "sha256 recorded for it" in m for m in caplog.messages), caplog.messages


def test_poisoned_record_alone_names_the_recovery(server, tmp_path):
    """Only the record is left (the page itself was deleted): the mismatch says --force."""
    data = GOOD["f.gz"]
    spec = one_file_spec(server, "f.gz", data)
    (tmp_path / "blob").mkdir()
    (tmp_path / "blob" / "f.gz.sha256").write_text(f"{sha256(ERROR_PAGE)}  f.gz\n")
    with pytest.raises(UserError) as e:
        fetch_corpus(spec, cache_dir=tmp_path, convert=False)
    msg = str(e.value)
    assert f"expected {sha256(ERROR_PAGE)} (recorded in" in msg and "\n" not in msg
    assert msg.endswith("discard the record and fetch again with: esca corpora fetch blob "
                        "--force")
    r = fetch_corpus(spec, cache_dir=tmp_path, convert=False, force=True)
    assert r["files"][0]["sha256"] == sha256(data)


def test_damaged_cached_file_names_force_at_conversion(server, tmp_path):
    """A cached gzip with the right magic bytes but cut short (and its digest recorded)."""
    docword, vocab, _ = make_uci("tiny")
    spec = uci_spec(server, "tiny", docword, vocab)
    folder = tmp_path / "tiny"
    folder.mkdir()
    cut = docword[:len(docword) // 2]
    (folder / "docword.tiny.txt.gz").write_bytes(cut)
    (folder / "docword.tiny.txt.gz.sha256").write_text(f"{sha256(cut)}  docword.tiny.txt.gz\n")
    with pytest.raises(UserError) as e:
        fetch_corpus(spec, cache_dir=tmp_path)
    assert str(e.value).endswith("if the downloaded file is damaged, discard it and fetch again "
                                 "with: esca corpora fetch tiny --force"), str(e.value)
    r = fetch_corpus(spec, cache_dir=tmp_path, force=True)
    assert read_corpus(r["corpus"]).num_docs == 12


def test_cli_error_page_is_one_line(server, tmp_path):
    server.state.files["/m/docword.kos.txt.gz"] = ERROR_PAGE
    server.state.content_type["/m/docword.kos.txt.gz"] = "text/html"
    cache = tmp_path / "cache"
    r = run_cli(["corpora", "fetch", "kos", "--cache-dir", cache, "--mirror", server.url + "/m/"],
                tmp_path)
    one_error_line(r, "docword.kos.txt.gz downloaded from", "is an HTML page of 1.31 kB "
                   "(Content-Type text/html), not a gzip file: deleted, no checksum recorded",
                   "esca corpora fetch kos --mirror URL")
    assert sorted(os.listdir(cache / "kos")) == [".lock"]
