"""What the subcommands share with the ``esca`` entry point (:mod:`esca.cli.main`).

Subcommand modules import these from here, never from :mod:`esca.cli.main` (which imports
every subcommand to build its parser): no import circle.
"""

import os
import sys

#: The environment variables through which MPI launchers (MPICH/Hydra, Open MPI, PMIx) give
#: each process its rank.
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


def process_rank():
    """This process's MPI rank, without initializing MPI.

    Returns
    -------
    int
        The rank that the MPI launcher set in the environment (:data:`RANK_VARIABLES`),
        0 when the command was not started by a launcher.
    """
    for var in RANK_VARIABLES:
        if var in os.environ:
            return int(os.environ[var])
    return 0


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
        True on rank 0, without ``--quiet``, when standard error is a terminal.
    """
    return not getattr(args, "quiet", False) and process_rank() == 0 and isatty(sys.stderr)
