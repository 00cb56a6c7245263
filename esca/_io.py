"""Atomic file writes: a reader sees either the old file or the complete new one.

Temporary files and folders are named after the process that writes them,
``.NAME.<pid>@<host>.<random>.tmp`` and ``.esca-export-<pid>@<host>.<random>``, so that
a later write into the same folder can tell the leftovers of a killed process
(SIGKILL, a node crash) from those of a process still running
(:func:`remove_stale_temporaries`).
"""

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import time

from .errors import UserError

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


def check_not_input(out, inputs, option="--out"):
    """Raise :class:`UserError` if the output ``out`` is one of the ``inputs``.

    Parameters
    ----------
    out : str or os.PathLike
        A path the command will write (a file, or a folder it writes into).
    inputs : iterable of (str, str or None)
        ``(name, path)`` of each input, e.g. ``("MODEL.h5", "m.h5")``; None paths are skipped.
    option : str
        How the output was named on the command line, for the message.

    Raises
    ------
    UserError
        ``--out OUT would overwrite the input NAME PATH`` when ``out`` and an input are
        the same file (:func:`same_file`: also through symbolic and hard links).
    """
    for name, path in inputs:
        if path is not None and same_file(out, path):
            raise UserError(f"{option} {os.fspath(out)} would overwrite the input {name} "
                            f"{os.fspath(path)}; choose another path")


def check_outputs_not_inputs(folder, names, inputs, option="--out"):
    """:func:`check_not_input` for each file ``names`` that a command writes into ``folder``."""
    for name in names:
        out = os.path.join(os.fspath(folder), name)
        for input_name, path in inputs:
            if path is not None and same_file(out, path):
                raise UserError(f"{option} {os.fspath(folder)} would overwrite the input "
                                f"{input_name} {os.fspath(path)} (as {name}); choose another "
                                "folder")


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
