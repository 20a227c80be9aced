"""Diff a batch of catalogue rows against the current catalogue and merge them in.

Both sides are frames in the ``merged_data6.csv`` schema keyed by ``id``. A batch row is
*added* when its id is new, *updated* when it changes at least one field it supplies, and
*unchanged* otherwise, so re-applying a batch is a no-op (idempotent updates).

"Supplies" matters because a batch can be partial: a tmdb_5000-style file has no
``imdb_id``/``poster_path``/``collection`` column, and a batch without a credits file says
nothing about directors and cast. Columns a batch does not supply keep the catalogue's
values instead of being blanked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import ID_COL

# merged column -> raw batch columns that feed it (any one present = supplied). Columns not
# listed here are fed by the raw column of the same name.
RAW_SOURCES: dict[str, tuple[str, ...]] = {
    "collection": ("belongs_to_collection",),
    "release_date": ("release_date", "first_air_date"),
    "title": ("title", "name"),
    "original_title": ("original_title", "original_name"),
    "media_type": (),          # always supplied: an absent column means "movie"
}
CREDIT_COLS = ("directors", "cast", "has_credits")   # supplied per row when credits had the id
KEYWORD_COLS = ("keywords", "has_keywords")          # supplied per row when keywords had the id


def supplied_columns(merged_cols: list[str], raw_cols: list[str] | set[str]) -> list[str]:
    """Merged columns a batch with raw columns ``raw_cols`` supplies for every row.

    In: the catalogue's columns and the batch file's header. Out: the subset (order kept),
    excluding credit/keyword columns, which are decided per row (see :func:`merge_batch`).
    """
    raw = set(raw_cols)
    out = []
    for col in merged_cols:
        if col == ID_COL or col in CREDIT_COLS or col in KEYWORD_COLS:
            continue
        sources = RAW_SOURCES.get(col, (col,))
        if not sources or raw.intersection(sources):
            out.append(col)
    return out


def _is_na(s: pd.Series) -> np.ndarray:
    """NA or empty string: a CSV cannot tell an empty list from a missing value."""
    na = s.isna().to_numpy().copy()  # copy: pandas 3 hands out read-only views
    if not pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        na |= (s.astype("object").map(lambda v: isinstance(v, str) and v == "")).to_numpy(dtype=bool)
    return na


def _as_bool_or_num(s: pd.Series) -> pd.Series:
    """Numbers as float; booleans (also "True"/"False" text) as 1.0/0.0; anything else NaN."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    mapped = s.astype("object").map(
        lambda v: {"true": 1.0, "false": 0.0}.get(v.strip().lower(), v) if isinstance(v, str) else v)
    return pd.to_numeric(mapped, errors="coerce").astype("float64")


def cells_equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality of two aligned columns, NA == NA, numbers by value.

    In: two Series of the same length (any dtypes: one side may come from a wide CSV read
    as float, the other from a small batch read as int or str). Out: bool array.
    """
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    na_a, na_b = _is_na(a), _is_na(b)
    both_na = na_a & na_b
    numeric = any(pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x) for x in (a, b))
    if numeric:
        fa, fb = _as_bool_or_num(a).to_numpy(), _as_bool_or_num(b).to_numpy()
        # A non-NA cell that is not a number on one side is a real difference.
        bad = (np.isnan(fa) & ~na_a) | (np.isnan(fb) & ~na_b)
        close = np.isclose(np.nan_to_num(fa, nan=0.0), np.nan_to_num(fb, nan=0.0), rtol=1e-9, atol=0.0)
        eq = close & ~na_a & ~na_b & ~bad
    else:
        sa = a.astype("object").map(lambda v: v if isinstance(v, str) else str(v))
        sb = b.astype("object").map(lambda v: v if isinstance(v, str) else str(v))
        eq = (sa.to_numpy() == sb.to_numpy()) & ~na_a & ~na_b
    return both_na | eq


def merge_batch(current: pd.DataFrame, batch: pd.DataFrame, supplied: list[str]) -> dict:
    """Merge batch rows into the catalogue and report what changed.

    In: ``current`` (the catalogue, unique ``id``), ``batch`` (clean batch rows in the same
    schema, unique ``id``), ``supplied`` (columns the batch supplies for every row, from
    :func:`supplied_columns`; ``has_credits``/``has_keywords`` true in a batch row add the
    credit/keyword columns for that row). Out: dict with ``merged`` (new catalogue: existing
    rows in their order, updated in place, new rows appended in batch order), ``added``
    (ids), ``updated`` ({id: [changed fields]}), ``unchanged`` (ids).
    """
    if current[ID_COL].duplicated().any() or batch[ID_COL].duplicated().any():
        raise ValueError(f"{ID_COL}: duplicate ids; the catalogue and a clean batch are unique by id")
    cols = list(current.columns)
    missing = [c for c in cols if c not in batch.columns]
    if missing:
        raise ValueError(f"batch lacks catalogue columns {missing}")
    batch = batch[cols]
    is_new = ~batch[ID_COL].isin(current[ID_COL])
    added_rows = batch[is_new]
    upd = batch[~is_new].set_index(ID_COL)
    cur = current.set_index(ID_COL)

    updated: dict[int, list[str]] = {}
    unchanged: list[int] = []
    merged = current.copy()
    if len(upd):
        old = cur.loc[upd.index]
        new = old.copy()
        supplied_set = set(supplied)
        per_row = {c: ("has_credits" if c in CREDIT_COLS else "has_keywords")
                   for c in (*CREDIT_COLS, *KEYWORD_COLS) if c in cols}
        changed = pd.DataFrame(False, index=upd.index, columns=[c for c in cols if c != ID_COL])
        for col in changed.columns:
            if col in supplied_set:
                take = np.ones(len(upd), dtype=bool)
            elif col in per_row:
                flag = upd[per_row[col]]
                take = _as_bool_or_num(flag).fillna(0).to_numpy() > 0
            else:
                continue
            diff = take & ~cells_equal(old[col], upd[col])
            if diff.any():
                changed[col] = diff
                # object: the two sides may hold different dtypes (int vs float vs str).
                new[col] = new[col].astype("object")
                new.loc[diff, col] = upd.loc[diff, col].astype("object").to_numpy()
        any_change = changed.any(axis=1)
        for mid, row in changed[any_change].iterrows():
            updated[int(mid)] = [c for c in changed.columns if row[c]]
        unchanged = [int(x) for x in changed.index[~any_change]]
        if updated:
            pos = pd.Index(current[ID_COL]).get_indexer(list(updated))
            new_rows = new.loc[list(updated)].reset_index()[cols]
            merged = merged.astype({c: "object" for c in new_rows.columns
                                    if new_rows[c].dtype != merged[c].dtype})
            merged.iloc[pos] = new_rows.to_numpy()
    if len(added_rows):
        merged = pd.concat([merged, added_rows], ignore_index=True)
    return {
        "merged": merged,
        "added": [int(x) for x in added_rows[ID_COL]],
        "updated": updated,
        "unchanged": unchanged,
    }
