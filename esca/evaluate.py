"""Held-out evaluation, re-exported from the modules that hold it (kept for ``esca.evaluate.X``).

* :mod:`esca.split`: :func:`split_holdout` (train/test split) and
  :func:`completion_halves` (observed and held-out halves of test documents).
* :mod:`esca.infer`: :func:`fold_in` (theta with phi fixed), :func:`phi_from_counts`
  and the checks of their inputs.
* :mod:`esca.metrics`: :func:`document_completion` (held-out perplexity),
  :func:`training_loglik_per_token`, :func:`coherence`, :func:`topic_coherence`,
  :func:`bag_of_words` and :func:`evaluate_model` (the report of ``esca evaluate``).

Setting a module constant here (``FOLD_IN_SPARSE_MIN_K``, ``MIN_CHUNK_TOKENS``, ...)
changes nothing: set it on the module that reads it. ``FOLD_IN_SPARSE_MIN_K`` (32) is the
fold-in's kernel threshold, read by :mod:`esca.infer` and :mod:`esca.metrics`; the
training sampler's own threshold is ``esca.samplers.esca.SPARSE_MIN_K`` (100).
"""

from .infer import (
    FOLD_IN_SPARSE_MIN_K,
    MIN_CHUNK_TOKENS,
    PHI_ROW_SUM_TOL,
    PROGRESS_CHUNKS,
    fold_in,
    phi_from_counts,
    same_inputs,
)
from .metrics import (
    bag_of_words,
    coherence,
    document_completion,
    evaluate_model,
    topic_coherence,
    training_loglik_per_token,
)
from .split import completion_halves, split_holdout

__all__ = ["FOLD_IN_SPARSE_MIN_K", "MIN_CHUNK_TOKENS", "PHI_ROW_SUM_TOL", "PROGRESS_CHUNKS",
           "bag_of_words", "coherence", "completion_halves", "document_completion",
           "evaluate_model", "fold_in", "phi_from_counts", "same_inputs", "split_holdout",
           "topic_coherence", "training_loglik_per_token"]
