"""The serving layer shared by the HTTP API (``app.py``) and the web UI (``ui.py``).

It owns the loaded :class:`~src.models.predict_model.Recommender` and the SQLite
:class:`~src.data.feedback_store.RatingStore`, validates every input (ValueError naming the field,
KeyError for an unknown id) and returns plain JSON-ready dicts. Both front ends call these
methods directly, so the UI never makes HTTP calls to its own server.

Hot reload: the recommender and everything derived from it (normalised titles for search,
the genre lookup) live in one immutable :class:`Snapshot`. A request reads ``self.snapshot``
once and uses that object throughout, and :meth:`Service.reload` builds a complete new
snapshot before replacing the reference in one assignment, so requests in flight finish
on the old model and none is dropped or sees a half-loaded one.
"""

from __future__ import annotations

import gc
import itertools
import math
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from src.config import LIST_SEP, MAX_N, PATHS, RECOMMEND_CACHE_SIZE, Paths
from src.data.feedback_store import (
    RatingStore,
    validate_id,
    validate_int,
    validate_rating,
)
from src.data.schema import split_list
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

MEDIA_TYPES = ("movie", "series")
MAX_QUERY_LEN = 200


class ReloadError(RuntimeError):
    """A reload failed; the previous model stays in service."""


def normalise_text(text: object) -> str:
    """Fold ``text`` for accent- and case-insensitive search.

    NFKD splits accented letters into base letter + combining mark, the marks are dropped,
    then ``casefold`` (stronger than lower: "ß" -> "ss"); runs of whitespace become one space.
    """
    if not isinstance(text, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _clean(value: object) -> Any:
    """A scalar as a JSON-friendly value (NaN/NA -> None, numpy -> Python)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _int_or_none(value: object) -> int | None:
    """Year-like values as int, or None when missing."""
    v = _clean(value)
    return None if v is None else int(v)


def _validate_n(n: object, field_name: str = "n") -> int:
    """``n`` as an int in 1..MAX_N, else ValueError naming the field."""
    return validate_int(n, field_name, 1, MAX_N)


def _frame_rows(df: pd.DataFrame) -> list[dict]:
    """A small result frame as a list of row dicts of plain Python values (NaN/NA kept).

    One object-array conversion is ~8x cheaper than ``DataFrame.to_dict("records")`` in
    pandas 3, and this runs on every search and similar-titles request.
    """
    cols = list(df.columns)
    return [dict(zip(cols, row)) for row in df.to_numpy(dtype=object).tolist()]


def _records(rows: list[dict]) -> list[dict]:
    """Recommender rows (``Recommender.*_rows`` dicts, or :func:`_frame_rows` of its frames;
    keys OUTPUT_COLUMNS) as the API's Recommendation dicts.

    Text fields are never NaN (the features contract stores "" for empty), so only the
    year and score need cleaning; this runs on every recommendation request.
    """
    return [{"id": int(r["id"]), "title": str(r.get("title") or ""), "year": _int_or_none(r.get("year")),
             "genres": split_list(r.get("genres")), "media_type": str(r.get("media_type") or "movie"),
             "score": _clean(r.get("score")), "reason": str(r.get("reason") or ""),
             "predicted_rating": _clean(r.get("predicted_rating"))}
            for r in rows]


def _validate_media_type(media_type: object) -> str | None:
    """``media_type`` as "movie"/"series"/None, else ValueError naming the field."""
    if media_type is None or media_type == "":
        return None
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"media_type must be one of {', '.join(MEDIA_TYPES)}, got {media_type!r}")
    return str(media_type)


class ReplyCache:
    """A bounded, thread-safe LRU map of finished recommendation replies.

    Keys carry everything a reply depends on (model generation, user, filters, the user's
    stored ratings), so entries never go stale; they are only evicted (least recently used
    first) or dropped wholesale when a new model is swapped in. Replies are shared between
    requests and must not be mutated by callers.
    """

    def __init__(self, size: int = RECOMMEND_CACHE_SIZE) -> None:
        self.size = int(size)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> dict | None:
        """The cached reply for ``key``, or None."""
        if self.size <= 0:
            return None
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple, value: dict) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget every reply (after a model swap)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_GENERATIONS = itertools.count(1)  # distinct per loaded snapshot, for cache keys


@dataclass(frozen=True)
class Snapshot:
    """One loaded model with its derived lookups; never mutated after construction."""

    recommender: Any
    catalogue: pd.DataFrame
    norm_titles: pd.Series          # normalised title per catalogue row (positional)
    padded_genres: pd.Series        # "|Drama|Comedy|" per row, for exact genre matching
    years: np.ndarray               # float year per row, -1 when unknown
    media: np.ndarray               # media_type per row
    scores: np.ndarray              # score_final per row, 0 when unknown
    genre_lookup: dict[str, str]     # casefolded genre -> canonical spelling
    model_version: str
    loaded_at: float = field(default_factory=time.time)
    generation: int = field(default_factory=lambda: next(_GENERATIONS))

    @classmethod
    def build(cls, recommender: Any) -> "Snapshot":
        """Derive the search and genre lookups from a freshly loaded recommender.

        Everything a search filters on is computed here, once per load, so that a search
        is a few vectorised scans over arrays (pandas' Arrow-backed ``str`` for the text).
        """
        cat = recommender.catalogue

        def col(name: str, default: object) -> pd.Series:
            return cat[name] if name in cat.columns else pd.Series(default, index=cat.index)

        norm = pd.Series([normalise_text(t) for t in col("title", "")], dtype="str")
        padded = pd.Series([LIST_SEP + LIST_SEP.join(split_list(g)) + LIST_SEP for g in col("genres", "")],
                           dtype="str")
        years = pd.to_numeric(col("year", np.nan), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        media = col("media_type", "movie").fillna("movie").astype(str).to_numpy()
        scores = pd.to_numeric(col("score_final", 0.0), errors="coerce").fillna(0.0).to_numpy(dtype=float)
        lookup = {g.casefold(): g for g in recommender.genres}
        return cls(recommender, cat, norm, padded, np.nan_to_num(years, nan=-1.0), media, scores,
                   lookup, str(recommender.model_version))


def _load_recommender(paths: Paths) -> Any:
    """Load the D2 recommender (imported lazily: the serving package imports without it)."""
    from src.models.predict_model import Recommender

    return Recommender.load(paths)


class Service:
    """StreamRec's serving operations over one recommender snapshot and the ratings store.

    In: a workspace (:class:`Paths`), optionally a loader ``paths -> Recommender`` (default
    ``Recommender.load``). Loads the model and opens ``paths.ratings_db`` at construction.
    """

    def __init__(self, paths: Paths = PATHS, loader: Callable[[Paths], Any] | None = None,
                 cache_size: int = RECOMMEND_CACHE_SIZE) -> None:
        self.paths = paths
        self._loader = loader or _load_recommender
        self._reload_lock = threading.Lock()
        self.cache = ReplyCache(cache_size)
        with timed(log, "loading the recommender"):
            self.snapshot: Snapshot = Snapshot.build(self._loader(paths))
        self.store = RatingStore(paths.ratings_db)
        log.info("serving model %s, %d titles, %d genres", self.snapshot.model_version,
                 len(self.snapshot.catalogue), len(self.snapshot.genre_lookup))

    # ------------------------------------------------------------------ admin
    def reload(self) -> dict:
        """Load a new recommender from disk and swap it in atomically.

        Out: ``{status, model_version, previous_model_version, catalogue_size, seconds}``.
        Raises :class:`ReloadError` (old model kept) when loading fails or another reload runs.
        """
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadError("a reload is already running; try again when it finishes")
        try:
            old = self.snapshot
            start = time.perf_counter()
            try:
                new = Snapshot.build(self._loader(self.paths))
            except Exception as exc:  # any load failure must leave the old model serving
                log.error("reload failed, keeping model %s: %s: %s", old.model_version,
                          type(exc).__name__, exc)
                raise ReloadError(f"reload failed, still serving model {old.model_version}: "
                                  f"{type(exc).__name__}: {exc}") from exc
            # One reference assignment: atomic under the GIL, so readers see old or new.
            self.snapshot = new
            self.cache.clear()  # old replies are unreachable anyway (keys hold the generation)
            # Keep the new model's long-lived objects out of the cyclic GC's walks, as the app
            # does for everything loaded at start-up (see create_app).
            gc.freeze()
            seconds = time.perf_counter() - start
            log.info("reloaded: model %s -> %s, %d titles in %.2fs", old.model_version,
                     new.model_version, len(new.catalogue), seconds)
            return {"status": "reloaded", "model_version": new.model_version,
                    "previous_model_version": old.model_version,
                    "catalogue_size": int(len(new.catalogue)), "seconds": round(seconds, 3)}
        finally:
            self._reload_lock.release()

    def health(self) -> dict:
        """Out: status, model version, catalogue size, ratings stored, load time."""
        snap = self.snapshot
        return {"status": "ok", "model_version": snap.model_version,
                "catalogue_size": int(len(snap.catalogue)), "ratings_stored": self.store.count(),
                "loaded_at": snap.loaded_at, "cache_entries": len(self.cache),
                "cache_hits": self.cache.hits, "cache_misses": self.cache.misses}

    def genres(self) -> list[str]:
        """Out: the genre names the recommender knows, sorted."""
        return sorted(self.snapshot.genre_lookup.values())

    # ------------------------------------------------------------------ validation helpers
    def parse_genres(self, genres: str | Iterable[str] | None, snap: Snapshot | None = None) -> list[str] | None:
        """Genres from "Drama,Comedy" or a list, matched case-insensitively to canonical names.

        Out: the canonical names, or None for no filter. ValueError naming ``genres`` for an
        unknown name.
        """
        snap = snap or self.snapshot
        if genres is None:
            return None
        items = genres.split(",") if isinstance(genres, str) else list(genres)
        out: list[str] = []
        for raw in items:
            if not isinstance(raw, str):
                raise ValueError(f"genres must be genre names, got {raw!r}")
            name = raw.strip()
            if not name:
                continue
            canonical = snap.genre_lookup.get(name.casefold())
            if canonical is None:
                raise ValueError(f"genres: unknown genre {name!r}; known: "
                                 f"{', '.join(sorted(snap.genre_lookup.values()))}")
            if canonical not in out:
                out.append(canonical)
        return out or None

    def _require_movie(self, movie_id: object, snap: Snapshot, field_name: str = "movie_id") -> int:
        """``movie_id`` as int when it is in the catalogue; KeyError naming the field if not."""
        mid = validate_id(movie_id, field_name)
        if mid not in snap.catalogue.index:
            raise KeyError(f"{field_name} {mid} is not in the catalogue")
        return mid

    # ------------------------------------------------------------------ catalogue
    def _movie_dict(self, mid: int, row: pd.Series | dict) -> dict:
        """One catalogue row as the API's Movie shape."""
        return {"id": int(mid), "title": str(_clean(row.get("title")) or ""),
                "year": _int_or_none(row.get("year")), "genres": split_list(row.get("genres")),
                "media_type": str(_clean(row.get("media_type")) or "movie"),
                "score": _clean(row.get("score_final"))}

    def search(self, query: str | None = None, genre: str | None = None, year_from: int | None = None,
               media_type: str | None = None, limit: int = 20) -> list[dict]:
        """Titles whose normalised title contains the normalised ``query``.

        Filters: one ``genre``, ``year_from`` (inclusive), ``media_type``. Order: exact title
        match, then prefix match, then other matches, each by descending score_final.
        Out: up to ``limit`` Movie dicts. ValueError names a bad field.
        """
        snap = self.snapshot
        limit = _validate_n(limit, "limit")
        media_type = _validate_media_type(media_type)
        if query is not None and len(query) > MAX_QUERY_LEN:
            raise ValueError(f"query must be at most {MAX_QUERY_LEN} characters")
        cat = snap.catalogue
        mask = np.ones(len(cat), dtype=bool)
        q = normalise_text(query or "")
        if q:
            mask &= snap.norm_titles.str.contains(q, regex=False).to_numpy(dtype=bool)
        if genre:
            names = self.parse_genres([genre], snap)
            if names:
                # Separators on both sides so "Drama" does not match inside a longer name.
                needle = LIST_SEP + names[0] + LIST_SEP
                mask &= snap.padded_genres.str.contains(needle, regex=False).to_numpy(dtype=bool)
        if year_from is not None:
            if isinstance(year_from, bool) or not isinstance(year_from, (int, np.integer)):
                raise ValueError(f"year_from must be an integer year, got {year_from!r}")
            mask &= snap.years >= year_from
        if media_type:
            mask &= snap.media == media_type
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            return []
        if q:
            norm = snap.norm_titles.iloc[pos]
            rank = np.where((norm == q).to_numpy(dtype=bool), 0,
                            np.where(norm.str.startswith(q).to_numpy(dtype=bool), 1, 2))
        else:
            rank = np.zeros(len(pos))
        picked = pos[np.lexsort((-snap.scores[pos], rank))[:limit]]
        # Only the shown columns: the features table has dozens (dummies, text) and
        # converting those would dominate the request.
        shown = [c for c in ("title", "year", "genres", "media_type", "score_final") if c in cat.columns]
        rows = cat.iloc[picked, [cat.columns.get_loc(c) for c in shown]]
        return [self._movie_dict(mid, row) for mid, row in zip(rows.index.tolist(), _frame_rows(rows))]

    def movie(self, movie_id: object) -> dict:
        """One title with its descriptive fields. KeyError if unknown, ValueError if not an id."""
        snap = self.snapshot
        mid = self._require_movie(movie_id, snap, "movie_id")
        row = snap.catalogue.loc[mid]
        out = self._movie_dict(mid, row)
        for col in ("overview", "tagline", "release_date"):
            v = _clean(row.get(col))
            out[col] = str(v) if v not in (None, "") else None
        for col in ("runtime", "vote_average", "vote_count"):
            v = _clean(row.get(col))
            out[col] = float(v) if v is not None else None
        for col in ("directors", "cast", "keywords"):
            out[col] = split_list(row.get(col))
        return out

    def popular(self, n: int = 20, genres: str | Iterable[str] | None = None) -> list[dict]:
        """The most rated titles (optionally in ``genres``), for visitors to rate.

        Out: Recommendation dicts; ``score`` is the number of training ratings and
        ``reason`` says "rated by N viewers" (see ``Recommender.popular_titles``).
        """
        snap = self.snapshot
        n = _validate_n(n)
        df = snap.recommender.popular_titles(n=n, genres=self.parse_genres(genres, snap))
        return _records(_frame_rows(df))

    # ------------------------------------------------------------------ recommendations
    def _known_ratings(self, ratings: dict[int, float], snap: Snapshot) -> dict[int, float]:
        """Drop stored ratings of titles no longer in the catalogue (e.g. after an update)."""
        index = snap.catalogue.index
        return {m: r for m, r in ratings.items() if m in index}

    def recommend_user(self, user_id: object, genres: str | Iterable[str] | None = None,
                       n: int = 10, media_type: str | None = None) -> dict:
        """Top-``n`` titles for a user, folding in the ratings they stored here.

        A user the model knows gets personal scores with stored ratings as ``extra_ratings``;
        an unknown user with stored ratings gets ``recommend_for_ratings``; anyone else the
        cold-start list. Out: RecommendationList dict. ValueError names a bad field.
        """
        snap = self.snapshot
        uid = validate_id(user_id, "user_id")
        n = _validate_n(n)
        media_type = _validate_media_type(media_type)
        names = self.parse_genres(genres, snap)
        stored = self._known_ratings(self.store.for_user(uid), snap)
        key = (snap.generation, uid, tuple(names or ()), n, media_type, tuple(sorted(stored.items())))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        rec = snap.recommender
        # The *_rows variants skip building a DataFrame (most of a request's CPU in pandas 3).
        if rec.known_user(uid):
            rows = rec.recommend_rows(uid, genres=names, n=n, exclude_seen=True,
                                      extra_ratings=stored or None, media_type=media_type)
            strategy = "personal+fold-in" if stored else "personal"
        else:
            rows, strategy = self._for_ratings(rec, stored, names, n, media_type)
        reply = {"user_id": uid, "model_version": snap.model_version, "strategy": strategy,
                 "ratings_used": len(stored), "items": _records(rows)}
        self.cache.put(key, reply)
        return reply

    def recommend_for_ratings(self, ratings: dict, genres: str | Iterable[str] | None = None,
                              n: int = 10, media_type: str | None = None) -> dict:
        """Top-``n`` titles for a visitor with no id, from ``{movie_id: rating}`` given now.

        Empty ``ratings`` give the cold-start list. ValueError/KeyError name a bad field.
        """
        snap = self.snapshot
        n = _validate_n(n)
        media_type = _validate_media_type(media_type)
        names = self.parse_genres(genres, snap)
        clean = {self._require_movie(m, snap): validate_rating(r) for m, r in (ratings or {}).items()}
        rows, strategy = self._for_ratings(snap.recommender, clean, names, n, media_type)
        return {"user_id": None, "model_version": snap.model_version, "strategy": strategy,
                "ratings_used": len(clean), "items": _records(rows)}

    @staticmethod
    def _for_ratings(rec, ratings: dict, names, n: int, media_type) -> tuple[list[dict], str]:
        """Rows and strategy for a viewer the model does not know: fold-in, or cold start."""
        if ratings:
            return (rec.recommend_for_ratings_rows(ratings, genres=names, n=n, media_type=media_type),
                    "fold-in")
        return rec.cold_start_rows(genres=names, n=n, media_type=media_type), "cold-start"

    def similar(self, movie_id: object, n: int = 10, user_id: object | None = None) -> dict:
        """Titles similar to ``movie_id`` (optionally personalised for ``user_id``)."""
        snap = self.snapshot
        mid = self._require_movie(movie_id, snap, "movie_id")
        n = _validate_n(n)
        uid = None if user_id is None else validate_id(user_id, "user_id")
        df = snap.recommender.similar_titles(mid, n=n, user_id=uid)
        return {"user_id": uid, "model_version": snap.model_version, "strategy": "similar",
                "ratings_used": 0, "items": _records(_frame_rows(df))}

    # ------------------------------------------------------------------ ratings
    def rate(self, user_id: object, movie_id: object, rating: object) -> dict:
        """Store a rating of a catalogue title (durable when this returns). Out: RatingOut dict."""
        snap = self.snapshot
        uid = validate_id(user_id, "user_id")
        mid = self._require_movie(movie_id, snap, "movie_id")
        value = validate_rating(rating)
        row = self.store.upsert(uid, mid, value)
        row["title"] = str(_clean(snap.catalogue.at[mid, "title"]) or "")
        return row

    def user_ratings(self, user_id: object) -> list[dict]:
        """A user's stored ratings, newest first, with titles (None for a title since removed)."""
        snap = self.snapshot
        rows = self.store.rows_for_user(validate_id(user_id, "user_id"))
        cat = snap.catalogue
        for row in rows:
            mid = row["movie_id"]
            row["title"] = str(_clean(cat.at[mid, "title"]) or "") if mid in cat.index else None
        return rows

    def unrate(self, user_id: object, movie_id: object) -> bool:
        """Delete a stored rating. Out: True if it existed."""
        return self.store.delete(validate_id(user_id, "user_id"), validate_id(movie_id, "movie_id"))

    def close(self) -> None:
        """Close the ratings store."""
        self.store.close()
