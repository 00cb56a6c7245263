"""The two figures of ``esca bench``: tokens per second, and held-out perplexity against
training seconds."""

import math
import os

import numpy as np

from ..plot import new_figure, save_png
from .systems import SYSTEMS

#: Resolution of the bench figures (and of the experiments' figures).
BENCH_DPI = 120


def _color(name):
    return f"C{list(SYSTEMS).index(name) % 10}"


def plot_tokens_per_s(report, path):
    """Grouped bars of tokens/s: one group per system, one bar per K, log y axis."""
    results = report["results"]
    names = [n for n in report["config"]["systems"]
             if any(rows[n]["status"] == "ok" for rows in results.values())]
    fig = new_figure((max(6.0, 1.0 * len(names) + 2), 4.8))
    ax = fig.add_subplot()
    x, width = np.arange(len(names)), 0.8 / len(results)
    for j, (K, rows) in enumerate(results.items()):
        tps = [rows[n]["tokens_per_s"] if rows[n]["status"] == "ok" else math.nan for n in names]
        ax.bar(x + (j - (len(results) - 1) / 2) * width, tps, width, label=f"K = {K}")
    if names:
        ax.set_yscale("log")
        ax.legend()
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel("tokens/s (median; log scale)")
    ax.set_title(f"Training throughput on {os.path.basename(report['config']['corpus'])}")
    save_png(fig, path, dpi=BENCH_DPI)


def perplexity_figure(report):
    """Held-out perplexity against training seconds (whole-run clock): one panel per K, one
    line per system that has evaluation points (a system evaluated once is one marker), and
    the time-to-quality target P* of that K, when there is one, as a dashed horizontal line
    labelled "P* = ...".

    Parameters
    ----------
    report : dict
        bench.json's content (``results`` and, optionally, ``ttq``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    results = report["results"]
    fig = new_figure((4.5 * len(results) + 2.5, 4.5))
    legend = {}
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    for ax, (K, rows) in zip(axes, results.items(), strict=True):
        for name, e in rows.items():
            if e["status"] == "ok" and e.get("curve"):
                legend[name], = ax.plot([p["seconds"] for p in e["curve"]],
                                        [p["perplexity"] for p in e["curve"]], marker="o",
                                        markersize=3, color=_color(name), label=name)
        if ax.lines:
            ax.set_xscale("log")
        target = report.get("ttq", {}).get(K, {}).get("target")
        if target is not None:
            legend["P*"] = ax.axhline(target, color="black", linestyle="--", linewidth=1,
                                      label=f"P* = {target:,.1f}")
            ax.annotate(f"P* = {target:,.1f}", (0.01, target), xycoords=("axes fraction",
                                                                          "data"),
                        va="bottom", fontsize=8)
        ax.set_xlabel("training seconds (log scale; whole run, evaluation and JIT excluded)")
        ax.set_ylabel("held-out perplexity")
        ax.set_title(f"K = {K}")
    if legend:
        fig.legend(legend.values(), legend.keys(), loc="outside right upper", fontsize=8)
    return fig


def plot_perplexity(report, path):
    """Write :func:`perplexity_figure` of ``report`` as a PNG to ``path``."""
    save_png(perplexity_figure(report), path, dpi=BENCH_DPI)
