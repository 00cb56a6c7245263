"""State of one rank's shard, shared by the ESCA and collapsed Gibbs samplers.

A sampler knows nothing of MPI: it sweeps its shard and counts what it holds. Making its
word-topic tables the whole corpus's is :mod:`esca.exchange`'s job (the caller, esca.train,
runs :func:`esca.exchange.sync_counts` after :meth:`ShardSampler.initialize` and
:meth:`ShardSampler.restore`, and :func:`esca.exchange.after_sweep` after each
:meth:`ShardSampler.step`).
"""

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
        Word-topic counts, word-major (the model exposes its transpose ``n_kw``): the
        *whole* corpus's (summed over ranks by :mod:`esca.exchange`) when a sweep starts;
        after :meth:`count_words` only this shard's.
    n_k : ndarray of int64, shape (K,)
        Tokens per topic, in step with ``n_wk``.
    timings : dict of str to float
        Seconds of the last iteration spent in ``sample`` and ``count`` (count-table
        rebuild); :mod:`esca.exchange` adds ``count``, ``allreduce`` and
        ``exchange_bytes``.
    """

    #: Random-number stream of this sampler's sweeps (see esca.rng).
    stream = 0
    #: Whether a sweep reads the previous ``z`` (collapsed Gibbs) or only the previous counts
    #: (ESCA); a model continues from its counts alone only when it does not.
    sweep_reads_z = True
    #: Whether a sweep updates ``n_wk`` and ``n_k`` in place as it goes (collapsed Gibbs:
    #: exact with one rank) instead of leaving them to :meth:`count_words` (ESCA).
    sweep_keeps_counts = True

    def __init__(self, shard, config, threads=1):
        self.shard = shard
        self.config = config
        self.K = K = config.num_topics
        self.V = V = shard.num_words
        self.alpha = config.alpha_vector()
        self.beta = float(config.beta)
        self.seed_lo, self.seed_hi = split_seed(config.seed)
        self.doc_ptr = shard.doc_ptr
        # Order within a document is free in LDA: sort each document's tokens
        # by word so that equal words form runs that share one distribution.
        # The caller's corpus is left as it is (array and attribute): the builtin corpora are
        # cached objects, and a changed word_ids would change their checksum.
        word_ids = shard.word_ids
        if not kern.sorted_within_documents(shard.doc_ptr, word_ids):
            word_ids = word_ids.copy()
            kern.sort_within_documents(shard.doc_ptr, word_ids)
        self.word_ids = word_ids
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
        """Draw uniform random topics and build all count tables from them (``n_wk`` and
        ``n_k``: this shard's, see :func:`esca.exchange.sync_counts`)."""
        kern.init_topics(self.z, self.token_start, self.seed_lo, self.seed_hi, self.K)
        kern.count_doc_topics(self.doc_ptr, self.z, self.n_dk)
        self.count_words()

    def initialize_block(self, lo, hi):
        """Draw the tokens of global indices [lo, hi) of the sequential first pass
        (``TrainConfig.init_blocks``; :func:`esca.samplers._kernels.init_block`) from the whole
        corpus's ``n_wk``, ``n_k`` of the tokens drawn before ``lo`` and this shard's growing
        ``n_dk``, then count this shard's drawn tokens (indices below ``hi``) into ``n_wk``
        and ``n_k`` (this shard's, see :func:`esca.exchange.sync_counts`). Call with the
        blocks in order, starting from a new sampler (all counts zero).

        The draw is p(z_i = k) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta), sequential
        within a document (Griffiths & Steyvers, PNAS 2004, eq. 5, with the word part frozen
        for the block).

        Parameters
        ----------
        lo, hi : int
            The block's global token indices, ``0 <= lo <= hi <= N`` (N of the whole corpus);
            the shard draws those of its tokens ``token_start + i`` in [lo, hi).
        """
        kern.init_block(self.doc_ptr, self.word_ids, self.chunk_ptr, self.z, self.n_dk,
                        self.n_wk, self.n_k, self.alpha, self.beta, self.token_start, lo, hi,
                        self.seed_lo, self.seed_hi)
        limit = min(max(hi - self.token_start, 0), len(self.z))
        kern.count_word_topics(self.word_ptr, self.word_tok, self.z, self.n_wk, limit)
        self.n_k[:] = np.bincount(self.z[:limit], minlength=self.K)

    def restore(self, z, alpha, beta):
        """Continue from a checkpoint: set ``z`` (this shard's topics, int, shape (N_local,),
        in the sampler's token order), the priors, and rebuild every count table from ``z``
        (``n_wk`` and ``n_k``: this shard's, see :func:`esca.exchange.sync_counts`)."""
        self.z[:] = z
        self.alpha = np.array(alpha, dtype=np.float64)
        self.beta = float(beta)
        kern.count_doc_topics(self.doc_ptr, self.z, self.n_dk)
        self.count_words()

    def count_words(self):
        """Rebuild ``n_wk`` and ``n_k`` from this shard's ``z``; adds the seconds to
        ``timings["count"]``."""
        t0 = time.perf_counter()
        kern.count_word_topics(self.word_ptr, self.word_tok, self.z, self.n_wk, len(self.z))
        self.n_k[:] = np.bincount(self.z, minlength=self.K)
        self.timings["count"] = self.timings.get("count", 0.0) + time.perf_counter() - t0

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

    def step(self, iteration):
        """Run sweep ``iteration`` (1-based) and, unless the sweep kept them
        (``sweep_keeps_counts``), rebuild this shard's word-topic counts; starts ``timings``
        anew with ``sample`` and ``count``. Then :func:`esca.exchange.after_sweep` makes the
        tables the whole corpus's."""
        self.timings = {"count": 0.0}
        t0 = time.perf_counter()
        self.sweep(iteration)
        self.timings["sample"] = time.perf_counter() - t0
        if not self.sweep_keeps_counts:
            self.count_words()

    def sweep(self, iteration):  # pragma: no cover - abstract
        """Resample ``z`` and update ``n_dk`` for sweep ``iteration`` (1-based); per sampler."""
        raise NotImplementedError

    def loglik_docs(self):
        """The document part of the joint log p(w, z) of Griffiths & Steyvers (PNAS 2004,
        eqs. 2-3) over this shard's documents (float); the total is its sum over ranks plus
        :meth:`loglik_words`."""
        return kern.loglik_docs(self.doc_ptr, self.n_dk, self.alpha)

    def loglik_words(self):
        """The word part of the joint log p(w, z) (Griffiths & Steyvers 2004, eq. 2), from the
        whole corpus's ``n_wk`` and ``n_k`` (float; the same on every rank)."""
        return kern.loglik_words(self.n_wk, self.n_k, self.beta)
