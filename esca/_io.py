"""Atomic file writes: a reader sees either the old file or the complete new one."""

import contextlib
import os
import tempfile

from .errors import UserError


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
    """Raise :class:`UserError` unless ``path`` is, or can be created as, a writable folder."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"output folder is an existing file: {path}")
    check_writable_parent(path)


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
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=parent)
    os.close(fd)
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
