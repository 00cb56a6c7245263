"""Samplers: ESCA (parallel, stale tables) and the collapsed Gibbs baseline.

``kernels`` is the module of their Numba kernels (``esca.samplers._kernels``), named
publicly for profiling and for scripts that time one kernel on real counts
(``experiments/profile_sweep.py``); its functions take and return plain arrays, with the
shapes and dtypes its docstring lists.
"""

from . import _kernels as kernels
from .cgs import CgsSampler
from .esca import EscaSampler

SAMPLERS = {"esca": EscaSampler, "cgs": CgsSampler}

__all__ = ["SAMPLERS", "CgsSampler", "EscaSampler", "kernels"]
