"""``experiments/quality_parity.py`` end to end on a tiny two-block corpus.

Runs ESCA, ESCA with optimized priors and CGS (the peers only when installed), then checks the
per-unit results (perplexity and u_mass at every evaluation point), the comparisons, the
markdown table and the PNG, and that a finished unit is not run again.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PNG_SIGNATURE, write_two_block_corpus

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "quality_parity.py"


def run_script(args, cwd):
    r = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity")
    corpus = write_two_block_corpus(d / "blocks.h5")
    args = ["--corpus", f"blocks={corpus}", "-k", 4, "--iterations", 6, "--eval-every", 3,
            "--eval-sweeps", 4, "--eval-burn-in", 1, "--systems", "esca,esca optimized,cgs",
            "--iterations-for", "blocks/4/cgs=3", "--out", d / "out"]
    first = run_script(args, d)
    second = run_script(args, d)
    return d / "out", first, second


def test_units_hold_perplexity_and_coherence_curves(parity):
    out, _, _ = parity
    units = {p.stem: json.loads(p.read_text()) for p in (out / "blocks" / "k4").glob("*.json")}
    assert set(units) == {"esca", "esca_optimized", "cgs"}
    for name, e in units.items():
        assert e["status"] == "ok", e
        iters = [p["iteration"] for p in e["curve"]]
        assert iters == ([3] if name == "cgs" else [3, 6])
        secs = [p["seconds"] for p in e["curve"]]
        assert secs == sorted(secs) and secs[0] > 0
        for p in e["curve"]:
            assert 1 < p["perplexity"] < 2 * 300  # V = 300 words
            assert p["u_mass"] < 0
    assert units["esca_optimized"]["runs"][0]["details"]["optimize_interval"] == 10


def test_report_compares_esca_with_cgs(parity):
    out, _, second = parity
    report = json.loads((out / "quality_parity.json").read_text())
    comp = report["comparisons"]["blocks"]["4"]
    rows = report["results"]["blocks"]["4"]
    pe = rows["esca"]["curve"][0]["perplexity"]
    pc = rows["cgs"]["curve"][0]["perplexity"]
    assert comp["at_iteration"] == 3
    assert comp["esca_over_cgs"] == pytest.approx(pe / pc - 1)
    assert set(comp["equal_time"]) == {"esca optimized", "cgs"}
    q = comp["equal_time"]["cgs"]
    assert q["seconds"] == min(rows["esca"]["curve"][-1]["seconds"],
                               rows["cgs"]["curve"][-1]["seconds"])
    md = (out / "quality_parity.md").read_text()
    assert "## blocks" in md and "| 4 | cgs | 3 |" in md
    assert (out / "blocks_k4.png").read_bytes()[:8] == PNG_SIGNATURE
    assert second.stderr.count("done already") == 3  # the rerun trains nothing
