"""The one exception type that the command line turns into a one-line message."""


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
