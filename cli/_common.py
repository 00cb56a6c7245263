"""What the subcommands share with the ``esca`` entry point (:mod:`esca.cli.main`).

Subcommand modules import these from here, never from :mod:`esca.cli.main` (which imports
every subcommand to build its parser): no import circle.
"""

import sys

from esca.distributed import get_comm

#: The subcommands that run as one MPI job under ``mpiexec`` (their library calls are
#: collective over ``MPI.COMM_WORLD``). Only these ask MPI for the rank, which imports
#: mpi4py and initializes MPI; every other subcommand never does, and acts as rank 0
#: wherever it runs (under ``mpiexec -n 2`` each process does the whole command).
MPI_COMMANDS = frozenset({"train", "evaluate", "info"})


def process_rank(args):
    """This process's rank in the MPI job, as the communicator tells it.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (its ``command``).

    Returns
    -------
    int
        The rank in ``MPI.COMM_WORLD`` for a subcommand of :data:`MPI_COMMANDS` (0 without
        ``mpiexec``); 0 for every other subcommand, without importing mpi4py.
    """
    if getattr(args, "command", None) not in MPI_COMMANDS:
        return 0
    return get_comm().Get_rank()


def isatty(stream):
    """Whether ``stream`` is a terminal; False for a replaced (no ``isatty``) or closed stream.

    Parameters
    ----------
    stream : file-like
        Usually ``sys.stdout`` or ``sys.stderr``.

    Returns
    -------
    bool
    """
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def show_progress_bar(args):
    """Whether this process draws tqdm progress bars.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (its ``quiet``).

    Returns
    -------
    bool
        True on rank 0 (:func:`process_rank`), without ``--quiet``, when standard error is
        a terminal.
    """
    return (not getattr(args, "quiet", False) and process_rank(args) == 0
            and isatty(sys.stderr))
