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
        With ``esca.CheckpointPolicy(model_on_interrupt=...)``: the model of the last
        finished iteration on rank 0 (None on the other ranks, and without it).
    signal : str or None
        The signal's name (``"SIGTERM"``).
    iteration, iterations : int or None
        The last finished iteration, and the run's total.
    checkpoint_dir, model_path : str or None
        The checkpoint folder holding a checkpoint of ``iteration``, and the model file of
        ``iteration`` written (``CheckpointPolicy.directory`` and ``model_on_interrupt``).
    """

    model = None
    signal = None
    iteration = None
    iterations = None
    checkpoint_dir = None
    model_path = None


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
        From :func:`esca.train` with ``model_on_interrupt``: the model that could not be
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


def _given(option, value):
    """``--resume ck`` for a flag, ``resume=ck`` for a parameter."""
    return f"{option} {value}" if option.startswith("-") else f"{option}={value}"


class ResumeError(UserError):
    """A run refused because of its checkpoints; the message says how to go on.

    Raised by :func:`esca.train` for a checkpoint folder that a run must not write into, and
    for a model that only checkpoints could have continued. The message names the library's
    parameters (``resume=DIR``, ``checkpoints.directory``); ``esca train`` re-raises it naming
    its flags (``--resume DIR``, ``--checkpoint-dir``) with :meth:`named`. A
    :class:`UserError`.

    Parameters
    ----------
    message : str, optional
        A finished message, without fields (how :func:`esca.distributed.agree` re-raises the
        error on the other ranks); otherwise give ``reason`` and its fields.
    reason : str
        :data:`OTHER_RUN`: ``directory`` holds checkpoints of another run, the newest
        ``checkpoint`` (a description of the file) at ``iteration``; :data:`UNREADABLE`:
        the checkpoint ``files`` (names) there cannot be read; :data:`SAME_RUN`: it holds
        this run's own checkpoints up to ``iteration`` (a new run would overwrite them);
        :data:`WOULD_OVERWRITE`: continuing the run to ``iteration`` could overwrite
        ``checkpoint`` of another run there; :data:`MODEL_WITHOUT_Z`: the cgs model ``path``
        stores no ``z`` (an older esca wrote it), which a collapsed Gibbs sweep needs.
    directory, checkpoint, path : str, optional
    iteration : int, optional
    files : sequence of str, optional
    resume_option, directory_option : str
        How the message names the ``resume`` argument and the checkpoint folder: parameters
        (``"resume"``: ``resume=DIR``) or flags (``"--resume"``: ``--resume DIR``).
    """

    OTHER_RUN = "other run"
    UNREADABLE = "unreadable"
    SAME_RUN = "same run"
    WOULD_OVERWRITE = "would overwrite"
    MODEL_WITHOUT_Z = "model without z"

    reason = directory = checkpoint = iteration = path = None
    files = ()

    def __init__(self, message=None, *, reason=None, directory=None, checkpoint=None,
                 iteration=None, files=(), path=None, resume_option="resume",
                 directory_option="checkpoints.directory"):
        self.reason, self.directory, self.checkpoint = reason, directory, checkpoint
        self.iteration, self.files, self.path = iteration, tuple(files), path
        self.resume_option, self.directory_option = resume_option, directory_option
        super().__init__(message if reason is None else self._message())

    def _message(self):
        d, it, new = self.directory, self.iteration, self.directory_option
        resume = _given(self.resume_option, d)
        if self.reason == self.OTHER_RUN:
            return (f"checkpoint folder {d} holds checkpoints of another run (newest "
                    f"{self.checkpoint}, iteration {it}): continue that run with {resume}, or "
                    f"use a new {new} (a new run would overwrite and delete them)")
        if self.reason == self.UNREADABLE:
            return (f"checkpoint folder {d} holds checkpoint files that cannot be read "
                    f"({', '.join(self.files)}): move them away or use a new {new}")
        if self.reason == self.SAME_RUN:
            return (f"checkpoint folder {d} already holds checkpoints of this same run (up to "
                    f"iteration {it}): continue it with {resume}, or use a new {new} to start "
                    "it over (a new run would overwrite them)")
        if self.reason == self.WOULD_OVERWRITE:
            return (f"checkpoint folder {d} holds {self.checkpoint} of another run, which "
                    f"continuing this run to iteration {it} could overwrite: move it away or "
                    f"give another {new}")
        if self.reason == self.MODEL_WITHOUT_Z:
            return (f"model {self.path} is a cgs model without every token's topic (z), which "
                    "a collapsed Gibbs sweep needs: it was written before esca stored z; train "
                    f"it again (or use {new} and {self.resume_option})")
        raise ValueError(f"unknown reason {self.reason!r}")

    def named(self, resume_option, directory_option):
        """The same error naming the options ``resume_option`` and ``directory_option`` (the
        CLI's flags, ``"--resume"`` and ``"--checkpoint-dir"``); itself when it has no
        fields (built from a message)."""
        if self.reason is None:
            return self
        return ResumeError(reason=self.reason, directory=self.directory,
                           checkpoint=self.checkpoint, iteration=self.iteration,
                           files=self.files, path=self.path, resume_option=resume_option,
                           directory_option=directory_option)


class CheckpointWriteError(WriteError):
    """A write failed (a full disk) while checkpoints were kept; says which checkpoint is left
    and how to continue from it.

    The message is ``CAUSE; the last checkpoint, PATH (iteration I), is intact; free space
    and resume with: RESUME_WITH`` (or ``CAUSE; no checkpoint in DIRECTORY yet``).
    :func:`esca.train` says ``resume=DIRECTORY, iterations=N``; ``esca train`` re-raises it
    with its command line (:meth:`named`). A :class:`WriteError` (exit status 74).

    Parameters
    ----------
    message : str, optional
        A finished message, without fields (how :func:`esca.distributed.agree` re-raises the
        error on the other ranks); otherwise give ``cause`` and the fields.
    cause : str
        What failed (the message of the failed write).
    directory : str
        The checkpoint folder.
    iterations : int
        The run's total iterations.
    last : tuple of (int, str) or None
        The newest checkpoint left in ``directory``, (iteration, path)
        (:func:`esca.checkpoint.last_checkpoint`); None if there is none.
    resume_with : str, optional
        How to continue (default ``resume=DIRECTORY, iterations=N``).
    path : str, optional
        The file that could not be written.
    """

    cause = directory = iterations = last = resume_with = None

    def __init__(self, message=None, *, cause=None, directory=None, iterations=None, last=None,
                 resume_with=None, path=None):
        self.cause, self.directory, self.iterations, self.last = cause, directory, iterations, last
        self.path = path
        if cause is not None:
            self.resume_with = resume_with or f"resume={directory}, iterations={iterations}"
            if last is None:
                message = f"{cause}; no checkpoint in {directory} yet"
            else:
                message = (f"{cause}; the last checkpoint, {last[1]} (iteration {last[0]}), is "
                           f"intact; free space and resume with: {self.resume_with}")
        super().__init__(message)

    def named(self, resume_with):
        """The same error saying ``resume_with`` (the CLI's command line); itself when it has
        no fields (built from a message)."""
        if self.cause is None:
            return self
        return CheckpointWriteError(cause=self.cause, directory=self.directory,
                                    iterations=self.iterations, last=self.last,
                                    resume_with=resume_with, path=self.path)


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
