"""Time to quality (TTQ): training seconds until held-out perplexity reaches a target P*.

A system's curve is its evaluation points, ``{"iteration", "seconds", "perplexity"}`` with
seconds on its whole-run clock (from the start of its training call; evaluation and JIT
compilation excluded). TTQ is interpolated linearly in seconds between the last point above
P* and the first point at or below it. The default P* at a K is the final held-out perplexity
of tomotopy's fastest 2-worker run at that K (:func:`reference_system`).
"""

from .systems import REFERENCE_SYSTEMS


def time_to_quality(curve, target):
    """Seconds until ``curve`` first reaches perplexity ``target`` or below.

    Parameters
    ----------
    curve : list of dict
        Evaluation points in training order, each with ``iteration`` (int), ``seconds``
        (float, training seconds of the whole run so far) and ``perplexity`` (float).
    target : float
        The target held-out perplexity P* (> 0).

    Returns
    -------
    dict
        ``reached`` (bool); ``seconds``: the TTQ in seconds (None when not reached);
        ``bound``: "interpolated" (between ``points[0]`` and ``points[1]``), "at most"
        (already reached at the first evaluation point, ``points`` holds it alone: the
        crossing lies between the start and it) or None (not reached; ``points`` holds the
        last point); ``points``: the evaluation points themselves.
    """
    target = float(target)
    for i, p in enumerate(curve):
        if p["perplexity"] <= target:
            if i == 0:
                return {"reached": True, "seconds": float(p["seconds"]), "bound": "at most",
                        "points": [p]}
            a = curve[i - 1]
            frac = (a["perplexity"] - target) / (a["perplexity"] - p["perplexity"])
            sec = a["seconds"] + frac * (p["seconds"] - a["seconds"])
            return {"reached": True, "seconds": float(sec), "bound": "interpolated",
                    "points": [a, p]}
    return {"reached": False, "seconds": None, "bound": None, "points": curve[-1:]}


def reference_system(rows):
    """The reference of time to quality among one K's results: of :data:`REFERENCE_SYSTEMS`
    (tomotopy at 2 workers, one per parallel scheme) that ran, the one with the highest
    whole-run tokens/s (its best scheme on this machine); None if none ran.

    Parameters
    ----------
    rows : dict of str to dict
        bench.json's ``results[K]``: system name -> entry.

    Returns
    -------
    str or None
    """
    ran = [n for n in REFERENCE_SYSTEMS if n in rows and rows[n]["status"] == "ok"
           and rows[n].get("curve")]
    return max(ran, key=lambda n: rows[n]["tokens_per_s_whole_run"], default=None)


def ttq_table(rows, target=None):
    """Time to quality of every system of one K.

    Parameters
    ----------
    rows : dict of str to dict
        bench.json's ``results[K]``.
    target : float, optional
        P*; default the final held-out perplexity of :func:`reference_system`.

    Returns
    -------
    dict
        ``target`` (float or None: no target given and no reference ran), ``source`` (how
        the target was chosen, in words), ``reference`` (the reference system or None) and
        ``systems``: name -> :func:`time_to_quality` plus ``x_reference``, its TTQ divided by
        the reference's (None when either is not reached), for every system that ran.
    """
    ref = reference_system(rows)
    if target is not None:
        source = "given (target_perplexity)"
    elif ref is not None:
        target = rows[ref]["heldout_perplexity"]
        source = (f"final held-out perplexity of {ref} ({rows[ref]['iterations']} "
                  "iterations), the fastest tomotopy run at 2 workers")
    else:
        return {"target": None, "reference": None, "systems": {},
                "source": "none: no target given and no tomotopy run at 2 workers"}
    systems = {n: time_to_quality(e["curve"], target) for n, e in rows.items()
               if e["status"] == "ok" and e.get("curve")}
    ref_s = systems[ref]["seconds"] if ref is not None else None
    for t in systems.values():
        t["x_reference"] = (t["seconds"] / ref_s if t["seconds"] is not None and ref_s
                            else None)
    return {"target": float(target), "source": source, "reference": ref, "systems": systems}
