"""Issue 13.5: the memory available honours cgroup limits and ulimit, and esca prepare
refuses a bag-of-words document whose expansion would not fit, before expanding it."""

import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from esca import memory
from esca.errors import UserError

GiB = 2**30


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    """Point esca.memory at fake /proc files and a fake cgroup mount under tmp_path; no
    ulimit. Returns a function writing the files."""
    import resource
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "meminfo").write_text(f"MemTotal: {64 * 2**20} kB\nMemAvailable: {32 * 2**20} kB\n")
    (proc / "status").write_text("VmSize:\t 1048576 kB\nVmData:\t 524288 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", str(proc / "meminfo"))
    monkeypatch.setattr(memory, "PROC_STATUS", str(proc / "status"))
    monkeypatch.setattr(memory, "PROC_CGROUP", str(proc / "cgroup"))
    monkeypatch.setattr(memory, "PROC_MOUNTINFO", str(proc / "mountinfo"))
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    monkeypatch.setattr(resource, "getrlimit", lambda which: unlimited)

    def write(cgroup, mountinfo, files):
        (proc / "cgroup").write_text(cgroup)
        (proc / "mountinfo").write_text(mountinfo)
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return write


def test_cgroup_v2_limit_of_an_ancestor_applies(fake_proc, tmp_path):
    """Slurm puts the job's --mem on the job cgroup and runs the step in a child: the
    smallest limit up the tree counts, minus the usage that cannot be reclaimed."""
    cg = tmp_path / "cg2"
    fake_proc("0::/slurm/job_7/step_0\n",
              f"41 23 0:38 / {cg} rw,relatime - cgroup2 cgroup2 rw\n",
              {"cg2/slurm/job_7/step_0/memory.max": "max\n",
               "cg2/slurm/job_7/step_0/memory.current": f"{GiB}\n",
               "cg2/slurm/job_7/memory.max": f"{4 * GiB}\n",
               "cg2/slurm/job_7/memory.current": f"{3 * GiB}\n",
               "cg2/slurm/job_7/memory.stat": f"anon 1\ninactive_file {GiB}\nactive_file 5\n",
               "cg2/slurm/memory.max": "max\n"})
    limits = memory.memory_limits()
    assert limits[0] == (2 * GiB, f"cgroup limit 4.0 GiB in {cg}/slurm/job_7/memory.max")
    assert (32 * GiB, "MemAvailable") in limits
    assert memory.available_memory() == 2 * GiB
    with pytest.raises(UserError) as e:
        memory.check_memory(1000, 100_000, 10**6, 5000)  # about 3.8 GiB
    msg = str(e.value)
    assert "on this node" in msg and "only 2.0 GiB is available (cgroup limit 4.0 GiB in " \
        f"{cg}/slurm/job_7/memory.max)" in msg and "\n" not in msg
    memory.check_memory(1000, 100_000, 10**6, 200)  # 0.4 GiB fits


def test_cgroup_v1_and_a_container_namespace(fake_proc, tmp_path):
    """cgroup v1 (memory.limit_in_bytes, "unlimited" written as 2**63 - 4096), and a
    container whose cgroup path is not under its mount (it sees its own cgroup as /)."""
    cg = tmp_path / "cg1"
    fake_proc("5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
              f"35 31 0:32 /docker/abc {cg} rw,relatime - cgroup cgroup rw,memory\n",
              {"cg1/memory.limit_in_bytes": f"{3 * GiB}\n",
               "cg1/memory.usage_in_bytes": f"{2 * GiB}\n",
               "cg1/memory.stat": f"cache 7\ntotal_inactive_file {GiB // 2}\n"})
    assert memory.memory_limits()[0] == (GiB + GiB // 2,
                                         f"cgroup limit 3.0 GiB in {cg}/memory.limit_in_bytes")
    (cg / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert memory.memory_limits() == [(32 * GiB, "MemAvailable")]


def test_ulimit_v_binds_each_process(fake_proc, monkeypatch):
    """ulimit -v (RLIMIT_AS) minus the current VmSize; check_memory compares it with one
    rank's share, not the node's."""
    import resource
    fake_proc("0::/\n", "", {})
    limit = 3 * GiB
    monkeypatch.setattr(resource, "getrlimit", lambda which: (
        (limit, resource.RLIM_INFINITY) if which == resource.RLIMIT_AS
        else (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
    assert memory.memory_limits()[0] == (2 * GiB, "ulimit -v 3145728 kB, 1.0 GiB of it in use")
    with pytest.raises(UserError, match=r"for its count tables in this process .* but only "
                                        r"2\.0 GiB is available \(ulimit -v 3145728 kB"):
        memory.check_memory(1000, 100_000, 10**6, 5000)
    # four ranks on the node each need a quarter of the shards: the ulimit is per process
    est = memory.check_memory(1000, 100_000, 10**6, 2000, ranks_on_node=4)
    assert est["node"] > 2 * GiB > est["per_rank"] + est["rank0_extra"]
    with pytest.raises(UserError, match=r"LDA.fit: X \(4294967294 tokens, the sum of its "
                                        r"counts\) needs about 16\.0 GiB of memory but only "
                                        r"2\.0 GiB is available \(ulimit -v"):
        import esca
        X = sp.csr_matrix(np.array([[2**31 - 1, 2**31 - 1]]))
        esca.LDA(n_components=2, max_iter=1, n_threads=1).fit(X, vocabulary=["a", "b"])


def test_nothing_readable_means_no_limit(fake_proc, tmp_path):
    fake_proc("garbage\n", "also garbage\n", {})
    os.unlink(memory.MEMINFO)
    assert memory.memory_limits() == [] and memory.available_memory() is None
    assert memory.check_memory(3, 6, 7, 3)["available"] is None


def _snapshot(folder):
    return {p: hashlib.sha256((folder / p).read_bytes()).hexdigest()
            for p in sorted(os.listdir(folder))}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for ulimit -v")
@pytest.mark.parametrize("fmt, files", [
    ("uci", {"docword.txt": "1\n4\n1\n1 1 2147483647\n"}),  # 21 bytes
    ("ldac", {"corpus.ldac": "1 0:2147483647\n"}),
    ("mm", {"corpus.mm": "%%MatrixMarket matrix coordinate real general\n1 4 1\n"
                         "1 1 2147483647\n"}),
])
def test_prepare_under_ulimit_refuses_a_huge_count(tmp_path, fmt, files):
    """A count of 2**31 - 1 asks for 8 GiB: under ulimit -v 4 GiB, esca prepare says so in
    one line (it raised MemoryError with a traceback before), and writes nothing."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "vocab.txt").write_text("a\nb\nc\nd\n")
    side = ["--vocab", "vocab.txt"]
    if fmt == "mm":
        from gensim.corpora import Dictionary
        Dictionary([["a", "b", "c", "d"]]).save_as_text(str(tmp_path / "corpus.dict"))
        side = ["--dictionary", "corpus.dict"]
    (tmp_path / "c.h5").write_bytes(b"an earlier output\n")
    before = _snapshot(tmp_path)
    cmd = " ".join([sys.executable, "-m", "esca", "prepare", next(iter(files)), "--format",
                    fmt, *side, "--out", "c.h5"])
    r = subprocess.run(["bash", "-c", f"ulimit -v {4 * 2**20} && exec {cmd}"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr and r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    id_name = {"uci": "docID 1", "ldac": "line 1", "mm": "row 1"}[fmt]
    assert lines[0].startswith(f"esca: error: {next(iter(files))}: {id_name} (2147483647 "
                               "tokens, the sum of its counts) needs about 8.0 GiB of memory "
                               "but only "), lines[0]
    assert f"is available (ulimit -v {4 * 2**20} kB, " in lines[0]
    assert _snapshot(tmp_path) == before
