"""How much memory training will need, estimated before anything large is allocated.

:func:`estimate_train_bytes` adds up the main arrays that :func:`esca.train` allocates on
each rank (see :class:`esca.samplers.base.ShardSampler` and
:class:`esca.samplers.esca.EscaSampler`); :func:`check_memory` compares the total of the
ranks of one node with the memory available to them (the smallest of ``MemAvailable`` in
``/proc/meminfo``, the cgroup memory limits of Slurm's ``--mem`` or of a container, and
``ulimit -v``, see :func:`memory_limits`) and raises a :class:`~esca.errors.UserError`
that says how much would be needed, so that a too-large K fails at once with a clear
message instead of being killed by the out-of-memory killer halfway through the first
allocation.

The estimate is of the steady state (short-lived copies while a shard is sorted or
indexed are not counted) and assumes the documents are spread evenly over the ranks; it
errs on the large side for the sparse kernel (its alias lists are sized for the worst
case, one slot per token up to V x K).
"""

import math
import os

try:
    import resource
except ImportError:  # not a POSIX system
    resource = None

from ._checks import check_int
from .errors import UserError

MEMINFO = "/proc/meminfo"

#: Bytes of one slot of the sparse kernel's per-word alias lists: topic int32, count int32,
#: probability float64 and alias int32 (``EscaSampler._layout_word_tables``).
ALIAS_SLOT_BYTES = 20


def estimate_train_bytes(D, V, N, K, ranks=1, threads=1, *, sampler="esca", kernel="auto"):
    """Bytes of the main allocations of a training run.

    Parameters
    ----------
    D, V, N : int
        Documents, vocabulary size and tokens of the whole corpus.
    K : int
        Number of topics.
    ranks : int
        MPI ranks; each holds about ``ceil(D / ranks)`` documents and ``ceil(N / ranks)``
        tokens, and its own V x K tables.
    threads : int
        Numba threads per rank (each holds a few K-sized scratch arrays).
    sampler : {"esca", "cgs"}
    kernel : {"auto", "dense", "sparse"}
        ESCA's kernel; ``auto`` is ``sparse`` when K >= 100, as in
        :class:`esca.samplers.esca.EscaSampler`. Ignored for ``cgs``.

    Returns
    -------
    dict of str to int
        Per rank: ``word_ids`` (int32, N_r), ``z`` (int32, N_r), ``word_tok`` (the
        inverted index, int32 or int64, N_r), ``doc_ptr`` (int64, D_r + 1), ``word_ptr``
        (int64, V + 1), ``n_dk`` (int32, D_r x K), ``n_wk`` (int32, V x K), ``n_k``
        (int64, K), ``word_factor`` (dense kernel: float64, V x K), ``alias_tables``
        (sparse kernel: 20 bytes per slot, min(N, V K) slots, plus three V-sized and
        two K-sized arrays), ``exchange`` (the nonzero (index, count) lists of the
        sparse count exchange, at most the size of two V x K tables; 0 for one rank) and
        ``thread_scratch``. Then ``per_rank`` (their sum), ``rank0_extra`` (the
        model built on rank 0 at the end: ``n_kw`` K x V int32, and with several ranks
        ``n_dk`` D x K int32 gathered from all of them, and for ``cgs`` ``z`` int32 (N,))
        and ``total``
        (``ranks * per_rank + rank0_extra``). All values are ints.

    Raises
    ------
    UserError
        If a size is negative or ``ranks``, ``threads`` or K is below 1.
    """
    D, V, N, K, ranks, threads = (
        check_int(f"estimate_train_bytes: {name}", value, lo)
        for name, value, lo in (("D", D, 0), ("V", V, 0), ("N", N, 0), ("K", K, 1),
                                ("ranks", ranks, 1), ("threads", threads, 1)))
    D_r, N_r = math.ceil(D / ranks), math.ceil(N / ranks)
    VK = V * K
    out = {
        "word_ids": 4 * N_r,
        "z": 4 * N_r,
        "word_tok": (4 if N_r < 2**31 else 8) * N_r,
        "doc_ptr": 8 * (D_r + 1),
        "word_ptr": 8 * (V + 1),
        "n_dk": 4 * D_r * K,
        "n_wk": 4 * VK,
        "n_k": 8 * K,
        "word_factor": 0,
        "alias_tables": 0,
        "exchange": 0,
        "thread_scratch": 0,
    }
    if sampler == "esca":
        if kernel == "auto":
            from .samplers.esca import SPARSE_MIN_K  # noqa: PLC0415 - a Numba kernel module
            kernel = "sparse" if K >= SPARSE_MIN_K else "dense"
        if kernel == "dense":
            out["word_factor"] = 8 * VK
            out["thread_scratch"] = threads * 16 * K
        else:
            out["alias_tables"] = ALIAS_SLOT_BYTES * min(N, VK) + 24 * V + 12 * K
            out["thread_scratch"] = threads * 48 * K
    else:  # the sequential collapsed Gibbs sweep: one K-sized cumulative sum
        out["thread_scratch"] = 8 * K
    if ranks > 1:
        entry = 8 if VK < 2**31 else 12
        out["exchange"] = min(entry * (N + N_r), 2 * 4 * VK)
    out["per_rank"] = sum(out.values())
    # The model on rank 0: n_kw (a transposed copy of n_wk) and, over several ranks, n_dk
    # gathered from all of them (one rank keeps its own n_dk), and a cgs model's z.
    out["rank0_extra"] = 4 * VK + (4 * D * K if ranks > 1 else 0) + \
        (4 * N if sampler == "cgs" and ranks > 1 else 0)
    out["total"] = ranks * out["per_rank"] + out["rank0_extra"]
    return out


#: Where the cgroup of this process is named, and where cgroup file systems are mounted
#: (module constants so that tests can point them at fake trees).
PROC_CGROUP = "/proc/self/cgroup"
PROC_MOUNTINFO = "/proc/self/mountinfo"
PROC_STATUS = "/proc/self/status"
#: cgroup v1 writes "no limit" as a huge number (2**63 - 4096 on x86-64); above this is none.
_UNLIMITED = 2**60


def _read(path):
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _number(path):
    text = _read(path)
    try:
        return int(text.split()[0]) if text is not None else None
    except (ValueError, IndexError):
        return None


def _stat(path, key):
    text = _read(path) or ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def _meminfo():
    """``MemAvailable`` of ``/proc/meminfo`` in bytes, or None if it cannot be read."""
    for line in (_read(MEMINFO) or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                value, unit = line.split()[1:3]
                return int(value) * {"kB": 1024}.get(unit, 1)
            except (ValueError, IndexError):
                return None
    return None


def _cgroup_dirs():
    """``(version, folders)``: the cgroup folders of this process with a memory controller,
    innermost first, up to the mount point (a limit of any ancestor applies too)."""
    mounts = []
    for line in (_read(PROC_MOUNTINFO) or "").splitlines():
        left, sep, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if not sep or len(fields) < 5 or len(extra) < 3:
            continue
        fstype, options = extra[0], extra[2].split(",")
        if fstype == "cgroup2" or (fstype == "cgroup" and "memory" in options):
            mounts.append((2 if fstype == "cgroup2" else 1, fields[3], fields[4]))
    found = []
    for line in (_read(PROC_CGROUP) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        version = 2 if parts[0] == "0" and parts[1] == "" else 1
        if version == 1 and "memory" not in parts[1].split(","):
            continue
        for v, root, point in mounts:
            if v != version:
                continue
            path = parts[2]
            if root != "/" and (path == root or path.startswith(root + "/")):
                path = path[len(root):]  # the mount shows a subtree (a container)
            folder = os.path.normpath(point + "/" + path.lstrip("/"))
            if not os.path.isdir(folder):
                folder = point  # a cgroup namespace: this process sees its cgroup as the root
            chain = [folder]
            while folder != point and folder.startswith(point):
                folder = os.path.dirname(folder)
                chain.append(folder)
            found.append((version, chain))
    return found


def _cgroup_limits():
    """[(bytes available, source)] for every cgroup memory limit on this process."""
    out = []
    for version, chain in _cgroup_dirs():
        for folder in chain:
            if version == 2:
                limit_file, usage_file, inactive = "memory.max", "memory.current", "inactive_file"
            else:
                limit_file, usage_file, inactive = ("memory.limit_in_bytes",
                                                    "memory.usage_in_bytes",
                                                    "total_inactive_file")
            limit = _number(os.path.join(folder, limit_file))  # None for v2's "max"
            if limit is None or limit >= _UNLIMITED:
                continue
            usage = _number(os.path.join(folder, usage_file)) or 0
            # Page cache that is not in active use is reclaimed before the OOM killer
            # acts, as in the "working set" of container runtimes (usage - inactive_file).
            usage = max(0, usage - _stat(os.path.join(folder, "memory.stat"), inactive))
            out.append((max(0, limit - usage),
                        f"cgroup limit {_fmt(limit)} in {os.path.join(folder, limit_file)}"))
    return out


def _rlimit_limits():
    """[(bytes available, source)] for ``ulimit -v`` (RLIMIT_AS) and ``ulimit -d``
    (RLIMIT_DATA): the limit minus this process's VmSize or VmData."""
    if resource is None:
        return []
    status = {}
    for line in (_read(PROC_STATUS) or "").splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1] == "kB":
            status[key] = int(parts[0]) * 1024
    out = []
    for name, flag, used in (("RLIMIT_AS", "-v", "VmSize"), ("RLIMIT_DATA", "-d", "VmData")):
        soft = resource.getrlimit(getattr(resource, name))[0]
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        out.append((max(0, soft - status.get(used, 0)),
                    f"ulimit {flag} {soft // 1024} kB, {_fmt(status.get(used, 0))} of it in use"))
    return out


def memory_limits():
    """Every limit on the memory this process can still allocate, smallest first.

    Returns
    -------
    list of (int, str)
        ``(bytes, source)`` pairs: ``MemAvailable`` of ``/proc/meminfo``; for every
        cgroup (v1 or v2) of this process and its ancestors that sets a memory limit
        (Slurm's ``--mem``, ``docker run --memory``, Kubernetes limits), the limit minus
        the memory charged to it that cannot be reclaimed (usage minus inactive page
        cache); and ``ulimit -v`` / ``ulimit -d`` minus this process's current virtual
        size / data size. Limits that cannot be read are left out (an empty list when
        none is known). The cgroup and meminfo limits are shared by the processes on
        the node (or in the cgroup); the ulimit ones are per process.
    """
    return sorted(_shared_limits() + _rlimit_limits())


def _shared_limits():
    """The limits of :func:`memory_limits` shared by the processes of the node or cgroup."""
    mem = _meminfo()
    return ([] if mem is None else [(mem, "MemAvailable")]) + _cgroup_limits()


def available_memory():
    """The memory this process can still allocate, in bytes (the smallest of
    :func:`memory_limits`), or None if no limit can be read."""
    limits = memory_limits()
    return min(limits)[0] if limits else None


def check_allocation(nbytes, what):
    """Refuse to allocate ``nbytes`` when it exceeds the memory available (see
    :func:`memory_limits`).

    Parameters
    ----------
    nbytes : int
    what : str
        What needs the memory, the start of the message (``"document 3 (2147483647
        tokens)"``).

    Raises
    ------
    UserError
        ``WHAT needs about X GiB of memory but only Y GiB is available (SOURCE)``.
    """
    limits = memory_limits()
    if limits:
        avail, source = min(limits)
        if nbytes > avail:
            raise UserError(f"{what} needs about {_fmt(nbytes)} of memory but only "
                            f"{_fmt(avail)} is available ({source})")


def _fmt(nbytes):
    if nbytes >= 2**30 / 10:
        return f"{nbytes / 2**30:.1f} GiB"
    return f"{nbytes / 2**20:.1f} MiB"


def check_memory(D, V, N, K, ranks_on_node=1, available_bytes=None, *, ranks=None, threads=1,
                 sampler="esca", kernel="auto"):
    """Refuse a training run whose tables would not fit in this node's available memory.

    Call it before allocating anything of size K. The need of the node is
    ``ranks_on_node`` ranks' :func:`estimate_train_bytes` ``per_rank`` plus rank 0's
    ``rank0_extra`` (the gathered model), as if rank 0 were on this node.

    Parameters
    ----------
    D, V, N, K : int
        Sizes of the whole corpus, and the number of topics.
    ranks_on_node : int
        Ranks sharing this node's memory (see :func:`esca.distributed.ranks_on_node`).
    available_bytes : int, optional
        Memory available on the node. Default: every limit of :func:`memory_limits`;
        the node's need is compared with ``MemAvailable`` and the cgroup limits, and one
        rank's need (rank 0's) with ``ulimit -v`` and ``ulimit -d``. Limits that cannot
        be read are skipped.
    ranks : int, optional
        All ranks of the job (sets the size of each rank's shard); default ``ranks_on_node``.
    threads, sampler, kernel
        As in :func:`estimate_train_bytes`.

    Returns
    -------
    dict
        The estimate (:func:`estimate_train_bytes`) with ``node`` (bytes needed on this
        node) and ``available`` (bytes, or None when unknown).

    Raises
    ------
    UserError
        ``K=... needs about X GiB for its count tables on this node but only Y GiB is
        available (SOURCE)`` when the need exceeds the available memory; SOURCE is
        ``MemAvailable``, ``cgroup limit ... in FILE``, ``ulimit -v ...`` or ``given``.
    """
    ranks = ranks_on_node if ranks is None else ranks
    est = estimate_train_bytes(D, V, N, K, ranks, threads, sampler=sampler, kernel=kernel)
    need = int(ranks_on_node) * est["per_rank"] + est["rank0_extra"]
    if available_bytes is not None:
        checks = [(need, available_bytes, "given", "on this node")]
    else:  # a ulimit binds each process: one rank's share (rank 0's, the largest)
        own = est["per_rank"] + est["rank0_extra"]
        checks = [(need, b, s, "on this node") for b, s in _shared_limits()] + \
                 [(own, b, s, "in this process") for b, s in _rlimit_limits()]
    est = {**est, "node": need,
           "available": min((b for _, b, _, _ in checks), default=None)}
    for n, avail, source, where in sorted(checks, key=lambda c: c[1] - c[0]):
        if n > avail:
            raise UserError(
                f"K={K} needs about {_fmt(n)} for its count tables {where} "
                f"(V={V}, D={D}, N={N}, {ranks_on_node} rank(s) here) but only "
                f"{_fmt(avail)} is available ({source}); use a smaller K or fewer "
                f"ranks per node")
    return est
