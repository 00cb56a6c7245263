"""Download one file with resume, verify it, and check that it is what its name promises.

The HTTP and checksum half of ``esca corpora fetch`` (:mod:`esca.corpora.fetch` plans which
files a corpus needs and :mod:`esca.corpora.convert` turns them into esca corpora). A file is
written to ``NAME.part``; when a ``.part`` exists the request carries ``Range: bytes=N-`` (and
``If-Range`` with the validator recorded in ``NAME.part.json``). A ``206`` response is
appended; a ``200`` means the server ignored the range (or the file changed), so the download
restarts from byte 0; a ``416`` means the ``.part`` is already complete (it is verified) or does
not fit the file (it is discarded and the download restarts). A network error or timeout keeps
the ``.part`` and raises :class:`DownloadError`.

Verification covers the whole file, also after a resume; the SHA-256 of a verified file is
recorded beside it as ``NAME.sha256`` ("HEX  NAME", the format of sha256sum), and a file
without an expected digest is trusted on first use (:func:`fetch_file`). What arrived is first
checked against what its name says it is (:func:`content_problem`): an empty file, an HTML
page where a data file is expected, or a compressed file without its magic bytes raises
:class:`BadDownload` and is deleted.
"""

import bz2
import contextlib
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

from tqdm import tqdm

from esca._io import atomic_path
from esca._version import __version__
from esca.errors import UserError, one_line

logger = logging.getLogger(__name__)

#: Seconds without any data before a connection attempt or a read gives up.
DEFAULT_TIMEOUT = 60.0
CHUNK_BYTES = 1 << 20
USER_AGENT = f"esca/{__version__} (esca corpora fetch; Python urllib)"
#: The form of a hex digest of each algorithm.
HEX_DIGEST = {"sha256": re.compile(r"[0-9a-f]{64}"), "sha1": re.compile(r"[0-9a-f]{40}")}


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


def human_size(n):
    """``n`` bytes in words: ``"1.2 kB"``, ``"3.4 MB"``, ``"15 bytes"`` (powers of 1000)."""
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
        return one_line(e)
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
        return f"an HTML page of {human_size(got)}{served}, not {want}"
    if kind is not None:
        offset, prefixes = _MAGIC[kind]
        if not head[offset:].startswith(prefixes):
            what = ("an HTML page" if ctype in ("text/html", "application/xhtml+xml")
                    else "a file")
            return (f"{what} of {human_size(got)}{served} starting with {head[:16]!r}, not {want}")
    if not deep:
        return None
    if size and got < size // 2:
        return f"{human_size(got)}, not the {human_size(size)} file the registry lists"
    if kind is not None:
        why = _decompress_problem(path, kind)
        if why is not None:
            return f"{want} of {human_size(got)} that is damaged ({why})"
    return None


def remove_files(*paths):
    """Delete each of ``paths`` that exists."""
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
                remove_files(part, meta_path)
                continue
            raise DownloadError(f"cannot download {url}: HTTP {e.code} {e.reason}"
                                + _kept(part)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise DownloadError(f"cannot download {url}: {one_line(reason)}"
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
                    remove_files(part, meta_path)
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
                    f"{total if total is not None else '?'} bytes ({one_line(e)})"
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
        remove_files(part, meta_path)
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
            remove_files(part, meta_path)
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
    remove_files(meta_path)
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
        raise DownloadError(f"cannot download {url}: {one_line(getattr(e, 'reason', e))}"
                            ) from None
    if len(data) > max_bytes:
        raise DownloadError(f"{url} is larger than {max_bytes} bytes; not a checksum list")
    return data.decode("utf-8", errors="replace")


class FileItem:
    """One file to fetch: where it goes, where it comes from, what it must hash to."""

    def __init__(self, name, role, urls, sha256=None, sha256_source="", sha1=None,
                 sha1_source="", size=None, corpus="NAME"):
        self.name, self.role, self.urls, self.corpus = name, role, list(urls), corpus
        self.sha256, self.sha256_source = sha256, sha256_source
        self.sha1, self.sha1_source = sha1, sha1_source
        self.size = size


def check_hex(value, algo, what):
    """``value`` as lower-case hex; UserError naming ``what`` unless it is an ``algo`` digest."""
    value = value.strip().lower()
    if not HEX_DIGEST[algo].fullmatch(value):
        raise UserError(f"{what}: {value[:80]!r} is not a {algo} digest "
                        f"({64 if algo == 'sha256' else 40} hex digits)")
    return value


def read_record(path):
    """The SHA-256 recorded in ``path`` (sha256sum format), or None (missing or unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.read(200).split()
    except OSError:
        return None
    hexd = first[0].lower() if first else ""
    return hexd if HEX_DIGEST["sha256"].fullmatch(hexd) else None


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def _write_record(path, hexd, name):
    write_text(path, f"{hexd}  {name}\n")


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
    recorded = read_record(record_path)
    force = f"esca corpora fetch {item.corpus} --force"
    if os.path.exists(dest):
        problem = content_problem(dest, item.name)
        if problem:  # left by an esca that did not check what arrived: drop it and its record
            bad = file_digest(dest)
            remove_files(dest)
            dropped = ""
            if recorded == bad:
                remove_files(record_path)
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
