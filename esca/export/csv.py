"""The csv export: ``theta.csv`` (D x K), ``phi.csv`` (K x V) and ``topics.csv``.

pandas is imported when a table is built, not with this module: ``esca --help`` and the
other exports do not pay for it.
"""

import os

import numpy as np

from .._io import write_folder
from ._common import document_labels, require_theta

CSV_THETA = "theta.csv"
CSV_PHI = "phi.csv"
CSV_TOPICS = "topics.csv"
CSV_TOPIC_WORDS = 20  # top words per topic in topics.csv


def topic_labels(num_topics):
    """Column/row labels of the topics in the CSV export: ``topic_0`` .. ``topic_{K-1}``."""
    return [f"topic_{k}" for k in range(num_topics)]


def to_dataframes(model, doc_labels=None):
    """theta and phi as labelled :class:`pandas.DataFrame` objects.

    Returns
    -------
    theta : DataFrame, shape (D, K)
        Index: document labels (named ``doc``); columns: ``topic_0`` ..
        ``topic_{K-1}``; theta_dk = (n_dk + alpha_k) / (n_d + sum alpha).
    phi : DataFrame, shape (K, V)
        Index: ``topic_0`` .. (unnamed, so that no word can clash with it);
        columns: the vocabulary in word-id order; phi_kw = (n_kw + beta) /
        (n_k + V beta).

    Raises
    ------
    UserError
        If the model holds no ``n_dk`` or ``doc_labels`` has the wrong length.
    """
    import pandas as pd  # noqa: PLC0415 - pandas is slow to import
    require_theta(model, CSV_THETA)
    labels = topic_labels(model.num_topics)
    theta = pd.DataFrame(model.theta, columns=labels,
                         index=pd.Index(document_labels(model, doc_labels), name="doc"))
    phi = pd.DataFrame(model.phi, index=pd.Index(labels), columns=pd.Index(model.vocab))
    return theta, phi


def topics_dataframe(model, num_words=CSV_TOPIC_WORDS):
    """One row per topic: ``topic``, ``label``, ``tokens`` (n_k), ``share``, ``top_words``.

    ``share`` is n_k / N.

    ``top_words`` is the topic's ``num_words`` top words (by n_kw, ties by lower
    word id) joined by spaces; ``label`` is "" for an unlabelled topic.
    """
    import pandas as pd  # noqa: PLC0415 - pandas is slow to import
    N = max(model.num_tokens, 1)
    return pd.DataFrame({"topic": np.arange(model.num_topics), "label": model.labels,
                         "tokens": model.n_k, "share": model.n_k / N,
                         "top_words": [" ".join(w) for w in model.topics(num_words)]})


def export_csv(model, out_dir, doc_labels=None, *, protect=()):
    """Write ``out_dir/theta.csv`` (D x K), ``out_dir/phi.csv`` (K x V) and ``out_dir/topics.csv``.

    Comma-separated, UTF-8, written by :meth:`pandas.DataFrame.to_csv`: the
    first row holds the column labels (``doc,topic_0,...`` in theta.csv; an
    empty cell then the words in phi.csv), the first column the row labels
    (document labels; ``topic_0`` ...). Floats are written with Python's
    shortest round-trip repr, so ``pandas.read_csv(path, index_col=0)`` gives
    back exactly ``model.theta`` and ``model.phi``. Words holding commas or
    quotes are quoted; an empty word would come back as ``Unnamed: i``.
    phi.csv has about 20 bytes per (topic, word) pair: 2 GB for K=1000 and
    V=100,000. topics.csv is :func:`topics_dataframe` (topic, label, tokens,
    share, top 20 words), without an index column.

    Returns
    -------
    list of str
        The paths of theta.csv, phi.csv and topics.csv.

    Raises
    ------
    UserError
        As :func:`to_dataframes`, an output folder that cannot be written, or a file
        written that would replace one of ``protect`` (see :func:`export_model`).
    """
    theta, phi = to_dataframes(model, doc_labels)
    topics = topics_dataframe(model)

    def write(tmp):
        theta.to_csv(os.path.join(tmp, CSV_THETA), encoding="utf-8", lineterminator="\n")
        phi.to_csv(os.path.join(tmp, CSV_PHI), index_label="", encoding="utf-8",
                   lineterminator="\n")
        topics.to_csv(os.path.join(tmp, CSV_TOPICS), index=False, encoding="utf-8",
                      lineterminator="\n")

    write_folder(out_dir, write, protect)
    out_dir = os.path.abspath(out_dir)
    return [os.path.join(out_dir, name) for name in (CSV_THETA, CSV_PHI, CSV_TOPICS)]
