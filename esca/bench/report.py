"""``bench.md``: the setting, one table per K and the command, from ``bench.json``'s content."""

from .._io import atomic_path

COLUMNS = ("system", "iterations", "tokens/s", "tokens/s whole run", "whole run s", "s/iter",
           "sample", "count", "allreduce", "other", "MiB exchanged/iter", "state B/token",
           "peak RSS MiB", "LL/token", "held-out perplexity")
TTQ_COLUMNS = ("system", "TTQ s", "x reference", "evaluation points around P*")


def markdown(report):
    """``bench.md``: the setting, one table per K with its time-to-quality table, and the
    command that produced it."""
    c, m, v = report["config"], report["machine"], report["versions"]
    tr, te = c["train"], c["test"]
    lines = [
        f"# esca bench: {c['corpus']}", "",
        (f"Train D={tr['D']:,} V={tr['V']:,} N={tr['N']:,}; held out {c['holdout']:g} of the "
         f"documents: D={te['D']:,} N={te['N']:,}. alpha per topic "
         f"{', '.join(f'{a:g} (K={k})' for k, a in c['alpha'].items())}, beta {c['beta']:g}, "
         f"seed {c['seed']}, {c['repeats']} run(s) per system."),
        f"Machine: {m['cpu_model']}, {m['cores']} logical cores, "
        + (f"{m['memory_bytes'] / 2**30:.1f} GiB; " if m["memory_bytes"] else "")
        + f"Python {v['python']}, esca {v['esca']} (git {report['git_sha'] or 'n/a'}"
        + (" with local changes" if report["git_dirty"] else "") + "), "
        f"{v['mpi_library'] or 'MPI n/a'}.", "",
        *_settings_lines(c),
        ("tokens/s = train N / median seconds per iteration (ESCA and CGS: iterations 2..N; "
         "peers: median over timed chunks or passes, lda and sklearn: whole fit / "
         "iterations). tokens/s whole run = train N x iterations / whole run s, the seconds of "
         "the whole training call (setup and iteration 1 included; evaluations and JIT "
         "compilation excluded; what each system's covers is in bench.json). sample / count / "
         "allreduce / other split ESCA's iteration ('-' for peers); sample includes building "
         "the per-word tables. MiB exchanged/iter: bytes rank 0 received in the count "
         "exchange. state B/token: ESCA's per-token and per-document state (everything but "
         "the word-topic tables). Peak RSS per process before the first held-out "
         "evaluation. LL/token is each system's own training log-likelihood (definitions in "
         "bench.json). Held-out perplexity: document completion "
         f"({c['eval']['sweeps']} sweeps, {c['eval']['burn_in']} burn-in) from each system's "
         "phi, by esca's evaluator."), "",
        ("Time to quality (TTQ): training seconds (whole-run clock) until held-out perplexity "
         "reaches P*, interpolated linearly between the two evaluation points around the "
         "crossing, which are shown; x reference: TTQ / the reference's TTQ."), ""]
    for K, rows in report["results"].items():
        lines += [f"## K = {K}", "", "| " + " | ".join(COLUMNS) + " |",
                  "|---|" + "---:|" * (len(COLUMNS) - 1)]
        lines += ["| " + " | ".join(_row(name, e)) + " |" for name, e in rows.items()]
        lines.append("")
        lines += _ttq_lines(K, report.get("ttq", {}).get(K))
    lines += ["Command:", "", "```", report["command"], "```", ""]
    return "\n".join(lines)


def _settings_lines(c):
    """The line naming the esca settings (bench.json's ``config.esca_settings``), if any."""
    settings = c.get("esca_settings")
    if not settings:
        return []
    systems = c.get("esca_settings_systems") or []
    return ["esca settings: " + ", ".join(f"{k}={v}" for k, v in settings.items())
            + (f" (every run of {', '.join(systems)})" if systems
               else " (no system trained by esca.train ran)") + ".", ""]


def _row(name, e):
    if e["status"] != "ok":
        note = f"skipped: {e['error']}" if e["status"] == "skipped" else "failed (see bench.json)"
        return [name, "-", note] + ["-"] * (len(COLUMNS) - 3)
    s = e["s_per_iter"]
    split = ["-" if s[k] is None else f"{s[k]:.4g}" for k in ("sample", "count", "allreduce",
                                                               "other")]
    ll = "n/a (variational)" if e["loglik_per_token"] is None else f"{e['loglik_per_token']:.4f}"
    d = e["runs"][0]["details"]
    exch = ("-" if "exchange_bytes_per_iter" not in d
            else f"{d['exchange_bytes_per_iter'] / 2**20:,.1f}")
    state = "-" if "state_bytes_per_token" not in d else f"{d['state_bytes_per_token']:.1f}"
    return [name, str(e["iterations"]), f"{e['tokens_per_s']:,.0f}",
            f"{e['tokens_per_s_whole_run']:,.0f}", f"{e['whole_run_s']:.4g}",
            f"{s['total']:.4g}", *split,
            exch, state,
            ", ".join(f"{b / 2**20:,.0f}" for b in e["peak_rss_bytes"]), ll,
            f"{e['heldout_perplexity']:,.1f}"]


def _ttq_lines(K, t):
    """The time-to-quality table of one K (``t``: bench.json's ``ttq[K]``)."""
    if t is None:
        return []
    if t["target"] is None:
        return [f"Time to quality at K = {K}: no target ({t['source']}).", ""]
    lines = [f"Time to quality at K = {K}: P* = {t['target']:,.1f}, {t['source']}"
             + (f"; reference {t['reference']}." if t["reference"] else "."), "",
             "| " + " | ".join(TTQ_COLUMNS) + " |", "|---|---:|---:|---|"]
    for name, q in t["systems"].items():
        if not q["reached"]:
            sec, ratio = "not reached", "-"
        else:
            sec = ("<= " if q["bound"] == "at most" else "") + f"{q['seconds']:.4g}"
            ratio = "-" if q["x_reference"] is None else f"{q['x_reference']:.2f}"
        around = "; ".join(f"iteration {p['iteration']}: {p['perplexity']:,.1f} at "
                           f"{p['seconds']:.4g} s" for p in q["points"])
        if not q["reached"]:
            around = f"last: {around}"
        lines.append(f"| {name} | {sec} | {ratio} | {around} |")
    return [*lines, ""]


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (:func:`esca._io.atomic_path`).

    Parameters
    ----------
    path : str
        The file written.
    text : str
        Its contents.
    """
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)
