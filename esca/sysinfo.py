"""What a bug report needs: versions, MPI library, ranks, Numba threading, CPU (``esca info``)."""

import os
import platform
import socket
import sys

import h5py
import llvmlite.binding as llvm
import numba
import numpy as np

from . import distributed
from ._version import __version__


@numba.njit(parallel=True, cache=True)
def _touch_threads(n):
    """A trivial ``prange`` loop, run once so that Numba loads its threading layer."""
    s = 0
    for i in numba.prange(n):
        s += i
    return s


def _version(module):
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return getattr(mod, "__version__", "unknown")


def _cpu_model():
    """The CPU's marketing name from /proc/cpuinfo (Linux), else :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def _rank_info(comm):
    """This rank's host, pid, usable cores, Numba threads and ``esca train``'s default threads."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return {"host": socket.gethostname(), "pid": os.getpid(), "cores": cores,
            "numba_threads": numba.get_num_threads(),
            "train_threads": distributed.default_threads(comm)}


def system_info(comm=None):
    """Collect the facts of a bug report's header; under ``mpiexec`` every rank must call it.

    Parameters
    ----------
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.

    Returns
    -------
    dict or None
        On rank 0: ``versions`` (dict of package -> version string: esca,
        python, numpy, numba, mpi4py, h5py, HDF5, gensim, scipy, tqdm,
        pandas, scikit-learn, pyLDAvis), ``mpi_library`` (the MPI library's
        own version string), ``mpi_standard`` ("major.minor"),
        ``mpi_vendor``, ``ranks`` (int), ``ranks_on_node`` (int),
        ``numba_threading_layer`` (the layer Numba actually loaded: "omp",
        "tbb" or "workqueue"), ``numba_threads`` (threads of this rank),
        ``numba_max_threads`` (``NUMBA_NUM_THREADS``), ``cpu`` (model name),
        ``cpu_arch`` (LLVM's name for the host CPU, what Numba compiles
        for), ``cores`` (usable by this process), ``memory_bytes`` (physical
        memory of this node, bytes), ``os``, ``train_threads`` (the threads
        per rank ``esca train`` uses without ``--threads``: this node's
        cores divided among its ranks), ``per_rank`` (list, one dict per rank:
        host, pid, cores, numba_threads, train_threads). None on the other
        ranks.
    """
    comm = distributed.get_comm(comm)
    _touch_threads(4 * numba.get_num_threads())
    per_rank = distributed.gather(comm, _rank_info(comm))
    on_node = distributed.ranks_on_node(comm)
    if comm.Get_rank() != 0:
        return None
    versions = {"esca": __version__, "python": sys.version.split()[0], "numpy": np.__version__,
                "numba": numba.__version__, "mpi4py": _version("mpi4py"),
                "h5py": h5py.version.version, "HDF5": h5py.version.hdf5_version}
    for name, module in (("gensim", "gensim"), ("scipy", "scipy"), ("tqdm", "tqdm"),
                         ("pandas", "pandas"), ("scikit-learn", "sklearn"),
                         ("matplotlib", "matplotlib"), ("pyLDAvis", "pyLDAvis")):
        versions[name] = _version(module)
    mpi = distributed.mpi_library()
    return {"versions": versions,
            "mpi_library": mpi["library"], "mpi_standard": mpi["standard"],
            "mpi_vendor": mpi["vendor"],
            "ranks": comm.Get_size(), "ranks_on_node": on_node,
            "numba_threading_layer": numba.threading_layer(),
            "numba_threads": numba.get_num_threads(),
            "numba_max_threads": numba.config.NUMBA_NUM_THREADS,
            "train_threads": per_rank[0]["train_threads"],
            "cpu": _cpu_model(), "cpu_arch": llvm.get_host_cpu_name(),
            "cores": per_rank[0]["cores"], "memory_bytes": _memory_bytes(),
            "os": platform.platform(), "per_rank": per_rank}


def _short_library(text):
    """The first line of the MPI library's version text, plus MPICH's device line if any."""
    lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
    keep = lines[:1] + [ln for ln in lines[1:] if ln.startswith("MPICH Device")]
    return "; ".join(keep)


def format_info(info):
    """The facts of :func:`system_info` as ``name: value`` lines, ready to paste into a report."""
    v = info["versions"]
    lines = [f"esca {v['esca']} (python {v['python']})"]
    lines += [f"  {name:<13} {ver}" for name, ver in v.items() if name not in ("esca", "python")]
    mem = info["memory_bytes"]
    lines += [
        f"MPI library:    {_short_library(info['mpi_library'])}",
        f"MPI standard:   {info['mpi_standard']} ({info['mpi_vendor']})",
        f"ranks:          {info['ranks']} ({info['ranks_on_node']} on this node)",
        (f"Numba:          threading layer {info['numba_threading_layer']}, "
         f"{info['numba_threads']} threads (at most {info['numba_max_threads']}); "
         f"esca train uses {info['train_threads']} per rank by default"),
        f"CPU:            {info['cpu']} ({info['cpu_arch']}), {info['cores']} usable cores",
        "memory:         " + ("unknown" if mem is None else f"{mem / 2**30:.1f} GiB"),
        f"OS:             {info['os']}",
    ]
    if info["ranks"] > 1:
        for r, p in enumerate(info["per_rank"]):
            lines.append(f"  rank {r}: host {p['host']} pid {p['pid']}, {p['cores']} cores, "
                         f"{p['train_threads']} training threads")
    return "\n".join(lines)
