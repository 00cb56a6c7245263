"""The trained model: count tables, priors, configuration and training log, in one HDF5 file.

Layout (format version 1)::

    /n_kw      int32   (K, V)  topic-word counts
    /n_k       int64   (K,)    tokens per topic (row sums of n_kw)
    /n_dk      int32   (D, K)  document-topic counts, documents in corpus order
    /alpha     float64 (K,)    document-topic prior per topic
    /vocab     UTF-8 strings (V,)
    /word_df   int64   (V,)    document frequency of each word (for the gensim Dictionary)
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
import os

import h5py
import numpy as np

from ._io import atomic_path
from .config import TrainConfig
from .errors import UserError

FORMAT = "esca-model"
FORMAT_VERSION = 1
LOG_FIELDS = ("iteration", "seconds", "tokens_per_s", "loglik_per_token", "sample_s", "count_s",
              "allreduce_s", "tables_s", "exchange_bytes", "alpha_sum", "beta")


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
        Corpus provenance, ranks, threads and other run facts.
    """

    def __init__(self, n_kw, n_k, n_dk, vocab, alpha, beta, config, log=None, word_df=None,
                 info=None):
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
        from .evaluate import phi_from_counts
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

    def transform(self, docs, *, sweeps=50, burn_in=10, seed=0):
        """Topic proportions of new documents by fold-in Gibbs sampling with phi fixed.

        Each document's tokens are resampled from (n_dk^-i + alpha_k) phi_kw
        (Griffiths & Steyvers, PNAS 2004, eq. 5 with the word factor fixed to
        :attr:`phi`), in parallel over documents and deterministic for a seed
        (see :func:`esca.evaluate.fold_in`). Words not in the model's
        vocabulary are skipped.

        Parameters
        ----------
        docs : esca.Corpus, str or list of list of str
            A corpus (its vocabulary is matched to the model's by word), the
            path of an esca HDF5 corpus, or documents as lists of tokens.
        sweeps, burn_in : int
            Gibbs sweeps, and how many of them to discard before averaging theta.
        seed : int

        Returns
        -------
        ndarray of float64, shape (D, K)
            theta, rows summing to 1; an empty document gets alpha / sum(alpha).

        Raises
        ------
        UserError
            On bad sweeps, burn-in or seed, or an unreadable corpus.
        """
        from .evaluate import fold_in
        doc_ptr, word_ids, _ = self.map_documents(docs)
        return fold_in(self.phi, self.alpha, doc_ptr, word_ids, sweeps=sweeps, burn_in=burn_in,
                       seed=seed)

    def map_documents(self, docs):
        """Documents in the model's vocabulary, matched by word string.

        Parameters
        ----------
        docs : esca.Corpus, str or list of list of str
            As in :meth:`transform`.

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
            If ``docs`` is a path that cannot be read as an esca corpus.
        """
        from .corpus import Corpus, read_corpus
        index = {w: i for i, w in enumerate(self.vocab)}
        if isinstance(docs, (str, os.PathLike)):
            docs = read_corpus(os.fspath(docs))
        if isinstance(docs, Corpus):
            remap = np.array([index.get(w, -1) for w in docs.vocab], dtype=np.int64)
            ids = remap[docs.word_ids] if len(docs.vocab) else np.zeros(0, np.int64)
            lens = np.diff(docs.doc_ptr)
        else:
            seqs = [[index.get(w, -1) for w in doc] for doc in docs]
            ids = np.array([i for doc in seqs for i in doc], dtype=np.int64)
            lens = np.array([len(doc) for doc in seqs], dtype=np.int64)
        keep = ids >= 0
        doc_of = np.repeat(np.arange(len(lens)), lens)
        doc_ptr = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_of[keep], minlength=len(lens)), out=doc_ptr[1:])
        return doc_ptr, ids[keep].astype(np.int32), int(len(ids) - keep.sum())

    def top_words(self, topic, n=10):
        """The ``n`` most probable words of ``topic`` as (word, probability) pairs.

        Ties are broken by word id (lower first).
        """
        row = self.phi[topic]
        order = np.lexsort((np.arange(len(row)), -row))[:n]
        return [(self.vocab[i], float(row[i])) for i in order]

    def topics(self, n=10):
        """Top ``n`` words of every topic: a list of K lists of str."""
        return [[w for w, _ in self.top_words(k, n)] for k in range(self.num_topics)]

    # -- storage -------------------------------------------------------------
    def save(self, path):
        """Write the model to ``path`` (HDF5) atomically: an existing file is replaced or kept.

        Raises
        ------
        UserError
            If the folder does not exist or is not writable.
        """
        from . import __version__
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            f.create_dataset("n_kw", data=self.n_kw, compression="gzip", compression_opts=1)
            f.create_dataset("n_k", data=self.n_k)
            if self.n_dk is not None:
                f.create_dataset("n_dk", data=self.n_dk, compression="gzip", compression_opts=1)
            f.create_dataset("alpha", data=self.alpha)
            f.create_dataset("vocab", data=np.array(self.vocab, dtype=object),
                             dtype=h5py.string_dtype("utf-8"))
            if self.word_df is not None:
                f.create_dataset("word_df", data=self.word_df)
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
        """Read a model written by :meth:`save`.

        Raises
        ------
        UserError
            Missing file, not HDF5, not an esca model, or an unknown format version.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise UserError(f"model file not found: {path}")
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise UserError(f"not a readable HDF5 file: {path} ({e})") from None
        with f:
            if f.attrs.get("format") != FORMAT:
                raise UserError(f"{path} is not an esca model (no format='{FORMAT}' attribute)")
            version = int(f.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise UserError(f"{path}: unknown model format version {version}")
            try:
                return cls(
                    n_kw=f["n_kw"][()], n_k=f["n_k"][()],
                    n_dk=f["n_dk"][()] if "n_dk" in f else None,
                    vocab=list(f["vocab"].asstr()[()]), alpha=f["alpha"][()],
                    beta=float(f.attrs["beta"]),
                    config=TrainConfig.from_json(f.attrs["config"]),
                    log={k: f["log"][k][()] for k in f["log"]} if "log" in f else {},
                    word_df=f["word_df"][()] if "word_df" in f else None,
                    info=json.loads(f.attrs.get("info", "{}")),
                )
            except (KeyError, OSError) as e:
                raise UserError(f"corrupted esca model {path}: {e}") from None


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
        Missing file, not HDF5, not an esca model, or an unknown format version.
    """
    return TopicModel.load(path)
