"""The one place catalogue readers are registered, detected from a header, or forced by name.

Detection order matters: the most specific schemas first, the permissive ``minimal`` (any
file with ``id`` and ``title``) last, so a JustWatch file is never read as minimal.
"""

from __future__ import annotations

import pandas as pd

from src.data.sources import justwatch, minimal, showid, tmdb
from src.data.sources.base import Adapted, Reader
from src.utils.errors import InputFileError

READERS: tuple[Reader, ...] = (
    tmdb.MOVIES_METADATA,
    tmdb.TMDB_5000,
    justwatch.READER,
    showid.READER,
    minimal.READER,
)
BY_NAME = {r.name: r for r in READERS}


class UnknownSchemaError(InputFileError):
    """A catalogue header no reader accepts, or an unknown ``--schema`` name; the message is
    one line naming every reader and what it needs."""


def readers_help() -> str:
    """One line: each reader's name and what its header needs."""
    return "; ".join(f"{r.name}: {r.needs}" for r in READERS)


def detect(columns, source_name: str = "catalogue") -> Reader:
    """The first registered reader whose required columns the header has.

    In: the header's column names and the file's name for the message. Out: the Reader.
    Raises UnknownSchemaError (one line) when none fits.
    """
    cols = {str(c) for c in columns}
    for reader in READERS:
        if set(reader.required) <= cols:
            return reader
    # The header's names are the file's content: they are not echoed (error files and logs of
    # an untrusted inbox must not carry what a file holds), only how many there are.
    n = sum(1 for c in cols if not c.startswith("_"))
    raise UnknownSchemaError(
        f"{source_name}: its header ({n} columns) matches no catalogue reader; readers "
        f"(force one with --schema NAME): {readers_help()}")


def get(name: str) -> Reader:
    """The reader registered as ``name``; UnknownSchemaError naming them all otherwise."""
    if name not in BY_NAME:
        raise UnknownSchemaError(f"unknown schema {name!r}; readers: {readers_help()}")
    return BY_NAME[name]


def adapt(raw: pd.DataFrame, source_name: str, schema: str | None = None) -> Adapted:
    """Map a raw catalogue frame onto the canonical columns with its reader.

    In: the all-text frame from ``read_raw_csv``, the file's name, an optional forced
    schema name. Out: :class:`Adapted`. Raises UnknownSchemaError when the header fits no
    reader, or a forced reader's required columns are missing.
    """
    reader = get(schema) if schema else detect(raw.columns, source_name)
    missing = [c for c in reader.required if c not in raw.columns]
    if missing:
        raise UnknownSchemaError(
            f"{source_name}: --schema {reader.name} needs columns {missing} that the header "
            f"lacks; readers: {readers_help()}")
    return reader.adapt(raw, source_name)
