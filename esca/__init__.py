"""esca: parallel LDA topic models with the ESCA sampler.

ESCA (Exponential Stochastic Cellular Automata; Zaheer, Wick, Tristan, Smola
and Steele, AISTATS 2016) resamples every token's topic in parallel from the
previous iteration's count tables. This package holds the Numba kernels, the
MPI count exchange, the HDF5 corpus and model formats, and the gensim export.
"""

from ._version import __version__
from .config import CheckpointPolicy, TrainConfig
from .corpus import Corpus, read_corpus, write_corpus
from .errors import UserError
from .model import TopicModel, load_model
from .train import train

__all__ = ["LDA", "CheckpointPolicy", "Corpus", "TopicModel", "TrainConfig", "UserError",
           "__version__", "load_model", "read_corpus", "train", "write_corpus"]


def __getattr__(name):
    """``esca.LDA`` (:mod:`esca.estimator`), imported on first use: importing scikit-learn
    takes longer than the rest of esca, and the command line does not need it."""
    if name == "LDA":
        from .estimator import LDA  # noqa: PLC0415 - scikit-learn is slow to import
        return LDA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), "LDA"})
