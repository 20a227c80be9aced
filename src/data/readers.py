"""Find the raw input files and read them as all-text DataFrames, keeping malformed lines.

Everything is read as text (``dtype=str``) so that cleaning (src.data.clean) sees exactly
what the file holds and can count every failed conversion. Lines with the wrong number of
fields are not dropped: they come back in a separate frame to be quarantined.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from src.config import (
    RAW_CREDITS_NAMES,
    RAW_KEYWORDS_NAMES,
    RAW_LINKS_NAMES,
    RAW_MOVIES_NAMES,
    RAW_RATINGS_NAMES,
)
from src.data.schema import (
    MOVIES_METADATA_COLUMNS,
    SCHEMA_MOVIES_METADATA,
    SCHEMA_TMDB5000,
    TMDB5000_COLUMNS,
)
from src.utils.logging import get_logger

log = get_logger(__name__)

INPUT_KINDS = {
    "movies": RAW_MOVIES_NAMES,
    "credits": RAW_CREDITS_NAMES,
    "keywords": RAW_KEYWORDS_NAMES,
    "links": RAW_LINKS_NAMES,
    "ratings": RAW_RATINGS_NAMES,
}
BAD_LINE_REASON = "wrong_field_count"


def find_raw_inputs(raw_dir: str | os.PathLike) -> dict[str, Path | None]:
    """Find the raw inputs in ``raw_dir`` by their known names (plain or ``.gz``).

    In: the raw folder. Out: ``{movies, credits, keywords, links, ratings}`` -> Path or
    None, taking the first name of ``src.config.RAW_*_NAMES`` that exists (plain before gz).
    """
    raw_dir = Path(raw_dir)
    found: dict[str, Path | None] = {}
    for kind, names in INPUT_KINDS.items():
        found[kind] = None
        for name in names:
            for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
                if candidate.is_file():
                    found[kind] = candidate
                    break
            if found[kind] is not None:
                break
    return found


def input_name(path: str | os.PathLike) -> str:
    """Report/quarantine name of an input: its file name without ``.gz`` (``credits.csv``)."""
    name = Path(path).name
    return name[:-3] if name.endswith(".gz") else name


def read_raw_csv(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a raw CSV (plain or gz) with every column as text.

    In: the file. Out: ``(df, bad)``: ``df`` holds the well-formed records (columns as in
    the header, empty cells NA, a ``_line`` column with the record's 1-based position among the well-formed ones), and
    ``bad`` the records with a wrong field count (``_line``, ``raw``, ``reason``). The fast
    C parser is used; only when it meets a malformed record is the file re-read with the
    python engine to collect those records instead of failing. Raises ValueError naming
    the file when it is empty (not even a header row).
    """
    path = Path(path)
    common = dict(dtype=str, keep_default_na=False, na_values=[""], compression="infer")
    try:
        df = pd.read_csv(path, **common)
        bad_rows: list[list[str]] = []
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path.name} is empty (no header row)") from exc
    except pd.errors.ParserError as exc:
        log.warning("%s: malformed records (%s); re-reading to quarantine them", path.name, exc)
        bad_rows = []

        def _keep_bad(fields: list[str]) -> None:
            bad_rows.append(fields)
            return None  # drop from df; kept in ``bad`` below

        df = pd.read_csv(path, engine="python", on_bad_lines=_keep_bad, **common)
    df.insert(0, "_line", range(1, len(df) + 1))
    bad = pd.DataFrame({
        "_line": [0] * len(bad_rows),  # the python engine does not say where; 0 = unknown
        "raw": [",".join(r) for r in bad_rows],
        "reason": [BAD_LINE_REASON] * len(bad_rows),
    })
    return df, bad


def detect_movies_schema(columns) -> str:
    """Say which catalogue schema a movies header has.

    In: the column names. Out: ``"movies_metadata"`` (The Movies Dataset, 24 columns) or
    ``"tmdb_5000"``. Raises ValueError naming the missing columns when it is neither.
    """
    cols = set(columns)
    if set(MOVIES_METADATA_COLUMNS) <= cols:
        return SCHEMA_MOVIES_METADATA
    if set(TMDB5000_COLUMNS) <= cols:
        return SCHEMA_TMDB5000
    # Neither: name what is missing for the closer of the two schemas.
    miss_meta = sorted(set(MOVIES_METADATA_COLUMNS) - cols)
    miss_tmdb = sorted(set(TMDB5000_COLUMNS) - cols)
    missing, which = (miss_meta, SCHEMA_MOVIES_METADATA) if len(miss_meta) <= len(miss_tmdb) \
        else (miss_tmdb, SCHEMA_TMDB5000)
    raise ValueError(f"movies file matches no known schema: closest is {which}, "
                     f"missing columns {missing}")


def require_columns(df: pd.DataFrame, required, what: str) -> None:
    """Raise ValueError naming ``what`` and the missing columns unless ``df`` has them all."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing required column(s) {missing}; found {list(df.columns)}")
