"""Run ``esca`` under mpiexec with one rank made to fail in the middle of training.

Usage (from tests/test_mpi.py)::

    mpiexec -n 2 python tests/scripts/fail_rank.py FAIL_RANK FAIL_ITERATION train ARGS...

Every rank runs :func:`esca.cli.main.main` with ``train ARGS...``, but on rank
``FAIL_RANK`` the sampler's ``step`` raises ``RuntimeError`` at iteration
``FAIL_ITERATION`` while the other ranks carry on into the count exchange
(an ``Allreduce``). The job must then abort instead of hanging.
"""

import sys

MESSAGE = "injected failure on rank {rank} at iteration {iteration}"


def inject_failure(fail_rank, fail_iteration):
    """Wrap ``ShardSampler.step`` so that rank ``fail_rank`` raises at ``fail_iteration``."""
    from esca.samplers.base import ShardSampler
    step = ShardSampler.step

    def failing_step(self, iteration):
        from mpi4py import MPI
        rank = MPI.COMM_WORLD.Get_rank()
        if rank == fail_rank and iteration == fail_iteration:
            raise RuntimeError(MESSAGE.format(rank=rank, iteration=iteration))
        return step(self, iteration)

    ShardSampler.step = failing_step


def main(argv):
    fail_rank, fail_iteration, *cli_args = argv
    inject_failure(int(fail_rank), int(fail_iteration))
    from esca.cli.main import main as esca_main
    return esca_main(cli_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
