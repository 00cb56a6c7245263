"""How the word-topic counts travel between ranks after each sweep.

After a sweep every rank holds its own shard's word-topic counts ``n_wk`` (V, K) int32
(word-major, as inside the samplers) and ``n_k`` (K,) int64; :func:`sum_counts` makes
them the whole corpus's, identical on every rank (integer sums are exact, whatever the
order). Two exact ways, chosen by :func:`use_sparse` with the same inputs on every rank:

* ``sparse``: each rank sends only its nonzero counts as (flat index ``w K + k``, count)
  pairs (``MPI_Allgatherv``) and adds the other ranks' pairs to its own table. Each rank
  receives sum_r nnz_r x 8 bytes (12 when V K >= 2**31).
* ``dense``: ``MPI_Allreduce`` of the V x K int32 table, which a ring allreduce moves as
  2 (p - 1)/p x 4 V K bytes per rank.

The nonzero count / pack / add steps of the sparse way are Numba kernels compiled once
here; each equals a plain function of ``tests/naive.py`` (``count_nonzeros``,
``pack_nonzeros``, ``add_entries``). This module imports Numba and mpi4py, so it is loaded
on first use (``import esca`` must not import Numba: ``esca train --threads`` sets
``NUMBA_NUM_THREADS`` after it).
"""

import time

import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .distributed import allgather, allreduce_sum

#: The MPI datatype of each index and count dtype that the sparse exchange sends.
MPI_TYPES = {np.dtype(np.int32): MPI.INT32_T, np.dtype(np.int64): MPI.INT64_T}


@njit(parallel=True, cache=True)
def count_nonzeros(n_wk, word_chunks, out):
    """out[c] = number of nonzero entries of n_wk in rows word_chunks[c]:word_chunks[c+1].

    ``n_wk`` int32 (V, K); ``word_chunks`` int64 (C+1,), non-decreasing from 0 to V;
    ``out`` int64 (C,). Equals ``tests/naive.py::count_nonzeros``.
    """
    K = n_wk.shape[1]
    for c in prange(len(word_chunks) - 1):
        m = 0
        for w in range(word_chunks[c], word_chunks[c + 1]):
            for k in range(K):
                m += n_wk[w, k] != 0
        out[c] = m


@njit(parallel=True, cache=True)
def pack_nonzeros(n_wk, word_chunks, chunk_off, idx, cnt):
    """The nonzero entries of n_wk as (flat index w K + k, count), in increasing index order.

    ``n_wk`` int32 (V, K); chunk c writes from ``chunk_off[c]`` (int64 (C,), the prefix
    sum of :func:`count_nonzeros`) into ``idx`` (int32, or int64 when V K >= 2**31) and
    ``cnt`` (int32), both of length nnz(n_wk). Equals ``tests/naive.py::pack_nonzeros``.
    """
    K = n_wk.shape[1]
    for c in prange(len(word_chunks) - 1):
        j = chunk_off[c]
        for w in range(word_chunks[c], word_chunks[c + 1]):
            for k in range(K):
                if n_wk[w, k] != 0:
                    idx[j] = w * K + k
                    cnt[j] = n_wk[w, k]
                    j += 1


@njit(parallel=True, cache=True)
def add_entries(flat, idx, cnt, parts):
    """flat[idx[j]] += cnt[j] for one rank's (index, count) list from :func:`pack_nonzeros`.

    ``flat`` is the int32 (V K,) view of ``n_wk``. The indices of one list are distinct, so
    the ``parts`` (>= 1) parallel slices never touch the same entry (no lost update).
    Equals ``tests/naive.py::add_entries``.
    """
    n = len(idx)
    for p in prange(parts):
        for j in range(p * n // parts, (p + 1) * n // parts):
            flat[idx[j]] += cnt[j]


def index_dtype(V, K):
    """The dtype of a flat index ``w K + k`` into a V x K table: int32, or int64 when
    V K >= 2**31."""
    return np.dtype(np.int32) if V * K < 2**31 else np.dtype(np.int64)


def use_sparse(nnz, entry_bytes, dense_bytes, ranks):
    """Whether the sparse exchange moves fewer bytes than the dense one (the same answer on
    every rank: every input is).

    Parameters
    ----------
    nnz : ndarray of int64, shape (ranks,)
        Nonzero counts of each rank's table.
    entry_bytes : int
        Bytes of one (index, count) pair: 8, or 12 with int64 indices.
    dense_bytes : int
        Bytes of the whole V x K int32 table (4 V K).
    ranks : int
        Number of ranks, >= 2.

    Returns
    -------
    bool
        True when every rank receives sum(nnz) x ``entry_bytes`` < 2 (ranks - 1)/ranks x
        ``dense_bytes`` (what a ring allreduce moves per rank).
    """
    return int(nnz.sum()) * entry_bytes < 2 * dense_bytes * (ranks - 1) / ranks


def sum_counts(comm, n_wk, n_k, word_chunks):
    """Sum this rank's ``n_wk`` and ``n_k`` over all ranks, in place (a collective call).

    Parameters
    ----------
    comm : mpi4py communicator
    n_wk : ndarray of int32, shape (V, K), C-contiguous
        This rank's word-topic counts; the whole corpus's after the call.
    n_k : ndarray of int64, shape (K,)
        This rank's tokens per topic; the whole corpus's after the call.
    word_chunks : ndarray of int64, shape (C+1,)
        Row ranges of ``n_wk`` that the nonzero kernels run over in parallel.

    Returns
    -------
    (int, float)
        Bytes this rank received (0 with one rank) and seconds spent in MPI calls.
    """
    size = comm.Get_size()
    if size == 1:
        return 0, 0.0
    V, K = n_wk.shape
    nnz_chunks = np.empty(len(word_chunks) - 1, dtype=np.int64)
    count_nonzeros(n_wk, word_chunks, nnz_chunks)
    t0 = time.perf_counter()
    nnz = np.array(allgather(comm, int(nnz_chunks.sum())), dtype=np.int64)
    allreduce_sum(comm, n_k)
    t_mpi = time.perf_counter() - t0
    idx_dtype = index_dtype(V, K)
    entry = idx_dtype.itemsize + 4
    if use_sparse(nnz, entry, n_wk.nbytes, size):
        nbytes, t = _sparse_sum(comm, n_wk, word_chunks, nnz_chunks, nnz, idx_dtype)
        return nbytes, t_mpi + t
    t0 = time.perf_counter()
    allreduce_sum(comm, n_wk)
    return n_wk.nbytes, t_mpi + time.perf_counter() - t0


def _sparse_sum(comm, n_wk, word_chunks, nnz_chunks, nnz, idx_dtype):
    """Allgatherv every rank's nonzero (index, count) pairs; add the others' into ``n_wk``.

    Returns (bytes received, seconds in MPI).
    """
    rank = comm.Get_rank()
    off = np.zeros(len(nnz_chunks), dtype=np.int64)
    np.cumsum(nnz_chunks[:-1], out=off[1:])
    mine = int(nnz[rank])
    idx = np.empty(mine, dtype=idx_dtype)
    cnt = np.empty(mine, dtype=np.int32)
    pack_nonzeros(n_wk, word_chunks, off, idx, cnt)
    total = int(nnz.sum())
    all_idx = np.empty(total, dtype=idx_dtype)
    all_cnt = np.empty(total, dtype=np.int32)
    displs = np.zeros(len(nnz), dtype=np.int64)
    np.cumsum(nnz[:-1], out=displs[1:])
    t0 = time.perf_counter()
    comm.Allgatherv(idx, [all_idx, nnz, displs, MPI_TYPES[idx_dtype]])
    comm.Allgatherv(cnt, [all_cnt, nnz, displs, MPI_TYPES[cnt.dtype]])
    t_mpi = time.perf_counter() - t0
    flat = n_wk.reshape(-1)
    parts = max(1, len(word_chunks) - 1)
    for r in range(len(nnz)):  # the other ranks' lists, one at a time (indices distinct)
        if r != rank:
            a, b = int(displs[r]), int(displs[r] + nnz[r])
            add_entries(flat, all_idx[a:b], all_cnt[a:b], parts)
    return (total - mine) * (idx_dtype.itemsize + 4), t_mpi


def sync_counts(comm, sampler):
    """Sum a sampler's freshly counted tables over ranks, timed (a collective call).

    Call after :meth:`esca.samplers.base.ShardSampler.initialize` or ``restore``, whose
    ``n_wk`` and ``n_k`` hold this shard's counts only.

    Parameters
    ----------
    comm : mpi4py communicator
    sampler : esca.samplers.base.ShardSampler
        Its ``n_wk`` and ``n_k`` become the whole corpus's; its ``timings`` get
        ``count`` (nonzero counting, packing and adding), ``allreduce`` (seconds in MPI)
        and ``exchange_bytes`` (bytes received) added.
    """
    t0 = time.perf_counter()
    nbytes, t_mpi = sum_counts(comm, sampler.n_wk, sampler.n_k, sampler.word_chunks)
    timings = sampler.timings
    timings["count"] = timings.get("count", 0.0) + time.perf_counter() - t0 - t_mpi
    timings["allreduce"] = timings.get("allreduce", 0.0) + t_mpi
    timings["exchange_bytes"] = timings.get("exchange_bytes", 0) + nbytes


def after_sweep(comm, sampler):
    """Make a sampler's ``n_wk`` and ``n_k`` the whole corpus's again after
    :meth:`~esca.samplers.base.ShardSampler.step` (a collective call).

    A sampler whose sweep rebuilt its tables from its own ``z`` (ESCA) holds this shard's
    counts: they are summed over ranks. One whose sweep updated its copy of the global
    tables in place (``sweep_keeps_counts``, collapsed Gibbs) is exact with one rank and
    left alone; with several ranks each rank's copy drifted (AD-LDA), so the tables are
    first rebuilt from this shard's ``z`` and then summed.

    Parameters
    ----------
    comm : mpi4py communicator
    sampler : esca.samplers.base.ShardSampler
        Its ``timings`` get ``count``, ``allreduce`` and ``exchange_bytes`` (see
        :func:`sync_counts`).
    """
    if comm.Get_size() == 1:
        sampler.timings.setdefault("count", 0.0)
        sampler.timings["allreduce"] = 0.0
        sampler.timings["exchange_bytes"] = 0
        return
    if sampler.sweep_keeps_counts:
        sampler.count_words()
    sync_counts(comm, sampler)
