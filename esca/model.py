"""The trained model: count tables, priors, configuration and training log, in one HDF5 file.

Layout (format version 1)::

    /n_kw      int32   (K, V)  topic-word counts
    /n_k       int64   (K,)    tokens per topic (row sums of n_kw)
    /n_dk      int32   (D, K)  document-topic counts, documents in corpus order
    /alpha     float64 (K,)    document-topic prior per topic
    /vocab     UTF-8 strings (V,)
    /word_df   int64   (V,)    document frequency of each word (for the gensim Dictionary)
    /z         uint16 (int32 when K > 65536) (N,), collapsed Gibbs models only: the topic of
               every token, in corpus order with each document's tokens sorted by word id (the
               samplers' order), which continuing a cgs model needs (``esca train --continue``);
               optional, models without it still load
    /topic_labels UTF-8 strings (K,)  optional: a label per topic set by the user ("" = none)
    /doc_index int64   (D,)    optional: each training document's ``doc_index`` in its corpus
                               (its position in the source before ``esca prepare``)
    /log/...   per-iteration arrays: iteration, seconds (sweep + count exchange, on rank 0,
               without the log-likelihood), tokens_per_s (N / seconds), loglik_per_token
               (NaN where not computed), sample_s, count_s, allreduce_s (seconds), tables_s
               (the part of sample_s spent building ESCA's per-word tables),
               exchange_bytes (bytes rank 0 received in the count exchange), alpha_sum
               and beta (the priors after the iteration; they change with --optimize-interval)
    attrs: format="esca-model", format_version=1, beta, sampler, seed, iterations,
           config (JSON of esca.TrainConfig), corpus (JSON), ranks, threads, esca_version
"""

import json
import math
import os
import sys

import h5py
import numpy as np

from ._h5 import attr, check_format, damaged, dataset, open_file, read_vocab
from ._io import atomic_h5
from ._version import __version__
from .config import TrainConfig
from .corpus import check_vocab
from .errors import UserError
from .inputs import model_word_ids

FORMAT = "esca-model"
FORMAT_VERSION = 1
MAX_SORT_ENTRIES = 1 << 24  # entries of n_kw ranked per block by top_word_ids


def _top_ids_generic(row, n):
    """:func:`top_word_ids` of one row of any numeric dtype (partition, then lexsort)."""
    kth = np.partition(row, row.shape[0] - n)[row.shape[0] - n]
    cand = np.flatnonzero(row >= kth)
    return cand[np.lexsort((cand, -row[cand]))][:n]


def top_word_ids(counts, n, nonzero=False):
    """Ids of the ``n`` largest entries of ``counts`` (per row), largest first, ties by lower id.

    Ranking a topic's words by ``n_kw`` gives their order by phi_kw =
    (n_kw + beta) / (n_k + V beta), which is increasing in n_kw within a topic;
    so no phi is needed. Integer counts are ranked by the unique key
    ``n_kw * V + (V - 1 - w)`` with ``np.argpartition`` (O(V) per row) and only
    the ``n`` chosen ids are sorted; rows are processed in blocks of at most
    :data:`MAX_SORT_ENTRIES` entries.

    Parameters
    ----------
    counts : array_like, shape (V,) or (K, V)
        Counts (or any numbers) of one topic, or of every topic.
    n : int
        Ids to return per row; more than V gives V.
    nonzero : bool
        Leave out entries equal to 0 (Mallet lists only words seen in the topic).

    Returns
    -------
    ndarray of int64, shape (min(n, V),) or (K, min(n, V)); or list of arrays
        For 1-D ``counts``, one array; for 2-D, a (K, n) array, or with
        ``nonzero`` a list of K arrays (fewer ids where fewer entries are non-zero).
    """
    counts = np.asarray(counts)
    if counts.ndim == 1:
        return top_word_ids(counts[None, :], n, nonzero)[0]
    K, V = counts.shape
    n = max(min(int(n), V), 0)
    out = np.zeros((K, n), dtype=np.int64)
    if n and K:
        integer = counts.dtype.kind in "iu" and counts.size and \
            int(np.abs(counts).max()) < (1 << 62) // max(V, 1)
        if integer:
            tie = np.arange(V - 1, -1, -1, dtype=np.int64)  # lower id -> larger key
            step = max(1, MAX_SORT_ENTRIES // max(V, 1))
            for a in range(0, K, step):
                key = counts[a:a + step].astype(np.int64) * V + tie
                if n < V:
                    part = np.argpartition(key, V - n, axis=1)[:, V - n:]
                else:
                    part = np.broadcast_to(np.arange(V), key.shape)
                sel = np.take_along_axis(key, part, axis=1)
                order = np.argsort(-sel, axis=1)  # keys are distinct: no ties left
                out[a:a + step] = np.take_along_axis(part, order, axis=1)
        else:
            for k in range(K):
                out[k] = _top_ids_generic(counts[k], n)
    if nonzero:
        return [row[counts[k, row] > 0] for k, row in enumerate(out)]
    return out


LOG_FIELDS = ("iteration", "seconds", "tokens_per_s", "loglik_per_token", "sample_s", "count_s",
              "allreduce_s", "tables_s", "exchange_bytes", "alpha_sum", "beta")



def phi_from_counts(n_kw, beta):
    """:func:`esca.infer.phi_from_counts`, imported on first use.

    esca.infer compiles Numba kernels at import, and Numba reads ``NUMBA_NUM_THREADS``
    once, when it is first imported: ``esca train --threads`` sets it after ``import
    esca``, so nothing imported by ``esca`` itself may import Numba.
    """
    from .infer import phi_from_counts as phi  # noqa: PLC0415 - a Numba kernel module
    return phi(n_kw, beta)


def fold_in(*args, **kwargs):
    """:func:`esca.infer.fold_in`, imported on first use (see :func:`phi_from_counts`)."""
    from .infer import fold_in as fold  # noqa: PLC0415 - a Numba kernel module
    return fold(*args, **kwargs)


class TopicModel:
    """A trained LDA model.

    Attributes
    ----------
    n_kw : ndarray of int32, shape (K, V)
        Topic-word counts.
    n_k : ndarray of int64, shape (K,)
        Tokens assigned to each topic; ``n_k == n_kw.sum(axis=1)``.
    n_dk : ndarray of int32, shape (D, K), or None
        Document-topic counts of the training documents in corpus order.
    vocab : list of str, length V
    alpha : ndarray of float64, shape (K,)
        Document-topic Dirichlet prior, per topic.
    beta : float
        Topic-word Dirichlet prior (gensim's ``eta``).
    config : esca.TrainConfig
    log : dict of str to ndarray
        Per-iteration training log (see the module docstring).
    word_df : ndarray of int64, shape (V,), or None
        Number of training documents containing each word.
    info : dict
        Corpus provenance (``corpus``, ``corpus_sha256``, ``D``, ``V``, ``N``), ranks,
        threads and other run facts.
    z : ndarray of int32, shape (N,), or None
        Topic of every training token (in the samplers' order: corpus order, each
        document's tokens sorted by word id); kept for collapsed Gibbs models, whose next
        sweep needs it to continue training. None for ESCA models (an ESCA sweep reads
        only the counts).
    labels : list of str, length K
        A label per topic set by the user ("" where unset); see :meth:`set_label`.
        Stored in the model file, shown by ``esca topics``, :meth:`summary`,
        ``esca evaluate`` and plots, and kept in exports.
    doc_index : ndarray of int64, shape (D,), or None
        The training corpus's ``doc_index`` of each document (its position in
        the source before ``esca prepare``), when the corpus had one.
    """

    def __init__(self, n_kw, n_k, n_dk, vocab, alpha, beta, config,  # noqa: PLR0913 - public API
                 log=None, word_df=None, info=None, z=None, labels=None, doc_index=None):
        self.n_kw = np.asarray(n_kw, dtype=np.int32)
        self.n_k = np.asarray(n_k, dtype=np.int64)
        self.n_dk = None if n_dk is None else np.asarray(n_dk, dtype=np.int32)
        self.vocab = list(vocab)
        self.alpha = np.asarray(alpha, dtype=np.float64)
        self.beta = float(beta)
        self.config = config
        self.log = {k: np.asarray(v) for k, v in (log or {}).items()}
        self.word_df = None if word_df is None else np.asarray(word_df, dtype=np.int64)
        self.info = dict(info or {})
        self.z = None if z is None else np.asarray(z, dtype=np.int32)
        self.labels = labels
        self.doc_index = None if doc_index is None else np.asarray(doc_index, dtype=np.int64)

    # -- sizes ---------------------------------------------------------------
    @property
    def num_topics(self):
        """K."""
        return self.n_kw.shape[0]

    @property
    def num_words(self):
        """V."""
        return self.n_kw.shape[1]

    @property
    def num_docs(self):
        """D of the training corpus (0 if ``n_dk`` was not kept)."""
        return 0 if self.n_dk is None else self.n_dk.shape[0]

    @property
    def num_tokens(self):
        """N of the training corpus."""
        return int(self.n_k.sum())

    # -- estimates -----------------------------------------------------------
    @property
    def phi(self):
        """Topic-word distributions, float64 (K, V), rows sum to 1.

        phi_kw = (n_kw + beta) / (n_k + V beta), the posterior mean given the
        counts (Griffiths & Steyvers, PNAS 2004, eq. 7).
        """
        return phi_from_counts(self.n_kw, self.beta)

    @property
    def theta(self):
        """Document-topic distributions, float64 (D, K), rows sum to 1.

        theta_dk = (n_dk + alpha_k) / (n_d + sum alpha) (Griffiths & Steyvers
        2004, eq. 6 with an asymmetric alpha).

        Raises
        ------
        ValueError
            If the model holds no document-topic counts.
        """
        if self.n_dk is None:
            raise ValueError("this model holds no document-topic counts")
        return (self.n_dk + self.alpha) / (self.n_dk.sum(axis=1, keepdims=True) + self.alpha.sum())

    def transform(self, docs, *, sweeps=50, burn_in=10, seed=0, vocabulary=None):
        """Topic proportions of new documents by fold-in Gibbs sampling with phi fixed.

        Each document's tokens are resampled from (n_dk^-i + alpha_k) phi_kw
        (Griffiths & Steyvers, PNAS 2004, eq. 5 with the word factor fixed to
        :attr:`phi`), in parallel over documents and deterministic for a seed
        (see :func:`esca.evaluate.fold_in`). Words not in the model's
        vocabulary are skipped.

        Parameters
        ----------
        docs : esca.Corpus, str, list of list of str, matrix or gensim bag of words
            As :meth:`map_documents`.
        sweeps, burn_in : int
            Gibbs sweeps, and how many of them to discard before averaging theta.
        seed : int
        vocabulary : optional
            As :meth:`map_documents`.

        Returns
        -------
        ndarray of float64, shape (D, K)
            theta, rows summing to 1; an empty document gets alpha / sum(alpha).

        Raises
        ------
        UserError
            On bad sweeps, burn-in or seed, an unreadable corpus, or documents that
            :meth:`map_documents` refuses.
        """
        doc_ptr, word_ids, _ = self.map_documents(docs, vocabulary=vocabulary,
                                                  where="TopicModel.transform")
        return fold_in(self.phi, self.alpha, doc_ptr, word_ids, sweeps=sweeps, burn_in=burn_in,
                       seed=seed)

    def map_documents(self, docs, *, vocabulary=None, where="TopicModel.map_documents"):
        """Documents in the model's vocabulary, matched by word string.

        Every input kind of :mod:`esca.inputs` (:func:`esca.inputs.model_word_ids`).

        Parameters
        ----------
        docs : esca.Corpus, str, os.PathLike, list of list of str, matrix or gensim bag of words
            A corpus (its vocabulary is matched to the model's by word), the path of an
            esca HDF5 corpus, documents as lists of tokens, a (D, V') document-term count
            matrix, or a gensim bag-of-words corpus.
        vocabulary : sequence of str, mapping, gensim Dictionary or fitted vectorizer, optional
            The words of a matrix's columns or of a bag of words' ids. Without it a matrix
            must have the model's V columns and a bag of words the model's word ids.
        where : str
            Names the caller in error messages.

        Returns
        -------
        doc_ptr : ndarray of int64, shape (D+1,)
        word_ids : ndarray of int32, shape (N,)
            Model word ids; tokens of unknown words are left out.
        skipped : int
            Number of tokens left out.

        Raises
        ------
        UserError
            If ``docs`` is a path that cannot be read as an esca corpus, or documents
            that :func:`esca.inputs.model_word_ids` refuses (a token that is not a str,
            a count that is not a whole number >= 0, a vocabulary of the wrong length).
        """
        return model_word_ids(docs, self.vocab, vocabulary=vocabulary, where=where)

    def _topic(self, topic):
        try:
            k = int(topic)
        except (TypeError, ValueError):
            raise UserError(f"topic must be an integer, got {topic!r}") from None
        if k != topic or not 0 <= k < self.num_topics:
            raise UserError(f"topic {topic} does not exist; the model has topics "
                            f"0..{self.num_topics - 1}")
        return k

    def top_words(self, topic, n=10):
        """The ``n`` most probable words of ``topic`` as (word, probability) pairs.

        Words are ranked by their count in the topic's ``n_kw`` row (the order
        of phi_kw, see :func:`top_word_ids`); ties are broken by word id (lower
        first). Only the ``n`` probabilities returned are computed:
        phi_kw = (n_kw + beta) / (n_k + V beta), equal to ``phi[topic, w]``.

        Parameters
        ----------
        topic : int
            0 <= topic < K.
        n : int

        Returns
        -------
        list of (str, float)

        Raises
        ------
        UserError
            If ``topic`` is not a topic of the model.
        """
        k = self._topic(topic)
        ids = top_word_ids(self.n_kw[k], n)
        p = (self.n_kw[k, ids] + self.beta) / (self.n_k[k] + self.num_words * self.beta)
        return [(self.vocab[i], float(x)) for i, x in zip(ids, p, strict=True)]

    def topics(self, n=10):
        """Top ``n`` words of every topic: K lists of str, ranked as :meth:`top_words`."""
        return [[self.vocab[i] for i in row] for row in top_word_ids(self.n_kw, n)]

    # -- labels --------------------------------------------------------------
    @property
    def labels(self):
        """A label per topic: list of K str, "" where unset (a copy; set with :meth:`set_label`).

        Assigning a list of K str (or None for no labels) replaces them all.
        """
        return list(self._labels)

    @labels.setter
    def labels(self, labels):
        K = self.num_topics
        if labels is None:
            self._labels = [""] * K
            return
        labels = ["" if x is None else x for x in labels]
        if len(labels) != K:
            raise UserError(f"{len(labels)} topic labels given, but the model has {K} topics")
        self._labels = [_check_label(x) for x in labels]

    def set_label(self, topic, label):
        """Label ``topic`` with ``label`` ("" or None removes its label).

        Parameters
        ----------
        topic : int
            A topic, 0..K-1.
        label : str or None
            One line of text; surrounding white space is removed.

        Raises
        ------
        UserError
            If ``topic`` is not a topic of the model, or ``label`` is not a
            str or holds a tab or line break.
        """
        k = self._topic(topic)
        self._labels[k] = _check_label("" if label is None else label)

    def topic_name(self, topic):
        """``"topic K"``, followed by the label in quotes when the topic has one.

        Parameters
        ----------
        topic : int
            A topic, 0..K-1.

        Returns
        -------
        str

        Raises
        ------
        UserError
            If ``topic`` is not a topic of the model.
        """
        k = self._topic(topic)
        return f"topic {k}" + (f' "{self._labels[k]}"' if self._labels[k] else "")

    # -- documents -----------------------------------------------------------
    def top_documents(self, topic, n=10, doc_labels=None):
        """The ``n`` training documents with the highest theta_dk for ``topic``.

        theta_dk = (n_dk + alpha_k) / (n_d + sum alpha), as :attr:`theta`; ties
        are broken by lower document row.

        Parameters
        ----------
        topic : int
        n : int
        doc_labels : sequence of length D, optional
            A name per training document (row of ``n_dk``), e.g. titles. Default:
            the corpus's ``doc_index`` kept in :attr:`doc_index`, else the row 0..D-1.

        Returns
        -------
        list of (label, float)
            Document label (int ``doc_index`` or row unless ``doc_labels``) and theta_dk,
            highest first.

        Raises
        ------
        UserError
            If ``topic`` is not a topic of the model, ``n`` < 1, the model holds
            no ``n_dk``, or ``doc_labels`` has the wrong length.
        """
        return self.top_documents_all(n, doc_labels, topics=[self._topic(topic)])[0]

    def top_documents_all(self, n=10, doc_labels=None, topics=None):
        """:meth:`top_documents` of several topics (default all), computing theta once.

        Parameters
        ----------
        n : int
            Documents per topic, >= 1.
        doc_labels : sequence of length D, optional
            As in :meth:`top_documents`.
        topics : sequence of int, optional
            The topics, in this order; default 0..K-1.

        Returns
        -------
        list of list of (label, float)
            One list per topic of ``topics``: (document label, theta_dk), theta_dk
            decreasing, ties by lower row; theta as :attr:`theta`
            (Griffiths & Steyvers 2004, eq. 6).

        Raises
        ------
        UserError
            As :meth:`top_documents`.
        """
        if int(n) < 1:
            raise UserError(f"number of documents must be >= 1, got {n}")
        if self.n_dk is None:
            raise UserError("this model holds no document-topic counts (n_dk), so it has "
                            "no top documents")
        if doc_labels is None:
            doc_labels = list(range(self.num_docs)) if self.doc_index is None \
                else self.doc_index.tolist()
        doc_labels = list(doc_labels)
        if len(doc_labels) != self.num_docs:
            raise UserError(f"{len(doc_labels)} document labels given, but the model has "
                            f"{self.num_docs} documents")
        topics = range(self.num_topics) if topics is None else [self._topic(k) for k in topics]
        theta = self.theta
        out = []
        for k in topics:
            col = theta[:, k]
            ids = _top_ids_generic(col, min(int(n), len(col))) if len(col) else []
            out.append([(doc_labels[d], float(col[d])) for d in ids])
        return out

    # -- summary -------------------------------------------------------------
    def summary_text(self, top_n=5, top_docs=0, doc_labels=None):
        """The report :meth:`summary` prints, as a str.

        Parameters
        ----------
        top_n : int
            Top words per topic (>= 1).
        top_docs : int
            Top documents per topic to list (0: none).
        doc_labels : sequence of length D, optional
            As in :meth:`top_documents`.
        """
        if int(top_n) < 1:
            raise UserError(f"top_n must be >= 1, got {top_n}")
        c, K, V = self.config, self.num_topics, self.num_words
        N = self.num_tokens
        corpus = self.info.get("corpus")
        lines = ["<Basic Info>",
                 f"| {type(self).__name__} (LDA, {c.sampler} sampler)",
                 f"| {self.num_docs} docs, {N} words",
                 f"| Total Vocabs: {V}",
                 "|", "<Training Corpus>",
                 f"| {corpus if corpus else '(not recorded)'}",
                 "|", "<Model Parameters>",
                 f"| K: {K} (number of topics)",
                 f"| sampler: {c.sampler}",
                 f"| seed: {c.seed}"]
        a = self.alpha
        if np.all(a == a[0]):
            lines.append(f"| alpha: {a[0]:.6g} per topic (symmetric; sum {a.sum():.6g})")
        else:
            lines.append(f"| alpha: asymmetric, min {a.min():.6g}, mean {a.mean():.6g}, "
                         f"max {a.max():.6g} (sum {a.sum():.6g})")
        lines.append(f"| beta: {self.beta:.6g}")
        if getattr(c, "optimize_interval", 0):
            lines.append(f"| hyperparameter optimization every {c.optimize_interval} "
                         f"iterations")
        done = self.log.get("iteration")
        lengths = [len(v) for v in self.log.values() if np.ndim(v) == 1 and len(v)]
        if done is not None and np.ndim(done) == 1 and len(done):
            done = f"{int(done[-1])} done of {c.iterations} configured"
        elif lengths:
            done = f"{max(lengths)} done of {c.iterations} configured"
        else:
            done = f"{c.iterations} configured (the training log is empty)"
        lines += ["|", "<Training>", f"| iterations: {done}"]
        ll = self.log.get("loglik_per_token")
        if ll is not None and len(ll) and np.isfinite(ll).any():
            last = int(np.flatnonzero(np.isfinite(ll))[-1])
            it = int(self.log["iteration"][last]) if "iteration" in self.log else last + 1
            lines.append(f"| log-likelihood per token: {float(ll[last]):.5f} "
                         f"(iteration {it})")
        sec = np.asarray(self.log.get("seconds", []), dtype=np.float64)
        if sec.ndim == 1 and np.isfinite(sec).any():
            lines.append(f"| sampling time: {float(np.sum(sec[np.isfinite(sec)])):.2f} s")
        lines += ["|", "<Topics>"]
        words = top_word_ids(self.n_kw, top_n)
        docs = None
        if top_docs and self.n_dk is not None:
            docs = self.top_documents_all(top_docs, doc_labels)
        share = self.n_k / max(N, 1)
        for k in range(K):
            lines.append(f"| #{k} ({self.n_k[k]}, {100 * share[k]:.2f}%)"
                         + (f' "{self._labels[k]}"' if self._labels[k] else "")
                         + ": " + " ".join(self.vocab[i] for i in words[k]))
            for label, p in docs[k] if docs else ():
                lines.append(f"|     {p:.3f}  {label}")
        lines.append("|")
        return "\n".join(lines) + "\n"

    def summary(self, top_n=5, file=None, top_docs=0, doc_labels=None):
        """Print a tomotopy-like report of the model to ``file`` (default ``sys.stdout``).

        It gives the corpus (D, N, V and its path), K, sampler, seed, alpha
        (per topic, or min/mean/max when asymmetric), beta, iterations done,
        the last log-likelihood per token of the training log, and per topic
        its tokens n_k and share n_k / N, its label and its ``top_n`` words
        (and with ``top_docs`` its top documents by theta).

        Parameters
        ----------
        top_n : int
        file : file-like, optional
        top_docs : int
        doc_labels : sequence of length D, optional

        Returns
        -------
        None
        """
        text = self.summary_text(top_n, top_docs, doc_labels)
        (sys.stdout if file is None else file).write(text)

    # -- storage -------------------------------------------------------------
    def save(self, path):
        """Write the model to ``path`` (HDF5) atomically: an existing file is replaced or kept.

        The file is built in memory and written by Python (see :func:`esca._io.atomic_h5`),
        so a full disk is an exception, never a crash; the model itself is unchanged.

        Raises
        ------
        UserError
            If the folder does not exist or is not writable.
        esca.errors.WriteError
            (a ``UserError``) If the file cannot be written: a full disk (the message gives
            the size needed and free) or any other ``OSError``; nothing is left behind.
        """
        with atomic_h5(path) as f:
            f.create_dataset("n_kw", data=self.n_kw, compression="gzip", compression_opts=1)
            f.create_dataset("n_k", data=self.n_k)
            if self.n_dk is not None:
                f.create_dataset("n_dk", data=self.n_dk, compression="gzip", compression_opts=1)
            f.create_dataset("alpha", data=self.alpha)
            f.create_dataset("vocab", data=np.array(self.vocab, dtype=object),
                             dtype=h5py.string_dtype("utf-8"))
            if self.word_df is not None:
                f.create_dataset("word_df", data=self.word_df)
            if self.z is not None:
                z_dtype = np.uint16 if self.num_topics <= 65536 else np.int32
                f.create_dataset("z", data=self.z.astype(z_dtype), compression="gzip",
                                 compression_opts=1)
            if any(self._labels):
                f.create_dataset("topic_labels", data=np.array(self._labels, dtype=object),
                                 dtype=h5py.string_dtype("utf-8"))
            if self.doc_index is not None:
                f.create_dataset("doc_index", data=self.doc_index)
            g = f.create_group("log")
            for k, v in self.log.items():
                g.create_dataset(k, data=v)
            f.attrs.update({
                "format": FORMAT, "format_version": FORMAT_VERSION, "beta": self.beta,
                "sampler": self.config.sampler, "seed": self.config.seed,
                "iterations": self.config.iterations, "num_topics": self.num_topics,
                "config": self.config.to_json(), "info": json.dumps(self.info, default=str),
                "esca_version": __version__,
            })

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`, checking every table against the others.

        Raises
        ------
        UserError
            Missing file, not HDF5, truncated or damaged HDF5, not an esca model, an
            unknown format version, a missing dataset or attribute, a table of the wrong
            dtype or shape (``n_kw`` (K, V), ``n_k`` and ``alpha`` (K,), ``n_dk`` (D, K),
            ``vocab`` and ``word_df`` (V,)), negative counts, ``n_k`` that are not the row
            sums of ``n_kw``, alpha or beta not positive and finite, an invalid
            configuration, a vocabulary that is not distinct UTF-8 words, or a ``z`` that
            is not one topic in 0..K-1 per token.
        """
        path = os.fspath(path)
        with open_file(path, "model") as f, damaged(path, "esca model"):
            check_format(f, path, FORMAT, (FORMAT_VERSION,), "model")
            return cls._read_checked(f, path)

    @classmethod
    def _read_checked(cls, f, path):
        """The model in the open file ``f``; every dataset checked before it is used."""

        def read(name, ndim, kinds, required=True):
            ds = dataset(f, path, name, ndim, kinds, required)
            return None if ds is None else ds[()]

        n_kw = read("n_kw", 2, "iu")
        K, V = n_kw.shape
        if K < 1:
            raise UserError(f"{path}: n_kw has shape {n_kw.shape}; it needs K >= 1 topics")
        n_k = read("n_k", 1, "iu")
        alpha = read("alpha", 1, "iuf")
        n_dk = read("n_dk", 2, "iu", required=False)
        word_df = read("word_df", 1, "iu", required=False)
        z = read("z", 1, "iu", required=False)
        doc_index = read("doc_index", 1, "iu", required=False)
        labels = None
        if "topic_labels" in f:
            ds = f["topic_labels"]
            if not isinstance(ds, h5py.Dataset) or ds.shape != (K,) \
                    or h5py.check_string_dtype(ds.dtype) is None:
                raise UserError(f"{path}: 'topic_labels' must be {K} UTF-8 strings "
                                f"(one per topic)")
            try:
                labels = [x.decode("utf-8") if isinstance(x, bytes) else str(x)
                          for x in ds[()].tolist()]
            except UnicodeDecodeError:
                raise UserError(f"{path}: 'topic_labels' is not valid UTF-8") from None
        dataset(f, path, "vocab", 1, "string")
        vocab = read_vocab(f, path)
        for name, arr, shape in (("vocab", vocab, (V,)), ("n_k", n_k, (K,)),
                                 ("alpha", alpha, (K,)),
                                 ("n_dk", n_dk, (None if n_dk is None else len(n_dk), K)),
                                 ("word_df", word_df, (V,)),
                                 ("doc_index", doc_index,
                                  (np.shape(doc_index)[0] if n_dk is None
                                   else len(n_dk),) if doc_index is not None else None)):
            if arr is not None and np.shape(arr) != shape:
                raise UserError(f"{path}: '{name}' has shape {np.shape(arr)} but n_kw is "
                                f"{K} x {V}, so it must be {shape}")
        check_vocab(vocab, path)
        if z is not None and (len(z) != n_k.sum() or (z.size and (z.min() < 0 or z.max() >= K))):
            raise UserError(f"{path}: 'z' must hold one topic in 0..{K - 1} for each of the "
                            f"{n_k.sum()} tokens, got {len(z)} values in "
                            f"{z.min(initial=0)}..{z.max(initial=0)}")
        for name, arr in (("n_kw", n_kw), ("n_k", n_k), ("n_dk", n_dk), ("word_df", word_df)):
            if arr is not None and arr.size and arr.min() < 0:
                raise UserError(f"{path}: '{name}' holds a negative count ({arr.min()})")
        if n_kw.max(initial=0) > np.iinfo(np.int32).max or (
                n_dk is not None and n_dk.max(initial=0) > np.iinfo(np.int32).max):
            raise UserError(f"{path}: counts do not fit int32")
        if not np.array_equal(n_k, n_kw.sum(axis=1, dtype=np.int64)):
            raise UserError(f"{path}: 'n_k' is not the row sums of 'n_kw' (damaged model?)")
        if not (np.isfinite(alpha).all() and (alpha > 0).all()):
            raise UserError(f"{path}: 'alpha' must hold finite values > 0, got "
                            f"{alpha[~(np.isfinite(alpha) & (alpha > 0))][:3].tolist()}")
        beta = attr(f, "beta")
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) \
                or not (math.isfinite(beta) and beta > 0):
            raise UserError(f"{path}: attribute 'beta' must be a finite number > 0, got {beta!r}")
        config = attr(f, "config")
        if not isinstance(config, str):
            raise UserError(f"{path}: missing or malformed attribute 'config' (JSON)")
        config = TrainConfig.from_json(config, where=f"{path}: config")
        if config.num_topics != K:
            raise UserError(f"{path}: config says K={config.num_topics} but n_kw has {K} topics")
        info = attr(f, "info", "{}")
        try:
            info = json.loads(info) if isinstance(info, str) else None
        except ValueError:
            info = None
        if not isinstance(info, dict):
            raise UserError(f"{path}: attribute 'info' is not a JSON object")
        log = _read_log(f, path, config.iterations)
        return cls(n_kw=n_kw, n_k=n_k, n_dk=n_dk, vocab=vocab, alpha=alpha, beta=float(beta),
                   config=config, log=log, word_df=word_df, info=info, z=z,
                   labels=labels, doc_index=doc_index)


def _read_log(f, path, iterations):
    """The training log of the open model file ``f``, checked: {field: 1-D ndarray}.

    Every field is a 1-D numeric dataset, all of one length L <= ``iterations`` (one value
    per iteration; a model stopped early has fewer), and ``iteration`` holds increasing
    integers in 1..``iterations``. Any field may be missing, and values may be NaN (the
    log-likelihood is NaN where it was not computed) or infinite (tokens_per_s of an
    iteration timed as 0 s); readers use the finite values only.
    """
    if "log" not in f:
        return {}
    g = f["log"]
    if not isinstance(g, h5py.Group):
        raise UserError(f"{path}: 'log' must be a group of per-iteration datasets")
    log, first = {}, None
    for k in g:
        ds = g[k]
        if not isinstance(ds, h5py.Dataset):
            raise UserError(f"{path}: 'log/{k}' is not a dataset")
        if ds.ndim != 1 or ds.dtype.kind not in "iuf":
            raise UserError(f"{path}: 'log/{k}' must be a 1-D numeric dataset (one value per "
                            f"iteration), got dtype {ds.dtype} and shape {ds.shape}")
        if first is not None and ds.shape[0] != len(log[first]):
            raise UserError(f"{path}: 'log/{k}' has {ds.shape[0]} values but 'log/{first}' "
                            f"has {len(log[first])}; every field of the training log holds one "
                            f"value per iteration")
        log[k] = ds[()]
        first = first or k
    L = len(log[first]) if first is not None else 0
    if L > iterations:
        raise UserError(f"{path}: the training log ('log/{first}') has {L} values but the model "
                        f"was trained for {iterations} iterations (config)")
    it = log.get("iteration")
    if it is not None and L:
        ok = np.isfinite(it) & (it >= 1) & (it <= iterations) & (it == np.round(it))
        ok[1:] &= np.diff(it) > 0
        if not ok.all():
            bad = it[np.flatnonzero(~ok)[0]]
            raise UserError(f"{path}: 'log/iteration' must hold increasing iteration numbers "
                            f"in 1..{iterations}, got {bad.item()!r}")
    return log


def _check_label(label):
    """``label`` if it is a str without tabs or line breaks, else UserError."""
    if not isinstance(label, str):
        raise UserError(f"a topic label must be a str, got {label!r}")
    if any(c in label for c in "\t\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise UserError(f"a topic label must be one line without tabs, got {label!r}")
    return label.strip()


def load_model(path):
    """Load a model file written by ``esca train`` or :meth:`TopicModel.save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    TopicModel

    Raises
    ------
    UserError
        Missing file, not HDF5, not an esca model, an unknown format version, or
        tables that are missing or disagree (see :meth:`TopicModel.load`).
    """
    return TopicModel.load(path)
