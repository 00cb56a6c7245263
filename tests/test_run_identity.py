"""Run identity in checkpoints, checkpoint metadata under a checksum, and resuming from another
working folder (issue 13.2, 13.9 and "checkpoint metadata edited outside the state checksum").

* A new run refuses a ``--checkpoint-dir`` that holds checkpoints (of another run, or of this
  same run), leaving them byte-identical; ``--resume`` continues the newest valid
  checkpoint's run and skips, keeps and never prunes checkpoints of another run.
* A checkpoint whose attributes or log were edited after writing (seed, iteration, corpus,
  identity, a log value) is damaged: skipped with a warning, like a damaged state.
* A checkpoint stores its corpus's absolute path and its path relative to the checkpoint
  folder; ``--resume`` works from any working folder, after the project folder moved, and
  under ``mpiexec -n 2``; with the corpus nowhere to be found it names the corpus needed.
* Checkpoints of the previous format (version 1: no identity, no metadata checksum, the
  corpus path as typed) still resume.
"""

import hashlib
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

import esca
from esca.checkpoint import (
    corpus_file_checksum,
    list_checkpoints,
    load_checkpoint,
    load_latest,
    locate_corpus,
    run_identity,
)

from helpers import MPIEXEC, assert_same_model, check_ok, esca_cmd, needs_mpiexec, run

CORPUS = "builtin:wiki250"


def _train(**kw):
    base = {"num_topics": 12, "seed": 4, "threads": 1, "eval_every": 0}
    return esca.train(CORPUS, **{**base, **kw})


def _files(folder):
    """name -> SHA-256 of every file in ``folder``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).iterdir())}


def _copy_checkpoints(src, dst):
    Path(dst).mkdir(exist_ok=True)
    for _, p in list_checkpoints(src):
        shutil.copy2(p, dst)


# -- a new run never writes into a folder of checkpoints ------------------------------------------

def test_new_run_refuses_a_folder_of_another_runs_checkpoints(tmp_path):
    ck = tmp_path / "ck"
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(ck, every=4))  # seed 4
    before = _files(ck)
    with pytest.raises(esca.UserError) as e:
        _train(iterations=12, seed=5, checkpoints=esca.CheckpointPolicy(ck, every=4))
    msg = str(e.value)
    assert f"checkpoint folder {ck} holds checkpoints of another run" in msg
    assert "checkpoint-000000008.h5 (esca K=12 seed 4" in msg and f"resume={ck}" in msg
    assert "new checkpoints.directory" in msg and "--" not in msg  # parameters, not flags
    assert "\n" not in msg
    assert _files(ck) == before  # nothing overwritten, nothing pruned
    # another corpus is another run too
    c = esca.read_corpus(CORPUS)
    other = tmp_path / "other.h5"
    esca.write_corpus(str(other), c.doc_ptr, c.word_ids[::-1].copy(), c.vocab)
    with pytest.raises(esca.UserError, match="holds checkpoints of another run"):
        esca.train(str(other), num_topics=12, seed=4, threads=1, eval_every=0, iterations=12,
                   checkpoints=esca.CheckpointPolicy(ck, every=4))
    assert _files(ck) == before


def test_new_run_refuses_a_folder_of_its_own_checkpoints(tmp_path):
    """Decision: the same run started again would overwrite its own checkpoints from iteration
    1 on: refused too, pointing to resume= (or a new folder to start it over). More iterations
    or threads do not make it another run."""
    ck = tmp_path / "ck"
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(ck, every=4))
    before = _files(ck)
    with pytest.raises(esca.UserError, match=r"already holds checkpoints of this same run \(up "
                       r"to iteration 8\): continue it with resume="):
        _train(iterations=20, threads=2, checkpoints=esca.CheckpointPolicy(ck, every=4))
    assert _files(ck) == before
    # a folder without checkpoints (other files only) is fine
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "notes.txt").write_text("mine")
    _train(iterations=4, checkpoints=esca.CheckpointPolicy(tmp_path / "fresh", every=4))
    assert (tmp_path / "fresh" / "notes.txt").read_text() == "mine"


def test_identity_ignores_what_resume_may_change():
    c = esca.TrainConfig(num_topics=5, iterations=10, seed=3)
    same = esca.TrainConfig(num_topics=5, iterations=99, seed=3, threads=4, eval_every=1)
    assert run_identity(c, "a" * 64) == run_identity(same, "a" * 64)
    for other in (esca.TrainConfig(num_topics=5, iterations=10, seed=4),
                  esca.TrainConfig(num_topics=6, iterations=10, seed=3),
                  esca.TrainConfig(num_topics=5, iterations=10, seed=3, beta=0.02),
                  esca.TrainConfig(num_topics=5, iterations=10, seed=3, optimize_interval=2)):
        assert run_identity(other, "a" * 64) != run_identity(c, "a" * 64)
    assert run_identity(c, "b" * 64) != run_identity(c, "a" * 64)


def test_resume_continues_the_newest_run_and_keeps_the_others(tmp_path, caplog):
    """A folder holding run A (seed 4, iterations 4 and 8) and run B (seed 5, iteration 12, as
    an older esca left it): resume continues B, warns about A's checkpoints, writes and prunes
    only B's, and A's files stay byte-identical."""
    ck = tmp_path / "ck"
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(ck, every=4))
    _train(iterations=12, seed=5, checkpoints=esca.CheckpointPolicy(tmp_path / "b", every=12))
    _copy_checkpoints(tmp_path / "b", ck)
    a_files = {n: h for n, h in _files(ck).items() if n != "checkpoint-000000012.h5"}
    with caplog.at_level("WARNING", logger="esca"):
        resumed = esca.train(iterations=24, resume=ck, threads=1, eval_every=0,
                             checkpoints=esca.CheckpointPolicy(ck, every=4, keep=2))
    assert "skipping 2 checkpoint(s) of another run" in caplog.text
    assert "checkpoint-000000008.h5 (esca K=12 seed 4" in caplog.text
    assert resumed.config.seed == 5
    assert_same_model(_train(iterations=24, seed=5), resumed)
    now = _files(ck)
    assert sorted(now) == ["checkpoint-000000004.h5", "checkpoint-000000008.h5",
                           "checkpoint-000000020.h5", "checkpoint-000000024.h5"]
    assert {n: now[n] for n in a_files} == a_files


def test_resume_refuses_to_overwrite_another_runs_checkpoint(tmp_path):
    """Run A at 4 and a damaged newest checkpoint 12 of run B: resume continues A (B's is
    skipped as damaged), whose checkpoint 12 would replace B's file: refused, nothing changed."""
    ck = tmp_path / "ck"
    _train(iterations=4, checkpoints=esca.CheckpointPolicy(ck, every=4))
    _train(iterations=12, seed=5, checkpoints=esca.CheckpointPolicy(tmp_path / "b", every=12))
    _copy_checkpoints(tmp_path / "b", ck)
    with h5py.File(ck / "checkpoint-000000012.h5", "r+") as f:
        f["alpha"][0] = 7.0  # its state no longer matches its checksum
    before = _files(ck)
    with pytest.raises(esca.UserError, match="checkpoint-000000012.h5 .*of another run, which "
                       "continuing this run to iteration 16 could overwrite"):
        esca.train(iterations=16, resume=ck, threads=1,
                   checkpoints=esca.CheckpointPolicy(ck, every=4))
    assert _files(ck) == before


# -- metadata under a checksum --------------------------------------------------------------------

def _edit(path, what):
    with h5py.File(path, "r+") as f:
        if what == "seed":
            f.attrs["config"] = f.attrs["config"].replace('"seed": 4', '"seed": 5')
        elif what == "config-beta":
            f.attrs["config"] = f.attrs["config"].replace('"beta": 0.01', '"beta": 0.02')
        elif what == "iteration":
            f.attrs["iteration"] = 7
        elif what == "corpus":
            f.attrs["corpus"] = "builtin:lee"
        elif what == "corpus_sha256":
            f.attrs["corpus_sha256"] = "0" * 64
        elif what == "run_identity":
            f.attrs["run_identity"] = "0" * 64
        elif what == "log":
            f["log/loglik_per_token"][0] = -1.0
        elif what == "state_sha256":  # the state checksum itself, recomputed by hand
            f.attrs["state_sha256"] = "f" * 64


EDITS = ["seed", "config-beta", "iteration", "corpus", "corpus_sha256", "run_identity", "log",
         "state_sha256"]


@pytest.mark.parametrize("what", EDITS)
def test_edited_metadata_is_a_damaged_checkpoint(what, tmp_path, caplog):
    """An attribute or the log edited with h5py after writing: load_checkpoint refuses the
    file, and resume skips it with a warning and continues from the previous checkpoint, bit
    for bit."""
    ck = tmp_path / "ck"
    _train(iterations=8, checkpoints=esca.CheckpointPolicy(ck, every=4), eval_every=1)
    newest = list_checkpoints(ck)[0][1]
    _edit(newest, what)
    with pytest.raises(esca.UserError, match="damaged checkpoint"):
        load_checkpoint(newest)
    with caplog.at_level("WARNING", logger="esca"):
        resumed = esca.train(iterations=12, resume=ck, threads=1, eval_every=0)
    assert "skipping checkpoint" in caplog.text and os.path.basename(newest) in caplog.text
    assert_same_model(_train(iterations=12), resumed)
    assert resumed.log["loglik_per_token"][0] != -1.0


# -- the corpus of a resumed run ------------------------------------------------------------------

def _project(tmp_path, name="proj"):
    """proj/data/c.h5 (wiki250 as a file) and a run into proj/ck started from proj with the
    relative path data/c.h5."""
    proj = tmp_path / name
    (proj / "data").mkdir(parents=True)
    c = esca.read_corpus(CORPUS)
    esca.write_corpus(str(proj / "data" / "c.h5"), c.doc_ptr, c.word_ids, c.vocab)
    r, _ = run(esca_cmd(["train", "data/c.h5", "-k", 12, "--seed", 4, "--threads", 1,
                         "--eval-every", 0, "--top", 0, "-n", 8, "--checkpoint-every", 4,
                         "--checkpoint-dir", "ck"], 1), proj)
    check_ok(r)
    return proj


def _resume_cli(ck, n, cwd, ranks=1, extra=()):
    out = Path(cwd) / f"resumed-{ranks}.h5"
    r, _ = run(esca_cmd(["train", *extra, "--resume", ck, "-n", n, "--threads", 1, "--top", 0,
                         "--out", out], ranks), cwd)
    return r, out


def test_checkpoint_stores_the_absolute_corpus_path(tmp_path):
    proj = _project(tmp_path)
    ckpt = load_latest(proj / "ck")
    assert ckpt.corpus == str(proj / "data" / "c.h5")
    assert ckpt.corpus_relpath == os.path.join("..", "data", "c.h5")


@pytest.mark.parametrize("ranks", [1, 2])
def test_resume_from_another_working_folder(ranks, tmp_path):
    if ranks == 2 and MPIEXEC is None:
        pytest.skip("no mpiexec next to python or on PATH")
    proj = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r, out = _resume_cli(proj / "ck", 12, elsewhere, ranks)
    check_ok(r)
    assert_same_model(_train(iterations=12), esca.load_model(str(out)))


def test_resume_after_the_project_folder_moved(tmp_path):
    """proj moved to moved/: the absolute path is gone, the path relative to the checkpoint
    folder finds the corpus; without the corpus the error names the corpus needed."""
    proj = _project(tmp_path)
    moved = tmp_path / "moved"
    proj.rename(moved)
    r, out = _resume_cli(moved / "ck", 12, tmp_path)
    check_ok(r)
    assert_same_model(_train(iterations=12), esca.load_model(str(out)))
    os.unlink(moved / "data" / "c.h5")
    before = _files(moved / "ck")
    r, out2 = _resume_cli(moved / "ck", 16, tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    err = r.stderr.strip().splitlines()[-1]
    assert err.startswith("esca: error: the corpus of checkpoint") and "is needed" in err
    assert str(proj / "data" / "c.h5") in err and "not found (looked in" in err
    assert "D=250" in err and "sha256 " in err and "give its path as the CORPUS argument" in err
    assert _files(moved / "ck") == before


def _as_version_1(path, corpus):
    """Rewrite a checkpoint as esca wrote it before identities: format_version 1, the corpus
    path as typed, no run_identity, corpus_relpath or meta_sha256."""
    with h5py.File(path, "r+") as f:
        for k in ("run_identity", "corpus_relpath", "meta_sha256"):
            del f.attrs[k]
        f.attrs["format_version"] = 1
        f.attrs["corpus"] = corpus


def test_version_1_checkpoint_resumes_and_its_corpus_is_found_by_checksum(tmp_path, caplog):
    """An old checkpoint storing 'c.h5' as typed in proj/: resumed from tmp_path, where another
    c.h5 lies, the candidate with the checkpoint's checksum (proj/c.h5) is taken; the old
    checkpoint's identity is computed, so a new run of the same settings is refused as the
    same run."""
    proj = tmp_path / "proj"
    proj.mkdir()
    c = esca.read_corpus(CORPUS)
    esca.write_corpus(str(proj / "c.h5"), c.doc_ptr, c.word_ids, c.vocab)
    esca.write_corpus(str(tmp_path / "c.h5"), c.doc_ptr, c.word_ids[::-1].copy(), c.vocab)
    ck = proj / "ck"
    esca.train(str(proj / "c.h5"), num_topics=12, seed=4, threads=1, eval_every=0,
               iterations=8, checkpoints=esca.CheckpointPolicy(ck, every=4))
    for _, p in list_checkpoints(ck):
        _as_version_1(p, "c.h5")
    ckpt = load_latest(ck)
    assert ckpt.format_version == 1 and ckpt.corpus == "c.h5"
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert locate_corpus(ckpt) == os.path.join(str(proj), "c.h5")
        resumed = esca.train(iterations=12, resume=ck, threads=1, eval_every=0)
        with pytest.raises(esca.UserError, match="this same run"):
            esca.train(str(proj / "c.h5"), num_topics=12, seed=4, threads=1, iterations=9,
                       checkpoints=esca.CheckpointPolicy(ck, every=3))
        esca.write_corpus(str(ck / "c.h5"), c.doc_ptr, c.word_ids[::-1].copy(), c.vocab)
        os.unlink(proj / "c.h5")  # two candidates left, neither with the checksum
        with pytest.raises(esca.UserError, match=r"is needed: c\.h5 \(D=250 .*; none of c\.h5, "
                           r".*has its checksum"):
            esca.train(iterations=12, resume=ck, threads=1)
    finally:
        os.chdir(cwd)
    assert_same_model(_train(iterations=12), resumed)
    assert corpus_file_checksum(str(tmp_path / "c.h5")) != ckpt.corpus_sha256
    np.testing.assert_array_equal(load_latest(ck).z, ckpt.z)  # the old files are untouched


@pytest.mark.mpi
@needs_mpiexec
def test_refusal_under_mpiexec_is_one_line_and_changes_nothing(tmp_path):
    """mpiexec -n 2: a new run into another run's checkpoint folder stops both ranks with one
    error line and exit status 2; the checkpoints are untouched."""
    ck = tmp_path / "ck"
    _train(iterations=4, seed=5, checkpoints=esca.CheckpointPolicy(ck, every=4))
    before = _files(ck)
    r, _ = run(esca_cmd(["train", CORPUS, "-k", 12, "--seed", 4, "--threads", 1, "-n", 8,
                         "--top", 0, "--checkpoint-every", 4, "--checkpoint-dir", "ck"], 2),
               tmp_path)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("esca: error:")]
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(errors) == 1 and "checkpoint folder ck holds checkpoints of another run" in \
        errors[0] and "seed 5" in errors[0], r.stderr
    assert _files(ck) == before
