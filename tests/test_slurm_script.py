"""``experiments/slurm_train.sbatch`` run as Slurm would, with stand-ins for srun and scontrol.

The stand-in ``srun`` drops srun's own options and runs the command under a real
``mpiexec -n $SLURM_NTASKS``; ``scontrol`` records its arguments. The second test stops the
job with SIGTERM (what ``--signal=TERM@300`` does before the time limit), checks that the
script asks for a requeue, runs it again as the requeued job, and compares the final model
with an uninterrupted one-rank run.
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

from helpers import MPIEXEC, child_env, needs_mpiexec

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "slurm_train.sbatch"
ACTIVATE = Path(sys.prefix) / "bin" / "activate"
pytestmark = [pytest.mark.mpi,
              needs_mpiexec,
              pytest.mark.skipif(not ACTIVATE.exists(), reason="python is not in a venv")]

SRUN = """#!/bin/bash
while [[ "$1" == -* ]]; do shift; done   # srun's own options
echo $$ > "$FAKE_SLURM_DIR/srun.pid"
exec {mpiexec} -n "$SLURM_NTASKS" "$@"
"""
SCONTROL = """#!/bin/bash
echo "$@" >> "$FAKE_SLURM_DIR/scontrol.log"
"""


def fake_slurm(tmp_path, iterations, checkpoint_every):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("srun", SRUN.format(mpiexec=MPIEXEC)), ("scontrol", SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = child_env()
    env.update(PATH=f"{bin_dir}:{Path(sys.executable).parent}:{env['PATH']}",
               FAKE_SLURM_DIR=str(tmp_path), ESCA_VENV=sys.prefix, SLURM_NTASKS="2",
               SLURM_NTASKS_PER_NODE="2", SLURM_CPUS_PER_TASK="1", SLURM_JOB_ID="4242",
               K="5", ITERATIONS=str(iterations), CHECKPOINT_EVERY=str(checkpoint_every))
    return env


def sbatch(tmp_path, env):
    """Run the script as the batch step; returns the running process."""
    return subprocess.Popen(["bash", str(SCRIPT), "builtin:wiki250", "model.h5"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(proc, timeout=300):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the job hung\n{out}\n{err}")
    return proc.returncode, out, err


def test_job_trains_on_two_ranks(tmp_path):
    env = fake_slurm(tmp_path, iterations=30, checkpoint_every=10)
    code, out, err = finish(sbatch(tmp_path, env))
    assert code == 0, out + err
    assert "ranks:          2" in out  # srun esca info: once, from rank 0
    assert out.count("MPI library:") == 1
    model = esca.load_model(tmp_path / "model.h5")
    assert model.info["ranks"] == 2 and model.info["threads"] == 1
    assert model.config.iterations == 30 and model.config.optimize_interval == 10
    assert sorted(p.name for p in (tmp_path / "model.checkpoints").iterdir()
                  if p.suffix == ".h5") == ["checkpoint-000000020.h5", "checkpoint-000000030.h5"]
    assert not (tmp_path / "scontrol.log").exists()


def test_sigterm_requeues_and_resumes(tmp_path):
    iterations = 600
    env = fake_slurm(tmp_path, iterations=iterations, checkpoint_every=50)
    proc = sbatch(tmp_path, env)
    ckpt = tmp_path / "model.checkpoints"
    deadline = time.monotonic() + 240
    while not (ckpt.is_dir() and any(p.suffix == ".h5" for p in ckpt.iterdir())):
        assert proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    os.kill(int((tmp_path / "srun.pid").read_text()), signal.SIGTERM)  # Slurm's --signal
    code, out, err = finish(proc)
    assert code == 75, out + err
    assert "stopped" in err and err.count("esca: stopped:") == 1
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    assert not (tmp_path / "model.h5").exists()

    code, out, err = finish(sbatch(tmp_path, env))  # the requeued job
    assert code == 0, out + err
    assert "resumed from" in out
    resumed = esca.load_model(tmp_path / "model.h5")
    straight = esca.train("builtin:wiki250", num_topics=5, iterations=iterations, threads=1,
                          optimize_interval=10, optimize_burn_in=50)
    np.testing.assert_array_equal(resumed.n_kw, straight.n_kw)
    np.testing.assert_array_equal(resumed.n_dk, straight.n_dk)
    np.testing.assert_array_equal(resumed.alpha, straight.alpha)
    assert resumed.beta == straight.beta
