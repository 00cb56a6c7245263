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
        self.timings = {}

    def initialize(self):
        """Draw uniform random topics and build all count tables."""
        kern.init_topics(self.z, self.token_start, self.seed_lo, self.seed_hi, self.K)
        kern.count_doc_topics(self.doc_ptr, self.z, self.n_dk)
        self.exchange()

    def exchange(self):
        """Rebuild this rank's word-topic counts from ``z`` and sum them over ranks.

        After the call ``n_wk`` and ``n_k`` hold the whole corpus's counts,
        identical on every rank (integer sums are exact, whatever the order).
        """
        t0 = time.perf_counter()
        kern.count_word_topics(self.word_ptr, self.word_tok, self.z, self.n_wk)
        self.n_k[:] = np.bincount(self.z, minlength=self.K)
        t1 = time.perf_counter()
        distributed.allreduce_sum(self.comm, self.n_wk)
        distributed.allreduce_sum(self.comm, self.n_k)
        t2 = time.perf_counter()
        self.timings["count"] = self.timings.get("count", 0.0) + t1 - t0
        self.timings["allreduce"] = self.timings.get("allreduce", 0.0) + t2 - t1

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
