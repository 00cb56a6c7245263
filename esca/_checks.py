"""The validators of integers, seeds, priors and fractions shared by the library and the CLI.

Integers are checked as integers: a Python ``int`` or a numpy integer is accepted at any
size and compared exactly with its bounds (never through ``float``, which rounds every
integer above 2**53, so that 2**63 - 1 compared equal to 2**63). ``bool`` is refused, and
so are floats, strings and everything else without ``__index__``.

Ranges that many parts of esca share are defined here once:

``MAX_SEED`` = 2**63 - 1
    Seeds (``--seed``, ``TrainConfig.seed``, ``LDA(random_state=...)``, the seeds of
    fold-in, document completion, left-to-right and hold-out splits). The random numbers
    are Philox4x32-10 keyed by the 64-bit seed (:mod:`esca.rng`), which could take
    0..2**64-1; the range is that of a signed 64-bit integer so that a seed fits the
    int64 of HDF5 attributes, numpy and MPI messages, and Java's (Mallet's) ``long``.
``MAX_ITERATIONS`` = 2**32 - 1
    Iterations and sweeps: the iteration number is one 32-bit word of the Philox
    counter, so iteration 2**32 would repeat the random numbers of iteration 0.
``MIN_PRIOR`` = 1e-100, ``MAX_PRIOR`` = 1e6
    Every alpha_k and beta (:func:`check_prior`). Below, the sparse kernel's smoothing
    mass alpha_k beta / (n_k + V beta) underflows to 0 (alpha = beta = 1e-300 divides by
    zero there), alpha = 1e-320 gives a log-likelihood of -inf, and the prior optimizer
    NaN through digamma(alpha) ~ -1/alpha; at 1e-100 that mass is still above 1e-219 for
    any corpus of fewer than 10**19 tokens, and lgamma and digamma are finite and
    accurate. Above, the log-likelihood's sum of lgamma(n + beta) - lgamma(beta) loses
    its information in rounding: the error is about 2**-52 beta ln(beta) per table entry,
    3e-9 at 1e6. Measured on a K=5, V=30 corpus (the limit is -ln 30 - ln 5 = -5.0106353
    per token): 1e6 gives -5.0106353, 1e10 -5.0106538, 1e15 -3.44 and beta = 1e300 -1.46.
"""

import math
import numbers
import operator

import numpy as np

from .errors import UserError

MAX_SEED = 2**63 - 1
MAX_ITERATIONS = 2**32 - 1


def _show(n):
    """An integer bound as written in the docs: ``2**63-1`` rather than 19 digits."""
    for e in range(31, 65):
        if n == 2**e - 1:
            return f"2**{e}-1"
        if n == 2**e:
            return f"2**{e}"
    return str(n)


def check_int(name, value, lo=None, hi=None):
    """``value`` as a Python int, or a :class:`~esca.errors.UserError` naming ``name``.

    Parameters
    ----------
    name : str
        How the value is named in the message (``"seed"``, ``"--iterations"``,
        ``"LDA: max_iter"``).
    value : int or numpy integer
        bool, float (even ``3.0``), str and other types are refused.
    lo, hi : int, optional
        Inclusive bounds.

    Returns
    -------
    int

    Raises
    ------
    UserError
        ``NAME must be an integer, got VALUE`` or, out of range, ``NAME must be >= LO, got
        VALUE`` / ``NAME must be in LO..HI, got VALUE`` (one line; bounds of the form
        2**e - 1 are written so).
    """
    if isinstance(value, (bool, np.bool_)):
        raise UserError(f"{name} must be an integer, got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise UserError(f"{name} must be an integer, got {_short(value)}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if hi is None:
            rng = f">= {_show(lo)}"
        elif lo is None:
            rng = f"<= {_show(hi)}"
        else:
            rng = f"in {_show(lo)}..{_show(hi)}"
        raise UserError(f"{name} must be {rng}, got {_short(v)}")
    return int(v)


def check_seed(name, value):
    """A seed: :func:`check_int` in 0..:data:`MAX_SEED`."""
    return check_int(name, value, 0, MAX_SEED)


MIN_PRIOR = 1e-100
MAX_PRIOR = 1e6


def check_prior(name, value):
    """A Dirichlet prior value (alpha_k or beta) as a float in MIN_PRIOR..MAX_PRIOR.

    Raises
    ------
    UserError
        ``NAME must be a number``, ``NAME must be a finite number > 0`` (0, negative,
        NaN, inf) or ``NAME must be in 1e-100..1e6 ...`` (see the module docstring).
    """
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{name} must be a number, got {_short(value)}") from None
    if not math.isfinite(v) or v <= 0:
        raise UserError(f"{name} must be a finite number > 0, got {_short(value)}")
    if not MIN_PRIOR <= v <= MAX_PRIOR:
        raise UserError(f"{name} must be in 1e-100..1e6 (where the log-likelihood and the "
                        f"prior optimization stay accurate in float64), got {v!r}")
    return v


def check_fraction(name, value, *, one=False):
    """A fraction in (0, 1), or (0, 1] with ``one``, as given (int or float).

    Parameters
    ----------
    name : str
        How the value is named in the message (``"holdout"``, ``"--holdout"``).
    value : real number
        bool, str and other types are refused.
    one : bool
        Accept 1 (``no_above=1`` keeps every word).

    Returns
    -------
    int or float
        ``value`` unchanged.

    Raises
    ------
    UserError
        ``NAME must be a fraction in (0, 1), got VALUE`` (``(0, 1]`` with ``one``).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) \
        and 0 < value and (value <= 1 if one else value < 1)
    if not ok:
        raise UserError(f"{name} must be a fraction in (0, {'1]' if one else '1)'}, "
                        f"got {_short(value)}")
    return value


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
