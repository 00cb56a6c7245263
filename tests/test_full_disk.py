"""A full disk (issue 13.1): every command that writes ends with one line and exit status 74.

Each test mounts a 3 MB tmpfs (so it runs as root only; otherwise it is skipped with the
reason), fills it with a filler file to leave a chosen number of bytes free, and runs real
``python -m esca ...`` subprocesses (``mpiexec -n 2`` for the checkpoint case) that write
onto it. Each must end with

* exit status 74 (``EX_IOERR``, :data:`esca.errors.EXIT_IO_ERROR`), no segmentation fault;
* standard error exactly one line ``esca: error: cannot write PATH: no space left on device``,
  no traceback;
* no temporary file (``*.tmp``) or export folder (``.esca-export-*``) left, no new empty
  output folder, and every earlier file of the small file system byte-identical.

A full disk while writing the trained model keeps the training: the model goes to the
checkpoint folder, or the message names the last intact checkpoint, from which ``--resume``
gives exactly the uninterrupted model. Before issue 13.1, HDF5 writes ended in a segmentation
fault (exit 139) after h5py ``OSError: [Errno 28]`` tracebacks, leaving ``.NAME.h5.*.tmp``.
"""

import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import esca
from esca.checkpoint import list_checkpoints, load_checkpoint
from esca.errors import EXIT_IO_ERROR, WriteError

from helpers import assert_same_model, esca_cmd, needs_mpiexec, run

SIZE = 3 << 20  # bytes of the small file system
TRAIN = ["-k", 10, "--seed", 3, "--threads", 1, "--eval-every", 0, "--top", 0, "--quiet"]


@pytest.fixture
def small_fs(tmp_path):
    """A 3 MB tmpfs mounted in ``tmp_path/fs`` (root only), unmounted after the test."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a full disk is tested on a Linux tmpfs")
    if os.geteuid() != 0:
        pytest.skip("a full disk is tested on a small tmpfs, which only root can mount")
    fs = tmp_path / "fs"
    fs.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(fs)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        yield fs
    finally:
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)


def fill(fs, leave):
    """Fill ``fs`` with ``fs/filler`` so that about ``leave`` bytes stay free."""
    free = shutil.disk_usage(fs).free
    with open(fs / "filler", "ab") as f:
        f.write(b"\0" * max(free - leave, 0))
    assert shutil.disk_usage(fs).free <= leave + 4096


def snapshot(fs):
    """Every file under ``fs`` (relative path -> SHA-256), folders included as None."""
    out = {}
    for root, dirs, files in os.walk(fs):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), fs)] = None
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, fs)] = hashlib.sha256(f.read()).hexdigest()
    return out


def check_full_disk(r, fs, before, names):
    """Exit 74, one line naming ``names`` and the full disk, no traceback, ``fs`` unchanged."""
    assert r.returncode == EXIT_IO_ERROR, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("esca: error: cannot write "), r.stderr
    assert "no space left on device" in lines[0]
    for name in names:
        assert str(name) in lines[0], lines[0]
    after = snapshot(fs)
    left = [p for p in after if p.endswith(".tmp") or ".esca-export-" in p]
    assert not left, f"temporary files left behind: {left}"
    assert after == before
    return lines[0]


def esca_run(args, cwd, ranks=1):
    r, _ = run(esca_cmd(args, ranks), cwd)
    return r


@pytest.fixture
def corpus(tmp_path):
    """A random corpus on the normal disk: D=400, V=3000, N=120000 (about 0.5 MB)."""
    rng = np.random.default_rng(7)
    lens = rng.integers(200, 400, size=400)
    doc_ptr = np.concatenate([[0], np.cumsum(lens)])
    word_ids = rng.integers(0, 3000, size=int(doc_ptr[-1])).astype(np.int32)
    path = tmp_path / "c.h5"
    esca.write_corpus(str(path), doc_ptr, word_ids, [f"w{i}" for i in range(3000)])
    return path


@pytest.fixture
def model(tmp_path, corpus):
    path = tmp_path / "m.h5"
    esca.train(str(corpus), num_topics=10, iterations=3, seed=3, threads=1).save(str(path))
    return path


def test_prepare(tmp_path, small_fs):
    """A corpus that does not fit: one line with the size needed, the earlier corpus kept."""
    rng = np.random.default_rng(1)
    text = tmp_path / "docs.txt"
    words = np.array([f"word{i}" for i in range(5000)])
    text.write_text("\n".join(" ".join(words[rng.integers(0, 5000, 300)]) for _ in range(1500)))
    (small_fs / "c.h5").write_bytes(b"an earlier corpus\n")
    fill(small_fs, 600_000)
    before = snapshot(small_fs)
    r = esca_run(["prepare", text, "--format", "text", "--out", small_fs / "c.h5"], tmp_path)
    assert "needs at least" in check_full_disk(r, small_fs, before, [small_fs / "c.h5"])


def test_prepare_that_fits_is_the_same_file(tmp_path, small_fs, corpus):
    """The space reserved for HDF5 ahead of its writes is given back: a corpus written onto
    the small file system is byte-identical to one written elsewhere."""
    args = ["prepare", "--format", "uci", "--vocab", tmp_path / "vocab.txt"]
    c = esca.read_corpus(str(corpus))
    (tmp_path / "vocab.txt").write_text("\n".join(c.vocab) + "\n")
    counts = []
    for d in range(c.num_docs):
        ids, n = np.unique(c.word_ids[c.doc_ptr[d]:c.doc_ptr[d + 1]], return_counts=True)
        counts += [f"{d + 1} {i + 1} {k}" for i, k in zip(ids, n, strict=True)]
    (tmp_path / "docword.txt").write_text(f"{c.num_docs}\n{c.num_words}\n{len(counts)}\n"
                                          + "\n".join(counts) + "\n")
    for out in (tmp_path / "a.h5", small_fs / "a.h5"):
        r = esca_run([*args, tmp_path / "docword.txt", "--out", out], tmp_path)
        assert r.returncode == 0, r.stderr
    assert (small_fs / "a.h5").read_bytes() == (tmp_path / "a.h5").read_bytes()


def test_train_out_without_checkpoints(tmp_path, small_fs, corpus):
    (small_fs / "m.h5").write_bytes(b"an earlier model\n")
    fill(small_fs, 8192)
    before = snapshot(small_fs)
    r = esca_run(["train", corpus, "-n", 3, *TRAIN, "--out", small_fs / "m.h5"], tmp_path)
    line = check_full_disk(r, small_fs, before, [small_fs / "m.h5"])
    assert "the trained model was not saved (no --checkpoint-dir)" in line


def test_train_out_goes_to_the_checkpoint_folder(tmp_path, small_fs, corpus):
    """--out on a full disk: the model is written into --checkpoint-dir instead."""
    fill(small_fs, 8192)
    before = snapshot(small_fs)
    ck = tmp_path / "ck"
    r = esca_run(["train", corpus, "-n", 4, *TRAIN, "--checkpoint-every", 2,
                  "--checkpoint-dir", ck, "--out", small_fs / "m.h5"], tmp_path)
    line = check_full_disk(r, small_fs, before, [small_fs / "m.h5"])
    assert line.endswith(f"the model was written to {ck / 'm.h5'} instead"), line
    expected = esca.train(str(corpus), num_topics=10, iterations=4, seed=3, threads=1,
                          eval_every=0)
    assert_same_model(expected, esca.load_model(str(ck / "m.h5")))


@pytest.mark.parametrize("ranks", [1, pytest.param(2, marks=[pytest.mark.mpi, needs_mpiexec])])
def test_checkpoints_fill_the_disk(tmp_path, small_fs, corpus, ranks):
    """Checkpoints every iteration fill the disk after a few: the run ends on every rank with
    one line naming the last intact checkpoint; no older checkpoint was pruned or damaged, and
    resuming from it (after freeing space) gives exactly the uninterrupted model."""
    ck = small_fs / "ck"
    fill(small_fs, 700_000)
    r = esca_run(["train", corpus, "-n", 40, *TRAIN, "--checkpoint-every", 1,
                  "--keep-checkpoints", 100, "--checkpoint-dir", ck,
                  "--out", tmp_path / "m.h5"], tmp_path, ranks)
    assert not (tmp_path / "m.h5").exists()
    kept = list_checkpoints(str(ck))
    assert len(kept) >= 2 and len(kept) < 40
    last_it, last = kept[0]
    assert [it for it, _ in kept] == list(range(last_it, 0, -1))  # none pruned
    check_full_disk(r, small_fs, snapshot(small_fs), [ck / f"checkpoint-{last_it + 1:09d}.h5"])
    assert (f"the last checkpoint, {last} (iteration {last_it}), is intact; free space and "
            f"resume with: esca train --resume {ck} -n 40") in r.stderr
    for _, path in kept:
        load_checkpoint(path)  # verifies the state checksum
    for _, path in kept[1:]:
        os.unlink(path)
    r = esca_run(["train", "--resume", ck, "-n", 6 + last_it, "--threads", 1, "--top", 0,
                  "--keep-checkpoints", 1, "--out", tmp_path / "resumed.h5"], tmp_path)
    assert r.returncode == 0, r.stderr
    expected = esca.train(str(corpus), num_topics=10, iterations=6 + last_it, seed=3,
                          threads=1, eval_every=0)
    assert_same_model(expected, esca.load_model(str(tmp_path / "resumed.h5")))


@pytest.mark.parametrize("fmt", ["gensim", "mallet", "csv", "pyldavis"])
def test_export(tmp_path, small_fs, model, fmt):
    """An earlier export survives; a new folder is not left behind."""
    if fmt == "pyldavis":
        pytest.importorskip("pyLDAvis")
    out = small_fs / ("old.html" if fmt == "pyldavis" else "old")
    r = esca_run(["export", model, "--format", fmt, "--out", out], tmp_path)
    assert r.returncode == 0, r.stderr
    fill(small_fs, 4096)
    before = snapshot(small_fs)
    r = esca_run(["export", model, "--format", fmt, "--out", out], tmp_path)
    check_full_disk(r, small_fs, before, [out])
    if fmt != "pyldavis":
        r = esca_run(["export", model, "--format", fmt, "--out", small_fs / "new"], tmp_path)
        check_full_disk(r, small_fs, before, [small_fs / "new"])


def test_plot(tmp_path, small_fs, model):
    (small_fs / "plots").mkdir()
    (small_fs / "plots" / "top_words.png").write_bytes(b"an earlier plot\n")
    fill(small_fs, 30_000)  # room for one plot of four
    before = snapshot(small_fs)
    r = esca_run(["plot", model, "--out", small_fs / "new"], tmp_path)
    check_full_disk(r, small_fs, before, [small_fs / "new"])
    fill(small_fs, 4096)
    before = snapshot(small_fs)
    r = esca_run(["plot", model, "--out", small_fs / "plots"], tmp_path)
    check_full_disk(r, small_fs, before, [small_fs / "plots"])


@pytest.mark.parametrize("name", ["theta.h5", "theta.csv"])
def test_infer(tmp_path, small_fs, model, corpus, name):
    fill(small_fs, 4096)
    before = snapshot(small_fs)
    r = esca_run(["infer", model, corpus, "--sweeps", 4, "--burn-in", 2, "--out", small_fs / name],
                 tmp_path)
    check_full_disk(r, small_fs, before, [small_fs / name])


def test_save_keeps_the_model_for_the_caller(tmp_path, small_fs, model):
    """TopicModel.save on a full disk raises WriteError (a UserError); the model is intact
    and can be saved elsewhere."""
    m = esca.load_model(str(model))
    fill(small_fs, 4096)
    before = snapshot(small_fs)
    with pytest.raises(WriteError, match=r"cannot write .*m2\.h5: no space left on device "
                                         r"\(needs about"):
        m.save(str(small_fs / "m2.h5"))
    assert snapshot(small_fs) == before
    m.save(str(tmp_path / "m2.h5"))
    assert_same_model(m, esca.load_model(str(tmp_path / "m2.h5")))


def test_interrupted_run_whose_model_does_not_fit(small_fs, corpus):
    """esca.train with CheckpointPolicy(model_on_interrupt=...) on a full disk: WriteError
    names the file, says where training stopped, and carries the model of the last finished
    iteration."""
    import signal

    def interrupt(rec):
        if rec["iteration"] == 2:
            os.kill(os.getpid(), signal.SIGINT)

    fill(small_fs, 4096)
    before = snapshot(small_fs)
    with pytest.raises(WriteError, match=r"SIGINT received: stopped after iteration 2 of 6, but "
                                         r"the model could not be saved: cannot write .*m\.h5: "
                                         r"no space left on device") as info:
        esca.train(str(corpus), num_topics=10, iterations=6, seed=3, threads=1,
                   handle_signals=True,
                   checkpoints=esca.CheckpointPolicy(model_on_interrupt=small_fs / "m.h5"),
                   callback=interrupt, progress=False)
    assert snapshot(small_fs) == before
    assert info.value.model is not None and info.value.model.config.iterations == 2
    expected = esca.train(str(corpus), num_topics=10, iterations=2, seed=3, threads=1)
    np.testing.assert_array_equal(info.value.model.n_kw, expected.n_kw)
