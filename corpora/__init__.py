"""Readers and converters for real corpus formats (installed as ``esca.corpora``)."""

from .prepare import FORMATS, prepare_corpus

__all__ = ["FORMATS", "prepare_corpus"]
