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
import os
import re
import shutil

import numpy as np
import pytest

import esca
from esca import _bench_worker
from esca.bench import (
    BINARIES,
    ESCA_OWNED,
    ESCA_SYSTEMS,
    MODULES,
    SYSTEMS,
    Evaluation,
    Training,
    bench_system,
    check_esca_settings,
    check_evaluation,
    find_mpiexec,
    perplexity_figure,
    run_bench,
    time_to_quality,
    ttq_table,
    worker_spec,
)
from esca.errors import OutputIsInputError, WriteError, exit_status

from helpers import PNG_SIGNATURE, check_ok, check_user_error, run_esca, write_two_block_corpus

K = 5
ITERATIONS = 4
EVAL_EVERY = 2
OURS = ["esca 1r x 1t", "esca 2r x 1t", "cgs 1r"]
PEERS = [n for n, s in SYSTEMS.items() if s["kind"] in MODULES or s["kind"] in BINARIES]
FAST_EVAL = ["--eval-every", EVAL_EVERY, "--eval-sweeps", 4, "--eval-burn-in", 1]


def installed(name):
    kind = SYSTEMS[name]["kind"]
    if kind in BINARIES:
        return shutil.which(BINARIES[kind]) is not None
    return importlib.util.find_spec(MODULES[kind]) is not None


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
            assert re.search("not installed|program on PATH", rows[name]["error"])


def test_numbers(bench):
    _, _, b = bench
    n_train = b["config"]["train"]["N"]
    for name, e in b["results"][str(K)].items():
        if e["status"] != "ok":
            continue
        assert e["iterations"] == ITERATIONS and e["error"] is None
        s = e["s_per_iter"]
        ours = SYSTEMS[name]["kind"] == "esca"
        assert positive(s["total"]) and positive(e["tokens_per_s"]), name
        assert e["tokens_per_s"] == pytest.approx(n_train / s["total"])
        # the whole run: setup and iteration 1 in, so at least every evaluation point's clock
        assert positive(e["whole_run_s"]) and e["whole_run_note"]
        assert e["tokens_per_s_whole_run"] == pytest.approx(n_train * ITERATIONS
                                                            / e["whole_run_s"])
        assert e["curve"][-1]["seconds"] <= e["whole_run_s"] * (1 + 1e-9)
        if ours:
            d = e["runs"][0]["details"]
            assert len(d["jit_s_in_run"]) == SYSTEMS[name]["ranks"]
            assert all(j >= 0 for j in d["jit_s_in_run"])
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
        # the results table's row; with tomotopy at 2 workers the TTQ table has one too
        row = [ln for ln in md.splitlines() if ln.startswith(f"| {name} |")][0]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 15
        assert cells[1] == (str(ITERATIONS) if e["status"] == "ok" else "-")
    assert "held-out perplexity" in md and md in r.stdout
    assert f"Time to quality at K = {K}" in md
    if not any(installed(n) for n in ("tomotopy w2 partition", "tomotopy w2 copy_merge")):
        assert b["ttq"][str(K)]["target"] is None and "no target" in md
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
    (["--iterations-for", "lda=0"], ["lda", "must be in 1..", "0"]),
    (["--iterations-for", "lda=2.5"], ["--iterations-for lda", "integer", "2.5"]),
    (["--eval-sweeps", "5", "--eval-burn-in", "5"],
     ["--eval-burn-in (5) must be less than --eval-sweeps (5)"]),
    (["--eval-every", "-1"], ["--eval-every", "-1"]),
    (["--systems", "esca,nosuch"], ["unknown system 'nosuch' in --systems"]),
    (["--iterations-for", "nosuch=3"], ["unknown system 'nosuch' in --iterations-for"]),
    (["--repeats", "0"], ["repeats", "0"]),
    (["--out", "no-such-folder/out"], ["no-such-folder"]),
    (["--esca-set", "nosuch=1"], ["unknown esca setting 'nosuch' in --esca-set", "own_topic"]),
    (["--esca-set", "num_topics=7"], ["--esca-set cannot set num_topics"]),
    (["--esca-set", "sampler=cgs"], ["--esca-set cannot set sampler"]),
    (["--esca-set", "own_topic"], ["--esca-set takes NAME=VALUE", "own_topic"]),
    (["--esca-set", "own_topic=bogus"], ["--esca-set", "own_topic", "bogus"]),
    (["--esca-set", "optimize_interval=2.5"], ["--esca-set optimize_interval", "2.5"]),
    (["--esca-set", "kernel=dense", "--esca-set", "kernel=sparse"],
     ["--esca-set sets kernel twice"]),
], ids=["K0", "holdout", "system", "iterations-for-syntax", "iterations-for-0",
        "iterations-for-float", "burn-in",
        "eval-every", "systems-flag", "iterations-for-flag", "repeats", "out-parent-missing",
        "esca-set-unknown", "esca-set-owned", "esca-set-sampler", "esca-set-syntax",
        "esca-set-value", "esca-set-type", "esca-set-twice"])
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
    (dict(training=Training(esca_settings={"nosuch": 1})),
     "unknown esca setting 'nosuch' in esca_settings"),
    (dict(training=Training(esca_settings={"seed": 3})), "esca_settings cannot set seed"),
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


def test_target_perplexity_flag(corpus, tmp_path):
    """--target-perplexity sets P* at every K; TTQ is reported with its evaluation points."""
    r = check_ok(run_esca(["bench", corpus, "-k", K, "-n", ITERATIONS, *FAST_EVAL,
                           "--systems", "esca 1r x 1t", "--target-perplexity", "1e9",
                           "--out", "out"], tmp_path))
    b = json.loads((tmp_path / "out" / "bench.json").read_text())
    t = b["ttq"][str(K)]
    assert t["target"] == 1e9 and t["source"].startswith("given")
    q = t["systems"]["esca 1r x 1t"]
    first = b["results"][str(K)]["esca 1r x 1t"]["curve"][0]
    assert q == {"reached": True, "seconds": first["seconds"], "bound": "at most",
                 "points": [first], "x_reference": None}
    assert "--target-perplexity 1000000000.0" in b["command"]
    assert "P* = 1,000,000,000.0" in r.stdout


# -- esca settings (--esca-set) ---------------------------------------------------------------

def test_esca_set_trains_esca_with_the_settings(corpus, tmp_path):
    """``--esca-set own_topic=exclude`` reaches esca.train in the worker: the run's config is
    the setting, its log-likelihood is that of esca.train with it (and not the default's);
    the settings are in bench.json (header and entry), bench.md and the command."""
    r = check_ok(run_esca(["bench", corpus, "-k", K, "-n", ITERATIONS + 2, *FAST_EVAL,
                           "--iterations-for", f"esca 1r x 1t={ITERATIONS}",  # name with spaces
                           "--systems", "esca 1r x 1t", "--esca-set", "own_topic=exclude",
                           "--esca-set", "optimize_interval=2", "--out", "out"], tmp_path))
    out = tmp_path / "out"
    b = json.loads((out / "bench.json").read_text())
    want = {"own_topic": "exclude", "optimize_interval": 2}
    assert b["config"]["esca_settings"] == want
    assert b["config"]["esca_settings_systems"] == ["esca 1r x 1t"]
    e = b["results"][str(K)]["esca 1r x 1t"]
    assert e["status"] == "ok" and e["esca_settings"] == want
    config = e["runs"][0]["details"]["config"]
    assert config["own_topic"] == "exclude" and config["optimize_interval"] == 2
    assert config["num_topics"] == K and config["iterations"] == ITERATIONS

    def loglik(**settings):
        cfg = esca.TrainConfig(num_topics=K, iterations=ITERATIONS, beta=0.01, seed=1,
                               threads=1, eval_every=0, **settings)
        return esca.train(str(out / "data" / "train.h5"), cfg,
                          progress=False).log["loglik_per_token"][-1]

    assert e["loglik_per_token"] == pytest.approx(loglik(**want), rel=1e-12)
    assert e["loglik_per_token"] != pytest.approx(loglik(optimize_interval=2), rel=1e-9)
    md = (out / "bench.md").read_text()
    assert "esca settings: own_topic=exclude, optimize_interval=2 (every run of esca 1r x 1t)." \
        in md
    assert "| esca 1r x 1t |" in md  # the label stays as it is
    assert "--esca-set own_topic=exclude --esca-set optimize_interval=2" in b["command"]
    assert md in r.stdout


def test_esca_settings_are_parsed_by_the_field_type():
    got = check_esca_settings({"own_topic": "exclude", "optimize_interval": " 10 ",
                               "optimize_burn_in": "None", "kernel": "dense"})
    assert got == {"own_topic": "exclude", "optimize_interval": 10, "optimize_burn_in": None,
                   "kernel": "dense"}
    assert type(got["optimize_interval"]) is int
    assert check_esca_settings({"optimize_burn_in": "50"}) == {"optimize_burn_in": 50}
    assert check_esca_settings({"optimize_interval": 3}) == {"optimize_interval": 3}
    assert check_esca_settings(None) == {} == check_esca_settings({})
    with pytest.raises(esca.UserError, match=r"^esca_settings optimize_interval takes an "
                                             r"integer, got 'ten'$"):
        check_esca_settings({"optimize_interval": "ten"})
    with pytest.raises(esca.UserError, match=r"^esca_settings: unknown kernel 'fast'"):
        check_esca_settings({"kernel": "fast"})


@pytest.mark.parametrize("name", ESCA_OWNED)
def test_esca_settings_refuse_what_the_bench_sets(name):
    with pytest.raises(esca.UserError, match=f"^opts cannot set {name}: the bench sets it"):
        check_esca_settings({name: "1"}, "opts")


def test_esca_owned_is_what_the_worker_sets():
    """ESCA_OWNED lists exactly the TrainConfig fields the worker takes from the spec: each
    of them collides in esca_config, every other field is passed through."""
    spec = worker_spec("esca 1r x 1t", train="t.h5", test="s.h5", num_topics=K, alpha=0.1,
                       beta=0.01, seed=1, iterations=3, eval_every=0, eval_sweeps=4,
                       eval_burn_in=1, esca_settings={"own_topic": "exclude"})
    assert _bench_worker.esca_config(spec).own_topic == "exclude"
    defaults = esca.TrainConfig(num_topics=K, iterations=3)
    for f in dataclasses.fields(esca.TrainConfig):
        one = {**spec, "esca_settings": {f.name: getattr(defaults, f.name)}}
        if f.name in ESCA_OWNED:
            with pytest.raises(TypeError, match=f.name):
                _bench_worker.esca_config(one)
        else:
            assert getattr(_bench_worker.esca_config(one), f.name) == getattr(defaults, f.name)


def test_esca_settings_reach_only_the_systems_esca_trains():
    assert set(ESCA_SYSTEMS) == {"esca 1r x 1t", "esca 1r x 2t", "esca 2r x 1t", "cgs 1r"}
    for name in SYSTEMS:
        spec = worker_spec(name, num_topics=K, esca_settings={"own_topic": "exclude"})
        assert ("esca_settings" in spec) == (name in ESCA_SYSTEMS), name


# -- time to quality --------------------------------------------------------------------------

def point(it, sec, ppl):
    return {"iteration": it, "seconds": sec, "perplexity": ppl}


CURVE = [point(10, 2.0, 900.0), point(20, 4.0, 700.0), point(30, 7.0, 600.0)]


def test_ttq_interpolates_between_the_points_around_the_crossing():
    q = time_to_quality(CURVE, 650.0)
    # 700 -> 600 between 4 s and 7 s: 650 is half-way, at 5.5 s
    assert q == {"reached": True, "seconds": pytest.approx(5.5), "bound": "interpolated",
                 "points": CURVE[1:3]}
    assert time_to_quality(CURVE, 700.0)["seconds"] == 4.0  # exactly at a point
    assert time_to_quality(CURVE, 800.0)["seconds"] == pytest.approx(3.0)


def test_ttq_not_reached_and_reached_at_once():
    q = time_to_quality(CURVE, 599.9)
    assert q == {"reached": False, "seconds": None, "bound": None, "points": CURVE[-1:]}
    q = time_to_quality(CURVE, 1000.0)
    assert q["reached"] and q["seconds"] == 2.0 and q["bound"] == "at most"
    assert q["points"] == CURVE[:1]


def test_ttq_takes_the_first_crossing():
    curve = [point(1, 1.0, 900.0), point(2, 2.0, 500.0), point(3, 3.0, 800.0),
             point(4, 4.0, 400.0)]
    assert time_to_quality(curve, 600.0)["points"] == curve[:2]


def entry(curve, whole, iterations=30):
    return {"status": "ok", "curve": curve, "heldout_perplexity": curve[-1]["perplexity"],
            "iterations": iterations, "whole_run_s": whole,
            "tokens_per_s_whole_run": 1e6 * iterations / whole}


def test_ttq_target_defaults_to_the_fastest_tomotopy_at_2_workers():
    rows = {"esca 1r x 2t": entry(CURVE, 7.5),
            "tomotopy w1": entry([point(30, 9.0, 500.0)], 9.0),
            "tomotopy w2 partition": entry([point(15, 5.0, 800.0), point(30, 10.0, 640.0)],
                                           10.5),
            "tomotopy w2 copy_merge": entry([point(30, 11.0, 620.0)], 11.5),
            "lda": {"status": "skipped", "error": "lda is not installed"}}
    t = ttq_table(rows)
    assert t["reference"] == "tomotopy w2 partition"  # faster over the whole run
    assert t["target"] == 640.0 and "tomotopy w2 partition (30 iterations)" in t["source"]
    assert set(t["systems"]) == {"esca 1r x 2t", "tomotopy w1", "tomotopy w2 partition",
                                 "tomotopy w2 copy_merge"}
    esca_q = t["systems"]["esca 1r x 2t"]
    assert esca_q["seconds"] == pytest.approx(4.0 + 0.6 * 3.0)  # 700 -> 600 crosses 640
    assert esca_q["x_reference"] == pytest.approx(esca_q["seconds"] / 10.0)
    assert t["systems"]["tomotopy w2 partition"]["x_reference"] == 1.0
    assert t["systems"]["tomotopy w2 copy_merge"]["reached"] is True
    # a given target wins; without tomotopy at 2 workers and no target there is none
    assert ttq_table(rows, 599.0)["target"] == 599.0
    assert not ttq_table(rows, 599.0)["systems"]["esca 1r x 2t"]["reached"]
    none = ttq_table({"esca 1r x 2t": entry(CURVE, 7.5)})
    assert none["target"] is None and none["systems"] == {}


def test_perplexity_figure_draws_every_system_and_the_target():
    rows = {"esca 1r x 1t": entry(CURVE, 7.5), "lda": entry([point(30, 20.0, 800.0)], 20.0),
            "gensim LdaMulticore": {"status": "failed", "error": "boom"}}
    report = {"results": {"5": rows, "7": rows}, "ttq": {"5": ttq_table(rows, 650.0),
                                                         "7": ttq_table(rows)}}
    fig = perplexity_figure(report)
    with_target, without = fig.axes[:2]
    for ax in (with_target, without):
        drawn = {ln.get_label(): ln for ln in ax.lines if not ln.get_label().startswith("P*")}
        assert set(drawn) == {"esca 1r x 1t", "lda"}  # the failed system has no points
        assert list(drawn["esca 1r x 1t"].get_xdata()) == [2.0, 4.0, 7.0]
        assert list(drawn["lda"].get_ydata()) == [800.0]
    (line,) = [ln for ln in with_target.lines if ln.get_label().startswith("P*")]
    assert line.get_label() == "P* = 650.0" and set(line.get_ydata()) == {650.0}
    assert not [ln for ln in without.lines if ln.get_label().startswith("P*")]


@pytest.mark.parametrize("target, message", [
    (0, "evaluation.target must be a finite number > 0, got 0"),
    (math.nan, "evaluation.target must be a finite number > 0"),
    ("x", "evaluation.target must be a finite number > 0, got 'x'")])
def test_bad_target(target, message):
    with pytest.raises(esca.UserError, match=re.escape(message)):
        check_evaluation(Evaluation(target=target))
    assert check_evaluation(Evaluation(target=5)).target == 5.0


def test_bad_target_flag(corpus, tmp_path):
    check_user_error(run_esca(["bench", corpus, "-k", K, "--target-perplexity", "-3",
                               "--out", "out"], tmp_path), "--target-perplexity", "-3")
    assert not (tmp_path / "out").exists()


# -- the whole-run clock ----------------------------------------------------------------------

class FakeTime:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_training_clock_leaves_out_pauses_and_compiling(monkeypatch):
    """Whole-run seconds: wall time less the paused spans (evaluation) and less compiling
    outside them; compiling inside a pause is not subtracted twice."""
    t = FakeTime()
    monkeypatch.setattr(_bench_worker.time, "perf_counter", t)
    compiling = _bench_worker.CompileTimer()
    clock = _bench_worker.TrainingClock(compiling)
    t.now += 1.0                      # 1 s of setup
    compiling.start()
    t.now += 0.5                      # 0.5 s compiling, nested
    compiling.start()
    t.now += 0.25
    compiling.end()
    assert clock.seconds() == pytest.approx(1.0)   # readable while compiling
    compiling.end()
    t.now += 2.0                      # 2 s of iterations
    with clock.paused():
        t.now += 3.0                  # an evaluation that compiles for 1 s
        compiling.start()
        t.now += 1.0
        compiling.end()
    t.now += 0.5
    assert clock.jit_seconds() == pytest.approx(0.75)
    assert clock.seconds() == pytest.approx(3.5)


def test_warm_up_compiles_before_the_clock(monkeypatch):
    """run_esca trains the same configuration on tiny corpora before the timed call."""
    calls = []
    real = _bench_worker.esca_train

    def spy(corpus, config, **kw):
        calls.append((isinstance(corpus, esca.Corpus), config.num_topics, config.iterations))
        return real(corpus, config, **kw)

    monkeypatch.setattr(_bench_worker, "esca_train", spy)
    _bench_worker.warm_up(esca.TrainConfig(num_topics=3, iterations=50, threads=1), None)
    assert calls == [(True, 3, 2), (True, 3, 2)]


# -- WarpLDA ----------------------------------------------------------------------------------

def test_warplda_is_skipped_without_the_program(monkeypatch, tmp_path):
    """No warplda on PATH: the system is 'skipped' with a note, no worker is started."""
    monkeypatch.setenv("PATH", str(tmp_path))
    spec = worker_spec("warplda 2t", train="t.h5", test="s.h5", num_topics=K, alpha=0.1,
                       beta=0.01, seed=1, iterations=3, eval_every=0, eval_sweeps=4,
                       eval_burn_in=1)
    e = bench_system("warplda 2t", spec, 1, str(tmp_path), 100)
    assert e["status"] == "skipped" and "no warplda program on PATH" in e["error"]
    assert "docs/benchmarks.md" in e["error"] and not os.listdir(tmp_path)


def test_warplda_input_writer(tmp_path):
    c = esca.Corpus(doc_ptr=np.array([0, 3, 3, 5]), word_ids=np.array([4, 0, 4, 2, 1]),
                    vocab=["a", "b", "c", "d", "e"])
    path = tmp_path / "train.txt"
    _bench_worker.write_warplda_input(c, str(path))
    assert path.read_text() == "d0 d0 4 0 4\nd2 d2 2 1\n"  # the empty document is left out


def test_warplda_model_reader(tmp_path):
    """WarpLDA renumbers words (its .vocab); its .model rows are libsvm 'nnz<TAB>k:c ...'."""
    (tmp_path / "train.vocab").write_text("4\n0\n2\n1\n")
    (tmp_path / "train.model").write_text("4 3 0.3 0.01\n2\t0:1 2:1 \n1\t1:1 \n1\t2:1 \n"
                                          "1\t0:1 \n")
    ids = _bench_worker.read_warplda_vocab(str(tmp_path / "train.vocab"))
    assert ids.tolist() == [4, 0, 2, 1]
    n_kw = _bench_worker.read_warplda_model(str(tmp_path / "train.model"), ids, 5)
    want = np.zeros((3, 5))
    want[0, 4] = want[2, 4] = want[1, 0] = want[2, 2] = want[0, 1] = 1
    np.testing.assert_array_equal(n_kw, want)
    (tmp_path / "bad.model").write_text("5 3 0.3 0.01\n")
    with pytest.raises(RuntimeError, match="5 words"):
        _bench_worker.read_warplda_model(str(tmp_path / "bad.model"), ids, 5)


def test_warplda_log_parser():
    text = ("Reading...\n"
            "Iteration 0, 0.500000 s, 2.00 Mtokens/s, log_likelihood (per token) -9.500000\n"
            "Iteration 1, 0.250000 s, 4.00 Mtokens/s, log_likelihood (per token) -9.250000\n"
            "Dump model train.model\n")
    assert _bench_worker.parse_warplda_log(text) == ([0.5, 0.25], -9.25)
    assert _bench_worker.parse_warplda_log("nothing") == ([], None)
