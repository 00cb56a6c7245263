"""The ESCA sampler (Zaheer, Wick, Tristan, Smola, Steele, AISTATS 2016)."""

import numpy as np

from ..rng import STREAM_ESCA
from . import _kernels as kern
from .base import ShardSampler


class EscaSampler(ShardSampler):
    """Exponential Stochastic Cellular Automaton for LDA (Zaheer et al. 2016, Alg. 2).

    Every token of every document is resampled in parallel from

        p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + beta) / (n_k + V beta)

    where all counts are those of the *previous* iteration (stale tables).
    The counts *include* token i's own previous assignment, as in the
    paper's ESCA: excluding it would make each token's distribution depend
    on its own old topic, would need a per-token correction of the frozen
    tables, and would stop all tokens of one word in one document from
    sharing a distribution; the paper shows the chain with inclusion has
    the right stationary behaviour as a cellular automaton.

    The per-word factor (n_wk + beta) / (n_k + V beta) is frozen for the
    sweep, so it is computed once per iteration (``word_factor``, a V x K
    float64 table). New counts go to a second ``n_dk`` buffer owned by the
    document's thread and the word-topic table is rebuilt from ``z`` after
    the sweep, so the parallel sweep is lock-free and loses no update.
    """

    stream = STREAM_ESCA

    def __init__(self, shard, config, comm, threads=1):
        super().__init__(shard, config, comm, threads)
        self.n_dk_next = np.zeros_like(self.n_dk)
        self.phi_w = np.empty((self.V, self.K), dtype=np.float64)

    def sweep(self, iteration):
        kern.word_factor(self.n_wk, self.n_k, self.beta, self.phi_w)
        kern.esca_sweep_dense(self.doc_ptr, self.word_ids, self.chunk_ptr, self.z, self.n_dk,
                              self.n_dk_next, self.phi_w, self.alpha, self.token_start,
                              self.seed_lo, self.seed_hi, iteration, self.stream)
        self.n_dk, self.n_dk_next = self.n_dk_next, self.n_dk
