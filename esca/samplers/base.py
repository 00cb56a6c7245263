"""State of one rank's shard, shared by the ESCA and collapsed Gibbs samplers."""

import time

import numpy as np

from .. import distributed
from ..rng import split_seed
from . import _kernels as kern


class ShardSampler:
    """Topic assignments and count tables of one rank's documents.

    Parameters
    ----------
    shard : esca.corpus.Corpus
        This rank's contiguous documents (``token_start`` is the global index
        of its first token).
    config : esca.config.TrainConfig
    comm : mpi4py communicator
    threads : int
        Number of thread chunks to balance the documents over (the Numba
        thread count is set by the caller).

    Attributes
    ----------
    z : ndarray of int32, shape (N_local,)
        Topic of each token, in the shard's token order after each
        document's tokens are sorted by word id.
    n_dk : ndarray of int32, shape (D_local, K)
    n_wk : ndarray of int32, shape (V, K)
        Word-topic counts of the *whole* corpus (summed over ranks),
        word-major; the model exposes its transpose ``n_kw``.
    n_k : ndarray of int64, shape (K,)
        Tokens per topic in the whole corpus.
    timings : dict of str to float
        Seconds of the last iteration spent in ``sample``, ``count``
        (count-table rebuild) and ``allreduce``.
    """

    #: Random-number stream of this sampler's sweeps (see esca.rng).
    stream = 0
    #: Whether a sweep reads the previous ``z`` (collapsed Gibbs) or only the previous counts
    #: (ESCA); a model continues from its counts alone only when it does not.
    sweep_reads_z = True
    #: Count exchange: "auto" (fewer bytes), "sparse" or "dense" (see :meth:`exchange`).
    exchange_mode = "auto"

    def __init__(self, shard, config, comm, threads=1):
        self.shard = shard
        self.config = config
        self.comm = comm
        self.K = K = config.num_topics
        self.V = V = shard.num_words
        self.alpha = config.alpha_vector()
        self.beta = float(config.beta)
        self.seed_lo, self.seed_hi = split_seed(config.seed)
        self.doc_ptr = shard.doc_ptr
        # Order within a document is free in LDA: sort each document's tokens
        # by word so that equal words form runs that share one distribution.
        if not kern.sorted_within_documents(shard.doc_ptr, shard.word_ids):
            shard.word_ids = shard.word_ids.copy()  # never reorder the caller's array
            kern.sort_within_documents(shard.doc_ptr, shard.word_ids)
        self.word_ids = shard.word_ids
        self.token_start = shard.token_start
        n = len(self.word_ids)
        self.z = np.zeros(n, dtype=np.int32)
        self.n_dk = np.zeros((shard.num_docs, K), dtype=np.int32)
        self.n_wk = np.zeros((V, K), dtype=np.int32)
        self.n_k = np.zeros(K, dtype=np.int64)
        # Inverted index: the positions of each word's tokens, so that the
        # word-topic table can be rebuilt in parallel over words, race-free.
        idx_dtype = np.int32 if n < 2**31 else np.int64
        self.word_tok = np.argsort(self.word_ids, kind="stable").astype(idx_dtype)
        self.word_ptr = np.zeros(V + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.word_ids, minlength=V), out=self.word_ptr[1:])
        # Chunks of documents balanced by tokens; prange runs over chunks.
        nchunks = max(1, min(shard.num_docs, 8 * threads))
        self.chunk_ptr = distributed.partition_documents(self.doc_ptr, nchunks)
        # Word chunks for the per-word table passes (each word costs O(K)).
        self.word_chunks = np.linspace(0, V, min(V, 8 * threads) + 1).astype(np.int64)
        self.timings = {}

    def state_bytes(self):
        """Bytes of this rank's per-document and per-token state: word ids, topics, the
        inverted index, ``n_dk`` and the offsets (everything but the word-topic tables)."""
        arrays = (self.word_ids, self.z, self.word_tok, self.n_dk, self.doc_ptr, self.word_ptr,
                  self.chunk_ptr, self.word_chunks)
        return int(sum(a.nbytes for a in arrays))

    def table_bytes(self):
        """Bytes of this rank's word-topic tables (the V x K counts and per-sampler tables)."""
        return int(self.n_wk.nbytes + self.n_k.nbytes)

    def initialize(self):
        """Draw uniform random topics and build all count tables."""
        kern.init_topics(self.z, self.token_start, self.seed_lo, self.seed_hi, self.K)
        kern.count_doc_topics(self.doc_ptr, self.z, self.n_dk)
        self.exchange()

    def restore(self, z, alpha, beta):
        """Continue from a checkpoint: set ``z`` (this shard's topics, int, shape (N_local,),
        in the sampler's token order), the priors, and rebuild every count table from ``z``
        (a collective call: the word-topic counts are summed over ranks)."""
        self.z[:] = z
        self.alpha = np.array(alpha, dtype=np.float64)
        self.beta = float(beta)
        kern.count_doc_topics(self.doc_ptr, self.z, self.n_dk)
        self.exchange()

    def restore_counts(self, n_dk, n_wk, n_k, alpha, beta):
        """Continue from a model's count tables alone: ``n_dk`` (this shard's rows), ``n_wk``
        and ``n_k`` (the whole corpus's) and the priors; ``z`` stays unset.

        Valid only for a sampler whose sweep reads the previous counts and not ``z``
        (``sweep_reads_z`` False: ESCA, which draws every token anew from the previous
        iteration's tables and rebuilds the tables from the new ``z``).
        """
        assert not self.sweep_reads_z
        self.n_dk[:] = n_dk
        self.n_wk[:] = n_wk
        self.n_k[:] = n_k
        self.alpha = np.array(alpha, dtype=np.float64)
        self.beta = float(beta)

    def exchange(self):
        """Rebuild this rank's word-topic counts from ``z`` and sum them over ranks.

        After the call ``n_wk`` and ``n_k`` hold the whole corpus's counts,
        identical on every rank (integer sums are exact, whatever the order).
        Two exact ways, chosen by the same rule on every rank:

        * ``sparse``: each rank sends only its nonzero counts as (index,
          count) pairs (``MPI_Allgatherv``) and adds the other ranks' pairs
          to its own table. Each rank receives sum_r nnz_r x 8 bytes (12
          when V K >= 2**31).
        * ``dense``: ``MPI_Allreduce`` of the V x K int32 table, which a
          ring allreduce moves as 2 (p - 1)/p x 4 V K bytes per rank.

        The sparse way is taken when it moves fewer bytes. ``timings``
        gets ``count`` (rebuild and packing), ``allreduce`` (the MPI calls)
        and ``exchange_bytes`` (bytes this rank received).
        """
        t0 = time.perf_counter()
        kern.count_word_topics(self.word_ptr, self.word_tok, self.z, self.n_wk)
        self.n_k[:] = np.bincount(self.z, minlength=self.K)
        size = self.comm.Get_size()
        t_mpi = 0.0
        nbytes = 0
        if size > 1:
            nnz_chunks = np.empty(len(self.word_chunks) - 1, dtype=np.int64)
            kern.count_nonzeros(self.n_wk, self.word_chunks, nnz_chunks)
            t1 = time.perf_counter()
            nnz = np.array(self.comm.allgather(int(nnz_chunks.sum())), dtype=np.int64)
            distributed.allreduce_sum(self.comm, self.n_k)
            t_mpi += time.perf_counter() - t1
            idx_dtype = np.int32 if self.V * self.K < 2**31 else np.int64
            entry = np.dtype(idx_dtype).itemsize + 4
            dense_bytes = self.n_wk.nbytes
            sparse = int(nnz.sum()) * entry < 2 * dense_bytes * (size - 1) / size
            if self.exchange_mode != "auto":
                sparse = self.exchange_mode == "sparse"
            if sparse:
                nbytes, t = self._sparse_exchange(nnz_chunks, nnz, idx_dtype)
                t_mpi += t
            else:
                t1 = time.perf_counter()
                distributed.allreduce_sum(self.comm, self.n_wk)
                t_mpi += time.perf_counter() - t1
                nbytes = dense_bytes
        t_all = time.perf_counter() - t0
        self.timings["count"] = self.timings.get("count", 0.0) + t_all - t_mpi
        self.timings["allreduce"] = self.timings.get("allreduce", 0.0) + t_mpi
        self.timings["exchange_bytes"] = self.timings.get("exchange_bytes", 0) + nbytes

    def _sparse_exchange(self, nnz_chunks, nnz, idx_dtype):
        """Allgatherv every rank's nonzero (index, count) pairs; add the others' into ``n_wk``.

        Returns (bytes received, seconds in MPI).
        """
        rank = self.comm.Get_rank()
        off = np.zeros(len(nnz_chunks), dtype=np.int64)
        np.cumsum(nnz_chunks[:-1], out=off[1:])
        mine = int(nnz[rank])
        idx = np.empty(mine, dtype=idx_dtype)
        cnt = np.empty(mine, dtype=np.int32)
        kern.pack_nonzeros(self.n_wk, self.word_chunks, off, idx, cnt)
        total = int(nnz.sum())
        all_idx = np.empty(total, dtype=idx_dtype)
        all_cnt = np.empty(total, dtype=np.int32)
        displs = np.zeros(len(nnz), dtype=np.int64)
        np.cumsum(nnz[:-1], out=displs[1:])
        t1 = time.perf_counter()
        from mpi4py import MPI
        self.comm.Allgatherv(idx, [all_idx, nnz, displs, MPI._typedict[all_idx.dtype.char]])
        self.comm.Allgatherv(cnt, [all_cnt, nnz, displs, MPI.INT32_T])
        t_mpi = time.perf_counter() - t1
        flat = self.n_wk.reshape(-1)
        parts = max(1, len(self.word_chunks) - 1)
        for r in range(len(nnz)):  # the other ranks' lists, one at a time (indices distinct)
            if r != rank:
                a, b = int(displs[r]), int(displs[r] + nnz[r])
                kern.add_entries(flat, all_idx[a:b], all_cnt[a:b], parts)
        return (total - mine) * (np.dtype(idx_dtype).itemsize + 4), t_mpi

    def step(self, iteration):
        """Run sweep ``iteration`` (1-based) and the count exchange; fills ``timings``."""
        self.timings = {}
        t0 = time.perf_counter()
        self.sweep(iteration)
        self.timings["sample"] = time.perf_counter() - t0
        self.after_sweep()

    def sweep(self, iteration):  # pragma: no cover - abstract
        """Resample ``z`` and update ``n_dk`` for sweep ``iteration`` (1-based); per sampler."""
        raise NotImplementedError

    def after_sweep(self):
        """Make ``n_wk`` and ``n_k`` the whole corpus's counts again (default: :meth:`exchange`)."""
        self.exchange()

    def loglik(self):
        """Joint log p(w, z) of Griffiths & Steyvers (PNAS 2004, eqs. 2-3), summed over ranks.

        Returns
        -------
        float
            The total (divide by N for the per-token value).
        """
        doc_part = np.array([kern.loglik_docs(self.doc_ptr, self.n_dk, self.alpha)])
        distributed.allreduce_sum(self.comm, doc_part)
        return float(doc_part[0]) + kern.loglik_words(self.n_wk, self.n_k, self.beta)
