"""The ``esca`` command: parses arguments and hands each subcommand to a plain function.

A user error (:class:`esca.UserError`) becomes one line ``esca: error: ...``
on standard error, printed once by rank 0, and exit status 2; ``--debug``
shows the traceback. A training run stopped by SIGTERM or SIGINT
(:class:`esca.errors.Interrupted`) prints ``esca: stopped: ...`` and exits with 75. Any other exception on any rank prints its traceback
and aborts the whole MPI job, so that no rank hangs in a collective.
"""

import argparse
import logging
import os
import sys
import traceback

from esca.errors import EXIT_INTERRUPTED, Interrupted, UserError

EXIT_USER_ERROR = 2
EXIT_BUG = 1


def build_parser():
    """The argument parser with every subcommand."""
    from . import bench, evaluate, export, info, infer, prepare, topics, train
    p = argparse.ArgumentParser(
        prog="esca", description="Parallel LDA topic models with the ESCA sampler "
        "(run under 'mpiexec -n R esca train ...' for R MPI ranks).")
    p.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    p.add_argument("--quiet", "-q", action="store_true", help="log warnings only")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in (prepare, train, topics, export, evaluate, infer, bench, info):
        mod.setup_arguments(sub)
    return p


def _rank():
    """This process's MPI rank, without initializing MPI if it is not already loaded."""
    for var in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def _configure_logging(quiet, rank):
    level = logging.WARNING if quiet or rank != 0 else logging.INFO
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("esca")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    rank = _rank()
    _configure_logging(args.quiet, rank)
    try:
        return args.func(args) or 0
    except UserError as e:
        if args.debug:
            traceback.print_exc()
        if rank == 0:
            print(f"esca: error: {e}", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR
    except Interrupted as e:
        if rank == 0:
            print(f"esca: stopped: {e}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        if "mpi4py.MPI" in sys.modules:
            from mpi4py import MPI
            if MPI.Is_initialized() and MPI.COMM_WORLD.Get_size() > 1:
                print(f"esca: rank {rank} failed; aborting the MPI job", file=sys.stderr,
                      flush=True)
                MPI.COMM_WORLD.Abort(EXIT_BUG)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
