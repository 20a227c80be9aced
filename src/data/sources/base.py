"""What a catalogue reader is and what it hands on: the canonical, cleaner-ready frame.

A reader maps one source schema (its header) onto the columns ``src.data.clean.clean_movies``
already cleans (The Movies Dataset's 24 columns plus the series columns), as text cells,
nested cells as JSON. So every source goes through the same cleaning, quarantining,
de-duplication and flattening as before. Sources whose ids are not TMDB ids (JustWatch
``tm…``/``ts…``, ``show_id`` ``s1…``) leave ``id`` empty and carry their own id in
``source_id``; :mod:`src.data.resolve` gives each such row its StreamRec id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from src.config import ID_COL
from src.data.schema import MOVIES_METADATA_COLUMNS, SERIES_COLUMNS

SOURCE_ID_COL = "source_id"   # the source's own id of a row (JustWatch tm84618, show_id s1)
LINE_COL = "_line"            # read_raw_csv's record position, kept for quarantine files
# Every column a reader may fill; the cleaner fills what is absent as missing.
CANONICAL_COLUMNS = (*MOVIES_METADATA_COLUMNS, *SERIES_COLUMNS)


@dataclass
class Adapted:
    """A source file mapped onto the canonical columns.

    ``frame``: text frame with ``CANONICAL_COLUMNS`` (+ ``source_id``, ``_line``) ready for
    ``clean_movies``; ``schema``: the reader's name; ``supplied``: canonical columns the
    source really carries (an update overwrites only those); ``columns_missing``: the
    others (filled as missing, listed in the report); ``credits``: cast/crew the catalogue
    file itself carries (show_id schema), as a clean-credits frame keyed by ``source_id``
    or ``id``; ``genres_unmapped``: source genre name -> count of names the genre map does
    not list; ``native_ids``: True when ``id`` already holds StreamRec (TMDB) ids;
    ``extra``: source columns kept for later stages (e.g. ``date_added``).
    """

    frame: pd.DataFrame
    schema: str
    supplied: list[str]
    columns_missing: list[str]
    native_ids: bool
    credits: pd.DataFrame | None = None
    genres_unmapped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    """One registered catalogue reader.

    ``name``: the ``--schema`` name; ``required``: header columns it needs (detection:
    all present); ``needs``: one human phrase for the unknown-header message; ``adapt``:
    ``(raw text frame from read_raw_csv, file name) -> Adapted``.
    """

    name: str
    required: tuple[str, ...]
    needs: str
    adapt: Callable[[pd.DataFrame, str], Adapted]


def canonical_frame(raw: pd.DataFrame, columns: dict[str, pd.Series | str | None]) -> pd.DataFrame:
    """Build the canonical text frame from ``columns`` (name -> Series aligned with ``raw``,
    or None for missing), keeping ``raw``'s ``_line``; absent columns are all-NA text."""
    out = pd.DataFrame(index=raw.index)
    if LINE_COL in raw.columns:
        out[LINE_COL] = raw[LINE_COL]
    for col in (*CANONICAL_COLUMNS, SOURCE_ID_COL):
        value = columns.get(col)
        out[col] = value if isinstance(value, pd.Series) else pd.Series(pd.NA, index=raw.index, dtype="object")
    return out


def year_date(years: pd.Series) -> pd.Series:
    """A four-digit year as the ISO date ``YYYY-01-01`` (sources that give only a year;
    features read the year back from it); anything else stays as written so the cleaner
    counts it as a date failure."""
    text = years.astype("str").str.strip()
    ok = text.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    return text.where(~ok, text + "-01-01").mask(years.isna())


_SPLIT_COMMA = re.compile(r"\s*,\s*")


def split_comma(cell) -> list[str]:
    """Comma-joined names (``"A, B"``) -> ``["A", "B"]``; missing -> ``[]``."""
    if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
        return []
    return [p for p in _SPLIT_COMMA.split(str(cell).strip()) if p]


# Columns a platform reader fills but only approximately: a year read as YYYY-01-01, the
# title copied as original_title. They fill new titles, but never overwrite a catalogue
# title's own (TMDB) values when a row resolves to it.
APPROXIMATE_COLUMNS = ("release_date", "first_air_date", "original_title")


def supplied_and_missing(columns: dict[str, object], approximate: tuple[str, ...] = ()
                         ) -> tuple[list[str], list[str]]:
    """Split the canonical columns into those a reader supplies (overwrites on existing
    titles; ``approximate`` ones excluded) and those it does not fill at all (missing)."""
    filled = [c for c in CANONICAL_COLUMNS if isinstance(columns.get(c), pd.Series)]
    missing = [c for c in CANONICAL_COLUMNS if c not in filled and c != ID_COL]
    return [c for c in filled if c not in approximate], missing
