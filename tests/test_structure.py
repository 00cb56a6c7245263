"""Import arrows follow the data flow (issue 14, "Shape of the code" in the style guide).

Read from the source with :mod:`ast` (nothing is imported), relative imports resolved to
the installed names (``cli/`` is ``esca.cli``, ``corpora/`` is ``esca.corpora``):

* no module of the library, the command line or the corpora asks :mod:`esca` (its
  ``__init__``, which imports most of them) for ``__version__``: they import it from
  ``esca._version``;
* no module imports ``esca.cli.main`` (but ``python -m esca``'s ``esca/__main__.py``), the
  entry point that imports every subcommand:
  what subcommands share with it lives in ``esca.cli._common`` (no import circle);
* the scripts in ``experiments/`` use public names of esca only: no ``_private`` module,
  function or attribute of esca.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: source folder -> the package it is installed as (pyproject.toml's package-dir)
PACKAGES = {"esca": "esca", "cli": "esca.cli", "corpora": "esca.corpora"}


def _modules():
    """(path, dotted package of the module, parsed tree) of every module of esca."""
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            pkg = ".".join([package, *parts[:-1]])
            yield path, pkg, ast.parse(path.read_text(), str(path))


def _imports(tree, pkg):
    """(module, name or None, line) for each import: ``from M import n`` gives (M, n),
    ``import M`` gives (M, None); relative modules resolved against package ``pkg``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                yield module, alias.name, node.lineno


def _version_from_init(path, pkg, tree):
    bad = [f"{path.relative_to(ROOT)}:{line}" for module, name, line in _imports(tree, pkg)
           if module == "esca" and name == "__version__"]
    bound = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names if a.name == "esca"}
    bad += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr == "__version__"
            and isinstance(n.value, ast.Name) and n.value.id in bound]
    return bad


def test_no_module_asks_the_esca_package_for_its_version():
    bad = [hit for m in _modules() if m[0] != ROOT / "esca" / "__init__.py"
           for hit in _version_from_init(*m)]
    assert not bad, f"import __version__ from esca._version instead: {bad}"
    import esca
    from esca._version import __version__
    assert esca.__version__ == __version__


def _imports_cli_main(path, pkg, tree):
    return [f"{path.relative_to(ROOT)}:{line}" for module, name, line in _imports(tree, pkg)
            if module == "esca.cli.main" or module.startswith("esca.cli.main.")
            or (module == "esca.cli" and name == "main")]


def test_no_module_imports_the_cli_entry_point():
    # esca/__main__.py is the other entry point (python -m esca): it runs main().
    bad = [hit for m in _modules() if m[0] != ROOT / "esca" / "__main__.py"
           for hit in _imports_cli_main(*m)]
    assert not bad, f"import from esca.cli._common instead of esca.cli.main: {bad}"


def _private(dotted):
    return any(p.startswith("_") and not p.startswith("__") for p in dotted.split("."))


def _private_esca_names(path, tree):
    """``path:line name`` of each private esca name a script imports or reads."""
    bad, esca_names = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "esca":
                    esca_names.add(a.asname or a.name.split(".")[0])
                    if _private(a.name):
                        bad.append(f"{path.name}:{node.lineno} {a.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "esca":
            for a in node.names:
                esca_names.add(a.asname or a.name)
                if _private(f"{node.module}.{a.name}"):
                    bad.append(f"{path.name}:{node.lineno} {node.module}.{a.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, (ast.Name, ast.Attribute))):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in esca_names:
                bad.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return bad


SCRIPTS = sorted((ROOT / "experiments").glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_experiments_use_public_names_of_esca_only(path):
    assert not _private_esca_names(path, ast.parse(path.read_text(), str(path)))


def test_the_checks_catch_what_they_look_for():
    # The checks themselves, on the shapes of imports that the code had before issue 14.
    tree = ast.parse("from . import __version__\nimport esca\nv = esca.__version__\n")
    assert len(_version_from_init(ROOT / "esca" / "x.py", "esca", tree)) == 2
    tree = ast.parse("from .. import __version__\n")
    assert _version_from_init(ROOT / "cli" / "x.py", "esca.cli", tree)
    tree = ast.parse("from .._version import __version__\n")
    assert not _version_from_init(ROOT / "cli" / "x.py", "esca.cli", tree)
    tree = ast.parse("def f():\n    from .main import show_progress_bar\n")
    assert _imports_cli_main(ROOT / "cli" / "x.py", "esca.cli", tree)
    tree = ast.parse("from esca.cli import main\n")
    assert _imports_cli_main(ROOT / "tests" / "x.py", "esca", tree)
    assert not _imports_cli_main(ROOT / "cli" / "x.py", "esca.cli",
                                 ast.parse("from ._common import show_progress_bar\n"))
    for src in ("from esca.bench import _figure\n",
                "from esca.samplers import _kernels as kern\n",
                "import esca.samplers._kernels\n",
                "from esca import bench\nbench._split(1)\n",
                "import esca\nesca.bench._save(1)\n"):
        assert _private_esca_names(pathlib.Path("x.py"), ast.parse(src)), src
    assert not _private_esca_names(pathlib.Path("x.py"), ast.parse(
        "import esca, numpy as np\nnp._x\nprint(esca.__version__)\n"
        "from esca.samplers import kernels\n"))


def test_importing_esca_does_not_import_numba():
    """``esca train --threads T`` sets NUMBA_NUM_THREADS after ``import esca`` (cli/train.py),
    and Numba reads it once, when it is first imported: so ``import esca`` and the command
    line's modules must not import Numba (the kernels' modules load on first use)."""
    code = ("import sys, esca, esca.cli.main; "
            "sys.exit('numba imported by: import esca' if 'numba' in sys.modules else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


def test_help_and_topics_load_no_slow_package(tmp_path):
    """The command line's modules import the library at their top, but what is slow or starts
    something (Numba, gensim, matplotlib, scikit-learn, pandas, mpi4py) only where it is used:
    ``esca --help`` (the parser of every subcommand) and ``esca topics`` load none of them."""
    code = ("import sys, numpy as np, esca\n"
            "from esca.cli.main import build_parser, main\n"
            "n = np.arange(12, dtype=np.int32).reshape(2, 6)\n"
            "esca.TopicModel(n, n.sum(1), None, list('abcdef'), [0.1, 0.1], 0.01,\n"
            "                esca.TrainConfig(num_topics=2, iterations=1)).save(sys.argv[1])\n"
            "build_parser().format_help()\n"
            "assert main(['topics', sys.argv[1]]) == 0\n"
            "slow = ('numba', 'gensim', 'matplotlib', 'sklearn', 'pandas', 'mpi4py')\n"
            "sys.exit(' '.join(m for m in slow if m in sys.modules) or None)\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.h5")], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, f"loaded: {r.stderr}"
