"""The one exception type users see.

Every message says what was passed, what was expected and how to fix it. The CLI turns a
`WhydlError` into a one-line message and exit code 2, with no traceback.
"""


class WhydlError(ValueError):
    """Bad input from a user: a flag, a config file, a CSV file or a web request."""


class DivergedError(RuntimeError):
    """Every member of a run diverged (loss became NaN or inf)."""


def did_you_mean(value, choices) -> str:
    """' Did you mean 'moons'?' for a near miss among `choices`, else ''.

    Example
    -------
    >>> did_you_mean("moosn", ["moons", "circles"])
    " Did you mean 'moons'?"
    """
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
