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
leaves an earlier export intact.

Documents are labelled by their row in the model's ``n_dk`` (0..D-1, corpus
order) unless the caller passes labels, e.g. the corpus's ``doc_index`` (their
position in the source before ``esca prepare`` dropped empty documents, see
:func:`doc_labels_from_corpus`). Models trained from a corpus file since issue 12 also
keep that ``doc_index`` (``TopicModel.doc_index``, used by ``top_documents`` and ``esca
topics --docs``), but the exports keep labelling by row unless given labels, so that an
export reads the same whatever model file version it came from.
"""

import decimal
import html
import os
import re
import shutil

import numpy as np

from ._io import (atomic_output, check_not_input, check_output_dir,
                  check_output_file, check_outputs_not_inputs, make_temp_dir, output_folder)
from .errors import UserError
from .model import top_word_ids

EXPORT_FORMATS = ("gensim", "mallet", "csv", "pyldavis")

GENSIM_MODEL = "lda.model"
GENSIM_DICTIONARY = "dictionary.dict"
MALLET_TOPIC_KEYS = "topic-keys.txt"
MALLET_DOC_TOPICS = "doc-topics.txt"
MALLET_TOPIC_LABELS = "topic-labels.txt"  # ours, beside Mallet's files, when topics are labelled
MALLET_NUM_WORDS = 20  # Mallet's default --num-top-words
CSV_THETA = "theta.csv"
CSV_PHI = "phi.csv"
CSV_TOPICS = "topics.csv"
CSV_TOPIC_WORDS = 20  # top words per topic in topics.csv
PYLDAVIS_TERMS = 30  # pyLDAvis's default R; its page shows at most 30 terms

_PYLDAVIS_MISSING = "pyLDAvis is not installed: pip install 'esca-lda[viz]'"


# -- shared helpers -----------------------------------------------------------------------------

def _write_into_dir(out_dir, write, protect=()):
    """Run ``write(tmp_dir)`` and move every file it made into ``out_dir``; returns their paths.

    The files are written into a temporary folder inside ``out_dir`` (named after
    this process; stale ones of killed processes are removed first, see
    :func:`esca._io.remove_stale_temporaries`), synced, and renamed over any files of
    the same names only after ``write`` returned, so an earlier export survives a
    failure. Other files of ``out_dir`` are left alone.

    Raises
    ------
    UserError
        If ``out_dir`` is an existing file or not writable, or the folder that
        holds it does not exist or is not writable, or a file written would
        replace one of ``protect`` (``(name, path)`` pairs of the inputs).
    """
    check_not_input(out_dir, protect)
    shown, out_dir = out_dir, os.path.abspath(out_dir)
    check_output_dir(out_dir)
    if os.path.isdir(out_dir) and not os.access(out_dir, os.W_OK):
        raise UserError(f"output folder is not writable: {out_dir}")
    # A new folder goes again on failure; a full disk (any OSError of the writes) is one
    # WriteError naming the folder.
    with output_folder(out_dir):
        tmp = make_temp_dir(out_dir)
        try:
            write(tmp)
            names = sorted(os.listdir(tmp))
            check_outputs_not_inputs(shown, names, protect)
            for name in names:
                with open(os.path.join(tmp, name), "rb+") as f:
                    os.fsync(f.fileno())
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
            dfd = os.open(out_dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(out_dir, name) for name in names]


def _require_theta(model, what):
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
    from .corpus import read_doc_index, read_doc_ptr
    doc_ptr, _ = read_doc_ptr(corpus)
    D = len(doc_ptr) - 1
    if D != model.num_docs:
        raise UserError(f"corpus {corpus} has {D} documents but the model has "
                        f"{model.num_docs}; give the corpus the model was trained on")
    index = read_doc_index(corpus)
    return np.arange(D, dtype=np.int64) if index is None else index


# -- gensim -------------------------------------------------------------------------------------

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
    from gensim.models import LdaModel
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

    _write_into_dir(out_dir, write, protect)
    return os.path.join(out_dir, GENSIM_MODEL)


# -- Mallet -------------------------------------------------------------------------------------

def _java_number_format(x):
    """``x`` as Mallet's ``formatter`` prints it: Java ``NumberFormat.getInstance()`` (en-US).

    At most 5 fraction digits, rounded half-even on the exact binary value,
    trailing zeros dropped, thousands grouped with commas: 0.1 -> ``0.1``,
    0.0123456 -> ``0.01235``, 2 -> ``2``, 1234.5 -> ``1,234.5``.
    """
    d = decimal.Decimal(float(x)).quantize(decimal.Decimal("0.00001"),
                                           rounding=decimal.ROUND_HALF_EVEN)
    s = f"{d:,f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _java_double(x):
    """``x`` as Java's ``Double.toString`` writes it (JDK 19+: shortest round-trip digits).

    Plain decimal with at least one fraction digit for 1e-3 <= |x| < 1e7
    (``0.25``, ``1.0``), else computerized scientific notation (``1.25E-4``).
    """
    x = float(x)
    if x == 0.0 or 1e-3 <= abs(x) < 1e7 or not np.isfinite(x):
        if not np.isfinite(x):
            return "NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
        s = repr(x)  # Python uses positional notation for 1e-4 <= |x| < 1e16
        return s if "." in s else s + ".0"
    sign, digits, exp = decimal.Decimal(repr(x)).as_tuple()
    e = len(digits) - 1 + exp  # the exponent of the first significant digit
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}E{e}"


def _one_field(text):
    """``text`` with tabs and line breaks made spaces, so that it stays one TSV field."""
    return re.sub(r"[\t\r\n]", " ", str(text))


def mallet_topic_keys(model, num_words=MALLET_NUM_WORDS):
    """The text of Mallet's ``--output-topic-keys`` file.

    One line per topic, as Mallet 2.0.8 ``ParallelTopicModel.displayTopWords``
    writes it: the topic number, a tab, the topic's alpha (Java
    ``NumberFormat``, at most 5 fraction digits), a tab, then its top words by
    count, each followed by one space (so the line ends with a space), then
    ``\\n``. Like Mallet, only words with a non-zero count in the topic are
    listed; ties are broken by lower word id. (Mallet's words never hold
    whitespace; a tab or line break in one of ours is written as a space, and a
    word holding a space reads back as two words: gensim and csv exports keep such
    words whole.)

    Parameters
    ----------
    model : esca.TopicModel
    num_words : int
        Mallet's ``--num-top-words`` (default 20).

    Returns
    -------
    str

    Raises
    ------
    UserError
        If ``num_words`` < 1.
    """
    if int(num_words) < 1:
        raise UserError(f"number of top words must be >= 1, got {num_words}")
    lines = []
    for k, ids in enumerate(top_word_ids(model.n_kw, num_words, nonzero=True)):
        words = "".join(_one_field(model.vocab[i]) + " " for i in ids)
        lines.append(f"{k}\t{_java_number_format(model.alpha[k])}\t{words}\n")
    return "".join(lines)


def write_mallet_doc_topics(model, path, doc_labels=None):
    """Write Mallet's ``--output-doc-topics`` file (the dense form of Mallet 2.0.8).

    One line per training document, no header: the document's number
    (0..D-1), a tab, its name (``doc_labels``, default the number again), then
    for every topic in topic order a tab and theta_dk = (n_dk + alpha_k) /
    (n_d + sum alpha), the same estimate as Mallet's
    ``printDenseDocumentTopics``. Numbers are written as Java's
    ``Double.toString`` does (``0.0123``, ``4.5E-4``). (Mallet before 2.0.8
    wrote a ``#doc name topic proportion ...`` header and sorted
    topic/proportion pairs; 2.0.8 writes this dense form by default.)

    Parameters
    ----------
    model : esca.TopicModel
    path : str
    doc_labels : sequence of length D, optional

    Raises
    ------
    UserError
        If the model holds no ``n_dk`` or ``doc_labels`` has the wrong length.
    """
    _require_theta(model, MALLET_DOC_TOPICS)
    labels = document_labels(model, doc_labels)
    cache = {}

    def fmt(x):
        s = cache.get(x)
        if s is None:
            s = cache[x] = _java_double(x)
        return s

    theta = model.theta
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for d in range(theta.shape[0]):
            name = _one_field(labels[d])
            f.write(f"{d}\t{name}\t" + "\t".join(map(fmt, theta[d].tolist())) + "\n")


def export_mallet(model, out_dir, num_words=MALLET_NUM_WORDS, doc_labels=None, *, protect=()):
    """Write ``out_dir/topic-keys.txt`` and ``out_dir/doc-topics.txt`` as Mallet 2.0.8 does.

    See :func:`mallet_topic_keys` and :func:`write_mallet_doc_topics` for
    the formats. Both are tab-separated without a header:
    ``pandas.read_csv(path, sep="\\t", header=None)`` reads them.

    When a topic is labelled, ``out_dir/topic-labels.txt`` is written too:
    one ``topic<TAB>label`` line per topic ("" where unlabelled).

    Returns
    -------
    list of str
        The two paths (three with ``topic-labels.txt``).

    Raises
    ------
    UserError
        Bad ``num_words`` or ``doc_labels``, a model without ``n_dk``, an
        output folder that cannot be written, or a file written that would replace
        one of ``protect`` (see :func:`export_model`).
    """
    _require_theta(model, MALLET_DOC_TOPICS)
    labels = document_labels(model, doc_labels)
    keys = mallet_topic_keys(model, num_words)
    topic_names = model.labels
    names = [MALLET_TOPIC_KEYS, MALLET_DOC_TOPICS] + ([MALLET_TOPIC_LABELS] if any(topic_names)
                                                      else [])

    def write(tmp):
        with open(os.path.join(tmp, MALLET_TOPIC_KEYS), "w", encoding="utf-8",
                  newline="\n") as f:
            f.write(keys)
        write_mallet_doc_topics(model, os.path.join(tmp, MALLET_DOC_TOPICS), labels)
        if any(topic_names):
            with open(os.path.join(tmp, MALLET_TOPIC_LABELS), "w", encoding="utf-8",
                      newline="\n") as f:
                f.writelines(f"{k}\t{_one_field(x)}\n" for k, x in enumerate(topic_names))

    _write_into_dir(out_dir, write, protect)
    out_dir = os.path.abspath(out_dir)
    return [os.path.join(out_dir, name) for name in names]


# -- CSV ----------------------------------------------------------------------------------------

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
    import pandas as pd
    _require_theta(model, CSV_THETA)
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
    import pandas as pd
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

    _write_into_dir(out_dir, write, protect)
    out_dir = os.path.abspath(out_dir)
    return [os.path.join(out_dir, name) for name in (CSV_THETA, CSV_PHI, CSV_TOPICS)]


# -- pyLDAvis -----------------------------------------------------------------------------------

def _import_pyldavis():
    try:
        import pyLDAvis
        import pyLDAvis.urls
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
    pyLDAvis = _import_pyldavis()
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


# LDAvis keeps its state in the URL with history.replaceState(location.origin + ...); a page
# opened from a file has the origin "null", so Chromium refuses that URL (SecurityError on
# every click). Keep only the "#topic=..." fragment for file pages; it works everywhere.
_HISTORY_SHIM = """\
(function () {
  if (window.location.origin !== "null" || !window.history) { return; }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = window.history[name].bind(window.history);
    window.history[name] = function (state, title, url) {
      var hash = typeof url === "string" ? url.indexOf("#") : -1;
      return original(state, title, hash >= 0 ? url.slice(hash) : url);
    };
  });
})();"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
{css}
</style>
<style>
body {{ font-family: sans-serif; margin: 12px; background: white; }}
p.esca-note {{ font-size: 13px; color: #444; margin: 0 0 8px 0; }}
</style>
</head>
<body>
<h1 style="font-size: 18px; margin: 0 0 4px 0;">{title}</h1>
<p class="esca-note">{note}</p>
<div id="{visid}" style="background-color: white;"></div>
<script>
{shim}
</script>
<script>
{d3}
</script>
<script>
{ldavis}
</script>
<script>
var {visid}_data = {data};
new LDAvis("#{visid}", {visid}_data);
</script>
</body>
</html>
"""


def _inline_script(code):
    """JavaScript made safe to sit between ``<script>`` and ``</script>``."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def _inline_style(css):
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _inline_json(text):
    """JSON text as a JavaScript literal inside ``<script>``: ``<``, ``>``, ``&``, U+2028/9 escaped.

    These characters can only occur inside JSON strings, where the ``\\uXXXX``
    escapes mean the same characters.
    """
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


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
    pyLDAvis = _import_pyldavis()
    urls = pyLDAvis.urls

    def read(path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    return _PAGE.format(
        title=html.escape(title), note=html.escape(note), visid="ldavis_esca",
        css=_inline_style(read(urls.LDAVIS_CSS_LOCAL)), shim=_HISTORY_SHIM,
        d3=_inline_script(read(urls.D3_LOCAL)), ldavis=_inline_script(read(urls.LDAVIS_LOCAL)),
        data=_inline_json(prepared.to_json()))


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
    _import_pyldavis()
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


def export_model(model, fmt, out, *, num_words=None, doc_labels=None, protect=()):
    """Export ``model`` in format ``fmt`` (one of :data:`EXPORT_FORMATS`) to ``out``.

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
    if fmt == "gensim":
        export_gensim(model, out, protect=protect)
        out = os.path.abspath(out)
        return [os.path.join(out, GENSIM_MODEL), os.path.join(out, GENSIM_DICTIONARY)]
    if fmt == "mallet":
        return export_mallet(model, out, MALLET_NUM_WORDS if num_words is None else num_words,
                             doc_labels, protect=protect)
    if fmt == "csv":
        return export_csv(model, out, doc_labels, protect=protect)
    if fmt == "pyldavis":
        return [export_pyldavis(model, out, PYLDAVIS_TERMS if num_words is None else num_words,
                                protect=protect)]
    raise UserError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")


__all__ = ["EXPORT_FORMATS", "doc_labels_from_corpus", "document_labels", "export_csv",
           "export_gensim", "export_mallet", "export_model", "export_pyldavis",
           "mallet_topic_keys", "pyldavis_html", "pyldavis_prepare", "to_dataframes",
           "topics_dataframe",
           "to_gensim", "to_gensim_dictionary", "top_word_ids", "write_mallet_doc_topics"]
