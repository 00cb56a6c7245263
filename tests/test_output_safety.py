"""Outputs that are inputs, folders to write into, and temporaries after signals (issue 13).

* 13.3: one check (:func:`esca._io.check_not_input`) refuses an output that is one of the
  command's inputs, also through symbolic and hard links; the rows of every command are in
  tests/test_bad_input.py, the library's ``protect=`` here.
* 13.4: an existing writable output folder is accepted even when its parent is read-only
  (in-process with ``os.access`` patched, so that it runs as root too, and for real with
  chmod, skipped as root).
* 13.10: SIGTERM during ``esca prepare`` and ``esca export`` (real subprocesses, held in the
  middle of their write by a patched function) removes their temporaries and exits with 143;
  the temporaries a SIGKILL leaves are removed, with one log line, by the next write into
  the same folder.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import esca
from esca import _io
from esca.errors import UserError

from helpers import make_20news_tarball, sha256

TIMEOUT = 120


def _model(path, K=3, V=6, D=4):
    rng = np.random.default_rng(0)
    n_kw = rng.integers(1, 5, size=(K, V)).astype(np.int32)
    m = esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=np.ones((D, K), np.int32),
                        vocab=[f"w{i}" for i in range(V)], alpha=np.full(K, 0.1), beta=0.01,
                        config=esca.TrainConfig(num_topics=K, iterations=1),
                        word_df=np.ones(V, np.int64))
    m.save(str(path))
    return m


def _files(folder):
    """Every path under ``folder`` (relative), hidden ones included, with its bytes' length."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = "dir" if os.path.isdir(p) else Path(p).read_bytes()
    return out


# -- 13.3 the same-file check ---------------------------------------------------------------------

def test_same_file_through_links(tmp_path):
    (tmp_path / "a.h5").write_bytes(b"x")
    os.symlink("a.h5", tmp_path / "sym.h5")
    os.link(tmp_path / "a.h5", tmp_path / "hard.h5")
    os.symlink(".", tmp_path / "up")
    (tmp_path / "b.h5").write_bytes(b"x")
    assert _io.same_file(tmp_path / "sym.h5", tmp_path / "a.h5")
    assert _io.same_file(tmp_path / "hard.h5", tmp_path / "a.h5")
    assert _io.same_file(tmp_path / "up" / "up" / "a.h5", tmp_path / "a.h5")
    assert not _io.same_file(tmp_path / "b.h5", tmp_path / "a.h5")  # same bytes, other file
    # an output not written yet that leads to an input through a linked folder
    os.symlink(tmp_path, tmp_path / "link_to_here")
    assert _io.same_file(tmp_path / "link_to_here" / "new.h5", tmp_path / "new.h5")
    assert not _io.same_file(tmp_path / "new.h5", tmp_path / "a.h5")
    with pytest.raises(UserError, match=r"^out .*sym\.h5 would overwrite the input MODEL\.h5 "
                       r".*a\.h5; choose another path$"):
        _io.check_not_input(tmp_path / "sym.h5", [("CORPUS.h5", None), ("MODEL.h5",
                                                                         tmp_path / "a.h5")])
    _io.check_not_input(tmp_path / "b.h5", [("MODEL.h5", tmp_path / "a.h5")])


@pytest.mark.parametrize("fmt", ["gensim", "mallet", "csv", "pyldavis"])
def test_export_refuses_to_replace_a_protected_input(fmt, tmp_path):
    """The library's export_model(protect=...) refuses before any file is replaced, and a
    folder that merely holds the model is a fine export folder."""
    from esca.export import export_model
    if fmt == "pyldavis":
        pytest.importorskip("pyLDAvis")
    model = _model(tmp_path / "m.h5")
    name = {"gensim": "lda.model", "mallet": "topic-keys.txt", "csv": "phi.csv",
            "pyldavis": None}[fmt]
    if name is None:
        target, out = tmp_path / "m.h5", tmp_path / "m.h5"
    else:
        (tmp_path / "d").mkdir()
        target, out = tmp_path / "d" / name, tmp_path / "d"
        os.replace(tmp_path / "m.h5", target)
    before = _files(tmp_path)
    with pytest.raises(UserError, match="would overwrite the input MODEL.h5"):
        export_model(model, fmt, str(out), protect=[("MODEL.h5", str(target))])
    assert _files(tmp_path) == before  # the model intact, no temporary folder left
    if name is not None:  # a folder that merely holds the model is a fine export folder
        os.replace(target, tmp_path / "d" / "m.h5")
        paths = export_model(model, fmt, str(out), protect=[("MODEL.h5",
                                                             str(tmp_path / "d" / "m.h5"))])
        assert paths and all(os.path.exists(p) for p in paths)
        assert esca.load_model(str(tmp_path / "d" / "m.h5")).num_topics == 3


def test_plot_model_refuses_to_replace_a_protected_input(tmp_path):
    from esca.plot import plot_model
    (tmp_path / "d").mkdir()
    model = _model(tmp_path / "d" / "top_words.png")
    before = _files(tmp_path)
    with pytest.raises(UserError, match=r"would overwrite the input MODEL\.h5 .*top_words\.png "
                       r"\(as top_words\.png\)"):
        plot_model(model, tmp_path / "d", protect=[("MODEL.h5", tmp_path / "d" /
                                                    "top_words.png")])
    assert _files(tmp_path) == before


# -- 13.4 an existing writable folder in a read-only parent --------------------------------------

def test_existing_writable_folder_with_read_only_parent_is_accepted(tmp_path, monkeypatch):
    """``os.access`` says the parent is read-only and the folder writable (as for ``--out .``
    in a home folder): the existing folder is accepted; a missing one still needs its
    parent, and an existing read-only folder is still refused."""
    parent, folder, ro = tmp_path / "parent", tmp_path / "parent" / "out", tmp_path / "ro"
    folder.mkdir(parents=True)
    ro.mkdir()
    real = os.access
    read_only = {str(parent), str(ro)}

    def access(path, mode, **kw):
        if os.fspath(path).rstrip("/") in read_only and mode & os.W_OK:
            return False
        return real(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)
    _io.check_output_dir(str(folder))
    _io.check_output_dir(str(folder) + "/")
    with pytest.raises(UserError, match="output folder is not writable: .*parent$"):
        _io.check_output_dir(str(parent / "missing"))
    with pytest.raises(UserError, match="output folder is not writable: .*ro$"):
        _io.check_output_dir(str(ro))
    _io.check_output_file(str(folder / "m.h5"))  # a file in it: the folder is its parent
    # and what the commands do with it: an export there
    from esca.export import export_csv
    model = _model(tmp_path / "m.h5")
    paths = export_csv(model, str(folder))
    assert [os.path.basename(p) for p in paths] == ["theta.csv", "phi.csv", "topics.csv"]


def _non_root():
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder: the chmod test needs another user")


def test_existing_writable_folder_with_read_only_parent_real_permissions(tmp_path):
    """The same with real permissions: ``esca plot`` and ``esca export`` into ``parent/out``
    while ``parent`` is chmod 555 (skipped as root)."""
    _non_root()
    _model(tmp_path / "m.h5")
    parent = tmp_path / "parent"
    (parent / "out").mkdir(parents=True)
    os.chmod(parent, 0o555)
    try:
        for argv in (["export", "m.h5", "--format", "csv", "--out", "parent/out"],
                     ["export", "m.h5", "--format", "pyldavis", "--out", "parent/out/p.html"]):
            r = subprocess.run([sys.executable, "-m", "esca", *argv], cwd=tmp_path,
                               capture_output=True, text=True, timeout=TIMEOUT)
            assert r.returncode == 0, r.stderr
        assert (parent / "out" / "theta.csv").exists()
    finally:
        os.chmod(parent, 0o755)


# -- 13.10 SIGTERM and SIGKILL in the middle of a write -----------------------------------------

#: Runs the esca command line with one function patched to write a marker file and wait,
#: in the middle of the write (inside the atomic writer), until a signal arrives.
HOLD = r"""
import sys, time
import esca.cli.main as cli
what, marker = sys.argv[1], sys.argv[2]

def hold():
    open(marker, "w").close()
    for _ in range(600):
        time.sleep(0.1)

if what == "export":
    import esca.export.mallet as ex
    real = ex.write_mallet_doc_topics
    def patched(*a, **k):
        real(*a, **k)
        hold()
    ex.write_mallet_doc_topics = patched
else:
    from esca.corpus import CorpusWriter
    real = CorpusWriter.add
    def patched(self, *a, **k):
        real(self, *a, **k)
        hold()
    CorpusWriter.add = patched
sys.exit(cli.main(sys.argv[3:]))
"""

EXPORT = ["export", "m.h5", "--format", "mallet", "--out", "out"]
PREPARE = ["prepare", "docs.txt", "--format", "text", "--out", "c.h5"]


def _setup(tmp_path):
    _model(tmp_path / "m.h5")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "topic-keys.txt").write_text("an earlier export\n")
    (tmp_path / "docs.txt").write_text("river bank stone\nthe cafe by the river\n")
    (tmp_path / "c.h5").write_bytes(b"an earlier corpus\n")


def _start_held(tmp_path, argv):
    marker = tmp_path / "held"
    what = argv[0]
    proc = subprocess.Popen([sys.executable, "-c", HOLD, what, str(marker), *argv],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the held command ended or hung before its write: {err}")
        time.sleep(0.05)
    marker.unlink()
    return proc


def _temporaries(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob(".*"))


@pytest.mark.parametrize("argv", [EXPORT, PREPARE], ids=["export", "prepare"])
def test_sigterm_mid_write_removes_temporaries(argv, tmp_path):
    _setup(tmp_path)
    before = _files(tmp_path)
    proc = _start_held(tmp_path, argv)
    assert _temporaries(tmp_path), "the command should be holding a temporary file or folder"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == [
        "esca: stopped by SIGTERM; temporary files removed, earlier outputs kept "
        "(exit status 143)"], err
    assert "Traceback" not in err
    assert _temporaries(tmp_path) == []
    assert _files(tmp_path) == before  # earlier outputs untouched, nothing added


@pytest.mark.parametrize("argv", [EXPORT, PREPARE], ids=["export", "prepare"])
def test_sigkill_leftovers_are_removed_by_the_next_write(argv, tmp_path):
    _setup(tmp_path)
    proc = _start_held(tmp_path, argv)
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    left = _temporaries(tmp_path)
    host = _io._host()
    if argv is EXPORT:
        assert len(left) >= 1 and left[0].startswith(f"out/.esca-export-{proc.pid}@{host}."), left
    else:
        assert len(left) == 1 and left[0].startswith(f".c.h5.{proc.pid}@{host}."), left
        assert left[0].endswith(".tmp")
    r = subprocess.run([sys.executable, "-m", "esca", *argv], cwd=tmp_path, capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert _temporaries(tmp_path) == []
    removed = [ln for ln in r.stdout.splitlines() if ln.startswith("removed ")]
    assert len(removed) == 1, r.stdout
    assert "left in" in removed[0] and "by esca processes that no longer run" in removed[0]
    assert os.path.basename(left[0]) in removed[0]


def test_remove_stale_temporaries_rules(tmp_path, caplog):
    """What counts as stale: a dead pid of this host at once; another host's, and the untagged
    export folders of earlier esca versions, only after STALE_SECONDS; never a live process's
    or a file of another program."""
    host = _io._host()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = time.time() - _io.STALE_SECONDS - 60
    names = {
        f".m.h5.{dead.pid}@{host}.abc123_x.tmp": True,  # this host, process gone
        f".m.h5.{os.getppid()}@{host}.abc123_x.tmp": False,  # this host, alive
        f".m.h5.{os.getpid()}@{host}.abc123_x.tmp": False,  # ours
        f".esca-export-{dead.pid}@{host}.k2j4h5g6": True,
        ".m.h5.1@other-node.abc123_x.tmp": False,  # another host, recent
        ".m.h5.2@other-node.abc123_x.tmp": True,  # another host, old
        ".esca-export-ab12cd34": True,  # esca before issue 13, old
        ".esca-export-ab12cd35": False,  # esca before issue 13, recent
        ".m.h5.abc123_x.tmp": False,  # untagged file: may be another program's
        ".notes.tmp": False,
        "m.h5": False,
    }
    for name in names:
        p = tmp_path / name
        if name.startswith(".esca-export-"):
            p.mkdir()
            (p / "phi.csv").write_bytes(b"x" * 1000)
        else:
            p.write_bytes(b"x" * 100)
    for name in (".m.h5.2@other-node.abc123_x.tmp", ".esca-export-ab12cd34"):
        os.utime(tmp_path / name, (old, old))
    with caplog.at_level("WARNING", logger="esca"):
        removed = _io.remove_stale_temporaries(tmp_path)
    assert sorted(os.path.basename(p) for p in removed) == sorted(n for n, s in names.items() if s)
    assert sorted(os.listdir(tmp_path)) == sorted(n for n, s in names.items() if not s)
    [record] = caplog.records
    assert record.getMessage().startswith(
        f"removed 2 temporary files and 2 temporary folders (0.0 MB) left in {tmp_path} by "
        "esca processes that no longer run: ")
    assert _io.remove_stale_temporaries(tmp_path) == []


def test_temporary_names_carry_pid_and_host(tmp_path):
    with _io.atomic_path(str(tmp_path / "m.h5")) as tmp:
        assert os.path.basename(tmp).startswith(f".m.h5.{os.getpid()}@{_io._host()}.")
        Path(tmp).write_bytes(b"x")
    assert "." not in _io._host() and "@" not in _io._host()
    assert os.listdir(tmp_path) == ["m.h5"]


def test_corpora_fetch_refuses_an_out_that_is_a_download(server, tmp_path):
    """``esca corpora fetch 20newsgroups --out`` naming the downloaded archive (earlier, the
    archive was replaced by the converted corpus, and the next fetch found it corrupt)."""
    from esca.corpora.fetch import Conversion, Pruning, Source, fetch_corpus
    data = make_20news_tarball()
    server.state.files["/ng/20news-bydate.tar.gz"] = data
    archive = tmp_path / "20newsgroups" / "20news-bydate.tar.gz"
    kwargs = dict(cache_dir=tmp_path,
                  source=Source(mirror=server.url + "/ng/", sha256={None: sha256(data)}),
                  conversion=Conversion(pruning=Pruning(no_below=1)))
    fetch_corpus("20newsgroups", convert=False, **kwargs)
    before = _files(tmp_path)
    with pytest.raises(UserError, match=r"^out .*20news-bydate\.tar\.gz would overwrite the "
                       r"input download .*20news-bydate\.tar\.gz; choose another path$"):
        fetch_corpus("20newsgroups", out=str(archive), **kwargs)
    assert archive.read_bytes() == data
    assert _files(tmp_path) == before
