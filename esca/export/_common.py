"""What the export formats share: document labels and the check that a model has theta."""

import numpy as np

from ..corpus import read_doc_index, read_doc_ptr
from ..errors import UserError


def require_theta(model, what):
    """Raise :class:`UserError` if ``model`` holds no ``n_dk``, so no theta for ``what``."""
    if model.n_dk is None:
        raise UserError(f"this model holds no document-topic counts (n_dk), so there is no "
                        f"theta for {what}")


def document_labels(model, doc_labels=None):
    """The label of each training document: ``doc_labels`` checked, or the row numbers 0..D-1.

    Parameters
    ----------
    model : esca.TopicModel
    doc_labels : sequence of length D, optional

    Returns
    -------
    list of length D

    Raises
    ------
    UserError
        If ``doc_labels`` does not have one label per document of the model.
    """
    if doc_labels is None:
        return list(range(model.num_docs))
    labels = list(doc_labels)
    if len(labels) != model.num_docs:
        raise UserError(f"{len(labels)} document labels given, but the model has "
                        f"{model.num_docs} documents")
    return labels


def doc_labels_from_corpus(model, corpus):
    """Document labels from the corpus the model was trained on.

    Parameters
    ----------
    model : esca.TopicModel
    corpus : str
        Path of the esca corpus (or ``builtin:NAME``) the model was trained on.

    Returns
    -------
    ndarray of int64, shape (D,)
        The corpus's ``doc_index`` (each document's position in the source
        before empty documents were dropped), or 0..D-1 if it has none.

    Raises
    ------
    UserError
        If the corpus cannot be read or its number of documents differs from the model's.
    """
    doc_ptr, _ = read_doc_ptr(corpus)
    D = len(doc_ptr) - 1
    if D != model.num_docs:
        raise UserError(f"corpus {corpus} has {D} documents but the model has "
                        f"{model.num_docs}; give the corpus the model was trained on")
    index = read_doc_index(corpus)
    return np.arange(D, dtype=np.int64) if index is None else index
