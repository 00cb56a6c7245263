"""Exports of a trained model to other toolkits (gensim)."""

import os
import shutil
import tempfile

import numpy as np

from ._io import check_output_dir

GENSIM_MODEL = "lda.model"
GENSIM_DICTIONARY = "dictionary.dict"


def to_gensim_dictionary(model):
    """A :class:`gensim.corpora.Dictionary` of our vocabulary (id i is ``model.vocab[i]``).

    Document frequencies come from ``model.word_df`` when present; collection
    frequencies are the column sums of ``n_kw``.
    """
    from gensim.corpora import Dictionary
    d = Dictionary()
    d.token2id = {w: i for i, w in enumerate(model.vocab)}
    cfs = model.n_kw.sum(axis=0, dtype=np.int64)
    d.cfs = {i: int(c) for i, c in enumerate(cfs)}
    if model.word_df is not None:
        d.dfs = {i: int(c) for i, c in enumerate(model.word_df)}
        d.num_nnz = int(model.word_df.sum())
    d.num_docs = model.num_docs
    d.num_pos = model.num_tokens
    return d


def to_gensim(model, dictionary=None):
    """Build a :class:`gensim.models.LdaModel` holding this model's topics.

    The gensim model is created untrained with ``alpha`` = our per-topic
    alpha (K,) and ``eta`` = our beta (gensim's name for the topic-word
    prior; passing the real beta matters: eta=0 would give unseen words zero
    probability), then its sufficient statistics are set to the counts,
    ``state.sstats = n_kw``, and ``sync_state()`` recomputes ``expElogbeta``.
    gensim's topics are then lambda / lambda.sum(1) with lambda = n_kw + beta,
    which is exactly our ``phi``.

    Parameters
    ----------
    model : esca.TopicModel
    dictionary : gensim.corpora.Dictionary, optional
        Default :func:`to_gensim_dictionary`.

    Returns
    -------
    gensim.models.LdaModel
    """
    from gensim.models import LdaModel
    if dictionary is None:
        dictionary = to_gensim_dictionary(model)
    lda = LdaModel(id2word=dictionary, num_topics=model.num_topics, alpha=model.alpha.copy(),
                   eta=model.beta, dtype=np.float64, random_state=model.config.seed)
    lda.state.sstats[...] = model.n_kw
    lda.state.numdocs = model.num_docs
    lda.sync_state()
    return lda


def export_gensim(model, out_dir):
    """Write ``out_dir/lda.model`` (gensim ``LdaModel.save``) and ``out_dir/dictionary.dict``.

    Load them with ``gensim.models.LdaModel.load(out_dir + "/lda.model")``
    and ``gensim.corpora.Dictionary.load(out_dir + "/dictionary.dict")``.
    Files are written to a temporary folder first and moved in at the end,
    so a failed export leaves an earlier export in ``out_dir`` intact.

    Returns
    -------
    str
        Path of the saved ``LdaModel``.

    Raises
    ------
    esca.UserError
        If ``out_dir`` is an existing file, or the folder that holds it does
        not exist or is not writable.
    """
    out_dir = os.path.abspath(out_dir)
    check_output_dir(out_dir)
    dictionary = to_gensim_dictionary(model)
    lda = to_gensim(model, dictionary)
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".esca-export-", dir=out_dir)
    try:
        dictionary.save(os.path.join(tmp, GENSIM_DICTIONARY))
        lda.save(os.path.join(tmp, GENSIM_MODEL))
        for name in sorted(os.listdir(tmp)):
            os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return os.path.join(out_dir, GENSIM_MODEL)
