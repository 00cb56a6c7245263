"""The distribution is ``esca-lda``: on PyPI, ``esca`` is an unrelated chess library (issue 12)."""

import importlib.metadata
import pathlib
import re

import esca

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_installed_distribution_is_esca_lda_and_provides_the_esca_package():
    dist = importlib.metadata.distribution("esca-lda")
    assert dist.version == esca.__version__
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    assert scripts == {"esca": "esca.cli.main:main"}


def test_no_message_or_doc_tells_users_to_install_the_chess_library():
    # 'pip install esca', 'pip install "esca[viz]"', "esca[bench]" ... anywhere users read.
    bad = re.compile(r"""pip install\s+(-U\s+)?['"]?esca(\[|['"\s]|$)|['"]esca\[""", re.M)
    hits = []
    for path in [ROOT / "README.md", ROOT / "Makefile", *ROOT.glob("docs/**/*.md"),
                 *ROOT.glob("esca/**/*.py"), *ROOT.glob("cli/*.py"), *ROOT.glob("corpora/*.py"),
                 *ROOT.glob("experiments/*")]:
        if path.is_file():
            text = path.read_text(errors="replace")
            hits += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in bad.finditer(text)]
    assert not hits, hits
