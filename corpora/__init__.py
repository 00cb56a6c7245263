"""Readers and converters for real corpus formats (installed as ``esca.corpora``)."""

from .prepare import FORMATS, prepare_corpus
from .text import Tokenizer

__all__ = ["FORMATS", "Tokenizer", "prepare_corpus"]
