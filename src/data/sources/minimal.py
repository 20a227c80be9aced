"""Reader of a minimal catalogue: any CSV with at least ``id`` and ``title``.

``id`` is taken as the StreamRec id (an integer; anything else is quarantined by the
cleaner with ``id_not_integer``). Columns named like the canonical ones (``overview``,
``release_date``, ``media_type``, ``number_of_seasons``...) are used as they are; a
``year`` column becomes ``release_date`` ``YYYY-01-01``. ``genres`` may be a JSON/Python
list of dicts (TMDB style), a list of names, or names joined with ``|`` or ``,`` in any
of the known vocabularies (mapped onto TMDB names). Every other canonical column is filled
as missing and listed in the report as ``columns_missing``.
"""

from __future__ import annotations

import re

import pandas as pd

from src.data.nested import ParseError, parse_nested
from src.data.sources.base import (
    CANONICAL_COLUMNS,
    SOURCE_ID_COL,
    Adapted,
    Reader,
    canonical_frame,
    supplied_and_missing,
    year_date,
)
from src.data.sources.genres import genres_cell, map_any_genres

NAME = "minimal"
_SEPARATORS = re.compile(r"\s*[|,]\s*")


def _genres(cell, unmapped: dict[str, int]):
    """One free-form genres cell -> the JSON cell of TMDB names (or the text unchanged when
    it is a nested cell the cleaner should parse or reject itself)."""
    if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
        return cell
    text = str(cell).strip()
    if text.startswith(("[", "{")):
        try:
            value = parse_nested(text)
        except ParseError:
            return text  # the cleaner quarantines it: unparseable_nested:genres
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            names = value
        else:
            return text  # list of dicts: TMDB style, cleaned as such
    else:
        names = _SEPARATORS.split(text)
    mapped, unknown = map_any_genres(names)
    for name in unknown:
        unmapped[name] = unmapped.get(name, 0) + 1
    return genres_cell(mapped)


def adapt(raw: pd.DataFrame, source_name: str) -> Adapted:
    """Raw minimal-catalogue frame -> the canonical frame (see module doc)."""
    columns: dict[str, pd.Series | None] = {c: raw[c] for c in CANONICAL_COLUMNS if c in raw.columns}
    if "release_date" not in columns and "year" in raw.columns:
        columns["release_date"] = year_date(raw["year"])
    unmapped: dict[str, int] = {}
    if "genres" in raw.columns:
        columns["genres"] = raw["genres"].map(lambda c: _genres(c, unmapped)).astype("object")
    columns[SOURCE_ID_COL] = raw["id"]
    supplied, missing = supplied_and_missing(columns)
    return Adapted(frame=canonical_frame(raw, columns), schema=NAME, supplied=supplied,
                   columns_missing=missing, native_ids=True, genres_unmapped=unmapped)


READER = Reader(name=NAME, required=("id", "title"),
                needs="at least id (integer) and title; genres and the rest optional",
                adapt=adapt)
