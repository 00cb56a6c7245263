"""``--help`` of every ``esca`` command shows examples, and every example parses.

The commands are read from :func:`esca.cli.main.build_parser` (the choices of each
subparsers action, nested ones such as ``esca corpora fetch`` included), so a new command
is covered without editing this file. For each command's help:

* it has an examples section: a line ``examples:`` or ``example:`` followed by at least one
  line that starts with two spaces and ``esca `` or ``mpiexec ``;
* every command line of the help (the examples sections, and other indented lines that
  start with ``esca COMMAND`` or ``mpiexec ... esca COMMAND`` for a real COMMAND, such as
  the checkpoint examples of ``esca train --help``; not prose like ``esca 1r x 1t, ...``)
  parses: continuations (``\\`` at the end of a line) are joined,
  the line is cut at a shell pipe or redirection (``|``, ``>``), a ``#`` comment or a
  remark in parentheses after two spaces, split with :mod:`shlex`, and the words after
  ``esca`` go to ``build_parser().parse_args`` without a ``SystemExit``. An example that
  names a removed or renamed option or command fails here.

The help is formatted in-process (``format_help()``); one real ``python -m esca train
--help`` checks that the command line prints the same examples.
"""

import os
import re
import subprocess
import sys

import pytest

from esca.cli.main import build_parser

from helpers import cli_commands, esca_argv, joined_lines, parse_error, subparsers

HEADINGS = ("examples:", "example:")
COMMAND_START = re.compile(r"^  +(esca|mpiexec) ")


def example_sections(text):
    """The lines (continuations joined) of each ``examples:`` section of a help text."""
    sections, cur = [], None
    for ln in joined_lines(text.splitlines()):
        if ln.strip().lower() in HEADINGS and not ln.startswith(" "):
            cur = []
            sections.append(cur)
        elif cur is not None:
            if not ln.strip() or not ln.startswith(" "):
                cur = None
            else:
                cur.append(ln)
    return sections


def command_lines(text):
    """Every indented ``esca ...``/``mpiexec ... esca ...`` line of a help text, joined."""
    return [ln.strip() for ln in joined_lines(text.splitlines()) if COMMAND_START.match(ln)]


COMMANDS = list(cli_commands())
IDS = [" ".join(("esca",) + words) for words, _ in COMMANDS]


def test_every_command_is_found():
    names = {" ".join(w) for w, _ in COMMANDS}
    assert {"", "train", "export", "plot", "corpora", "corpora list", "corpora fetch",
            "info"} <= names


@pytest.mark.parametrize("words, parser", COMMANDS, ids=IDS)
def test_help_has_examples(words, parser):
    sections = example_sections(parser.format_help())
    lines = [ln for s in sections for ln in s if COMMAND_START.match(ln)]
    assert lines, f"'{' '.join(('esca',) + words)} --help' has no examples section " \
                  "('examples:' followed by '  esca ...' lines)"


def _looks_like_a_command(argv):
    return bool(argv) and (argv[0] in subparsers(build_parser()) or argv[0].startswith("-"))


@pytest.mark.parametrize("words, parser", COMMANDS, ids=IDS)
def test_help_examples_parse(words, parser):
    text = parser.format_help()
    examples = [ln.strip() for s in example_sections(text) for ln in s
                if COMMAND_START.match(ln)]
    others = [ln for ln in command_lines(text) if _looks_like_a_command(esca_argv(ln))]
    bad = []
    for line in dict.fromkeys(examples + others):
        argv = esca_argv(line)
        if argv is None:  # mpiexec of something else
            continue
        error = parse_error(argv)
        if error is not None:
            bad.append(f"{line}\n    -> {argv} {error}")
    assert not bad, "examples that do not parse:\n" + "\n".join(bad)


@pytest.mark.parametrize("words, parser", [c for c in COMMANDS if c[0]], ids=IDS[1:])
def test_help_examples_show_the_command(words, parser):
    """A command's examples include the command itself (not only other commands)."""
    mine = [ln for s in example_sections(parser.format_help()) for ln in s
            if COMMAND_START.match(ln) and (esca_argv(ln) or [])[:len(words)] == list(words)]
    assert mine, f"'esca {' '.join(words)} --help' has no example of 'esca {' '.join(words)}'"


def test_the_helpers():
    text = ("usage: x\n\nexamples:\n  esca train c.h5 -k 5 \\\n      --out m.h5   # note\n"
            "  mpiexec -n 2 esca info | tee i.txt\n\nmore:\n  esca topics m.h5 > t.txt\n"
            "  esca train -k 2  (a remark)\n")
    assert example_sections(text) == [["  esca train c.h5 -k 5 --out m.h5   # note",
                                       "  mpiexec -n 2 esca info | tee i.txt"]]
    assert [esca_argv(ln) for ln in command_lines(text)] == [
        ["train", "c.h5", "-k", "5", "--out", "m.h5"], ["info"], ["topics", "m.h5"],
        ["train", "-k", "2"]]
    assert parse_error(["train", "-k", "2"]) is None
    assert "unrecognized arguments" in parse_error(["train", "--no-such-option"])
    assert parse_error(["no-such-command"]) is not None


def test_train_help_from_the_command_line():
    """A real ``python -m esca train --help``: exit 0 and the examples of format_help()."""
    env = {**os.environ, "COLUMNS": "80"}
    r = subprocess.run([sys.executable, "-m", "esca", "train", "--help"], capture_output=True,
                       text=True, timeout=120, check=False, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: esca train")
    train = {w: p for w, p in COMMANDS}[("train",)]
    assert example_sections(r.stdout)
    assert example_sections(r.stdout) == example_sections(train.format_help())
