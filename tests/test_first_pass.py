"""The sequential first pass (``TrainConfig.init_blocks``, issue 15 "A faster burn-in").

The kernel against its plain twin is in test_kernels.py and 1 rank against 2 ranks in
test_mpi.py; here: the defaults, old files, the CLI, and that the pass does what it is for.
"""

import json

import numpy as np
import pytest

import esca
from esca import TrainConfig
from esca.config import DEFAULT_INIT_BLOCKS, MIN_BLOCK_TOKENS

from helpers import run_esca

SETTINGS = dict(num_topics=20, seed=3, threads=2, eval_every=1, iterations=3)


def test_defaults_and_values():
    c = TrainConfig()
    assert c.init_blocks is None and DEFAULT_INIT_BLOCKS == 8 and MIN_BLOCK_TOKENS == 200_000
    # blocks of at least 200,000 tokens, at most 8, at least 1
    assert [c.first_pass_blocks(n) for n in (10, 399_999, 400_000, 1_600_000, 10**9)] == \
        [1, 1, 2, 8, 8]
    assert TrainConfig(sampler="cgs").first_pass_blocks(10**9) == 0  # the baseline: random
    # only when every alpha_k >= 0.05: esca's default alpha 5/K gives it up to K = 100
    assert TrainConfig(num_topics=100).first_pass_blocks(10**9) == 8
    assert TrainConfig(num_topics=101).first_pass_blocks(10**9) == 0
    assert TrainConfig(num_topics=1000, alpha=0.1).first_pass_blocks(10**9) == 8
    assert TrainConfig(num_topics=3, alpha=(0.1, 0.04, 0.1)).first_pass_blocks(10**9) == 0
    assert TrainConfig(num_topics=1000, init_blocks=8).first_pass_blocks(10**9) == 8
    assert TrainConfig(sampler="cgs", init_blocks=4).first_pass_blocks(10) == 4
    assert TrainConfig(init_blocks=0).first_pass_blocks(10**9) == 0
    assert TrainConfig(init_blocks=30).first_pass_blocks(10) == 30  # as given
    for bad in (-1, 2**31, 1.5, "8"):
        with pytest.raises(esca.UserError, match="init_blocks"):
            TrainConfig(init_blocks=bad)


def test_files_from_before_the_field_load_as_random_start():
    old = json.loads(TrainConfig().to_json())
    del old["init_blocks"]
    assert TrainConfig.from_json(json.dumps(old)).init_blocks == 0
    assert TrainConfig.from_json(TrainConfig().to_json()).init_blocks is None
    assert TrainConfig.from_json(TrainConfig(init_blocks=3).to_json()).init_blocks == 3


def test_first_pass_starts_where_random_topics_are_after_iterations(restore_numba_threads):
    """Log-likelihood per token after iteration 1: the first pass (1 block, the default on
    this small corpus, and 8) is ahead of uniform random topics by more than one nat
    (builtin:wiki250, K = 20), and ahead of where random topics are after 3 iterations;
    every block boundary and both samplers keep the counts whole."""
    random = esca.train("builtin:wiki250", init_blocks=0, **SETTINGS)
    default = esca.train("builtin:wiki250", **SETTINGS)  # 295,658 tokens: one block
    blocks = esca.train("builtin:wiki250", init_blocks=8, **SETTINGS)
    one = esca.train("builtin:wiki250", init_blocks=1, **SETTINGS)
    ll_r = random.log["loglik_per_token"]
    for m in (default, blocks):
        ll = m.log["loglik_per_token"]
        assert ll[0] > ll_r[0] + 1.0 and ll[0] > ll_r[2], (ll, ll_r)
    assert default.config.init_blocks is None and default.info["init_blocks"] == 1
    assert blocks.info["init_blocks"] == 8 and random.info["init_blocks"] == 0
    np.testing.assert_array_equal(default.n_kw, one.n_kw)
    assert not np.array_equal(blocks.n_kw, one.n_kw)  # the blocks are really used
    cgs = esca.train("builtin:wiki250", sampler="cgs", init_blocks=8, **SETTINGS)
    for m in (blocks, one, cgs):
        assert m.n_kw.sum() == m.n_dk.sum() == m.n_k.sum()
        np.testing.assert_array_equal(m.n_kw.sum(axis=1), m.n_k)


def test_cli_init_blocks(tmp_path):
    r = run_esca(["train", "builtin:wiki250", "-k", 5, "-n", 2, "--threads", 1, "--top", 0,
                  "--init-blocks", 3, "--out", "m.h5"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sequential first pass in 3 blocks" in r.stdout
    assert esca.load_model(str(tmp_path / "m.h5")).config.init_blocks == 3
    bad = run_esca(["train", "builtin:wiki250", "--init-blocks", -2], tmp_path)
    assert bad.returncode == 2 and "init_blocks" in bad.stderr and "-2" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
