"""The error every command reports as one line on stderr with exit code 2."""


class UsageError(Exception):
    """A user error: bad arguments, unreadable weights, no input."""
