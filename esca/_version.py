"""The version of esca, in one place.

Modules that stamp files with it (corpus, model, checkpoint, benchmark reports) and the
packaging metadata (``pyproject.toml`` reads it with setuptools' ``attr:``) import it from
here, not from :mod:`esca` (whose ``__init__`` imports those modules: an arrow against the
data flow).
"""

__version__ = "0.1.0"
