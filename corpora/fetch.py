"""Download, verify and convert the standard LDA corpora (``esca corpora fetch``).

Everything lands in one cache folder per corpus, ``CACHE/NAME/``. ``CACHE`` is ``--cache-dir``,
else ``$ESCA_DATA``, else ``$XDG_CACHE_HOME/esca``, else ``~/.cache/esca``. It holds::

    docword.kos.txt.gz           a downloaded file, verified
    docword.kos.txt.gz.sha256    its SHA-256 ("HEX  NAME", the format of sha256sum)
    docword.kos.txt.gz.part      an unfinished download; the next fetch resumes it
    docword.kos.txt.gz.part.json the URL and validators (ETag, Last-Modified) of the .part
    kos.h5 (and kos.test.h5)     the converted esca corpus

Downloads use the standard library (``urllib``), so no new dependency. A file is written to
``NAME.part``; when a ``.part`` exists the request carries ``Range: bytes=N-`` (and
``If-Range`` with the recorded validator). A ``206`` response is appended; a ``200`` means
the server ignored the range (or the file changed), so the download restarts from byte 0; a
``416`` means the ``.part`` is already complete (it is verified) or does not fit the file (it
is discarded and the download restarts). A network error or timeout keeps the ``.part`` and
raises :class:`~esca.errors.UserError`.

Verification covers the whole file, also after a resume. The expected SHA-256 is the one
given with ``--sha256``, else the registry's pinned value, else the one recorded in the cache
by an earlier download. When there is none the digest is computed, recorded and a warning
says it is not pinned (trust on first use). Wikipedia dumps are also checked against the
SHA-1 published in ``enwiki-DATE-sha1sums.txt`` beside the dump. On a mismatch the download
is deleted (a corrupt ``.part`` would otherwise be resumed forever) and nothing is placed
under the final name; a verified file is renamed into place atomically.

What arrived is also checked against what its name says it is (:func:`content_problem`)
before any digest is compared or recorded: an empty file, an HTML page (a mirror's error page
sent with status 200) where a data file is expected, or a ``.gz``/``.bz2``/``.xz``/``.zip``/
``.tar`` file without its magic bytes is deleted and raises :class:`BadDownload`, and the next
source is tried. A file that is to be trusted on first use (no pinned SHA-256, no published
SHA-1) must moreover decompress completely and, where the registry knows its size, be at
least half of it. A cached file that fails the quick check (left by an older esca, which did
not check) is deleted together with the digest recorded for it, and downloaded again.

The downloading and checking live in :mod:`esca.corpora.download`, the conversion in
:mod:`esca.corpora.convert`; this module plans which files a corpus needs (registry entry,
``--mirror``, ``--dump-date``, ``--sha256``, the published SHA-1 list) and runs both.
"""

import contextlib
import dataclasses
import fcntl
import logging
import os
import re

from esca._io import check_not_input
from esca.errors import UserError, one_line

from .convert import Conversion, convert_20newsgroups, convert_downloads, convert_wikipedia
from .download import (
    CHUNK_BYTES,
    DEFAULT_TIMEOUT,
    HEX_DIGEST,
    USER_AGENT,
    BadDownload,
    DownloadError,
    FileItem,
    content_problem,
    download,
    fetch_file,
    file_digest,
    file_kind,
    read_text_url,
    remove_files,
    write_text,
)
from .prepare import Pruning, holdout_path
from .registry import StandardCorpus, get_corpus

# STOPWORDS_SOURCE: the tokens removed from 20 Newsgroups and Wikipedia text (gensim's
# 337-word English list); the cleaning and tokenizing live in text.py (esca prepare uses them).
from .text import (
    STOPWORDS_SOURCE,
    english_stopwords,
    newsgroup_text,
    tokenize_text,
)

# The public names of this module before it was split stay importable from here.
__all__ = ["CHUNK_BYTES", "DEFAULT_TIMEOUT", "STOPWORDS_SOURCE", "USER_AGENT", "BadDownload",
           "Conversion", "DownloadError", "FileItem", "Pruning", "Source", "check_options",
           "content_problem",
           "convert_20newsgroups", "convert_wikipedia", "corpus_status", "default_cache_dir",
           "download", "english_stopwords", "fetch_corpus", "fetch_file", "file_digest",
           "file_kind", "newsgroup_text", "read_text_url",
           "tokenize_text"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Source:
    """Where the files of a corpus come from and what they must hash to.

    Parameters
    ----------
    mirror : str, optional
        Folder URL holding the same file names; replaces every source URL of the corpus.
    sha256 : dict, optional
        ``{file name or None: hex}`` pinning SHA-256 values (None: the only file).
    dump_date : str, optional
        Wikipedia only: ``YYYYMMDD`` of the dump (default: the ``latest`` folder).
    timeout : float
        Network timeout in seconds.
    """

    mirror: str | None = None
    sha256: dict | None = None
    dump_date: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def default_cache_dir(environ=None):
    """The cache folder: ``$ESCA_DATA``, else ``$XDG_CACHE_HOME/esca``, else ``~/.cache/esca``.

    A relative ``XDG_CACHE_HOME`` is ignored, as the XDG specification asks.
    """
    env = os.environ if environ is None else environ
    if env.get("ESCA_DATA"):
        return env["ESCA_DATA"]
    xdg = env.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "esca")



# ----------------------------------------------------------------------------- plan


def check_options(spec, source, conversion, names=None):
    """Raise :class:`UserError` unless ``source`` and ``conversion`` suit the corpus ``spec``.

    :func:`fetch_corpus` calls it before any download; the CLI calls it first with its flags.

    Parameters
    ----------
    spec : StandardCorpus
    source : Source
    conversion : Conversion
    names : dict of str to str, optional
        How ``holdout``, ``timeout``, ``mirror`` and ``dump_date`` are named in the messages
        (the CLI passes its flags: ``{"timeout": "--timeout", ...}``); default
        ``conversion.holdout`` and ``source.FIELD``.

    Raises
    ------
    UserError
        A held-out split of 20newsgroups (it has its own), a timeout that is not positive, a
        mirror that is not an http://, https:// or file:// URL, a dump date for a corpus
        other than wikipedia or one that is not ``YYYYMMDD``.
    """
    n = {"holdout": "conversion.holdout", "timeout": "source.timeout",
         "mirror": "source.mirror", "dump_date": "source.dump_date"} | (names or {})
    timeout, mirror, dump_date = source.timeout, source.mirror, source.dump_date
    if conversion.holdout is not None and spec.kind == "20newsgroups":
        raise UserError("20newsgroups comes with its own train/test split (written to "
                        f"20newsgroups.h5 and 20newsgroups.test.h5); {n['holdout']} does not "
                        "apply")
    if timeout is not None and not timeout > 0:
        raise UserError(f"{n['timeout']} must be positive, got {timeout!r}")
    if mirror is not None and not re.match(r"(?i)(https?|file)://", mirror):
        raise UserError(f"{n['mirror']} must be an http://, https:// or file:// URL, got "
                        f"{mirror!r}")
    if dump_date is not None:
        if spec.kind != "wikipedia":
            raise UserError(f"{n['dump_date']} applies to wikipedia only, not {spec.name}")
        if not re.fullmatch(r"\d{8}", dump_date):
            raise UserError(f"{n['dump_date']} must be a date YYYYMMDD, got {dump_date!r}")


def _plan(spec, folder, source):
    """The files to fetch, with their URLs and expected digests (``--sha256`` applied)."""
    mirror, dump_date, sha256 = source.mirror, source.dump_date, source.sha256
    date = dump_date or "latest"
    items = []
    for f in spec.files:
        urls = ([mirror.rstrip("/") + "/" + f.mirror_name.format(date=date)] if mirror
                else [u.format(date=date) for u in f.urls])
        items.append(FileItem(f.name.format(date=date), f.role, urls, f.sha256,
                           f"registry ({f.sha256_source})" if f.sha256 else "", size=f.size,
                           corpus=spec.name))
    if spec.checksum_file:
        _apply_checksum_file(spec, items, folder, source, date)
    if sha256:
        names = [it.name for it in items]
        for key, hexd in sha256.items():
            if key is None and len(items) != 1:
                raise UserError(f"{spec.name} has {len(items)} files ({', '.join(names)}); "
                                "key source.sha256 by file name")
            target = items[0] if key is None else next((it for it in items if it.name == key),
                                                        None)
            if target is None:
                raise UserError(f"source.sha256 names {key!r}, but {spec.name} has no such "
                                f"file (files: {', '.join(names)})")
            # How the file is pinned, in fetch_file's "verified" ("pinned: --sha256"): kept as
            # esca corpora fetch reports it.
            target.sha256, target.sha256_source = hexd, "--sha256"
    return items


def _apply_checksum_file(spec, items, folder, source, date):
    """Read the published SHA-1 list beside the files; resolve ``latest`` to the dump date.

    The list of a ``latest`` folder names the dated files (``enwiki-20240601-...``); the entry
    whose name is the file's with ``latest`` replaced by a date gives the SHA-1 and the date,
    and the file is cached under its dated name. A copy of the list is kept in the cache;
    when the server cannot be reached, the newest matching copy is used instead (so a cached
    dump can be converted offline).
    """
    name, mirror = spec.checksum_file.format(date=date), source.mirror
    base = (mirror.rstrip("/") + "/") if mirror else spec.files[0].urls[0].format(
        date=date).rsplit("/", 1)[0] + "/"
    url = base + name
    try:
        text = read_text_url(url, timeout=source.timeout)
    except DownloadError as e:
        copy = re.escape(spec.checksum_file).replace(
            re.escape("{date}"), r"\d{8}" if date == "latest" else date)
        copies = sorted(n for n in os.listdir(folder) if re.fullmatch(copy, n))
        if not copies:
            raise
        logger.warning("%s; using %s from an earlier fetch", e, copies[-1])
        with open(os.path.join(folder, copies[-1]), encoding="utf-8") as fh:
            text = fh.read()
    listed = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and HEX_DIGEST["sha1"].fullmatch(fields[0].lower()):
            listed[fields[1].lstrip("*")] = fields[0].lower()
    for it, f in zip(items, spec.files, strict=True):
        pattern = re.escape(f.name).replace(re.escape("{date}"),
                                            r"(\d{8})" if date == "latest" else f"({date})")
        found = [(m.group(1), n) for n in listed if (m := re.fullmatch(pattern, n))]
        if len(found) != 1:
            raise UserError(f"{url} lists no single checksum for {f.name.format(date=date)} "
                            f"({len(found)} matches); try another dump date")
        resolved, dated_name = found[0]
        it.name = dated_name
        it.sha1, it.sha1_source = listed[dated_name], url
    write_text(os.path.join(folder, name.replace("latest", resolved)), text)


@contextlib.contextmanager
def _folder_lock(folder, name):
    """Hold an exclusive lock on ``folder/.lock`` so two fetches never write the same .part."""
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another 'esca corpora fetch {name}' is using {folder}; wait for it "
                            "to finish") from None
        yield
    finally:
        os.close(fd)


def fetch_corpus(corpus, *, cache_dir=None, out=None, source=None, conversion=None, convert=True,
                 force=False, reconvert=False, progress=False):
    """Download, verify and (by default) convert a standard corpus into the cache.

    Parameters
    ----------
    corpus : str or StandardCorpus
        A registry name or alias (see ``esca corpora list``), or an entry of one's own.
    cache_dir : str, optional
        Default :func:`default_cache_dir`; the corpus goes to ``cache_dir/NAME/``.
    out : str, optional
        Path of the converted corpus; default ``cache_dir/NAME/NAME.h5`` (Wikipedia:
        ``enwiki-DATE.h5``). A test split goes beside it as ``NAME.test.h5``.
    source : Source, optional
        Mirror, pinned SHA-256 values, Wikipedia dump date and network timeout; default
        ``Source()`` (the registry's URLs and digests, the latest dump, 60 s).
    conversion : Conversion, optional
        Held-out split, vocabulary pruning (default: the entry's ``prune`` values) and
        WikiCorpus processes; default ``Conversion()``.
    convert : bool
        False: download and verify only.
    force : bool
        Delete the cached files of this corpus (and their records) and fetch them again.
    reconvert : bool
        Convert again even if the output exists.
    progress : bool
        Progress bars on standard error.

    Returns
    -------
    dict
        ``name``, ``folder``, ``files`` (list of :func:`fetch_file` results), ``corpus``
        (output path or None), ``test_corpus`` (path or None), ``stats`` (the conversion's
        summary, or None when it was skipped) and ``converted`` (bool: converted now).

    Raises
    ------
    UserError
        Unknown name, bad option, unwritable cache folder, a download that fails (see
        :func:`download`) or fails verification, or a conversion error.
    """
    source = Source() if source is None else source
    conversion = Conversion() if conversion is None else conversion
    spec = corpus if isinstance(corpus, StandardCorpus) else get_corpus(corpus)
    check_options(spec, source, conversion)
    folder = os.path.join(os.path.abspath(cache_dir or default_cache_dir()), spec.name)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the cache folder {folder}: {one_line(e)}") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cache folder is not writable: {folder}")
    with _folder_lock(folder, spec.name):
        items = _plan(spec, folder, source)
        if force:
            for it in items:
                p = os.path.join(folder, it.name)
                remove_files(p, p + ".sha256", p + ".part", p + ".part.json")
        files = [fetch_file(it, folder, progress=progress, timeout=source.timeout)
                 for it in items]
        result = {"name": spec.name, "folder": folder, "files": files, "corpus": None,
                  "test_corpus": None, "stats": None, "converted": False}
        if not convert:
            return result
        paths = {it.role: os.path.join(folder, it.name) for it in items}
        stem = (os.path.basename(paths["dump"]).split("-pages-")[0]
                if spec.kind == "wikipedia" else spec.name)
        out = os.path.abspath(out) if out else os.path.join(folder, stem + ".h5")
        downloads = [("download", path) for path in paths.values()]
        check_not_input(out, downloads)
        check_not_input(holdout_path(out), downloads, "the test corpus")
        has_test = spec.kind == "20newsgroups" or conversion.holdout is not None
        result["corpus"] = out
        result["test_corpus"] = holdout_path(out) if has_test else None
        done = os.path.exists(out) and (not has_test or os.path.exists(holdout_path(out)))
        if done and not (force or reconvert):
            logger.debug("%s is already converted: %s", spec.name, out)
            return result
        try:
            stats = convert_downloads(spec, paths, out, folder, conversion, force=force)
        except UserError as e:
            if not any(p in str(e) for p in paths.values()):
                raise
            # A cached download that is damaged (cached by an older esca, or changed since).
            raise UserError(f"{e}; if the downloaded file is damaged, discard it and fetch "
                            f"again with: esca corpora fetch {spec.name} --force") from None
        result.update(stats=stats, converted=True)
        return result


def corpus_status(spec, cache_dir=None):
    """What the cache holds of ``spec``: ``converted``, ``downloaded``, ``partial`` or ``-``.

    ``converted`` means the default ``.h5`` exists; ``downloaded`` that every file is there
    (Wikipedia: a dump of any date); ``partial`` that a ``.part`` waits to be resumed.
    """
    folder = os.path.join(os.path.abspath(cache_dir or default_cache_dir()), spec.name)
    if not os.path.isdir(folder):
        return "-"
    names = os.listdir(folder)
    patterns = [re.compile(re.escape(f.name).replace(re.escape("{date}"), r"\d{8}") + r"\Z")
                for f in spec.files]
    h5 = re.compile(r"enwiki-\d{8}\.h5\Z" if spec.kind == "wikipedia"
                    else re.escape(spec.name) + r"\.h5\Z")
    if any(h5.match(n) for n in names):
        return "converted"
    if all(any(p.match(n) for n in names) for p in patterns):
        return "downloaded"
    if any(n.endswith(".part") for n in names):
        return "partial"
    return "-"

