"""The systems ``esca bench`` compares (:data:`SYSTEMS`) and how one run of one is specified
for its worker process (:func:`worker_spec`)."""

import os

from ..errors import UserError

# name -> how its worker runs it; "threads" is also the child's NUMBA/OMP/MKL/OpenBLAS limit.
SYSTEMS = {
    "esca 1r x 1t": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 1},
    "esca 1r x 2t": {"kind": "esca", "sampler": "esca", "ranks": 1, "threads": 2},
    "esca 2r x 1t": {"kind": "esca", "sampler": "esca", "ranks": 2, "threads": 1},
    "cgs 1r": {"kind": "esca", "sampler": "cgs", "ranks": 1, "threads": 1},
    "tomotopy w1": {"kind": "tomotopy", "workers": 1, "scheme": "default", "threads": 1},
    "tomotopy w2 partition": {"kind": "tomotopy", "workers": 2, "scheme": "partition",
                              "threads": 2},
    "tomotopy w2 copy_merge": {"kind": "tomotopy", "workers": 2, "scheme": "copy_merge",
                               "threads": 2},
    # gensim's documentation recommends workers = physical cores - 1.
    "gensim LdaMulticore": {"kind": "gensim", "workers": max(1, (os.cpu_count() or 2) - 1),
                            "threads": 1},
    "lda": {"kind": "lda", "threads": 1},
    "sklearn batch": {"kind": "sklearn", "method": "batch", "threads": 1},
    # C++ with OpenMP: "threads" (OMP_NUM_THREADS) is its thread count.
    "warplda 2t": {"kind": "warplda", "threads": 2},
}
#: Peers that are Python packages: kind -> the module that must be importable.
MODULES = {"tomotopy": "tomotopy", "gensim": "gensim", "lda": "lda", "sklearn": "sklearn"}
#: Peers that are programs: kind -> the executable that must be on PATH (not on PyPI; how to
#: build it: docs/benchmarks.md).
BINARIES = {"warplda": "warplda"}
#: The systems whose final held-out perplexity is the default target of time to quality
#: (:func:`esca.bench.ttq.reference_system` picks the fastest of those that ran).
REFERENCE_SYSTEMS = ("tomotopy w2 partition", "tomotopy w2 copy_merge")
FAMILIES = ("esca", "cgs", "tomotopy", "gensim", "lda", "sklearn", "warplda")
#: The systems trained by :func:`esca.train` (kind "esca"): the ones ``esca_settings`` reach.
ESCA_SYSTEMS = tuple(n for n, s in SYSTEMS.items() if s["kind"] == "esca")
#: The :class:`esca.TrainConfig` fields the bench sets itself for every esca-kind run (from
#: its own options and the system: sampler, threads; ``eval_every`` is 0, the bench evaluates
#: in a callback): ``esca_settings`` may set any other field.
ESCA_OWNED = ("num_topics", "iterations", "alpha", "beta", "seed", "sampler", "threads",
              "eval_every")


def select_systems(items=None, name="systems"):
    """Names of :data:`SYSTEMS` picked by ``items`` (names or families), in table order.

    Parameters
    ----------
    items : iterable of str, optional
        System names or families (first word of a name), case-insensitive; default all.
    name : str
        How ``items`` is named in the message (the CLI passes ``"--systems"``).

    Returns
    -------
    list of str

    Raises
    ------
    UserError
        If an item matches no system.
    """
    if items is None:
        return list(SYSTEMS)
    picked = set()
    for item in items:
        key = " ".join(str(item).split()).lower()
        found = [n for n in SYSTEMS if key in (n.lower(), n.split()[0].lower())]
        if not found:
            raise UserError(f"unknown system {str(item).strip()!r} in {name} (known: "
                            + ", ".join(SYSTEMS) + "; or a family: " + ", ".join(FAMILIES)
                            + ")")
        picked.update(found)
    return [n for n in SYSTEMS if n in picked]


def worker_spec(system, esca_settings=None, **settings):
    """The JSON-able spec of one run of ``system`` for :mod:`esca._bench_worker`.

    ``settings``: train, test (corpus paths), num_topics, alpha, beta, seed, iterations,
    eval_every, eval_sweeps, eval_burn_in. ``esca_settings`` (a dict of
    :class:`esca.TrainConfig` fields other than :data:`ESCA_OWNED`, checked by
    :func:`esca.bench.check_esca_settings`) goes into the spec of the systems of
    :data:`ESCA_SYSTEMS` only, as ``spec["esca_settings"]``.
    """
    spec = {"system": system, "ranks": 1, **SYSTEMS[system], **settings}
    if system in ESCA_SYSTEMS:
        spec["esca_settings"] = dict(esca_settings or {})
    return spec
