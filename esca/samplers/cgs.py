"""The collapsed Gibbs baseline (Griffiths & Steyvers, PNAS 2004)."""

from ..rng import STREAM_CGS
from . import _kernels as kern
from .base import ShardSampler


class CgsSampler(ShardSampler):
    """Sequential collapsed Gibbs sampling, the baseline ESCA is judged against.

    Each token in turn is drawn from
    p(z_i = k | z_-i) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta) with its
    own assignment removed from every count (Griffiths & Steyvers 2004,
    eq. 5), and the counts are updated at once. With one rank this is exact
    collapsed Gibbs sampling. With R > 1 ranks each rank sweeps its own
    documents against its copy of the global counts and the counts are
    re-summed after the sweep: approximate distributed LDA (AD-LDA; Newman,
    Asuncion, Smyth & Welling, JMLR 2009). It is single-threaded.
    """

    stream = STREAM_CGS

    def sweep(self, iteration):
        """One sequential pass over this rank's tokens, counts updated in place."""
        kern.cgs_sweep(self.doc_ptr, self.word_ids, self.z, self.n_dk, self.n_wk, self.n_k,
                       self.alpha, self.beta, self.token_start, self.seed_lo, self.seed_hi,
                       iteration, self.stream)
