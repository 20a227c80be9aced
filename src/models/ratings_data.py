"""Build the model-ready ratings frame every StreamRec model trains and evaluates on.

The original notebook trained SVD on ``(user=id, item=id, rating=score_final)``, so each
"user" was a movie. Here the models learn from real viewers: MovieLens ratings
(``userId, movieId, rating, timestamp``), with items mapped to catalogue (TMDB) ids through
the links file so that recommendations can be joined to titles, plus the ratings viewers
gave through the API/UI (SQLite feedback store).

Output columns (names from :mod:`src.config`): ``userId`` (int64), ``itemId`` (int64),
``rating`` (float64), ``timestamp`` (int64); one row per (user, item), the latest rating
wins. Load statistics (rows in, unmapped, duplicates, feedback rows) are kept in
``df.attrs["load_stats"]`` and logged.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import (
    ITEM_COL,
    ITEM_ID_COL,
    PATHS,
    RATING_COL,
    RATING_SCALE,
    TIMESTAMP_COL,
    TMDB_COL,
    USER_COL,
    Paths,
)
from src.data.feedback_store import RatingStore
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

MODEL_COLUMNS = [USER_COL, ITEM_ID_COL, RATING_COL, TIMESTAMP_COL]

# Item id spaces a frame can be in; feedback from the serving store is in catalogue ids,
# so it may only be merged into a frame whose items are catalogue ids too.
ID_SPACE_CATALOGUE = "catalogue"
ID_SPACE_MOVIELENS = "movielens"

FrameOrPath = pd.DataFrame | str | os.PathLike | None


def _read(src: FrameOrPath, what: str) -> pd.DataFrame:
    """Return ``src`` as a DataFrame: a copy if it is one, else read the file: Parquet
    (``.parquet``, columnar, types kept) or CSV (plain or .gz).

    Raises FileNotFoundError naming ``what`` when the file is missing.
    """
    if isinstance(src, pd.DataFrame):
        return src.copy()
    path = Path(src)
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path}")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def default_ratings_source(paths: Paths = PATHS) -> Path:
    """The ETL's ratings file training reads: ``paths.ratings_parquet`` when it exists and
    is not older than ``paths.ratings`` (the ETL writes both in one unit, the Parquet
    last), else the CSV. A CSV rewritten by hand after the ETL is never shadowed by a
    stale Parquet: the fallback is logged."""
    pq, csv = paths.ratings_parquet, paths.ratings
    if pq.exists() and (not csv.exists() or pq.stat().st_mtime_ns >= csv.stat().st_mtime_ns):
        return pq
    if pq.exists():
        log.warning("%s is older than %s: reading the CSV", pq, csv)
    return csv


def id_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of raw ids: ``(sorted unique ids, code of each value)`` with
    ``uniques[codes] == values``, as ``np.unique(..., return_inverse=True)`` gives.

    Hash-based (``pd.factorize``) then a sort of the uniques only, so 26M ratings map to
    their ~60k item / ~270k user rows without a Python dict and without sorting every value.
    """
    codes, uniques = pd.factorize(np.asarray(values), sort=True)
    return np.asarray(uniques), codes.astype("int64", copy=False)


def _require(df: pd.DataFrame, cols: list[str], what: str) -> None:
    """Raise ValueError naming the first of ``cols`` that ``df`` lacks."""
    for col in cols:
        if col not in df.columns:
            raise ValueError(f"{what}: required column '{col}' is missing "
                             f"(found {list(df.columns)})")


def _refuse_bools(s: pd.Series, col: str) -> None:
    """Raise ValueError naming ``col`` if it holds booleans (``True`` would silently become 1)."""
    if pd.api.types.is_bool_dtype(s) or (
            s.dtype == object and s.map(lambda v: isinstance(v, (bool, np.bool_))).any()):
        raise ValueError(f"column '{col}' must hold numbers, got booleans")


def _as_int64(s: pd.Series, col: str, allow_na: bool = False) -> pd.Series:
    """Cast a column to int64 once, at the boundary.

    In: a Series and its column name. Out: int64 Series (nullable ``Int64`` when
    ``allow_na``). Raises ValueError naming ``col`` for text, fractions or (unless
    ``allow_na``) missing values, so a bad file never silently becomes wrong ids.
    """
    _refuse_bools(s, col)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        example = s[bad].iloc[0]
        raise ValueError(f"column '{col}' must hold integers; {int(bad.sum())} value(s) are "
                         f"not numeric, e.g. {example!r}")
    if num.isna().any() and not allow_na:
        raise ValueError(f"column '{col}' has {int(num.isna().sum())} missing value(s)")
    frac = num.notna() & (num != np.floor(num))
    if frac.any():
        raise ValueError(f"column '{col}' must hold integers, e.g. {num[frac].iloc[0]!r} is not")
    return num.astype("Int64") if allow_na else num.astype("int64")


def _as_rating(s: pd.Series) -> pd.Series:
    """Cast the rating column to float64; ValueError naming it when missing/non-numeric/out of scale."""
    _refuse_bools(s, RATING_COL)
    num = pd.to_numeric(s, errors="coerce")
    if num.isna().any():
        example = s[num.isna()].iloc[0]
        raise ValueError(f"column '{RATING_COL}' has {int(num.isna().sum())} missing or "
                         f"non-numeric value(s), e.g. {example!r}")
    lo, hi = RATING_SCALE
    out = (num < lo) | (num > hi)
    if out.any():
        raise ValueError(f"column '{RATING_COL}' must lie in [{lo}, {hi}]; "
                         f"{int(out.sum())} value(s) do not, e.g. {num[out].iloc[0]}")
    return num.astype("float64")


def validate_model_ratings(df: pd.DataFrame, what: str = "ratings") -> pd.DataFrame:
    """Check and cast a frame with the model-ready columns; return a new frame of exactly those.

    In: any frame holding ``userId, itemId, rating, timestamp``. Out: the same rows with
    int64 ids/timestamp and float64 ratings. Raises ValueError naming the bad column.
    """
    _require(df, MODEL_COLUMNS, what)
    return pd.DataFrame({
        USER_COL: _as_int64(df[USER_COL], USER_COL),
        ITEM_ID_COL: _as_int64(df[ITEM_ID_COL], ITEM_ID_COL),
        RATING_COL: _as_rating(df[RATING_COL]),
        TIMESTAMP_COL: _as_int64(df[TIMESTAMP_COL], TIMESTAMP_COL),
    })


def _links_map(links: FrameOrPath) -> pd.Series:
    """Return a movieId -> tmdbId Series from a links CSV/frame (rows without tmdbId dropped).

    A movieId listed twice keeps its first tmdbId (MovieLens links are one-to-one; this only
    guards against a hand-edited file).
    """
    ln = _read(links, "links")
    _require(ln, [ITEM_COL, TMDB_COL], "links")
    movie = _as_int64(ln[ITEM_COL], f"links.{ITEM_COL}")
    tmdb = _as_int64(ln[TMDB_COL], f"links.{TMDB_COL}", allow_na=True)
    m = pd.Series(tmdb.to_numpy(), index=movie.to_numpy()).dropna()
    return m[~m.index.duplicated(keep="first")].astype("int64")


def _feedback(paths: Paths) -> pd.DataFrame | None:
    """Return the viewer feedback from the SQLite store (src.data.feedback_store), or None
    when there is none."""
    if not paths.ratings_db.exists():
        return None
    with RatingStore(paths.ratings_db) as store:
        fb = store.all_ratings()
    return validate_model_ratings(fb, what=f"feedback store {paths.ratings_db}")


def _dedupe_latest(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep one row per (user, item): the latest timestamp, later row on ties.

    Two MovieLens movieIds can map to one TMDB id, and feedback can re-rate a title, so
    duplicates are expected; the most recent opinion is the one the viewer holds now.
    In: a model-ready frame. Out: (its kept rows sorted by user then item, index reset;
    how many rows were dropped).

    One int64 key per (user, item) (dense codes of each, so the key orders like the pair)
    and one stable argsort of it (timsort: ~1 s at 25M ratings already grouped by user);
    only the rows of repeated keys are then ordered by timestamp (``np.lexsort`` over the
    whole frame took 19 s at 25M). The earlier pandas version (a timestamp sort,
    ``duplicated`` on two columns, a second sort by user and item) took 50 s of a
    25M-rating ``invoke train``.
    """
    if df.empty:
        return df.reset_index(drop=True), 0
    _, u = id_codes(df[USER_COL].to_numpy())
    items, i = id_codes(df[ITEM_ID_COL].to_numpy())
    key = u * np.int64(len(items)) + i
    del u, i
    order = np.argsort(key, kind="stable")  # stable: a key's rows stay in frame order
    ks = key[order]
    del key
    start = np.empty(len(ks), dtype=bool)
    start[0] = True
    np.not_equal(ks[1:], ks[:-1], out=start[1:])
    if start.all():  # no (user, item) twice: the usual case
        return df.take(order).reset_index(drop=True), 0
    group = np.cumsum(start) - 1                 # key run of each sorted position
    repeated = np.bincount(group)[group] > 1
    pos = np.flatnonzero(repeated)
    ts = df[TIMESTAMP_COL].to_numpy()[order[pos]]
    # within a run: by timestamp, then position (= frame order); the last one wins
    pos = pos[np.lexsort((pos, ts, group[pos]))]
    g = group[pos]
    last = np.append(g[1:] != g[:-1], True)
    keep = ~repeated
    keep[pos[last]] = True
    kept = order[keep]
    return df.take(kept).reset_index(drop=True), int(len(df) - len(kept))


def load_ratings(ratings: FrameOrPath = None, links: FrameOrPath = None, paths: Paths = PATHS,
                 include_feedback: bool = True) -> pd.DataFrame:
    """Return the model-ready ratings frame ``userId, itemId, rating, timestamp``.

    In:
      * ``ratings``: None (the ETL output with a ``tmdbId`` column: ``paths.ratings_parquet``
        when present and current, else ``paths.ratings``; :func:`default_ratings_source`),
        or a MovieLens ratings CSV/Parquet path / DataFrame (``userId, movieId, rating, timestamp``,
        optionally ``tmdbId``).
      * ``links``: optional links CSV path / DataFrame (``movieId, tmdbId``); when given,
        items are mapped movieId -> tmdbId through it. Without links, a ``tmdbId`` column in
        the ratings is used; without either, items stay MovieLens movieIds.
      * ``include_feedback``: append ratings from ``paths.ratings_db`` (SQLite) when it
        exists and items are catalogue ids; a later rating of the same user+item wins.
    Out: the frame (int64 ids, float64 rating), with ``attrs["load_stats"]`` counting rows
    in, unmapped (dropped, logged), duplicates collapsed, feedback rows and the id space,
    and ``attrs["load_seconds"]`` the seconds of each stage (read, map, dedupe).
    Raises ValueError naming the column on bad dtypes or missing columns.
    """
    src = default_ratings_source(paths) if ratings is None else ratings
    # Per-stage seconds (read / map+validate / dedupe): the trainer puts them in the manifest.
    seconds: dict[str, float] = {}
    with timed(log, f"reading ratings {'(frame)' if isinstance(src, pd.DataFrame) else src}") as t:
        raw = _read(src, "ratings")
    seconds["read"] = t["seconds"]
    t_map = time.perf_counter()
    what = "ratings" if isinstance(src, pd.DataFrame) else f"ratings {src}"
    if ITEM_ID_COL in raw.columns and ITEM_COL not in raw.columns:
        # Already model-ready (e.g. a subsample of a previous load): items are catalogue ids,
        # so mapping them through links again would be wrong.
        if links is not None:
            log.warning("ratings already hold '%s' (catalogue ids): links ignored", ITEM_ID_COL)
            links = None
        raw = raw.rename(columns={ITEM_ID_COL: ITEM_COL}).drop(columns=[TMDB_COL], errors="ignore")
        raw[TMDB_COL] = raw[ITEM_COL]
    _require(raw, [USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL], what)
    movie = _as_int64(raw[ITEM_COL], ITEM_COL)
    stats: dict = {"rows_in": int(len(raw))}

    if links is not None:
        item = movie.map(_links_map(links))
        space = ID_SPACE_CATALOGUE
    elif TMDB_COL in raw.columns:
        item = _as_int64(raw[TMDB_COL], TMDB_COL, allow_na=True)
        space = ID_SPACE_CATALOGUE
    else:
        item = movie
        space = ID_SPACE_MOVIELENS
    mapped = item.notna().to_numpy()
    stats["unmapped"] = int((~mapped).sum())
    if stats["unmapped"]:
        log.warning("%d of %d ratings have no catalogue (tmdbId) mapping; dropped",
                    stats["unmapped"], len(raw))
    df = validate_model_ratings(pd.DataFrame({
        USER_COL: raw[USER_COL].to_numpy()[mapped],
        ITEM_ID_COL: item.to_numpy()[mapped],
        RATING_COL: raw[RATING_COL].to_numpy()[mapped],
        TIMESTAMP_COL: raw[TIMESTAMP_COL].to_numpy()[mapped],
    }), what)
    del raw, item, movie
    seconds["map"] = time.perf_counter() - t_map

    stats["feedback_rows"] = 0
    if include_feedback:
        fb = _feedback(paths)
        if fb is not None and len(fb):
            if space == ID_SPACE_CATALOGUE:
                stats["feedback_rows"] = int(len(fb))
                df = pd.concat([df, fb], ignore_index=True)
            else:
                log.warning("ratings use MovieLens movieIds (no links); the %d feedback ratings "
                            "in %s use catalogue ids and are not merged", len(fb), paths.ratings_db)
    with timed(log, f"collapsing duplicate ratings of {len(df)} rows") as t:
        df, stats["duplicates"] = _dedupe_latest(df)
    seconds["dedupe"] = t["seconds"]
    stats.update(id_space=space, rows_out=int(len(df)), users=int(df[USER_COL].nunique()),
                 items=int(df[ITEM_ID_COL].nunique()))
    df.attrs["load_stats"] = stats
    df.attrs["load_seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    log.info("model ratings: %d rows in, %d unmapped, %d feedback, %d duplicates collapsed -> "
             "%d ratings (%d users x %d items, %s ids)", stats["rows_in"], stats["unmapped"],
             stats["feedback_rows"], stats["duplicates"], stats["rows_out"], stats["users"],
             stats["items"], space)
    return df


def ratings_sha256(df: pd.DataFrame) -> str:
    """Return a sha256 fingerprint of a model-ready ratings frame (order-independent).

    In: a frame with the model columns. Out: hex digest over the rows sorted by
    (user, item), so the same ratings always give the same id in bundle metadata.
    """
    d = validate_model_ratings(df).sort_values([USER_COL, ITEM_ID_COL], kind="mergesort")
    h = hashlib.sha256()
    for col in MODEL_COLUMNS:
        h.update(col.encode())
        h.update(np.ascontiguousarray(d[col].to_numpy()).tobytes())
    return h.hexdigest()


def to_surprise(df: pd.DataFrame, rating_scale: tuple[float, float] = RATING_SCALE):
    """Wrap a model-ready frame as a ``surprise.Dataset`` on ``rating_scale`` (default the
    configured one; predictions are clipped to it)."""
    from surprise import Dataset, Reader

    reader = Reader(rating_scale=tuple(rating_scale))
    return Dataset.load_from_df(df[[USER_COL, ITEM_ID_COL, RATING_COL]], reader)
