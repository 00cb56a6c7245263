"""``esca.LDA``: the ESCA and collapsed Gibbs samplers behind a scikit-learn estimator.

The class stores its parameters in the constructor and trains in :meth:`LDA.fit` by calling
:func:`esca.train` on an in-memory :class:`esca.Corpus` (or on the HDF5 file it was given).
This module is the scikit-learn contract only: parameters, fitted attributes, ``fit``,
``transform``, ``score``. Documents of every kind (matrix, token lists, gensim bag of words,
esca corpus) become word ids in :mod:`esca.inputs`, which also says which vocabulary each kind
gives.
"""

import contextlib
import dataclasses
import math
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_random_state

from . import distributed, inputs
from ._checks import MAX_ITERATIONS, MAX_SEED, check_int
from .config import TrainConfig
from .corpus import Corpus, check_vocab
from .errors import PlaceholderVocabularyWarning, UserError, is_placeholder_vocab
from .export import to_gensim
from .model import TopicModel, fold_in, load_model
from .progress import TrainProgress
from .train import train

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.2 .. 1.5
    def _validate_data(estimator, X, **kwargs):
        return estimator._validate_data(X, **kwargs)

__all__ = ["CONFIG_FIELDS", "LDA"]

#: The estimator's parameters that set a field of :class:`esca.TrainConfig`, mapped to that
#: field: scikit-learn's names where sklearn has the parameter, TrainConfig's otherwise. The
#: seed (``random_state``) is drawn in :meth:`LDA.fit`. The one place the names are mapped:
#: fit (parameters -> config) and :meth:`LDA.from_model` (config -> parameters) read it.
CONFIG_FIELDS = {"n_components": "num_topics", "max_iter": "iterations", "alpha": "alpha",
                 "beta": "beta", "sampler": "sampler", "n_threads": "threads", "kernel": "kernel",
                 "optimize_interval": "optimize_interval", "optimize_burn_in": "optimize_burn_in",
                 "eval_every": "eval_every"}

#: Token pairs per block when the plug-in log-likelihood gathers theta and phi rows.
_SCORE_BLOCK = 1 << 15


class LDA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Latent Dirichlet allocation trained by ESCA or collapsed Gibbs sampling.

    A scikit-learn estimator over :func:`esca.train`: the constructor only stores its
    arguments, :meth:`fit` trains, :meth:`transform` infers the topic proportions of new
    documents by Gibbs fold-in with the topics fixed. It can stand in for
    :class:`sklearn.decomposition.LatentDirichletAllocation` on term counts (see Notes for
    the differences). ESCA (Zaheer, Wick, Tristan, Smola & Steele, "Exponential stochastic
    cellular automata for massively parallel inference", AISTATS 2016) resamples every
    token in parallel from the previous iteration's counts; ``sampler="cgs"`` is the
    sequential collapsed Gibbs sampler of Griffiths & Steyvers (PNAS 2004).

    Parameters
    ----------
    n_components : int, default=10
        K, the number of topics (>= 1).
    alpha : float, sequence of K floats or None, default=None
        Document-topic Dirichlet prior *per topic* (sklearn's ``doc_topic_prior``; sklearn's
        default is 1/K). None gives 5/K per topic, Mallet's default sum of 5. A sequence
        gives an asymmetric prior.
    beta : float, default=0.01
        Topic-word Dirichlet prior, symmetric (sklearn's ``topic_word_prior``, gensim's
        ``eta``; sklearn's default is 1/K). sklearn's names are not accepted: one name per
        parameter keeps :meth:`get_params` and :func:`sklearn.base.clone` unambiguous.
    sampler : {"esca", "cgs"}, default="esca"
        ESCA (parallel over threads and MPI ranks) or the collapsed Gibbs baseline
        (sequential sweep).
    max_iter : int, default=200
        Gibbs sweeps over the corpus (>= 1). Every sweep runs; there is no convergence
        test. sklearn's default of 10 is for variational EM, which moves much further per
        pass than one Gibbs sweep does.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        An int in ``0 .. 2**63-1`` is the seed of the counter-based random numbers
        (:mod:`esca.rng`): the same seed gives bit-identical results for any number of
        threads and MPI ranks. A RandomState or Generator (or None: numpy's global
        RandomState, as in sklearn) gives a seed drawn from it, ``0 .. 2**31-2``, at every
        :meth:`fit`; the seed used is ``model_.config.seed``.
    n_threads : int or None, default=None
        Numba threads (per MPI rank) for training and inference; None uses the cores of
        the node divided among its ranks. The results do not depend on it.
    kernel : {"auto", "dense", "sparse"}, default="auto"
        ESCA kernel (see :class:`esca.TrainConfig`); both are exact. Ignored by "cgs".
    optimize_interval : int, default=0
        Re-estimate an asymmetric alpha and a symmetric beta every this many sweeps after
        ``optimize_burn_in`` (Minka's fixed point; Wallach, Mimno & McCallum, NIPS 2009);
        0 keeps the priors fixed.
    optimize_burn_in : int or None, default=None
        Sweeps before the first prior optimization; None: ``max_iter // 4``, at most 200
        (:class:`esca.TrainConfig`). A warning is logged when no optimization falls within
        ``max_iter``.
    eval_every : int, default=10
        Log the training log-likelihood (``model_.log["loglik_per_token"]``) every this
        many sweeps and at the last one; 0: only at the last one.
    transform_sweeps : int, default=50
        Gibbs sweeps of the fold-in used by :meth:`transform`, :meth:`score` and
        :meth:`perplexity` (>= 1).
    transform_burn_in : int, default=10
        Fold-in sweeps left out of the theta average, ``0 <= transform_burn_in <
        transform_sweeps``.
    vocabulary : sequence of str, mapping, fitted vectorizer, gensim Dictionary or None, \
default=None
        The words, used by :meth:`fit` when it is not given ``vocabulary=`` itself (see
        there): for a matrix, the word of each column. A sequence of V words in column
        order, a mapping of word to column (``CountVectorizer.vocabulary_``) or of column to
        word (gensim's ``id2word``), a gensim ``Dictionary``, or an object with
        ``get_feature_names_out()`` such as the fitted ``CountVectorizer`` of the same
        Pipeline: ``make_pipeline(cv, LDA(vocabulary=cv))``, or
        ``pipe.set_params(lda__vocabulary=pipe[0])``. :func:`sklearn.base.clone` (used by
        ``GridSearchCV``) returns an unfitted copy of a vectorizer given here, which
        ``fit`` refuses unless its vocabulary is fixed; pass the words themselves then.
        Without it, a matrix that is not a pandas DataFrame gives the words the
        placeholder names ``x0`` .. ``x{V-1}``, with a
        :class:`esca.errors.PlaceholderVocabularyWarning`; :meth:`set_vocabulary` names
        them after fitting.
    verbose : int, default=0
        If > 0, :meth:`fit` draws a tqdm progress bar of the sweeps on standard error
        (rank 0 under MPI); 0: silent (no bar and no per-sweep log lines).
    warm_start : bool, default=False
        When True and the estimator is fitted, :meth:`fit` trains the fitted model further
        instead of starting again, as sklearn's ensembles do with ``n_estimators``:
        ``max_iter`` counts the sweeps in total, so it must be at least the fitted model's
        (``n_iter_``; equal fits nothing and warns), the documents must be the ones it was
        fitted on, and the other parameters must be unchanged (``n_threads`` and
        ``eval_every`` may change). The seed and the prior-optimization schedule
        (``optimize_burn_in``) are the fitted model's, so fitting 100 sweeps and then 300
        with ``warm_start=True`` gives the model of one 300-sweep fit with that burn-in, bit
        for bit, with ``sampler="esca"`` (see ``init_model`` of :func:`esca.train`).
    comm : mpi4py communicator or None, default=None
        The ranks that share :meth:`fit` (see Notes, *MPI*); None: ``MPI.COMM_WORLD``
        (:func:`esca.distributed.get_comm`), one rank without ``mpiexec``. Not a
        hyperparameter: :func:`sklearn.base.clone` passes it on as it is, not a copy.

    Attributes
    ----------
    components_ : ndarray of float64, shape (n_components, n_features)
        Topic-word pseudo-counts ``n_kw + beta``, as sklearn's ``components_``
        (variational parameters lambda there). Row k divided by its sum is phi_k, the
        posterior mean of topic k given the counts (Griffiths & Steyvers 2004, eq. 7).
    doc_topic_ : ndarray of float64, shape (n_documents, n_components)
        theta of the training documents from the sampler's last state, ``(n_dk + alpha_k)
        / (n_d + sum(alpha))`` (Griffiths & Steyvers 2004, eq. 6); rows sum to 1, an
        empty document gets alpha / sum(alpha). Absent after :meth:`from_model` of a model
        without document-topic counts.
    model_ : esca.TopicModel
        The trained model (integer counts, priors, configuration, training log); the
        other fitted attributes are derived from it, and inference uses it.
    n_features_in_ : int
        V, the vocabulary size: the number of columns a document-term matrix passed to
        :meth:`transform` must have, whatever the input to :meth:`fit` was.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Column names of a pandas DataFrame given to :meth:`fit` (only then).
    vocabulary_ : dict of str to int
        Word to column of ``components_``, as ``CountVectorizer.vocabulary_``; the words in
        column order are ``model_.vocab``.
    n_iter_ : int
        Sweeps run (``max_iter``).

    See Also
    --------
    esca.train : the training function, with checkpoints and MPI.
    esca.TopicModel : the model ``model_``; ``esca.load_model`` reads one.
    esca.evaluate.document_completion : held-out perplexity (better than :meth:`perplexity`).

    Notes
    -----
    *Inputs.* :meth:`fit`, :meth:`transform`, :meth:`score` and :meth:`perplexity`
    accept a document-term matrix of counts (scipy.sparse, numpy or pandas), a list of
    token lists, a gensim bag-of-words corpus with its ``Dictionary`` passed as
    ``vocabulary=``, a path to an esca HDF5 corpus (``esca prepare``) or an
    :class:`esca.Corpus`; see :mod:`esca.inputs` for the vocabulary each gives. Counts
    must be whole numbers >= 0: a sampler draws one topic per token, so TF-IDF or other
    fractional weights (which sklearn's variational LDA accepts) raise ValueError.

    *Differences from sklearn's LatentDirichletAllocation.* Parameters named by sklearn
    with the same meaning keep sklearn's names (``n_components``, ``max_iter``,
    ``random_state``); the priors are ``alpha`` and ``beta`` (see above); the variational
    settings (``learning_method``, ``learning_decay``, ``learning_offset``,
    ``batch_size``, ``evaluate_every``, ``total_samples``, ``perp_tol``, ``mean_change_tol``,
    ``max_doc_update_iter``, ``n_jobs``) have no Gibbs counterpart, nor do ``partial_fit``,
    ``bound_``, ``exp_dirichlet_component_`` and ``n_batch_iter_``. :meth:`fit_transform`
    returns the sampler's ``doc_topic_`` rather than a new inference on the training
    documents. :meth:`score` is a plug-in log-likelihood, not the variational bound.
    :meth:`transform` is a Monte Carlo estimate: a document's theta depends slightly on
    the other documents of the same call (random numbers are keyed by token position).

    *MPI.* Under ``mpiexec`` every rank of ``comm`` calls :meth:`fit` with the same input
    (an HDF5 path lets each rank read only its own documents); the ranks share the sweeps
    as in :func:`esca.train`, and the trained model is then broadcast so that every rank
    holds the same fitted attributes. :meth:`transform`, :meth:`score` and :meth:`perplexity`
    run on each rank independently (and give the same result on each). Call :meth:`save`
    on one rank only. The broadcast sends the whole model (``n_kw`` and ``n_dk``) to every
    rank; for very large corpora use :func:`esca.train` or ``esca train``, which keep the
    model on rank 0.

    *Seventeen constructor parameters.* scikit-learn's contract wants every setting an
    ``__init__`` argument (for :meth:`get_params`, :func:`sklearn.base.clone` and grid
    search), so this class is the documented exception to esca's limit of ten parameters
    per function; the estimator maps them once onto one :class:`esca.TrainConfig`
    (:data:`CONFIG_FIELDS`).

    *scikit-learn's estimator checks* (``sklearn.utils.estimator_checks``) pass, except
    that (1) the checks that fit on random fractional X get the ValueError above, and
    pass once the values are rounded to counts, and (2) ``check_transformer_general``
    expects ``fit_transform(X)`` and ``fit(X).transform(X)`` to agree within 0.01, which
    ``doc_topic_`` and a new fold-in do only in distribution (``tests/test_estimator.py``).

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> import esca
    >>> docs = ["apple banana apple", "banana cherry", "dog cat dog", "cat mouse"] * 5
    >>> cv = CountVectorizer()
    >>> X = cv.fit_transform(docs)
    >>> lda = esca.LDA(n_components=2, max_iter=50, random_state=0, n_threads=1)
    >>> theta = lda.fit(X, vocabulary=cv.get_feature_names_out()).transform(X)
    >>> theta.shape, lda.components_.shape
    ((20, 2), (2, 6))

    In a Pipeline, give the estimator the fitted ``CountVectorizer`` for the words:

    >>> from sklearn.pipeline import make_pipeline
    >>> pipe = make_pipeline(cv, esca.LDA(n_components=2, max_iter=50, random_state=0,
    ...                                   n_threads=1, vocabulary=cv))
    >>> pipe.fit_transform(docs).shape
    (20, 2)
    >>> pipe[-1].model_.vocab
    ['apple', 'banana', 'cat', 'cherry', 'dog', 'mouse']
    """

    # 17 parameters: the scikit-learn contract (see the class Notes), the documented exception.
    def __init__(self, n_components=10, *, alpha=None, beta=0.01, sampler="esca",  # noqa: PLR0913
                 max_iter=200, random_state=None, n_threads=None, kernel="auto",
                 optimize_interval=0, optimize_burn_in=None, eval_every=10, transform_sweeps=50,
                 transform_burn_in=10, vocabulary=None, verbose=0, warm_start=False, comm=None):
        self.n_components = n_components
        self.alpha = alpha
        self.beta = beta
        self.sampler = sampler
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_threads = n_threads
        self.kernel = kernel
        self.optimize_interval = optimize_interval
        self.optimize_burn_in = optimize_burn_in
        self.eval_every = eval_every
        self.transform_sweeps = transform_sweeps
        self.transform_burn_in = transform_burn_in
        self.vocabulary = vocabulary
        self.verbose = verbose
        self.warm_start = warm_start
        self.comm = comm

    # -- training ------------------------------------------------------------------------------
    def fit(self, X, y=None, *, vocabulary=None):
        """Train the model on the documents ``X``.

        Parameters
        ----------
        X : sparse matrix or array_like of shape (n_documents, n_features), list of list of \
str, iterable of list of (int, int), str, os.PathLike or esca.Corpus
            Term counts (``CountVectorizer`` output), token lists, a gensim bag-of-words
            corpus (with ``vocabulary``), or an esca HDF5 corpus (path or in memory).
        y : None
            Ignored.
        vocabulary : gensim.corpora.Dictionary, mapping, sequence of str or fitted \
vectorizer, optional
            The words: required with a bag-of-words corpus (its ``Dictionary``); for a
            matrix, the word of each column (``CountVectorizer.get_feature_names_out()``,
            ``.vocabulary_`` or the fitted ``CountVectorizer`` itself); for token lists, a
            fixed vocabulary in column order (tokens not in it are dropped). Not allowed
            with an HDF5 corpus. Default: the ``vocabulary`` parameter, then for a matrix
            the columns of a pandas DataFrame, else the placeholder names ``x0`` ..
            ``x{V-1}`` with a :class:`esca.errors.PlaceholderVocabularyWarning`.

        Returns
        -------
        self : LDA

        Raises
        ------
        ValueError
            (:class:`esca.UserError` from esca's own checks) on a bad parameter value, a
            negative, non-integer or non-finite count, a matrix with no documents or no
            columns, documents with no tokens at all, a token that is not a str, a bag of
            words without its dictionary, a word id outside the dictionary, a vocabulary
            of the wrong length or with repeated words, an unfitted vectorizer as the
            vocabulary, or an unreadable HDF5 corpus; with ``warm_start`` and a fitted model,
            also on ``max_iter`` below ``n_iter_``, documents other than the fitted ones, or
            changed parameters.

        Warns
        -----
        esca.errors.PlaceholderVocabularyWarning
            When the words of a matrix get the placeholder names ``x0`` .. ``x{V-1}``.
        UserWarning
            With ``warm_start`` and ``max_iter`` equal to ``n_iter_``: nothing is fitted.
        """
        config = self._train_config(seed=0)  # bad parameters fail before the input is read
        progress = self._progress()
        comm = distributed.get_comm(self.comm)
        init_model = self._warm_start_model()
        if init_model is not None and self.max_iter == init_model.config.iterations:
            warnings.warn(f"LDA: warm_start=True with max_iter={self.max_iter}, the sweeps "
                          "already fitted: no sweep run (raise max_iter to train further)",
                          UserWarning, stacklevel=2)
            return self
        if vocabulary is None:
            vocabulary = self.vocabulary
        corpus, from_matrix = self._fit_documents(X, vocabulary, warn=comm.Get_rank() == 0)
        if init_model is None:
            config = self._train_config(_draw_seed(self.random_state, comm))
        else:  # the fitted model's random numbers and prior-optimization schedule continue
            config = self._train_config(init_model.config.seed)
            if self.optimize_burn_in is None:
                config = dataclasses.replace(
                    config, optimize_burn_in=init_model.config.optimize_burn_in)
        with _numba_threads():
            model = train(corpus, config=config, comm=comm, progress=progress,
                          init_model=init_model)
        self._set_fitted(distributed.bcast(comm, model), from_matrix)
        return self

    def _warm_start_model(self):
        """The fitted model that :meth:`fit` continues (``warm_start``), or None."""
        if not (self.warm_start and hasattr(self, "model_")):
            return None
        done = self.model_.config.iterations
        if self.max_iter < done:
            raise UserError(f"LDA: max_iter={self.max_iter} is less than the {done} sweeps "
                            "already fitted; with warm_start=True max_iter counts the sweeps "
                            "in total")
        return self.model_

    def fit_transform(self, X, y=None, *, vocabulary=None):
        """Train on ``X`` and return ``doc_topic_``, the training documents' theta.

        The theta of the sampler's last state (Griffiths & Steyvers 2004, eq. 6), not a
        new fold-in as ``fit(X).transform(X)`` would do: the two agree in distribution but
        not number for number.

        Parameters
        ----------
        X, y, vocabulary
            As in :meth:`fit`.

        Returns
        -------
        ndarray of float64, shape (n_documents, n_components)
            Rows sum to 1.

        Raises
        ------
        ValueError
            As :meth:`fit`.
        """
        return self.fit(X, y, vocabulary=vocabulary).doc_topic_.copy()

    def _train_config(self, seed):
        """The :class:`esca.TrainConfig` of the parameters (:data:`CONFIG_FIELDS`) and ``seed``.

        The parameters that TrainConfig names otherwise are checked here, under this class's
        names; TrainConfig checks the others, which have its names.
        """
        check_int("LDA: n_components", self.n_components, 1)
        check_int("LDA: max_iter", self.max_iter, 1, MAX_ITERATIONS)
        if self.n_threads is not None:
            check_int("LDA: n_threads", self.n_threads, 1)
        fields = {field: getattr(self, name) for name, field in CONFIG_FIELDS.items()}
        try:
            return TrainConfig(**fields, seed=seed)
        except UserError as e:
            raise UserError(f"LDA: {e}") from None

    def _progress(self):
        """The TrainProgress of :meth:`fit`: a tqdm bar if ``verbose``, else nothing."""
        v = self.verbose
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        return TrainProgress(log_every=0, bar=check_int("LDA: verbose", v, 0) > 0)

    def _set_fitted(self, model, from_matrix):
        self.model_ = model
        self.components_ = model.n_kw + model.beta
        if model.n_dk is not None:
            self.doc_topic_ = model.theta
        elif hasattr(self, "doc_topic_"):
            del self.doc_topic_
        self.vocabulary_ = {w: i for i, w in enumerate(model.vocab)}
        self.n_iter_ = model.config.iterations
        self.n_features_in_ = model.num_words
        if not from_matrix and hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    # -- input ---------------------------------------------------------------------------------
    def _fit_documents(self, X, vocabulary, warn=True):
        """(esca.Corpus or corpus path, came from a matrix) of the training input.

        A path is passed on to :func:`esca.train` as it is, so that each MPI rank reads only
        its own documents. A matrix is validated by scikit-learn (which records
        ``n_features_in_`` and a DataFrame's ``feature_names_in_``); ``warn``: warn when its
        words get placeholder names. Other inputs: :func:`esca.inputs.to_corpus`.
        """
        kind, X = inputs.input_kind(X, vocabulary, where="LDA.fit")
        if kind != "matrix":
            return inputs.to_corpus(X, vocabulary, where="LDA.fit", read=False), False
        X = _validate_data(self, X, accept_sparse=inputs.SPARSE_FORMATS, reset=True)
        V = X.shape[1]
        if vocabulary is not None:
            vocab = inputs.vocab_list(vocabulary, V, where="LDA")
        elif hasattr(self, "feature_names_in_"):
            vocab = [str(w) for w in self.feature_names_in_]
        else:
            vocab = [f"x{i}" for i in range(V)]
            if warn:
                warnings.warn(
                    f"LDA.fit: X has no word names, so its {V} columns are named x0 .. "
                    f"x{V - 1} (in saved models, esca topics and gensim exports too); pass "
                    "the words as vocabulary= (e.g. the fitted CountVectorizer: "
                    "LDA(vocabulary=cv), or set_params(lda__vocabulary=pipe[0]) in a "
                    "Pipeline), fit a pandas DataFrame, or call set_vocabulary(words) after "
                    "fitting", PlaceholderVocabularyWarning, stacklevel=3)
        check_vocab(vocab, "LDA.fit: the column names")
        return Corpus(*self._matrix_tokens(X, "LDA.fit"), vocab), True

    def _model_documents(self, X, vocabulary, where):
        """(doc_ptr int64 (D+1,), word_ids int32 (N,)) of ``X`` in the fitted vocabulary.

        A matrix without ``vocabulary`` has the fitted columns, checked by scikit-learn;
        other inputs are matched by word (:func:`esca.inputs.model_word_ids`), and tokens of
        words the model does not know are left out.
        """
        check_is_fitted(self, "model_")
        kind, X = inputs.input_kind(X, vocabulary, where=where)
        if kind == "matrix" and vocabulary is None:
            X = _validate_data(self, X, accept_sparse=inputs.SPARSE_FORMATS, reset=False)
            return self._matrix_tokens(X, where)
        doc_ptr, word_ids, _ = inputs.model_word_ids(X, self.model_.vocab,
                                                     vocabulary=vocabulary, where=where)
        return doc_ptr, word_ids

    def _matrix_tokens(self, X, where):
        """(doc_ptr, word_ids) of a matrix that scikit-learn validated:
        :func:`esca.inputs.matrix_tokens` (a method so that a subclass can take other values)."""
        return inputs.matrix_tokens(X, where)

    # -- inference -----------------------------------------------------------------------------
    def transform(self, X, *, vocabulary=None):
        """Topic proportions theta of documents, by Gibbs fold-in with the topics fixed.

        Each document's tokens are resampled from (n_dk^-i + alpha_k) phi_kw (Griffiths &
        Steyvers 2004, eq. 5 with the word factor fixed to phi) for ``transform_sweeps``
        sweeps, and theta is the Rao-Blackwellized average after ``transform_burn_in``
        (:func:`esca.evaluate.fold_in`). The random numbers come from the seed of the fit
        (``model_.config.seed``), so a call is repeatable; they are keyed by token
        position, so a document's theta varies slightly with the other documents of the
        call.

        Parameters
        ----------
        X : as in :meth:`fit`
            A matrix must have the fitted columns (``n_features_in_`` of them) unless
            ``vocabulary`` names its columns; other inputs are matched to the fitted
            vocabulary by word, and tokens of unknown words are left out.
        vocabulary : gensim.corpora.Dictionary, mapping or sequence of str, optional
            The words of ``X``, as in :meth:`fit`. A bag-of-words corpus without it must
            use the model's word ids (as ``to_gensim().id2word`` does).

        Returns
        -------
        ndarray of float64, shape (n_documents, n_components)
            Rows sum to 1; a document with no known word gets alpha / sum(alpha).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            On input that :meth:`fit` would refuse, a matrix with the wrong number of
            columns, a word id outside the vocabulary, or bad ``transform_sweeps`` /
            ``transform_burn_in``.
        """
        doc_ptr, word_ids = self._model_documents(X, vocabulary, "LDA.transform")
        return self._fold_in(doc_ptr, word_ids)

    def _fold_in(self, doc_ptr, word_ids):
        sweeps, burn_in = self._transform_sweeps()
        with _numba_threads(self.n_threads):
            return fold_in(self.model_.phi, self.model_.alpha, doc_ptr, word_ids, sweeps=sweeps,
                           burn_in=burn_in, seed=self.model_.config.seed)

    def _transform_sweeps(self):
        sweeps = check_int("LDA: transform_sweeps", self.transform_sweeps, 1, MAX_ITERATIONS)
        burn_in = check_int("LDA: transform_burn_in", self.transform_burn_in, 0)
        if burn_in >= sweeps:
            raise UserError(f"LDA: transform_burn_in must be less than transform_sweeps "
                            f"({sweeps}), got {burn_in}")
        return sweeps, burn_in

    def score(self, X, y=None, *, vocabulary=None):
        """Plug-in log-likelihood of the documents ``X`` (higher is better).

        log p(w | theta_hat, phi) = sum_d sum_i log sum_k theta_hat_dk phi_{k, w_di}, with
        phi the posterior mean of the topics (Griffiths & Steyvers 2004, eq. 7) and
        theta_hat inferred from the same documents by :meth:`transform`. Using the tokens
        twice makes it optimistic, more so for short documents; Wallach, Murray,
        Salakhutdinov & Mimno ("Evaluation methods for topic models", ICML 2009) compare
        better estimators, e.g. document completion (:func:`esca.evaluate.
        document_completion`, ``esca evaluate``) and the left-to-right algorithm
        (:mod:`esca.left_to_right`). sklearn's ``score`` is a variational lower bound
        instead; neither is comparable with the other.

        Parameters
        ----------
        X : as in :meth:`transform`
        y : None
            Ignored.
        vocabulary : as in :meth:`transform`

        Returns
        -------
        float
            Summed over the tokens of known words; 0.0 if there are none.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`transform`.
        """
        return self._plugin_loglik(X, vocabulary)[0]

    def perplexity(self, X, *, vocabulary=None):
        """Plug-in perplexity exp(-score(X) / N) of the documents ``X`` (lower is better).

        N counts the tokens of words the model knows. Optimistic like :meth:`score`; see
        there for better estimators.

        Parameters
        ----------
        X, vocabulary : as in :meth:`transform`

        Returns
        -------
        float

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            As :meth:`transform`, or if ``X`` holds no token of a known word.
        """
        ll, n = self._plugin_loglik(X, vocabulary)
        if n == 0:
            raise UserError("LDA.perplexity: the documents hold no token of a word in the "
                            "model's vocabulary")
        return math.exp(-ll / n)

    def _plugin_loglik(self, X, vocabulary):
        """(log-likelihood, tokens scored) of ``X``; see :meth:`score`."""
        doc_ptr, word_ids = self._model_documents(X, vocabulary, "LDA.score")
        theta = self._fold_in(doc_ptr, word_ids)
        D, N, V = len(doc_ptr) - 1, len(word_ids), self.model_.num_words
        if N == 0:
            return 0.0, 0
        # n_dw: the tokens as a (D, V) count matrix, one log per distinct (document, word).
        doc_of = np.repeat(np.arange(D, dtype=np.int64), np.diff(doc_ptr))
        counts = sp.csr_matrix((np.ones(N, dtype=np.int64), (doc_of, word_ids)), shape=(D, V))
        counts.sum_duplicates()
        rows = np.repeat(np.arange(D, dtype=np.int64), np.diff(counts.indptr))
        phi = self.model_.phi
        ll = 0.0
        for a in range(0, len(rows), _SCORE_BLOCK):
            b = a + _SCORE_BLOCK
            p = np.einsum("ik,ki->i", theta[rows[a:b]], phi[:, counts.indices[a:b]])
            ll += float(np.dot(counts.data[a:b], np.log(p)))
        return ll, N

    # -- models and files ----------------------------------------------------------------------
    @classmethod
    def from_model(cls, model):
        """A fitted estimator holding ``model`` (e.g. from :func:`esca.load_model`).

        The parameters are the model's training configuration (``alpha`` the prior it
        started from, ``random_state`` its seed), so :func:`sklearn.base.clone` and a new
        :meth:`fit` on the same documents reproduce it.

        Parameters
        ----------
        model : esca.TopicModel

        Returns
        -------
        LDA
            ``model_`` is ``model`` itself (not a copy).

        Raises
        ------
        TypeError
            If ``model`` is not an :class:`esca.TopicModel`.
        """
        if not isinstance(model, TopicModel):
            raise TypeError(f"LDA.from_model needs an esca.TopicModel, got {type(model).__name__}")
        params = {name: getattr(model.config, field) for name, field in CONFIG_FIELDS.items()}
        est = cls(**params, random_state=model.config.seed)
        est._set_fitted(model, from_matrix=False)
        return est

    @classmethod
    def load(cls, path):
        """Read a model file (``esca train -o``, :meth:`save`) as a fitted estimator.

        :func:`esca.load_model` returns the :class:`esca.TopicModel` itself; this wraps it
        with :meth:`from_model`. ``LDA.load(p).components_`` equals the saved estimator's
        bit for bit.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        LDA

        Raises
        ------
        esca.UserError
            As :func:`esca.load_model`: a missing, unreadable or inconsistent file.
        """
        return cls.from_model(load_model(path))

    def save(self, path):
        """Write the model to ``path`` as an esca HDF5 model (:meth:`esca.TopicModel.save`).

        Read it back with :meth:`load` (an estimator) or :func:`esca.load_model` (the
        TopicModel). Under MPI, call this on one rank only.

        Parameters
        ----------
        path : str or os.PathLike

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        esca.UserError
            If the folder does not exist or is not writable.
        """
        check_is_fitted(self, "model_")
        self._warn_placeholder("save")
        self.model_.save(path)

    def to_gensim(self):
        """The model as a :class:`gensim.models.LdaModel` (:func:`esca.export.to_gensim`).

        Its ``id2word`` is the vocabulary in column order, ``alpha`` the model's alpha,
        ``eta`` its beta, and ``get_topics()`` equals phi, ``components_`` with rows
        normalized.

        Returns
        -------
        gensim.models.LdaModel

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        """
        check_is_fitted(self, "model_")
        self._warn_placeholder("to_gensim")
        return to_gensim(self.model_)

    def _warn_placeholder(self, method):
        if is_placeholder_vocab(self.model_.vocab):
            warnings.warn(f"LDA.{method}: the model's words are the placeholder names x0 .. "
                          f"x{self.model_.num_words - 1}; name them first with "
                          "set_vocabulary(words) (e.g. CountVectorizer.get_feature_names_out())",
                          PlaceholderVocabularyWarning, stacklevel=3)

    def set_vocabulary(self, vocabulary):
        """Name the words of the fitted model, without training again.

        For a model fitted on a matrix without word names (placeholders ``x0`` ..
        ``x{V-1}``), e.g. in a Pipeline: ``pipe[-1].set_vocabulary(pipe[0])``. The counts
        stay as they are; ``model_.vocab`` (the same :class:`esca.TopicModel` object, also
        for an estimator from :meth:`from_model`) and ``vocabulary_`` take the new words.

        Parameters
        ----------
        vocabulary : sequence of str, mapping, fitted vectorizer or gensim Dictionary
            The V words in column order, as the ``vocabulary`` parameter.

        Returns
        -------
        self : LDA

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            (:class:`esca.UserError`) If there are not V words, a word repeats or is not a
            str, or the vectorizer is not fitted.
        """
        check_is_fitted(self, "model_")
        words = inputs.vocab_list(vocabulary, self.model_.num_words, where="LDA",
                                  of="the model has V={V} words")
        self.model_.vocab = words
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        return self

    def summary(self, top_n=5, file=None):
        """Describe the fitted model: :meth:`esca.TopicModel.summary` of ``model_``.

        Parameters
        ----------
        top_n : int, default=5
            Top words shown per topic.
        file : file object, optional
            As :meth:`esca.TopicModel.summary`.

        Returns
        -------
        What :meth:`esca.TopicModel.summary` returns.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        """
        check_is_fitted(self, "model_")
        return self.model_.summary(top_n=top_n, file=file)

    # -- scikit-learn protocol -----------------------------------------------------------------
    @property
    def _n_features_out(self):
        """K, the number of output columns (names ``lda0``, ``lda1``, ...)."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": True}

    def __sklearn_clone__(self):
        """:func:`sklearn.base.clone` (scikit-learn >= 1.3), passing ``comm`` on as it is.

        A communicator is a handle on the ranks, not a setting: a deep copy would fail (most
        cannot be pickled) or stand for other ranks.
        """
        comm = self.comm
        try:
            self.comm = None
            new = super().__sklearn_clone__()
        finally:
            self.comm = comm
        new.comm = comm
        return new


# -- parameters ----------------------------------------------------------------------------------

def _draw_seed(random_state, comm):
    """The training seed for ``random_state`` (the same on every rank of ``comm``).

    Raises
    ------
    UserError
        If ``random_state`` is not None, an int in 0..2**63-1, a RandomState or a Generator.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return check_int("LDA: random_state", random_state, 0, MAX_SEED)
    if isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(np.iinfo(np.int32).max))
    elif random_state is None or isinstance(random_state, np.random.RandomState):
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    else:
        text = repr(random_state)
        raise UserError(f"LDA: random_state must be None, an int, a numpy RandomState or a "
                        f"Generator, got {text if len(text) <= 40 else text[:37] + '...'}")
    return distributed.bcast(comm, seed)


@contextlib.contextmanager
def _numba_threads(n=None):
    """Set Numba's thread count to ``n`` (if given) for the block, and restore it after.

    Raises
    ------
    UserError
        If ``n`` is not an int >= 1 or is more than Numba's limit (``NUMBA_NUM_THREADS``).
    """
    import numba  # noqa: PLC0415 - import esca must not import Numba
    old = numba.get_num_threads()
    try:
        if n is not None:
            n = check_int("LDA: n_threads", n, 1)
            limit = numba.config.NUMBA_NUM_THREADS
            if n > limit:
                raise UserError(f"LDA: n_threads={n} is more than Numba's limit of {limit} "
                                f"(set NUMBA_NUM_THREADS={n} before starting Python)")
            numba.set_num_threads(n)
        yield
    finally:
        numba.set_num_threads(old)
