"""Clean MovieLens links and ratings and map ratings to catalogue (TMDB) ids.

Outputs follow the ``(clean, quarantine, stats)`` convention of src.data.clean.
Reason codes: links ``missing_movieId``, ``movieId_not_integer``, ``movieId_not_positive``,
``tmdbId_not_integer`` (an empty tmdbId is kept as unmapped, not an error); ratings
``missing_<col>``, ``<col>_not_integer``, ``<col>_not_positive`` for userId/movieId,
``rating_not_numeric``, ``rating_out_of_range`` (outside ``RATING_SCALE``),
``timestamp_not_integer``. Duplicates: links keep one row per movieId (a mapped row beats
an unmapped one, then the first); ratings keep the latest rating per (userId, movieId).
"""

from __future__ import annotations

import pandas as pd

from src.config import (
    ITEM_COL,
    RATING_COL,
    RATING_SCALE,
    TIMESTAMP_COL,
    TMDB_COL,
    USER_COL,
)
from src.data.clean import (
    LINE_COL,
    add_reason,
    id_reasons,
    new_stats,
    resolve_duplicates,
    split_quarantine,
)
from src.data.convert import to_float, to_int
from src.data.readers import require_columns
from src.utils.logging import get_logger

log = get_logger(__name__)


def _with_line(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` with a ``_line`` column (added when the caller built the frame itself)."""
    if LINE_COL in raw.columns:
        return raw
    raw = raw.copy()
    raw.insert(0, LINE_COL, range(1, len(raw) + 1))
    return raw


def clean_links(raw: pd.DataFrame, source: str = "links") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a MovieLens links table. Out: ``(clean, quarantine, stats)``; clean has
    ``movieId`` (int64), ``imdbId`` (text, leading zeros kept), ``tmdbId`` (nullable Int64)."""
    require_columns(raw, [ITEM_COL, TMDB_COL], source)
    raw = _with_line(raw)
    stats = new_stats(len(raw))
    df = pd.DataFrame({LINE_COL: raw[LINE_COL]}, index=raw.index)
    df[ITEM_COL], reasons = id_reasons(raw[ITEM_COL], col=ITEM_COL)
    df["imdbId"] = raw["imdbId"].astype("str").str.strip() if "imdbId" in raw.columns else pd.NA
    tmdb, ok = to_int(raw[TMDB_COL])
    reasons = add_reason(reasons, raw[TMDB_COL].notna() & ~ok, f"{TMDB_COL}_not_integer")
    df[TMDB_COL] = tmdb
    df, quarantine = split_quarantine(df, reasons, raw, stats)
    df[ITEM_COL] = df[ITEM_COL].astype("int64")
    df = resolve_duplicates(df, ITEM_COL, stats)
    stats["rows_out"] = int(len(df))
    stats["unmapped"] = int(df[TMDB_COL].isna().sum())
    log.info("%s: %d rows in, %d out (%d without tmdbId), quarantined %s, %d duplicates dropped",
             source, stats["rows_in"], stats["rows_out"], stats["unmapped"], stats["quarantined"],
             stats["duplicates_dropped"])
    return df.reset_index(drop=True), quarantine, stats


def clean_ratings(raw: pd.DataFrame, source: str = "ratings") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean MovieLens ratings. Out: ``(clean, quarantine, stats)``; clean has
    ``userId``, ``movieId``, ``timestamp`` (int64) and ``rating`` (float)."""
    require_columns(raw, [USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL], source)
    raw = _with_line(raw)
    stats = new_stats(len(raw))
    df = pd.DataFrame({LINE_COL: raw[LINE_COL]}, index=raw.index)
    df[USER_COL], reasons = id_reasons(raw[USER_COL], col=USER_COL)
    df[ITEM_COL], item_reasons = id_reasons(raw[ITEM_COL], col=ITEM_COL)
    reasons = reasons.fillna(item_reasons)
    rating, _ = to_float(raw[RATING_COL])
    lo, hi = RATING_SCALE
    reasons = add_reason(reasons, rating.isna(), f"{RATING_COL}_not_numeric")
    reasons = add_reason(reasons, (rating < lo) | (rating > hi), f"{RATING_COL}_out_of_range")
    df[RATING_COL] = rating
    ts, ok = to_int(raw[TIMESTAMP_COL])
    reasons = add_reason(reasons, ~ok, f"{TIMESTAMP_COL}_not_integer")
    df[TIMESTAMP_COL] = ts
    df, quarantine = split_quarantine(df, reasons, raw, stats)
    for col in (USER_COL, ITEM_COL, TIMESTAMP_COL):
        df[col] = df[col].astype("int64")
    df = resolve_duplicates(df, [USER_COL, ITEM_COL], stats, tiebreak=TIMESTAMP_COL)
    stats["rows_out"] = int(len(df))
    log.info("%s: %d rows in, %d out, quarantined %s, %d duplicates dropped", source,
             stats["rows_in"], stats["rows_out"], stats["quarantined"], stats["duplicates_dropped"])
    return df.reset_index(drop=True), quarantine, stats


def map_ratings(ratings: pd.DataFrame, links: pd.DataFrame | None,
                catalogue_ids: pd.Series | None) -> tuple[pd.DataFrame, dict]:
    """Add ``tmdbId`` to ratings through links and count what does not map.

    In: clean ratings, clean links (None = no mapping), the catalogue ids (None = no
    catalogue). Out: ``(ratings with tmdbId, coverage)``; coverage counts ratings and
    rated movies without a tmdbId and without a catalogue row.
    """
    out = ratings[[USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL]].copy()
    if links is not None and len(links):
        mapping = links.set_index(ITEM_COL)[TMDB_COL]
        out[TMDB_COL] = out[ITEM_COL].map(mapping).astype("Int64")
    else:
        out[TMDB_COL] = pd.array([pd.NA] * len(out), dtype="Int64")
    mapped = out[TMDB_COL].notna()
    in_cat = out[TMDB_COL].isin(catalogue_ids.astype("int64")) if catalogue_ids is not None \
        else pd.Series(False, index=out.index)
    in_cat = in_cat.fillna(False).astype(bool) & mapped
    coverage = {
        "ratings": int(len(out)),
        "rated_movies": int(out[ITEM_COL].nunique()),
        "rated_movies_with_tmdbId": int(out.loc[mapped, ITEM_COL].nunique()),
        "ratings_without_tmdbId": int((~mapped).sum()),
        "rated_movies_in_catalogue": int(out.loc[in_cat, ITEM_COL].nunique()),
        "ratings_in_catalogue": int(in_cat.sum()),
        "ratings_without_catalogue_row": int((mapped & ~in_cat).sum()),
    }
    log.info("ratings coverage: %s", coverage)
    return out, coverage
