"""``esca info``: the bug-report header, at one rank and under a real ``mpiexec -n 2``."""

import json
import sys

import mpi4py
import numba
import numpy as np
import pytest

import esca
from esca.sysinfo import format_info, system_info

from helpers import check_ok, esca_cmd, needs_mpiexec, run


def test_system_info_facts():
    info = system_info()
    v = info["versions"]
    assert v["esca"] == esca.__version__
    assert v["numpy"] == np.__version__ and v["numba"] == numba.__version__
    assert v["mpi4py"] == mpi4py.__version__
    assert info["ranks"] == 1 and info["ranks_on_node"] == 1
    assert info["numba_threading_layer"] in ("omp", "tbb", "workqueue")
    assert 1 <= info["numba_threads"] <= info["numba_max_threads"]
    assert info["mpi_library"] and info["mpi_standard"].count(".") == 1
    assert info["cores"] >= 1 and info["memory_bytes"] > 2**26
    text = format_info(info)
    for needle in ("numba", "mpi4py", "h5py", "MPI library:", "ranks:          1",
                   f"threading layer {info['numba_threading_layer']}", "CPU:"):
        assert needle in text


def test_cli_info_runs(tmp_path):
    r, _ = run([sys.executable, "-m", "esca", "info"], tmp_path)
    check_ok(r)
    assert r.stdout.startswith(f"esca {esca.__version__}")
    r, _ = run([sys.executable, "-m", "esca", "info", "--json"], tmp_path)
    check_ok(r)
    info = json.loads(r.stdout)
    assert info["ranks"] == 1 and info["versions"]["h5py"]


@pytest.mark.mpi
@needs_mpiexec
def test_cli_info_two_ranks(tmp_path):
    r, _ = run(esca_cmd(["info"], 2), tmp_path)
    check_ok(r)
    assert r.stdout.count("esca " + esca.__version__) == 1  # printed once, by rank 0
    assert "ranks:          2 (2 on this node)" in r.stdout
    assert "rank 0:" in r.stdout and "rank 1:" in r.stdout
    # the default training threads split the node's cores among its ranks
    cores = int(r.stdout.split("usable cores")[0].rsplit(",", 1)[1])
    assert f"{max(1, cores // 2)} training threads" in r.stdout
