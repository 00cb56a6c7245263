"""What a benchmark result carries about where it ran: git revision, library versions,
machine."""

import os
import platform
import subprocess
import sys
from importlib import metadata

from .._version import __version__


def git_revision():
    """(``git rev-parse HEAD``, whether tracked files differ from it) of the esca source tree;
    (None, None) when it is not a git checkout or git is missing."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def git(*args):
        try:
            r = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                               timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if sha else None
    return sha, None if status is None else bool(status)


def library_versions():
    """Versions of Python, esca, the libraries it uses and the peers (None: not installed).

    ``mpi_library`` is the first line of :func:`esca.distributed.mpi_library`'s ``library``
    (``MPI_Get_library_version``), asked in a child process so that this one does not
    initialise MPI.
    """
    v = {"python": platform.python_version(), "esca": __version__}
    for pkg in ("numpy", "numba", "mpi4py", "mpich", "h5py", "scipy", "gensim", "tomotopy",
                "lda", "scikit-learn", "matplotlib"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = None
    r = subprocess.run([sys.executable, "-c",
                        "from esca.distributed import mpi_library; "
                        "print(mpi_library()['library'])"],
                       capture_output=True, text=True, check=False)
    lines = r.stdout.strip().splitlines() if r.returncode == 0 else []
    v["mpi_library"] = " ".join(lines[0].split()) if lines else None
    return v


def machine_info():
    """Platform, CPU model, logical cores and total memory (bytes) of this machine."""
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f
                        if ln.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        memory = None
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_model": cpu,
            "cores": os.cpu_count(), "memory_bytes": memory}
