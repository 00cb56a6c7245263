"""``esca bench`` end to end through the command line (``python -m esca bench ...``).

One run on a tiny two-block corpus with ESCA at 1 and 2 ranks, CGS and every peer: the
installed peers must run, the others must be recorded as skipped (CI installs only
``.[test]``). Checks every field of ``bench.json``, the split files, ``bench.md`` and the two
PNGs; a failing system is recorded as failed while the bench completes; bad arguments are one
``esca: error:`` line.
"""

import dataclasses
import importlib.util
import inspect
import json
import math
import re

import pytest

import esca
from esca import _bench_worker
from esca.bench import MODULES, SYSTEMS, Evaluation, Training, find_mpiexec, run_bench
from esca.errors import OutputIsInputError, WriteError, exit_status

from helpers import PNG_SIGNATURE, check_ok, check_user_error, run_esca, write_two_block_corpus

K = 5
ITERATIONS = 4
EVAL_EVERY = 2
OURS = ["esca 1r x 1t", "esca 2r x 1t", "cgs 1r"]
PEERS = [n for n, s in SYSTEMS.items() if s["kind"] in MODULES]
FAST_EVAL = ["--eval-every", EVAL_EVERY, "--eval-sweeps", 4, "--eval-burn-in", 1]


def installed(name):
    return importlib.util.find_spec(MODULES[SYSTEMS[name]["kind"]]) is not None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_two_block_corpus(tmp_path_factory.mktemp("bench-corpus") / "c.h5")


@pytest.fixture(scope="module")
def bench(corpus, tmp_path_factory):
    """One ``esca bench`` run: (output folder, CompletedProcess, bench.json)."""
    d = tmp_path_factory.mktemp("bench")
    r = check_ok(run_esca(["bench", corpus, "-k", K, "-n", ITERATIONS, *FAST_EVAL,
                           "--systems", ",".join(OURS + PEERS), "--out", "out"], d))
    with open(d / "out" / "bench.json") as f:
        return d / "out", r, json.load(f)


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_context(bench):
    _, _, b = bench
    assert b["command"].startswith("esca bench ") and f"--iterations {ITERATIONS}" in b["command"]
    assert b["git_sha"] is None or len(b["git_sha"]) == 40
    assert b["git_dirty"] in ((None,) if b["git_sha"] is None else (True, False))
    for lib in ("python", "esca", "numpy", "numba", "mpi4py", "h5py", "gensim", "tomotopy",
                "lda", "mpi_library"):
        assert lib in b["versions"], lib
    assert b["versions"]["esca"] == esca.__version__
    m = b["machine"]
    assert m["platform"] and positive(m["cores"]) and positive(m["memory_bytes"])
    assert "cpu_model" in m


def test_config_and_split(bench):
    out, _, b = bench
    c = b["config"]
    assert c["num_topics"] == [K] and c["alpha"] == {str(K): 5.0 / K} and c["beta"] == 0.01
    assert c["iterations"] == ITERATIONS and c["seed"] == 1 and c["holdout"] == 0.1
    assert c["eval"]["every"] == EVAL_EVERY and c["eval"]["sweeps"] == 4
    assert c["systems"] == OURS + PEERS
    train, test = esca.read_corpus(str(out / "data" / "train.h5")), \
        esca.read_corpus(str(out / "data" / "test.h5"))
    assert c["train"] == {"D": train.num_docs, "V": train.num_words, "N": train.num_tokens}
    assert c["test"] == {"D": test.num_docs, "V": test.num_words, "N": test.num_tokens}
    assert train.vocab == test.vocab
    assert c["train"]["N"] + c["test"]["N"] <= c["source"]["N"]
    assert c["test"]["D"] >= 1 and c["train"]["D"] + c["split"]["test_docs"] <= c["source"]["D"]


def test_every_system_recorded(bench):
    _, _, b = bench
    rows = b["results"][str(K)]
    assert list(rows) == OURS + PEERS
    if find_mpiexec() is not None:
        assert rows["esca 2r x 1t"]["status"] == "ok", rows["esca 2r x 1t"]
    for name in OURS[:1] + OURS[2:]:
        assert rows[name]["status"] == "ok", rows[name]
    for name in PEERS:
        if installed(name):
            assert rows[name]["status"] == "ok", rows[name]
        else:
            assert rows[name]["status"] == "skipped"
            assert "not installed" in rows[name]["error"]


def test_numbers(bench):
    _, _, b = bench
    n_train = b["config"]["train"]["N"]
    for name, e in b["results"][str(K)].items():
        if e["status"] != "ok":
            continue
        assert e["iterations"] == ITERATIONS and e["error"] is None
        s = e["s_per_iter"]
        assert positive(s["total"]) and positive(e["tokens_per_s"]), name
        assert e["tokens_per_s"] == pytest.approx(n_train / s["total"])
        ours = SYSTEMS[name]["kind"] == "esca"
        for part in ("sample", "count", "allreduce", "other"):
            assert (math.isfinite(s[part]) and s[part] >= -1e-3) if ours else s[part] is None
        ranks = 2 if name in ("esca 2r x 1t", "gensim LdaMulticore") else 1
        assert len(e["peak_rss_bytes"]) == ranks and all(map(positive, e["peak_rss_bytes"]))
        assert all(a <= c for a, c in zip(e["peak_rss_bytes"], e["peak_rss_with_eval_bytes"],
                                                 strict=True))
        if name.startswith(("gensim", "sklearn")):  # variational: no sampled z
            assert e["loglik_per_token"] is None
        else:
            assert math.isfinite(e["loglik_per_token"]) and e["loglik_per_token"] < 0
        assert e["loglik_definition"]
        assert positive(e["heldout_perplexity"]) and e["heldout_perplexity"] > 1
        curve = e["curve"]
        want = ([ITERATIONS] if name in ("lda", "sklearn batch")
                else list(range(EVAL_EVERY, ITERATIONS + 1, EVAL_EVERY)))
        assert [p["iteration"] for p in curve] == want, name
        seconds = [p["seconds"] for p in curve]
        assert all(map(positive, seconds)) and seconds == sorted(seconds)
        assert all(positive(p["perplexity"]) for p in curve)
        assert curve[-1]["perplexity"] == e["heldout_perplexity"]
        assert len(e["runs"]) == 1


def test_esca_ranks_agree(bench):
    """ESCA's counts do not depend on the rank count, so neither do LL and perplexity."""
    _, _, b = bench
    rows = b["results"][str(K)]
    one, two = rows["esca 1r x 1t"], rows["esca 2r x 1t"]
    if two["status"] != "ok":
        pytest.skip("no mpiexec")
    assert two["loglik_per_token"] == pytest.approx(one["loglik_per_token"], rel=1e-12)
    assert two["heldout_perplexity"] == pytest.approx(one["heldout_perplexity"], rel=1e-12)


def test_markdown_and_plots(bench):
    out, r, b = bench
    md = (out / "bench.md").read_text()
    assert f"## K = {K}" in md and b["command"] in md
    for name, e in b["results"][str(K)].items():
        (row,) = [ln for ln in md.splitlines() if ln.startswith(f"| {name} |")]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 13
        assert cells[1] == (str(ITERATIONS) if e["status"] == "ok" else "-")
    assert "held-out perplexity" in md and md in r.stdout
    for png in ("tokens_per_s.png", "perplexity_vs_seconds.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, png


def test_failing_system_is_recorded(corpus, tmp_path):
    """A system whose worker exits non-zero is 'failed' with its stderr; the bench still ends."""
    r = check_ok(run_esca(["bench", corpus, "-k", 100_000_000, "-n", 2, *FAST_EVAL,
                           "--systems", "esca 1r x 1t", "--out", "out"], tmp_path))
    b = json.loads((tmp_path / "out" / "bench.json").read_text())
    e = b["results"]["100000000"]["esca 1r x 1t"]
    assert e["status"] == "failed" and "GiB" in e["error"], e
    assert "failed" in (tmp_path / "out" / "bench.md").read_text()
    assert (tmp_path / "out" / "perplexity_vs_seconds.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "failed" in r.stdout


@pytest.mark.parametrize("bad, names", [
    (["-k", "0"], ["num_topics", "0"]),
    (["--holdout", "1.5"], ["holdout", "1.5"]),
    (["--systems", "esca,nosuch"], ["nosuch"]),
    (["--iterations-for", "lda"], ["NAME=N", "lda"]),
    (["--iterations-for", "lda=0"], ["lda", "0"]),
    (["--eval-sweeps", "5", "--eval-burn-in", "5"],
     ["--eval-burn-in (5) must be less than --eval-sweeps (5)"]),
    (["--eval-every", "-1"], ["--eval-every", "-1"]),
    (["--systems", "esca,nosuch"], ["unknown system 'nosuch' in --systems"]),
    (["--iterations-for", "nosuch=3"], ["unknown system 'nosuch' in --iterations-for"]),
    (["--repeats", "0"], ["repeats", "0"]),
    (["--out", "no-such-folder/out"], ["no-such-folder"]),
], ids=["K0", "holdout", "system", "iterations-for-syntax", "iterations-for-0", "burn-in",
        "eval-every", "systems-flag", "iterations-for-flag", "repeats", "out-parent-missing"])
def test_user_errors(bad, names, corpus, tmp_path):
    args = ["bench", corpus, "-k", K, "-n", 2, "--out", "out", *bad]
    check_user_error(run_esca(args, tmp_path), *names)
    assert not (tmp_path / "out").exists()


def test_out_is_a_file(corpus, tmp_path):
    (tmp_path / "afile").write_text("keep me\n")
    check_user_error(run_esca(["bench", corpus, "-k", K, "--out", "afile"], tmp_path), "afile")
    assert (tmp_path / "afile").read_text() == "keep me\n"


def test_missing_corpus(tmp_path):
    check_user_error(run_esca(["bench", "missing.h5", "-k", K, "--out", "out"], tmp_path),
                     "missing.h5")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("error, status", [
    (esca.UserError("bad value"), 2), (WriteError("disk full"), 74), (RuntimeError("bug"), 1)])
def test_worker_exit_status_is_the_cli_policy(error, status, monkeypatch, tmp_path, capsys):
    """The bench worker maps a failure to the status ``esca`` gives it (esca.errors.exit_status):
    before, it had its own copy, which gave a WriteError 2 instead of the CLI's 74."""
    def fail(spec):
        raise error

    aborted = []
    monkeypatch.setitem(_bench_worker.RUNNERS, "esca", fail)
    monkeypatch.setattr(_bench_worker, "abort_job", aborted.append)
    got = _bench_worker.main(["--spec", json.dumps({"kind": "esca"}),
                              "--out", str(tmp_path / "r.json")])
    assert got == status == exit_status(error) and aborted == [status]
    assert not (tmp_path / "r.json").exists()
    err = capsys.readouterr().err
    if status == 1:
        assert "Traceback" in err and "RuntimeError: bug" in err
    else:
        assert err == f"esca: error: {error}\n"


@pytest.mark.parametrize("kwargs, message", [
    (dict(evaluation=Evaluation(sweeps=5, burn_in=5)),
     "evaluation.burn_in (5) must be less than evaluation.sweeps (5)"),
    (dict(evaluation=Evaluation(every=-1)), "evaluation.every must be >= 0, got -1"),
    (dict(systems=["nosuch"]), "unknown system 'nosuch' in systems"),
    (dict(iterations_for={"nosuch": 3}), "unknown system 'nosuch' in iterations_for"),
    (dict(training=Training(iterations=0)), "iterations"),
])
def test_run_bench_names_its_parameters(kwargs, message, corpus, tmp_path):
    """The library names parameters and option fields, never the CLI's flags."""
    with pytest.raises(esca.UserError, match=re.escape(message)) as e:
        run_bench(corpus, [K], tmp_path / "out", **kwargs)
    assert "--" not in str(e.value) and not (tmp_path / "out").exists()


def test_run_bench_out_is_the_corpus_names_out(corpus, tmp_path):
    with pytest.raises(OutputIsInputError, match=r"^out .* would overwrite the input CORPUS\.h5"):
        run_bench(corpus, [K], corpus)


def test_run_bench_takes_option_objects():
    """At most 10 parameters (issue 14); the settings travel in frozen Training/Evaluation."""
    params = inspect.signature(run_bench).parameters
    assert len(params) <= 10
    assert {"training", "evaluation"} <= set(params)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Evaluation().every = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        Training().seed = 3
