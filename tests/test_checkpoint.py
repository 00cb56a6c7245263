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
    corpus_checksum,
    list_checkpoints,
    load_checkpoint,
    load_latest,
)
from esca.errors import EXIT_INTERRUPTED, Interrupted

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
