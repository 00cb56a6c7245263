"""Partitioning (pure functions) and every collective the code uses, by name.

The rest of esca calls these functions instead of communicator methods: what a
collective does for esca (agree on an error, broadcast rank 0's answer, sum
counts) is said once, here; the per-sweep count exchange lives in
:mod:`esca.exchange`. The communicator is always passed in; nothing binds
``MPI.COMM_WORLD`` at import time, and mpi4py is imported only when a function
needs it. Without ``mpiexec`` the world is one rank. Functions whose docstring
says so also accept ``comm=None``: one rank, and mpi4py is never imported.
"""

import os
import sys
import time

import numpy as np

from .errors import UserError


def get_comm(comm=None):
    """Return ``comm``, or ``MPI.COMM_WORLD`` (a world of one rank without ``mpiexec``).

    The first call without ``comm`` imports mpi4py, which initializes MPI.

    Parameters
    ----------
    comm : mpi4py communicator, optional

    Returns
    -------
    mpi4py communicator
    """
    if comm is not None:
        return comm
    from mpi4py import MPI  # noqa: PLC0415 - initializes MPI, only when needed
    return MPI.COMM_WORLD


def rank_and_size(comm):
    """This process's rank in ``comm`` and the number of ranks; ``(0, 1)`` for None.

    Parameters
    ----------
    comm : mpi4py communicator or None

    Returns
    -------
    (int, int)
    """
    return (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())


def mpi_library():
    """The MPI library that mpi4py runs on (imports mpi4py, which initializes MPI).

    Returns
    -------
    dict
        ``library``: the library's own version text (``MPI_Get_library_version``,
        several lines for MPICH); ``standard``: the MPI standard it implements,
        ``"major.minor"``; ``vendor``: name and version as mpi4py reads them
        (``"MPICH 4.1.2"``).
    """
    from mpi4py import MPI  # noqa: PLC0415 - initializes MPI, only when needed
    major, minor = MPI.Get_version()
    vendor, vendor_version = MPI.get_vendor()
    return {"library": MPI.Get_library_version().strip(), "standard": f"{major}.{minor}",
            "vendor": f"{vendor} {'.'.join(map(str, vendor_version))}"}


ABORT_GRACE_SECONDS = 0.5


def abort_job(status, message=None):
    """Abort every rank of a running MPI job of several ranks; a no-op otherwise.

    Called by the command-line entry points when one rank fails, so that the other
    ranks do not hang in a collective. Standard error is flushed and the launcher
    gets ``ABORT_GRACE_SECONDS`` (0.5 s) to forward it before ``MPI_Abort`` kills
    the job: Hydra drops output still in its pipes when a rank aborts, which once
    cost the user the traceback that explained the failure.

    Parameters
    ----------
    status : int
        Exit status passed to ``MPI_Abort``.
    message : str, optional
        One line printed to standard error before aborting.
    """
    if "mpi4py.MPI" not in sys.modules:
        return
    from mpi4py import MPI  # noqa: PLC0415 - already imported (checked above)
    if not (MPI.Is_initialized() and not MPI.Is_finalized()
            and MPI.COMM_WORLD.Get_size() > 1):
        return
    if message:
        sys.stderr.write(message + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(ABORT_GRACE_SECONDS)
    MPI.COMM_WORLD.Abort(status)


def partition_documents(doc_ptr, parts):
    """Split documents into ``parts`` contiguous ranges balanced by token count.

    Parameters
    ----------
    doc_ptr : ndarray of int64, shape (D+1,)
        Document offsets (document d has ``doc_ptr[d+1] - doc_ptr[d]`` tokens).
    parts : int
        Number of ranges (ranks or thread chunks), >= 1.

    Returns
    -------
    bounds : ndarray of int64, shape (parts+1,)
        Part r holds documents ``bounds[r]:bounds[r+1]``; part r starts at the
        first document whose first token is at or after ``r * N / parts``.
        Parts may be empty (more parts than documents is allowed).
    """
    doc_ptr = np.asarray(doc_ptr, dtype=np.int64)
    D = len(doc_ptr) - 1
    N = int(doc_ptr[-1])
    targets = (np.arange(parts + 1, dtype=np.float64) * N / parts)
    bounds = np.searchsorted(doc_ptr[:-1], targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, D
    return np.maximum.accumulate(bounds)


def ranks_on_node(comm):
    """Number of ranks of ``comm`` that share this node's memory."""
    if comm.Get_size() == 1:
        return 1
    from mpi4py import MPI  # noqa: PLC0415 - initializes MPI, only when needed
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_size()
    finally:
        node.Free()


def default_threads(comm):
    """Cores of this node divided among the ranks on it (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // ranks_on_node(comm))


def allreduce_sum(comm, array):
    """Sum ``array`` over all ranks, in place, with ``MPI.IN_PLACE`` ``Allreduce``.

    Parameters
    ----------
    comm : mpi4py communicator or None
        None: one rank, ``array`` is returned as it is.
    array : ndarray, C-contiguous, int32, int64 or float64
        This rank's values; integer sums are exact and identical on every rank.

    Returns
    -------
    ndarray
        ``array`` itself, now holding the sum over ranks.
    """
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI  # noqa: PLC0415 - initializes MPI, only when needed
        comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
    return array


def sum_over_ranks(comm, value):
    """The sum of a number over all ranks, on every rank (one ``Allreduce`` of one element).

    Parameters
    ----------
    comm : mpi4py communicator or None
    value : int or float
        This rank's number; an int is summed as int64 (exact), a float as float64.

    Returns
    -------
    int or float
        The sum, the same on every rank.
    """
    return allreduce_sum(comm, np.array([value])).item()


def max_over_ranks(comm, value):
    """The largest of every rank's ``value``, on every rank.

    Parameters
    ----------
    comm : mpi4py communicator or None
    value : int or float

    Returns
    -------
    int or float
    """
    if comm is None or comm.Get_size() == 1:
        return value
    from mpi4py import MPI  # noqa: PLC0415 - initializes MPI, only when needed
    return comm.allreduce(value, op=MPI.MAX)


def allgather(comm, value):
    """Every rank's ``value``, in rank order, on every rank.

    Parameters
    ----------
    comm : mpi4py communicator or None
    value : picklable

    Returns
    -------
    list
        One entry per rank (``[value]`` for one rank).
    """
    if comm is None or comm.Get_size() == 1:
        return [value]
    return comm.allgather(value)


def gather(comm, value, root=0):
    """Every rank's ``value``, in rank order, on ``root``; None on the other ranks.

    Parameters
    ----------
    comm : mpi4py communicator or None
    value : picklable
    root : int

    Returns
    -------
    list or None
    """
    if comm is None or comm.Get_size() == 1:
        return [value]
    return comm.gather(value, root=root)


def bcast(comm, value, root=0):
    """``root``'s ``value`` on every rank (the others' ``value`` is ignored).

    Parameters
    ----------
    comm : mpi4py communicator or None
    value : picklable
    root : int

    Returns
    -------
    object
        ``root``'s value.
    """
    if comm is None or comm.Get_size() == 1:
        return value
    return comm.bcast(value, root=root)


def on_root(comm, fn, *args, root=0, **kwargs):
    """Run ``fn(*args, **kwargs)`` on ``root`` only and give its result to every rank.

    For what one rank should do for all (list a folder, checksum a file) before the others
    use the answer. A :class:`esca.UserError` raised by ``fn`` is raised on every rank,
    with its class and message, so that no rank waits for a result that never comes; any
    other exception propagates on ``root`` alone (the command line then aborts the job).

    Parameters
    ----------
    comm : mpi4py communicator or None
    fn : callable
        Called on ``root`` only; its result must be picklable.
    root : int

    Returns
    -------
    object
        ``fn``'s result, on every rank.

    Raises
    ------
    UserError
        On every rank, when ``fn`` raised it on ``root``.
    """
    rank, size = rank_and_size(comm)
    if size == 1:
        return fn(*args, **kwargs)
    result, error = None, None
    if rank == root:
        try:
            result = fn(*args, **kwargs)
        except UserError as e:
            error = e
    result, failed = comm.bcast((result, None if error is None else (type(error), str(error))),
                                root=root)
    if failed is not None:
        if error is not None:
            raise error
        raise failed[0](failed[1])
    return result


def barrier(comm):
    """Wait until every rank of ``comm`` has called it.

    Parameters
    ----------
    comm : mpi4py communicator or None
        None or one rank: returns at once.
    """
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()


def gather_rows(comm, local, root=0):
    """Concatenate every rank's rows (in rank order) on ``root``; others get None.

    Parameters
    ----------
    comm : mpi4py communicator or None
    local : ndarray, shape (D_local, K), C-contiguous
        This rank's rows.
    root : int

    Returns
    -------
    ndarray of shape (D, K) on ``root``, None elsewhere.
    """
    if comm is None or comm.Get_size() == 1:
        return local
    counts = np.array(comm.allgather(local.size), dtype=np.int64)
    out = None
    if comm.Get_rank() == root:
        out = np.empty((int(counts.sum()) // max(local.shape[1], 1), local.shape[1]),
                       dtype=local.dtype)
        displs = np.zeros_like(counts)
        np.cumsum(counts[:-1], out=displs[1:])
        comm.Gatherv(np.ascontiguousarray(local), [out, counts.tolist(), displs.tolist(), None],
                    root=root)
    else:
        comm.Gatherv(np.ascontiguousarray(local), None, root=root)
    return out


def agree(comm, fn, *args, **kwargs):
    """Run ``fn`` on every rank; if it raises a user error on any rank, raise it on all ranks.

    Used around set-up steps (validation, reading the shard) that come before
    the first collective, so that a bad input seen by one rank stops every
    rank with the same message instead of leaving the others waiting in a
    collective. Exceptions that are not :class:`esca.UserError` propagate on
    the rank that raised them (the CLI then aborts the job).

    Parameters
    ----------
    comm : mpi4py communicator
    fn : callable
        Called on every rank with ``*args`` and ``**kwargs``.

    Returns
    -------
    object
        This rank's result of ``fn``.

    Raises
    ------
    UserError
        On every rank when ``fn`` raised one on some rank: the lowest such rank's class and
        message (prefixed ``(rank r)`` when r > 0).
    """
    result, err, error = None, None, None
    try:
        result = fn(*args, **kwargs)
    except UserError as e:
        err, error = str(e), e
    if comm.Get_size() > 1:
        # the class travels too, so that a WriteError (exit status 74) stays one on every rank
        errs = comm.allgather(None if err is None else (type(error), err))
        bad = [(r, m) for r, m in enumerate(errs) if m is not None]
        if bad:
            r, (cls, m) = bad[0]
            if r == 0 == comm.Get_rank():
                raise error
            raise cls(m if r == 0 else f"(rank {r}) {m}")
    elif error is not None:
        raise error
    return result


def same_on_all_ranks(comm, value, what, label=None, hint=""):
    """Check that ``value`` is equal on every rank (a collective call); refuse it otherwise.

    Used before the first count exchange on what every rank read by itself (the corpus, a
    model, a test corpus): ranks that opened different files would otherwise train on the
    mix, or crash inside MPI when their table sizes differ.

    Parameters
    ----------
    comm : mpi4py communicator
    value : dict
        This rank's identity of ``what``: field name -> picklable value compared with ``==``
        (ints such as ``D``, ``V``, ``N`` are shown in the message; other fields, such as
        hashes, are named only).
    what : str
        What the values identify, plural, for the message (``"corpora"``, ``"models"``).
    label : str, optional
        Where this rank read it (a path), shown in the message but not compared: equal
        copies at different paths are accepted.
    hint : str
        Appended to the message (what to do).

    Returns
    -------
    dict
        ``value``, the same on every rank.

    Raises
    ------
    UserError
        On every rank, when some rank's ``value`` differs from rank 0's: names those ranks,
        their ``label`` and the fields that differ.
    """
    if comm.Get_size() == 1:
        return value
    values = comm.allgather((value, label))
    first, first_label = values[0]
    bad = [r for r, (v, _) in enumerate(values) if v != first]
    if not bad:
        return value
    r = bad[0]
    other, other_label = values[r]
    fields = [k for k in dict.fromkeys([*first, *other]) if first.get(k) != other.get(k)]
    shown = [f"{k} ({other.get(k)} vs {first.get(k)})"
             if isinstance(first.get(k, 0), int) and isinstance(other.get(k, 0), int) else k
             for k in fields]
    ranks = (f"rank {r}" if len(bad) == 1 else
             f"ranks {', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''}")

    def where(lbl):
        return f" ({lbl})" if lbl is not None else ""
    raise UserError(f"the ranks read different {what}: {ranks}{where(other_label)} "
                    f"differ{'s' if len(bad) == 1 else ''} from rank 0{where(first_label)} in "
                    f"{', '.join(shown)}{'; ' + hint if hint else ''}")
