"""Exports of a trained model to other toolkits and file formats.

=========  ==============================================  =================================
format     what is written                                 read it back with
=========  ==============================================  =================================
gensim     ``DIR/lda.model`` (+ gensim's companion files),  ``gensim.models.LdaModel.load``,
           ``DIR/dictionary.dict``                          ``gensim.corpora.Dictionary.load``
mallet     ``DIR/topic-keys.txt``, ``DIR/doc-topics.txt``   Mallet's own tools, or
           (Mallet 2.0.8 ``--output-topic-keys`` and        ``pandas.read_csv(path, sep="\\t",
           ``--output-doc-topics``)                         header=None)``
csv        ``DIR/theta.csv`` (D x K), ``DIR/phi.csv``       ``pandas.read_csv(path, index_col=0)``
           (K x V)
pyldavis   ``FILE.html``, a pyLDAvis page with its          any web browser, offline
           JavaScript, CSS and data inlined
=========  ==============================================  =================================

Topic labels (``TopicModel.labels``, set with ``esca label``) are kept: gensim as
the attribute ``topic_labels`` of the saved ``LdaModel`` (a list of K str,
``LdaModel.load`` gives it back), csv as the ``label`` column of
``DIR/topics.csv`` (one row per topic: topic, label, tokens, share, top words),
mallet in ``DIR/topic-labels.txt`` (``topic<TAB>label`` lines, written only when
a topic is labelled; Mallet's own files have no place for labels), pyldavis in
the note under the page (LDAvis itself has no topic names).

Every export is atomic: the files are written to a temporary folder (or file)
beside the output and renamed into place at the end, so a failed export
leaves an earlier export intact (:func:`esca._io.write_folder`,
:func:`esca._io.atomic_output`).

One module per format: :mod:`esca.export.gensim`, :mod:`esca.export.mallet` (with
Java's number formatting), :mod:`esca.export.csv`, :mod:`esca.export.pyldavis` (its
HTML page in :mod:`esca.export._template`). :data:`FORMATS` maps each ``--format`` name
to its writer; ``esca export`` and :func:`export_model` go through it. Every public
name of the format modules is importable from ``esca.export``.

Documents are labelled by their row in the model's ``n_dk`` (0..D-1, corpus
order) unless the caller passes labels, e.g. the corpus's ``doc_index`` (their
position in the source before ``esca prepare`` dropped empty documents, see
:func:`doc_labels_from_corpus`). Models trained from a corpus file since issue 12 also
keep that ``doc_index`` (``TopicModel.doc_index``, used by ``top_documents`` and ``esca
topics --docs``), but the exports keep labelling by row unless given labels, so that an
export reads the same whatever model file version it came from.
"""

import os
from collections.abc import Callable
from typing import NamedTuple

from ..errors import UserError
from ..model import top_word_ids
from ._common import doc_labels_from_corpus, document_labels
from .csv import (
    CSV_PHI,
    CSV_THETA,
    CSV_TOPIC_WORDS,
    CSV_TOPICS,
    export_csv,
    to_dataframes,
    topic_labels,
    topics_dataframe,
)
from .gensim import GENSIM_DICTIONARY, GENSIM_MODEL, export_gensim, to_gensim, to_gensim_dictionary
from .mallet import (
    MALLET_DOC_TOPICS,
    MALLET_NUM_WORDS,
    MALLET_TOPIC_KEYS,
    MALLET_TOPIC_LABELS,
    export_mallet,
    mallet_topic_keys,
    write_mallet_doc_topics,
)
from .pyldavis import (
    PYLDAVIS_TERMS,
    export_pyldavis,
    import_pyldavis,
    pyldavis_html,
    pyldavis_prepare,
)


class ExportFormat(NamedTuple):
    """One row of :data:`FORMATS`: an export format and its writer.

    Attributes
    ----------
    name : str
        The ``--format`` value.
    writes : str
        What the export writes, in words.
    out_is_file : bool
        True if ``out`` is one file (pyldavis), False if it is a folder.
    takes_doc_labels : bool
        True if the format names documents (``doc_labels``, ``esca export --corpus``).
    export : callable
        ``export(model, out, *, num_words, doc_labels, protect) -> list of str`` (the paths
        written); ``num_words`` and ``doc_labels`` may be None (the format's default).
    check : callable or None
        Raises :class:`UserError` if an optional dependency of the format is missing;
        cheap, to be called before a slow model load.
    """

    name: str
    writes: str
    out_is_file: bool
    takes_doc_labels: bool
    export: Callable
    check: Callable | None = None


def _gensim(model, out, *, num_words, doc_labels, protect):
    export_gensim(model, out, protect=protect)
    out = os.path.abspath(out)
    return [os.path.join(out, GENSIM_MODEL), os.path.join(out, GENSIM_DICTIONARY)]


def _mallet(model, out, *, num_words, doc_labels, protect):
    return export_mallet(model, out, MALLET_NUM_WORDS if num_words is None else num_words,
                         doc_labels, protect=protect)


def _csv(model, out, *, num_words, doc_labels, protect):
    return export_csv(model, out, doc_labels, protect=protect)


def _pyldavis(model, out, *, num_words, doc_labels, protect):
    return [export_pyldavis(model, out, PYLDAVIS_TERMS if num_words is None else num_words,
                            protect=protect)]


#: The export formats by ``--format`` name, in the order ``esca export --help`` lists them.
FORMATS = {f.name: f for f in (
    ExportFormat("gensim", f"DIR/{GENSIM_MODEL} (+ gensim's companion files), "
                 f"DIR/{GENSIM_DICTIONARY}", False, False, _gensim),
    ExportFormat("mallet", f"DIR/{MALLET_TOPIC_KEYS}, DIR/{MALLET_DOC_TOPICS} "
                 f"(+ DIR/{MALLET_TOPIC_LABELS} when topics are labelled)", False, True, _mallet),
    ExportFormat("csv", f"DIR/{CSV_THETA}, DIR/{CSV_PHI}, DIR/{CSV_TOPICS}", False, True, _csv),
    ExportFormat("pyldavis", "FILE.html, a self-contained pyLDAvis page", True, False,
                 _pyldavis, check=import_pyldavis),
)}

EXPORT_FORMATS = tuple(FORMATS)


def export_model(model, fmt, out, *, num_words=None, doc_labels=None, protect=()):
    """Export ``model`` in format ``fmt`` to ``out``.

    ``fmt`` is one of :data:`EXPORT_FORMATS` (see :data:`FORMATS`).

    Parameters
    ----------
    model : esca.TopicModel
    fmt : str
        ``gensim``, ``mallet``, ``csv`` (``out`` is a folder) or ``pyldavis``
        (``out`` is an HTML file).
    out : str
    num_words : int, optional
        Words per topic: Mallet's topic keys (default 20) or the pyLDAvis bar
        chart (default 30); ignored by gensim and csv.
    doc_labels : sequence of length D, optional
        Document names for mallet and csv (default 0..D-1).
    protect : iterable of (str, str)
        ``(name, path)`` of files that must not be replaced, e.g. ``[("MODEL.h5",
        "m.h5")]``: an output that is one of them (also through symbolic or hard
        links) raises :class:`UserError` before anything is written.

    Returns
    -------
    list of str
        The paths written.

    Raises
    ------
    UserError
        An unknown format, or as the format's own export function.
    """
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}; choose one of "
                        f"{', '.join(EXPORT_FORMATS)}")
    return FORMATS[fmt].export(model, out, num_words=num_words, doc_labels=doc_labels,
                               protect=protect)


__all__ = ["CSV_PHI", "CSV_THETA", "CSV_TOPICS", "CSV_TOPIC_WORDS", "EXPORT_FORMATS", "FORMATS",
           "GENSIM_DICTIONARY", "GENSIM_MODEL", "MALLET_DOC_TOPICS", "MALLET_NUM_WORDS",
           "MALLET_TOPIC_KEYS", "MALLET_TOPIC_LABELS", "PYLDAVIS_TERMS", "ExportFormat",
           "doc_labels_from_corpus", "document_labels", "export_csv", "export_gensim",
           "export_mallet", "export_model", "export_pyldavis", "import_pyldavis",
           "mallet_topic_keys", "pyldavis_html", "pyldavis_prepare", "to_dataframes",
           "to_gensim", "to_gensim_dictionary", "top_word_ids", "topic_labels",
           "topics_dataframe", "write_mallet_doc_topics"]
