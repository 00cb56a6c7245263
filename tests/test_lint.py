"""The lint rules of issue 14 are in force: ruff's configuration in pyproject.toml bites, CI runs
it, no module imports another module's ``_private`` names, and test modules share code through
tests/helpers.py instead of importing each other.
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
#: The folders of the installed packages (pyproject.toml's package-dir).
PACKAGES = {"esca": ROOT / "esca", "esca.cli": ROOT / "cli", "esca.corpora": ROOT / "corpora"}
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
needs_ruff = pytest.mark.skipif(RUFF is None, reason="no ruff (pip install -e '.[test]')")

#: A module that breaks each structural rule of ruff once.
BAD = '''\
def eleven(a, b, c, d, e, f, g, h, i, j, k):
    import json
    return json, a, b, c, d, e, f, g, h, i, j, k
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
    assert {"E", "F", "I", "B", "UP", "N", "PLC0415", "PLR0913"} <= set(lint["select"])
    assert lint["pylint"]["max-args"] == 10


def _module_name(path):
    """``esca.cli.main`` for cli/main.py and so on; a package's ``__init__`` is the package."""
    for package, folder in PACKAGES.items():  # sibling folders, none inside another
        if path.is_relative_to(folder):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return ".".join((package, *parts))
    return None


def _is_module(dotted):
    """Whether ``dotted`` (``esca.samplers._kernels``) is a module or package of ours."""
    for package, folder in sorted(PACKAGES.items(), key=lambda p: -len(p[0])):
        if dotted == package or dotted.startswith(package + "."):
            rest = dotted[len(package):].lstrip(".").split(".") if dotted != package else []
            target = folder.joinpath(*rest)
            return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()
    return False


def private_imports(path, tree):
    """``(file, module, name)`` of each ``from module import _name`` in ``path`` where ``_name``
    is not a module: a function, class or constant that its module keeps to itself. Private
    modules (esca._io, esca._checks, esca.samplers._kernels) are the package's own, shared."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module
        for a in node.names:
            private = a.name.startswith("_") and not a.name.startswith("__")
            if private and module != here and not _is_module(f"{module}.{a.name}"):
                out.append((path.relative_to(ROOT).as_posix(), module, a.name))
    return out


def _product_files():
    return sorted(p for folder in PACKAGES.values() for p in folder.rglob("*.py"))


def test_no_private_names_imported_across_modules():
    found = sorted(hit for path in _product_files()
                   for hit in private_imports(path, ast.parse(path.read_text())))
    assert not found, ("make these public in the module that owns them (or move them to the "
                       "module lower in the data flow that both use):\n"
                       + "\n".join(f"{f}: from {m} import {n}" for f, m, n in found))


def test_the_private_import_check_sees_relative_and_absolute_imports():
    code = ("from .corpus import _attr, read_corpus\nfrom esca.train import _set_threads\n"
            "from . import _checks\nfrom .samplers import _kernels\n"
            "from esca._io import atomic_path\n")
    hits = private_imports(ROOT / "esca" / "model.py", ast.parse(code))
    assert hits == [("esca/model.py", "esca.corpus", "_attr"),
                    ("esca/model.py", "esca.train", "_set_threads")]
    hits = private_imports(ROOT / "cli" / "train.py", ast.parse("from ._common import x\n"
                                                              "from .main import _one\n"))
    assert hits == [("cli/train.py", "esca.cli.main", "_one")]


def _ruff_on(code, as_path):
    """ruff's rule codes for ``code`` checked as if it were the file ``as_path`` of the repo."""
    r = subprocess.run([RUFF, "check", "--no-cache", "--output-format", "json",
                        "--stdin-filename", as_path, "-"], input=code, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return sorted({f["code"] for f in json.loads(r.stdout)})


@needs_ruff
def test_ruff_flags_the_structural_rules_in_the_product():
    assert _ruff_on(BAD, "cli/bad.py") == ["PLC0415", "PLR0913"]


@needs_ruff
def test_ruff_exempts_what_pyproject_exempts():
    assert _ruff_on(BAD, "esca/samplers/_kernels.py") == ["PLC0415"]
    assert _ruff_on(BAD, "tests/test_bad.py") == ["PLR0913"]
    kernel = BAD.replace("k):", "k):  # noqa: PLR0913 - a Numba kernel")
    assert _ruff_on(kernel, "cli/bad.py") == ["PLC0415"]
    field = "def f(K, V):\n    D, N = K, V\n    return D, N\n"  # the field's names
    assert _ruff_on(field, "esca/bad.py") == []


@needs_ruff
def test_ruff_passes_on_tests_and_experiments():
    r = subprocess.run([RUFF, "check", "--no-cache", "tests", "experiments"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
