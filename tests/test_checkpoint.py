"""Checkpoints and resume (issue 5): atomic files, bit-identical continuation, refusals.

A run of N iterations and a run of M < N iterations resumed to N must give the same counts,
priors and log-likelihood, bit for bit; damaged checkpoints are skipped; a different corpus
or conflicting settings are refused; SIGTERM stops at the end of an iteration with exit 75
after writing a checkpoint.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import esca
from esca.checkpoint import (
    check_fresh_folder,
    check_resume_folder,
    corpus_checksum,
    list_checkpoints,
    load_checkpoint,
    load_latest,
)
from esca.errors import (
    EXIT_INTERRUPTED,
    EXIT_IO_ERROR,
    CheckpointWriteError,
    Interrupted,
    ResumeError,
    WriteError,
    exit_status,
)

from helpers import SCRIPTS, assert_same_model

CORPUS = "builtin:wiki250"
#: Runs the command line with a SIGKILL inside one checkpoint write (the fault injected there).
CRASH_SCRIPT = SCRIPTS / "crash_in_checkpoint.py"


def _train(**kw):
    base = {"num_topics": 12, "seed": 4, "threads": 1, "eval_every": 0}
    return esca.train(CORPUS, **{**base, **kw})


@pytest.mark.parametrize("settings", [
    {"sampler": "esca", "kernel": "dense"},
    {"sampler": "esca", "kernel": "sparse"},
    {"sampler": "cgs"},
    {"sampler": "esca", "optimize_interval": 3, "optimize_burn_in": 4},
], ids=["esca-dense", "esca-sparse", "cgs", "optimized-priors"])
def test_resume_is_bit_identical(settings, tmp_path):
    full = _train(iterations=14, **settings)
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(tmp_path, every=4), **settings)
    resumed = esca.train(iterations=14, resume=tmp_path, threads=1, eval_every=0)
    assert_same_model(full, resumed)
    if "optimize_interval" in settings:
        assert not np.allclose(resumed.alpha, resumed.alpha[0])  # the priors really moved


def test_resume_keeps_the_default_burn_in_of_the_interrupted_run(tmp_path):
    """The default burn-in (a quarter of the iterations) is stored as a number: a run of 14
    iterations stopped after 9 and resumed keeps its burn-in of 3 and matches the
    uninterrupted run bit for bit; so does a checkpoint holding the old default, 200."""
    full = _train(iterations=14, optimize_interval=3)
    assert full.config.optimize_burn_in == 3

    def stop(rec):
        if rec["iteration"] == 9:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _train(iterations=14, optimize_interval=3,
               checkpoints=esca.CheckpointPolicy(tmp_path, every=4),
               callback=stop)
    assert load_latest(tmp_path).config.optimize_burn_in == 3
    resumed = esca.train(iterations=14, resume=tmp_path, threads=1, eval_every=0)
    assert resumed.config.optimize_burn_in == 3
    assert_same_model(full, resumed)
    assert not np.allclose(resumed.alpha, resumed.alpha[0])  # the priors really moved
    old = _train(iterations=12, optimize_interval=3, optimize_burn_in=200)
    _train(iterations=8, optimize_interval=3, optimize_burn_in=200,
           checkpoints=esca.CheckpointPolicy(tmp_path / "old", every=4))
    resumed = esca.train(iterations=12, resume=tmp_path / "old", threads=1, eval_every=0)
    assert resumed.config.optimize_burn_in == 200 and resumed.beta == 0.01
    assert_same_model(old, resumed)


def test_checkpoint_holds_the_state(tmp_path):
    model = _train(iterations=9, checkpoints=esca.CheckpointPolicy(tmp_path, every=3, keep=2))
    assert [it for it, _ in list_checkpoints(tmp_path)] == [9, 6]  # keep 2: 3 was removed
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    ck = load_latest(tmp_path)
    assert ck.iteration == 9 and ck.config.num_topics == 12 and ck.config.seed == 4
    assert ck.corpus_sha256 == corpus_checksum(esca.read_corpus(CORPUS))
    np.testing.assert_array_equal(ck.n_dk, model.n_dk)
    np.testing.assert_array_equal(ck.n_kw, model.n_kw)  # K x V, as the model
    with h5py.File(ck.path, "r") as f:  # the file keeps its (V, K) dataset n_wk
        np.testing.assert_array_equal(f["n_wk"][()], model.n_kw.T)
    np.testing.assert_array_equal(np.bincount(ck.z, minlength=12), model.n_k)
    with h5py.File(ck.path, "r") as f:
        assert f["z"].dtype == np.uint16 and f.attrs["format"] == "esca-checkpoint"
        assert list(f["log/iteration"][()]) == list(range(1, 10))


def _damage(path, how):
    path = Path(path)
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif how == "flipped":  # still a valid HDF5 file, but its state is not what it says
        with h5py.File(path, "r+") as f:
            z = f["z"][()]
            z[0] = (int(z[0]) + 1) % 12
            f["z"][...] = z
    else:
        path.write_bytes(b"not hdf5 at all")


@pytest.mark.parametrize("how", ["truncated", "flipped", "garbage"])
def test_damaged_newest_checkpoint_is_skipped(how, tmp_path, caplog):
    full = _train(iterations=12)
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(tmp_path, every=4))
    newest = list_checkpoints(tmp_path)[0][1]
    _damage(newest, how)
    with pytest.raises(esca.UserError):
        load_checkpoint(newest)
    with caplog.at_level("WARNING", logger="esca"):
        resumed = esca.train(iterations=12, resume=tmp_path, threads=1, eval_every=0)
    assert "skipping checkpoint" in caplog.text and os.path.basename(newest) in caplog.text
    assert_same_model(full, resumed)


def test_resume_refuses_another_corpus_and_conflicting_settings(tmp_path):
    _train(iterations=4, checkpoints=esca.CheckpointPolicy(tmp_path / "c", every=4))
    c = esca.read_corpus(CORPUS)
    other = tmp_path / "other.h5"
    word_ids = c.word_ids.copy()
    word_ids[0] = (word_ids[0] + 1) % c.num_words
    esca.write_corpus(str(other), c.doc_ptr, word_ids, c.vocab)
    with pytest.raises(esca.UserError, match="is not the corpus of checkpoint"):
        esca.train(str(other), iterations=8, resume=tmp_path / "c", threads=1)
    with pytest.raises(esca.UserError, match="num_topics=13"):
        esca.train(iterations=8, resume=tmp_path / "c", num_topics=13)
    with pytest.raises(esca.UserError, match="less than the 4 iterations"):
        esca.train(iterations=3, resume=tmp_path / "c")
    with pytest.raises(esca.UserError, match="no checkpoint in"):
        esca.train(iterations=8, resume=tmp_path)
    # equal settings are accepted, and so are more iterations, threads, eval_every
    m = esca.train(iterations=5, resume=tmp_path / "c", threads=1, eval_every=1,
                   num_topics=12, seed=4)
    assert len(m.log["seconds"]) == 5


def _cli(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "esca", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _run(args, **kw):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], capture_output=True,
                          text=True, check=False, timeout=300, **kw)


def _wait_for_checkpoint(directory, proc, timeout=120):
    t0 = time.monotonic()
    while not list_checkpoints(directory):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "no checkpoint written"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_a_checkpoint(sig, tmp_path):
    """A scheduler's preemption: the run stops at the end of an iteration, writes a checkpoint
    of that iteration, exits with 75, and the resumed run equals an uninterrupted one."""
    ck = tmp_path / "ck"
    args = ["train", CORPUS, "-k", 12, "--seed", 4, "--threads", 1, "--eval-every", 0,
            "--top", 0, "--checkpoint-every", 100, "--checkpoint-dir", ck]
    proc = _cli([*args, "-n", 100000, "--out", tmp_path / "never.h5"])
    _wait_for_checkpoint(ck, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert err.count("esca: stopped:") == 1 and signal.Signals(sig).name in err
    assert "Traceback" not in err and not (tmp_path / "never.h5").exists()
    stopped = int(re.search(r"stopped after iteration (\d+) of", err).group(1))
    assert load_latest(ck).iteration == stopped >= 100  # a checkpoint of the stop itself
    total = stopped + 7
    r = _run(["train", "--resume", ck, "-n", total, "--threads", 1, "--top", 0,
              "--out", tmp_path / "resumed.h5"])
    assert r.returncode == 0, r.stderr
    full = _train(iterations=total)
    assert_same_model(full, esca.load_model(str(tmp_path / "resumed.h5")))


def test_crash_during_checkpoint_write_keeps_the_previous_one(tmp_path):
    """SIGKILL in the middle of writing checkpoint 8 leaves checkpoint 4 loadable."""
    ck = tmp_path / "ck"
    r = subprocess.run([sys.executable, CRASH_SCRIPT, "8", *map(str, [
        "train", CORPUS, "-k", 12, "--seed", 4, "--threads", 1, "--eval-every", 0, "--top", 0,
        "-n", 12, "--checkpoint-every", 4, "--checkpoint-dir", ck])],
        capture_output=True, text=True, check=False, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert [it for it, _ in list_checkpoints(ck)] == [4]
    assert any(n.startswith(".checkpoint-000000008") for n in os.listdir(ck))  # the torn file
    assert load_latest(ck).iteration == 4
    resumed = esca.train(iterations=12, resume=ck, threads=1, eval_every=0)
    assert_same_model(_train(iterations=12), resumed)


def test_cli_resume_refuses_conflicts_in_one_line(tmp_path):
    ck = tmp_path / "ck"
    r = _run(["train", "-k", 6, "-n", 2, "--threads", 1, "--top", 0, "--checkpoint-every", 2,
              "--checkpoint-dir", ck])
    assert r.returncode == 0, r.stderr
    out = tmp_path / "m.h5"
    out.write_bytes(b"an earlier model")
    r = _run(["train", "--resume", ck, "-n", 4, "-k", 7, "--beta", 0.01, "--top", 0,
              "--out", out])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "num_topics=7 (checkpoint: 6)" in r.stderr and "beta" not in r.stderr
    assert out.read_bytes() == b"an earlier model"


def test_interrupted_in_python_names_parameters_and_carries_the_stop(tmp_path):
    """SIGINT with handle_signals: a checkpoint and the model of the last finished iteration
    are written, and Interrupted says where with parameter names (the CLI says it with its
    flags) and carries the model, iteration and paths."""
    def interrupt(rec):
        if rec["iteration"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    policy = esca.CheckpointPolicy(tmp_path / "ck", model_on_interrupt=tmp_path / "m.h5")
    with pytest.raises(Interrupted) as info:
        _train(iterations=10, checkpoints=policy, handle_signals=True, callback=interrupt,
               progress=False)
    e = info.value
    assert str(e) == (f"SIGINT received: stopped after iteration 3 of 10; its checkpoint is in "
                      f"{tmp_path / 'ck'} (continue with resume=that folder); model of "
                      f"iteration 3 written to {tmp_path / 'm.h5'} (continue with "
                      "resume=that file, iterations=10)")
    assert "--" not in str(e)
    assert (e.signal, e.iteration, e.iterations) == ("SIGINT", 3, 10)
    assert (e.checkpoint_dir, e.model_path) == (str(tmp_path / "ck"), str(tmp_path / "m.h5"))
    assert e.model.config.iterations == 3 and load_latest(tmp_path / "ck").iteration == 3
    full = _train(iterations=10)
    assert_same_model(full, esca.train(resume=tmp_path / "ck", iterations=10, threads=1,
                                       eval_every=0))
    assert_same_model(full, esca.train(resume=tmp_path / "m.h5", iterations=10, threads=1,
                                       eval_every=0))


def test_checkpoint_folder_refusals_name_parameters_and_the_cli_says_flags(tmp_path):
    """The library's refusals of a checkpoint folder name resume= and checkpoints.directory;
    ResumeError.named says the CLI's flags instead (what esca train prints, docs/errors.md);
    one built from its message alone (how the other ranks re-raise it) stays as it is."""
    ck = tmp_path / "ck"
    _train(iterations=2, checkpoints=esca.CheckpointPolicy(ck, every=2))
    with pytest.raises(ResumeError) as info:
        _train(iterations=2, checkpoints=esca.CheckpointPolicy(ck, every=2))
    e = info.value
    assert (e.reason, e.directory, e.iteration) == (ResumeError.SAME_RUN, str(ck), 2)
    assert str(e) == (f"checkpoint folder {ck} already holds checkpoints of this same run (up "
                      f"to iteration 2): continue it with resume={ck}, or use a new "
                      "checkpoints.directory to start it over (a new run would overwrite them)")
    cli = e.named("--resume", "--checkpoint-dir")
    assert isinstance(cli, esca.UserError) and cli.reason == ResumeError.SAME_RUN
    assert str(cli) == (f"checkpoint folder {ck} already holds checkpoints of this same run (up "
                        f"to iteration 2): continue it with --resume {ck}, or use a new "
                        "--checkpoint-dir to start it over (a new run would overwrite them)")
    bare = ResumeError(str(e))
    assert bare.named("--resume", "--checkpoint-dir") is bare and str(bare) == str(e)

    with pytest.raises(ResumeError) as info:  # continuing another run over its checkpoint 2
        check_resume_folder(str(ck), "0" * 64, 1, 4)
    e = info.value
    assert e.reason == ResumeError.WOULD_OVERWRITE and str(e).endswith(
        "which continuing this run to iteration 4 could overwrite: move it away or give "
        "another checkpoints.directory")
    assert str(e.named("--resume", "--checkpoint-dir")).endswith("give another --checkpoint-dir")

    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "checkpoint-000000001.h5").write_bytes(b"not HDF5")
    with pytest.raises(ResumeError) as info:
        check_fresh_folder(tmp_path / "junk", "0" * 64)
    assert info.value.files == ("checkpoint-000000001.h5",)
    assert str(info.value).endswith("move them away or use a new checkpoints.directory")
    assert str(info.value.named("--resume", "--checkpoint-dir")).endswith(
        "move them away or use a new --checkpoint-dir")


def test_failed_checkpoint_write_names_parameters(tmp_path, monkeypatch):
    """A checkpoint that cannot be written (a full disk, injected here) stops the run with a
    CheckpointWriteError (a WriteError: exit status 74) naming the checkpoint left and how to
    continue, with parameters; esca train says its command line instead (test_full_disk)."""
    train_module = sys.modules["esca.train"]  # esca.train is the function
    write = train_module.write_checkpoint

    fits = {"up_to": 2}  # the checkpoints of iterations up to this one are written

    def full_disk(directory, state, keep=3):
        if state.iteration > fits["up_to"]:
            raise WriteError(f"cannot write {directory}: no space left on device")
        return write(directory, state, keep=keep)

    monkeypatch.setattr(train_module, "write_checkpoint", full_disk)
    ck = tmp_path / "ck"
    with pytest.raises(CheckpointWriteError) as info:
        _train(iterations=6, checkpoints=esca.CheckpointPolicy(ck, every=2))
    e = info.value
    assert exit_status(e) == EXIT_IO_ERROR
    assert str(e) == (f"cannot write {ck}: no space left on device; the last checkpoint, "
                      f"{ck / 'checkpoint-000000002.h5'} (iteration 2), is intact; free space "
                      f"and resume with: resume={ck}, iterations=6")
    assert (e.directory, e.iterations, e.last[0]) == (str(ck), 6, 2)
    cli = e.named(f"esca train --resume {ck} -n 6")
    assert isinstance(cli, WriteError) and str(cli) == str(e).replace(
        f"resume={ck}, iterations=6", f"esca train --resume {ck} -n 6")
    bare = CheckpointWriteError(str(e))
    assert bare.named("esca train") is bare and str(bare) == str(e)

    fits["up_to"] = 0
    with pytest.raises(CheckpointWriteError, match=f"; no checkpoint in {tmp_path / 'new'} "
                       "yet$"):
        _train(iterations=6, checkpoints=esca.CheckpointPolicy(tmp_path / "new", every=2))
