"""The ESCA sampler (Zaheer, Wick, Tristan, Smola, Steele, AISTATS 2016)."""

import time

import numpy as np

from ..rng import STREAM_ESCA
from . import _kernels as kern
from .base import ShardSampler

#: With "auto", K at or above this uses the sparse + alias kernel (see EscaSampler). The
#: fold-in of held-out documents has its own threshold (esca.infer.FOLD_IN_SPARSE_MIN_K).
SPARSE_MIN_K = 100


class EscaSampler(ShardSampler):
    """Exponential Stochastic Cellular Automaton for LDA (Zaheer et al. 2016, Alg. 2).

    Every token of every document is resampled in parallel from

        p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + beta) / (n_k + V beta)

    where all counts are those of the *previous* iteration (stale tables).
    With ``config.own_topic == "include"`` (the default) the counts *include*
    token i's own previous assignment, as in the paper's ESCA. With
    ``"exclude"`` the token's own previous topic z_old is taken out of its
    counts, as in collapsed Gibbs: p(z_old) becomes
    (n_dk - 1 + alpha_k)(n_wk - 1 + beta)/(n_k - 1 + V beta) and every
    other weight stays. The tables of a run of one word stay shared; the
    kernels correct only z_old's weight, exactly (dense: one inversion of
    the shrunk cumulative sums; sparse: rejection against the frozen
    distribution, see ``esca_sweep_sparse``). The sweep then reads the
    previous ``z``, so models of such runs store ``z`` (``sweep_reads_z``).

    Two exact kernels draw from the same distribution:

    * ``dense``: O(K) per (document, word) run. The per-word factor
      (n_wk + beta)/(n_k + V beta) is frozen for the sweep, so it is built
      once per iteration as a V x K float64 table.
    * ``sparse``: O(min(K_d, K_w)) per run and O(log K_d) per token
      (K_d, K_w: topics with n_dk > 0, n_wk > 0), plus O(1) draws from
      sparse per-word alias tables built once per iteration in O(V K) scans
      and O(nnz(n_wk)) work (see ``esca_sweep_sparse``).

    ``kernel="auto"`` picks ``sparse`` when K >= 100. Measured with 2
    threads, 30 iterations, median over iterations 2..30: on 20newsgroups
    (95 tokens per document) dense was faster at K = 25 and 50 and they tied
    at K = 100; on wikipedia_medium (1,525 tokens per document) sparse was
    twice as fast at K = 100. The choice depends on K only, never on the
    thread or rank count, so results stay bit-identical across them (the
    two kernels use the random numbers differently, so a dense and a
    sparse run of the same seed differ). Each document's thread reads its
    old ``n_dk`` row before overwriting it with the new counts, and the
    word-topic table is rebuilt from ``z`` after the sweep, so the parallel
    sweep is lock-free and loses no update.
    """

    stream = STREAM_ESCA
    sweep_reads_z = False  # every token is drawn from the previous iteration's counts alone
    sweep_keeps_counts = False  # the tables are rebuilt from the new z after the sweep

    def __init__(self, shard, config, threads=1, kernel=None):
        super().__init__(shard, config, threads)
        self.exclude_own = config.own_topic == "exclude"
        # Excluding a token's own previous topic reads it from z.
        self.sweep_reads_z = self.exclude_own
        kernel = kernel or config.kernel
        if kernel == "auto":
            kernel = "sparse" if self.K >= SPARSE_MIN_K else "dense"
        self.kernel = kernel
        V, K = self.V, self.K
        if kernel == "dense":
            self.phi_w = np.empty((V, K), dtype=np.float64)
        else:
            self.wa_ptr = None  # laid out after the first exchange (needs each word's count)
            self.qw = np.empty(V, dtype=np.float64)
            self.g_prob = np.empty(K, dtype=np.float64)
            self.g_alias = np.empty(K, dtype=np.int32)

    def _layout_word_tables(self):
        """Reserve min(n_w, K) alias slots per word (n_w is fixed: tokens of w in the corpus)."""
        n_w = self.n_wk.sum(axis=1, dtype=np.int64)
        self.wa_ptr = np.zeros(self.V + 1, dtype=np.int64)
        np.cumsum(np.minimum(n_w, self.K), out=self.wa_ptr[1:])
        size = int(self.wa_ptr[-1])
        self.wa_nnz = np.zeros(self.V, dtype=np.int64)
        self.wa_topic = np.empty(size, dtype=np.int32)
        self.wa_count = np.empty(size, dtype=np.int32)
        self.wa_prob = np.empty(size, dtype=np.float64)
        self.wa_alias = np.empty(size, dtype=np.int32)

    def table_bytes(self):
        """Bytes of this rank's word-topic tables: V x K counts plus the dense kernel's
        per-word factors (V x K float64) or the sparse kernel's alias tables
        (20 bytes per reserved slot, at most min(N, V K) slots)."""
        arrays = [self.phi_w] if self.kernel == "dense" else [
            self.wa_ptr, self.wa_nnz, self.wa_topic, self.wa_count, self.wa_prob, self.wa_alias,
            self.qw,
            self.g_prob, self.g_alias]
        return super().table_bytes() + int(sum(a.nbytes for a in arrays if a is not None))

    def sweep(self, iteration):
        """Build the frozen per-word tables, then draw every token in parallel."""
        t0 = time.perf_counter()
        if self.kernel == "dense":
            kern.word_factor(self.n_wk, self.n_k, self.beta, self.phi_w)
            self.timings["tables"] = time.perf_counter() - t0
            kern.esca_sweep_dense(self.doc_ptr, self.word_ids, self.chunk_ptr, self.z, self.n_dk,
                                  self.phi_w, self.alpha, self.token_start, self.seed_lo,
                                  self.seed_hi, iteration, self.stream, self.n_wk, self.n_k,
                                  self.beta, self.exclude_own)
            return
        if self.wa_ptr is None:
            self._layout_word_tables()
        kern.word_alias_tables(self.n_wk, self.n_k, self.alpha, self.beta, self.word_chunks,
                               self.wa_ptr, self.wa_nnz, self.wa_topic, self.wa_count,
                               self.wa_prob, self.wa_alias, self.qw)
        gsum = kern.global_alias_table(self.n_k, self.alpha, self.beta, self.V, self.g_prob,
                                       self.g_alias)
        self.timings["tables"] = time.perf_counter() - t0
        kern.esca_sweep_sparse(self.doc_ptr, self.word_ids, self.chunk_ptr, self.z, self.n_dk,
                               self.n_wk, self.n_k, self.beta, self.wa_ptr, self.wa_nnz,
                               self.wa_topic, self.wa_count, self.wa_prob, self.wa_alias, self.qw,
                               self.g_prob, self.g_alias, gsum, self.token_start,
                               self.seed_lo, self.seed_hi, iteration, self.stream, self.alpha,
                               self.exclude_own)
