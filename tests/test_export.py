"""The gensim export: a model trained here loads in gensim and means the same thing there.

Trains small models in-process (builtin:wiki250, K=10, 10 iterations, and a
synthetic corpus written with ``esca.write_corpus``), saves and reloads them
through HDF5, exports them with :func:`esca.export.export_gensim` and reads
the export back with gensim's own loaders.
"""

import os

import numpy as np
import pytest

import esca
from esca.export import GENSIM_DICTIONARY, GENSIM_MODEL, export_gensim

gensim = pytest.importorskip("gensim")
from gensim.corpora import Dictionary  # noqa: E402 - after importorskip
from gensim.models import LdaModel  # noqa: E402 - after importorskip

K = 10
ITERATIONS = 10
TOP = 10


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small model trained on the default corpus, written to HDF5 and read back."""
    trained = esca.train(num_topics=K, iterations=ITERATIONS, seed=3, threads=1)
    path = tmp_path_factory.mktemp("model") / "model.h5"
    trained.save(path)
    loaded = esca.load_model(path)
    # The HDF5 round trip keeps everything the export uses.
    np.testing.assert_array_equal(loaded.n_kw, trained.n_kw)
    np.testing.assert_array_equal(loaded.n_k, trained.n_k)
    np.testing.assert_array_equal(loaded.word_df, trained.word_df)
    np.testing.assert_array_equal(loaded.alpha, trained.alpha)
    assert loaded.beta == trained.beta
    assert loaded.vocab == trained.vocab
    return loaded


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    """``(dir, LdaModel, Dictionary)`` of the model's export, loaded with gensim."""
    out = tmp_path_factory.mktemp("export") / "gensim"
    path = export_gensim(model, out)
    assert os.path.samefile(path, out / GENSIM_MODEL)
    return (out, LdaModel.load(str(out / GENSIM_MODEL)),
            Dictionary.load(str(out / GENSIM_DICTIONARY)))


def small_model(tmp_path, num_topics=4, D=30, V=40, seed=0):
    """A model trained on a small synthetic corpus written to ``tmp_path``."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 40, size=D)
    doc_ptr = np.concatenate([[0], np.cumsum(lengths)])
    word_ids = rng.integers(0, V, size=int(doc_ptr[-1]))
    vocab = [f"tok{i:03d}" for i in range(V)]
    path = tmp_path / "small_corpus.h5"
    esca.write_corpus(str(path), doc_ptr, word_ids, vocab)
    return esca.train(str(path), num_topics=num_topics, iterations=ITERATIONS, seed=1, threads=1)


def test_export_writes_gensim_files(exported):
    out, lda, dictionary = exported
    assert (out / GENSIM_MODEL).is_file()
    assert (out / GENSIM_DICTIONARY).is_file()
    assert isinstance(lda, LdaModel)
    assert isinstance(dictionary, Dictionary)
    assert not [n for n in os.listdir(out) if n.startswith(".esca-export-")]


def test_dictionary_maps_tokens_to_our_ids(model, exported):
    _, lda, dictionary = exported
    assert len(dictionary) == model.num_words
    assert dictionary.token2id == {w: i for i, w in enumerate(model.vocab)}
    for i in (0, 1, model.num_words // 2, model.num_words - 1):
        assert dictionary[i] == model.vocab[i]
        assert lda.id2word[i] == model.vocab[i]
    # Document frequencies and the collection counts come from the model.
    assert dictionary.num_docs == model.num_docs
    assert dictionary.num_pos == model.num_tokens
    assert [dictionary.dfs[i] for i in range(5)] == model.word_df[:5].tolist()
    words = [model.vocab[3], model.vocab[7], model.vocab[3]]
    assert dictionary.doc2bow(words) == [(3, 2), (7, 1)]


def test_topics_equal_phi(model, exported):
    _, lda, _ = exported
    topics = lda.get_topics()
    assert topics.shape == (model.num_topics, model.num_words)
    np.testing.assert_allclose(topics, model.phi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(topics.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_show_topics_gives_our_top_words(model, exported):
    _, lda, _ = exported
    shown = lda.show_topics(num_topics=-1, num_words=TOP, formatted=False)
    assert [k for k, _ in shown] == list(range(model.num_topics))
    phi = model.phi
    index = {w: i for i, w in enumerate(model.vocab)}
    for k, pairs in shown:
        ours = model.top_words(k, TOP)
        theirs = {w for w, _ in pairs}
        assert len(theirs) == TOP
        cutoff = ours[-1][1]  # the TOP-th largest probability of topic k
        for w in theirs.symmetric_difference(w for w, _ in ours):
            # A word may differ only if it ties with the last word kept.
            assert phi[k, index[w]] == pytest.approx(cutoff, rel=1e-12, abs=0), (k, w)
        for w, p in pairs:
            assert p == pytest.approx(phi[k, index[w]], rel=1e-9)


def test_document_topics_of_new_document(model, exported):
    _, lda, dictionary = exported
    words = [w for w, _ in model.top_words(0, 5)] + [w for w, _ in model.top_words(1, 5)]
    bow = dictionary.doc2bow(words + ["a-word-never-seen-in-training"])
    assert len(bow) >= 1 and all(0 <= i < model.num_words for i, _ in bow)
    dist = lda.get_document_topics(bow, minimum_probability=0.0)
    assert len(dist) == model.num_topics
    assert sorted(k for k, _ in dist) == list(range(model.num_topics))
    probs = np.array([p for _, p in dist])
    assert np.all(probs >= 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_priors_match(model, exported):
    _, lda, _ = exported
    np.testing.assert_array_equal(np.asarray(lda.alpha, dtype=float), model.alpha)
    assert np.asarray(lda.alpha).shape == (model.num_topics,)
    # gensim calls beta "eta" and stores it per word.
    eta = np.asarray(lda.eta, dtype=float)
    assert eta.shape in ((), (model.num_words,))
    np.testing.assert_array_equal(eta, model.beta)
    assert model.beta == pytest.approx(0.01)


def test_export_replaces_earlier_export(model, tmp_path):
    out = tmp_path / "gensim"
    export_gensim(model, out)
    first = LdaModel.load(str(out / GENSIM_MODEL))
    assert first.num_topics == model.num_topics

    other = small_model(tmp_path, num_topics=4)
    export_gensim(other, out)
    lda = LdaModel.load(str(out / GENSIM_MODEL))
    dictionary = Dictionary.load(str(out / GENSIM_DICTIONARY))
    assert lda.num_topics == 4
    assert dictionary.token2id == {w: i for i, w in enumerate(other.vocab)}
    np.testing.assert_allclose(lda.get_topics(), other.phi, rtol=0, atol=1e-12)
    # No temporary folder is left behind, and no file of the first export
    # that a fresh export of the second model would not have.
    fresh = tmp_path / "fresh"
    export_gensim(other, fresh)
    assert sorted(os.listdir(out)) == sorted(os.listdir(fresh))
    assert not [n for n in os.listdir(out) if n.startswith(".")]


def test_export_into_missing_parent_is_user_error(model, tmp_path):
    out = tmp_path / "does-not-exist" / "gensim"
    with pytest.raises(esca.UserError, match="does-not-exist"):
        export_gensim(model, out)
    assert not (tmp_path / "does-not-exist").exists()
    assert list(tmp_path.iterdir()) == []
