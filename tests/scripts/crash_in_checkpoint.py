"""Run ``esca`` with the checkpoint of one iteration killing its process half-written.

Usage (from tests/test_checkpoint.py and tests/test_faults.py)::

    [mpiexec -n 2] python tests/crash_in_checkpoint.py ITERATION train ARGS...

Every process runs :func:`esca.cli.main.main` with ``train ARGS...``, but the process that
writes ``checkpoint-ITERATION.h5`` (rank 0) kills itself with SIGKILL inside the write: after
the temporary file is created and before it is renamed, as a crash or an out-of-memory kill
would. The fault is injected here, by wrapping :func:`esca._io.atomic_h5` as
:mod:`esca.checkpoint` uses it; the product has no hook for it.
"""

import contextlib
import os
import signal
import sys


def crash_in_checkpoint(iteration):
    """Make the write of ``checkpoint-ITERATION.h5`` SIGKILL its own process half-way."""
    from esca import checkpoint
    real = checkpoint.atomic_h5
    doomed = os.path.basename(checkpoint.checkpoint_path("", iteration))

    @contextlib.contextmanager
    def atomic_h5(path):
        with real(path) as f:
            if os.path.basename(path) == doomed:
                f.create_dataset("z", data=[0])  # some of it written (in memory), then gone
                os.kill(os.getpid(), signal.SIGKILL)
            yield f

    checkpoint.atomic_h5 = atomic_h5


def main(argv):
    iteration, *cli_args = argv
    crash_in_checkpoint(int(iteration))
    from esca.cli.main import main as esca_main
    return esca_main(cli_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
