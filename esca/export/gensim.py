"""The gensim export: ``lda.model`` (``LdaModel.save``) and ``dictionary.dict``."""

import os

import numpy as np

from .._io import check_not_input, check_output_dir, write_folder

GENSIM_MODEL = "lda.model"
GENSIM_DICTIONARY = "dictionary.dict"


def to_gensim_dictionary(model):
    """A :class:`gensim.corpora.Dictionary` of our vocabulary (id i is ``model.vocab[i]``).

    Document frequencies come from ``model.word_df`` when present; collection
    frequencies are the column sums of ``n_kw``.
    """
    from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import
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
    alpha (K,) (the optimized one when training ran with
    ``--optimize-interval``) and ``eta`` = our beta (gensim's name for the
    topic-word prior; passing the real beta matters: eta=0 would give unseen
    words zero probability), then its sufficient statistics are set to the
    counts, ``state.sstats = n_kw``, and ``sync_state()`` recomputes
    ``expElogbeta``. gensim's topics are then lambda / lambda.sum(1) with
    lambda = n_kw + beta, which is exactly our ``phi``. The topic labels are
    kept as the extra attribute ``topic_labels`` (list of K str, "" unlabelled).

    Parameters
    ----------
    model : esca.TopicModel
    dictionary : gensim.corpora.Dictionary, optional
        Default :func:`to_gensim_dictionary`.

    Returns
    -------
    gensim.models.LdaModel
    """
    from gensim.models import LdaModel  # noqa: PLC0415 - gensim is slow to import
    if dictionary is None:
        dictionary = to_gensim_dictionary(model)
    lda = LdaModel(id2word=dictionary, num_topics=model.num_topics, alpha=model.alpha.copy(),
                   eta=model.beta, dtype=np.float64, random_state=model.config.seed)
    lda.state.sstats[...] = model.n_kw
    lda.state.numdocs = model.num_docs
    lda.sync_state()
    lda.topic_labels = model.labels  # ours; pickled with the model by LdaModel.save
    return lda


def export_gensim(model, out_dir, *, protect=()):
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
        not exist or is not writable, or a file written would replace one of
        ``protect`` (see :func:`export_model`).
    """
    check_not_input(out_dir, protect)
    out_dir = os.path.abspath(out_dir)
    check_output_dir(out_dir)
    dictionary = to_gensim_dictionary(model)
    lda = to_gensim(model, dictionary)

    def write(tmp):
        dictionary.save(os.path.join(tmp, GENSIM_DICTIONARY))
        lda.save(os.path.join(tmp, GENSIM_MODEL))

    write_folder(out_dir, write, protect)
    return os.path.join(out_dir, GENSIM_MODEL)
