"""The pyLDAvis export: an interactive, self-contained HTML page of the model.

pyLDAvis is an optional dependency (``pip install 'esca-lda[viz]'``), imported when a page
is made; the page template is in :mod:`esca.export._template`.
"""

import os

import numpy as np

from .._io import atomic_output, check_not_input, check_output_file
from ..errors import UserError
from ._template import render_page

PYLDAVIS_TERMS = 30  # pyLDAvis's default R; its page shows at most 30 terms

_PYLDAVIS_MISSING = "pyLDAvis is not installed: pip install 'esca-lda[viz]'"


def import_pyldavis():
    """The :mod:`pyLDAvis` module (with :mod:`pyLDAvis.urls`).

    Raises
    ------
    UserError
        If pyLDAvis is not installed: ``pip install 'esca-lda[viz]'``.
    """
    try:
        import pyLDAvis  # noqa: PLC0415 - optional, slow to import
        import pyLDAvis.urls  # noqa: PLC0415 - optional, slow to import
    except ImportError:
        raise UserError(_PYLDAVIS_MISSING) from None
    return pyLDAvis


def pyldavis_prepare(model, terms=PYLDAVIS_TERMS, n_jobs=1):
    """The model as :func:`pyLDAvis.prepare` data (Sievert & Shirley 2014, LDAvis).

    Topics keep esca's order (``sort_topics=False``); LDAvis numbers them
    from 1, so LDAvis topic t is esca topic t-1. Circle areas are the topic
    shares sum_d theta_dk n_d / N. A model without ``n_dk`` (or whose ``n_dk``
    is all zero) is shown as one document holding the whole corpus, theta_k =
    (n_k + alpha_k) / (N + sum alpha). Word bars use ``term_frequency`` =
    column sums of ``n_kw``. Topics are placed by pyLDAvis's PCoA of their
    Jensen-Shannon distances, which needs K >= 2; the one topic of a K = 1
    model is drawn alone in the middle of the map.

    Cost: pyLDAvis ranks all V words of every topic for 101 values of lambda,
    about 8 s per million (topic, word) pairs on one core: 1 s for K=5,
    V=30,000, 12 s for K=50, V=30,000 (pandas 3.1, one core).

    Parameters
    ----------
    model : esca.TopicModel
    terms : int
        pyLDAvis's R, the words in the bar chart, 1..30 (the page shows at most 30).
    n_jobs : int
        joblib processes for the relevance ranking (pyLDAvis's default -1 uses all cores).

    Returns
    -------
    pyLDAvis.PreparedData

    Raises
    ------
    UserError
        If pyLDAvis is not installed (``pip install 'esca-lda[viz]'``), ``terms``
        is out of range, or the model holds no tokens (N = 0).
    """
    pyLDAvis = import_pyldavis()
    terms = int(terms)
    if not 1 <= terms <= 30:
        raise UserError(f"pyLDAvis shows 1 to 30 words per topic, got {terms}")
    N = model.num_tokens
    if N == 0:
        raise UserError("the model holds no tokens (N = 0, every n_k is 0), so pyLDAvis has "
                        "no topic shares or word frequencies to show")
    if model.n_dk is not None and model.n_dk.sum(dtype=np.int64) > 0:
        theta = model.theta
        lengths = model.n_dk.sum(axis=1, dtype=np.int64)
    else:
        theta = ((model.n_k + model.alpha) / (N + model.alpha.sum()))[None, :]
        lengths = np.array([N], dtype=np.int64)
    # pyLDAvis's PCoA needs K >= 2; one topic sits alone in the middle of the map.
    mds = "pcoa" if model.num_topics > 1 else (lambda dists: np.zeros((1, 2)))
    return pyLDAvis.prepare(topic_term_dists=model.phi, doc_topic_dists=theta,
                            doc_lengths=lengths, vocab=list(model.vocab),
                            term_frequency=model.n_kw.sum(axis=0, dtype=np.int64),
                            R=terms, sort_topics=False, start_index=1, n_jobs=n_jobs,
                            mds=mds)


def pyldavis_html(prepared, title="esca topic model", note=""):
    """A complete, self-contained HTML page of pyLDAvis data; needs no network.

    d3 (v5) and LDAvis's JavaScript and CSS are read from the files that ship
    with pyLDAvis (``pyLDAvis.urls.D3_LOCAL``, ``LDAVIS_LOCAL``,
    ``LDAVIS_CSS_LOCAL``) and inlined with the data, instead of the CDN
    addresses of ``pyLDAvis.save_html``. A small script in front makes
    LDAvis's URL state (``#topic=..&lambda=..&term=..``) work for pages opened
    from a file.

    Parameters
    ----------
    prepared : pyLDAvis.PreparedData
        From :func:`pyldavis_prepare` (or :func:`pyLDAvis.prepare`).
    title, note : str
        Plain text for the page title/heading and the line under it.

    Returns
    -------
    str
    """
    pyLDAvis = import_pyldavis()
    urls = pyLDAvis.urls

    def read(path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    return render_page(title, note, css=read(urls.LDAVIS_CSS_LOCAL), d3=read(urls.D3_LOCAL),
                       ldavis=read(urls.LDAVIS_LOCAL), data=prepared.to_json())


def export_pyldavis(model, out_html, terms=PYLDAVIS_TERMS, n_jobs=1, title=None, *,
                    protect=()):
    """Write an interactive pyLDAvis page of the model to ``out_html`` (atomically).

    The page works offline: everything it needs is inlined (see
    :func:`pyldavis_html`). Topics keep esca's order; LDAvis topic t is esca
    topic t-1 (see :func:`pyldavis_prepare`).

    Parameters
    ----------
    model : esca.TopicModel
    out_html : str
        The HTML file to write; its folder must exist.
    terms : int
        Words in the bar chart, 1..30 (default 30).
    n_jobs : int
        joblib processes for pyLDAvis (default 1).
    title : str, optional
        Page title; default names K, V, D and N.

    Returns
    -------
    str
        The absolute path written.

    Raises
    ------
    UserError
        pyLDAvis missing, ``terms`` out of range, an output path that cannot be written,
        or one of ``protect`` (see :func:`export_model`).
    """
    check_not_input(out_html, protect)
    out_html = os.path.abspath(out_html)
    check_output_file(out_html)
    import_pyldavis()
    prepared = pyldavis_prepare(model, terms=terms, n_jobs=n_jobs)
    K, V, D, N = model.num_topics, model.num_words, model.num_docs, model.num_tokens
    if title is None:
        corpus = model.info.get("corpus")
        title = f"esca topic model: K={K} topics" + (f" of {corpus}" if corpus else "")
    note = (f"K={K} topics, V={V:,} words, D={D:,} documents, N={N:,} tokens; "
            f"alpha sum {model.alpha.sum():.4g}, beta {model.beta:g}. LDAvis numbers topics "
            f"from 1: topic t here is esca topic t-1 (esca topics MODEL.h5). Circle areas are "
            f"topic shares; bars show the {prepared.R} most relevant words "
            f"(Sievert & Shirley 2014).")
    named = [(k, x) for k, x in enumerate(model.labels) if x]
    if named:
        note += " Topic labels: " + "; ".join(f"{k + 1} = {x}" for k, x in named) + "."
    page = pyldavis_html(prepared, title=title, note=note)
    with atomic_output(out_html) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(page)
    return out_html
