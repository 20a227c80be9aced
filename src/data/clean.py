"""Clean the catalogue inputs (movies, credits, keywords): ids, types, nested cells, duplicates.

Each ``clean_*`` function takes the all-text frame from :func:`src.data.readers.read_raw_csv`
and returns ``(clean, quarantine, stats)``:

* ``clean``: one row per id, converted types, nested columns parsed into Python lists/dicts;
* ``quarantine``: the rejected rows as read (text) plus a ``reason`` code;
* ``stats``: ``rows_in``, ``rows_out``, ``quarantined`` (reason -> count),
  ``duplicates_dropped`` and conversion-failure counts. Invariant:
  ``rows_in == rows_out + sum(quarantined.values()) + duplicates_dropped``.

Reason codes: ``missing_id``, ``id_not_integer``, ``id_not_positive``, ``shifted_columns``
(a line break in the source shifted the fields: the id holds a date or ``adult`` holds
text), ``unparseable_nested:<column>``, ``invalid_media_type``, and the reader's
(``wrong_field_count``, ``unterminated_quote``, ``bad_quoting``, ``cell_too_large``,
``row_too_large``: src.data.csv_records).

Unparseable nested cells: in movies, ``genres`` quarantines the row and the other nested
columns are kept empty and counted (``nested_emptied``, see src.data.schema); in credits and
keywords the row is quarantined (its movie stays, flagged has_credits/has_keywords False).

Duplicate ids: the row with the most non-empty fields wins, then the highest
``vote_count``, then the first in the file (deterministic whatever the order of ties).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from src.config import ID_COL
from src.data.convert import (
    is_bool_text,
    looks_like_date,
    to_bool,
    to_float,
    to_int,
    to_iso_date,
    trim_text,
)
from src.data.nested import parse_many
from src.data.readers import LINE_COL, detect_movies_schema, require_columns
from src.data.schema import (
    BOOL_COLUMNS,
    DEFAULT_MEDIA_TYPE,
    FLOAT_COLUMNS,
    MEDIA_TYPES,
    MOVIE_NESTED_COLUMNS,
    MOVIE_NESTED_QUARANTINE,
    TEXT_COLUMNS,
)
from src.utils.logging import get_logger

log = get_logger(__name__)

REASON_COL = "reason"
PROGRESS_MIN_CELLS = 20_000


def new_stats(rows_in: int) -> dict[str, Any]:
    """Empty stats record for one input file with ``rows_in`` records."""
    return {"rows_in": int(rows_in), "rows_out": 0, "quarantined": {}, "duplicates_dropped": 0}


def split_quarantine(df: pd.DataFrame, reasons: pd.Series, raw: pd.DataFrame,
                     stats: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move rows with a reason out of ``df``.

    In: the frame, a Series of reason codes aligned with it (NA = keep), the raw text frame
    (same index) whose columns are written to quarantine, and stats to update.
    Out: ``(kept, quarantined_raw_rows_with_reason)``.
    """
    bad = reasons.notna()
    quarantined = raw.loc[bad].copy()
    quarantined[REASON_COL] = reasons[bad]
    for reason, n in quarantined[REASON_COL].value_counts().items():
        stats["quarantined"][reason] = stats["quarantined"].get(reason, 0) + int(n)
    return df.loc[~bad], quarantined


def add_reason(reasons: pd.Series, mask: pd.Series, code: str) -> pd.Series:
    """Set ``code`` where ``mask`` holds and no earlier reason was recorded (first wins)."""
    return reasons.mask(reasons.isna() & mask.fillna(False).astype(bool), code)


def id_reasons(ids_text: pd.Series, extra_shift: pd.Series | None = None,
               col: str = ID_COL) -> tuple[pd.Series, pd.Series]:
    """Validate an id column. Out: ``(Int64 ids, reason codes or NA)``.

    ``extra_shift`` marks rows whose other fields prove a column shift (e.g. ``adult``
    holding text); together with an id shaped like a date they give ``shifted_columns``.
    """
    ids, ok = to_int(ids_text)
    name = "id" if col == ID_COL else col
    reasons = pd.Series(pd.NA, index=ids_text.index, dtype="object")
    shifted = looks_like_date(ids_text)
    if extra_shift is not None:
        shifted = shifted | (extra_shift & ~ok)
    # Checked first: a short (shifted) line also leaves the id empty.
    reasons = add_reason(reasons, ~ok & shifted, "shifted_columns")
    reasons = add_reason(reasons, ids_text.isna(), f"missing_{name}")
    reasons = add_reason(reasons, ~ok, f"{name}_not_integer")
    reasons = add_reason(reasons, ok & (ids <= 0), f"{name}_not_positive")
    return ids, reasons


def parse_nested_column(s: pd.Series, shape: str) -> tuple[pd.Series, pd.Series]:
    """Parse one nested column and check its shape.

    In: text cells, expected ``shape`` ("list" of dicts or "dict"). Out: ``(values,
    errors)``: values hold lists/dicts (``[]`` / None when empty or failed), errors the
    failure reason per cell (NA when fine).
    """
    cells = s.tolist()
    if len(cells) >= PROGRESS_MIN_CELLS:  # big files: show progress while parsing
        cells = tqdm(cells, desc=f"parse {s.name}", unit="cell", mininterval=1.0, leave=False)
    values, errors = parse_many(cells)
    for i, v in enumerate(values):
        if v is None or i in errors:
            continue
        if shape == "list":
            if not isinstance(v, list) or not all(isinstance(d, dict) for d in v):
                errors[i] = f"expected a list of dicts, got {type(v).__name__}"
                values[i] = None
        elif not isinstance(v, dict):
            # belongs_to_collection: an empty list/dict is "no collection", not an error.
            if v in ([], {}):
                values[i] = None
            else:
                errors[i] = f"expected a dict, got {type(v).__name__}"
                values[i] = None
    if shape == "list":
        values = [v if v is not None else [] for v in values]
    err = pd.Series(pd.NA, index=s.index, dtype="object")
    if errors:
        pos = list(errors)
        err.iloc[pos] = [errors[p] for p in pos]
    return pd.Series(values, index=s.index, dtype="object"), err


def resolve_duplicates(df: pd.DataFrame, key: str | list[str], stats: dict,
                       tiebreak: str | None = None, ascending_tiebreak: bool = False
                       ) -> pd.DataFrame:
    """Keep one row per ``key``: most non-empty fields, then ``tiebreak`` (highest unless
    ``ascending_tiebreak``), then first in file. Counts drops in ``stats``."""
    keys = [key] if isinstance(key, str) else list(key)
    if not df.duplicated(keys).any():
        return df
    data_cols = [c for c in df.columns if c != LINE_COL]
    order = df.assign(_filled=df[data_cols].notna().sum(axis=1))
    by = keys + ["_filled"]
    asc = [True] * len(keys) + [False]
    if tiebreak is not None and tiebreak in df.columns:
        by.append(tiebreak)
        asc.append(ascending_tiebreak)
    by.append(LINE_COL)
    asc.append(True)
    order = order.sort_values(by, ascending=asc, kind="mergesort", na_position="last")
    kept = order.drop_duplicates(keys, keep="first").drop(columns="_filled").sort_values(LINE_COL)
    stats["duplicates_dropped"] += int(len(df) - len(kept))
    return kept


def clean_movies(raw: pd.DataFrame, source: str = "movies") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a movies table of either schema (see module doc for outputs and reasons).

    In: the all-text frame of a movies file (``_line`` column optional) and its name for
    logs. Out: ``(clean, quarantine, stats)``; ``stats["schema"]`` names the detected
    schema. Clean columns: id (int), media_type, the text/bool/float columns of
    merged_data6.csv, release_date (ISO), first_air_date, and the nested columns parsed.
    """
    schema = detect_movies_schema(raw.columns)
    raw = raw.copy()
    if LINE_COL not in raw.columns:
        raw.insert(0, LINE_COL, range(1, len(raw) + 1))
    stats = new_stats(len(raw))
    stats.update(schema=schema, numeric_failures={}, date_failures={}, bool_failures={},
                 nested_emptied={})
    df = pd.DataFrame({LINE_COL: raw[LINE_COL]}, index=raw.index)

    adult_text = raw["adult"] if "adult" in raw.columns else None
    shift_hint = ~is_bool_text(adult_text) if adult_text is not None else None
    df[ID_COL], reasons = id_reasons(raw[ID_COL], shift_hint)

    media = trim_text(raw["media_type"]).str.lower() if "media_type" in raw.columns else \
        pd.Series(pd.NA, index=raw.index, dtype="str")
    media = media.fillna(DEFAULT_MEDIA_TYPE)
    reasons = add_reason(reasons, ~media.isin(MEDIA_TYPES), "invalid_media_type")
    df["media_type"] = media
    # Quarantine bad ids now, so conversion-failure counts describe only the kept rows.
    df, early = split_quarantine(df, reasons, raw, stats)
    raw, reasons = raw.loc[df.index], reasons.loc[df.index]

    for col in TEXT_COLUMNS:
        df[col] = trim_text(raw[col]) if col in raw.columns else pd.Series(pd.NA, index=raw.index, dtype="str")
    for col in BOOL_COLUMNS:
        if col in raw.columns:
            df[col], stats["bool_failures"][col] = to_bool(raw[col])
        else:
            df[col] = False
    for col in FLOAT_COLUMNS:
        if col in raw.columns:
            df[col], stats["numeric_failures"][col] = to_float(raw[col])
        else:
            df[col] = float("nan")
    df["release_date"], stats["date_failures"]["release_date"] = to_iso_date(raw["release_date"])
    if "first_air_date" in raw.columns:
        df["first_air_date"], stats["date_failures"]["first_air_date"] = to_iso_date(raw["first_air_date"])
        # A series has no release date of its own: use its first air date.
        fallback = (df["media_type"] == "series") & df["release_date"].isna()
        df.loc[fallback, "release_date"] = df.loc[fallback, "first_air_date"]

    for col, shape in MOVIE_NESTED_COLUMNS.items():
        if col not in raw.columns:
            df[col] = [[] for _ in range(len(raw))] if shape == "list" else None
            continue
        values, errors = parse_nested_column(raw[col], shape)
        df[col] = values
        failed = errors.notna() & reasons.isna()
        if col in MOVIE_NESTED_QUARANTINE:
            reasons = add_reason(reasons, errors.notna(), f"unparseable_nested:{col}")
        elif failed.any():
            stats["nested_emptied"][col] = int(failed.sum())
            log.warning("%s: %d unparseable %s cells kept empty (first: %s)", source,
                        int(failed.sum()), col, errors[failed].iloc[0])

    df, late = split_quarantine(df, reasons, raw, stats)
    quarantine = pd.concat([early, late]).sort_values(LINE_COL) if len(late) else early
    df[ID_COL] = df[ID_COL].astype("int64")
    df = resolve_duplicates(df, ID_COL, stats, tiebreak="vote_count")
    stats["rows_out"] = int(len(df))
    log.info("%s (%s): %d rows in, %d out, quarantined %s, %d duplicates dropped", source,
             schema, stats["rows_in"], stats["rows_out"], stats["quarantined"],
             stats["duplicates_dropped"])
    return df.reset_index(drop=True), quarantine, stats


def _clean_nested_file(raw: pd.DataFrame, nested: dict[str, str], source: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Shared cleaner of credits/keywords: valid id, every nested column parseable.

    A row whose nested cell fails is quarantined (``unparseable_nested:<col>``): its movie
    stays in the catalogue, flagged ``has_credits``/``has_keywords`` False.
    """
    require_columns(raw, [ID_COL, *nested], source)
    raw = raw.copy()
    if LINE_COL not in raw.columns:
        raw.insert(0, LINE_COL, range(1, len(raw) + 1))
    stats = new_stats(len(raw))
    df = pd.DataFrame({LINE_COL: raw[LINE_COL]}, index=raw.index)
    df[ID_COL], reasons = id_reasons(raw[ID_COL])
    for col, shape in nested.items():
        values, errors = parse_nested_column(raw[col], shape)
        df[col] = values
        reasons = add_reason(reasons, errors.notna(), f"unparseable_nested:{col}")
    df, quarantine = split_quarantine(df, reasons, raw, stats)
    df[ID_COL] = df[ID_COL].astype("int64")
    # Most entries wins among duplicates (an empty row loses to a filled one).
    df = df.assign(_n=[sum(len(v) for v in vals) for vals in zip(*(df[c] for c in nested))]
                   if len(df) else [])
    df = resolve_duplicates(df, ID_COL, stats, tiebreak="_n").drop(columns="_n")
    stats["rows_out"] = int(len(df))
    log.info("%s: %d rows in, %d out, quarantined %s, %d duplicates dropped", source,
             stats["rows_in"], stats["rows_out"], stats["quarantined"], stats["duplicates_dropped"])
    return df.reset_index(drop=True), quarantine, stats


def clean_credits(raw: pd.DataFrame, source: str = "credits") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a credits table (cast, crew, id). Out: ``(clean, quarantine, stats)``."""
    return _clean_nested_file(raw, {"cast": "list", "crew": "list"}, source)


def clean_keywords(raw: pd.DataFrame, source: str = "keywords") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a keywords table (id, keywords). Out: ``(clean, quarantine, stats)``."""
    return _clean_nested_file(raw, {"keywords": "list"}, source)
