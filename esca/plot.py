"""PNG plots of a trained model: its training curves and the top words of its topics.

:func:`plot_model` writes, into one folder,

=======================  ==================================================================
``loglik_iteration.png``  log-likelihood per token against iteration
``loglik_seconds.png``    log-likelihood per token against cumulative training seconds
``tokens_per_s.png``      sampling throughput (tokens per second) of every iteration
``top_words.png``         a grid of horizontal bar charts, one per topic: its top words by phi
=======================  ==================================================================

The curves come from ``model.log`` (see :mod:`esca.model`). The
log-likelihood is computed only every ``eval_every`` iterations and is NaN
in between; only the evaluated points are drawn. ``seconds`` is the sweep
plus count exchange of each iteration without the log-likelihood
evaluation, so the time axis is the cumulative training time, not wall time.

Figures are drawn with matplotlib's object-oriented API on Agg canvases
(:class:`matplotlib.figure.Figure`, never ``pyplot``), so plotting neither
needs a display nor changes the backend of the calling program.
"""

import math
import os
import warnings

import numpy as np

from ._io import (
    atomic_output,
    check_not_input,
    check_output_dir,
    check_outputs_not_inputs,
    output_folder,
)
from .errors import UserError
from .model import top_word_ids

PLOT_FILES = ("loglik_iteration.png", "loglik_seconds.png", "tokens_per_s.png", "top_words.png")
MAX_TOPICS = 20  # topics in top_words.png unless chosen with ``topics``
GRID_COLUMNS = 5
DPI = 100


def _text(s):
    """Text shown literally by matplotlib: ``$`` would start mathtext."""
    return str(s).replace("$", r"\$")


def new_figure(figsize):
    """A matplotlib Figure on the Agg canvas (no pyplot, no global backend state).

    Parameters
    ----------
    figsize : tuple of float
        (width, height) in inches.

    Returns
    -------
    matplotlib.figure.Figure
        With the constrained layout.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow matplotlib
    from matplotlib.figure import Figure  # noqa: PLC0415 - slow matplotlib
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path, dpi=DPI):
    """Write ``fig`` as a PNG on a white background, atomically
    (:func:`esca._io.atomic_output`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str
        The file written.
    dpi : int
        Dots per inch.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    esca.errors.WriteError
        The disk is full or the file cannot be written; ``path`` is left as it was.
    """
    with atomic_output(path) as tmp, warnings.catch_warnings():
        # Words in scripts the default font lacks are drawn as boxes; do not warn per glyph.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    return path


def _log(model, name):
    """``model.log[name]`` as float64, None if missing or not one number per logged iteration.

    A log without ``iteration`` is numbered 1, 2, ...; a field that is not 1-D numeric or
    whose length differs from the others is left out (:meth:`esca.TopicModel.load` refuses
    such a file; a model built in memory may still hold one).
    """
    lengths = [np.shape(v)[0] for v in model.log.values() if np.ndim(v) == 1]
    if name == "iteration" and name not in model.log and lengths:
        return np.arange(1, max(lengths) + 1, dtype=np.float64)
    v = model.log.get(name)
    if v is None or np.ndim(v) != 1 or np.asarray(v).dtype.kind not in "iuf" \
            or len(v) != max(lengths):
        return None
    return np.asarray(v, dtype=np.float64)


def _integer_x(ax):
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 - slow matplotlib
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax, message):
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True,
            color="0.3")


def _title(model):
    K, V, N = model.num_topics, model.num_words, model.num_tokens
    sampler = getattr(model.config, "sampler", "")
    return _text(f"{sampler} K={K}, V={V:,}, N={N:,}".strip())


def plot_loglik(model, path, x="iteration", dpi=DPI):
    """Plot log-likelihood per token against ``x`` ("iteration" or "seconds") to ``path``.

    Only iterations where it was evaluated (finite values) are drawn. With
    ``x="seconds"`` the axis is the cumulative ``log["seconds"]``.

    Returns
    -------
    str
        ``path``.
    """
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    ll = _log(model, "loglik_per_token")
    xs = _log(model, "iteration") if x == "iteration" else _log(model, "seconds")
    if x == "seconds" and xs is not None:
        xs = np.cumsum(np.where(np.isfinite(xs), xs, 0.0))  # an unmeasured iteration: 0 s
    label = ("iteration" if x == "iteration" else
             "training time, s (cumulative sweep + count exchange)")
    ax.set_xlabel(label)
    ax.set_ylabel("log-likelihood per token")
    ax.set_title(_title(model))
    ok = None if ll is None or xs is None or len(ll) != len(xs) else np.isfinite(ll)
    if ok is None or not ok.any():
        _empty(ax, "no log-likelihood in the training log\n(esca train --eval-every N)")
    else:
        ax.plot(xs[ok], ll[ok], marker="o", markersize=3, linewidth=1.5)
        ax.grid(True, alpha=0.3)
    if x == "iteration":
        _integer_x(ax)
    return save_png(fig, path, dpi)


def plot_throughput(model, path, dpi=DPI):
    """Plot tokens per second of every iteration to ``path``; returns ``path``.

    The first iteration usually includes Numba's compilation and is slower.
    """
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    it, tps = _log(model, "iteration"), _log(model, "tokens_per_s")
    ax.set_xlabel("iteration")
    ax.set_ylabel("tokens per second")
    if it is None or tps is None or len(it) != len(tps) or not np.isfinite(tps).any():
        ax.set_title(_title(model))
        _empty(ax, "no throughput in the training log")
    else:
        ok = np.isfinite(tps)
        ax.plot(it[ok], tps[ok] / 1e6, marker=".", linewidth=1)
        rest = tps[ok][1:] if ok.sum() > 1 else tps[ok]
        ax.set_ylabel("million tokens per second")
        ax.set_title(_title(model) + f"\nmedian {np.median(rest) / 1e6:,.3g} M tokens/s "
                     "after the first iteration (which includes compiling)", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    _integer_x(ax)
    return save_png(fig, path, dpi)


def choose_topics(num_topics, topics=None, max_topics=MAX_TOPICS):
    """The topics to draw: ``topics`` checked, or the first ``max_topics``.

    Raises
    ------
    UserError
        If a topic is outside 0..K-1 or the list is empty.
    """
    if topics is None:
        return list(range(min(num_topics, max_topics)))
    topics = [int(k) for k in topics]
    if not topics:
        raise UserError("no topics chosen")
    bad = [k for k in topics if not 0 <= k < num_topics]
    if bad:
        raise UserError(f"topic {bad[0]} does not exist; the model has topics 0..{num_topics - 1}")
    return list(dict.fromkeys(topics))


def plot_top_words(model, path, top=10, topics=None, dpi=DPI):
    """Draw a grid of horizontal bar charts of the top words of topics to ``path``.

    One panel per topic, at most :data:`GRID_COLUMNS` per row: its ``top``
    words by phi_kw (most probable at the top, ties by lower word id), bar
    length phi_kw; the panel title gives the topic's number and its share of
    the training tokens n_k / N, and its label when it has one. Every panel has
    the same x axis (0 to the largest phi_kw drawn, plus 10%), so bars compare
    across topics, with at most four ticks labelled in percent.

    Parameters
    ----------
    model : esca.TopicModel
    path : str
    top : int
        Words per topic, >= 1.
    topics : sequence of int, optional
        Topics to draw, in this order; default the first :data:`MAX_TOPICS`.
    dpi : int

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    UserError
        Bad ``top`` or ``topics``.
    """
    if int(top) < 1:
        raise UserError(f"top must be >= 1, got {top}")
    chosen = choose_topics(model.num_topics, topics)
    ncols = min(GRID_COLUMNS, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    rows_height = (0.22 * min(top, model.num_words) + 0.9) * nrows
    from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: PLC0415 - slow matplotlib
    # at least 6.4 inches wide, so that one or two panels leave room for the titles
    fig = new_figure((max(3.2 * ncols, 6.4), 0.5 + max(rows_height, 2.5)))
    N = max(model.num_tokens, 1)
    bars = []
    ranked = top_word_ids(model.n_kw[chosen], top)
    labels = model.labels
    for i, k in enumerate(chosen):
        ids = ranked[i]
        phi_k = (model.n_kw[k, ids] + model.beta) / (model.n_k[k] + model.num_words * model.beta)
        bars.append((k, ids, phi_k))
    xmax = max(max(float(phi_k.max()) for _, _, phi_k in bars) * 1.1, 1e-12)
    first = None
    for i, (k, ids, phi_k) in enumerate(bars):
        ax = fig.add_subplot(nrows, ncols, i + 1, sharex=first)
        first = first or ax
        y = np.arange(len(ids))[::-1]
        ax.barh(y, phi_k, color="C0")
        ax.set_yticks(y, [_text(model.vocab[w]) for w in ids], fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(_text(f"topic {k}" + (f": {labels[k]}" if labels[k] else "")
                           + f" ({100.0 * model.n_k[k] / N:.1f}%)"), fontsize=9)
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
    first.set_xlim(0, xmax)
    first.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    first.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{100.0 * x:.4g}%"))
    shown = "" if len(chosen) == model.num_topics else f" (topics shown: {len(chosen)})"
    fig.suptitle(_text(f"top {min(top, model.num_words)} words per topic by phi, "
                       f"K={model.num_topics}{shown}"),
                 fontsize=11)
    fig.supxlabel("phi: the word's probability in the topic (same scale in every panel)",
                  fontsize=9)
    return save_png(fig, path, dpi)


def plot_model(model, out_dir, *, top=10, topics=None, dpi=DPI, protect=()):
    """Write the training curves and the top-word grid of ``model`` as PNGs into ``out_dir``.

    Parameters
    ----------
    model : esca.TopicModel
    out_dir : str or os.PathLike
        Created if missing (its parent must exist). Each file is written
        atomically: an earlier plot of the same name is replaced whole or kept.
    top : int
        Words per topic in ``top_words.png`` (default 10).
    topics : sequence of int, optional
        Topics for ``top_words.png``; default the first 20 (a grid of all
        topics of a large model would be unreadable).
    dpi : int
        Resolution (default 100: 640 x 420 pixels for a curve).
    protect : iterable of (str, str)
        ``(name, path)`` of the inputs, e.g. ``[("MODEL.h5", "m.h5")]``: a plot that
        would replace one of them (also through links) raises :class:`UserError`.

    Returns
    -------
    list of str
        Paths of ``loglik_iteration.png``, ``loglik_seconds.png``,
        ``tokens_per_s.png`` and ``top_words.png``.

    Raises
    ------
    UserError
        If ``out_dir`` cannot be created or written, or on bad ``top``,
        ``topics`` or ``dpi``, or a plot would replace one of ``protect``.
    """
    check_not_input(out_dir, protect)
    check_outputs_not_inputs(out_dir, PLOT_FILES, protect)
    out_dir = os.path.abspath(os.fspath(out_dir))
    if not 10 <= int(dpi) <= 1000:
        raise UserError(f"dpi must be between 10 and 1000, got {dpi}")
    if int(top) < 1:
        raise UserError(f"top must be >= 1, got {top}")
    choose_topics(model.num_topics, topics)  # fail before writing anything
    check_output_dir(out_dir)
    if os.path.isdir(out_dir) and not os.access(out_dir, os.W_OK):
        raise UserError(f"output folder is not writable: {out_dir}")
    p = [os.path.join(out_dir, name) for name in PLOT_FILES]
    with output_folder(out_dir):  # a new folder goes again if no plot could be written
        return [plot_loglik(model, p[0], "iteration", dpi),
                plot_loglik(model, p[1], "seconds", dpi),
                plot_throughput(model, p[2], dpi), plot_top_words(model, p[3], top, topics, dpi)]
