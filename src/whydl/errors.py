"""The one exception type users see.

Every message says what was passed, what was expected and how to fix it. The CLI turns a
`WhydlError` into a one-line message and exit code 2, with no traceback.
"""


class WhydlError(ValueError):
    """Bad input from a user: a flag, a config file, a CSV file or a web request."""


class DivergedError(RuntimeError):
    """Every member of a run diverged (loss became NaN or inf)."""
