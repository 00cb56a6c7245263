"""Progress and logging: tqdm bars on a terminal, plain log lines elsewhere, ``--quiet``,
``--log-every``; ``esca infer``'s chunked fold-in is bit-identical to one call.

Commands run as real subprocesses: with pipes (not a terminal) or with standard
error (and maybe standard output) on a pseudo-terminal from :func:`pty.openpty`.
"""

import fcntl
import logging
import math
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import numpy as np
import pytest

import esca
from esca.corpora.prepare import REPORT_EVERY, Pruning, prepare_corpus
from esca.evaluate import fold_in
from esca.progress import StageProgress, TrainProgress

import helpers

TIMEOUT = 300  # seconds; a hang fails the test instead of blocking CI
ITERATIONS = 12
TRAIN = ["train", "-k", 5, "-n", ITERATIONS, "--threads", 1, "--top", 0]

#: Runs ``esca.cli.main.main(argv)`` with bars drawn at once and tiny fold-in chunks, so that
#: small inputs show their bars (by default a bar waits a second and chunks hold 200,000
#: tokens).
NO_DELAY = """
import sys
import esca.progress, esca.infer, esca.cli.main
esca.progress.BAR_DELAY = 0
esca.infer.MIN_CHUNK_TOKENS = 50
sys.exit(esca.cli.main.main(sys.argv[1:]))
"""

#: Runs ``esca.cli.main.main(argv)`` with TrainProgress's 10-second rule switched off, so that
#: the default iteration lines do not depend on the machine's speed.
NO_INTERVAL = """
import sys
import esca.progress, esca.cli.main
esca.progress.LOG_INTERVAL = float("inf")
sys.exit(esca.cli.main.main(sys.argv[1:]))
"""

#: What ``esca train`` without --out prints on standard error (rank 0, once).
NO_OUT = "esca train: warning: no --out given: the model will not be saved"


def esca_cmd(*args):
    return [sys.executable, "-m", "esca", *map(str, args)]


def run(cmd, cwd):
    """(CompletedProcess) of ``cmd`` with pipes; its process group is killed on a timeout."""
    r, _ = helpers.run(cmd, cwd, timeout=TIMEOUT)
    return r


def run_pty(cmd, cwd, stdout_too=False):
    """Run ``cmd`` with standard error on a pseudo-terminal of 120 columns (standard output
    too with ``stdout_too``, else a pipe); returns (returncode, stdout, terminal text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_too else subprocess.PIPE, stderr=slave,
                            env=helpers.child_env(), start_new_session=True)
    os.close(slave)
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        out = b"" if stdout_too else proc.stdout.read()
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"timed out after {TIMEOUT} s: {cmd}")
    finally:
        if proc.stdout:
            proc.stdout.close()
    reader.join(timeout=30)
    os.close(master)
    tty = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return proc.returncode, out.decode(), tty


def iter_lines(text):
    return [int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("iter ")]


def check_ok(r):
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


# -- esca train: log lines, --quiet, the bar ---------------------------------------------------

def test_train_log_every_not_a_terminal(tmp_path):
    r = check_ok(run(esca_cmd(*TRAIN, "--log-every", 5), tmp_path))
    assert iter_lines(r.stdout) == [5, 10, 12], r.stdout  # every 5th and the last
    last = [ln for ln in r.stdout.splitlines() if ln.startswith("iter ")][-1]
    assert "tokens/s" in last and "LL/token" in last, last
    assert sum(ln.startswith("done:") for ln in r.stdout.splitlines()) == 1
    assert r.stderr == NO_OUT + "\n"  # no bar when standard error is not a terminal


def test_train_default_logs_first_loglik_and_last_iterations(tmp_path):
    """Off a terminal the default logs the first iteration, every --eval-every-th (those with
    LL/token), the last, and any after 10 seconds without a line (switched off here)."""
    r = check_ok(run([sys.executable, "-c", NO_INTERVAL, *map(str, TRAIN), "--eval-every", 5],
                     tmp_path))
    assert iter_lines(r.stdout) == [1, 5, 10, 12], r.stdout
    with_ll = [ln for ln in r.stdout.splitlines() if "LL/token" in ln]
    assert [int(ln.split()[1]) for ln in with_ll] == [5, 10, 12]
    assert r.stderr == NO_OUT + "\n"
    r = check_ok(run([sys.executable, "-c", NO_INTERVAL, *map(str, TRAIN), "--eval-every", 0],
                     tmp_path))
    assert iter_lines(r.stdout) == [1, 12], r.stdout  # LL/token only at the end


@pytest.mark.parametrize("where", ["before", "after"])
def test_train_quiet(where, tmp_path):
    args = ["--quiet", *TRAIN] if where == "before" else [*TRAIN, "--quiet", "--log-every", 1]
    r = check_ok(run(esca_cmd(*args, "--out", "m.h5"), tmp_path))
    assert r.stdout.splitlines() == ["wrote m.h5"], r.stdout  # results only, no log lines
    assert r.stderr == ""


def test_train_log_every_negative_is_a_user_error(tmp_path):
    r = run(esca_cmd(*TRAIN, "--log-every", -1), tmp_path)
    assert r.returncode == 2 and r.stderr.splitlines() == [
        "esca: error: --log-every must be >= 0, got -1"], r.stderr


def test_train_bar_on_a_terminal(tmp_path):
    """Standard error a terminal, standard output a pipe: bar there, every line here."""
    rc, out, tty = run_pty(esca_cmd(*TRAIN, "--eval-every", 5), tmp_path)
    assert rc == 0, out + tty
    bar = [s for s in tty.split("\r") if s.startswith("train:")]
    assert bar, tty
    final = bar[-1]
    assert "100%" in final and f"{ITERATIONS}/{ITERATIONS}" in final, final
    assert "it/s" in final and "tokens/s" in final and "LL/token -" in final, final
    lines = iter_lines(out)  # the pipe still gets the default lines (and maybe 10-second ones)
    assert lines == sorted(set(lines)) and {1, 5, 10, 12} <= set(lines), out
    assert "iter " not in tty and "Traceback" not in tty


def test_train_bar_and_lines_share_a_terminal(tmp_path):
    """Both streams on the terminal: the bar replaces the iteration lines, unless
    --log-every asks for them; log lines are written above the bar."""
    rc, _, tty = run_pty(esca_cmd(*TRAIN), tmp_path, stdout_too=True)
    assert rc == 0, tty
    assert "train: 100%" in tty and not iter_lines(tty.replace("\r", "\n")), tty
    assert "\ndone: " in tty  # after the closed bar, on its own line
    rc, _, tty = run_pty(esca_cmd(*TRAIN, "--log-every", 6), tmp_path, stdout_too=True)
    assert rc == 0, tty
    assert "train: 100%" in tty
    assert iter_lines(tty.replace("\r", "\n")) == [6, 12], tty


def test_train_quiet_on_a_terminal(tmp_path):
    rc, out, tty = run_pty(esca_cmd(*TRAIN, "-q", "--out", "m.h5"), tmp_path)
    assert rc == 0, out + tty
    assert tty == "" and out == "wrote m.h5\n"
    rc, out, tty = run_pty(esca_cmd(*TRAIN, "-q"), tmp_path)  # a warning, not hidden by -q
    assert rc == 0, out + tty
    assert tty == NO_OUT + "\n" and out == ""


# -- the library: TrainProgress through esca.train --------------------------------------------

class Recorder:
    def __init__(self):
        self.calls = []

    def start(self, first, total, compiling=False):
        self.calls.append(("start", first, total))

    def update(self, record):
        self.calls.append(("update", record["iteration"], record["loglik_per_token"]))

    def close(self):
        self.calls.append(("close",))


def test_library_default_logs_every_iteration_and_progress_replaces_it(random_corpus, caplog,
                                                                       restore_numba_threads):
    kw = {"num_topics": 3, "iterations": 4, "threads": 1, "eval_every": 2}
    with caplog.at_level(logging.INFO, logger="esca"):
        esca.train(random_corpus, **kw)
    lines = [r.getMessage() for r in caplog.records if r.name == "esca.progress"]
    assert iter_lines("\n".join(lines)) == [1, 2, 3, 4]
    caplog.clear()
    rec = Recorder()
    with caplog.at_level(logging.INFO, logger="esca"):
        esca.train(random_corpus, progress=rec, **kw)
    assert not [r for r in caplog.records if r.name == "esca.progress"]
    assert rec.calls[0] == ("start", 1, 4) and rec.calls[-1] == ("close",)
    ups = rec.calls[1:-1]
    assert [u[1] for u in ups] == [1, 2, 3, 4]
    assert [math.isnan(u[2]) for u in ups] == [True, False, True, False]


def test_library_progress_closed_on_error(random_corpus, restore_numba_threads):
    rec = Recorder()

    def fail(record):
        if record["iteration"] == 2:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        esca.train(random_corpus, num_topics=3, iterations=5, threads=1, callback=fail,
                   progress=rec)
    assert rec.calls[-1] == ("close",) and [c[1] for c in rec.calls[1:-1]] == [1, 2]


def test_train_progress_bar_shows_the_latest_loglik():
    import io
    f = io.StringIO()
    p = TrainProgress(log_every=0, bar=True, file=f)
    p.start(1, 3)
    for it, ll in ((1, math.nan), (2, -7.5), (3, math.nan)):
        p.update({"iteration": it, "seconds": 0.5, "tokens_per_s": 1234567.0,
                  "loglik_per_token": ll})
    p.close()
    final = f.getvalue().split("\r")[-1]
    assert final.startswith("train: 100%") and "3/3" in final, final
    assert "1,234,567 tokens/s, LL/token -7.5000]" in final, final


def test_train_progress_log_every_zero_logs_nothing(caplog):
    p = TrainProgress(log_every=0)
    p.start(1, 3)
    with caplog.at_level(logging.INFO, logger="esca"):
        for it in (1, 2, 3):
            p.update({"iteration": it, "seconds": 0.1, "tokens_per_s": 10.0,
                      "loglik_per_token": -7.0})
    p.close()
    assert caplog.records == []
    with pytest.raises(ValueError, match="log_every"):
        TrainProgress(log_every=-1)


def _feed(p, lls, seconds=None):
    """Report iterations 1..len(lls) to ``p`` (``seconds[i]``: the fake clock after each)."""
    for it, ll in enumerate(lls, 1):
        if seconds is not None:
            p.clock.now = seconds[it - 1]
        p.update({"iteration": it, "seconds": 0.1, "tokens_per_s": 10.0, "loglik_per_token": ll})


class FakeClock:
    now = 0.0

    def __call__(self):
        return self.now


def test_train_progress_every_interval_and_loglik(caplog):
    """log_every=None: the first, every iteration with a log-likelihood, the last, and any
    ending ``interval`` seconds or more after the previous line (an injected clock)."""
    nan = math.nan
    p = TrainProgress(log_every=None, interval=10.0, clock=FakeClock())
    p.start(1, 9)
    lls = [nan, nan, nan, -7.0, nan, nan, nan, nan, -6.0]
    seconds = [3.0, 9.9, 13.0, 14.0, 20.0, 24.0, 24.5, 34.5, 35.0]
    with caplog.at_level(logging.INFO, logger="esca"):
        _feed(p, lls, seconds)
    p.close()
    # 1 (first), 3 (10 s after 1's line at 3.0), 4 (LL), 6 (10 s after 14.0), 8 (34.5 - 24.0),
    # 9 (the last, with LL)
    assert iter_lines("\n".join(r.getMessage() for r in caplog.records)) == [1, 3, 4, 6, 8, 9]
    assert "(compiling)" not in caplog.text
    with pytest.raises(ValueError, match="log_every"):
        TrainProgress(log_every=1.5)


def test_train_progress_says_compiling_on_the_first_iteration(caplog):
    import io
    f = io.StringIO()
    p = TrainProgress(log_every=None, interval=math.inf, bar=True, file=f)
    p.start(1, 3, compiling=True)
    assert "train (compiling):" in f.getvalue()
    with caplog.at_level(logging.INFO, logger="esca"):
        _feed(p, [math.nan, math.nan, -7.0])
    p.close()
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 2 and msgs[0].endswith("  (compiling)") and "compiling" not in msgs[1]
    assert f.getvalue().split("\r")[-1].startswith("train: 100%")


#: Trains twice in one process (an empty Numba cache in NUMBA_CACHE_DIR) and prints the
#: iteration-1 lines of each run's default progress.
COMPILING = """
import logging, sys
import esca
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
for run in (1, 2):
    esca.train("builtin:wiki250", num_topics=3, iterations=2, threads=1,
               progress=esca.progress.TrainProgress(log_every=None))
"""


def test_compiling_in_a_fresh_process(tmp_path):
    """A process that compiles the kernels says so on its first iteration, only there; the
    next process, loading them from Numba's cache, does not."""
    env = {**helpers.child_env(), "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    runs = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", COMPILING], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stdout + r.stderr
        runs.append([ln for ln in r.stdout.splitlines() if ln.startswith("iter ")])
    first, second = runs
    assert iter_lines("\n".join(first)) == [1, 2, 1, 2], first
    assert [ln.endswith("(compiling)") for ln in first] == [True, False, False, False], first
    assert not any("compiling" in ln for ln in second), second  # loaded from the cache


def test_library_progress_true_draws_the_bar_false_is_silent(random_corpus, caplog, capsys,
                                                            restore_numba_threads):
    kw = {"num_topics": 3, "iterations": 4, "threads": 1, "eval_every": 2}
    with caplog.at_level(logging.INFO, logger="esca"):
        esca.train(random_corpus, progress=True, **kw)
    err = capsys.readouterr().err
    final = err.split("\r")[-1]
    assert final.startswith("train: 100%") and "4/4" in final and "LL/token -" in final, err
    assert not [r for r in caplog.records if r.name == "esca.progress"]  # the bar only
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="esca"):
        esca.train(random_corpus, progress=False, **kw)
    assert capsys.readouterr() == ("", "")
    assert not [r for r in caplog.records if r.name == "esca.progress"]
    assert [r for r in caplog.records if r.getMessage().startswith("training esca on ")]


# -- StageProgress: log lines without a terminal -----------------------------------------------

def test_stage_progress_log_lines(caplog):
    with caplog.at_level(logging.INFO, logger="esca"), StageProgress(interval=0) as p:
        p("vocabulary", 0, None)
        p("vocabulary", 1000, None)
        p("vocabulary", 1500, 1500)
        p("writing", 0, 1500)
        p("writing", 750, 1500)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs[0].startswith("vocabulary: 1,000 docs, ") and msgs[0].endswith(" docs/s")
    assert msgs[1].startswith("vocabulary: 1,500 of 1,500 docs (100%), ")
    assert msgs[2].startswith("writing: 750 of 1,500 docs (50%), "), msgs
    assert len(msgs) == 3
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="esca"), StageProgress() as p:  # interval 10 s
        for done in range(0, 5001, 1000):
            p("writing", done, 5000)
    assert caplog.records == []  # a short stage logs nothing
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="esca"), StageProgress(interval=0) as p:
        p("writing", 0, 10)
        p("writing", 10, 10)
        p("writing", 10, 10)  # a repeated end does not start the stage again
    assert ([r.getMessage().split(",")[0] for r in caplog.records]
            == ["writing: 10 of 10 docs (100%)"])


# -- esca prepare ------------------------------------------------------------------------------

def write_text_corpus(path, docs=5000, seed=3):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(400)]
    with open(path, "w") as f:
        f.writelines(" ".join(rng.choice(words, size=int(rng.integers(0, 12)))) + "\n"
                     for _ in range(docs))


@pytest.mark.parametrize("n", [2 * REPORT_EVERY + 345, 2 * REPORT_EVERY])
def test_prepare_reports_every_pass(tmp_path, n):
    text = tmp_path / "docs.txt"
    write_text_corpus(text, docs=n)
    calls = []
    stats = prepare_corpus(text, "text", tmp_path / "c.h5", pruning=Pruning(no_below=2),
                           progress=lambda *c: calls.append(c))
    for stage in ("vocabulary", "writing"):
        mine = [c for c in calls if c[0] == stage]
        done = [c[1] for c in mine]
        assert done == sorted(done) and done[0] == 0, mine
        assert mine[-1] == (stage, n, n), mine  # the last call: done == total
        # the start, every REPORT_EVERY, the end (unless just reported with its total)
        end = stage == "vocabulary" or n % REPORT_EVERY != 0
        assert len(mine) == 1 + n // REPORT_EVERY + end, mine
    stages = [c[0] for c in calls]
    assert stages == sorted(stages, key=["vocabulary", "writing"].index)  # pass 1, then 2
    assert all(c[2] is None for c in calls if c[0] == "vocabulary" and c[1] < n)
    assert all(c[2] == n for c in calls if c[0] == "writing")  # known after pass 1
    assert stats["n_input_docs"] == n


def test_prepare_reports_uci_by_document_id(tmp_path):
    """UCI: a pruning pass and the writing pass, counted by docID (absent ones included)."""
    D, V = 3 * REPORT_EVERY + 7, 50
    rng = np.random.default_rng(4)
    rows = [(d, w, int(rng.integers(1, 4))) for d in range(1, D + 1, 2)  # even docIDs absent
            for w in sorted(rng.choice(np.arange(1, V + 1), size=3, replace=False))]
    body = "".join(f"{d} {w} {c}\n" for d, w, c in rows)
    (tmp_path / "docword.txt").write_text(f"{D}\n{V}\n{len(rows)}\n{body}")
    (tmp_path / "vocab.txt").write_text("".join(f"v{i}\n" for i in range(V)))
    calls = []
    prepare_corpus(tmp_path / "docword.txt", "uci", tmp_path / "c.h5",
                   vocab=tmp_path / "vocab.txt", pruning=Pruning(no_below=1),
                   progress=lambda *c: calls.append(c))
    for stage in ("doc frequencies", "writing"):
        mine = [c for c in calls if c[0] == stage]
        assert mine[0] == (stage, 0, D) and mine[-1] == (stage, D, D), mine
        assert all(c[2] == D for c in mine)
        assert [c[1] for c in mine] == sorted(c[1] for c in mine)


def test_prepare_bar_on_a_terminal(tmp_path):
    text = tmp_path / "docs.txt"
    write_text_corpus(text, docs=5000)
    rc, out, tty = run_pty([sys.executable, "-c", NO_DELAY, "prepare", text, "--format", "text",
                            "--out", "c.h5"], tmp_path)
    assert rc == 0, out + tty
    parts = tty.split("\r")
    vocab = [s for s in parts if s.startswith("vocabulary:")]
    writing = [s for s in parts if s.startswith("writing:")]
    # pass 1 does not know the total until its end; pass 2 does from the start
    assert vocab and vocab[0].startswith("vocabulary: 0 docs [00:00, "), tty
    assert "100%" in vocab[-1] and "5,000/5,000" in vocab[-1] and "docs/s" in vocab[-1], tty
    assert writing and "| 0/5,000 [" in writing[0], tty
    assert "100%" in writing[-1] and "5,000/5,000" in writing[-1], tty
    assert sum(s.startswith("writing:   0%") for s in writing) == 1, tty  # not restarted
    assert "wrote c.h5: D=" in out and "Traceback" not in tty


def test_prepare_short_input_draws_no_bar(tmp_path):
    """With the default one-second delay a small input shows no bar, even on a terminal."""
    text = tmp_path / "docs.txt"
    write_text_corpus(text, docs=50)
    rc, out, tty = run_pty(esca_cmd("prepare", text, "--format", "text", "--out", "c.h5"), tmp_path)
    assert rc == 0, out + tty
    assert tty == "", tty
    assert "wrote c.h5" in out


def test_prepare_quiet(tmp_path):
    text = tmp_path / "docs.txt"
    write_text_corpus(text, docs=50)
    r = check_ok(run(esca_cmd("prepare", text, "--format", "text", "--out", "c.h5", "-q"),
                     tmp_path))
    assert r.stderr == "" and r.stdout.startswith("wrote c.h5: D=")
    r = check_ok(run(esca_cmd("prepare", text, "--format", "text", "--out", "d.h5"), tmp_path))
    assert r.stdout.startswith("pass 1: ")  # the log lines -q hid


# -- esca infer: chunked fold-in ---------------------------------------------------------------

@pytest.fixture(scope="module")
def model_and_docs():
    rng = np.random.default_rng(8)
    D, V = 120, 300
    lens = rng.integers(0, 40, size=D)
    lens[[0, 17, 18, D - 1]] = 0  # empty documents, first and last included
    doc_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    word_ids = rng.integers(0, V, size=int(doc_ptr[-1])).astype(np.int32)
    return rng, V, doc_ptr, word_ids


@pytest.mark.parametrize("K", [5, 40])  # the dense and the sparse (alias) kernel
@pytest.mark.parametrize("chunk_tokens", [1, 97, 500, 10**9])
def test_chunked_fold_in_is_bit_identical(model_and_docs, K, chunk_tokens):
    rng, V, doc_ptr, word_ids = model_and_docs
    phi = rng.dirichlet(np.full(V, 0.1), size=K)
    phi /= phi.sum(axis=1, keepdims=True)
    alpha = rng.uniform(0.05, 0.5, size=K)
    kw = {"sweeps": 6, "burn_in": 2, "seed": 11}
    want = fold_in(phi, alpha, doc_ptr, word_ids, **kw)
    calls = []
    got = fold_in(phi, alpha, doc_ptr, word_ids, **kw, chunk_tokens=chunk_tokens,
                  progress=lambda *c: calls.append(c))
    np.testing.assert_array_equal(got, want)
    D = len(doc_ptr) - 1
    done = [c[1] for c in calls]
    assert calls[0] == ("fold-in", 0, D) and calls[-1] == ("fold-in", D, D)
    assert done == sorted(set(done))
    N = len(word_ids)
    assert len(calls) >= (2 if chunk_tokens > N else min(D, N // chunk_tokens) // 2)


def test_infer_bar_on_a_terminal_and_same_theta(tmp_path, restore_numba_threads):
    import h5py
    corpus = esca.read_corpus("builtin:wiki250")
    sub = esca.Corpus(corpus.doc_ptr[:41], corpus.word_ids[:corpus.doc_ptr[40]], corpus.vocab)
    esca.write_corpus(str(tmp_path / "c.h5"), sub.doc_ptr, sub.word_ids, sub.vocab)
    model = esca.train(str(tmp_path / "c.h5"), num_topics=4, iterations=3, threads=1)
    model.save(str(tmp_path / "m.h5"))
    rc, out, tty = run_pty([sys.executable, "-c", NO_DELAY, "infer", "m.h5", "c.h5", "--out",
                            "t.h5", "--sweeps", 4, "--burn-in", 1, "--threads", 1], tmp_path)
    assert rc == 0, out + tty
    bar = [s for s in tty.split("\r") if s.startswith("fold-in:")]
    assert bar and "100%" in bar[-1] and "40/40" in bar[-1] and "docs/s" in bar[-1], tty
    assert "inferred theta of 40 documents" in out
    with h5py.File(tmp_path / "t.h5") as f:
        theta = f["theta"][()]
    np.testing.assert_array_equal(theta, model.transform(sub, sweeps=4, burn_in=1, seed=0))


# -- MPI: only rank 0 reports ------------------------------------------------------------------

@pytest.mark.mpi
@helpers.needs_mpiexec
def test_only_rank_zero_reports_progress(tmp_path):
    r, _ = helpers.run(helpers.esca_cmd([*TRAIN, "--log-every", 5], 2), tmp_path,
                       timeout=TIMEOUT)
    helpers.check_ok(r)
    assert iter_lines(r.stdout) == [5, 10, 12], r.stdout  # not duplicated by rank 1
    assert sum(ln.startswith("done:") for ln in r.stdout.splitlines()) == 1
    assert "on 2 rank(s)" in r.stdout
    assert "it/s" not in r.stderr and "%|" not in r.stderr, r.stderr  # no bar from any rank


@pytest.mark.mpi
@helpers.needs_mpiexec
def test_mpiexec_default_is_not_a_line_per_iteration(tmp_path):
    """mpiexec's pipes are not terminals: the default lines (first, LL, last), once; the
    warning about the missing --out once, on standard error."""
    cmd = [helpers.MPIEXEC, "-n", 2, sys.executable, "-c", NO_INTERVAL, *TRAIN, "--eval-every",
           4]
    r, _ = helpers.run(cmd, tmp_path, timeout=TIMEOUT)
    helpers.check_ok(r)
    assert iter_lines(r.stdout) == [1, 4, 8, 12], r.stdout
    assert r.stderr == NO_OUT + "\n", r.stderr


# -- help --------------------------------------------------------------------------------------

@pytest.mark.parametrize("sub", ["train", "prepare", "infer"])
def test_help_has_examples(sub, tmp_path):
    r = check_ok(run(esca_cmd(sub, "--help"), tmp_path))
    text = r.stdout
    assert "\nexamples:\n" in text, text
    examples = text.split("\nexamples:\n", 1)[1]
    assert f"esca {sub} " in examples
    assert "--quiet" in text


def test_library_modules_do_not_print():
    """The library logs through logging only; printing is for cli/ (and worker scripts)."""
    root = Path(__file__).resolve().parents[1]
    for folder in ("esca", "corpora"):
        for path in (root / folder).rglob("*.py"):
            if path.name in ("__main__.py", "_bench_worker.py"):  # command-line entry points
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0]
                assert not code.lstrip().startswith("print("), f"{path}:{n}: {line.strip()}"
