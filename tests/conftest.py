"""Shared test fixtures: a small random corpus, and Numba's thread count restored after a test."""

import os
import sys

import numpy as np
import pytest

# Let the test modules `import naive` whatever pytest's import mode is.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def make_random_corpus(seed, D=20, V=30, min_len=1, max_len=60, empty_docs=()):
    """A random in-memory ``esca.Corpus`` with D documents over V words.

    Document lengths are uniform in ``min_len..max_len`` except for the
    documents listed in ``empty_docs``, which are empty; the last two word
    ids are never used, so V includes unseen words.
    """
    import esca
    rng = np.random.default_rng(seed)
    lens = rng.integers(min_len, max_len + 1, size=D)
    lens[list(empty_docs)] = 0
    doc_ptr = np.zeros(D + 1, dtype=np.int64)
    np.cumsum(lens, out=doc_ptr[1:])
    word_ids = rng.integers(0, V - 2, size=int(doc_ptr[-1])).astype(np.int32)
    return esca.Corpus(doc_ptr, word_ids, [f"w{i}" for i in range(V)])


@pytest.fixture
def random_corpus():
    """A 20-document random corpus over V=30 words (fixed seed), with an empty document."""
    return make_random_corpus(12345, empty_docs=(4,))


@pytest.fixture
def restore_numba_threads():
    """Put Numba's thread count back after a test that changes it (esca.train does)."""
    import numba
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)
