"""Atomic file writes: a reader sees either the old file or the complete new one.

Temporary files and folders are named after the process that writes them,
``.NAME.<pid>@<host>.<random>.tmp`` and ``.esca-export-<pid>@<host>.<random>``, so that
a later write into the same folder can tell the leftovers of a killed process
(SIGKILL, a node crash) from those of a process still running
(:func:`remove_stale_temporaries`).
"""

import contextlib
import errno
import logging
import os
import re
import shutil
import socket
import tempfile
import time

import h5py

from .errors import OutputIsInputError, UserError, WriteError

log = logging.getLogger(__name__)


def check_writable_parent(path):
    """Raise :class:`UserError` unless the folder that will hold ``path`` exists and is writable."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise UserError(f"output folder is not a folder: {parent}")
    if not os.path.isdir(parent):
        raise UserError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise UserError(f"output folder is not writable: {parent}")


def check_output_file(path):
    """Raise :class:`UserError` unless ``path`` can be written as a file (atomically)."""
    if os.path.isdir(path):
        raise UserError(f"output path is a folder, not a file: {path}")
    check_writable_parent(path)


def check_output_dir(path):
    """Raise :class:`UserError` unless ``path`` is, or can be created as, a writable folder.

    An existing folder needs to be writable itself (its parent may be read-only, as a
    home folder's parent or a scheduler's scratch folder); a missing one needs a
    writable parent to be created in.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"output folder is an existing file: {path}")
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            raise UserError(f"output folder is not writable: {path}")
        return
    check_writable_parent(path)


def same_file(a, b):
    """True if the paths ``a`` and ``b`` name the same file or folder.

    Through symbolic links and hard links (:func:`os.path.samefile`) when both
    exist; otherwise by their resolved paths (:func:`os.path.realpath`), which also
    catches a path not yet written that leads, through a linked folder, to the other.
    """
    a, b = os.fspath(a), os.fspath(b)
    with contextlib.suppress(OSError):
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_not_input(out, inputs, option="out"):
    """Raise :class:`~esca.errors.OutputIsInputError` if the output ``out`` is one of the
    ``inputs``.

    Parameters
    ----------
    out : str or os.PathLike
        A path the command will write (a file, or a folder it writes into).
    inputs : iterable of (str, str or None)
        ``(name, path)`` of each input, e.g. ``("MODEL.h5", "m.h5")``; None paths are skipped.
    option : str
        How the output is named in the message: the parameter (default ``"out"``); the CLI
        passes its flag (``"--out"``).

    Raises
    ------
    esca.errors.OutputIsInputError
        ``OPTION OUT would overwrite the input NAME PATH`` when ``out`` and an input are
        the same file (:func:`same_file`: also through symbolic and hard links). A
        :class:`~esca.errors.UserError`.
    """
    for name, path in inputs:
        if path is not None and same_file(out, path):
            raise OutputIsInputError(option, os.fspath(out), name, os.fspath(path))


def check_outputs_not_inputs(folder, names, inputs, option="out"):
    """:func:`check_not_input` for each file ``names`` that a command writes into ``folder``.

    Raises
    ------
    esca.errors.OutputIsInputError
        ``OPTION FOLDER would overwrite the input NAME PATH (as FILE)``.
    """
    for name in names:
        out = os.path.join(os.fspath(folder), name)
        for input_name, path in inputs:
            if path is not None and same_file(out, path):
                raise OutputIsInputError(option, os.fspath(folder), input_name,
                                         os.fspath(path), member=name)


# -- temporaries named after their process, and the removal of stale ones --------------------

#: Temporaries of another host are removed once they are this old (seconds): their
#: process cannot be asked whether it still runs.
STALE_SECONDS = 24 * 3600


def _host():
    """This host's full name as it appears in temporary names (letters, digits, ``_``, ``-``;
    the dots of a domain become ``_``, so that node1 of two clusters stays apart)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def temp_tag():
    """``<pid>@<host>``: the part of a temporary's name that names the process writing it."""
    return f"{os.getpid()}@{_host()}"


_TAGGED = re.compile(r"^\..+\.(\d+)@([A-Za-z0-9_-]+)\.[a-z0-9_]+\.tmp$"
                     r"|^\.esca-export-(\d+)@([A-Za-z0-9_-]+)\.[a-z0-9_]+$")
_UNTAGGED_EXPORT = re.compile(r"^\.esca-export-[a-z0-9_]{8}$")  # esca before issue 13


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or not a pid we can ask about
    return True


def _is_stale(name, path, now):
    m = _TAGGED.match(name)
    if m:
        pid, host = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        pid = int(pid)
        if host == _host():
            return pid != os.getpid() and not _pid_alive(pid)
    elif not _UNTAGGED_EXPORT.match(name):
        return False
    try:
        return now - os.lstat(path).st_mtime > STALE_SECONDS
    except OSError:
        return False


def _size(path):
    if not os.path.isdir(path) or os.path.islink(path):
        return os.lstat(path).st_size
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


def remove_stale_temporaries(folder):
    """Remove the temporary files and folders that killed esca processes left in ``folder``.

    A temporary is stale when the process named in it (``<pid>@<host>``) is on this
    host and no longer runs, or, for another host (a shared filesystem) and for the
    ``.esca-export-*`` folders of earlier esca versions, when it has not changed for
    :data:`STALE_SECONDS`. Logs one warning naming what was removed; errors (a file
    removed meanwhile, no permission) are ignored.

    Returns
    -------
    list of str
        The paths removed.
    """
    folder = os.fspath(folder) or "."
    now = time.time()
    removed, size, folders = [], 0, 0
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".")]
    except OSError:
        return []
    for e in entries:
        if not _is_stale(e.name, e.path, now):
            continue
        try:
            n = _size(e.path)
            is_dir = e.is_dir(follow_symlinks=False)
            if is_dir:
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
        except OSError:
            continue
        removed.append(e.path)
        size += n
        folders += is_dir
    if removed:
        files = len(removed) - folders
        what = " and ".join(f"{n} temporary {kind}{'s' if n > 1 else ''}" for n, kind in (
            (files, "file"), (folders, "folder")) if n)
        log.warning("removed %s (%.1f MB) left in %s by esca processes that no longer run: %s",
                    what, size / 1e6, os.path.abspath(folder),
                    ", ".join(os.path.basename(p) for p in removed))
    return removed


def make_temp_file(path):
    """Create an empty temporary file beside ``path`` named after this process; returns its path.

    Stale temporaries of the folder are removed first (:func:`remove_stale_temporaries`).
    """
    parent = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{temp_tag()}.",
                               suffix=".tmp", dir=parent)
    os.close(fd)
    return tmp


def make_temp_dir(folder, prefix=".esca-export-"):
    """Create a temporary folder inside ``folder`` named after this process; returns its path.

    Stale temporaries of ``folder`` are removed first (:func:`remove_stale_temporaries`).
    """
    remove_stale_temporaries(folder)
    return tempfile.mkdtemp(prefix=f"{prefix}{temp_tag()}.", dir=folder)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it
    was (an existing file is never truncated or half-written).

    Raises
    ------
    UserError
        If the folder does not exist or is not writable.
    """
    check_output_file(path)
    parent = os.path.dirname(os.path.abspath(path))
    tmp = make_temp_file(path)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- disk errors: a full disk ends with one WriteError, never a crash -----------------------------

#: errno values that mean "the disk (or the quota, or the file system's file size) is full".
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_WHY = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
        errno.EFBIG: "file too large for the file system"}


def _mb(n):
    return f"{n / 2**20:.1f} MB"


def write_error(path, err, needed=None, at_least=False):
    """The :class:`~esca.errors.WriteError` for the :class:`OSError` ``err`` raised while
    writing ``path``: ``cannot write PATH: no space left on device (needs about X MB, Y MB
    free in FOLDER)``. ``needed``: the bytes the write needs, when known (``at_least``: a
    lower bound, ``needs at least X MB``)."""
    if isinstance(err, WriteError):
        return err
    code = getattr(err, "errno", None)
    why = _WHY.get(code) or (os.strerror(code) if code else str(err).splitlines()[0])
    needs = f"needs {'at least' if at_least else 'about'} {_mb(needed)}" if needed else None
    folder = os.path.dirname(os.path.abspath(path)) if code in DISK_FULL else None
    return _write_error(f"cannot write {path}: {why}", needs, folder, os.fspath(path))


def _write_error(head, needs, folder, path):
    """``HEAD (NEEDS, Y MB free in FOLDER)`` with the free space measured now; its ``_again``
    measures it again (:func:`atomic_output` does, once the temporary file is gone)."""
    details = [needs] if needs else []
    if folder is not None:
        with contextlib.suppress(OSError):
            details.append(f"{_mb(shutil.disk_usage(folder).free)} free in {folder}")
    e = WriteError(head + (f" ({', '.join(details)})" if details else ""))
    e.path = path
    e._again = lambda: _write_error(head, needs, folder, path)
    return e


@contextlib.contextmanager
def atomic_output(path, needed=None):
    """:func:`atomic_path` whose disk errors become one :class:`~esca.errors.WriteError`.

    Any :class:`OSError` of creating, syncing or renaming the temporary file, and an
    :class:`OSError` of the ``with`` body that means a full disk (:data:`DISK_FULL`) or
    names the temporary file, is raised as a :class:`~esca.errors.WriteError` naming
    ``path`` and the cause; the temporary file is removed and ``path`` kept as it was.
    Other exceptions of the body (an unreadable input) pass unchanged.
    """
    in_body, tmp = False, None
    try:
        with atomic_path(path) as tmp:
            in_body = True
            yield tmp
            in_body = False
    except WriteError as e:  # the free space again, now that the temporary file is gone
        again = getattr(e, "_again", None)
        if again is None:
            raise
        raise again() from e.__cause__
    except OSError as e:
        if in_body and e.errno not in DISK_FULL and tmp not in (e.filename, e.filename2):
            raise
        raise write_error(path, e, needed) from e


@contextlib.contextmanager
def atomic_h5(path):
    """Yield a new :class:`h5py.File` that is written to ``path`` atomically on success.

    The file is built in memory (HDF5's core driver, no backing store) and its image is
    written to the temporary file by Python; HDF5 itself never writes to the disk. HDF5
    does not survive a failed write: after ``ENOSPC`` its close fails too, and the objects
    left open crash the process (a segmentation fault) when they are freed, so a full disk
    must reach Python's ``write`` and not HDF5's. The cost is the file's size in memory, once
    more for the image, while it is written.

    Raises
    ------
    esca.errors.WriteError
        The disk is full (or any other :class:`OSError` while writing): the message names
        ``path``, the cause and the size needed; nothing is left behind.
    """
    with atomic_output(path) as tmp:
        f = h5py.File(tmp, "w", driver="core", backing_store=False)
        try:
            yield f
            f.flush()
            image = f.id.get_file_image()
        finally:
            f.close()
        try:
            with open(tmp, "wb") as out:
                out.write(image)
        except OSError as e:
            raise write_error(path, e, needed=len(image)) from e


@contextlib.contextmanager
def output_folder(out_dir):
    """Create ``out_dir`` if missing for the ``with`` body; remove it again, with what the
    body wrote into it, if the body fails (a failed export or plot leaves no new folder).

    Disk errors of the body become :class:`~esca.errors.WriteError` as in
    :func:`atomic_output`."""
    created = not os.path.isdir(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
        yield out_dir
    except BaseException as e:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(e, OSError) and not isinstance(e, WriteError):
            raise write_error(out_dir, e) from e
        raise


def write_folder(out_dir, write, inputs=()):
    """Run ``write(tmp_dir)`` and move every file it made into ``out_dir`` atomically.

    The one writer of multi-file outputs (the gensim, Mallet and csv exports). The files
    are written into a temporary folder inside ``out_dir`` (:func:`make_temp_dir`, named
    after this process; stale ones of killed processes are removed first, see
    :func:`remove_stale_temporaries`), synced, and renamed over any files of the same
    names only after ``write`` returned, so an earlier output survives a failure. Other
    files of ``out_dir`` are left alone; a folder this call created goes again on failure
    (:func:`output_folder`).

    Parameters
    ----------
    out_dir : str
        The output folder; created (with no parents) if missing.
    write : callable
        ``write(tmp_dir)`` writes the files into the temporary folder ``tmp_dir`` (str).
    inputs : iterable of (str, str or None)
        ``(name, path)`` of the inputs (see :func:`check_not_input`), checked against
        ``out_dir`` and against each file written before anything is replaced.

    Returns
    -------
    list of str
        The absolute paths of the files written, sorted by name.

    Raises
    ------
    UserError
        If ``out_dir`` is an existing file or not writable, or the folder that holds it
        does not exist or is not writable, or a file written would replace one of
        ``inputs``.
    esca.errors.WriteError
        A disk error (a full disk) while writing, naming ``out_dir``.
    """
    check_not_input(out_dir, inputs)
    shown, out_dir = out_dir, os.path.abspath(out_dir)
    check_output_dir(out_dir)
    with output_folder(out_dir):
        tmp = make_temp_dir(out_dir)
        try:
            write(tmp)
            names = sorted(os.listdir(tmp))
            check_outputs_not_inputs(shown, names, inputs)
            for name in names:
                with open(os.path.join(tmp, name), "rb+") as f:
                    os.fsync(f.fileno())
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
            dfd = os.open(out_dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(out_dir, name) for name in names]


class SpaceReservation:
    """Reserve disk space for a file that a library (HDF5) writes through its own descriptor.

    :meth:`reserve` makes the file system allocate the first ``size`` bytes of ``path``
    (:func:`os.posix_fallocate`), so that the library's later writes below ``size`` cannot
    fail with ``ENOSPC``; a full disk is reported here, by Python, as a
    :class:`~esca.errors.WriteError` naming ``shown_as`` and the size needed. HDF5 truncates
    the file to its real end on closing, giving back what was reserved beyond it. Where the
    file system cannot allocate (no ``posix_fallocate``, ``EOPNOTSUPP``) nothing is reserved.
    """

    def __init__(self, path, shown_as):
        self.path, self.shown_as, self.size = path, shown_as, 0
        self._fd = os.open(path, os.O_WRONLY) if hasattr(os, "posix_fallocate") else None

    def reserve(self, size):
        """Make sure the first ``size`` bytes of the file are allocated."""
        if self._fd is None or size <= self.size:
            return
        try:
            os.posix_fallocate(self._fd, self.size, size - self.size)
        except OSError as e:
            if e.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                self.close()
                return
            raise write_error(self.shown_as, e, needed=size, at_least=True) from e
        self.size = size

    def trim(self):
        """After HDF5 closed the file: cut what was reserved beyond its end (the end of file
        address of its superblock; HDF5 itself truncates only when its end is past the file's
        size). A file whose superblock is not understood is left as it is (valid, larger)."""
        self.close()
        if self.size:
            end = _hdf5_end(self.path)
            if end is not None and end < os.path.getsize(self.path):
                os.truncate(self.path, end)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _hdf5_end(path):
    """The end of file address of the HDF5 file ``path`` (superblock versions 0 to 3 at offset
    0, see the HDF5 file format specification, section II.A), or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) < 64 or head[:8] != b"\x89HDF\r\n\x1a\n":
        return None
    version = head[8]
    if version in (0, 1):
        size = head[13]
        at = 24 + (4 if version == 1 else 0)
    elif version in (2, 3):
        size = head[9]
        at = 12
    else:
        return None
    if size not in (2, 4, 8) or at + 3 * size > len(head):
        return None
    base = int.from_bytes(head[at:at + size], "little")
    end = int.from_bytes(head[at + 2 * size:at + 3 * size], "little")
    return base + end
