"""``esca info``: versions, MPI library, ranks, Numba threading and CPU, for bug reports."""

import argparse
import json

DESCRIPTION = """\
Print what a bug report needs: the versions of esca, Python, numpy, numba,
mpi4py, h5py (and its HDF5), gensim and the other libraries; the MPI library
and the MPI standard it implements; the number of ranks (and how many share
this node); the Numba threading layer actually loaded and its threads, and
the threads per rank that 'esca train' uses by default; the CPU, cores,
memory and OS. Under mpiexec every rank takes part and rank 0 prints, one
line per rank included.

examples:
  esca info
  esca info --json > info.json
  mpiexec -n 2 esca info
"""


def setup_arguments(subparsers):
    """Add the ``info`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("info", help="print versions, MPI, threads and CPU (for bug reports)",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca info``; returns the exit status (0)."""
    from esca.sysinfo import format_info, system_info  # noqa: PLC0415 - imports Numba
    info = system_info()
    if info is not None:
        print(json.dumps(info, indent=2) if args.json else format_info(info), flush=True)
    return 0
