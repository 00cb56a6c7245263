"""Every ``esca`` command's ``--help`` has examples, and every example's esca command parses.

Commands are found from the parser itself, so a new command is covered without editing
this file; an example that names a removed or renamed option fails here.
"""

import argparse
import shlex
import subprocess
import sys

import pytest

from esca.cli.main import build_parser


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _commands(parser=None, prefix=()):
    """(words, parser) of every command and nested command (e.g. corpora fetch)."""
    parser = parser or build_parser()
    for name, sub in _subparsers(parser).items():
        nested = _subparsers(sub)
        if nested:
            yield from _commands(sub, (*prefix, name))
        yield (*prefix, name), sub


def _example_lines(text):
    """The esca command lines of the help's examples section(s), continuations joined."""
    lines, keep, out = text.splitlines(), False, []
    for ln in lines:
        if ln.strip().lower() in ("examples:", "example:") or ln.startswith("examples:"):
            keep = True
            continue
        if keep and ln and not ln.startswith(" "):
            keep = False
        if keep and ln.strip():
            out.append(ln.strip())
    joined, cur = [], ""
    for ln in out:
        cur = f"{cur} {ln.rstrip(chr(92)).strip()}" if cur else ln.rstrip(chr(92)).strip()
        if not ln.endswith("\\"):
            joined.append(cur)
            cur = ""
    return joined


COMMANDS = list(_commands())


@pytest.mark.parametrize("words, parser", COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_help_has_examples_that_parse(words, parser):
    examples = _example_lines(parser.format_help())
    mine = [e for e in examples
            if (e.split("esca ", 1) + [""])[1].split()[:len(words)] == list(words)
            and ("esca " in e)]
    assert mine, f"'esca {' '.join(words)} --help' has no example of itself:\n{examples}"
    for line in examples:
        if "esca " not in line:
            continue
        cmd = line.split("esca ", 1)[1]
        for cut in ("|", ">", "#", "  ("):  # shell pipes, redirections, comments, remarks
            cmd = cmd.split(cut, 1)[0]
        try:
            build_parser().parse_args(shlex.split(cmd))
        except SystemExit as e:  # argparse's way of refusing
            pytest.fail(f"example does not parse (exit {e.code}): {line}")


def test_top_level_help_examples_parse():
    for line in _example_lines(build_parser().format_help()):
        build_parser().parse_args(shlex.split(line.split("esca ", 1)[1]))


def test_help_from_the_command_line():
    r = subprocess.run([sys.executable, "-m", "esca", "train", "--help"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0 and "examples:" in r.stdout and "--log-every" in r.stdout
