"""Readers of the TMDB-keyed catalogues: The Movies Dataset and TMDB 5000.

Both already have the cleaner's columns and TMDB ids (StreamRec ids are TMDB ids), so the
frame goes through unchanged: ``invoke data`` on these files gives exactly the outputs it
gave before the reader registry existed.
"""

from __future__ import annotations

import pandas as pd

from src.data.schema import (
    MOVIES_METADATA_COLUMNS,
    SCHEMA_MOVIES_METADATA,
    SCHEMA_TMDB5000,
    TMDB5000_COLUMNS,
)
from src.data.sources.base import CANONICAL_COLUMNS, Adapted, Reader
from src.config import ID_COL


def _passthrough(schema: str):
    """An adapt function that keeps the frame and lists the canonical columns it lacks."""

    def adapt(raw: pd.DataFrame, source_name: str) -> Adapted:
        """Raw TMDB-schema frame -> itself, with supplied/missing columns named."""
        cols = set(raw.columns)
        # Every header column (keywords inline in TMDB 5000 too): an update overwrites the
        # catalogue columns these feed, as before the registry existed.
        supplied = [c for c in raw.columns if not str(c).startswith("_")]
        missing = [c for c in CANONICAL_COLUMNS if c not in cols and c != ID_COL]
        return Adapted(frame=raw, schema=schema, supplied=supplied, columns_missing=missing,
                       native_ids=True)

    return adapt


MOVIES_METADATA = Reader(
    name=SCHEMA_MOVIES_METADATA, required=MOVIES_METADATA_COLUMNS,
    needs="The Movies Dataset's 24 columns (adult, belongs_to_collection, ..., vote_count)",
    adapt=_passthrough(SCHEMA_MOVIES_METADATA))
TMDB_5000 = Reader(
    name=SCHEMA_TMDB5000, required=TMDB5000_COLUMNS,
    needs="TMDB 5000's 20 columns (budget, genres, ..., keywords, ..., vote_count)",
    adapt=_passthrough(SCHEMA_TMDB5000))
