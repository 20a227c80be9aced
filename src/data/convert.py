"""Vectorised text -> value converters used by cleaning; each one counts its failures.

Every converter takes a text Series (NA = empty cell) and returns the converted Series and
the number of non-empty cells it could not convert (those become NA/NaN, never an error),
so the ETL report can say exactly how much was lost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Canonical ASCII integers only: "862", "-3" (so ids <= 0 get their own reason) or "862.0"
# (pandas-written links.csv stores tmdbId as floats); fits int64. ``[0-9]``, not ``\d``:
# ``\d`` also matches full-width and other Unicode digits ("０１２"), which no id source
# writes and which once aborted a whole batch instead of quarantining their row.
_INT_RE = r"-?[0-9]{1,18}(?:\.0+)?"
# Plain decimals ("4.5", "-12"): the only shape taken through Arrow's float parser, so
# exotic spellings (exponents, inf, nan) always get pandas' own reading.
_PLAIN_FLOAT_RE = r"-?\d+(?:\.\d+)?"
_ISO_RE = r"\d{4}-\d{1,2}-\d{1,2}"
_MDY_RE = r"\d{1,2}/\d{1,2}/\d{4}"
_TRUE = {"true", "1", "1.0", "t", "yes"}
_FALSE = {"false", "0", "0.0", "f", "no"}


def trim_text(s: pd.Series) -> pd.Series:
    """Strip surrounding whitespace; a cell that becomes blank becomes NA."""
    s = s.astype("str").str.strip()
    return s.mask(s == "")


def to_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse integer ids. Out: ``(Int64 series, ok mask)``; ok is False for non-integers
    and for empty cells (callers tell those apart with ``s.isna()``)."""
    text = s.astype("str").str.strip()
    ok = text.str.fullmatch(_INT_RE).fillna(False).astype(bool)
    fast = _arrow_cast(text.where(ok).str.replace(r"\.0*$", "", regex=True), pa.int64())
    if fast is not None:
        return fast, ok
    values = pd.to_numeric(text.where(ok), errors="coerce")
    return values.round().astype("Int64"), ok


def to_float(s: pd.Series) -> tuple[pd.Series, int]:
    """Parse numbers. Out: ``(float64 series, failures)``; unparseable cells become NaN."""
    text = s.astype("str").str.strip()
    values = None
    if bool(text.str.fullmatch(_PLAIN_FLOAT_RE).fillna(True).all()):
        values = _arrow_cast(text, pa.float64())
    if values is None:
        values = pd.to_numeric(text, errors="coerce")
    values = values.astype("float64")
    failures = int((text.notna() & (text != "") & values.isna()).sum())
    return values, failures


def _arrow_cast(text: pd.Series, to: pa.DataType) -> pd.Series | None:
    """Cast a text Series with Arrow (C++, ~50x faster than ``pd.to_numeric`` on text).

    Out: an ``Int64``/``float64`` Series (NA where the text is NA), or None when Arrow
    refuses some cell (e.g. ``+5`` or non-ASCII digits): the caller then takes the
    ``pd.to_numeric`` path, so results never depend on which way was taken.
    """
    try:
        arr = pc.cast(pa.array(text.array, type=pa.string()), to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return None
    if pa.types.is_integer(to):
        mask = arr.is_null().to_numpy(zero_copy_only=False)
        data = arr.fill_null(0).to_numpy(zero_copy_only=False)
        return pd.Series(pd.arrays.IntegerArray(data.astype("int64"), mask), index=text.index)
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def to_iso_date(s: pd.Series) -> tuple[pd.Series, int]:
    """Normalise dates to ISO ``YYYY-MM-DD`` strings.

    Accepted: ISO ``YYYY-MM-DD`` (an ISO timestamp keeps its date part) and ``M/D/YYYY``
    (spreadsheet exports). ``3/4/2001`` is read month-first (US order, which is what Excel
    wrote these files in); there is no way to tell D/M from M/D per cell. Impossible dates
    (``2019-02-30``) and other formats count as failures and become NA.
    """
    text = s.astype("str").str.strip()
    text = text.mask(text == "")
    iso_part = text.str.extract(rf"^({_ISO_RE})(?:[T ].*)?$", expand=False)
    mdy = text.where(text.str.fullmatch(_MDY_RE).fillna(False).astype(bool))
    parsed = pd.to_datetime(iso_part, format="%Y-%m-%d", errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(mdy, format="%m/%d/%Y", errors="coerce"))
    out = parsed.dt.strftime("%Y-%m-%d").astype("str")
    out = out.mask(parsed.isna())
    failures = int((text.notna() & parsed.isna()).sum())
    return out, failures


def to_bool(s: pd.Series, default: bool = False) -> tuple[pd.Series, int]:
    """Parse booleans written True/False/TRUE/FALSE/true/false/1/0 (also t/f, yes/no).

    Out: ``(bool series, failures)``. Empty cells take ``default`` (not a failure);
    anything else unrecognised takes ``default`` and is counted.
    """
    low = s.astype("str").str.strip().str.lower()
    is_true = low.isin(_TRUE).to_numpy()
    is_false = low.isin(_FALSE).to_numpy()
    empty = (low.isna() | (low == "")).fillna(True).to_numpy(dtype=bool)
    failures = int((~is_true & ~is_false & ~empty).sum())
    values = np.where(is_true, True, np.where(is_false, False, default))
    return pd.Series(values.astype(bool), index=s.index), failures


def is_bool_text(s: pd.Series) -> pd.Series:
    """True where the cell is a recognised boolean or empty (used to spot shifted rows)."""
    low = s.astype("str").str.strip().str.lower()
    return (low.isna() | low.isin(_TRUE | _FALSE) | (low == "")).fillna(True).astype(bool)


def looks_like_date(s: pd.Series) -> pd.Series:
    """True where the cell is shaped like a date (ISO or M/D/YYYY)."""
    text = s.astype("str").str.strip()
    return text.str.fullmatch(rf"{_ISO_RE}|{_MDY_RE}").fillna(False).astype(bool)
