"""The project's own error types: what the invoke tasks turn into a one-line message.

Raised where a stage meets input or a workspace it cannot use (a file it cannot decode, a
catalogue that would shrink to nothing, another update holding the lock). They live in the
lowest layer so every stage can raise them; ``tasks.py`` maps :class:`StreamRecError` to
``invoke.exceptions.Exit(message, code=2)``, so an operator sees what was wrong and what to
do next, never a traceback. Bugs stay ordinary exceptions (and keep their tracebacks).
"""

from __future__ import annotations


class StreamRecError(Exception):
    """Base of the errors an operator can act on; the message is one line, shown as is."""


class InputFileError(StreamRecError, ValueError):
    """An input file cannot be read at all (encoding, compression, size, no header, schema).

    A ValueError too, so callers that already catch bad-input ValueErrors keep working.
    """


class MissingInputError(StreamRecError, FileNotFoundError):
    """A file a stage needs does not exist (e.g. no catalogue yet): run the earlier stage."""


class ShrinkRefusedError(StreamRecError):
    """A rebuild or update would shrink the catalogue too much; refused unless forced."""


class UpdateLockedError(StreamRecError, RuntimeError):
    """Another update (or ETL) holds the workspace's update lock."""


class OutputVerifyError(StreamRecError):
    """A staged output did not read back; it was not committed (the previous one stays)."""


class SettingError(StreamRecError, ValueError):
    """An environment setting the operator gave cannot be used (e.g. a non-numeric budget)."""


class MemoryBudgetError(StreamRecError, MemoryError):
    """A dense allocation would not fit the memory budget and nothing smaller can stand in
    (src.utils.memory); raise the budget or use an engine that does not need it."""
