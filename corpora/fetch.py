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

Conversion reuses ``esca prepare`` (:func:`esca.corpora.prepare.prepare_corpus`): UCI files
go through ``--format uci``; 20 Newsgroups posts and Wikipedia articles are tokenized into a
``NAME.tokens.txt.gz`` file (one document per line, tokens separated by spaces) that goes
through ``--format text``, beside a ``NAME.docs.tsv`` naming each document.
"""

import bz2
import contextlib
import fcntl
import gzip
import hashlib
import http.client
import json
import logging
import lzma
import os
import re
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib

from esca._io import atomic_path, check_not_input
from esca._version import __version__
from esca.errors import UserError

from .prepare import holdout_path, prepare_corpus
from .registry import StandardCorpus, get_corpus
# STOPWORDS_SOURCE: the tokens removed from 20 Newsgroups and Wikipedia text (gensim's
# 337-word English list); the cleaning and tokenizing live in text.py (esca prepare uses them).
from .text import (  # noqa: F401 - re-exported
    STOPWORDS_SOURCE,
    english_stopwords,
    newsgroup_text,
    tokenize_text,
)

logger = logging.getLogger(__name__)

#: Seconds without any data before a connection attempt or a read gives up.
DEFAULT_TIMEOUT = 60.0
CHUNK_BYTES = 1 << 20
USER_AGENT = f"esca/{__version__} (esca corpora fetch; Python urllib)"
_HEX = {"sha256": re.compile(r"[0-9a-f]{64}"), "sha1": re.compile(r"[0-9a-f]{40}")}


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


def _one_line(e):
    return " ".join(str(e).split()) or type(e).__name__


# ----------------------------------------------------------------------------- download


class DownloadError(UserError):
    """A file could not be downloaded (network, HTTP or timeout); a ``.part`` is kept."""


class BadDownload(DownloadError):
    """What arrived is not the file (an HTML error page, wrong type, damaged): it is deleted."""


#: File name endings and the kind of file they promise, longest first.
_KINDS = ((".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".gz", "gzip"),
          (".bz2", "bz2"), (".xz", "xz"), (".zip", "zip"), (".tar", "tar"))
#: Magic bytes (offset, prefixes) of each kind.
_MAGIC = {"gzip": (0, (b"\x1f\x8b",)), "tar.gz": (0, (b"\x1f\x8b",)),
          "bz2": (0, (b"BZh",)), "tar.bz2": (0, (b"BZh",)), "xz": (0, (b"\xfd7zXZ\x00",)),
          "zip": (0, (b"PK\x03\x04", b"PK\x05\x06")), "tar": (257, (b"ustar",))}
_KIND_WORDS = {"gzip": "a gzip file", "tar.gz": "a gzip-compressed tar archive",
               "bz2": "a bzip2 file", "tar.bz2": "a bzip2-compressed tar archive",
               "xz": "an xz file", "zip": "a zip archive", "tar": "a tar archive"}


def file_kind(name):
    """What a file name promises: ``gzip``, ``tar.gz``, ``bz2``, ``tar.bz2``, ``xz``, ``zip``,
    ``tar``, or None (any other name: text or data without a signature)."""
    low = name.lower()
    return next((kind for end, kind in _KINDS if low.endswith(end)), None)


def _human(n):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _looks_like_html(head):
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<") and any(
        tag in text for tag in (b"<!doctype html", b"<html", b"<head", b"<body", b"<title"))


def _decompress_problem(path, kind):
    """None if ``path`` reads to its end as ``kind``; else the reader's complaint."""
    try:
        if kind in ("tar.gz", "tar.bz2", "tar"):
            with tarfile.open(path, {"tar.gz": "r:gz", "tar.bz2": "r:bz2", "tar": "r:"}[kind]) \
                    as tar:
                for m in tar:
                    if m.isfile():
                        f = tar.extractfile(m)
                        while f.read(CHUNK_BYTES):
                            pass
        elif kind == "zip":
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            if bad is not None:
                return f"member {bad} is damaged"
        else:
            opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
            with opener(path, "rb") as f:
                while f.read(CHUNK_BYTES * 4):
                    pass
    except (OSError, EOFError, zlib.error, lzma.LZMAError, tarfile.TarError,
            zipfile.BadZipFile, ValueError) as e:
        return _one_line(e)
    return None


def content_problem(path, name, *, content_type=None, size=None, deep=False):
    """Why the file at ``path`` is not what its name ``name`` promises, or None.

    Parameters
    ----------
    path : str
        The downloaded (or cached) file.
    name : str
        Its name in the cache; its ending gives the expected kind (:func:`file_kind`).
    content_type : str, optional
        The ``Content-Type`` the server sent (``text/html`` names an error page).
    size : int, optional
        The size the registry knows (bytes); with ``deep``, a file under half of it is refused.
    deep : bool
        Also read the file to its end as its kind (gzip, bzip2, xz streams; every member of
        a zip or tar archive) and check ``size``: done before a file is trusted on first use.

    Returns
    -------
    str or None
        A phrase such as ``"an HTML page of 1.2 kB (Content-Type text/html), not a gzip
        file"``, or None when the file passes.
    """
    got = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = file_kind(name)
    want = _KIND_WORDS.get(kind, "the expected file")
    ctype = (content_type or "").split(";")[0].strip().lower()
    served = f" (Content-Type {ctype})" if ctype else ""
    if got == 0:
        return f"an empty file{served}, not {want}"
    is_html_name = name.lower().endswith((".html", ".htm"))
    if not is_html_name and _looks_like_html(head):
        return f"an HTML page of {_human(got)}{served}, not {want}"
    if kind is not None:
        offset, prefixes = _MAGIC[kind]
        if not head[offset:].startswith(prefixes):
            what = ("an HTML page" if ctype in ("text/html", "application/xhtml+xml")
                    else "a file")
            return (f"{what} of {_human(got)}{served} starting with {head[:16]!r}, not {want}")
    if not deep:
        return None
    if size and got < size // 2:
        return f"{_human(got)}, not the {_human(size)} file the registry lists"
    if kind is not None:
        why = _decompress_problem(path, kind)
        if why is not None:
            return f"{want} of {_human(got)} that is damaged ({why})"
    return None


def _remove(*paths):
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)


def _content_range(value):
    """``(start, total)`` from ``bytes A-B/T`` or ``bytes */T``; None for unknown parts."""
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _hash_file(path, hashers, limit=None):
    """Feed the first ``limit`` bytes (all by default) of ``path`` to every hasher."""
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            block = f.read(CHUNK_BYTES * 4 if left is None else min(CHUNK_BYTES * 4, left))
            if not block:
                break
            for h in hashers.values():
                h.update(block)
            if left is not None:
                left -= len(block)


def file_digest(path, algo="sha256"):
    """Hex digest of a file, read in 4 MiB blocks."""
    hashers = {algo: hashlib.new(algo)}
    _hash_file(path, hashers)
    return hashers[algo].hexdigest()


def _kept(part):
    size = os.path.getsize(part) if os.path.exists(part) else 0
    if not size:
        return ""
    return (f"; the partial download ({size} bytes) is kept in {part} and the next fetch "
            f"resumes it")


def download(url, dest, *, sha256=None, sha1=None, progress=False, timeout=DEFAULT_TIMEOUT,
             size_hint=None, expected_from=None, recovery=""):
    """Download ``url`` to ``dest``, resuming ``dest + ".part"``, verify it, rename it into place.

    Parameters
    ----------
    url : str
        ``http``, ``https`` or ``file`` URL.
    dest : str
        Final path; it appears only after the whole file passed verification.
    sha256, sha1 : str, optional
        Expected hex digests of the whole file.
    progress : bool
        Show a tqdm progress bar on standard error (bytes; starts at the resumed size).
    timeout : float
        Seconds to wait for a connection or for the next data.
    size_hint : int, optional
        Size in bytes for the progress bar when the server does not say.
    expected_from : str, optional
        Where the expected SHA-256 comes from, for the mismatch message.
    recovery : str
        Appended to the message of a mismatch or of a bad download (``"; fetch again
        with: ..."``).

    Returns
    -------
    dict
        ``sha256`` (and ``sha1`` when it was expected) hex digests, ``bytes`` (file size) and
        ``resumed_from`` (bytes already in the ``.part`` that were kept).

    Raises
    ------
    DownloadError
        The server cannot be reached, answers with an HTTP error, or the connection breaks or
        times out; whatever arrived stays in ``dest + ".part"`` for the next attempt.
    BadDownload
        What arrived is not the file its name promises (:func:`content_problem`: empty, an
        HTML page, no magic bytes; without an expected digest also damaged or under half of
        ``size_hint``): it is deleted and no digest is recorded.
    UserError
        A digest differs from the expected one: the download is deleted, nothing is put at
        ``dest``; or the partial download cannot be resumed twice in a row.
    """
    part, meta_path = dest + ".part", dest + ".part.json"
    expected = {algo: hexd.lower() for algo, hexd in (("sha256", sha256), ("sha1", sha1))
                if hexd}
    check = _Check(url, dest, expected, expected_from, recovery, size_hint)
    opener = urllib.request.build_opener()  # reads the proxy settings of this moment
    for _attempt in range(3):
        offset = os.path.getsize(part) if os.path.exists(part) else 0
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept-Encoding": "identity"})
        if offset:
            req.add_header("Range", f"bytes={offset}-")
            meta = _read_json(meta_path)
            validator = meta.get("etag") or meta.get("last_modified")
            if meta.get("url") == url and validator and not validator.startswith("W/"):
                req.add_header("If-Range", validator)
        try:
            resp = opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset:
                _, total = _content_range(e.headers.get("Content-Range"))
                e.close()
                if total == offset:
                    logger.info("%s: the partial download is complete", os.path.basename(dest))
                    return _finish(part, meta_path, check, None, offset)
                logger.warning("%s: the partial download (%d bytes) does not fit the file on "
                               "the server (%s bytes); downloading again from the start",
                               os.path.basename(dest), offset, total)
                _remove(part, meta_path)
                continue
            raise DownloadError(f"cannot download {url}: HTTP {e.code} {e.reason}"
                                + _kept(part)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise DownloadError(f"cannot download {url}: {_one_line(reason)}"
                                + _kept(part)) from None
        with resp:
            status = getattr(resp, "status", None) or 200
            total = None
            if status == 206:
                start, total = _content_range(resp.headers.get("Content-Range"))
                if start != offset:
                    logger.warning("%s: the server sent bytes from %s instead of %d; "
                                   "downloading again from the start", os.path.basename(dest),
                                   start, offset)
                    _remove(part, meta_path)
                    continue
            else:
                if offset:
                    logger.info("%s: the server sent the whole file (it ignored the range "
                                "request or the file changed); downloading from the start",
                                os.path.basename(dest))
                offset = 0
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            if not url.lower().startswith("file:"):  # urllib guesses it from the file name
                check.content_type = resp.headers.get("Content-Type")
            _write_json(meta_path, {"url": url, "etag": resp.headers.get("ETag"),
                                    "last_modified": resp.headers.get("Last-Modified")})
            if offset:
                logger.info("%s: resuming at byte %d", os.path.basename(dest), offset)
            return _receive(resp, part, meta_path, check, offset, total, progress, size_hint)
    raise UserError(f"cannot resume the download of {url} into {part}; delete it and try again")


class _Check:
    """What a download must hash to, and the words of the message when it does not."""

    def __init__(self, url, dest, expected, expected_from, recovery="", size=None):
        self.url, self.dest, self.expected, self.expected_from = url, dest, expected, expected_from
        self.recovery, self.size, self.content_type = recovery, size, None

    def hashers(self):
        """Fresh hash objects: SHA-256 always, SHA-1 when one is expected."""
        algos = ["sha256"] + [a for a in self.expected if a != "sha256"]
        return {a: hashlib.new(a) for a in algos}


def _receive(resp, part, meta_path, check, offset, total, progress, size_hint):
    """Append the response body to ``part`` (from ``offset``), then :func:`_finish`."""
    from tqdm import tqdm

    dest, url = check.dest, check.url
    hashers = check.hashers()
    if offset:
        _hash_file(part, hashers, limit=offset)
    received = offset
    bar = tqdm(total=total or size_hint, initial=offset, unit="B", unit_scale=True,
               unit_divisor=1024, desc=os.path.basename(dest), disable=not progress,
               leave=False, dynamic_ncols=True)
    try:
        with open(part, "r+b" if offset else "wb") as f:
            f.seek(offset)
            f.truncate()
            try:
                while True:
                    chunk = resp.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    f.write(chunk)
                    for h in hashers.values():
                        h.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException, ValueError) as e:
                f.flush()
                raise DownloadError(
                    f"download of {url} interrupted after {received} of "
                    f"{total if total is not None else '?'} bytes ({_one_line(e)})"
                    + _kept_after(part, received)) from None
            f.flush()
            os.fsync(f.fileno())
    finally:
        bar.close()
    if total is not None and received != total:
        raise DownloadError(f"download of {url} interrupted after {received} of {total} bytes "
                            "(connection closed)" + _kept_after(part, received))
    return _finish(part, meta_path, check, hashers, offset)


def _kept_after(part, received):
    return (f"; the partial download ({received} bytes) is kept in {part} and the next fetch "
            "resumes it")


def _finish(part, meta_path, check, hashers, resumed_from):
    """Check the digests of the complete ``part``; rename it to ``dest`` or delete it."""
    dest = check.dest
    name = os.path.basename(dest)

    def refuse(problem):
        _remove(part, meta_path)
        raise BadDownload(f"{name} downloaded from {check.url} is {problem}: deleted, no "
                          f"checksum recorded{check.recovery}")

    # What arrived must be what its name says before any digest of it is compared or trusted.
    problem = content_problem(part, name, content_type=check.content_type)
    if problem:
        refuse(problem)
    if hashers is None:
        hashers = check.hashers()
        _hash_file(part, hashers)
    digests = {algo: h.hexdigest() for algo, h in hashers.items()}
    for algo, want in check.expected.items():
        if digests[algo] != want:
            _remove(part, meta_path)
            source = f" ({check.expected_from})" if algo == "sha256" and check.expected_from else ""
            raise UserError(f"{algo} mismatch for {name} downloaded from "
                            f"{check.url}: expected {want}{source}, got {digests[algo]}; the "
                            f"download was deleted{check.recovery}")
    if not check.expected:  # trust on first use: only a file that reads to its end
        problem = content_problem(part, name, content_type=check.content_type,
                                  size=check.size, deep=True)
        if problem:
            refuse(problem)
    size = os.path.getsize(part)
    os.replace(part, dest)
    _remove(meta_path)
    return {**digests, "bytes": size, "resumed_from": resumed_from}


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def read_text_url(url, timeout=DEFAULT_TIMEOUT, max_bytes=1 << 20):
    """Fetch a small text file (a checksum list) into memory.

    Raises
    ------
    DownloadError
        On any network or HTTP error, or a file larger than ``max_bytes``.
    """
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.build_opener().open(req, timeout=timeout) as resp:
            data = resp.read(max_bytes + 1)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"cannot download {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
        raise DownloadError(f"cannot download {url}: {_one_line(getattr(e, 'reason', e))}"
                            ) from None
    if len(data) > max_bytes:
        raise DownloadError(f"{url} is larger than {max_bytes} bytes; not a checksum list")
    return data.decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------- plan


class _Item:
    """One file to fetch: where it goes, where it comes from, what it must hash to."""

    def __init__(self, name, role, urls, sha256=None, sha256_source="", sha1=None,
                 sha1_source="", size=None, corpus="NAME"):
        self.name, self.role, self.urls, self.corpus = name, role, list(urls), corpus
        self.sha256, self.sha256_source = sha256, sha256_source
        self.sha1, self.sha1_source = sha1, sha1_source
        self.size = size


def _check_hex(value, algo, what):
    value = value.strip().lower()
    if not _HEX[algo].fullmatch(value):
        raise UserError(f"{what}: {value[:80]!r} is not a {algo} digest "
                        f"({64 if algo == 'sha256' else 40} hex digits)")
    return value


def parse_sha256_options(values):
    """Turn ``--sha256 [FILE=]HEX`` values into a dict ``{FILE or None: hex}``.

    Raises
    ------
    UserError
        A value that is not 64 hex digits, or a file named twice.
    """
    out = {}
    for v in values or ():
        name, _, hexd = v.rpartition("=")
        key = name or None
        if key in out:
            raise UserError(f"--sha256 given twice for {key or 'the file'}")
        out[key] = _check_hex(hexd, "sha256", f"--sha256 {v}")
    return out


def _plan(spec, folder, *, mirror, dump_date, sha256, timeout):
    """The files to fetch, with their URLs and expected digests (``--sha256`` applied)."""
    date = dump_date or "latest"
    if dump_date is not None:
        if spec.kind != "wikipedia":
            raise UserError(f"--dump-date applies to wikipedia only, not {spec.name}")
        if not re.fullmatch(r"\d{8}", dump_date):
            raise UserError(f"--dump-date must be a date YYYYMMDD, got {dump_date!r}")
    items = []
    for f in spec.files:
        urls = ([mirror.rstrip("/") + "/" + f.mirror_name.format(date=date)] if mirror
                else [u.format(date=date) for u in f.urls])
        items.append(_Item(f.name.format(date=date), f.role, urls, f.sha256,
                           f"registry ({f.sha256_source})" if f.sha256 else "", size=f.size,
                           corpus=spec.name))
    if spec.checksum_file:
        _apply_checksum_file(spec, items, folder, mirror, date, timeout)
    if sha256:
        names = [it.name for it in items]
        for key, hexd in sha256.items():
            if key is None and len(items) != 1:
                raise UserError(f"{spec.name} has {len(items)} files ({', '.join(names)}); "
                                "give --sha256 FILE=HEX")
            target = items[0] if key is None else next((it for it in items if it.name == key),
                                                        None)
            if target is None:
                raise UserError(f"--sha256 {key}=...: {spec.name} has no file {key!r} "
                                f"(files: {', '.join(names)})")
            target.sha256, target.sha256_source = hexd, "--sha256"
    return items


def _apply_checksum_file(spec, items, folder, mirror, date, timeout):
    """Read the published SHA-1 list beside the files; resolve ``latest`` to the dump date.

    The list of a ``latest`` folder names the dated files (``enwiki-20240601-...``); the entry
    whose name is the file's with ``latest`` replaced by a date gives the SHA-1 and the date,
    and the file is cached under its dated name. A copy of the list is kept in the cache;
    when the server cannot be reached, the newest matching copy is used instead (so a cached
    dump can be converted offline).
    """
    name = spec.checksum_file.format(date=date)
    base = (mirror.rstrip("/") + "/") if mirror else spec.files[0].urls[0].format(
        date=date).rsplit("/", 1)[0] + "/"
    url = base + name
    try:
        text = read_text_url(url, timeout=timeout)
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
        if len(fields) == 2 and _HEX["sha1"].fullmatch(fields[0].lower()):
            listed[fields[1].lstrip("*")] = fields[0].lower()
    for it, f in zip(items, spec.files):
        pattern = re.escape(f.name).replace(re.escape("{date}"),
                                            r"(\d{8})" if date == "latest" else f"({date})")
        found = [(m.group(1), n) for n in listed if (m := re.fullmatch(pattern, n))]
        if len(found) != 1:
            raise UserError(f"{url} lists no single checksum for {f.name.format(date=date)} "
                            f"({len(found)} matches); try another --dump-date")
        resolved, dated_name = found[0]
        it.name = dated_name
        it.sha1, it.sha1_source = listed[dated_name], url
    _write_text(os.path.join(folder, name.replace("latest", resolved)), text)


# ----------------------------------------------------------------------------- fetch


def _read_record(path):
    try:
        with open(path, encoding="utf-8") as f:
            first = f.read(200).split()
    except OSError:
        return None
    return first[0].lower() if first and _HEX["sha256"].fullmatch(first[0].lower()) else None


def _write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def _write_record(path, hexd, name):
    _write_text(path, f"{hexd}  {name}\n")


def fetch_file(item, folder, *, progress=False, timeout=DEFAULT_TIMEOUT):
    """Bring one file into ``folder``: download (or resume) it and verify it.

    A file already in the cache with a recorded SHA-256 equal to the expected one is not
    read again (it was verified on arrival).

    Returns
    -------
    dict
        ``name``, ``path``, ``sha256``, ``verified`` (how: ``"pinned: SOURCE"``,
        ``"recorded in PATH"``, ``"not pinned: trusted on first use and recorded"``, or
        ``"sha256 recorded now"``; then ``"; sha1 from URL"`` when a SHA-1 was published),
        ``downloaded`` (bytes transferred now; 0 when the cache had it).

    Raises
    ------
    DownloadError, UserError
        As :func:`download`; also a cached file whose digest differs from the expected one.
        A cached file that is not what its name promises (:func:`content_problem`, e.g. an
        HTML page cached by an older esca) is deleted with a warning, together with a
        recorded digest of it, and downloaded again.
    """
    dest = os.path.join(folder, item.name)
    record_path = dest + ".sha256"
    recorded = _read_record(record_path)
    force = f"esca corpora fetch {item.corpus} --force"
    if os.path.exists(dest):
        problem = content_problem(dest, item.name)
        if problem:  # left by an esca that did not check what arrived: drop it and its record
            bad = file_digest(dest)
            _remove(dest)
            dropped = ""
            if recorded == bad:
                _remove(record_path)
                recorded, dropped = None, f" and the sha256 recorded for it in {record_path}"
            logger.warning("warning: the cached %s is %s (an earlier download, perhaps a "
                           "mirror's error page); deleted it%s; downloading it again", dest,
                           problem, dropped)
    expected = item.sha256 or recorded
    how = (f"pinned: {item.sha256_source}" if item.sha256
           else f"recorded in {record_path}" if recorded else None)
    if item.sha256:
        recovery = ("; retry later, or fetch from another source with --mirror URL")
    elif recorded:
        recovery = (f"; if the recorded sha256 is wrong (an older esca could record a mirror's "
                    f"error page) or the file changed at its source, discard the record and "
                    f"fetch again with: {force}")
    else:
        recovery = (f"; retry later, or fetch from another source: esca corpora fetch "
                    f"{item.corpus} --mirror URL")
    downloaded = 0
    if os.path.exists(dest):
        if recorded is not None and recorded == expected:
            got = recorded
        else:
            got = file_digest(dest)
            if expected and got != expected:
                raise UserError(f"cached {dest} has sha256 {got}, expected {expected} "
                                f"({how}); delete it or fetch again with: {force}")
            if item.sha1 and file_digest(dest, "sha1") != item.sha1:
                raise UserError(f"cached {dest} does not match the sha1 published in "
                                f"{item.sha1_source}; delete it or fetch again with: {force}")
    else:
        for url in item.urls:
            logger.info("downloading %s", url)
            try:
                result = download(url, dest, sha256=expected, sha1=item.sha1,
                                  progress=progress, timeout=timeout, size_hint=item.size,
                                  expected_from=how, recovery=recovery)
                break
            except DownloadError as e:
                # Another source may continue a .part only when a digest will check the result.
                unchecked_part = not (expected or item.sha1) and os.path.exists(dest + ".part")
                if url == item.urls[-1] or unchecked_part:
                    raise
                logger.warning("%s; trying the next source", e)
        got = result["sha256"]
        downloaded = result["bytes"] - result["resumed_from"]
    if how is None and item.sha1:
        how = "sha256 recorded now"
    elif how is None:
        how = "not pinned: trusted on first use and recorded"
        logger.warning("warning: the sha256 of %s is not pinned; recorded %s in %s (trust on "
                       "first use: later downloads are checked against it; pin a value with "
                       "--sha256 %s=HEX)", item.name, got, record_path, item.name)
    if recorded != got:
        _write_record(record_path, got, item.name)
    if item.sha1:
        how += f"; sha1 from {item.sha1_source}"
    return {"name": item.name, "path": dest, "sha256": got, "verified": how,
            "downloaded": downloaded}


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


_DEFAULT = object()


def fetch_corpus(corpus, *, cache_dir=None, out=None, convert=True, mirror=None, sha256=None,
                 dump_date=None, force=False, reconvert=False, progress=False,
                 timeout=DEFAULT_TIMEOUT, holdout=None, seed=0, no_below=_DEFAULT,
                 no_above=_DEFAULT, keep_n=_DEFAULT, processes=None):
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
    convert : bool
        False: download and verify only.
    mirror : str, optional
        Folder URL holding the same file names; replaces every source URL of the corpus.
    sha256 : dict, optional
        ``{file name or None: hex}`` pinning SHA-256 values (None: the only file).
    dump_date : str, optional
        Wikipedia only: ``YYYYMMDD`` of the dump (default: the ``latest`` folder).
    force : bool
        Delete the cached files of this corpus (and their records) and fetch them again.
    reconvert : bool
        Convert again even if the output exists.
    progress : bool
        Progress bars on standard error.
    timeout : float
        Network timeout in seconds.
    holdout, seed :
        As ``esca prepare --holdout``: hold out a seeded fraction of the documents (UCI and
        Wikipedia; 20 Newsgroups has its own train/test split).
    no_below, no_above, keep_n :
        Vocabulary pruning as in ``esca prepare``; default: the entry's ``prune`` values.
    processes : int, optional
        Worker processes of gensim's WikiCorpus (default: cores - 1).

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
    spec = corpus if isinstance(corpus, StandardCorpus) else get_corpus(corpus)
    if holdout is not None and spec.kind == "20newsgroups":
        raise UserError("20newsgroups comes with its own train/test split (written to "
                        "20newsgroups.h5 and 20newsgroups.test.h5); --holdout does not apply")
    if timeout is not None and not timeout > 0:
        raise UserError(f"--timeout must be positive, got {timeout!r}")
    if mirror is not None and not re.match(r"(?i)(https?|file)://", mirror):
        raise UserError(f"--mirror must be an http://, https:// or file:// URL, got {mirror!r}")
    folder = os.path.join(os.path.abspath(cache_dir or default_cache_dir()), spec.name)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the cache folder {folder}: {_one_line(e)}") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cache folder is not writable: {folder}")
    with _folder_lock(folder, spec.name):
        items = _plan(spec, folder, mirror=mirror, dump_date=dump_date, sha256=sha256,
                      timeout=timeout)
        if force:
            for it in items:
                p = os.path.join(folder, it.name)
                _remove(p, p + ".sha256", p + ".part", p + ".part.json")
        files = [fetch_file(it, folder, progress=progress, timeout=timeout) for it in items]
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
        prune = {k: (spec.prune.get(k) if v is _DEFAULT else v)
                 for k, v in (("no_below", no_below), ("no_above", no_above),
                              ("keep_n", keep_n))}
        has_test = spec.kind == "20newsgroups" or holdout is not None
        result["corpus"] = out
        result["test_corpus"] = holdout_path(out) if has_test else None
        done = os.path.exists(out) and (not has_test or os.path.exists(holdout_path(out)))
        if done and not (force or reconvert):
            logger.debug("%s is already converted: %s", spec.name, out)
            return result
        try:
            if spec.kind == "uci":
                stats = prepare_corpus(paths["docword"], "uci", out, vocab=paths["vocab"],
                                       holdout=holdout, seed=seed, **prune)
            elif spec.kind == "20newsgroups":
                stats = convert_20newsgroups(paths["archive"], out, folder, prune)
            elif spec.kind == "wikipedia":
                stats = convert_wikipedia(paths["dump"], out, folder, prune, holdout=holdout,
                                          seed=seed, processes=processes, force=force)
            else:
                raise UserError(f"{spec.name}: unknown corpus kind {spec.kind!r}")
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


# ----------------------------------------------------------------------------- conversion


def _stopwords():
    return english_stopwords()


def _numeric_key(name):
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def _write_tokens(path, docs):
    """Write ``docs`` (token lists) to ``path`` atomically, gzip, one document per line."""
    with atomic_path(path) as tmp, gzip.GzipFile(tmp, "wb", compresslevel=4, mtime=0) as gz:
        for tokens in docs:
            gz.write((" ".join(tokens) + "\n").encode("utf-8"))


def convert_20newsgroups(archive, out, folder, prune):
    """Convert ``20news-bydate.tar.gz`` into ``out`` (train posts) and ``NAME.test.h5``.

    Posts are ordered train then test, by newsgroup, then by post number; each becomes the
    tokens (:func:`tokenize_text`) of :func:`newsgroup_text`. The train tokens go through
    ``esca prepare --format text`` with ``prune``; the test file uses the train vocabulary
    (test tokens of other words are dropped, so are test posts left empty). Both files'
    ``doc_index`` is the post's row in ``20newsgroups.docs.tsv`` (0-based, train first),
    whose columns are ``doc_index split newsgroup source_id`` (``train/alt.atheism/49960``).

    Returns
    -------
    dict
        The train file's ``prepare_corpus`` summary plus ``test``: ``D``, ``N``,
        ``n_empty_dropped``, ``n_oov_dropped`` of the test file, and ``docs_tsv``.

    Raises
    ------
    UserError
        An unreadable or damaged archive, or one without ``20news-bydate-train/GROUP/POST``
        members.
    """
    import numpy as np

    from esca.corpus import CorpusWriter, read_corpus

    stem = os.path.splitext(os.path.basename(out))[0]
    tokens_paths = {s: os.path.join(folder, f"20newsgroups.{s}.tokens.txt.gz")
                    for s in ("train", "test")}
    docs_tsv = os.path.join(folder, "20newsgroups.docs.tsv")
    posts = {}
    logger.info("reading %s", archive)
    stop = _stopwords()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for m in tar:
                parts = [p for p in m.name.split("/") if p not in ("", ".")]
                if not m.isfile() or len(parts) != 3 or parts[0] not in (
                        "20news-bydate-train", "20news-bydate-test"):
                    continue
                split = parts[0].rsplit("-", 1)[1]
                raw = tar.extractfile(m).read()
                key = (split != "train", parts[1], _numeric_key(parts[2]))
                posts[key] = (split, parts[1], f"{split}/{parts[1]}/{parts[2]}",
                              tokenize_text(newsgroup_text(raw), stop))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise UserError(f"cannot read {archive}: {_one_line(e)}") from None
    rows = [posts[k] for k in sorted(posts)]
    n_train = sum(1 for r in rows if r[0] == "train")
    if n_train == 0:
        raise UserError(f"{archive} holds no posts under 20news-bydate-train/GROUP/POST")
    _write_text(docs_tsv, "doc_index\tsplit\tnewsgroup\tsource_id\n" + "".join(
        f"{i}\t{split}\t{group}\t{source_id}\n"
        for i, (split, group, source_id, _) in enumerate(rows)))
    for split in ("train", "test"):
        _write_tokens(tokens_paths[split], (r[3] for r in rows if r[0] == split))
    folder_out = os.path.dirname(out)
    tmp_train = os.path.join(folder_out, f".{stem}.train.h5.tmp")
    test_out = holdout_path(out)
    try:
        stats = prepare_corpus(tokens_paths["train"], "text", tmp_train, **prune)
        vocab = read_corpus(tmp_train).vocab
        index = {w: i for i, w in enumerate(vocab)}
        n_test = n_oov = n_empty = 0
        prov = {"source": os.path.abspath(archive), "input_format": "20newsgroups",
                "split": "test", "vocabulary": "train split", "pruning": prune,
                "tokenizer": "gensim.corpora.wikicorpus.tokenize", "stopwords": STOPWORDS_SOURCE}
        with CorpusWriter(test_out, vocab=vocab, provenance=prov) as w:
            for k, r in enumerate(rows[n_train:]):
                ids = np.array([index[t] for t in r[3] if t in index], dtype=np.int32)
                n_oov += len(r[3]) - len(ids)
                if len(ids) == 0:
                    n_empty += 1
                    continue
                w.add(ids, source_index=n_train + k)
                n_test += len(ids)
            w.n_empty_dropped = n_empty
        os.replace(tmp_train, out)
    finally:
        _remove(tmp_train)
    stats["test"] = {"D": len(rows) - n_train - n_empty, "N": n_test,
                     "n_empty_dropped": n_empty, "n_oov_dropped": n_oov, "path": test_out}
    stats["docs_tsv"] = docs_tsv
    return stats


def convert_wikipedia(dump, out, folder, prune, *, holdout=None, seed=0, processes=None,
                      force=False):
    """Convert a MediaWiki ``pages-articles.xml.bz2`` dump into the esca corpus ``out``.

    Articles are read with ``gensim.corpora.WikiCorpus(dump, dictionary={}, metadata=True)``:
    main namespace only, wiki markup removed, redirects and articles of fewer than 50 tokens
    skipped, tokens as in :func:`tokenize_text` (stop words removed afterwards). The tokens
    go to ``enwiki-DATE.tokens.txt.gz`` (kept and reused by a later conversion, e.g. with
    other pruning) and ``enwiki-DATE.docs.tsv`` (``doc_index page_id title``), then through
    ``esca prepare --format text`` with ``prune`` (and ``holdout``).

    Returns
    -------
    dict
        The ``prepare_corpus`` summary plus ``docs_tsv``.

    Raises
    ------
    UserError
        A damaged bz2 stream or XML that is not a MediaWiki export.
    KeyboardInterrupt
        If the reading was interrupted (gensim stops quietly; nothing is written then).
    """
    import xml.etree.ElementTree as ET

    from gensim.corpora.wikicorpus import WikiCorpus

    stem = os.path.basename(dump).split("-pages-")[0]
    tokens_path = os.path.join(folder, f"{stem}.tokens.txt.gz")
    docs_tsv = os.path.join(folder, f"{stem}.docs.tsv")
    if force or not (os.path.exists(tokens_path) and os.path.exists(docs_tsv)):
        logger.info("reading %s with gensim's WikiCorpus (this takes hours for a full dump)",
                    dump)
        stop = _stopwords()
        wiki = WikiCorpus(dump, processes=processes, dictionary={}, metadata=True)
        n = 0
        try:
            # Both files appear together, and only when every article was read.
            with atomic_path(docs_tsv) as tmp_docs, atomic_path(tokens_path) as tmp_tokens, \
                    open(tmp_docs, "w", encoding="utf-8") as fd, \
                    gzip.GzipFile(tmp_tokens, "wb", compresslevel=4, mtime=0) as gz:
                fd.write("doc_index\tpage_id\ttitle\n")
                for tokens, (pageid, title) in wiki.get_texts():
                    words = [t for t in tokens if t not in stop]
                    gz.write((" ".join(words) + "\n").encode("utf-8"))
                    clean = " ".join(str(title).split())
                    fd.write(f"{n}\t{pageid}\t{clean}\n")
                    n += 1
                    if n % 100_000 == 0:
                        logger.info("%d articles", n)
                if getattr(wiki, "length", None) is None:  # gensim swallowed a Ctrl-C
                    raise KeyboardInterrupt
        except (OSError, EOFError, ET.ParseError, ValueError) as e:
            if isinstance(e, UserError):
                raise
            raise UserError(f"cannot read the Wikipedia dump {dump}: {_one_line(e)}") from None
        logger.info("%d articles in %s", n, tokens_path)
    stats = prepare_corpus(tokens_path, "text", out, holdout=holdout, seed=seed, **prune)
    stats["docs_tsv"] = docs_tsv
    return stats
