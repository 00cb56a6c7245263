"""Ranks must read the same corpus (and model, test corpus): issue 13.8, under real mpiexec.

Each rank is given its own file through ``tests/scripts/rank_args.py`` (``{rank}`` in an argument
becomes the rank, as ranks reading stale node-local copies would). Files of another V used
to abort MPICH with "Message truncated"; files of the same shape used to train silently on
the mix. Now every rank stops with one line naming the ranks and files, exit status 2.
"""

import os
import sys

import numpy as np
import pytest

import esca
from esca import distributed
from esca.corpus import corpus_identity

from helpers import MPIEXEC, SCRIPTS, TIMEOUT, child_env, needs_mpiexec, run

HELPER = SCRIPTS / "rank_args.py"
VOCAB = [f"w{i}" for i in range(6)]
DOC_PTR = np.array([0, 5, 9, 15, 20], dtype=np.int64)
WORD_IDS = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1], dtype=np.int32)

needs_mpi = needs_mpiexec


def write(path, word_ids=WORD_IDS, vocab=VOCAB, doc_ptr=DOC_PTR):
    esca.write_corpus(str(path), doc_ptr, word_ids, vocab)


def ranks(*argv, cwd):
    env = child_env(NUMBA_NUM_THREADS="1")
    return run([MPIEXEC, "-n", 2, sys.executable, HELPER, *argv], cwd, TIMEOUT, env=env)[0]


def one_error(r):
    """Exit 2, one ``esca: error:`` line, nothing from MPI or Python about a crash."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("esca: error:")]
    assert len(errors) == 1, r.stderr
    for bad in ("Traceback", "truncated", "Abort", "BAD TERMINATION"):
        assert bad not in r.stderr, r.stderr
    return errors[0]


TRAIN = ("train", "-k", "3", "-n", "3", "--threads", "1", "--seed", "1")


def test_identity_is_cheap_and_path_free(tmp_path):
    write(tmp_path / "a.h5")
    write(tmp_path / "b.h5")
    other = WORD_IDS.copy()
    other[7] = 5
    write(tmp_path / "c.h5", word_ids=other)
    a = corpus_identity(str(tmp_path / "a.h5"))
    assert a == corpus_identity(tmp_path / "b.h5")
    assert a == corpus_identity(esca.read_corpus(str(tmp_path / "a.h5")))
    assert (a["D"], a["V"], a["N"]) == (4, 6, 20)
    c = corpus_identity(str(tmp_path / "c.h5"))
    assert [k for k in a if a[k] != c[k]] == ["word ids"]


def test_identity_samples_windows_of_a_large_corpus(tmp_path):
    N = 200_000
    rng = np.random.default_rng(0)
    word_ids = rng.integers(0, 6, N).astype(np.int32)
    doc_ptr = np.arange(0, N + 1, 1000, dtype=np.int64)
    write(tmp_path / "big.h5", word_ids=word_ids, doc_ptr=doc_ptr)
    ident = corpus_identity(str(tmp_path / "big.h5"))
    changed = word_ids.copy()
    changed[-1] = (changed[-1] + 1) % 6  # the last window ends at N
    write(tmp_path / "big2.h5", word_ids=changed, doc_ptr=doc_ptr)
    assert corpus_identity(str(tmp_path / "big2.h5"))["word ids"] != ident["word ids"]
    mem = esca.Corpus(doc_ptr, word_ids, VOCAB)
    assert corpus_identity(mem) == ident


def test_same_on_all_ranks_one_rank():
    from mpi4py import MPI
    assert distributed.same_on_all_ranks(MPI.COMM_SELF, {"V": 3}, "corpora") == {"V": 3}


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("case", ["same-shape", "other-V"])
def test_train_refuses_ranks_that_read_different_corpora(tmp_path, case):
    write(tmp_path / "c0.h5")
    if case == "same-shape":  # a stale copy: same D, V, N, offsets and words; other tokens
        write(tmp_path / "c1.h5", word_ids=WORD_IDS[::-1].copy())
        differs = "in word ids;"
    else:
        write(tmp_path / "c1.h5", vocab=VOCAB + ["extra"])
        differs = "in V (7 vs 6), vocabulary;"
    r = ranks(*TRAIN, "c{rank}.h5", "--out", "m.h5", cwd=tmp_path)
    msg = one_error(r)
    assert (f"esca: error: the ranks read different corpora: rank 1 (c1.h5) differs from "
            f"rank 0 (c0.h5) {differs} every rank must read the same corpus") in msg, msg
    assert not (tmp_path / "m.h5").exists()
    assert sorted(os.listdir(tmp_path)) == ["c0.h5", "c1.h5"]


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("own_topic", ["include", "exclude"])
def test_train_accepts_equal_copies_at_different_paths(tmp_path, own_topic):
    write(tmp_path / "c0.h5")
    write(tmp_path / "c1.h5")
    own = ("--own-topic", own_topic)
    r = ranks(*TRAIN, *own, "c{rank}.h5", "--out", "m.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r1 = ranks(*TRAIN, *own, "c0.h5", "--out", "same.h5", cwd=tmp_path)
    assert r1.returncode == 0, r1.stderr
    one = run([sys.executable, "-m", "esca", *TRAIN, *own, "c0.h5", "--out", "one.h5"], tmp_path,
              TIMEOUT, env=child_env(NUMBA_NUM_THREADS="1"))[0]
    assert one.returncode == 0, one.stderr
    a, b = esca.load_model(str(tmp_path / "m.h5")), esca.load_model(str(tmp_path / "same.h5"))
    c = esca.load_model(str(tmp_path / "one.h5"))   # one rank: the same model
    assert a.config.own_topic == own_topic and b.info["ranks"] == 2 and c.info["ranks"] == 1
    for m in (b, c):
        assert np.array_equal(a.n_kw, m.n_kw) and np.array_equal(a.n_dk, m.n_dk)


def _model(path, corpus, seed):
    m = esca.train(str(corpus), num_topics=3, iterations=2, seed=seed, threads=1,
                   progress=False)
    m.save(str(path))


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("what", ["model", "test"])
def test_evaluate_refuses_ranks_that_read_different_files(tmp_path, what,
                                                          restore_numba_threads):
    write(tmp_path / "c.h5")
    write(tmp_path / "t0.h5")
    write(tmp_path / "t1.h5", word_ids=WORD_IDS[::-1].copy())
    _model(tmp_path / "m0.h5", tmp_path / "c.h5", seed=1)
    _model(tmp_path / "m1.h5", tmp_path / "c.h5", seed=2)
    before = sorted(os.listdir(tmp_path))
    if what == "model":
        r = ranks("evaluate", "m{rank}.h5", "t0.h5", cwd=tmp_path)
        expect = ("the ranks read different models: rank 1 (m1.h5) differs from rank 0 "
                  "(m0.h5) in counts, priors and vocabulary;")
    else:
        r = ranks("evaluate", "m0.h5", "t{rank}.h5", cwd=tmp_path)
        expect = ("the ranks read different test corpora: rank 1 (t1.h5) differs from rank 0 "
                  "(t0.h5) in word ids;")
    msg = one_error(r)
    assert expect in msg and "every rank must read the same file" in msg, msg
    assert sorted(os.listdir(tmp_path)) == before
    ok = ranks("evaluate", "m0.h5", "t0.h5", "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


LIBRARY_SCRIPT = """
import sys
import numpy as np
from mpi4py import MPI
from esca.errors import UserError
from esca.evaluate import document_completion
from esca.left_to_right import left_to_right_perplexity

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
phi = np.full((2, 4), 0.25)
word_ids = np.array([0, 1, 2, 3, 3, 2, 1, 0], np.int32)
if rank == 1 and sys.argv[1] == "phi":
    phi[0] = [0.1, 0.2, 0.3, 0.4]
if rank == 1 and sys.argv[1] == "test":
    word_ids = np.array([0, 1, 2, 3, 3, 2, 1, 9], np.int32)  # 9: out of range on rank 1 only
fn = document_completion if sys.argv[2] == "completion" else left_to_right_perplexity
try:
    r = fn(phi, 0.1, (np.array([0, 4, 8]), word_ids), comm=comm)
    line = f"rank {rank}: perplexity {r['perplexity']:.6f}"
except UserError as e:
    line = f"rank {rank}: error: {e}"
with open(f"out{rank}.txt", "w") as f:  # one file per rank: their stdout may interleave
    f.write(line)
"""


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("fn", ["completion", "left-to-right"])
@pytest.mark.parametrize("differs", ["phi", "test", "nothing"])
def test_library_evaluation_refuses_ranks_with_different_inputs(tmp_path, fn, differs):
    """Without the check, other inputs on rank 1 were scored as a mix, and a word id that only
    rank 1 refuses left rank 0 waiting in allgather."""
    (tmp_path / "s.py").write_text(LIBRARY_SCRIPT)
    env = child_env(NUMBA_NUM_THREADS="1")
    r = run([MPIEXEC, "-n", 2, sys.executable, "s.py", differs, fn], tmp_path, TIMEOUT,
            env=env)[0]
    assert r.returncode == 0, r.stderr
    lines = [(tmp_path / f"out{rank}.txt").read_text() for rank in (0, 1)]
    if differs == "nothing":
        assert lines[0].split(":")[1] == lines[1].split(":")[1] and "perplexity" in lines[0]
        return
    where = "document_completion" if fn == "completion" else "left_to_right_perplexity"
    field = "phi" if differs == "phi" else "test documents"
    for rank, line in enumerate(lines):
        assert line == (f"rank {rank}: error: the ranks read different inputs to {where}: "
                        f"rank 1 differs from rank 0 in {field}; every rank must pass the same "
                        "model, test documents and settings"), line
