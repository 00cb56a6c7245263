"""Training a saved model further (issue 12.4): ``esca.train(resume=model)``, ``esca train
--continue``, ``esca.LDA(warm_start=True)``, and the model written to ``--out`` on SIGINT or
SIGTERM when there is no checkpoint folder.

A model of M iterations continued to N in total must equal one run of N iterations, bit for
bit (ESCA from the counts alone; collapsed Gibbs from the topics ``z`` its models store), at
one rank and under real ``mpiexec -n 2``, with prior optimization too; the training log
continues; a different corpus, conflicting settings, a total not above the model's and an
older cgs model without ``z`` are refused.
"""

import dataclasses
import re
import signal
import subprocess
import sys
import time
import warnings

import h5py
import numpy as np
import pytest

import esca
from esca.checkpoint import corpus_checksum
from esca.errors import EXIT_INTERRUPTED, Interrupted, ResumeError

from helpers import assert_same_model, check_ok, child_env, esca_cmd, needs_mpiexec, run

CORPUS = "builtin:wiki250"
BASE = {"num_topics": 12, "seed": 4, "threads": 1, "eval_every": 0}
TRAIN = ["train", CORPUS, "-k", 12, "--seed", 4, "--threads", 1, "--eval-every", 0, "--top", 0]
SETTINGS = [
    {"sampler": "esca", "kernel": "dense"},
    {"sampler": "esca", "kernel": "sparse"},
    {"sampler": "cgs"},
    {"sampler": "esca", "optimize_interval": 3, "optimize_burn_in": 4},
]
IDS = ["esca-dense", "esca-sparse", "cgs", "optimized-priors"]


def _train(**kw):
    return esca.train(CORPUS, **{**BASE, **kw})


def _drop_from_info(path, key):
    """Make ``path`` look like a model of an older esca: no ``key`` in its info."""
    import json
    with h5py.File(path, "a") as f:
        info = json.loads(f.attrs["info"])
        del info[key]
        f.attrs["info"] = json.dumps(info)


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_continued_model_equals_one_run(settings, tmp_path):
    full = _train(iterations=14, **settings)
    part = _train(iterations=8, **settings)
    assert (part.z is not None) == (settings["sampler"] == "cgs")  # z only where needed
    path = tmp_path / "m8.h5"
    part.save(str(path))
    from_file = esca.train(iterations=14, resume=path, threads=1, eval_every=0)
    from_memory = esca.train(CORPUS, iterations=14, resume=part, threads=1, eval_every=0)
    for m in (from_file, from_memory):
        assert_same_model(full, m)
        np.testing.assert_array_equal(m.log["iteration"], np.arange(1, 15))
        np.testing.assert_array_equal(m.log["alpha_sum"], full.log["alpha_sum"])
        np.testing.assert_array_equal(m.log["seconds"][:8], part.log["seconds"])  # log goes on
        # the model's configuration with the new total (and the model's optimize_burn_in)
        assert m.config == dataclasses.replace(part.config, iterations=14)
    if settings["sampler"] == "cgs":
        np.testing.assert_array_equal(from_file.z, full.z)
    # twice: 8 -> 11 -> 14
    again = esca.train(iterations=14, threads=1, eval_every=0,
                       resume=esca.train(iterations=11, resume=path, threads=1))
    assert_same_model(full, again)


def test_models_store_z_only_for_cgs_and_old_files_load(tmp_path):
    cgs = _train(iterations=3, sampler="cgs")
    cgs.save(str(tmp_path / "cgs.h5"))
    with h5py.File(tmp_path / "cgs.h5", "r") as f:
        assert f["z"].dtype == np.uint16 and f["z"].shape == (cgs.num_tokens,)
        assert f["z"].compression == "gzip"
    np.testing.assert_array_equal(esca.load_model(str(tmp_path / "cgs.h5")).z, cgs.z)
    np.testing.assert_array_equal(np.bincount(cgs.z, minlength=12), cgs.n_k)
    with h5py.File(tmp_path / "cgs.h5", "a") as f:  # a model of an older esca
        del f["z"]
    old = esca.load_model(str(tmp_path / "cgs.h5"))
    assert old.z is None
    with pytest.raises(ResumeError, match=r"cgs model without every token's topic \(z\)") as e:
        esca.train(iterations=5, resume=tmp_path / "cgs.h5")
    # the library names its parameters; esca train says its flags (docs/errors.md)
    assert str(e.value).endswith("train it again (or use checkpoints.directory and resume)")
    assert str(e.value.named("--resume", "--checkpoint-dir")).endswith(
        "train it again (or use --checkpoint-dir and --resume)")
    cgs.save(str(tmp_path / "bad.h5"))
    with h5py.File(tmp_path / "bad.h5", "a") as f:
        del f["z"]
        f["z"] = np.full(cgs.num_tokens, 12, dtype=np.uint16)
    with pytest.raises(esca.UserError, match=r"'z' must hold one topic in 0..11"):
        esca.load_model(str(tmp_path / "bad.h5"))


def test_refusals(tmp_path):
    part = _train(iterations=6)
    path = tmp_path / "m6.h5"
    part.save(str(path))
    for n in (6, 3):
        with pytest.raises(esca.UserError, match=f"iterations={n} is not more than the 6 "):
            esca.train(iterations=n, resume=path)
    with pytest.raises(esca.UserError, match=r"num_topics=13 \(model: 12\)"):
        esca.train(iterations=9, resume=path, num_topics=13)
    with pytest.raises(esca.UserError, match=r"num_topics=13 \(model: 12\)"):  # all of config
        esca.train(None, esca.TrainConfig(num_topics=13, iterations=9), resume=path)
    with pytest.raises(esca.UserError, match="resume must be a checkpoint folder, a model file "
                                             "or an esca.TopicModel, got int"):
        esca.train(iterations=9, resume=3)
    no_dk = esca.TopicModel(part.n_kw, part.n_k, None, part.vocab, part.alpha, part.beta,
                            part.config)
    with pytest.raises(esca.UserError, match=r"no document-topic counts \(n_dk\)"):
        esca.train(CORPUS, iterations=9, resume=no_dk)
    with pytest.raises(esca.UserError, match="missing.h5: no checkpoint folder or model file"):
        esca.train(iterations=9, resume=tmp_path / "missing.h5")


def _small(doc_ptr, word_ids, vocab=("a", "b", "c", "d")):
    return esca.Corpus(np.array(doc_ptr), np.array(word_ids), list(vocab))


def test_corpus_must_be_the_models(tmp_path):
    """The SHA-256 when the model has it; for older models, D, V, N, the vocabulary, the
    document lengths and the word counts."""
    a = _small([0, 3, 6], [0, 1, 2, 3, 3, 1])
    longer = _small([0, 2, 6], [0, 1, 2, 3, 3, 1])         # same tokens, other document lengths
    other_words = _small([0, 3, 6], [0, 1, 1, 3, 3, 1])    # same lengths, other word counts
    reordered = _small([0, 3, 6], [3, 1, 2, 0, 3, 1])      # same lengths and word counts
    renamed = _small([0, 3, 6], [0, 1, 2, 3, 3, 1], vocab=("a", "b", "c", "x"))
    bigger = _small([0, 3, 7], [0, 1, 2, 3, 3, 1, 0])
    kw = {"num_topics": 2, "seed": 1, "threads": 1, "eval_every": 0}
    m = esca.train(a, iterations=3, **kw)
    assert m.info["corpus_sha256"] == corpus_checksum(a)
    m.save(str(tmp_path / "new.h5"))
    esca.train(a, iterations=4, resume=tmp_path / "new.h5", threads=1)
    with pytest.raises(esca.UserError, match="pass that corpus"):
        esca.train(iterations=4, resume=tmp_path / "new.h5")
    with pytest.raises(esca.UserError, match=r"is not the corpus of model .*new.h5 .*sha256"):
        esca.train(reordered, iterations=4, resume=tmp_path / "new.h5")
    with pytest.raises(esca.UserError, match=r"\(D=2 V=4 N=7\) is not the corpus of model"):
        esca.train(bigger, iterations=4, resume=tmp_path / "new.h5")
    with pytest.raises(esca.UserError, match="word 3 is 'x' there but 'd' in the model"):
        esca.train(renamed, iterations=4, resume=tmp_path / "new.h5")
    _drop_from_info(tmp_path / "new.h5", "corpus_sha256")
    old = tmp_path / "new.h5"
    assert_same_model(esca.train(a, iterations=7, **kw),
                      esca.train(a, iterations=7, resume=old, threads=1, eval_every=0))
    with pytest.raises(esca.UserError, match="do not match the corpus's document lengths"):
        esca.train(longer, iterations=4, resume=old)
    with pytest.raises(esca.UserError, match="do not match the corpus's word counts"):
        esca.train(other_words, iterations=4, resume=old)
    esca.train(reordered, iterations=4, resume=old)  # the weaker check cannot tell


def test_corpus_file_checksum_streams_the_same_digest(tmp_path):
    from esca.checkpoint import corpus_checksum, corpus_file_checksum
    c = esca.read_corpus(CORPUS)
    path = str(tmp_path / "c.h5")
    esca.write_corpus(path, c.doc_ptr, c.word_ids, c.vocab)
    want = corpus_checksum(esca.read_corpus(path))
    assert corpus_file_checksum(path, chunk_tokens=1000) == want
    assert corpus_file_checksum(path) == want == corpus_file_checksum(CORPUS)


def test_lda_warm_start_continues_to_max_iter_in_total():
    from sklearn.feature_extraction.text import CountVectorizer
    docs = ["apple banana apple cherry", "banana cherry kiwi", "dog cat dog", "cat mouse dog",
            "kiwi apple"] * 20
    cv = CountVectorizer()
    X = cv.fit_transform(docs)
    words = cv.get_feature_names_out()
    full = esca.LDA(n_components=3, max_iter=30, random_state=1, n_threads=1)
    full.fit(X, vocabulary=words)
    lda = esca.LDA(n_components=3, max_iter=10, random_state=1, n_threads=1, warm_start=True)
    lda.fit(X, vocabulary=words)
    first = lda.model_
    # the fitted model's seed continues, whatever random_state says now
    lda.set_params(max_iter=30, random_state=99).fit(X, vocabulary=words)
    assert lda.model_ is not first and lda.n_iter_ == 30
    np.testing.assert_array_equal(lda.model_.n_kw, full.model_.n_kw)
    np.testing.assert_array_equal(lda.doc_topic_, full.doc_topic_)
    assert len(lda.model_.log["iteration"]) == 30
    with pytest.warns(UserWarning, match="no sweep run"):
        assert lda.fit(X, vocabulary=words).model_.config.iterations == 30
    with pytest.raises(ValueError, match="max_iter=20 is less than the 30 sweeps"):
        lda.set_params(max_iter=20).fit(X, vocabulary=words)
    with pytest.raises(ValueError, match=r"num_topics=4 \(model: 3\)"):
        lda.set_params(max_iter=40, n_components=4).fit(X, vocabulary=words)
    with pytest.raises(ValueError, match="is not the corpus of model"):
        lda.set_params(n_components=3).fit(X[:50], vocabulary=words)
    # without warm_start a second fit starts again
    cold = esca.LDA(n_components=3, max_iter=10, random_state=1, n_threads=1)
    cold.fit(X, vocabulary=words)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cold.fit(X, vocabulary=words).model_.config.iterations == 10


# -- command line -------------------------------------------------------------------------------

def _run(args, **kw):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], capture_output=True,
                          text=True, check=False, timeout=300, **kw)


def test_cli_continue(tmp_path):
    r = _run([*TRAIN, "-n", 6, "--optimize-interval", 2, "--optimize-burn-in", 3,
              "--out", tmp_path / "m6.h5"])
    assert r.returncode == 0, r.stderr
    r = _run(["train", "--continue", tmp_path / "m6.h5", "-n", 11, "--threads", 1, "--top", 0,
              "--eval-every", 0, "--out", tmp_path / "m11.h5"])
    assert r.returncode == 0, r.stderr
    assert "continuing from" in r.stderr + r.stdout
    full = _train(iterations=11, optimize_interval=2, optimize_burn_in=3)
    assert_same_model(full, esca.load_model(str(tmp_path / "m11.h5")))
    out = tmp_path / "m.h5"
    out.write_bytes(b"an earlier model")
    for args, msg in (
            (["-n", 6], "iterations=6 is not more than the 6 iterations of model"),
            (["-n", 9, "-k", 7], "settings conflict with model"),
            (["-n", 9, "--resume", tmp_path], "--resume and --continue cannot be combined")):
        r = _run(["train", "--continue", tmp_path / "m6.h5", *args, "--top", 0, "--out", out])
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert msg in r.stderr
    assert out.read_bytes() == b"an earlier model"


def _wait_for_iterations(proc, at_least, timeout=120):
    """Read the child's stdout until it reports iteration ``at_least``."""
    t0 = time.monotonic()
    for line in proc.stdout:
        m = re.match(r"iter\s+(\d+)", line)
        if m and int(m.group(1)) >= at_least:
            return
        assert time.monotonic() - t0 < timeout
    pytest.fail(f"the run ended before iteration {at_least}: {proc.communicate()}")


def _interrupt(cmd, sig, tmp_path, **kw):
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, **kw)
    try:
        _wait_for_iterations(proc, 30)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def _check_interrupted(code, err, sig, tmp_path, ranks):
    out = tmp_path / "m.h5"
    assert code == EXIT_INTERRUPTED, err
    assert err.count("esca: stopped:") == 1 and signal.Signals(sig).name in err, err
    stopped = int(re.search(r"stopped after iteration (\d+) of 100000", err).group(1))
    assert f"model of iteration {stopped} written to m.h5" in err
    assert "esca train --continue m.h5 -n 100000" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]  # no temporary file left
    m = esca.load_model(str(out))
    assert m.config.iterations == stopped == len(m.log["iteration"])
    assert m.info["interrupted"] == {"signal": signal.Signals(sig).name,
                                     "of_iterations": 100000}
    assert np.isfinite(m.log["loglik_per_token"][-1])
    total = stopped + 7
    r, _ = run(esca_cmd(["train", "--continue", out, "-n", total, "--threads", 1, "--top", 0,
                         "--out", tmp_path / "more.h5"], ranks), tmp_path)
    check_ok(r)
    assert_same_model(_train(iterations=total), esca.load_model(str(tmp_path / "more.h5")))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_the_model_to_out(sig, tmp_path):
    """Ctrl-C without --checkpoint-dir: the model of the last finished iteration is written
    to --out atomically, exit 75, and continuing it gives the uninterrupted model."""
    cmd = [sys.executable, "-m", "esca", *TRAIN, "-n", 100000, "--out", "m.h5", "--log-every", 1]
    code, err = _interrupt(cmd, sig, tmp_path)
    _check_interrupted(code, err, sig, tmp_path, ranks=1)


def test_signal_with_checkpoint_dir_leaves_out_alone(tmp_path):
    cmd = [sys.executable, "-m", "esca", *TRAIN, "-n", 100000, "--out", "m.h5",
           "--log-every", 1, "--checkpoint-dir", "ck"]
    code, err = _interrupt(cmd, signal.SIGINT, tmp_path)
    assert code == EXIT_INTERRUPTED and "resume with --resume ck" in err, err
    assert "written to" not in err and not (tmp_path / "m.h5").exists()


def test_signal_during_the_ranks_agreement_is_not_lost(monkeypatch):
    """A signal whose handler runs while the ranks exchange their flags (after this rank's
    value was sent) stops the run at the next iteration. It used to be overwritten by the
    agreed "no signal" and lost: CI saw ``mpiexec -n 2`` run on after SIGTERM."""
    real = esca.distributed.allgather
    calls = []

    def allgather_then_signal(comm, value):
        out = real(comm, value)
        calls.append(value)
        if len(calls) == 3:  # the flag exchange after iteration 3: value already sent
            signal.raise_signal(signal.SIGTERM)  # the handler runs before this returns
        return out

    monkeypatch.setattr(esca.distributed, "allgather", allgather_then_signal)
    with pytest.raises(Interrupted) as e:
        _train(iterations=50, handle_signals=True)
    assert e.value.signal == "SIGTERM" and e.value.iteration == 4, e.value


# -- under mpiexec -n 2 -------------------------------------------------------------------------

mpi = needs_mpiexec


@pytest.mark.mpi
@mpi
@pytest.mark.parametrize("first,then,sampler", [(1, 2, "esca"), (2, 2, "esca"), (2, 1, "esca"),
                                                (2, 2, "cgs")])
def test_continue_under_mpi(first, then, sampler, tmp_path):
    """ESCA continues exactly at any number of ranks; cgs (AD-LDA over 2 ranks) at the number
    of ranks it was trained at, from the z its 2-rank model gathered."""
    opt = ["--optimize-interval", 3, "--optimize-burn-in", 4, "--sampler", sampler]
    r, _ = run(esca_cmd([*TRAIN, "-n", 8, *opt, "--out", tmp_path / "m8.h5"], first), tmp_path)
    check_ok(r)
    r, _ = run(esca_cmd(["train", "--continue", tmp_path / "m8.h5", "-n", 15, "--threads", 1,
                         "--top", 0, "--eval-every", 0, "--out", tmp_path / "m15.h5"], then),
               tmp_path)
    check_ok(r)
    if sampler == "esca":
        full = _train(iterations=15, optimize_interval=3, optimize_burn_in=4)
    else:
        r, _ = run(esca_cmd([*TRAIN, "-n", 15, *opt, "--out", tmp_path / "full.h5"], 2),
                   tmp_path)
        check_ok(r)
        full = esca.load_model(str(tmp_path / "full.h5"))
        assert not np.array_equal(full.n_kw, _train(iterations=15, sampler="cgs",
                                                    optimize_interval=3,
                                                    optimize_burn_in=4).n_kw)  # AD-LDA
    continued = esca.load_model(str(tmp_path / "m15.h5"))
    assert_same_model(full, continued)
    if sampler == "cgs":
        np.testing.assert_array_equal(full.z, continued.z)


@pytest.mark.mpi
@mpi
def test_sigterm_to_mpiexec_writes_the_model_to_out(tmp_path):
    cmd = esca_cmd([*TRAIN, "-n", 100000, "--out", "m.h5", "--log-every", 1], 2)
    code, err = _interrupt(cmd, signal.SIGTERM, tmp_path, env=child_env(), start_new_session=True)
    _check_interrupted(code, err, signal.SIGTERM, tmp_path, ranks=2)
