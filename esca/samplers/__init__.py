"""Samplers: ESCA (parallel, stale tables) and the collapsed Gibbs baseline."""

from .cgs import CgsSampler
from .esca import EscaSampler

SAMPLERS = {"esca": EscaSampler, "cgs": CgsSampler}

__all__ = ["SAMPLERS", "CgsSampler", "EscaSampler"]
