"""Run ``esca ARGS`` under mpiexec with per-rank arguments (a test script, not the product).

Usage (from tests/test_rank_identity.py)::

    mpiexec -n 2 python tests/scripts/rank_args.py train c{rank}.h5 -k 3 ...

Every ``{rank}`` in an argument becomes this process's rank in ``MPI.COMM_WORLD``, so that
each rank opens a different file, as ranks do that read stale node-local copies.
"""

import sys


def main(argv):
    from mpi4py import MPI
    rank = str(MPI.COMM_WORLD.Get_rank())
    from esca.cli.main import main as esca_main
    return esca_main([a.replace("{rank}", rank) for a in argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
