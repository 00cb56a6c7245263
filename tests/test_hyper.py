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


# -- the burn-in before the first optimization ---------------------------------------------------

def small_corpus(D=40, V=30, L=25, seed=0):
    rng = np.random.default_rng(seed)
    word_ids = rng.integers(0, V, D * L).astype(np.int32)
    return esca.Corpus(np.arange(0, D * L + 1, L, dtype=np.int64), word_ids,
                       [f"w{i}" for i in range(V)])


@pytest.mark.parametrize("iterations, burn_in", [(1, 0), (3, 0), (30, 7), (100, 25), (800, 200),
                                                 (1000, 200), (100_000, 200)])
def test_default_burn_in_is_a_quarter_of_the_iterations_at_most_200(iterations, burn_in):
    c = esca.TrainConfig(iterations=iterations)
    assert c.optimize_burn_in == burn_in          # the concrete number is stored
    assert f'"optimize_burn_in": {burn_in}' in c.to_json()
    assert esca.TrainConfig(iterations=iterations, optimize_burn_in=50).optimize_burn_in == 50


def test_a_stored_burn_in_of_200_stays_200():
    """Configurations written before the default changed (models, checkpoints) keep theirs."""
    old = esca.TrainConfig(iterations=30, optimize_interval=10, optimize_burn_in=200).to_json()
    c = esca.TrainConfig.from_json(old)
    assert c.optimize_burn_in == 200 and c.first_optimization() == 210
    assert esca.TrainConfig.from_json(c.to_json()) == c


@pytest.mark.parametrize("burn_in, interval, first", [(0, 1, 1), (0, 10, 10), (5, 5, 10),
                                                      (7, 10, 10), (10, 10, 20), (12, 5, 15)])
def test_first_optimization_is_the_first_step_of_optimizes_at(burn_in, interval, first):
    c = esca.TrainConfig(iterations=50, optimize_interval=interval, optimize_burn_in=burn_in)
    assert c.first_optimization() == first
    assert [it for it in range(1, 51) if c.optimizes_at(it)][0] == first
    assert esca.TrainConfig(iterations=50).first_optimization() is None


def test_short_run_optimizes_with_the_default_burn_in(restore_numba_threads):
    """30 iterations, interval 10: burn-in 7, optimized after iterations 10, 20 and 30 (the
    fixed default of 200 used to optimize nothing, silently)."""
    model = esca.train(small_corpus(), num_topics=4, iterations=30, seed=1, threads=1,
                       optimize_interval=10)
    assert model.config.optimize_burn_in == 7
    beta = model.log["beta"]
    assert np.all(beta[:9] == 0.01) and beta[9] != 0.01
    assert beta[19] != beta[18] and beta[29] != beta[28] and model.beta == beta[29]


@pytest.mark.parametrize("iterations, optimized", [(14, False), (15, True)])
def test_warning_when_no_optimization_falls_within_the_iterations(iterations, optimized, caplog,
                                                                    restore_numba_threads):
    """Burn-in 12, interval 5: the first optimization follows iteration 15, the last one."""
    caplog.set_level("WARNING", logger="esca")
    model = esca.train(small_corpus(), num_topics=4, iterations=iterations, seed=1, threads=1,
                       optimize_interval=5, optimize_burn_in=12)
    warned = [r for r in caplog.records if "never optimized" in r.getMessage()]
    assert (model.beta != 0.01) == optimized
    if optimized:
        assert not warned
    else:
        assert len(warned) == 1 and warned[0].levelname == "WARNING"
        assert warned[0].getMessage() == (
            "the priors are never optimized: the first optimization (a multiple of "
            "optimize_interval=5 after optimize_burn_in=12) would follow iteration 15, but "
            "training stops at 14; lower the burn-in (optimize_burn_in) or run more "
            "iterations")


def test_no_warning_without_optimization(caplog, restore_numba_threads):
    caplog.set_level("WARNING", logger="esca")
    esca.train(small_corpus(), num_topics=4, iterations=3, seed=1, threads=1)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
