"""The Mallet export: ``topic-keys.txt`` and ``doc-topics.txt`` as Mallet 2.0.8 writes them.

Numbers are formatted as Java does (:func:`_java_number_format` for Mallet's
``NumberFormat``, :func:`_java_double` for ``Double.toString``), so that the files match
Mallet's byte for byte.
"""

import decimal
import os
import re

import numpy as np

from .._io import write_folder
from ..errors import UserError
from ..model import top_word_ids
from ._common import document_labels, require_theta

MALLET_TOPIC_KEYS = "topic-keys.txt"
MALLET_DOC_TOPICS = "doc-topics.txt"
MALLET_TOPIC_LABELS = "topic-labels.txt"  # ours, beside Mallet's files, when topics are labelled
MALLET_NUM_WORDS = 20  # Mallet's default --num-top-words


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
    require_theta(model, MALLET_DOC_TOPICS)
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
    require_theta(model, MALLET_DOC_TOPICS)
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

    write_folder(out_dir, write, protect)
    out_dir = os.path.abspath(out_dir)
    return [os.path.join(out_dir, name) for name in names]
