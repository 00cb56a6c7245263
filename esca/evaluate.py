"""Held-out evaluation, re-exported from the modules that hold it (kept for ``esca.evaluate.X``).

* :mod:`esca.split`: :func:`split_holdout` (train/test split) and
  :func:`completion_halves` (observed and held-out halves of test documents).
* :mod:`esca.infer`: :func:`fold_in` (theta with phi fixed), :func:`phi_from_counts`
  and the checks of their inputs.
* :mod:`esca.metrics`: :func:`document_completion` (held-out perplexity),
  :func:`training_loglik_per_token`, :func:`coherence`, :func:`topic_coherence`,
  :func:`bag_of_words` and :func:`evaluate_model` (the report of ``esca evaluate``).

Setting a module constant here (``SPARSE_MIN_K``, ``MIN_CHUNK_TOKENS``, ...) changes
nothing: set it on :mod:`esca.infer`, which reads it.
"""

from .infer import (
    MIN_CHUNK_TOKENS,
    PHI_ROW_SUM_TOL,
    PROGRESS_CHUNKS,
    SPARSE_MIN_K,
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

__all__ = ["MIN_CHUNK_TOKENS", "PHI_ROW_SUM_TOL", "PROGRESS_CHUNKS", "SPARSE_MIN_K",
           "bag_of_words", "coherence", "completion_halves", "document_completion",
           "evaluate_model", "fold_in", "phi_from_counts", "same_inputs", "split_holdout",
           "topic_coherence", "training_loglik_per_token"]
