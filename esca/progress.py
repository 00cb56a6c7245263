"""Progress reports of long runs: a tqdm bar on a terminal, plain log lines elsewhere.

The library never prints and never draws a bar by itself. Long loops report to
an object that their caller passes in:

* :func:`esca.train` reports every iteration to a :class:`TrainProgress`
  (``progress=``; rank 0 only). Its default logs one INFO line per iteration
  on the ``esca.progress`` logger, as esca always did; ``progress=True``
  draws the bar of ``esca train``, ``progress=False`` reports nothing.
  ``esca train`` off a terminal logs the first iteration, those with a
  log-likelihood, the last, and one every 10 seconds (``log_every=None``).
* :func:`esca.corpora.prepare.prepare_corpus` and ``esca infer`` call a
  ``progress(stage, done, total)`` callable, such as a :class:`StageProgress`,
  every so many documents.

The command line decides what is shown (see ``cli/main.py``): a bar on
standard error when standard error is a terminal, on rank 0, without
``--quiet``; log lines through :mod:`logging` otherwise. While bars can be
drawn it routes the ``esca`` log handler through ``tqdm.write`` (tqdm's
``logging_redirect_tqdm``), so that log lines appear above the bar instead of
breaking it. A library user who asks for a bar and logs to the same terminal
should do the same.
"""

import logging
import math
import sys
import time

from tqdm import tqdm

from ._checks import check_int

log = logging.getLogger(__name__)

#: Seconds a stage of :class:`StageProgress` runs before its bar appears (short inputs show none).
BAR_DELAY = 1.0
#: Seconds between two log lines of a stage of :class:`StageProgress` without a bar.
LOG_INTERVAL = 10.0


def _tqdm(**kwargs):
    return tqdm(dynamic_ncols=True, **kwargs)


#: StageProgress bars: exact counts, the rate with k/M suffixes.
_KNOWN = "{l_bar}{bar}| {n:,}/{total:,} [{elapsed}<{remaining}, {rate_fmt}]"
_UNKNOWN = "{desc}: {n:,}{unit} [{elapsed}, {rate_fmt}]"


def _fmt_rate(x):
    return "inf" if math.isinf(x) else f"{x:,.0f}"


class TrainProgress:
    """The progress report of a training run: log lines, a tqdm bar, or both.

    :func:`esca.train` calls, on rank 0 only, :meth:`start` before the first
    iteration, :meth:`update` after every iteration and :meth:`close` at the
    end, also when the run stops with an error. The default object,
    ``TrainProgress()``, logs every iteration and draws no bar.

    Log line (INFO on the ``esca.progress`` logger)::

        iter    10     0.046 s     7,212,930 tokens/s  LL/token -8.6120

    With ``log_every=N`` a line follows every N-th iteration (counted from
    iteration 1, also when resuming) and the last one. With
    ``log_every=None`` (what ``esca train`` does off a terminal) a line
    follows the first iteration, every iteration whose log-likelihood was
    computed (every ``eval_every`` iterations), the last one, and any
    iteration ending ``interval`` seconds or more after the previous line.
    ``LL/token`` (the training log-likelihood per token) appears only on
    iterations where it was computed: every ``eval_every`` iterations and the
    last. The first line of a run that compiles the Numba kernels (the first
    run in a process with an empty Numba cache) ends with ``(compiling)``:
    its seconds include the compilation.

    Bar (``bar=True``), on ``file``, with the rate of the latest iteration and
    the latest log-likelihood per token computed (once there is one); it reads
    ``train (compiling)`` until the first iteration of a compiling run ends::

        train:  50%|█████     | 6/12 [00:00<00:00, 21.6it/s, 7,212,930 tokens/s, LL/token -8.6120]

    Parameters
    ----------
    log_every : int or None
        Log a line after every this many iterations and after the last one;
        0: no iteration lines; None: every ``interval`` seconds and at every
        log-likelihood (see above). Default 1.
    bar : bool
        Draw a tqdm bar (default False).
    file : file object, optional
        Where the bar is drawn; default ``sys.stderr`` (read when the bar starts).
    interval : float, optional
        Seconds between two lines with ``log_every=None``; default
        :data:`LOG_INTERVAL` (10).
    clock : callable, optional
        Returns the time in seconds (default :func:`time.monotonic`); for tests.

    Raises
    ------
    ValueError
        If ``log_every`` is not None or an integer >= 0.
    """

    def __init__(self, log_every=1, bar=False, file=None, interval=None, clock=None):
        if log_every is not None:
            log_every = check_int("log_every", log_every, 0)
        self.log_every = log_every
        self.bar = bool(bar)
        self.file = file
        self.interval = LOG_INTERVAL if interval is None else interval
        self.clock = time.monotonic if clock is None else clock
        self.total = None
        self._bar = None
        self._ll = math.nan
        self._compiling = False
        self._first = True
        self._last_log = 0.0

    def start(self, first, total, compiling=False):
        """Begin the report: iterations ``first`` .. ``total`` are about to run.

        Parameters
        ----------
        first : int
            The first iteration to run (1, or one after a resumed checkpoint's).
        total : int
            The last iteration.
        compiling : bool
            Whether the first iteration compiles the Numba kernels (default
            False); :func:`esca.train` tells.
        """
        self.total = total
        self._compiling, self._first = bool(compiling), True
        self._last_log = self.clock()
        if self.bar:
            desc = "train (compiling)" if self._compiling else "train"
            self._bar = _tqdm(total=total, initial=first - 1, desc=desc, unit="it",
                              file=self.file if self.file is not None else sys.stderr,
                              leave=True)

    def update(self, record):
        """Report one finished iteration.

        Parameters
        ----------
        record : dict
            At least ``iteration`` (int), ``seconds``, ``tokens_per_s`` and
            ``loglik_per_token`` (float; NaN when not computed this iteration),
            as in :data:`esca.model.LOG_FIELDS`.
        """
        it, ll = record["iteration"], record["loglik_per_token"]
        if not math.isnan(ll):
            self._ll = ll
        if self._bar is not None:
            last = "" if math.isnan(self._ll) else f", LL/token {self._ll:.4f}"
            if self._first and self._compiling:
                self._bar.set_description_str("train", refresh=False)
            self._bar.set_postfix_str(f"{_fmt_rate(record['tokens_per_s'])} tokens/s{last}",
                                      refresh=False)
            self._bar.update(1)
        now = self.clock()
        if self.log_every is None:
            due = (self._first or not math.isnan(ll) or it == self.total
                   or now - self._last_log >= self.interval)
        else:
            due = self.log_every and (it % self.log_every == 0 or it == self.total)
        if due:
            log.info("iter %5d  %8.3f s  %12s tokens/s%s%s", it, record["seconds"],
                     _fmt_rate(record["tokens_per_s"]),
                     "" if math.isnan(ll) else f"  LL/token {ll:.4f}",
                     "  (compiling)" if self._first and self._compiling else "")
            self._last_log = now
        self._first = False

    def close(self):
        """End the report (closes the bar, leaving its last state on the terminal)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class StageProgress:
    """A ``progress(stage, done, total)`` callable: a tqdm bar or log lines per stage.

    Long loops (the passes of ``esca prepare``, the fold-in of ``esca
    infer``) call it every so many items with the stage's name, the items
    done so far and the total (None while unknown); the last call of a stage
    has ``done == total``. A call with a new stage name ends the previous
    stage.

    With ``bar=True`` each stage gets a tqdm bar on ``file``, drawn only once
    the stage has run ``delay`` seconds, so that short inputs show nothing::

        writing:  45%|████▌     | 90,000/200,000 [00:02<00:02, 45.1k docs/s]
        vocabulary: 120,000 docs [00:02, 59.8k docs/s]          (total unknown)

    Otherwise a stage logs a line (INFO on the ``esca.progress`` logger) each
    time ``interval`` seconds have passed since its start or its previous
    line, and a last line when it ends if it logged any::

        writing: 90,000 of 200,000 docs (45%), 45,112 docs/s
        vocabulary: 120,000 docs, 59,804 docs/s

    Parameters
    ----------
    bar : bool
        Draw tqdm bars (default False: log lines).
    unit : str
        What is counted (default ``"docs"``).
    delay : float, optional
        Seconds before a stage's bar appears; default :data:`BAR_DELAY` (1).
    interval : float, optional
        Seconds between two log lines of a stage; default :data:`LOG_INTERVAL` (10).
    file : file object, optional
        Where bars are drawn; default ``sys.stderr``.

    Notes
    -----
    Use it as a context manager, or call :meth:`close`, so that a stage that
    stopped early (an error) closes its bar.
    """

    def __init__(self, bar=False, unit="docs", delay=None, interval=None, file=None):
        self.bar = bool(bar)
        self.unit = unit
        self.delay = BAR_DELAY if delay is None else delay
        self.interval = LOG_INTERVAL if interval is None else interval
        self.file = file
        self._stage = self._finished = None
        self._bar = None
        self._done = 0
        self._t0 = self._last_log = 0.0
        self._logged = False

    def __call__(self, stage, done, total=None):
        """Report that ``done`` of ``total`` items of ``stage`` are done."""
        if total is not None and done > total:
            total = done  # never let a bar run past its end
        if stage == self._finished and total is not None and done >= total:
            return  # a repeated last call of the stage that just ended
        if stage != self._stage:
            self.close()
            self._begin(stage, total)
        if self._bar is not None:
            if total is not None and self._bar.total != total:
                self._bar.total = total
                self._bar.bar_format = _KNOWN
            self._bar.update(done - self._done)
        self._done = done
        now = time.perf_counter()
        if self._bar is None and done and now - self._last_log >= self.interval:
            self._log(done, total, now)
        if total is not None and done >= total:
            if self._bar is None and self._logged and now != self._last_log:
                self._log(done, total, now)
            self.close()
            self._finished = stage

    def _begin(self, stage, total):
        self._stage, self._done, self._logged, self._finished = stage, 0, False, None
        self._t0 = self._last_log = time.perf_counter()
        if self.bar:
            self._bar = _tqdm(total=total, desc=stage, unit=" " + self.unit, unit_scale=True,
                              bar_format=_UNKNOWN if total is None else _KNOWN,
                              delay=self.delay, leave=True,
                              file=self.file if self.file is not None else sys.stderr)

    def _log(self, done, total, now):
        rate = done / (now - self._t0) if now > self._t0 else math.inf
        if total:
            log.info("%s: %s of %s %s (%.0f%%), %s %s/s", self._stage, f"{done:,}", f"{total:,}",
                     self.unit, 100.0 * done / total, _fmt_rate(rate), self.unit)
        else:
            log.info("%s: %s %s, %s %s/s", self._stage, f"{done:,}", self.unit, _fmt_rate(rate),
                     self.unit)
        self._last_log, self._logged = now, True

    def close(self):
        """End the current stage (closes its bar); the next call starts a new one."""
        if self._bar is not None:
            self._bar.close()
        self._bar, self._stage = None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
