"""esca.inputs: every kind of documents as word ids, shared by esca.LDA, TopicModel and the CLI."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import esca
from esca import inputs
from esca.errors import UserError

VOCAB = ["apple", "banana", "cherry", "dog"]
#: Three documents as token lists in column order (the order a matrix row is read in).
TOKENS = [["apple", "apple", "cherry"], [], ["banana", "dog", "dog", "dog"]]
MATRIX = np.array([[2, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 3]])
BOW = [[(0, 2), (2, 1)], [], [(1, 1), (3, 3)]]
DOC_PTR = [0, 3, 3, 7]
WORD_IDS = [0, 0, 2, 1, 3, 3, 3]


class FakeDictionary(dict):
    """The two attributes by which a gensim Dictionary is recognized, and its items()."""

    token2id = property(lambda self: {w: i for i, w in self.items()})
    id2token = property(lambda self: dict(self))


def _corpus():
    return esca.Corpus(np.array(DOC_PTR), np.array(WORD_IDS), VOCAB)


@pytest.mark.parametrize("X, kind", [
    (MATRIX, "matrix"), (sp.csr_matrix(MATRIX), "matrix"), (MATRIX.tolist(), "matrix"),
    (TOKENS, "tokens"), (BOW, "bow"), ("c.h5", "corpus"), (_corpus(), "corpus"),
    ([[], []], "tokens"), ([], "matrix"),
])
def test_input_kind(X, kind):
    assert inputs.input_kind(X)[0] == kind


def test_input_kind_reads_a_generator_once_and_empty_documents_follow_the_vocabulary():
    kind, X = inputs.input_kind(iter(TOKENS))
    assert kind == "tokens" and X == TOKENS
    assert inputs.input_kind([[], []], FakeDictionary(enumerate(VOCAB)))[0] == "bow"


def test_every_kind_gives_the_same_word_ids():
    """The module's promise: the same documents in the same order are the same word ids,
    whatever the kind; as a Corpus and as model word ids."""
    want = (DOC_PTR, WORD_IDS)
    for got in (inputs.matrix_tokens(MATRIX, "m"), inputs.matrix_tokens(sp.coo_matrix(MATRIX), "m"),
                inputs.bow_tokens(BOW, 4, "b"),
                inputs.token_ids(TOKENS, {w: i for i, w in enumerate(VOCAB)}, "t")[:2]):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    for c in (inputs.to_corpus(TOKENS, where="t"), inputs.to_corpus(BOW, VOCAB, where="b"),
              inputs.to_corpus(_corpus(), where="c")):
        assert c.vocab == VOCAB
        np.testing.assert_array_equal(c.doc_ptr, DOC_PTR)
        np.testing.assert_array_equal(c.word_ids, WORD_IDS)
    for X, vocabulary in ((MATRIX, None), (MATRIX, VOCAB), (sp.csr_matrix(MATRIX), VOCAB),
                          (BOW, None), (BOW, FakeDictionary(enumerate(VOCAB))), (TOKENS, None),
                          (_corpus(), None)):
        doc_ptr, word_ids, skipped = inputs.model_word_ids(X, VOCAB, vocabulary=vocabulary,
                                                           where="w")
        np.testing.assert_array_equal(doc_ptr, DOC_PTR)
        np.testing.assert_array_equal(word_ids, WORD_IDS)
        assert skipped == 0


def test_model_word_ids_match_by_word_and_count_the_unknown():
    model_vocab = ["dog", "cherry", "zebra", "apple"]  # banana unknown, another order
    want_ptr, want_ids = [0, 3, 3, 6], [3, 3, 1, 0, 0, 0]
    for X, vocabulary in ((MATRIX, VOCAB), (BOW, VOCAB), (TOKENS, None), (_corpus(), None)):
        doc_ptr, word_ids, skipped = inputs.model_word_ids(X, model_vocab,
                                                           vocabulary=vocabulary, where="w")
        np.testing.assert_array_equal(doc_ptr, want_ptr)
        np.testing.assert_array_equal(word_ids, want_ids)
        assert skipped == 1


def test_a_token_vocabulary_is_sorted_and_a_fixed_one_drops_other_tokens():
    c = inputs.to_corpus([["b", "a"], ["c", "a"]], where="t")
    assert c.vocab == ["a", "b", "c"] and c.word_ids.tolist() == [1, 0, 2, 0]
    c = inputs.to_corpus([["b", "a"], ["c", "a"]], ["c", "a"], where="t")
    assert c.vocab == ["c", "a"] and c.word_ids.tolist() == [1, 0, 1]


@pytest.mark.parametrize("vocabulary", [
    VOCAB, tuple(VOCAB), np.array(VOCAB), {w: i for i, w in enumerate(VOCAB)},
    dict(enumerate(VOCAB)), FakeDictionary(enumerate(VOCAB)),
])
def test_vocab_list_reads_every_form(vocabulary):
    words = inputs.vocab_list(vocabulary, 4)
    assert words == VOCAB and all(type(w) is str for w in words)


@pytest.mark.parametrize("call, match", [
    (lambda: inputs.vocab_list("abc", where="here"),
     "^here: vocabulary must be a sequence of words.*string"),
    (lambda: inputs.vocab_list({0: "a", 2: "b"}, where="here"),
     r"^here: the vocabulary's ids must be 0\.\.1"),
    (lambda: inputs.vocab_list(["a", "a"], where="here"), "^here: vocabulary: .*'a' appears twice"),
    (lambda: inputs.vocab_list(["a"], 2, where="here"),
     "^here: the vocabulary has 1 words but X has 2 columns"),
    (lambda: inputs.input_kind(["raw text"], where="here"),
     "^here: documents must be lists of tokens"),
    (lambda: inputs.to_corpus([["a", 3]], where="here"), "^here: tokens must be str, got 3"),
    (lambda: inputs.to_corpus([["a"], 7], where="here"),
     "^here: document 1 is 7, not a list of tokens"),
    (lambda: inputs.to_corpus(BOW, where="here"),
     "^here: a gensim bag-of-words corpus needs its Dictionary"),
    (lambda: inputs.to_corpus(MATRIX, where="here"), "^here: a document-term matrix has no words"),
    (lambda: inputs.to_corpus(_corpus(), VOCAB, where="here"),
     "^here: vocabulary= does not apply to an esca"),
    (lambda: inputs.bow_tokens([[(0, 1), (9, 1)]], 4, "here"), "word id 9 is out of range 0..3"),
    (lambda: inputs.bow_tokens([[(0, 1.5)]], 4, "here"), r"^here: X\[0, 0\] = 1.5 is not a whole"),
    (lambda: inputs.bow_tokens([[(0, float("nan"))]], 4, "here"), "^here: .* is not finite"),
    (lambda: inputs.matrix_tokens(-MATRIX, "here"), r"passed to here: X\[0, 0\] = -2"),
    (lambda: inputs.model_word_ids(MATRIX, ["a"], where="here"),
     "^here: X has 4 columns but the model has V=1 words"),
    (lambda: inputs.model_word_ids(TOKENS, VOCAB, vocabulary=VOCAB, where="here"),
     "^here: vocabulary= does not apply to token lists"),
])
def test_errors_are_user_errors_naming_the_caller(call, match):
    with pytest.raises(UserError, match=match):
        call()


def test_topic_model_maps_every_kind_through_esca_inputs():
    """TopicModel.map_documents / transform take what esca.LDA.transform takes."""
    corpus = _corpus()
    model = esca.train(corpus, num_topics=2, iterations=3, seed=1, threads=1, eval_every=0)
    want = model.transform(TOKENS, sweeps=3, burn_in=1, seed=2)
    for X, vocabulary in ((MATRIX, None), (sp.csr_matrix(MATRIX), VOCAB), (BOW, VOCAB),
                          (corpus, None)):
        np.testing.assert_array_equal(
            model.transform(X, sweeps=3, burn_in=1, seed=2, vocabulary=vocabulary), want)
    with pytest.raises(UserError, match="^TopicModel.map_documents: tokens must be str"):
        model.map_documents([["apple", 1]])


def test_import_esca_imports_neither_scipy_sparse_nor_sklearn():
    """esca.inputs reads matrices, but import esca (the command line) stays light."""
    code = "import sys, esca.inputs; print(sorted({'scipy.sparse', 'sklearn'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
