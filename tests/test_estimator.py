"""``esca.LDA``, the scikit-learn estimator: every input kind, inference, scores, files, gensim,
scikit-learn's own estimator checks, and two MPI ranks.

The corpus is synthetic: three topics of eight words each ("fruit", "animal", "vehicle"); each
document draws 90% of its tokens from its own topic and 10% from all 24 words, so the topics
and each document's topic are known and a working sampler must find them.
"""

import copy
import dataclasses
import inspect
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import esca
from esca.errors import PlaceholderVocabularyWarning
from esca.estimator import LDA

from helpers import MPIEXEC, check_ok, needs_mpiexec, run

# Many tests fit a matrix without word names on purpose; the tests of the warning use
# pytest.warns, which sees it regardless.
pytestmark = pytest.mark.filterwarnings("ignore::esca.errors.PlaceholderVocabularyWarning")

TOPICS = {
    "fruit": ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "peach"],
    "animal": ["cat", "dog", "goat", "horse", "mouse", "otter", "sheep", "tiger"],
    "vehicle": ["bike", "boat", "bus", "car", "plane", "ship", "train", "truck"],
}
K = 3
D = 60
SEED = 0
ITER = 60
FAST = {"n_components": K, "max_iter": ITER, "random_state": SEED, "n_threads": 1}


def make_documents(n_docs, seed):
    """``(token lists, topic of each document)``: 20-40 tokens, 90% from the document's topic."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    every = [w for ws in TOPICS.values() for w in ws]
    docs, labels = [], []
    for d in range(n_docs):
        t = d % K
        n = int(rng.integers(20, 41))
        own = rng.random(n) < 0.9
        docs.append([str(rng.choice(TOPICS[names[t]])) if o else str(rng.choice(every))
                     for o in own])
        labels.append(t)
    return docs, np.array(labels)


@pytest.fixture(scope="module")
def data():
    """The training documents as tokens, CountVectorizer matrix and vocabulary (sorted)."""
    docs, labels = make_documents(D, seed=1)
    cv = CountVectorizer(analyzer=lambda doc: doc)  # documents are already token lists
    X = cv.fit_transform(docs)
    vocab = list(cv.get_feature_names_out())
    assert vocab == sorted(vocab)
    return {"docs": docs, "labels": labels, "X": X, "vocab": vocab, "cv": cv}


@pytest.fixture(scope="module")
def fitted(data):
    """LDA fitted on the CountVectorizer matrix, with the words of its columns."""
    return LDA(**FAST).fit(data["X"], vocabulary=data["vocab"])


def matrix_order_tokens(X, vocab):
    """Each row of ``X`` as a token list in column order (the order ``fit`` reads a matrix in)."""
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()  # sorted columns in every row
    return [[vocab[j] for j in np.repeat(X.indices[a:b], X.data[a:b])]
            for a, b in zip(X.indptr[:-1], X.indptr[1:], strict=True)]


def topic_of_component(lda, vocab):
    """Map each component to the planted topic whose words are its top 8 (or fail)."""
    names = np.asarray(vocab)
    found = {}
    for k in range(K):
        top = set(names[np.argsort(-lda.components_[k], kind="stable")[:8]])
        match = [t for t, ws in TOPICS.items() if set(ws) == top]
        assert match, f"component {k}: top words {sorted(top)} are no planted topic"
        found[k] = list(TOPICS).index(match[0])
    assert sorted(found.values()) == list(range(K))
    return np.array([found[k] for k in range(K)])


# -- fit on a CountVectorizer matrix -----------------------------------------------------------

def test_count_vectorizer_matrix_recovers_the_topics(fitted, data):
    lda, X = fitted, data["X"]
    V, N = X.shape[1], int(X.sum())
    assert lda.components_.shape == (K, V) and lda.components_.dtype == np.float64
    # components_ = n_kw + beta (sklearn's unnormalized pseudo-counts), the tokens all counted.
    np.testing.assert_array_equal(lda.components_, lda.model_.n_kw + 0.01)
    assert int(lda.model_.n_kw.sum()) == N
    np.testing.assert_array_equal(lda.model_.n_kw.sum(axis=0), np.asarray(X.sum(axis=0)).ravel())
    topic = topic_of_component(lda, data["vocab"])
    assert lda.doc_topic_.shape == (D, K)
    np.testing.assert_allclose(lda.doc_topic_.sum(axis=1), 1.0, rtol=1e-12)
    assert np.mean(topic[lda.doc_topic_.argmax(axis=1)] == data["labels"]) >= 0.95
    assert lda.n_features_in_ == V and lda.n_iter_ == ITER
    assert lda.vocabulary_ == data["cv"].vocabulary_
    assert lda.model_.vocab == data["vocab"]
    assert not hasattr(lda, "feature_names_in_")
    assert list(lda.get_feature_names_out()) == ["lda0", "lda1", "lda2"]


def test_same_random_state_same_model_and_another_differs(fitted, data):
    again = LDA(**FAST).fit(data["X"], vocabulary=data["vocab"])
    np.testing.assert_array_equal(again.components_, fitted.components_)
    np.testing.assert_array_equal(again.doc_topic_, fitted.doc_topic_)
    other = LDA(**{**FAST, "random_state": SEED + 1}).fit(data["X"])
    assert not np.array_equal(other.doc_topic_, fitted.doc_topic_)


def test_thread_count_does_not_change_the_model_and_is_restored(fitted, data):
    import numba
    before = numba.get_num_threads()
    two = LDA(**{**FAST, "n_threads": min(2, numba.config.NUMBA_NUM_THREADS)}).fit(data["X"])
    assert numba.get_num_threads() == before
    np.testing.assert_array_equal(two.components_, fitted.components_)


def test_random_state_instances_give_a_recorded_seed(data):
    a = LDA(**{**FAST, "random_state": np.random.RandomState(3)}).fit(data["X"])
    b = LDA(**{**FAST, "random_state": np.random.RandomState(3)}).fit(data["X"])
    assert a.model_.config.seed == b.model_.config.seed
    np.testing.assert_array_equal(a.components_, b.components_)
    g = LDA(**{**FAST, "random_state": np.random.default_rng(3)}).fit(data["X"])
    seeded = LDA(**{**FAST, "random_state": g.model_.config.seed}).fit(data["X"])
    np.testing.assert_array_equal(g.components_, seeded.components_)


# -- every input kind ----------------------------------------------------------------------------

def _inputs(data, kind, tmp_path):
    """``(X, fit keyword arguments)`` of the training documents as input kind ``kind``.

    Every kind holds the same documents, tokens in column order, over the sorted vocabulary.
    """
    X, vocab = data["X"], data["vocab"]
    tokens = matrix_order_tokens(X, vocab)
    if kind == "csr":
        return X, {"vocabulary": vocab}
    if kind == "csc+mapping":
        return X.tocsc(), {"vocabulary": data["cv"].vocabulary_}
    if kind == "dense":
        return X.toarray(), {"vocabulary": np.asarray(vocab)}
    if kind == "dataframe":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X.toarray(), columns=vocab), {}
    if kind == "tokens":
        return tokens, {}
    if kind == "token-generator":
        return (doc for doc in tokens), {}
    if kind == "gensim":
        from gensim.corpora import Dictionary
        dictionary = Dictionary([vocab])  # new words get ids in sorted order
        assert dictionary.token2id == data["cv"].vocabulary_
        return [dictionary.doc2bow(doc) for doc in tokens], {"vocabulary": dictionary}
    if kind in ("hdf5", "hdf5-pathlib", "esca.Corpus"):
        lens = [len(doc) for doc in tokens]
        doc_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        index = {w: i for i, w in enumerate(vocab)}
        word_ids = np.array([index[t] for doc in tokens for t in doc], dtype=np.int32)
        if kind == "esca.Corpus":
            return esca.Corpus(doc_ptr, word_ids, vocab), {}
        path = tmp_path / "corpus.h5"
        esca.write_corpus(str(path), doc_ptr, word_ids, vocab)
        return (path if kind == "hdf5-pathlib" else str(path)), {}
    raise AssertionError(kind)


INPUT_KINDS = ["csr", "csc+mapping", "dense", "dataframe", "tokens", "token-generator", "gensim",
               "hdf5", "hdf5-pathlib", "esca.Corpus"]


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_every_input_kind_gives_the_same_model(kind, fitted, data, tmp_path):
    X, kwargs = _inputs(data, kind, tmp_path)
    lda = LDA(**FAST).fit(X, **kwargs)
    assert lda.model_.vocab == data["vocab"]
    np.testing.assert_array_equal(lda.components_, fitted.components_)
    np.testing.assert_array_equal(lda.doc_topic_, fitted.doc_topic_)
    assert lda.n_features_in_ == len(data["vocab"])
    if kind == "dataframe":
        assert list(lda.feature_names_in_) == data["vocab"]
    else:
        assert not hasattr(lda, "feature_names_in_")


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_transform_takes_every_input_kind(kind, fitted, data, tmp_path):
    X, kwargs = _inputs(data, kind, tmp_path)
    if kind == "dataframe":
        X = X.to_numpy()  # fitted without column names
    theta = fitted.transform(X, **kwargs)
    np.testing.assert_array_equal(theta, fitted.transform(data["X"]))


def test_token_lists_in_text_order_and_sorted_vocabulary(data):
    lda = LDA(**FAST).fit(data["docs"])
    assert lda.model_.vocab == sorted({t for doc in data["docs"] for t in doc})
    topic = topic_of_component(lda, lda.model_.vocab)
    assert np.mean(topic[lda.doc_topic_.argmax(axis=1)] == data["labels"]) >= 0.95


def test_gensim_dictionary_in_its_own_order(data):
    from gensim.corpora import Dictionary
    dictionary = Dictionary(data["docs"])
    assert [dictionary[i] for i in range(len(dictionary))] != data["vocab"]
    bow = [dictionary.doc2bow(doc) for doc in data["docs"]]
    lda = LDA(**FAST).fit(bow, vocabulary=dictionary)
    assert lda.model_.vocab == [dictionary[i] for i in range(len(dictionary))]
    topic = topic_of_component(lda, lda.model_.vocab)
    assert np.mean(topic[lda.doc_topic_.argmax(axis=1)] == data["labels"]) >= 0.95
    # Without a dictionary, transform reads the ids as the model's own word ids.
    np.testing.assert_array_equal(lda.transform(bow), lda.transform(bow, vocabulary=dictionary))


def test_fixed_vocabulary_for_token_lists_drops_other_tokens(data):
    vocab = TOPICS["fruit"] + TOPICS["animal"]
    lda = LDA(**{**FAST, "n_components": 2}).fit(data["docs"], vocabulary=vocab)
    assert lda.model_.vocab == vocab
    kept = sum(t in vocab for doc in data["docs"] for t in doc)
    assert lda.model_.num_tokens == kept


def test_sampler_cgs_and_optimized_priors(data):
    cgs = LDA(**{**FAST, "sampler": "cgs"}).fit(data["X"], vocabulary=data["vocab"])
    assert cgs.model_.config.sampler == "cgs"
    topic_of_component(cgs, data["vocab"])
    opt = LDA(**{**FAST, "optimize_interval": 10, "optimize_burn_in": 20}).fit(data["X"])
    # alpha (the parameter) stays as given; the fitted model holds the optimized priors.
    assert opt.alpha is None and not np.allclose(opt.model_.alpha, 5.0 / K)
    np.testing.assert_array_equal(opt.components_, opt.model_.n_kw + opt.model_.beta)


# -- transform, fit_transform, score, perplexity ------------------------------------------------

def test_transform_new_documents(fitted, data):
    new_docs, labels = make_documents(30, seed=7)
    X_new = data["cv"].transform(new_docs)
    theta = fitted.transform(X_new)
    assert theta.shape == (30, K) and theta.dtype == np.float64
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    topic = topic_of_component(fitted, data["vocab"])
    assert np.mean(topic[theta.argmax(axis=1)] == labels) >= 0.9
    np.testing.assert_array_equal(theta, fitted.transform(X_new))  # repeatable
    # The fold-in's random numbers come from the fit's seed.
    reseeded = copy.copy(fitted.model_)
    reseeded.config = dataclasses.replace(reseeded.config, seed=SEED + 1)
    assert not np.array_equal(LDA.from_model(reseeded).transform(X_new), theta)
    # Unknown words are left out wherever they are; token lists in column order match rows.
    tokens = matrix_order_tokens(X_new, data["vocab"])
    noisy = [["zzz"] + doc[:3] + ["unknown", "words"] + doc[3:] for doc in tokens]
    np.testing.assert_array_equal(fitted.transform(noisy), theta)
    # An empty document gets the prior mean alpha / sum(alpha).
    empty = fitted.transform([[], ["zzz"]])
    np.testing.assert_allclose(empty, np.full((2, K), 1.0 / K), rtol=1e-12)


def test_transform_more_sweeps_is_closer_to_the_training_theta(fitted, data):
    long = LDA.from_model(fitted.model_).set_params(transform_sweeps=200, transform_burn_in=50)
    theta = long.transform(data["X"])
    tv = 0.5 * np.abs(theta - fitted.doc_topic_).sum(axis=1)
    assert tv.mean() < 0.1, tv.mean()


def test_fit_transform_returns_doc_topic(fitted, data):
    lda = LDA(**FAST)
    theta = lda.fit_transform(data["X"], vocabulary=data["vocab"])
    np.testing.assert_array_equal(theta, fitted.doc_topic_)
    np.testing.assert_array_equal(theta, lda.doc_topic_)
    assert theta is not lda.doc_topic_


def test_perplexity_and_score(fitted, data):
    X = data["X"]
    score = fitted.score(X)
    perplexity = fitted.perplexity(X)
    N = int(X.sum())
    assert np.isfinite(score) and score < 0
    assert perplexity == pytest.approx(np.exp(-score / N), rel=1e-12)
    assert fitted.score(X) == score  # deterministic
    # The plug-in log-likelihood, computed here token by token from transform and phi.
    theta, phi = fitted.transform(X), fitted.components_ / fitted.components_.sum(1)[:, None]
    Xc = sp.csr_matrix(X)
    rows = np.repeat(np.arange(D), np.diff(Xc.indptr))
    direct = np.sum(Xc.data * np.log(np.einsum("ik,ki->i", theta[rows], phi[:, Xc.indices])))
    assert score == pytest.approx(direct, rel=1e-10)
    # Eight words per topic: a good model's perplexity is near 8 plus the noise, far below V.
    assert 1 < perplexity < 12 < X.shape[1]
    barely = LDA(**{**FAST, "max_iter": 1}).fit(X)
    assert fitted.perplexity(X) < 0.8 * barely.perplexity(X)
    # Held-out documents too.
    new_docs, _ = make_documents(30, seed=8)
    assert fitted.perplexity(data["cv"].transform(new_docs)) < 12


def test_perplexity_needs_known_words(fitted):
    with pytest.raises(ValueError, match="no token of a word"):
        fitted.perplexity([["zzz"], []])
    assert fitted.score([["zzz"], []]) == 0.0


# -- sklearn API ---------------------------------------------------------------------------------

def test_params_clone_and_repr():
    lda = LDA(5, alpha=0.2, beta=0.05, sampler="cgs", max_iter=7, random_state=4)
    params = lda.get_params()
    assert params["n_components"] == 5 and params["alpha"] == 0.2 and params["beta"] == 0.05
    assert set(params) == {"n_components", "alpha", "beta", "sampler", "max_iter",
                           "random_state", "n_threads", "kernel", "optimize_interval",
                           "optimize_burn_in", "eval_every", "transform_sweeps",
                           "transform_burn_in", "vocabulary", "verbose",
                           "warm_start", "comm"}
    twin = clone(lda)
    assert twin.get_params() == params and twin is not lda
    assert lda.set_params(n_components=2, kernel="dense") is lda
    assert lda.n_components == 2 and lda.kernel == "dense"
    assert " ".join(repr(lda).split()) == ("LDA(alpha=0.2, beta=0.05, kernel='dense', max_iter=7, "
                                           "n_components=2, random_state=4, sampler='cgs')")
    assert not [a for a in vars(LDA()) if a.endswith("_")]  # the constructor only stores


def test_clone_passes_the_communicator_on_as_it_is(data):
    """A communicator is a handle, not a setting: clone (GridSearchCV) must not deep-copy it
    (most cannot be pickled) but hand the same one to the copy; fit trains over it."""
    from mpi4py import MPI
    comm = MPI.COMM_SELF.Dup()
    try:
        lda = LDA(**FAST, comm=comm)
        twin = clone(lda)
        assert twin.comm is comm and lda.comm is comm and twin is not lda
        one = LDA(**FAST).fit(data["X"])
        np.testing.assert_array_equal(twin.fit(data["X"]).components_, one.components_)
    finally:
        comm.Free()


def test_parameters_map_onto_the_train_config_both_ways(data):
    """CONFIG_FIELDS maps every parameter once: fit's TrainConfig has the estimator's values
    and from_model gives them back."""
    from esca.estimator import CONFIG_FIELDS
    params = dict(n_components=3, alpha=0.3, beta=0.02, sampler="cgs", max_iter=4,
                  random_state=11, n_threads=1, kernel="dense", optimize_interval=2,
                  optimize_burn_in=1, eval_every=2)
    assert set(CONFIG_FIELDS) | {"random_state"} == set(params)
    lda = LDA(**params).fit(data["X"])
    c = lda.model_.config
    assert (c.num_topics, c.iterations, c.threads, c.seed) == (3, 4, 1, 11)
    assert {k: v for k, v in LDA.from_model(lda.model_).get_params().items()
            if k in params} == params


def test_n_threads_above_numbas_limit_names_the_parameter(fitted, data):
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=f"LDA: n_threads={limit + 1} is more than Numba's "
                                         f"limit of {limit}"):
        LDA.from_model(fitted.model_).set_params(n_threads=limit + 1).transform(data["X"])


def test_set_params_then_refit_changes_k(data):
    lda = clone(LDA(**FAST)).set_params(n_components=4, max_iter=5)
    assert lda.fit(data["X"]).components_.shape == (4, data["X"].shape[1])
    assert lda.transform(data["X"]).shape == (D, 4)


def test_in_a_pipeline_with_count_vectorizer(data):
    texts = [" ".join(doc) for doc in data["docs"]]
    pipe = make_pipeline(CountVectorizer(), LDA(**FAST))
    with pytest.warns(PlaceholderVocabularyWarning, match=r"its 24 columns are named x0 \.\. x23"):
        theta = pipe.fit_transform(texts)
    assert theta.shape == (D, K)
    np.testing.assert_allclose(pipe.transform(texts[:5]).sum(axis=1), 1.0, rtol=1e-12)
    lda = pipe[-1]
    assert lda.model_.vocab == [f"x{i}" for i in range(lda.n_features_in_)]


def _no_placeholder_warning():
    """A context in which a PlaceholderVocabularyWarning is an error."""
    import warnings
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error", PlaceholderVocabularyWarning)
    return ctx


def test_pipeline_gets_the_words_from_the_vocabulary_parameter(fitted, data):
    """make_pipeline(cv, LDA(vocabulary=cv)), set_params(lda__vocabulary=...) with the fitted
    step or the words, and a fit keyword over the parameter: the model has the real words
    and equals the one fitted with vocabulary= (same counts, same seed)."""
    texts = [" ".join(doc) for doc in data["docs"]]
    ctx = _no_placeholder_warning()
    try:
        cv = CountVectorizer()
        pipe = make_pipeline(cv, LDA(**FAST, vocabulary=cv))
        pipe.fit(texts)
        assert pipe[-1].vocabulary is cv                    # stored as given
        assert pipe[-1].model_.vocab == data["vocab"] == list(cv.get_feature_names_out())
        np.testing.assert_array_equal(pipe[-1].components_, fitted.components_)
        for value in (data["vocab"], data["cv"].vocabulary_, data["cv"]):
            pipe = make_pipeline(CountVectorizer(), LDA(**FAST))
            pipe.set_params(lda__vocabulary=value)
            pipe.fit(texts)
            assert pipe[-1].model_.vocab == data["vocab"]
            np.testing.assert_array_equal(pipe[-1].components_, fitted.components_)
        pipe = make_pipeline(CountVectorizer(), LDA(**FAST))
        pipe.fit(texts, lda__vocabulary=data["vocab"])      # fit keyword through the Pipeline
        assert pipe[-1].model_.vocab == data["vocab"]
        # The fit keyword wins over the parameter.
        lda = LDA(**FAST, vocabulary=data["vocab"][::-1]).fit(data["X"], vocabulary=data["vocab"])
        assert lda.model_.vocab == data["vocab"]
        lda = LDA(**FAST, vocabulary=data["vocab"][::-1]).fit(data["X"])
        assert lda.model_.vocab == data["vocab"][::-1]
    finally:
        ctx.__exit__(None, None, None)


def test_dataframe_columns_name_the_words(fitted, data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data["X"].toarray(), columns=data["vocab"])
    ctx = _no_placeholder_warning()
    try:
        lda = LDA(**FAST).fit(frame)
    finally:
        ctx.__exit__(None, None, None)
    assert list(lda.feature_names_in_) == data["vocab"] == lda.model_.vocab
    np.testing.assert_array_equal(lda.components_, fitted.components_)
    # vocabulary= wins over the column names
    upper = [w.upper() for w in data["vocab"]]
    assert LDA(**FAST, vocabulary=upper).fit(frame).model_.vocab == upper


def test_placeholder_names_warn_until_set_vocabulary_names_them(fitted, data, tmp_path):
    lda = LDA(**FAST)
    with pytest.warns(PlaceholderVocabularyWarning, match="pass the words as vocabulary="):
        lda.fit(data["X"])
    assert lda.model_.vocab == [f"x{i}" for i in range(24)]
    with pytest.warns(PlaceholderVocabularyWarning, match=r"LDA.save: .* x0 \.\. x23"):
        lda.save(tmp_path / "x.h5")
    with pytest.warns(PlaceholderVocabularyWarning, match=r"LDA.to_gensim: .* x0 \.\. x23"):
        lda.to_gensim()
    with pytest.raises(ValueError, match="^LDA: the vocabulary has 23 words but the model has "
                                         "V=24 words$"):
        lda.set_vocabulary(data["vocab"][:-1])
    with pytest.raises(ValueError, match="repeated|twice|more than once|distinct"):
        lda.set_vocabulary(["apple"] * 24)
    with pytest.raises(ValueError, match="CountVectorizer that is not fitted"):
        lda.set_vocabulary(CountVectorizer())
    assert lda.model_.vocab[0] == "x0"                       # a refused vocabulary changes nothing
    components = lda.components_.copy()
    assert lda.set_vocabulary(data["cv"]) is lda
    assert lda.model_.vocab == data["vocab"] and lda.vocabulary_ == data["cv"].vocabulary_
    np.testing.assert_array_equal(lda.components_, components)
    np.testing.assert_array_equal(lda.components_, fitted.components_)
    ctx = _no_placeholder_warning()
    try:
        lda.save(tmp_path / "named.h5")
        g = lda.to_gensim()
    finally:
        ctx.__exit__(None, None, None)
    assert esca.load_model(tmp_path / "named.h5").vocab == data["vocab"]
    assert [g.id2word[i] for i in range(24)] == data["vocab"]
    lda.set_vocabulary(np.array(data["vocab"]))              # numpy words are fine too
    assert lda.model_.vocab == data["vocab"]


def test_unfitted_vectorizer_as_vocabulary_is_refused(data):
    lda = clone(LDA(**FAST, vocabulary=data["cv"]))          # clone unfits the vectorizer
    with pytest.raises(ValueError, match="^LDA: vocabulary is a CountVectorizer that is not "
                                         "fitted"):
        lda.fit(data["X"])
    # A vectorizer with a fixed vocabulary needs no fitting.
    fixed = clone(LDA(**FAST, vocabulary=CountVectorizer(vocabulary=data["vocab"])))
    assert fixed.fit(data["X"]).model_.vocab == data["vocab"]


def test_gensim_coherence_needs_the_real_words(data):
    """With placeholder names gensim's u_mass coherence silently finds no word of the texts
    (0.0); with the words it is a real (negative) log ratio."""
    import warnings

    from gensim.models.coherencemodel import CoherenceModel
    texts = [" ".join(doc) for doc in data["docs"]]

    def u_mass(lda):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PlaceholderVocabularyWarning)
            g = lda.to_gensim()
        bow = [g.id2word.doc2bow(doc) for doc in data["docs"]]
        return CoherenceModel(model=g, corpus=bow, dictionary=g.id2word, coherence="u_mass",
                              topn=5).get_coherence()

    with pytest.warns(PlaceholderVocabularyWarning):
        unnamed = make_pipeline(CountVectorizer(), LDA(**FAST)).fit(texts)
    assert u_mass(unnamed[-1]) == 0.0
    cv = CountVectorizer()
    named = make_pipeline(cv, LDA(**FAST, vocabulary=cv)).fit(texts)
    score = u_mass(named[-1])
    assert np.isfinite(score) and score < 0
    assert u_mass(unnamed[-1].set_vocabulary(unnamed[0])) == score


def test_verbose_draws_a_progress_bar_on_stderr(data, capfd, caplog):
    LDA(**FAST, verbose=1).fit(data["X"], vocabulary=data["vocab"])
    out, err = capfd.readouterr()
    assert out == ""
    assert "train:" in err and f"{ITER}/{ITER}" in err and "100%" in err, err
    LDA(**FAST, verbose=True).fit(data["X"], vocabulary=data["vocab"])
    assert f"{ITER}/{ITER}" in capfd.readouterr().err
    caplog.set_level("INFO", logger="esca")
    LDA(**FAST).fit(data["X"], vocabulary=data["vocab"])   # verbose=0 (default): silent
    assert capfd.readouterr() == ("", "")
    assert not [r for r in caplog.records if r.name == "esca.progress"]  # no iteration lines
    with pytest.raises(ValueError, match="verbose must be >= 0, got -1"):
        LDA(**FAST, verbose=-1).fit(data["X"], vocabulary=data["vocab"])


def test_summary_is_the_models_summary(fitted):
    import io
    mine, theirs = io.StringIO(), io.StringIO()
    got = fitted.summary(top_n=3, file=mine)
    expected = fitted.model_.summary(top_n=3, file=theirs)
    assert mine.getvalue() == theirs.getvalue()
    assert (got is None and expected is None) or got == expected
    assert mine.getvalue() != ""
    assert f"K={fitted.n_components}" in mine.getvalue().replace(" ", "") or \
        str(fitted.n_components) in mine.getvalue()


def test_set_output_pandas(fitted, data):
    pd = pytest.importorskip("pandas")
    out = clone(fitted).set_params(max_iter=5).set_output(transform="pandas").fit_transform(
        data["X"])
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["lda0", "lda1", "lda2"]


def test_not_fitted():
    lda = LDA()
    for call in (lambda: lda.transform([["a"]]), lambda: lda.score([["a"]]),
                 lambda: lda.perplexity([["a"]]), lambda: lda.to_gensim(),
                 lambda: lda.save("never.h5"), lambda: lda.set_vocabulary(["a"]),
                 lambda: lda.summary()):
        with pytest.raises(NotFittedError):
            call()


# -- files and gensim ----------------------------------------------------------------------------

def test_save_and_load_round_trip(fitted, data, tmp_path):
    path = tmp_path / "model.h5"
    fitted.save(path)
    model = esca.load_model(path)
    assert isinstance(model, esca.TopicModel)
    np.testing.assert_array_equal(model.n_kw, fitted.model_.n_kw)
    loaded = LDA.load(path)
    assert isinstance(loaded, LDA)
    np.testing.assert_array_equal(loaded.components_, fitted.components_)  # bit for bit
    np.testing.assert_array_equal(loaded.doc_topic_, fitted.doc_topic_)
    assert loaded.vocabulary_ == fitted.vocabulary_
    assert loaded.n_features_in_ == fitted.n_features_in_
    np.testing.assert_array_equal(loaded.transform(data["X"]), fitted.transform(data["X"]))
    assert loaded.perplexity(data["X"]) == fitted.perplexity(data["X"])
    # The parameters come from the saved configuration: a refit reproduces the model.
    params = loaded.get_params()
    assert params["n_components"] == K and params["max_iter"] == ITER
    assert params["random_state"] == SEED and params["alpha"] == pytest.approx(5.0 / K)
    refit = clone(loaded).fit(data["X"], vocabulary=data["vocab"])
    np.testing.assert_array_equal(refit.components_, fitted.components_)
    wrapped = LDA.from_model(model)
    assert wrapped.model_ is model
    with pytest.raises(TypeError, match="TopicModel"):
        LDA.from_model(fitted)


def test_to_gensim(fitted, data):
    from gensim.models import LdaModel
    lda_g = fitted.to_gensim()
    assert isinstance(lda_g, LdaModel)
    assert lda_g.num_topics == K
    assert [lda_g.id2word[i] for i in range(len(data["vocab"]))] == data["vocab"]
    phi = fitted.components_ / fitted.components_.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(lda_g.get_topics(), phi, rtol=1e-10)
    np.testing.assert_allclose(lda_g.alpha, fitted.model_.alpha)
    assert lda_g.eta[0] == pytest.approx(fitted.beta)


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("X, match", [
    (np.array([[1.0, 0.5], [2.0, 0.0]]), r"X\[0, 1\] = 0.5 is not a whole number"),
    (sp.csr_matrix(np.array([[1, 0], [0, -2]])), r"Negative values in data .*X\[1, 1\] = -2"),
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "infinity"),
    (np.zeros((0, 4)), "0 sample"),
    (np.zeros((4, 0)), "0 feature"),
    (np.array([1, 2, 3]), "2D array"),
    (np.zeros((3, 4)), "no tokens"),
    (["the raw text", "of two documents"], "lists of tokens, got the string 'the raw text'"),
    ([["a", 3], ["b"]], "tokens must be str, got 3"),
    ([[(0, 1), (1, 2)]], "needs its Dictionary"),
    ([[]], "no tokens"),
    ("no/such/corpus.h5", "corpus file not found: no/such/corpus.h5"),
])
def test_bad_input_is_a_value_error_naming_it(X, match):
    with pytest.raises(ValueError, match=match):
        LDA(n_components=2, max_iter=2, random_state=0, n_threads=1).fit(X)


def test_bad_gensim_and_vocabulary_input():
    from gensim.corpora import Dictionary
    d = Dictionary([["a", "b"]])
    lda = LDA(n_components=2, max_iter=2, random_state=0, n_threads=1)
    with pytest.raises(ValueError, match="word id 5 is out of range 0..1"):
        lda.fit([[(0, 1), (5, 2)]], vocabulary=d)
    with pytest.raises(ValueError, match=r"X\[0, 1\] = 1.5 is not a whole number"):
        lda.fit([[(0, 1), (1, 1.5)]], vocabulary=d)
    with pytest.raises(ValueError, match="not an \\(id, count\\) pair"):
        lda.fit([[(0, 1), (1, 2, 3)]], vocabulary=d)
    with pytest.raises(ValueError, match="the vocabulary has 3 words but X has 2 columns"):
        lda.fit(np.ones((2, 2)), vocabulary=["a", "b", "c"])
    with pytest.raises(ValueError, match="'a' appears twice"):
        lda.fit(np.ones((2, 2)), vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="does not apply to an esca corpus"):
        lda.fit("builtin:wiki250", vocabulary=["a"])


@pytest.mark.parametrize("params, match", [
    ({"n_components": 0}, "n_components must be >= 1, got 0"),
    ({"max_iter": 0}, r"max_iter must be in 1..2\*\*32-1, got 0"),
    ({"alpha": -1.0}, "alpha must be a finite number > 0, got -1.0"),
    ({"alpha": [0.1, 0.2]}, "alpha has 2 values but there are K=3 topics"),
    ({"beta": 0}, "beta must be a finite number > 0, got 0"),
    ({"sampler": "vb"}, "unknown sampler 'vb'"),
    ({"kernel": "fast"}, "unknown kernel 'fast'"),
    ({"n_threads": 0}, "n_threads must be >= 1, got 0"),
    ({"random_state": -1}, r"random_state must be in 0..2\*\*63-1, got -1"),
    ({"random_state": "seed"}, "random_state must be None, an int"),
])
def test_bad_parameters_are_value_errors_at_fit(params, match, data):
    lda = LDA(**{**FAST, **params})  # the constructor accepts anything
    with pytest.raises(ValueError, match=match):
        lda.fit(data["X"])


@pytest.mark.parametrize("params, match", [
    ({"transform_sweeps": 0}, r"transform_sweeps must be in 1..2\*\*32-1, got 0"),
    ({"transform_burn_in": 50}, "transform_burn_in must be less than transform_sweeps"),
    ({"transform_burn_in": 1.5}, "transform_burn_in must be an integer, got 1.5"),
])
def test_bad_transform_parameters(params, match, fitted, data):
    lda = LDA.from_model(fitted.model_).set_params(**params)
    with pytest.raises(ValueError, match=match):
        lda.transform(data["X"])


def test_transform_checks_the_columns(fitted, data):
    X = data["X"]
    with pytest.raises(ValueError, match=f"X has {X.shape[1] - 1} features, but LDA is "
                                         f"expecting {X.shape[1]} features"):
        fitted.transform(X[:, :-1])
    # Named columns may come in another order or number: they are matched by word (a row's
    # tokens are read in its column order, as the token lists here).
    sub = data["vocab"][::-1][:-2] + ["not-in-the-model"]
    Xs = sp.hstack([sp.csr_matrix(X)[:, [data["vocab"].index(w) for w in sub[:-1]]],
                    sp.csr_matrix(np.ones((D, 1), dtype=np.int64))]).tocsr()
    theta = fitted.transform(Xs, vocabulary=sub)
    np.testing.assert_array_equal(theta, fitted.transform(matrix_order_tokens(Xs, sub)))
    assert not np.array_equal(theta, fitted.transform(X))


# -- scikit-learn's estimator checks -------------------------------------------------------------

class WholeCountsLDA(LDA):
    """LDA that rounds the values of a validated matrix to whole numbers before sampling.

    scikit-learn's checks feed random non-negative floats (3 * uniform and the like), which
    :class:`esca.LDA` refuses as non-integer counts; rounding them (after sklearn's own
    validation of NaN, dtype, shape, sparse format, memmaps, ...) lets the rest of each
    check run. It changes nothing else.
    """

    def _matrix_tokens(self, X, where):
        if sp.issparse(X):
            X = X.copy()
            X.data = np.rint(X.data)
        else:
            X = np.rint(X)
        return super()._matrix_tokens(X, where)


#: Checks that feed non-integer X; the real esca.LDA must fail them (strict xfail).
FRACTIONAL_X_CHECKS = [
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting", "check_estimators_dtypes",
    "check_dtype_object", "check_pipeline_consistency", "check_estimators_nan_inf",
    "check_estimator_sparse_tag", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_transformer_n_iter",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    "check_fit2d_predict1d",
]
FRACTIONAL_REASON = ("feeds random non-integer X; esca.LDA refuses fractional counts (a Gibbs "
                     "sampler draws one topic per token) - the check runs on WholeCountsLDA")
FIT_TRANSFORM_REASON = ("fit_transform returns the sampler's training theta (doc_topic_), "
                        "transform a new Monte Carlo fold-in: equal in distribution, not "
                        "within atol=1e-2")


def expected_failed_checks(estimator):
    if isinstance(estimator, WholeCountsLDA):
        return {"check_transformer_general": FIT_TRANSFORM_REASON,
                "check_transformer_data_not_an_array": FIT_TRANSFORM_REASON}
    return {name: FRACTIONAL_REASON for name in FRACTIONAL_X_CHECKS}


if "expected_failed_checks" in inspect.signature(parametrize_with_checks).parameters:
    # scikit-learn >= 1.6
    @parametrize_with_checks(
        [LDA(n_components=3, max_iter=5, n_threads=1),
         WholeCountsLDA(n_components=3, max_iter=5, n_threads=1)],
        expected_failed_checks=expected_failed_checks, xfail_strict=True)
    def test_sklearn_estimator_checks(estimator, check):
        check(estimator)


def test_the_real_lda_fails_those_checks_on_fractional_counts_only():
    """The strict xfails above fail, and here they fail for the reason given."""
    from sklearn.utils.estimator_checks import check_estimator
    results = check_estimator(LDA(n_components=3, max_iter=5, n_threads=1), on_fail=None,
                              on_skip=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == set(FRACTIONAL_X_CHECKS)
    for r in results:
        if r["status"] == "failed":
            e, chain = r["exception"], []
            while e is not None:
                chain.append(str(e))
                e = e.__cause__ or e.__context__
            assert any("is not a whole number" in m for m in chain), (r["check_name"], chain)


def test_docstring_example():
    import doctest

    import esca.estimator
    result = doctest.testmod(esca.estimator, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


# -- MPI -----------------------------------------------------------------------------------------

MPI_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import scipy.sparse as sp
    from mpi4py import MPI
    import esca
    X, out = sp.load_npz(sys.argv[1]), sys.argv[2]
    rank = MPI.COMM_WORLD.Get_rank()
    lda = esca.LDA(n_components=3, max_iter=20, random_state=5, n_threads=1).fit(X)
    np.save(f"{out}/components_{rank}.npy", lda.components_)
    np.save(f"{out}/doc_topic_{rank}.npy", lda.doc_topic_)
    np.save(f"{out}/transform_{rank}.npy", lda.transform(X[:7]))
    unseeded = esca.LDA(n_components=3, max_iter=3, n_threads=1).fit(X)
    np.save(f"{out}/unseeded_{rank}.npy", unseeded.components_)
    from_path = esca.LDA(n_components=3, max_iter=20, random_state=5, n_threads=1).fit(sys.argv[3])
    np.save(f"{out}/from_path_{rank}.npy", from_path.components_)
""")


@pytest.mark.mpi
@needs_mpiexec
def test_fit_under_two_mpi_ranks(data, tmp_path):
    X = sp.csr_matrix(data["X"])
    sp.save_npz(tmp_path / "X.npz", X)
    path, _ = _inputs(data, "hdf5", tmp_path)  # the same documents: each rank reads its own
    r, _ = run([MPIEXEC, "-n", "2", sys.executable, "-c", MPI_SCRIPT, tmp_path / "X.npz",
                tmp_path, path], tmp_path)
    err = check_ok(r).stderr
    # Two fits of a matrix without word names: one placeholder warning each, from rank 0 only.
    assert err.count("PlaceholderVocabularyWarning: LDA.fit: X has no word names") == 2, err
    one = LDA(n_components=3, max_iter=20, random_state=5, n_threads=1).fit(X)
    for rank in (0, 1):  # ESCA: two ranks give the one-rank model bit for bit, on both ranks
        np.testing.assert_array_equal(np.load(tmp_path / f"components_{rank}.npy"),
                                      one.components_)
        np.testing.assert_array_equal(np.load(tmp_path / f"doc_topic_{rank}.npy"),
                                      one.doc_topic_)
        np.testing.assert_array_equal(np.load(tmp_path / f"transform_{rank}.npy"),
                                      one.transform(X[:7]))
        np.testing.assert_array_equal(np.load(tmp_path / f"from_path_{rank}.npy"),
                                      one.components_)
    # random_state=None: rank 0's seed is used on both ranks.
    np.testing.assert_array_equal(np.load(tmp_path / "unseeded_0.npy"),
                                  np.load(tmp_path / "unseeded_1.npy"))


COMM_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import scipy.sparse as sp
    from mpi4py import MPI
    import esca
    X, out = sp.load_npz(sys.argv[1]), sys.argv[2]
    world = MPI.COMM_WORLD
    rank = world.Get_rank()
    alone = world.Split(color=rank)  # each rank in a communicator of its own
    kw = dict(n_components=3, max_iter=10, n_threads=1, vocabulary=[f"w{i}" for i in
                                                                    range(X.shape[1])])
    np.random.seed(100 + rank)  # random_state=None draws the seed from numpy's RandomState
    lda = esca.LDA(**kw, comm=alone).fit(X)
    np.save(f"{out}/alone_{rank}.npy", lda.components_)
    np.save(f"{out}/alone_seed_{rank}.npy", lda.model_.config.seed)
    lda = esca.LDA(**kw, comm=world).fit(X)
    np.save(f"{out}/world_seed_{rank}.npy", lda.model_.config.seed)
    lda = esca.LDA(**kw, random_state=5, comm=MPI.COMM_SELF).fit(X)
    np.save(f"{out}/self_{rank}.npy", lda.components_)
    alone.Free()
""")


@pytest.mark.mpi
@needs_mpiexec
def test_fit_uses_the_communicator_given(data, tmp_path):
    """LDA(comm=...): the ranks of ``comm`` share a fit, not MPI.COMM_WORLD. Two ranks each
    alone draw their own seeds and train alone; together (world) they share rank 0's seed;
    COMM_SELF trains the one-rank model on each rank."""
    X = sp.csr_matrix(data["X"])
    sp.save_npz(tmp_path / "X.npz", X)
    check_ok(run([MPIEXEC, "-n", "2", sys.executable, "-c", COMM_SCRIPT, tmp_path / "X.npz",
                  tmp_path], tmp_path)[0])

    def load(name):
        return [np.load(tmp_path / f"{name}_{rank}.npy") for rank in (0, 1)]
    seeds = load("alone_seed")
    assert seeds[0] != seeds[1]  # each rank drew its own seed: no broadcast over the world
    for rank, seed in enumerate(seeds):  # and trained alone: the one-rank model of that seed
        one = LDA(n_components=3, max_iter=10, n_threads=1, random_state=int(seed)).fit(
            X, vocabulary=[f"w{i}" for i in range(X.shape[1])])
        np.testing.assert_array_equal(load("alone")[rank], one.components_)
    world = load("world_seed")
    assert world[0] == world[1]  # the world shares rank 0's seed
    one = LDA(n_components=3, max_iter=10, n_threads=1, random_state=5).fit(
        X, vocabulary=[f"w{i}" for i in range(X.shape[1])])
    for components in load("self"):
        np.testing.assert_array_equal(components, one.components_)
