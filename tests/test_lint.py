"""The lint rules of issue 14 are in force: ruff's configuration in pyproject.toml bites, CI runs
it, and test modules share code through tests/helpers.py instead of importing each other.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
needs_ruff = pytest.mark.skipif(RUFF is None, reason="no ruff (pip install -e '.[test]')")

#: A module that breaks each structural rule once.
BAD = '''\
from esca._io import atomic_path


def eleven(a, b, c, d, e, f, g, h, i, j, k):
    import json
    return json, atomic_path, a, b, c, d, e, f, g, h, i, j, k
'''


def _test_modules():
    """The names of the modules in tests/ and tests/scripts/ (test modules, helpers, scripts)."""
    return {p.stem for p in TESTS.rglob("*.py")} - {"helpers", "naive"}


def _imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def test_no_test_module_imports_another():
    """Shared code lives in helpers.py (and naive.py for the kernels' references), fixtures in
    conftest.py; a test module, conftest or a script is never imported."""
    local = _test_modules()
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in sorted(TESTS.rglob("*.py"))
           for line, name in _imported_modules(ast.parse(path.read_text()))
           if name in local]
    assert not bad, "import from tests/helpers.py instead:\n" + "\n".join(bad)


def test_the_check_sees_an_import_of_a_test_module():
    tree = ast.parse("import test_mpi\nfrom conftest import x\nfrom helpers import run\n")
    names = [name for _, name in _imported_modules(tree) if name in _test_modules()]
    assert names == ["test_mpi", "conftest"]


def test_ci_and_make_run_ruff():
    ci = (ROOT / ".ci" / "run").read_text()
    steps = re.findall(r"^make (\w+)$", ci, re.M)
    assert steps.index("lint") < steps.index("test"), steps
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lint: .*\n\t\$\(BIN\)/ruff check \.$", makefile, re.M), makefile
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(r.startswith("ruff") for r in project["project"]["optional-dependencies"]["test"])
    lint = project["tool"]["ruff"]["lint"]
    assert {"E", "F", "I", "B", "UP", "N", "PLC0415", "PLR0913", "PLC2701"} <= set(lint["select"])
    assert lint["pylint"]["max-args"] == 10


def _ruff_on(code, as_path):
    """ruff's rule codes for ``code`` checked as if it were the file ``as_path`` of the repo."""
    r = subprocess.run([RUFF, "check", "--no-cache", "--output-format", "json",
                        "--stdin-filename", as_path, "-"], input=code, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return sorted({f["code"] for f in json.loads(r.stdout)})


@needs_ruff
def test_ruff_flags_the_structural_rules_in_the_product():
    assert _ruff_on(BAD, "cli/bad.py") == ["PLC0415", "PLC2701", "PLR0913"]


@needs_ruff
def test_ruff_exempts_what_pyproject_exempts():
    assert _ruff_on(BAD, "esca/samplers/_kernels.py") == ["PLC0415"]
    assert _ruff_on(BAD, "tests/test_bad.py") == ["PLR0913"]
    kernel = BAD.replace("k):", "k):  # noqa: PLR0913 - a Numba kernel")
    assert _ruff_on(kernel, "cli/bad.py") == ["PLC0415", "PLC2701"]
    field = "def f(K, V):\n    D, N = K, V\n    return D, N\n"  # the field's names
    assert _ruff_on(field, "esca/bad.py") == []


@needs_ruff
def test_ruff_passes_on_tests_and_experiments():
    r = subprocess.run([RUFF, "check", "--no-cache", "tests", "experiments"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
