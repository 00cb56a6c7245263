"""How much memory training will need, estimated before anything large is allocated.

:func:`estimate_train_bytes` adds up the main arrays that :func:`esca.train` allocates on
each rank (see :class:`esca.samplers.base.ShardSampler` and
:class:`esca.samplers.esca.EscaSampler`); :func:`check_memory` compares the total of the
ranks of one node with the memory the kernel says is available (``MemAvailable`` in
``/proc/meminfo``) and raises a :class:`~esca.errors.UserError` that says how much would be
needed, so that a too-large K fails at once with a clear message instead of being killed
by the out-of-memory killer halfway through the first allocation.

The estimate is of the steady state (short-lived copies while a shard is sorted or
indexed are not counted) and assumes the documents are spread evenly over the ranks; it
errs on the large side for the sparse kernel (its alias lists are sized for the worst
case, one slot per token up to V x K).
"""

import math

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
            from .samplers.esca import SPARSE_MIN_K
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


def available_memory():
    """``MemAvailable`` of ``/proc/meminfo`` in bytes, or None if it cannot be read."""
    try:
        with open(MEMINFO, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    value, unit = line.split()[1:3]
                    return int(value) * {"kB": 1024}.get(unit, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


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
        Memory available; default ``MemAvailable`` from ``/proc/meminfo``. When neither
        is known the check is skipped.
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
        available (MemAvailable)`` when the need exceeds the available memory.
    """
    ranks = ranks_on_node if ranks is None else ranks
    est = estimate_train_bytes(D, V, N, K, ranks, threads, sampler=sampler, kernel=kernel)
    need = int(ranks_on_node) * est["per_rank"] + est["rank0_extra"]
    source = "given"
    if available_bytes is None:
        available_bytes, source = available_memory(), "MemAvailable"
    est = {**est, "node": need, "available": available_bytes}
    if available_bytes is not None and need > available_bytes:
        raise UserError(
            f"K={K} needs about {_fmt(need)} for its count tables on this node "
            f"(V={V}, D={D}, N={N}, {ranks_on_node} rank(s) here) but only "
            f"{_fmt(available_bytes)} is available ({source}); use a smaller K or fewer "
            f"ranks per node")
    return est
