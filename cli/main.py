"""The ``esca`` command: parses arguments and hands each subcommand to a plain function.

A user error (:class:`esca.UserError`) becomes one line ``esca: error: ...``
on standard error, printed once by rank 0, and exit status 2; ``--debug``
shows the traceback. An output that could not be written (a full disk:
:class:`esca.errors.WriteError`) is reported the same way with exit status 74
(``EX_IOERR``). A training run stopped by SIGTERM or SIGINT
(:class:`esca.errors.Interrupted`) prints ``esca: stopped: ...`` and exits with 75. Any
other exception on any rank prints its traceback
and aborts the whole MPI job, so that no rank hangs in a collective. When
standard output is a pipe closed early (``esca topics m.h5 | head``) the
command stops quietly with status 141 (128 + SIGPIPE, what a shell reports
for ``ls | head``): no traceback, no message. A misspelled option or command
shows the usage of the subcommand it was given to and, when one is close
(:func:`difflib.get_close_matches`), ``did you mean '--iterations'?``; exit
status 2, as every argparse error.

The rank is the communicator's (:func:`esca.cli._common.process_rank`): the subcommands
that run as an MPI job (train, evaluate, info) ask ``MPI.COMM_WORLD``; the others never
initialize MPI and are rank 0.

Logging and progress: the library logs through :mod:`logging` only; here the
``esca`` logger gets one handler writing bare messages to standard output,
at INFO on rank 0 and WARNING on the other ranks and with ``--quiet``
(accepted before or after the subcommand). Long commands (train, prepare,
infer) draw tqdm bars on standard error when :func:`show_progress_bar` says
so (rank 0, no ``--quiet``, standard error a terminal) and log plain lines
otherwise (see :mod:`esca.progress`); while bars may be drawn and standard
output is a terminal too, log lines go through ``tqdm.write`` so that they
appear above the bar instead of breaking it.

Signals outside training: SIGTERM (a scheduler's time limit, ``kill``) raises
:class:`Terminated` like SIGINT raises KeyboardInterrupt, so that the atomic writers
remove their temporary files and folders before the command ends; it prints
``esca: stopped by SIGTERM ...`` and exits with 143 (128 + SIGTERM; SIGINT: 130).
Temporaries that a SIGKILL leaves are removed by the next write into the same folder
(:func:`esca._io.remove_stale_temporaries`). ``esca train`` handles both signals itself
while it trains (status 75, see :class:`esca.errors.Interrupted`).

Every status above comes from one policy, :func:`esca.errors.exit_status`, which the bench
worker (``python -m esca._bench_worker``, which cannot import ``cli``) shares.
"""

import argparse
import contextlib
import difflib
import logging
import os
import re
import signal
import sys
import threading
import traceback

from tqdm.contrib.logging import logging_redirect_tqdm

from esca.distributed import abort_job
from esca.errors import Interrupted, Terminated, UserError, exit_status

from . import bench, corpora, evaluate, export, infer, info, label, plot, prepare, topics, train
from ._common import isatty, process_rank, show_progress_bar


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises():
    """While the command runs, SIGTERM raises :class:`Terminated` (restored afterwards)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)

EPILOG = """\
examples:
  esca corpora fetch kos --holdout 0.1
  mpiexec -n 2 esca train ~/.cache/esca/kos/kos.h5 -k 50 -n 1000 --out kos.h5
  esca topics kos.h5
  esca evaluate kos.h5 ~/.cache/esca/kos/kos.test.h5
  esca plot kos.h5 --out plots/
  esca export kos.h5 --format pyldavis --out kos.html
  esca info

'esca COMMAND --help' shows each command's options and examples. Exit status: 0 done,
1 a bug (traceback), 2 bad input (one line), 74 an output could not be written (a full
disk; one line naming the file), 75 training stopped by SIGTERM/SIGINT (resume it), 130/143
another command stopped by SIGINT/SIGTERM (its temporary files removed), 141 standard
output closed early (as 'esca topics m.h5 | head'; nothing printed).
"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors suggest the option or command meant ("did you mean").

    A subcommand's parser reports an unknown option itself, with its own usage
    (argparse would leave it to the top-level parser, whose usage is ``esca
    [-h] ... COMMAND``).
    """

    _subcommand = False  # True on the parsers of subcommands (set by build_parser)

    def parse_known_args(self, args=None, namespace=None):
        """Parse as argparse does; unknown options of a subcommand are reported with its usage."""
        ns, extras = super().parse_known_args(args, namespace)
        if extras and self._subcommand:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return ns, extras

    def error(self, message):
        """Exit 2 with ``message``, the usage and a 'did you mean' suggestion where one is close."""
        guess = None
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            for arg in m.group(1).split():
                if arg.startswith("--"):
                    close = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1)
                    if close:
                        guess = close[0]
                        break
        m = re.match(r"argument .*: invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            close = difflib.get_close_matches(m.group(1), choices, n=1)
            guess = close[0] if close else None
        if guess:
            message = f"{message}; did you mean '{guess}'?"
        super().error(message)


def build_parser():
    """The argument parser with every subcommand."""
    p = _Parser(
        prog="esca", description="Parallel LDA topic models with the ESCA sampler "
        "(run under 'mpiexec -n R esca train ...' for R MPI ranks).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="log warnings and errors only: no progress bars or log lines")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in (prepare, corpora, train, topics, label, export, plot, evaluate, infer, bench, info):
        mod.setup_arguments(sub)
    _add_quiet(sub)
    _mark_subcommands(p)
    return p


def _mark_subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child._subcommand = True
                _mark_subcommands(child)


def _add_quiet(sub):
    """Accept ``--quiet``/``-q`` after the subcommand too (``esca train ... -q``).

    SUPPRESS as the default keeps the subcommand from overwriting a ``--quiet``
    given before it; a subcommand that defines its own option is left alone.
    """
    for parser in dict.fromkeys(sub.choices.values()):
        flags = [f for f in ("--quiet", "-q") if f not in parser._option_string_actions]
        if "--quiet" in flags:
            parser.add_argument(*flags, dest="quiet", action="store_true",
                                default=argparse.SUPPRESS,
                                help="log warnings and errors only (same as 'esca --quiet')")


class _StdoutHandler(logging.StreamHandler):
    """A handler of standard output that lets a closed pipe stop the command (logging would
    print a "--- Logging error ---" traceback per line and go on)."""

    def handleError(self, record):  # noqa: N802 - overrides logging.Handler.handleError
        """A closed pipe stops the command quietly instead of logging's traceback."""
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            raise sys.exc_info()[1]
        super().handleError(record)


def _configure_logging(quiet, rank):
    level = logging.WARNING if quiet or rank != 0 else logging.INFO
    handler = _StdoutHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("esca")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _bar_safe_logging(args):
    """While bars may be drawn on the terminal that also shows standard output, log lines of
    ``esca`` go through ``tqdm.write`` (which clears the bar, writes, and redraws it)."""
    if not (show_progress_bar(args) and isatty(sys.stdout)):
        return contextlib.nullcontext()
    return logging_redirect_tqdm(loggers=[logging.getLogger("esca")])


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    rank = process_rank(args)
    _configure_logging(args.quiet, rank)
    try:
        with _sigterm_raises(), _bar_safe_logging(args):
            status = args.func(args) or 0
        sys.stdout.flush()  # here, so that a closed pipe is seen below and not at exit
        return status
    except BrokenPipeError as e:
        _silence_stdout()
        abort_job(exit_status(e))
        return exit_status(e)
    except UserError as e:
        if args.debug:
            traceback.print_exc()
        if rank == 0:
            print(f"esca: error: {e}", file=sys.stderr, flush=True)
        return exit_status(e)
    except Interrupted as e:
        if rank == 0:
            print(f"esca: stopped: {e}", file=sys.stderr, flush=True)
        return exit_status(e)
    except Terminated as e:
        if rank == 0:
            print(f"esca: stopped by SIGTERM; temporary files removed, earlier outputs kept "
                  f"(exit status {exit_status(e)})", file=sys.stderr, flush=True)
        abort_job(exit_status(e))
        return exit_status(e)
    except KeyboardInterrupt as e:
        return exit_status(e)
    except Exception as e:
        traceback.print_exc()
        sys.stderr.flush()
        abort_job(exit_status(e), f"esca: rank {rank} failed; aborting the MPI job")
        return exit_status(e)


def _silence_stdout():
    """Point standard output at /dev/null, so that Python's flush at exit does not fail again
    on the closed pipe (the advice of the Python docs on SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
