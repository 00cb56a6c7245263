"""Tokenizing raw text: ``esca prepare --tokenize`` and the Python side.

The tokens are gensim's: those of :func:`gensim.utils.tokenize` (maximal runs of letters,
no digits, after optional lowercasing and :func:`gensim.utils.deaccent`), kept when they are
``min_length`` to ``max_length`` characters long and do not start with ``_``. With the
defaults this is exactly ``gensim.utils.simple_preprocess(text, deacc=True)``. A
``token_pattern`` (a regular expression, as scikit-learn's ``CountVectorizer`` takes)
replaces the runs of letters; every match is a token.

Optional cleaning (``clean``) runs on a document's text first:

``newsgroups``
    The cleaning of the 20 Newsgroups posts in ``esca corpora fetch 20newsgroups``
    (:func:`newsgroup_text`): header block dropped except its Subject, quoted lines dropped.
``wikipedia``
    :func:`gensim.corpora.wikicorpus.filter_wiki`: MediaWiki markup (templates, links,
    tables, references, comments) removed, as gensim's ``WikiCorpus`` does.

A :class:`Tokenizer`'s settings are stored in the ``provenance`` of the corpora
``esca prepare --tokenize`` writes (:meth:`Tokenizer.to_dict`), so that new text can be
tokenized the same way with :meth:`Tokenizer.from_corpus`.
"""

import dataclasses
import json
import re

from esca._checks import check_int
from esca.corpus import read_corpus_attrs
from esca.errors import UserError

from .readers import check_file, read_word_list

DEFAULT_MIN_LENGTH = 2
DEFAULT_MAX_LENGTH = 15
CLEANERS = ("newsgroups", "wikipedia")
#: Name of the built-in English stop-word list: gensim's 337 words.
ENGLISH = "english"
STOPWORDS_SOURCE = "gensim.parsing.preprocessing.STOPWORDS"
#: Longest stop-word list (in JSON characters) stored in a corpus's provenance attribute;
#: a longer list is stored as its file name only (HDF5 attributes hold at most 64 KiB).
MAX_STORED_CHARS = 30_000

#: gensim's ``PAT_ALPHABETIC``, ``(((?![\d])\w)+)`` (used by ``gensim.utils.simple_tokenize``),
#: written without the per-character look-ahead: the same matches, about twice as fast.
_LETTER_RUNS = re.compile(r"[^\W\d]+")

#: Lines that quote another post (scikit-learn's ``strip_newsgroup_quoting`` pattern).
_QUOTE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")
_RE_PREFIX = re.compile(r"^(\s*re\s*:\s*)+", re.IGNORECASE)


def english_stopwords():
    """gensim's English stop words (``gensim.parsing.preprocessing.STOPWORDS``), a frozenset."""
    from gensim.parsing.preprocessing import STOPWORDS  # noqa: PLC0415 - gensim is slow to import
    return STOPWORDS


def newsgroup_text(raw):
    """The text of one 20 Newsgroups post that is kept: its subject and unquoted body.

    Bytes are decoded as Latin-1 (as scikit-learn does); line endings are normalized to
    ``\\n``. The header block (up to the first blank line) is dropped except the Subject,
    without leading ``Re:``; body lines that quote another post (``>``, ``|``,
    "... writes:", "In article ...") are dropped. Signatures are kept.

    Parameters
    ----------
    raw : bytes or str
        One whole post, headers included.

    Returns
    -------
    str
    """
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    header, _, body = text.partition("\n\n")
    subject = ""
    for line in header.splitlines():
        if line.lower().startswith("subject:"):
            subject = _RE_PREFIX.sub("", line[len("subject:"):]).strip()
            break
    kept = [line for line in body.split("\n") if not _QUOTE.search(line)]
    return subject + "\n" + "\n".join(kept)


def wikipedia_text(markup):
    """An article's MediaWiki markup as plain text
    (:func:`gensim.corpora.wikicorpus.filter_wiki`)."""
    from gensim.corpora.wikicorpus import filter_wiki  # noqa: PLC0415 - gensim is slow to import
    return filter_wiki(markup)


def tokenize_text(text, stopwords=None):
    """Tokens of a raw text, as gensim's WikiCorpus makes them, minus stop words.

    Tokens are maximal runs of letters (``gensim.utils.tokenize``), lowercased, 2 to 15
    characters long and not starting with ``_`` (``gensim.corpora.wikicorpus.tokenize``);
    words of ``stopwords`` (default: :func:`english_stopwords`) are removed. This is what
    ``esca corpora fetch`` uses; it equals ``Tokenizer(deaccent=False, stopwords="english")``.
    """
    from gensim.corpora.wikicorpus import tokenize  # noqa: PLC0415 - gensim is slow to import

    stop = english_stopwords() if stopwords is None else stopwords
    return [t for t in tokenize(text) if t not in stop]


def _stored_stopwords(settings):
    """The stop words of :meth:`Tokenizer.to_dict` settings: stored, "english", or re-read."""
    source, words = settings.get("stopwords"), settings.get("stopword_list")
    if words or source is None or source == ENGLISH:
        return words or source
    path = check_file(source, "stop-word file of the corpus's tokenizer")
    return read_word_list(path, "stop-word file", positional=False)


def check_tokenizer(min_length, max_length, token_pattern=None, clean=None, names=None):
    """Raise :class:`UserError` unless these are valid :class:`Tokenizer` settings.

    Parameters
    ----------
    min_length, max_length : int
        Token lengths in characters; ``1 <= min_length <= max_length``.
    token_pattern : str, optional
        A regular expression.
    clean : str, optional
        A name of :data:`CLEANERS`.
    names : dict of str to str, optional
        How each setting is named in the messages (the CLI passes its flags:
        ``{"min_length": "--min-length", ...}``); default the parameter's name.

    Returns
    -------
    re.Pattern or None
        ``token_pattern`` compiled (None without one).

    Raises
    ------
    UserError
        A length that is not an integer >= 1, ``max_length < min_length``, a
        ``token_pattern`` that is not a valid regular expression, an unknown ``clean``.
    """
    names = {f: f for f in ("min_length", "max_length", "token_pattern", "clean")} | (names or {})
    check_int(names["min_length"], min_length, 1)
    check_int(names["max_length"], max_length, 1)
    if max_length < min_length:
        raise UserError(f"{names['max_length']} {max_length} is below {names['min_length']} "
                        f"{min_length}")
    if clean is not None and clean not in CLEANERS:
        raise UserError(f"unknown {names['clean']} {clean!r} (known: {', '.join(CLEANERS)})")
    if token_pattern is None:
        return None
    try:
        return re.compile(token_pattern)
    except (re.error, TypeError) as e:
        raise UserError(f"{names['token_pattern']} {token_pattern!r} is not a valid regular "
                        f"expression ({e})") from None


@dataclasses.dataclass(frozen=True)
class Tokenizer:
    """Turns raw text into tokens, like gensim's ``simple_preprocess``; a callable.

    Parameters
    ----------
    lowercase : bool
        Lowercase the text first (default True).
    deaccent : bool
        Strip accents with :func:`gensim.utils.deaccent` ("Café" -> "Cafe"; default True).
    min_length, max_length : int
        Tokens shorter than ``min_length`` or longer than ``max_length`` characters are
        dropped (defaults 2 and 15, gensim's). ``1 <= min_length <= max_length``.
    token_pattern : str, optional
        A regular expression; its matches (whole match) are the tokens. Default None:
        maximal runs of letters, gensim's ``PAT_ALPHABETIC`` (tokens starting with ``_``
        are dropped then, as gensim does).
    clean : {None, "newsgroups", "wikipedia"}
        Cleaning applied to each document before tokenizing (see the module docstring).
    stopwords : None, "english", or iterable of str
        Tokens to drop after tokenizing. "english" is gensim's 337-word list
        (``gensim.parsing.preprocessing.STOPWORDS``). The words go through the same
        lowercasing and accent stripping as the text, so "Über" in a list matches the
        token "uber".

    Raises
    ------
    UserError
        A bad length, a ``token_pattern`` that is not a valid regular expression, an
        unknown ``clean`` name, or ``stopwords`` that is a string other than "english".

    Examples
    --------
    >>> Tokenizer()("The cat sat on the mat. Café!")
    ['the', 'cat', 'sat', 'on', 'the', 'mat', 'cafe']
    >>> Tokenizer(stopwords="english")("The cat sat on the mat.")
    ['cat', 'sat', 'mat']
    """

    lowercase: bool = True
    deaccent: bool = True
    min_length: int = DEFAULT_MIN_LENGTH
    max_length: int = DEFAULT_MAX_LENGTH
    token_pattern: str = None
    clean: str = None
    stopwords: object = None
    stopwords_source: str = None

    def __post_init__(self):
        compiled = check_tokenizer(self.min_length, self.max_length, self.token_pattern,
                                   self.clean)
        if compiled is not None:
            object.__setattr__(self, "_pattern", compiled)
        stop, source = self.stopwords, self.stopwords_source
        if isinstance(stop, str):
            if stop != ENGLISH:
                raise UserError(f"stopwords must be {ENGLISH!r} or a list of words, got "
                                f"{stop!r}")
            stop, source = english_stopwords(), source or ENGLISH
        words = frozenset(self._normalize(w) for w in (stop or ()))
        object.__setattr__(self, "stopwords", words)
        object.__setattr__(self, "stopwords_source", source if words else None)

    def _normalize(self, text):
        from gensim.utils import deaccent  # noqa: PLC0415 - gensim is slow to import
        if self.lowercase:
            text = text.lower()
        # deaccent leaves ASCII as it is (NFD changes no ASCII character); skip its slow loop
        return deaccent(text) if self.deaccent and not text.isascii() else text

    def clean_text(self, text):
        """``text`` after the cleaning of ``clean`` (unchanged when it is None)."""
        if self.clean == "newsgroups":
            return newsgroup_text(text)
        if self.clean == "wikipedia":
            return wikipedia_text(text)
        return text

    def __call__(self, text):
        """The tokens of one document.

        Parameters
        ----------
        text : str
            Raw text (cleaned first when ``clean`` is set).

        Returns
        -------
        list of str
        """
        text = self._normalize(self.clean_text(text))
        lo, hi, stop = self.min_length, self.max_length, self.stopwords
        if self.token_pattern is None:
            return [t for t in _LETTER_RUNS.findall(text)
                    if lo <= len(t) <= hi and t[0] != "_" and t not in stop]
        return [t for t in (m.group() for m in self._pattern.finditer(text))
                if lo <= len(t) <= hi and t not in stop]

    def to_dict(self):
        """The settings as a JSON-able dict (stop words as their source and count)."""
        return {"tokenizer": "gensim.utils.simple_tokenize" if self.token_pattern is None
                else "re.finditer(token_pattern)",
                "lowercase": self.lowercase, "deaccent": self.deaccent,
                "min_length": self.min_length, "max_length": self.max_length,
                "token_pattern": self.token_pattern, "clean": self.clean,
                "stopwords": self.stopwords_source, "n_stopwords": len(self.stopwords),
                "stopword_list": self._stored_list()}

    def _stored_list(self):
        """The stop words to store: None for "english" (rebuilt from gensim) or a long list."""
        if self.stopwords_source == ENGLISH or not self.stopwords:
            return None
        words = sorted(self.stopwords)
        return words if sum(len(w) + 4 for w in words) <= MAX_STORED_CHARS else None

    @classmethod
    def from_dict(cls, settings):
        """The tokenizer described by :meth:`to_dict` (or a corpus's provenance entry)."""
        return cls(lowercase=settings["lowercase"], deaccent=settings["deaccent"],
                   min_length=settings["min_length"], max_length=settings["max_length"],
                   token_pattern=settings.get("token_pattern"), clean=settings.get("clean"),
                   stopwords=_stored_stopwords(settings),
                   stopwords_source=settings.get("stopwords"))

    @classmethod
    def from_corpus(cls, path):
        """The tokenizer that ``esca prepare --tokenize`` used to write the corpus ``path``.

        Raises
        ------
        UserError
            If ``path`` is not a readable esca corpus, or was not written with ``--tokenize``.
        """
        prov = json.loads(read_corpus_attrs(path).get("provenance", "{}"))
        settings = prov.get("tokenizer")
        if not settings:
            raise UserError(f"{path} was not written by 'esca prepare --tokenize'; it holds no "
                            "tokenizer settings")
        return cls.from_dict(settings)
