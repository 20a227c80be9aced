"""The contract of ``features.parquet``: which columns exist, with which types and values.

:func:`validate_features` is called by the feature stage before writing and can be called by
any reader (recommender, updater) to fail early with a message naming every bad column.
"""

from __future__ import annotations

import pandas as pd
from pandas.api import types as ptypes

from src.config import GENRE_PREFIX, ID_COL

MEDIA_TYPES = ("movie", "series")

# Column -> expected kind. "str" columns hold text with "" (never NaN) for empty; list-valued
# columns (genres, keywords, directors, cast, cast_top3) are LIST_SEP-joined strings, exactly
# as in merged_data6.csv, so one split_list() reads both files.
REQUIRED_COLUMNS: dict[str, str] = {
    ID_COL: "int",
    "title": "str",
    "media_type": "str",
    "overview": "str",
    "release_date": "str",
    "genres": "str",
    "keywords": "str",
    "directors": "str",
    "cast": "str",
    "collection": "str",
    "vote_average": "float",
    "vote_count": "float",
    "popularity": "float",
    "runtime": "float",
    "year": "Int64",
    "decade": "Int64",
    "runtime_bucket": "str",
    "cast_top3": "str",
    "text": "str",
    "score_final": "float",
    "weighted_rating": "float",
}


class FeatureSchemaError(ValueError):
    """features frame does not match the contract; ``problems`` lists each finding."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("features schema check failed: " + "; ".join(problems))


def genre_column(genre: str) -> str:
    """Name of the dummy column of a genre: ``genre_`` + name with spaces as ``_``."""
    return GENRE_PREFIX + str(genre).strip().replace(" ", "_")


def genre_name(column: str) -> str:
    """Display name of a genre dummy column, the inverse of :func:`genre_column`.

    In: e.g. "genre_Science_Fiction". Out: "Science Fiction".
    """
    return str(column).removeprefix(GENRE_PREFIX).replace("_", " ")


def genre_columns(df: pd.DataFrame) -> list[str]:
    """The genre dummy columns of a features frame, in frame order."""
    return [c for c in df.columns if str(c).startswith(GENRE_PREFIX)]


def _kind_ok(series: pd.Series, kind: str) -> bool:
    """Whether ``series`` has the dtype family ``kind`` (see REQUIRED_COLUMNS)."""
    dtype = series.dtype
    if kind == "int":
        return ptypes.is_integer_dtype(dtype) and not isinstance(dtype, pd.Int64Dtype)
    if kind == "Int64":
        return ptypes.is_integer_dtype(dtype)
    if kind == "float":
        return ptypes.is_float_dtype(dtype)
    if kind == "str":
        if not ptypes.is_string_dtype(dtype):
            return False
        # object columns pass is_string_dtype; make sure they really hold strings.
        return ptypes.infer_dtype(series, skipna=True) in ("string", "empty")
    raise ValueError(f"unknown kind {kind!r}")


def validate_features(df: pd.DataFrame) -> pd.DataFrame:
    """Check a features frame against the contract; return it unchanged when it passes.

    In: the frame about to be written (or just read). Out: the same frame. Raises
    FeatureSchemaError (a ValueError) naming every missing column, wrongly typed column
    (with expected and actual dtype) and bad value (duplicate ids, NaN or out-of-range
    score_final, NaN weighted_rating, unknown media_type, non-int8 genre dummies).
    """
    if not isinstance(df, pd.DataFrame):
        raise FeatureSchemaError([f"expected a DataFrame, got {type(df).__name__}"])
    problems: list[str] = []
    for col, kind in REQUIRED_COLUMNS.items():
        if col not in df.columns:
            problems.append(f"missing column {col!r}")
        elif not _kind_ok(df[col], kind):
            problems.append(f"column {col!r} should be {kind}, is {df[col].dtype}")
    for col, kind in REQUIRED_COLUMNS.items():
        if kind == "str" and col in df.columns and _kind_ok(df[col], kind) and df[col].isna().any():
            problems.append(f"column {col!r} has {int(df[col].isna().sum())} missing value(s); use ''")
    for col in genre_columns(df):
        if df[col].dtype != "int8":
            problems.append(f"column {col!r} should be int8, is {df[col].dtype}")
        elif not df[col].isin((0, 1)).all():
            problems.append(f"column {col!r} holds values other than 0/1")
    if ID_COL in df.columns and df[ID_COL].duplicated().any():
        dup = df.loc[df[ID_COL].duplicated(), ID_COL].iloc[0]
        problems.append(f"column {ID_COL!r} has duplicate ids, e.g. {dup!r}")
    if "score_final" in df.columns and _kind_ok(df["score_final"], "float"):
        s = df["score_final"]
        if s.isna().any() or ((s < 0) | (s > 1)).any():
            problems.append("column 'score_final' must be in [0, 1] with no NaN")
    if "weighted_rating" in df.columns and _kind_ok(df["weighted_rating"], "float"):
        if df["weighted_rating"].isna().any():
            problems.append("column 'weighted_rating' has NaN")
    if "media_type" in df.columns and _kind_ok(df["media_type"], "str"):
        bad = ~df["media_type"].isin(MEDIA_TYPES)
        if bad.any():
            problems.append(
                f"column 'media_type' holds {sorted(set(df.loc[bad, 'media_type']))[:5]}, "
                f"expected one of {MEDIA_TYPES}"
            )
    if problems:
        raise FeatureSchemaError(problems)
    return df
