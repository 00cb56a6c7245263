"""The standard LDA benchmark corpora that ``esca corpora fetch`` knows: sources, sizes, checksums.

Every entry names the canonical public source of each file and, where a trustworthy published
value exists, its SHA-256. A file whose SHA-256 could not be established is registered with
``sha256=None``: the first download records the digest in the cache (trust on first use, with
a warning) and later downloads are verified against that record; ``--sha256`` pins a value by
hand. Where the values come from:

``20newsgroups``
    SHA-256 ``8f1b2514...95610`` of ``20news-bydate.tar.gz``, as pinned by scikit-learn
    (``sklearn/datasets/_twenty_newsgroups.py``, ``ARCHIVE``, checked in scikit-learn 1.9.1)
    for its figshare copy; a Rust dataset loader pins the same value for the copy on
    qwone.com, so both URLs are listed, figshare first.
UCI Bag of Words (``kos``, ``nips``, ``enron``, ``nytimes``, ``pubmed``)
    No published checksum was found: trust on first use. D, W (= V) and N are those of the
    collection's ``readme.txt`` on the UCI server (N is approximate except for KOS).
    Download sizes, where given, are the byte counts another project (xrun) records for the
    same URLs; they are shown by ``esca corpora list`` and never used for verification.
``wikipedia``
    A dump changes every month, so nothing is pinned: the SHA-1 is read from the dump's own
    ``enwiki-DATE-sha1sums.txt``, published beside it on dumps.wikimedia.org (or the mirror),
    and the SHA-256 is recorded on first use.
"""

import dataclasses

from esca.errors import UserError

UCI_BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/bag-of-words/"
UCI_HOME = "https://archive.ics.uci.edu/dataset/164/bag+of+words"
UCI_LICENSE = "CC BY 4.0 (unverified)"  # from the UCI page as remembered; not checkable offline
WIKI_BASE = "https://dumps.wikimedia.org/enwiki/{date}/"


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file of a standard corpus.

    Attributes
    ----------
    name : str
        File name in the cache folder. May hold ``{date}`` (Wikipedia), filled in at fetch time
        with the dump date.
    role : str
        What the converter uses it for: ``docword``/``vocab`` (UCI), ``archive`` (20
        Newsgroups), ``dump`` (Wikipedia).
    urls : tuple of str
        Canonical sources, tried in this order (the next one only when a source cannot be
        reached at all).
    sha256 : str or None
        Pinned SHA-256 (64 lowercase hex digits), or None: trust on first use.
    sha256_source : str
        Where the pinned value comes from (shown in messages).
    size : int or None
        Download size in bytes, if known; for display and the progress bar only.
    remote_name : str or None
        File name on a mirror (``--mirror URL`` downloads ``URL/remote_name``); default ``name``.
    """

    name: str
    role: str
    urls: tuple
    sha256: str = None
    sha256_source: str = ""
    size: int = None
    remote_name: str = None

    @property
    def mirror_name(self):
        """The file's name inside a mirror folder."""
        return self.remote_name or self.name


@dataclasses.dataclass(frozen=True)
class StandardCorpus:
    """A registry entry: one standard corpus, where it comes from and how it is converted.

    Attributes
    ----------
    name : str
        Name used on the command line and as the cache subfolder.
    kind : {"uci", "20newsgroups", "wikipedia"}
        Selects the converter.
    title, description : str
    files : tuple of RemoteFile
    license : str
        Short license statement of the data.
    homepage : str
    docs, vocab, tokens : int or None
        D, V and N as published (None when they depend on the conversion).
    approx : tuple of str
        Which of ``docs``, ``vocab``, ``tokens`` are approximate.
    size_note : str
        Download size to show when the files' ``size`` is not known (e.g. ``"~14 MB"``).
    prune : dict
        Default vocabulary pruning of the conversion (``no_below``, ``no_above``, ``keep_n``).
    aliases : tuple of str
        Other accepted names.
    checksum_file : str or None
        Name of a published checksum list beside the files (``{date}`` filled in), read
        before downloading (Wikipedia's ``enwiki-DATE-sha1sums.txt``).
    """

    name: str
    kind: str
    title: str
    description: str
    files: tuple
    license: str
    homepage: str
    docs: int = None
    vocab: int = None
    tokens: int = None
    approx: tuple = ()
    size_note: str = ""
    prune: dict = dataclasses.field(default_factory=dict)
    aliases: tuple = ()
    checksum_file: str = None

    @property
    def source_url(self):
        """The URL of the main file (for listings)."""
        return self.files[0].urls[0]

    @property
    def download_size(self):
        """Total download size in bytes, or None if any file's size is unknown."""
        sizes = [f.size for f in self.files]
        return None if None in sizes else sum(sizes)


def _uci(name, title, origin, docs, vocab, tokens, approx, docword_size=None, aliases=()):
    files = (
        RemoteFile(f"docword.{name}.txt.gz", "docword", (f"{UCI_BASE}docword.{name}.txt.gz",),
                   size=docword_size),
        RemoteFile(f"vocab.{name}.txt", "vocab", (f"{UCI_BASE}vocab.{name}.txt",)),
    )
    return StandardCorpus(
        name=name, kind="uci", title=title,
        description=f"{title} (original source: {origin}); UCI Bag of Words (David Newman): "
                    "stop words removed, words occurring at most ten times dropped; license "
                    "as stated on the UCI repository's dataset page",
        files=files, license=UCI_LICENSE, homepage=UCI_HOME, docs=docs, vocab=vocab,
        tokens=tokens, approx=approx, aliases=aliases)


#: SHA-256 of 20news-bydate.tar.gz as pinned by scikit-learn (``ARCHIVE.checksum``).
NEWSGROUPS_SHA256 = "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610"

REGISTRY = {c.name: c for c in (
    _uci("kos", "KOS blog entries", "dailykos.com", 3430, 6906, 467714, ()),
    _uci("nips", "NIPS full papers", "books.nips.cc", 1500, 12419, 1_900_000, ("tokens",)),
    _uci("enron", "Enron emails", "www.cs.cmu.edu/~enron", 39861, 28102, 6_400_000, ("tokens",),
         docword_size=12_313_965),
    _uci("nytimes", "New York Times news articles", "ldc.upenn.edu", 300_000, 102_660,
         100_000_000, ("tokens",), docword_size=234_225_967, aliases=("nyt",)),
    _uci("pubmed", "PubMed abstracts", "www.pubmed.gov", 8_200_000, 141_043, 730_000_000,
         ("docs", "tokens"), docword_size=1_878_648_166),
    StandardCorpus(
        name="20newsgroups", kind="20newsgroups", title="20 Newsgroups (bydate)",
        description="20 Newsgroups, 'bydate' version: 18,846 Usenet posts in 20 groups, split "
                    "by date into 11,314 train and 7,532 test posts (collected by Ken Lang, "
                    "distributed by Jason Rennie); no formal license: freely redistributed "
                    "for research (e.g. by scikit-learn), each post is (c) its author",
        files=(RemoteFile(
            "20news-bydate.tar.gz", "archive",
            ("https://ndownloader.figshare.com/files/5975967",
             "http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz"),
            sha256=NEWSGROUPS_SHA256,
            sha256_source="scikit-learn sklearn/datasets/_twenty_newsgroups.py"),),
        license="research use (no formal license)",
        homepage="http://qwone.com/~jason/20Newsgroups/", docs=18846, size_note="~14 MB",
        prune={"no_below": 5}, aliases=("20ng", "newsgroups")),
    StandardCorpus(
        name="wikipedia", kind="wikipedia", title="English Wikipedia",
        description="English Wikipedia articles (pages-articles dump, current revisions, "
                    "main namespace), read with gensim's WikiCorpus; text (c) Wikipedia "
                    "contributors, redistribution must keep attribution and share-alike",
        files=(RemoteFile(
            "enwiki-{date}-pages-articles.xml.bz2", "dump",
            (WIKI_BASE + "enwiki-{date}-pages-articles.xml.bz2",)),),
        license="CC BY-SA 4.0 + GFDL",
        homepage="https://dumps.wikimedia.org/enwiki/", size_note="~20+ GB",
        prune={"no_below": 20, "no_above": 0.1, "keep_n": 100_000}, aliases=("enwiki",),
        checksum_file="enwiki-{date}-sha1sums.txt"),
)}


def get_corpus(name):
    """The registry entry called ``name`` (or one of its aliases).

    Raises
    ------
    UserError
        If no corpus has that name.
    """
    key = name.lower()
    for c in REGISTRY.values():
        if key == c.name or key in c.aliases:
            return c
    raise UserError(f"unknown corpus {name!r} (known: {', '.join(REGISTRY)}; "
                    "see 'esca corpora list')")
