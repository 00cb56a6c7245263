"""Every option of every ``esca`` command that has a default says what it is in its help.

An option whose argparse default is not None, False or SUPPRESS (a number, a string, a
list) must mention ``default`` in its help text; so must options whose help has no text at
all when they have a default. The commands are read from ``build_parser()`` (nested ones
included), so a new option is checked without editing this file.
"""

import argparse

import pytest

from helpers import cli_commands

#: Actions whose default is implied: help, version, subcommands, and --no-X flags (True).
SKIP = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction,
        argparse._StoreFalseAction)


def _undocumented_defaults():
    bad = []
    for words, parser in cli_commands():
        for action in parser._actions:
            if isinstance(action, SKIP) or action.help == argparse.SUPPRESS:
                continue
            if action.default in (None, False, argparse.SUPPRESS) or action.required:
                continue
            if isinstance(action, argparse._StoreConstAction) and action.default == 0:
                continue
            if "default" not in (action.help or "").lower():
                name = "/".join(action.option_strings) or action.dest
                bad.append(f"esca {' '.join(words)} {name} (default {action.default!r}): "
                           f"{action.help!r}")
    return bad


def test_every_default_is_stated_in_the_help():
    bad = _undocumented_defaults()
    assert not bad, "help without its default:\n" + "\n".join(bad)


@pytest.mark.parametrize("words, text", [
    (("topics",), "default 10"),
    (("export",), "default gensim"),
    (("train",), "default 10"),  # --top
])
def test_named_defaults(words, text):
    parser = dict(cli_commands())[words]
    assert text in " ".join(parser.format_help().split()), parser.format_help()
