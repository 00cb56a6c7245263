"""Hyperparameter optimization (Minka's fixed point, Wallach, Mimno & McCallum 2009)."""

import numpy as np
import pytest

import esca
from esca.hyper import doc_topic_histograms, optimize_alpha, optimize_beta


def test_minka_recovers_a_known_asymmetric_alpha():
    rng = np.random.default_rng(0)
    K, D = 8, 3000
    a_true = rng.uniform(0.05, 1.0, K)
    lens = rng.integers(50, 300, D)
    n_dk = np.array([rng.multinomial(n, rng.dirichlet(a_true)) for n in lens])
    topic_hist, length_hist = doc_topic_histograms(n_dk, int(lens.max()))
    assert topic_hist.sum() == np.count_nonzero(n_dk) and length_hist.sum() == D
    alpha = optimize_alpha(np.full(K, 0.1), topic_hist, length_hist)
    np.testing.assert_allclose(alpha, a_true, rtol=0.1)   # measured: within 4.7%


def test_beta_fixed_point_recovers_a_known_beta():
    rng = np.random.default_rng(1)
    K, V, beta_true = 6, 400, 0.05
    phi = rng.dirichlet(np.full(V, beta_true), size=K)
    n_kw = np.array([rng.multinomial(20_000, p) for p in phi])
    beta = optimize_beta(1.0, np.ascontiguousarray(n_kw.T), n_kw.sum(axis=1))
    assert beta == pytest.approx(beta_true, rel=0.1)


def test_training_with_optimize_interval(restore_numba_threads):
    import numba
    runs = [esca.train(config=esca.TrainConfig(num_topics=8, iterations=20, seed=4, threads=t,
                                               optimize_interval=5, optimize_burn_in=5,
                                               eval_every=10))
            for t in (1, min(2, numba.config.NUMBA_NUM_THREADS))]
    a, b = runs
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.beta == b.beta
    np.testing.assert_array_equal(a.n_kw, b.n_kw)
    assert not np.allclose(a.alpha, a.alpha[0])          # asymmetric
    beta = a.log["beta"]   # optimized after iterations 10, 15 and 20 (burn-in 5, interval 5)
    assert np.all(beta[:9] == 0.01) and beta[9] != 0.01 and np.all(beta[9:14] == beta[9])
    assert beta[14] != beta[13] and a.beta != 0.01
    assert a.log["beta"][-1] == a.beta and a.log["alpha_sum"][-1] == pytest.approx(a.alpha.sum())
    from esca.export import to_gensim
    np.testing.assert_allclose(to_gensim(a).alpha, a.alpha)   # the export keeps them
