"""Read ``merged_data6.csv`` into a typed frame (the feature stage's input boundary).

Every column is read as text first (so titles like "NA" or "None" stay text), then the known
numeric, boolean and id columns are converted once, here; a value that does not convert is
a ValueError naming the column, never a silent NaN.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import ID_COL
from src.data.schema import BOOL_COLUMNS as MERGED_BOOL_COLUMNS
from src.data.schema import FLOAT_COLUMNS

# Column types come from the ETL's schema (one list for writer and reader); the has_* flags
# are booleans the ETL adds to the merged file.
BOOL_COLUMNS = (*MERGED_BOOL_COLUMNS, "has_credits", "has_keywords")
_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}

__all__ = ["read_merged", "type_merged", "FLOAT_COLUMNS", "BOOL_COLUMNS"]


def _to_float(s: pd.Series, name: str) -> pd.Series:
    """Convert text to float64 ('' -> NaN); ValueError naming the column on junk."""
    stripped = s.str.strip()
    out = pd.to_numeric(stripped.replace("", np.nan), errors="coerce").astype("float64")
    bad = out.isna() & stripped.ne("") & stripped.str.lower().ne("nan")
    if bad.any():
        raise ValueError(f"column {name!r}: {int(bad.sum())} non-numeric value(s), e.g. {stripped[bad].iloc[0]!r}")
    return out


def _to_bool(s: pd.Series, name: str) -> pd.Series:
    """Convert text to nullable boolean ('' -> <NA>); ValueError naming the column on junk."""
    low = s.str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    bad = ~(low.isin(_TRUE) | low.isin(_FALSE) | low.eq(""))
    if bad.any():
        raise ValueError(f"column {name!r}: {int(bad.sum())} non-boolean value(s), e.g. {s[bad].iloc[0]!r}")
    return out


def type_merged(raw: pd.DataFrame) -> pd.DataFrame:
    """Type a merged frame whose cells are all text.

    In: frame of str cells ('' for empty). Out: new frame with ``id`` int64, FLOAT_COLUMNS
    float64, BOOL_COLUMNS nullable boolean, every other column str with '' for empty, and a
    ``media_type`` column ('movie' where absent/empty). ValueError names the bad column.
    """
    if ID_COL not in raw.columns:
        raise ValueError(f"column {ID_COL!r} missing from merged catalogue")
    df = raw.copy()
    for col in df.columns:
        if not pd.api.types.is_string_dtype(df[col].dtype) or df[col].isna().any():
            df[col] = df[col].astype("str").where(df[col].notna(), "")
    ids = pd.to_numeric(df[ID_COL].str.strip(), errors="coerce")
    bad = ids.isna() | (ids != ids.round())
    if bad.any():
        raise ValueError(f"column {ID_COL!r}: {int(bad.sum())} non-integer id(s), e.g. {df.loc[bad, ID_COL].iloc[0]!r}")
    df[ID_COL] = ids.astype("int64")
    for col in FLOAT_COLUMNS:
        if col in df.columns:
            df[col] = _to_float(df[col], col)
    for col in BOOL_COLUMNS:
        if col in df.columns:
            df[col] = _to_bool(df[col], col)
    if "media_type" not in df.columns:
        df["media_type"] = "movie"
    df["media_type"] = df["media_type"].str.strip().str.lower().replace("", "movie")
    return df


def read_merged(path: str | os.PathLike) -> pd.DataFrame:
    """Read merged_data6.csv at ``path`` and type it (see :func:`type_merged`).

    FileNotFoundError names the path when it is missing (run the ETL first).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"merged catalogue not found at {path}: run `invoke data` first")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    return type_merged(raw)
