"""The one exception type that the command line turns into a one-line message."""


class UserError(ValueError):
    """Bad input from the user: a bad value, a missing or malformed file.

    The CLI prints ``esca: error: <message>`` once and exits with status 2,
    without a traceback (``--debug`` shows it). Library callers can catch it
    as a ``ValueError``.
    """
