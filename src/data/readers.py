"""Find the raw input files and read them as all-text DataFrames, keeping malformed lines.

Everything is read as text so that cleaning (src.data.clean) sees exactly what the file
holds and can count every failed conversion. The bytes are decoded by :mod:`src.data.decode`
(gzip by content, BOM, charset detection) and split into records by
:mod:`src.data.csv_records` (explicit header, every physical line accounted for): malformed
records are not dropped but come back in a separate frame to be quarantined.
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
from src.data.csv_records import LINE_COL, split_records
from src.data.decode import read_text
from src.data.schema import (
    MOVIES_METADATA_COLUMNS,
    SCHEMA_MOVIES_METADATA,
    SCHEMA_TMDB5000,
    TMDB5000_COLUMNS,
)
from src.utils.errors import InputFileError
from src.utils.logging import get_logger

log = get_logger(__name__)

INPUT_KINDS = {
    "movies": RAW_MOVIES_NAMES,
    "credits": RAW_CREDITS_NAMES,
    "keywords": RAW_KEYWORDS_NAMES,
    "links": RAW_LINKS_NAMES,
    "ratings": RAW_RATINGS_NAMES,
}


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
    """Read a raw CSV (plain or gzip, any encoding :mod:`src.data.decode` accepts) as text.

    In: the file. Out: ``(df, bad)``: ``df`` holds the well-formed records (columns as in
    the header line, taken as is; empty cells NA; a ``_line`` column with the 1-based line
    each record starts on), ``bad`` the rejected records (``_line``, ``raw`` excerpt,
    ``reason``: see :mod:`src.data.csv_records`). ``df.attrs["records"]`` is the number of
    data records found by the line-accounted split (``len(df) + len(bad)``), which
    :func:`src.data.ingest.check_invariant` holds the cleaners to; ``df.attrs`` also names
    the ``encoding`` and ``delimiter``. Raises InputFileError naming the file when it cannot
    be read at all (no header, undecodable, truncated gzip, over the size limit).
    """
    path = Path(path)
    decoded = read_text(path)
    recs = split_records(decoded.text, path.name)
    df = recs.to_frame()
    df.attrs.update(records=recs.records, encoding=decoded.encoding, delimiter=recs.delimiter)
    bad = pd.DataFrame(recs.bad, columns=[LINE_COL, "raw", "reason"]).astype({LINE_COL: "int64"})
    if len(bad):
        log.warning("%s: %d record(s) rejected by the CSV reader %s", path.name, len(bad),
                    bad["reason"].value_counts().to_dict())
    if recs.delimiter != "," or decoded.encoding not in ("utf-8", "utf-8-sig"):
        log.info("%s: read as %s, delimiter %r", path.name, decoded.encoding, recs.delimiter)
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
    raise InputFileError(f"movies file matches no known schema: closest is {which}, "
                     f"missing columns {missing}")


def require_columns(df: pd.DataFrame, required, what: str) -> None:
    """Raise InputFileError naming ``what`` and the missing columns unless ``df`` has them all."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        # The found columns are counted, not listed: a header is file content, and these
        # messages end up in logs and inbox error files.
        n = len([c for c in df.columns if not str(c).startswith("_")])
        raise InputFileError(f"{what}: missing required column(s) {missing}; the header has "
                             f"{n} column(s) that do not include them")
