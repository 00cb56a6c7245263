"""The exceptions the command line turns into one-line messages (UserError, WriteError,
Interrupted), their exit statuses, and :func:`one_line` for a message on one line."""


def one_line(e):
    """The message of exception ``e`` on one line (its type name when it has none).

    Parameters
    ----------
    e : BaseException

    Returns
    -------
    str
        ``str(e)`` with every run of whitespace (line breaks included) made one space.
    """
    return " ".join(str(e).split()) or type(e).__name__


class UserError(ValueError):
    """Bad input from the user: a bad value, a missing or malformed file.

    The CLI prints ``esca: error: <message>`` once and exits with status 2,
    without a traceback (``--debug`` shows it). Library callers can catch it
    as a ``ValueError``.
    """


class Interrupted(Exception):
    """Training stopped early by SIGTERM or SIGINT, at the end of an iteration.

    The CLI prints ``esca: stopped: <message>`` once and exits with status
    :data:`EXIT_INTERRUPTED` (75, ``EX_TEMPFAIL``: try again, e.g. with
    ``esca train --resume`` or ``esca train --continue``).

    Attributes
    ----------
    model : esca.TopicModel or None
        With ``esca.train(save_on_interrupt=...)``: the model of the last finished
        iteration on rank 0 (None on the other ranks, and without it).
    """

    model = None


#: Exit status of a run stopped by SIGTERM or SIGINT (after its checkpoint, if any).
EXIT_INTERRUPTED = 75


class WriteError(UserError):
    """An output could not be written: the disk is full, a quota is exceeded, or the write
    failed (any :class:`OSError` while writing it).

    The message names the file, the cause and, for a full disk, the space needed and free.
    Nothing is left behind: the temporary file is removed and an existing file at the
    destination is kept as it was. The CLI prints ``esca: error: <message>`` once and exits
    with status :data:`EXIT_IO_ERROR` (74, ``EX_IOERR``). A subclass of :class:`UserError`
    (and so of ``ValueError``).

    Attributes
    ----------
    path : str or None
        The file or folder that could not be written.
    model : esca.TopicModel or None
        From :func:`esca.train` with ``save_on_interrupt``: the model that could not be
        written (rank 0); :meth:`esca.TopicModel.save` leaves the model with its caller.
    """

    path = None
    model = None


#: Exit status of a command whose output could not be written (a full disk; ``EX_IOERR``).
EXIT_IO_ERROR = 74


class PlaceholderVocabularyWarning(UserWarning):
    """A model whose words are the placeholder names ``x0``, ``x1``, ... ``x{V-1}``.

    :class:`esca.LDA` names the words so when it is fitted on a matrix without word names
    (no ``vocabulary=``, not a pandas DataFrame); saved models, ``esca topics`` and gensim
    exports then show those names, and gensim's coherence measures cannot match them to
    texts. Give the words with ``vocabulary=`` or :meth:`esca.LDA.set_vocabulary`.
    """


def is_placeholder_vocab(vocab):
    """True if ``vocab`` is exactly ``["x0", "x1", ..., f"x{V-1}"]`` (V >= 1), the names
    :class:`esca.LDA` gives the columns of a matrix without word names."""
    return len(vocab) > 0 and all(w == f"x{i}" for i, w in enumerate(vocab))
