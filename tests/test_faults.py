"""Faults under real ``mpiexec -n 2``: a killed rank, a crash inside a checkpoint write,
SIGTERM to the job, and resuming at another number of ranks (issue 5).

Each job runs in its own process group with a timeout (see ``helpers.run``), so a hang in a
collective fails the test instead of blocking CI. After every fault, resuming from the
checkpoint folder must give exactly the model of an uninterrupted one-rank run.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

import esca
from esca.checkpoint import list_checkpoints, load_latest
from esca.errors import EXIT_INTERRUPTED

from helpers import (
    MPIEXEC,
    SCRIPTS,
    assert_same_model,
    check_ok,
    child_env,
    esca_cmd,
    needs_mpiexec,
    run,
)

CRASH_SCRIPT = SCRIPTS / "crash_in_checkpoint.py"

pytestmark = [pytest.mark.mpi, needs_mpiexec]

CORPUS = "builtin:wiki250"
TRAIN = ["train", CORPUS, "-k", 12, "--seed", 4, "--threads", 1, "--eval-every", 0, "--top", 0]
JOB_END_TIMEOUT = 60  # seconds for a job to end after one of its ranks died


def uninterrupted(iterations):
    return esca.train(CORPUS, num_topics=12, seed=4, threads=1, eval_every=0,
                      iterations=iterations)


def resume(ck, iterations, ranks, tmp_path):
    out = tmp_path / f"resumed-{ranks}.h5"
    r, _ = run(esca_cmd(["train", "--resume", ck, "-n", iterations, "--threads", 1, "--top", 0,
                         "--out", out], ranks), tmp_path)
    check_ok(r)
    return esca.load_model(str(out))


def _start(args, tmp_path, cmd=None, **env):
    """Start ``esca ARGS`` under ``mpiexec -n 2`` (``cmd``: another command line instead)."""
    return subprocess.Popen([str(a) for a in cmd or esca_cmd(args, 2)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(**env), start_new_session=True)


def _finish(proc, timeout):
    """(returncode, stderr, seconds); kills the process group and fails on a timeout."""
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the job did not end within {timeout} s (hang in a collective?)")
    return proc.returncode, err, time.monotonic() - t0


def _wait_for_checkpoint(ck, proc, at_least=1, timeout=120):
    t0 = time.monotonic()
    while not list_checkpoints(ck) or list_checkpoints(ck)[0][0] < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "no checkpoint written"
        time.sleep(0.02)


def _rank_pid(marker, rank):
    """The pid of the MPI rank ``rank`` whose command line contains ``marker``."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if marker in cmd and "esca" in cmd and f"PMI_RANK={rank}".encode() in env:
            return int(pid)
    return None


@pytest.mark.parametrize("first,then", [(1, 2), (2, 1)])
def test_resume_at_another_number_of_ranks(first, then, tmp_path):
    ck = tmp_path / "ck"
    r, _ = run(esca_cmd([*TRAIN, "-n", 10, "--checkpoint-every", 5, "--checkpoint-dir", ck],
                        first), tmp_path)
    check_ok(r)
    assert load_latest(ck).ranks == first
    assert_same_model(uninterrupted(17), resume(ck, 17, then, tmp_path))


def test_kill_one_rank_mid_run_ends_the_job_and_resume_is_identical(tmp_path):
    """kill -9 of rank 1 while the job sweeps: the job ends non-zero within a bounded time,
    and resuming from the last checkpoint gives the uninterrupted model."""
    ck = tmp_path / "ck"
    proc = _start([*TRAIN, "-n", 100000, "--checkpoint-every", 40, "--checkpoint-dir", ck],
                  tmp_path)
    _wait_for_checkpoint(ck, proc, at_least=80)
    pid = _rank_pid(str(ck), 1)
    assert pid is not None, "rank 1 not found"
    os.kill(pid, signal.SIGKILL)
    code, _, seconds = _finish(proc, JOB_END_TIMEOUT)
    assert code != 0 and seconds < JOB_END_TIMEOUT
    done = load_latest(ck).iteration
    assert done >= 80
    assert_same_model(uninterrupted(done + 30), resume(ck, done + 30, 2, tmp_path))


def test_crash_inside_a_checkpoint_write_under_mpi(tmp_path):
    """Rank 0 dies (SIGKILL) half-way through writing checkpoint 20: the job ends, checkpoint
    10 is intact, and resuming gives the uninterrupted model."""
    ck = tmp_path / "ck"
    args = [*TRAIN, "-n", 40, "--checkpoint-every", 10, "--checkpoint-dir", ck]
    proc = _start(args, tmp_path, cmd=[MPIEXEC, "-n", 2, sys.executable, CRASH_SCRIPT, 20, *args])
    code, _, _ = _finish(proc, JOB_END_TIMEOUT + 60)
    assert code != 0
    assert [it for it, _ in list_checkpoints(ck)] == [10]
    assert any(n.startswith(".checkpoint-000000020") for n in os.listdir(ck))
    assert_same_model(uninterrupted(40), resume(ck, 40, 2, tmp_path))


def test_sigterm_to_the_job_stops_it_cleanly(tmp_path):
    """SIGTERM to mpiexec (as a scheduler sends it) reaches both ranks: they agree to stop at
    the end of the same iteration, write one checkpoint of it and exit with 75."""
    ck = tmp_path / "ck"
    proc = _start([*TRAIN, "-n", 100000, "--checkpoint-every", 50, "--checkpoint-dir", ck],
                  tmp_path)
    _wait_for_checkpoint(ck, proc, at_least=50)
    proc.send_signal(signal.SIGTERM)
    code, err, _ = _finish(proc, JOB_END_TIMEOUT)
    assert code == EXIT_INTERRUPTED, err
    assert err.count("esca: stopped:") == 1, err
    stopped = load_latest(ck).iteration
    assert f"stopped after iteration {stopped} of" in err
    assert_same_model(uninterrupted(stopped + 9), resume(ck, stopped + 9, 1, tmp_path))
