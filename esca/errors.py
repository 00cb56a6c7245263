"""The exceptions the command line turns into one-line messages (UserError, WriteError,
Interrupted, Terminated), the one exit policy (:func:`exit_status`, used by ``esca`` and by the
bench worker), and :func:`one_line` for a message on one line."""


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
#: Exit status of bad input (:class:`UserError`, one line, no traceback); argparse uses it too.
EXIT_USER_ERROR = 2
#: Exit status of a bug: any other exception (its traceback is printed).
EXIT_BUG = 1
#: Standard output closed early (``esca topics m.h5 | head``): 128 + SIGPIPE, the status a
#: shell reports for ``ls | head`` under ``set -o pipefail``; no message, no traceback.
EXIT_BROKEN_PIPE = 141
#: Stopped by SIGTERM outside training (temporary files removed): 128 + SIGTERM, as a shell
#: reports for a process killed by it.
EXIT_TERMINATED = 143
#: Stopped by SIGINT (Ctrl-C) outside training: 128 + SIGINT.
EXIT_SIGINT = 130


class Terminated(BaseException):
    """SIGTERM arrived outside training; raised in the main thread by the CLI's handler.

    A BaseException, as KeyboardInterrupt, so that ``except Exception`` does not catch it
    while ``finally`` blocks and the atomic writers' cleanup still run. The CLI exits with
    :data:`EXIT_TERMINATED` (143).
    """


def exit_status(exc):
    """The exit status of a command that ended with the exception ``exc``.

    The one exit policy of the command line: ``esca`` (``cli/main.py``) and the bench worker
    (``python -m esca._bench_worker``) both use it.

    Parameters
    ----------
    exc : BaseException
        The exception that ended the command.

    Returns
    -------
    int
        :data:`EXIT_BROKEN_PIPE` (141) for :class:`BrokenPipeError`, :data:`EXIT_IO_ERROR`
        (74) for :class:`WriteError`, :data:`EXIT_USER_ERROR` (2) for any other
        :class:`UserError`, :data:`EXIT_INTERRUPTED` (75) for :class:`Interrupted`,
        :data:`EXIT_TERMINATED` (143) for :class:`Terminated`, :data:`EXIT_SIGINT` (130) for
        :class:`KeyboardInterrupt`, and :data:`EXIT_BUG` (1) for anything else.
    """
    for kind, status in ((BrokenPipeError, EXIT_BROKEN_PIPE), (WriteError, EXIT_IO_ERROR),
                         (UserError, EXIT_USER_ERROR), (Interrupted, EXIT_INTERRUPTED),
                         (Terminated, EXIT_TERMINATED), (KeyboardInterrupt, EXIT_SIGINT)):
        if isinstance(exc, kind):
            return status
    return EXIT_BUG


class OutputIsInputError(UserError):
    """An output would replace one of the inputs (``esca._io.check_not_input``).

    The message names the output as the library's parameter (``out``); the CLI re-raises it
    with its flag (:meth:`named`), so that ``esca`` says ``--out``. A :class:`UserError`.

    Parameters
    ----------
    option : str
        How the output is named: a parameter (``"out"``) or a flag (``"--out"``).
    out : str
        The output path (a file, or a folder written into).
    input_name, input_path : str
        The input that would be replaced: how it is named (``"MODEL.h5"``) and its path.
    member : str, optional
        The file of the folder ``out`` that would replace the input (``"theta.csv"``).
    """

    def __init__(self, option, out, input_name, input_path, member=None):
        self.option, self.out, self.member = option, out, member
        self.input_name, self.input_path = input_name, input_path
        if member is None:
            msg = (f"{option} {out} would overwrite the input {input_name} {input_path}; "
                   "choose another path")
        else:
            msg = (f"{option} {out} would overwrite the input {input_name} {input_path} "
                   f"(as {member}); choose another folder")
        super().__init__(msg)

    def named(self, option):
        """The same error with the output named ``option`` (the CLI's flag, ``"--out"``)."""
        return OutputIsInputError(option, self.out, self.input_name, self.input_path,
                                  self.member)


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
