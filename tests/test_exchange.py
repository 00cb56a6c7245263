"""The per-sweep count exchange (esca.exchange): its kernels against the plain references
in tests/naive.py, bit for bit, and the exchange itself at one rank and under real
``mpiexec -n 2`` with the sparse and the dense way forced (by monkeypatching
:func:`esca.exchange.use_sparse`, the one place that chooses)."""

import sys

import numpy as np
import pytest
from mpi4py import MPI

from esca import TrainConfig
from esca import exchange as ex
from esca.samplers import CgsSampler, EscaSampler

import naive
from helpers import MPIEXEC, check_ok, needs_mpiexec, run


def _sparse_table(rng, V, K, density):
    """A random int32 (V, K) table with about ``density`` of its entries nonzero."""
    n_wk = rng.integers(1, 2**20, size=(V, K)).astype(np.int32)
    n_wk[rng.random((V, K)) >= density] = 0
    return n_wk


def _chunkings(V, rng):
    """Row ranges as the samplers make them (even), one range, and uneven with empty ones."""
    cuts = np.sort(rng.integers(0, V + 1, size=4))
    return [np.linspace(0, V, min(V, 5) + 1).astype(np.int64),
            np.array([0, V], dtype=np.int64),
            np.array([0, *cuts, cuts[-1], V], dtype=np.int64)]


TABLES = [(V, K, density) for V, K in [(1, 1), (7, 3), (40, 25), (13, 64)]
          for density in (0.0, 0.1, 0.6, 1.0)]


@pytest.mark.parametrize("V, K, density", TABLES)
def test_count_and_pack_equal_reference(V, K, density):
    rng = np.random.default_rng(V * 1000 + K + int(density * 10))
    n_wk = _sparse_table(rng, V, K, density)
    if density == 1.0:
        assert np.count_nonzero(n_wk) == V * K
    ref_idx, ref_cnt = naive.pack_nonzeros(n_wk)
    for chunks in _chunkings(V, rng):
        out = np.full(len(chunks) - 1, -1, dtype=np.int64)
        ex.count_nonzeros(n_wk, chunks, out)
        np.testing.assert_array_equal(out, naive.count_nonzeros(n_wk, chunks))
        off = np.zeros(len(out), dtype=np.int64)
        np.cumsum(out[:-1], out=off[1:])
        for dtype in (np.int32, np.int64):
            idx = np.empty(int(out.sum()), dtype=dtype)
            cnt = np.empty(int(out.sum()), dtype=np.int32)
            ex.pack_nonzeros(n_wk, chunks, off, idx, cnt)
            np.testing.assert_array_equal(idx, ref_idx.astype(dtype))
            np.testing.assert_array_equal(cnt, ref_cnt)


@pytest.mark.parametrize("V, K, density", TABLES)
@pytest.mark.parametrize("parts", [1, 3, 64])
def test_add_entries_equals_reference(V, K, density, parts):
    rng = np.random.default_rng(V + K + parts)
    mine = _sparse_table(rng, V, K, 0.5)
    other = _sparse_table(rng, V, K, density)
    idx, cnt = naive.pack_nonzeros(other)
    flat = mine.reshape(-1).copy()
    ex.add_entries(flat, idx, cnt, parts)
    np.testing.assert_array_equal(flat, naive.add_entries(mine.reshape(-1), idx, cnt))
    np.testing.assert_array_equal(flat.reshape(V, K), mine + other)


def test_index_dtype_and_choice():
    assert ex.index_dtype(2**16, 2**14) == np.int32
    assert ex.index_dtype(2**17, 2**14) == np.int64
    dense = 4 * 1000 * 100
    # two ranks: a ring allreduce moves dense_bytes per rank; sparse pairs are 8 bytes
    assert ex.use_sparse(np.array([20000, 29999]), 8, dense, 2)
    assert not ex.use_sparse(np.array([20000, 30000]), 8, dense, 2)
    assert not ex.use_sparse(np.array([20000, 20000]), 12, dense, 2)


def test_one_rank_exchanges_nothing():
    rng = np.random.default_rng(1)
    n_wk = _sparse_table(rng, 9, 4, 0.5)
    n_k = n_wk.sum(axis=0, dtype=np.int64)
    before = n_wk.copy(), n_k.copy()
    assert ex.sum_counts(MPI.COMM_SELF, n_wk, n_k, np.array([0, 9], dtype=np.int64)) == (0, 0.0)
    np.testing.assert_array_equal(n_wk, before[0])
    np.testing.assert_array_equal(n_k, before[1])


@pytest.mark.parametrize("cls", [EscaSampler, CgsSampler])
def test_after_sweep_at_one_rank(random_corpus, cls):
    """One rank: the step alone leaves exact tables; after_sweep only fills the timings."""
    s = cls(random_corpus, TrainConfig(num_topics=4, iterations=2, seed=3, threads=1))
    s.initialize()
    ex.sync_counts(MPI.COMM_SELF, s)
    s.step(1)
    n_wk = naive.count_word_topics(s.word_ids, s.z, s.V, s.K)
    ex.after_sweep(MPI.COMM_SELF, s)
    np.testing.assert_array_equal(s.n_wk, n_wk)
    np.testing.assert_array_equal(s.n_k, n_wk.sum(axis=0))
    assert s.timings["allreduce"] == 0.0 and s.timings["exchange_bytes"] == 0
    assert (s.timings["count"] > 0) == (cls is EscaSampler)


SUM_SCRIPT = """
import sys
import numpy as np
from mpi4py import MPI
from esca import exchange as ex
mode, V, K = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode != "auto":
    ex.use_sparse = lambda *args: mode == "sparse"
comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()

def table(r):
    rng = np.random.default_rng(r)
    t = rng.integers(1, 1000, size=(V, K)).astype(np.int32)
    t[rng.random((V, K)) >= (0.05, 1.0)[r % 2]] = 0  # rank 1: every entry nonzero
    return t

n_wk = table(rank)
n_k = n_wk.sum(axis=0, dtype=np.int64)
nbytes, seconds = ex.sum_counts(comm, n_wk, n_k, np.linspace(0, V, 4).astype(np.int64))
total = sum(table(r) for r in range(size))
assert np.array_equal(n_wk, total), (rank, mode)
assert np.array_equal(n_k, total.sum(axis=0, dtype=np.int64)), (rank, mode)
assert seconds >= 0
nnz = [np.count_nonzero(table(r)) for r in range(size)]
sparse_bytes = (sum(nnz) - nnz[rank]) * 8
lines = comm.gather(f"rank {rank} bytes {nbytes} dense {nbytes == 4 * V * K} "
                    f"sparse {nbytes == sparse_bytes}", root=0)
if rank == 0:
    print(*lines, sep=chr(10))
"""


@pytest.mark.mpi
@needs_mpiexec
@pytest.mark.parametrize("mode", ["sparse", "dense", "auto"])
def test_sum_counts_under_mpiexec(tmp_path, mode):
    """Both ways give every rank the exact sum of the ranks' tables (rank 0's sparse, rank
    1's full) and count the bytes each rank received; "auto" picks dense here."""
    script = tmp_path / "sum.py"
    script.write_text(SUM_SCRIPT)
    r, _ = run([MPIEXEC, "-n", 2, sys.executable, script, mode, 30, 7], tmp_path)
    lines = [ln for ln in check_ok(r).stdout.splitlines() if ln.startswith("rank")]
    assert len(lines) == 2, r.stdout
    way = "sparse" if mode == "sparse" else "dense"
    assert all(f"{way} True" in ln for ln in lines), lines
