"""Real ``mpiexec -n 2`` runs of ``esca train`` against one-rank runs of the same arguments.

ESCA draws every token's random number from (seed, iteration, global token
index), so two ranks must give bit-identical counts to one rank. The
collapsed Gibbs baseline over two ranks (AD-LDA) is approximate but must keep
its count invariants. User errors print one line once; a crashing rank must
abort the job instead of leaving the other rank stuck in a collective.

Every subprocess runs in its own process group with a timeout, killed whole
when the timeout expires, so a hang fails the test instead of blocking CI.
"""

import json
import os
import sys

import h5py
import numpy as np
import pytest

import esca

from helpers import MPIEXEC, SCRIPTS, TIMEOUT, check_ok, child_env, esca_cmd, needs_mpiexec, run

ABORT_TIMEOUT = 120  # seconds for a job whose rank crashes
RANKS = 2
K = 10
ITERATIONS = 10
HELPER = SCRIPTS / "fail_rank.py"
pytestmark = [pytest.mark.mpi, needs_mpiexec]


def read_counts(path):
    """n_kw, n_k, n_dk and the info of a model file, read with h5py directly."""
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "esca-model"
        return {name: f[name][()] for name in ("n_kw", "n_k", "n_dk")}


def check_invariants(model, corpus):
    """Count tables consistent with each other and with the corpus."""
    N = corpus.num_tokens
    assert model.n_kw.shape == (model.num_topics, corpus.num_words)
    assert model.n_dk.shape == (corpus.num_docs, model.num_topics)
    assert model.n_kw.min() >= 0 and model.n_dk.min() >= 0
    assert int(model.n_kw.sum(dtype=np.int64)) == N
    np.testing.assert_array_equal(model.n_k, model.n_kw.sum(axis=1, dtype=np.int64))
    np.testing.assert_array_equal(model.n_dk.sum(axis=1), corpus.doc_lengths())
    np.testing.assert_array_equal(model.n_dk.sum(axis=0, dtype=np.int64), model.n_k)
    # Every word's tokens are all counted somewhere.
    freq = np.bincount(corpus.word_ids, minlength=corpus.num_words)
    np.testing.assert_array_equal(model.n_kw.sum(axis=0), freq)


# -- corpora -------------------------------------------------------------------

def _write(path, lengths, V, seed):
    rng = np.random.default_rng(seed)
    doc_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    word_ids = rng.integers(0, V, size=int(doc_ptr[-1])).astype(np.int32)
    esca.write_corpus(str(path), doc_ptr, word_ids, [f"w{i}" for i in range(V)])
    return str(path)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpora")
    rng = np.random.default_rng(11)
    return {
        "builtin": "builtin:wiki250",
        "small": _write(d / "small.h5", rng.integers(1, 60, size=57), V=120, seed=1),
        # One document: the second rank gets an empty shard.
        "one-doc": _write(d / "one_doc.h5", [37], V=15, seed=2),
    }


def train_args(corpus, out, sampler="esca", kernel="auto", own_topic="include", init_blocks=0):
    return ["train", corpus, "-k", K, "-n", ITERATIONS, "--threads", 1, "--seed", 7,
            "--eval-every", 5, "--top", 5, "--sampler", sampler, "--kernel", kernel, "--out", out,
            "--log-every", 1, "--own-topic", own_topic, "--init-blocks", init_blocks]


@pytest.fixture(scope="module", params=["builtin", "small", "one-doc", "builtin+sparse",
                                        "small+sparse", "small+dense+exclude",
                                        "one-doc+dense+exclude", "builtin+sparse+exclude",
                                        "builtin+sparse+exclude+blocks", "small+dense+blocks",
                                        "one-doc+dense+blocks"])
def esca_runs(request, corpora, tmp_path_factory):
    """The same ESCA training at 1 and at 2 ranks: {ranks: (CompletedProcess, model path)}.

    ``NAME+sparse`` uses the sparse + alias kernel (K is below its automatic threshold);
    ``+exclude`` trains with ``--own-topic exclude``, ``+blocks`` with ``--init-blocks 5``
    (block edges inside the ranks' shards: the first pass exchanges counts after each block).
    """
    name, *opts = request.param.split("+")
    kernel = next((o for o in opts if o in ("dense", "sparse")), "auto")
    own_topic = "exclude" if "exclude" in opts else "include"
    blocks = 5 if "blocks" in opts else 0
    d = tmp_path_factory.mktemp(f"esca-{name}-{kernel}-{own_topic}-{blocks}")
    runs = {}
    for ranks in (1, RANKS):
        out = d / f"m{ranks}.h5"
        r, _ = run(esca_cmd(train_args(corpora[name], out, kernel=kernel, own_topic=own_topic,
                                       init_blocks=blocks), ranks), d)
        runs[ranks] = (check_ok(r), out)
    return request.param, corpora[name], runs


# -- ESCA: two ranks equal one rank --------------------------------------------

def test_esca_two_ranks_bit_identical(esca_runs):
    name, corpus_path, runs = esca_runs
    one, two = read_counts(runs[1][1]), read_counts(runs[RANKS][1])
    for table in ("n_kw", "n_k", "n_dk"):
        assert one[table].dtype == two[table].dtype, table
        assert one[table].shape == two[table].shape, table
        np.testing.assert_array_equal(one[table], two[table], err_msg=f"{name}: {table}")
    # The 2-rank file really came from a 2-rank job (not two 1-rank copies).
    m1, m2 = esca.load_model(runs[1][1]), esca.load_model(runs[RANKS][1])
    assert m1.info["ranks"] == 1 and m2.info["ranks"] == RANKS
    assert (m1.z is None) == (m1.config.own_topic == "include")  # exclude models store z
    if m1.z is not None:
        np.testing.assert_array_equal(m1.z, m2.z, err_msg=f"{name}: z")
    assert f"on {RANKS} rank(s)" in runs[RANKS][0].stdout
    check_invariants(m2, esca.read_corpus(corpus_path))
    # Same chain, so the same log-likelihoods (summed in another order: float tolerance).
    ll1, ll2 = m1.log["loglik_per_token"], m2.log["loglik_per_token"]
    np.testing.assert_array_equal(np.isnan(ll1), np.isnan(ll2))
    np.testing.assert_allclose(ll1[~np.isnan(ll1)], ll2[~np.isnan(ll2)], rtol=1e-12)
    assert (~np.isnan(ll2)).sum() == ITERATIONS // 5


def test_only_rank_zero_prints(esca_runs):
    _, _, runs = esca_runs
    r1, r2 = runs[1][0], runs[RANKS][0]
    lines = r2.stdout.splitlines()
    assert sum(ln.startswith("iter") for ln in lines) == ITERATIONS, r2.stdout
    assert sum(ln.startswith("training ") for ln in lines) == 1
    assert sum(ln.startswith("done:") for ln in lines) == 1
    assert sum(ln.startswith("wrote ") for ln in lines) == 1
    topics = [ln for ln in lines if ln.startswith("topic ")]
    assert len(topics) == K
    # ... and the topics printed are those of the one-rank run.
    assert topics == [ln for ln in r1.stdout.splitlines() if ln.startswith("topic ")]


def test_one_document_leaves_a_rank_empty(corpora):
    from esca.distributed import partition_documents
    doc_ptr, _ = esca.corpus.read_doc_ptr(corpora["one-doc"])
    bounds = partition_documents(doc_ptr, RANKS)
    assert bounds.tolist() == [0, 1, 1]  # rank 1's shard has no documents


# -- the count exchange: sparse and dense give the same counts ------------------

EXCHANGE_SCRIPT = """
import sys, numpy as np, esca
from esca import exchange
if sys.argv[1] != "auto":  # force one way: the test patches the choice, not the product
    exchange.use_sparse = lambda *args: sys.argv[1] == "sparse"
m = esca.train(sys.argv[2], num_topics=int(sys.argv[3]), iterations=4, seed=3, threads=1)
if m is not None:
    np.save(sys.argv[4], m.n_kw)
    np.save(sys.argv[4].replace(".npy", "_bytes.npy"), m.log["exchange_bytes"])
"""


@pytest.mark.parametrize("num_topics", [10, 300])
def test_sparse_and_dense_exchange_agree(corpora, tmp_path, num_topics):
    """The sparse (nonzero pairs) and dense (Allreduce) count exchanges give bit-identical
    counts, equal to a one-rank run; the sparse one moves fewer bytes here."""
    script = tmp_path / "exchange.py"
    script.write_text(EXCHANGE_SCRIPT)
    got = {}
    for mode, ranks in (("sparse", 2), ("dense", 2), ("auto", 1)):
        out = tmp_path / f"{mode}.npy"
        cmd = [sys.executable, script, mode, corpora["small"], num_topics, out]
        r, _ = run(cmd if ranks == 1 else [MPIEXEC, "-n", ranks, *cmd], tmp_path)
        check_ok(r)
        got[mode] = np.load(out), np.load(str(out).replace(".npy", "_bytes.npy"))
    np.testing.assert_array_equal(got["sparse"][0], got["dense"][0])
    np.testing.assert_array_equal(got["sparse"][0], got["auto"][0])
    assert np.all(got["auto"][1] == 0)      # one rank exchanges nothing
    V = got["dense"][0].shape[1]
    assert np.all(got["dense"][1] == V * num_topics * 4)
    assert np.all((got["sparse"][1] > 0) & (got["sparse"][1] < got["dense"][1]))


# -- CGS over two ranks (AD-LDA) -----------------------------------------------

def test_cgs_two_ranks_keeps_invariants(corpora, tmp_path):
    out = tmp_path / "cgs2.h5"
    r, _ = run(esca_cmd(train_args(corpora["small"], out, sampler="cgs"), RANKS), tmp_path)
    check_ok(r)
    assert sum(ln.startswith("iter") for ln in r.stdout.splitlines()) == ITERATIONS, r.stdout
    model = esca.load_model(out)
    assert model.info["ranks"] == RANKS
    assert model.config.sampler == "cgs"
    check_invariants(model, esca.read_corpus(corpora["small"]))
    ll = model.log["loglik_per_token"]
    assert np.isfinite(ll[-1])


# -- user errors ---------------------------------------------------------------

def check_user_error_once(r, *names):
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("esca: error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode != 0
    assert r.returncode == 2, r.stderr  # hydra passes on the ranks' exit status
    assert "iter" not in r.stdout
    for name in names:
        assert str(name) in errors[0], (name, errors[0])
    return errors[0]


@pytest.mark.parametrize("bad, names", [
    (["--num-topics", "0"], ["num_topics", "0"]),
    (["missing-corpus.h5"], ["missing-corpus.h5"]),
], ids=["K0", "missing-corpus"])
def test_user_error_printed_once(bad, names, tmp_path):
    args = ["train", "-k", 3, "-n", 2, "--threads", 1, "--top", 0, *bad]
    r, seconds = run(esca_cmd(args, RANKS), tmp_path)
    check_user_error_once(r, *names)
    assert seconds < TIMEOUT


def test_user_error_of_rank_zeros_lookup(tmp_path):
    """Rank 0 looks for the checkpoint alone (esca.distributed.on_root): its error must reach
    rank 1, which used to wait in the broadcast for ever (the job hung)."""
    (tmp_path / "ckpt").mkdir()
    args = ["train", "--resume", "ckpt", "-n", 3, "--threads", 1, "--top", 0]
    r, _ = run(esca_cmd(args, RANKS), tmp_path, timeout=ABORT_TIMEOUT)
    check_user_error_once(r, "no checkpoint in", "ckpt")


def test_user_error_seen_by_one_rank_only(tmp_path):
    """A word id out of range in rank 1's shard only: every rank stops, rank 0 prints it once."""
    path = tmp_path / "bad_shard.h5"
    V = 5
    with h5py.File(path, "w") as f:  # written by hand: write_corpus would refuse it
        f.create_dataset("doc_ptr", data=np.array([0, 20, 40], dtype=np.int64))
        f.create_dataset("word_ids", data=np.array([1] * 20 + [2] * 19 + [V + 3], dtype=np.int32))
        f.create_dataset("vocab", data=np.array([f"w{i}" for i in range(V)], dtype=object),
                         dtype=h5py.string_dtype("utf-8"))
        f.attrs.update({"format": "esca-corpus", "format_version": 1, "D": 2, "V": V, "N": 40})
    args = ["train", path.name, "-k", 3, "-n", 2, "--threads", 1, "--top", 0]
    r, _ = run(esca_cmd(args, RANKS), tmp_path)
    line = check_user_error_once(r, "rank 1", str(V + 3))
    assert "out of range" in line


# -- a crashing rank aborts the job --------------------------------------------

@pytest.mark.parametrize("fail_rank", [1, 0])
def test_failing_rank_aborts_job(fail_rank, tmp_path):
    out = tmp_path / "existing.h5"
    out.write_bytes(b"an earlier model that must survive\n")
    names = sorted(os.listdir(tmp_path))
    args = ["train", "-k", K, "-n", ITERATIONS, "--threads", 1, "--eval-every", 0, "--out", out]
    cmd = [MPIEXEC, "-n", RANKS, sys.executable, HELPER, fail_rank, 3, *args]
    r, seconds = run(cmd, tmp_path, timeout=ABORT_TIMEOUT)
    assert r.returncode != 0, r.stdout + r.stderr
    assert seconds < ABORT_TIMEOUT
    assert f"injected failure on rank {fail_rank} at iteration 3" in r.stderr  # the patch worked
    assert "RuntimeError" in r.stderr
    iters = [ln for ln in r.stdout.splitlines() if ln.startswith("iter")]
    assert len(iters) <= 2, r.stdout  # iteration 3 never completed
    assert "wrote" not in r.stdout
    assert out.read_bytes() == b"an earlier model that must survive\n"
    assert sorted(os.listdir(tmp_path)) == names


def test_optimized_priors_identical_across_ranks(tmp_path):
    """--optimize-interval: the integer histograms are summed over ranks, so 1 and 2 ranks
    learn bit-identical priors and counts."""
    models = []
    for ranks in (1, 2):
        out = tmp_path / f"opt{ranks}.h5"
        r, _ = run(esca_cmd(["train", "-k", 6, "-n", 12, "--threads", 1, "--seed", 3,
                             "--optimize-interval", 4, "--optimize-burn-in", 4, "--top", 0,
                             "--out", out], ranks), tmp_path)
        check_ok(r)
        models.append(esca.load_model(out))
    a, b = models
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.beta == b.beta != 0.01
    np.testing.assert_array_equal(a.n_kw, b.n_kw)
    assert not np.allclose(a.alpha, a.alpha[0])


@pytest.mark.parametrize("num_topics", [6, 40])  # dense and sparse fold-in kernels
def test_evaluate_identical_across_ranks(corpora, tmp_path, num_topics):
    """``esca evaluate`` under mpiexec -n 2 splits the test documents over the ranks; the
    document-completion and left-to-right numbers must equal the one-rank run exactly."""
    model_path = tmp_path / "m.h5"
    esca.train(corpora["small"], num_topics=num_topics, iterations=5, seed=2,
               threads=1).save(model_path)
    rng = np.random.default_rng(5)
    test = _write(tmp_path / "test.h5", rng.integers(1, 40, size=23), V=120, seed=6)
    outs = {}
    for ranks in (1, RANKS):
        r, _ = run(esca_cmd(["evaluate", model_path, test, "--sweeps", 6, "--burn-in", 2,
                             "--left-to-right", "--num-particles", 3, "--seed", 9, "--json"],
                            ranks), tmp_path)
        outs[ranks] = json.loads(check_ok(r).stdout)
    one, two = outs[1], outs[RANKS]
    assert (one["heldout"]["ranks"], two["heldout"]["ranks"]) == (1, RANKS)
    assert (one["left_to_right"]["ranks"], two["left_to_right"]["ranks"]) == (1, RANKS)
    for part in ("heldout", "left_to_right"):
        assert one[part]["log_likelihood"] == two[part]["log_likelihood"]
        assert one[part]["perplexity"] == two[part]["perplexity"]
        assert one[part]["tokens"] == two[part]["tokens"] > 0
    assert one["training_loglik_per_token"] == two["training_loglik_per_token"]


# -- the named collectives of esca.distributed ------------------------------------------------

DISTRIBUTED_SCRIPT = """
import numpy as np
from mpi4py import MPI
from esca import distributed as d
from esca.errors import UserError, WriteError
comm = MPI.COMM_WORLD
rank, size = d.rank_and_size(comm)
assert size == 2
assert d.sum_over_ranks(comm, rank + 1) == 3
assert d.sum_over_ranks(comm, 0.5 * (rank + 1)) == 1.5
assert d.max_over_ranks(comm, 10 - rank) == 10
assert d.allgather(comm, rank * 2) == [0, 2]
assert d.gather(comm, f"r{rank}") == (["r0", "r1"] if rank == 0 else None)
assert d.bcast(comm, "root" if rank == 0 else "other") == "root"
a = d.allreduce_sum(comm, np.array([rank, 1], dtype=np.int64))
assert a.tolist() == [1, 2]
rows = d.gather_rows(comm, np.full((rank + 1, 2), rank, dtype=np.int32))
assert rank != 0 or rows.tolist() == [[0, 0], [1, 1], [1, 1]]
calls = []

def only_root(x):
    calls.append(x)
    return x * 3

assert d.on_root(comm, only_root, 7) == 21
assert calls == ([7] if rank == 0 else [])

def refuse():
    raise WriteError("disk full")

try:
    d.on_root(comm, refuse)
except WriteError as e:  # the class travels, so the exit status is the same on every rank
    assert str(e) == "disk full"
else:
    raise AssertionError("on_root swallowed the error")
d.barrier(comm)
lib = d.mpi_library()
assert lib["library"] and lib["standard"].count(".") == 1 and lib["vendor"]
print(f"rank {rank} ok", flush=True)
"""


def test_named_collectives(tmp_path):
    """Every function of esca.distributed that wraps a collective, on two real ranks."""
    script = tmp_path / "collectives.py"
    script.write_text(DISTRIBUTED_SCRIPT)
    r, _ = run([MPIEXEC, "-n", RANKS, sys.executable, script], tmp_path)
    assert sorted(ln for ln in check_ok(r).stdout.split() if ln in ("0", "1")) == ["0", "1"]
    assert r.stdout.count("ok") == RANKS, r.stdout


def test_named_collectives_on_one_rank():
    """Without a communicator (None) or with one rank they return at once, as one rank's."""
    from mpi4py import MPI

    from esca import distributed as d
    for comm in (None, MPI.COMM_SELF):
        assert d.rank_and_size(comm) == (0, 1)
        assert d.sum_over_ranks(comm, 4) == 4 and d.max_over_ranks(comm, 2.5) == 2.5
        assert d.allgather(comm, "x") == ["x"] and d.gather(comm, "y") == ["y"]
        assert d.bcast(comm, 5) == 5 and d.on_root(comm, lambda: 6) == 6
        d.barrier(comm)
        with pytest.raises(esca.UserError, match="no"):
            d.on_root(comm, lambda: (_ for _ in ()).throw(esca.UserError("no")))


def test_rank_comes_from_the_communicator_not_the_environment(tmp_path):
    """A subcommand that never runs as an MPI job does not initialize MPI, and a launcher's
    variable in the environment does not make it a silent rank 1 (the CLI used to read
    ``PMI_RANK`` and friends to guess its rank)."""
    code = ("import sys\nfrom esca.cli.main import main\nstatus = main(sys.argv[1:])\n"
            "print('mpi4py imported:', 'mpi4py.MPI' in sys.modules)\nsys.exit(status)\n")
    env = child_env(PMI_RANK="1", OMPI_COMM_WORLD_RANK="1", PMIX_RANK="1")
    r, _ = run([sys.executable, "-c", code, "topics", "missing.h5"], tmp_path, env=env)
    assert r.returncode == 2, r.stderr
    assert "esca: error:" in r.stderr and "missing.h5" in r.stderr, r.stderr
    assert "mpi4py imported: False" in r.stdout
