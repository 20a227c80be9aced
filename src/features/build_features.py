"""Feature stage: ``merged_data6.csv`` -> ``features.parquet`` (``invoke features``).

Adds to every merged column: genre dummies, ``score_final`` and ``weighted_rating``, ``year``,
``decade``, ``runtime_bucket``, ``cast_top3`` and the content ``text``. Everything is vectorised
(45k titles in about a second); :func:`build_features` is pure so the updater can rebuild the
features of a patched catalogue in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from src.config import (
    ID_COL,
    LIST_SEP,
    PATHS,
    RUNTIME_BINS,
    SCORE_WEIGHTS,
    TOP_CAST,
    Paths,
)
from src.features.merged_io import read_merged
from src.features.schema import genre_column, genre_columns, validate_features
from src.features.scoring import add_scores
from src.features.text import build_text
from src.utils.io import write_parquet_atomic
from src.utils.logging import get_logger, setup_logging, timed

log = get_logger(__name__)

# Columns the scores and keys cannot do without: missing -> ValueError.
REQUIRED_INPUT = (ID_COL, "title", "genres", "vote_average", "vote_count", "popularity")
# Columns that may be absent from older/smaller catalogues: added empty, with a warning.
OPTIONAL_TEXT = ("overview", "tagline", "release_date", "keywords", "directors", "cast", "collection")
RUNTIME_UNKNOWN = "unknown"


def runtime_labels(bins=RUNTIME_BINS) -> list[str]:
    """Bucket labels for the runtime edges, e.g. (90, 120, 150) -> <90, 90-120, 120-150, >150."""
    edges = list(bins)
    return ([f"<{edges[0]}"] + [f"{a}-{b}" for a, b in zip(edges, edges[1:])] + [f">{edges[-1]}"])


def runtime_bucket(runtime: pd.Series, bins=RUNTIME_BINS) -> pd.Series:
    """Bucket runtimes in minutes (left-closed: 90 -> "90-120"); NaN or <= 0 -> "unknown".

    TMDB stores 0 for an unknown runtime, so 0 is unknown, not "<90".
    """
    edges = [0.0, *map(float, bins), np.inf]
    r = runtime.where(runtime > 0)
    cut = pd.cut(r, bins=edges, right=False, labels=runtime_labels(bins))
    return cut.astype("str").where(cut.notna(), RUNTIME_UNKNOWN).astype("str")


def release_year(release_date: pd.Series) -> pd.Series:
    """Year of an ISO ``YYYY-MM-DD`` (or ``YYYY``) release date as nullable Int64 (<NA> if empty)."""
    year = release_date.fillna("").astype("str").str.extract(r"^\s*(\d{4})", expand=False)
    return pd.to_numeric(year, errors="coerce").astype("Int64")


def first_names(cells: pd.Series, n: int = TOP_CAST) -> pd.Series:
    """First ``n`` names of each LIST_SEP-joined cell, joined back ('' stays '')."""
    lists = cells.fillna("").astype("str").str.split(LIST_SEP, regex=False)
    return lists.str[:n].str.join(LIST_SEP).fillna("").astype("str")


def genre_dummies(genres: pd.Series) -> pd.DataFrame:
    """One int8 0/1 column per genre present (``genre_<Name>``), sorted by column name."""
    names = genres.fillna("").astype("str")
    dummies = names.str.get_dummies(sep=LIST_SEP)
    dummies = dummies.drop(columns=[c for c in dummies.columns if not str(c).strip()])
    dummies.columns = [genre_column(c) for c in dummies.columns]
    # Two spellings mapping to one column ("Sci Fi" / "Sci_Fi") are merged, not duplicated.
    dummies = dummies.T.groupby(level=0).max().T if dummies.columns.duplicated().any() else dummies
    return dummies.reindex(sorted(dummies.columns), axis=1).astype("int8")


def _sanitise_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Set out-of-range vote_average (0–10) / vote_count / popularity (>= 0) to NaN, logged.

    The ETL should never let these through; if it does, one bad number must not stop the
    whole catalogue, so it is counted in the log and treated as missing.
    """
    limits = {"vote_average": (0.0, 10.0), "vote_count": (0.0, np.inf), "popularity": (0.0, np.inf)}
    for col, (lo, hi) in limits.items():
        bad = df[col].notna() & ((df[col] < lo) | (df[col] > hi))
        if bad.any():
            log.warning("%s: %d value(s) outside [%s, %s] treated as missing (ids %s)",
                        col, int(bad.sum()), lo, hi, df.loc[bad, ID_COL].head(5).tolist())
            df[col] = df[col].mask(bad)
    return df


def build_features(merged: pd.DataFrame, weights: Mapping[str, float] = SCORE_WEIGHTS) -> pd.DataFrame:
    """Build the features frame from a typed merged catalogue (see merged_io.type_merged).

    In: one row per title with at least REQUIRED_INPUT; the score weights.
    Out: a new frame: every input column, then year, decade, runtime_bucket, cast_top3, text,
    score_final, weighted_rating, then the genre dummies. Validated against the schema.
    ValueError names a missing required column.
    """
    missing = [c for c in REQUIRED_INPUT if c not in merged.columns]
    if missing:
        raise ValueError(f"merged catalogue lacks required column(s) {missing}")
    df = merged.copy()
    for col in OPTIONAL_TEXT:
        if col not in df.columns:
            log.warning("merged catalogue has no %r column: using empty values", col)
            df[col] = ""
        else:
            df[col] = df[col].fillna("").astype("str")
    for col in ("title", "genres"):
        df[col] = df[col].fillna("").astype("str")
    if "runtime" not in df.columns:
        log.warning("merged catalogue has no 'runtime' column: every runtime_bucket is unknown")
        df["runtime"] = np.nan
    for col in ("vote_average", "vote_count", "popularity", "runtime"):
        df[col] = pd.to_numeric(df[col], errors="raise").astype("float64")
    if "media_type" not in df.columns:
        df["media_type"] = "movie"
    df["media_type"] = df["media_type"].fillna("").astype("str").replace("", "movie")

    df = _sanitise_scores(df)
    df["year"] = release_year(df["release_date"])
    df["decade"] = (df["year"] // 10 * 10).astype("Int64")
    df["runtime_bucket"] = runtime_bucket(df["runtime"])
    df["cast_top3"] = first_names(df["cast"], TOP_CAST)
    df["text"] = build_text(df)
    df = add_scores(df, weights)
    dummies = genre_dummies(df["genres"])
    clash = [c for c in dummies.columns if c in df.columns]
    if clash:
        raise ValueError(f"genre dummy column(s) {clash} clash with existing merged columns")
    df = pd.concat([df, dummies.set_index(df.index)], axis=1)
    return validate_features(df)


def main(paths: Paths = PATHS) -> Path:
    """Read ``paths.merged``, build and validate features, write ``paths.features`` atomically.

    In: the workspace. Out: the features file path. Logs rows in/out, genres and timing.
    """
    setup_logging()
    with timed(log, "features"):
        merged = read_merged(paths.merged)
        log.info("read %d titles x %d columns from %s", len(merged), merged.shape[1], paths.merged)
        features = build_features(merged)
        n_genres = len(genre_columns(features))
        write_parquet_atomic(features, paths.features)
        log.info(
            "wrote %d titles x %d columns (%d genres; score_final %.3f-%.3f) to %s",
            len(features), features.shape[1], n_genres,
            features["score_final"].min() if len(features) else float("nan"),
            features["score_final"].max() if len(features) else float("nan"),
            paths.features,
        )
    return paths.features


if __name__ == "__main__":  # pragma: no cover - CLI convenience; `invoke features` is the entry point
    main()
