"""Run ``esca ARGS`` under mpiexec with per-rank arguments (a test script, not the product).

Usage (from tests/test_rank_identity.py)::

    mpiexec -n 2 python tests/scripts/rank_args.py train c{rank}.h5 -k 3 ...

Every ``{rank}`` in an argument becomes this process's rank, read from the launcher's
environment (MPICH/Hydra ``PMI_RANK``, Open MPI ``OMPI_COMM_WORLD_RANK``, PMIx
``PMIX_RANK``), so that each rank opens a different file, as ranks do that read stale
node-local copies.
"""

import os
import sys


def main(argv):
    rank = next((os.environ[v] for v in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
                 if v in os.environ), "0")
    from esca.cli.main import main as esca_main
    return esca_main([a.replace("{rank}", rank) for a in argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
