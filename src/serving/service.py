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

from src.config import (
    API_RELOAD_POLL_S,
    FUZZY_MIN_SCORE,
    LIST_SEP,
    MAX_N,
    PATHS,
    POSTER_BASE_URL,
    RATING_SCALE,
    RECOMMEND_CACHE_SIZE,
    STARS_CACHE_SIZE,
    Paths,
)
from src.data.accounts_store import AccountStore
from src.data.availability import validate_platform
from src.data.feedback_store import (
    RatingStore,
    validate_id,
    validate_int,
    validate_rating,
)
from src.data.schema import split_list
from src.models.predict_model import Recommender
from src.serving.fuzzy import TitleIndex
from src.serving.platform_view import platform_view
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

MEDIA_TYPES = ("movie", "series")
MAX_QUERY_LEN = 200
MAX_OFFSET = 10**6  # list offsets beyond any catalogue or viewer history


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


def _records(rows: list[dict], snap: "Snapshot") -> list[dict]:
    """Recommender rows (``Recommender.*_rows`` dicts, or :func:`_frame_rows` of its frames;
    keys OUTPUT_COLUMNS) as the API's Recommendation dicts, with ``poster_path``/``poster_url``
    from the snapshot's ``posters`` map.

    Text fields are never NaN (the features contract stores "" for empty), so only the
    year and score need cleaning. A title's fixed fields (title, year, genres, media type,
    poster) are cleaned once per snapshot and kept in ``snap.title_fields``: this runs on
    every recommendation request, and cleaning them per row was a tenth of its CPU.
    """
    fixed_of = snap.title_fields
    out = []
    for r in rows:
        mid = int(r["id"])
        fixed = fixed_of.get(mid)
        if fixed is None:
            path = snap.posters.get(mid)
            fixed = fixed_of[mid] = (str(r.get("title") or ""), _int_or_none(r.get("year")),
                                     tuple(split_list(r.get("genres"))), str(r.get("media_type") or "movie"),
                                     path, POSTER_BASE_URL + path if path else None)
        title, year, genres, media, path, url = fixed
        out.append({"id": mid, "title": title, "year": year, "genres": list(genres), "media_type": media,
                    "score": _clean(r.get("score")), "reason": str(r.get("reason") or ""),
                    "predicted_rating": _clean(r.get("predicted_rating")),
                    "poster_path": path, "poster_url": url})
    return out


def poster_url(poster_path: object) -> str | None:
    """TMDB image URL of a ``poster_path`` such as "/abc.jpg" (None when there is none)."""
    p = _clean(poster_path)
    if not isinstance(p, str) or not p.startswith("/") or len(p) > 200:
        return None
    return POSTER_BASE_URL + p


def _page(rows: list, limit: object, offset: object) -> dict:
    """``rows[offset:offset + limit]`` with the total: ``{items, total, limit, offset}``."""
    limit, offset = _validate_n(limit, "limit"), validate_int(offset, "offset", 0, MAX_OFFSET)
    return {"items": rows[offset:offset + limit], "total": len(rows), "limit": limit, "offset": offset}


def _on_platforms(cat: pd.DataFrame, platform: str) -> np.ndarray:
    """Bool mask: titles available now on any of the comma-separated platforms (the
    features' ``platforms`` column). ValueError names a malformed platform name."""
    wanted = {validate_platform(p) for p in str(platform).split(",") if p.strip()}
    if "platforms" not in cat.columns or not wanted:
        return np.zeros(len(cat), dtype=bool) if wanted else np.ones(len(cat), dtype=bool)
    cells = cat["platforms"].fillna("").astype(str)
    return np.fromiter((bool(wanted.intersection(c.split(LIST_SEP))) for c in cells),
                       dtype=bool, count=len(cells))


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
    """One loaded model with its derived lookups; never mutated after construction, except
    ``title_fields``, a cache that fills as titles are served (:func:`_records`)."""

    recommender: Any
    catalogue: pd.DataFrame
    norm_titles: pd.Series          # normalised title per catalogue row (positional)
    padded_genres: pd.Series        # "|Drama|Comedy|" per row, for exact genre matching
    years: np.ndarray               # float year per row, -1 when unknown
    media: np.ndarray               # media_type per row
    scores: np.ndarray              # score_final per row, 0 when unknown
    genre_lookup: dict[str, str]     # casefolded genre -> canonical spelling
    posters: dict[int, str]          # id -> TMDB poster_path, for titles that have a valid one
    model_version: str
    loaded_at: float = field(default_factory=time.time)
    title_fields: dict = field(default_factory=dict, repr=False, compare=False)
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
        posters = {int(mid): str(p) for mid, p in zip(cat.index, col("poster_path", None))
                   if poster_url(p) is not None}
        return cls(recommender, cat, norm, padded, np.nan_to_num(years, nan=-1.0), media, scores,
                   lookup, posters, str(recommender.model_version))


def _load_recommender(paths: Paths) -> Any:
    """Load the recommender of the workspace ``paths`` (features + live bundle)."""
    return Recommender.load(paths)


class Service:
    """StreamRec's serving operations over one recommender snapshot and the ratings store.

    In: a workspace (:class:`Paths`), optionally a loader ``paths -> Recommender`` (default
    ``Recommender.load``). Loads the model and opens ``paths.ratings_db`` at construction.
    """

    def __init__(self, paths: Paths = PATHS, loader: Callable[[Paths], Any] | None = None,
                 cache_size: int = RECOMMEND_CACHE_SIZE, follow_model: bool = False) -> None:
        """``follow_model``: reload by itself when the model pointer or the features file
        changes (checked every ``API_RELOAD_POLL_S`` by a daemon thread): what a worker of a
        multi-process server needs, since ``/admin/reload`` reaches one worker only."""
        self.paths = paths
        self._loader = loader or _load_recommender
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._loaded_stamp = self._inputs_stamp()   # before loading: a change during it is seen
        self.cache = ReplyCache(cache_size)
        self.fast_path_replies = 0   # counted by src.serving.fast_path (event loop only)
        self._index_lock = threading.Lock()
        self._fuzzy: tuple[int, TitleIndex | None] = (0, None)  # (snapshot generation, index)
        self._stars = ReplyCache(STARS_CACHE_SIZE)  # predicted stars per (model, viewer, ratings)
        with timed(log, "loading the recommender"):
            self.snapshot: Snapshot = Snapshot.build(self._loader(paths))
        self.store = RatingStore(paths.ratings_db)
        self.accounts = AccountStore(paths.accounts_db)
        log.info("serving model %s, %d titles, %d genres", self.snapshot.model_version,
                 len(self.snapshot.catalogue), len(self.snapshot.genre_lookup))
        if follow_model:
            threading.Thread(target=self._follow, name="model-follow", daemon=True).start()

    def _inputs_stamp(self) -> tuple:
        """(size, mtime) of the model pointer and the features file (None: missing): what a
        new model or catalogue changes (both are replaced by atomic renames)."""
        out = []
        for path in (self.paths.model_pointer, self.paths.features):
            try:
                st = path.stat()
                out.append((st.st_size, st.st_mtime_ns, st.st_ino))
            except OSError:
                out.append(None)
        return tuple(out)

    def _follow(self) -> None:
        """Daemon loop of ``follow_model``: reload when the inputs' stamp changed since the
        last load (a failed reload keeps the old model and waits for the next change)."""
        while not self._stop.wait(API_RELOAD_POLL_S):
            stamp = self._inputs_stamp()
            if stamp == self._loaded_stamp:
                continue
            try:
                self.reload()
            except ReloadError as exc:   # e.g. /admin/reload running: try again next round
                log.warning("model follow: %s", exc)

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
            stamp = self._inputs_stamp()
            try:
                new = Snapshot.build(self._loader(self.paths))
            except Exception as exc:  # any load failure must leave the old model serving
                log.error("reload failed, keeping model %s: %s: %s", old.model_version,
                          type(exc).__name__, exc)
                self._loaded_stamp = stamp   # following: retry on the next change, not in a loop
                raise ReloadError(f"reload failed, still serving model {old.model_version}: "
                                  f"{type(exc).__name__}: {exc}") from exc
            # One reference assignment: atomic under the GIL, so readers see old or new.
            self.snapshot = new
            self._loaded_stamp = stamp
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
                "cache_hits": self.cache.hits, "cache_misses": self.cache.misses,
                "fast_path_replies": self.fast_path_replies}

    def genres(self) -> list[str]:
        """Out: the genre names the recommender knows, sorted."""
        return sorted(self.snapshot.genre_lookup.values())

    def platforms(self) -> list[str]:
        """Out: the platform names the catalogue carries (the "my services" choices), sorted."""
        return sorted(self.snapshot.recommender.platforms)

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

    def parse_platforms(self, platforms: str | Iterable[str] | None, snap: Snapshot | None = None,
                        known_only: bool = False) -> list[str] | None:
        """Platforms from "netflix,hbo" or a list, matched case-insensitively to the catalogue's
        ``platforms`` names. Out: those names, or None for no filter. ValueError naming
        ``platforms`` for a name the catalogue does not carry — or, with ``known_only`` (a
        viewer's saved services), such names are dropped instead."""
        snap = snap or self.snapshot
        if platforms is None:
            return None
        items = platforms.split(",") if isinstance(platforms, str) else list(platforms)
        lookup = {p.casefold(): p for p in snap.recommender.platforms}
        out: list[str] = []
        for raw in items:
            if not isinstance(raw, str) or len(raw) > MAX_QUERY_LEN:
                raise ValueError(f"platforms must be platform names, got {str(raw)[:40]!r}")
            name = raw.strip()
            if not name:
                continue
            canonical = lookup.get(name.casefold())
            if canonical is None:
                if known_only:
                    continue
                raise ValueError(f"platforms: unknown platform {name[:40]!r}; known: "
                                 f"{', '.join(sorted(lookup.values())) or 'none (no platform snapshot applied)'}")
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
                "score": _clean(row.get("score_final")),
                "poster_path": _clean(row.get("poster_path")) or None,
                "poster_url": poster_url(row.get("poster_path"))}

    def search(self, query: str | None = None, genre: str | None = None, year_from: int | None = None,
               media_type: str | None = None, limit: int = 20, platform: str | None = None) -> list[dict]:
        """:meth:`search_result`'s items (the first ``limit`` matches)."""
        return self.search_result(query, genre, year_from, media_type, limit, platform=platform)["items"]

    def search_result(self, query: str | None = None, genre: str | None = None,
                      year_from: int | None = None, media_type: str | None = None,
                      limit: int = 20, offset: int = 0, platform: str | None = None) -> dict:
        """Titles whose normalised title contains the normalised ``query``.

        Filters: one ``genre``, ``year_from`` (inclusive), ``media_type``, ``platform``
        (comma-separated: available now on any of them). Order: exact title
        match, then prefix match, then other matches, each by descending score_final.
        Out: ``{items, total, limit, offset}``: up to ``limit`` Movie dicts from ``offset`` on,
        and how many titles match in all. ValueError names a bad field.
        """
        snap = self.snapshot
        limit = _validate_n(limit, "limit")
        offset = validate_int(offset, "offset", 0, MAX_OFFSET)
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
        if platform:
            mask &= _on_platforms(cat, platform)
        pos = np.flatnonzero(mask)
        empty = {"items": [], "total": int(len(pos)), "limit": limit, "offset": offset}
        if len(pos) == 0 or offset >= len(pos):
            return empty
        if q:
            norm = snap.norm_titles.iloc[pos]
            rank = np.where((norm == q).to_numpy(dtype=bool), 0,
                            np.where(norm.str.startswith(q).to_numpy(dtype=bool), 1, 2))
        else:
            rank = np.zeros(len(pos))
        picked = pos[np.lexsort((-snap.scores[pos], rank))[offset:offset + limit]]
        # Only the shown columns: the features table has dozens (dummies, text) and
        # converting those would dominate the request.
        shown = [c for c in ("title", "year", "genres", "media_type", "score_final", "poster_path")
                 if c in cat.columns]
        rows = cat.iloc[picked, [cat.columns.get_loc(c) for c in shown]]
        items = [self._movie_dict(mid, row) for mid, row in zip(rows.index.tolist(), _frame_rows(rows))]
        return {**empty, "items": items}

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
        for col in ("directors", "cast", "keywords", "platforms"):
            out[col] = split_list(row.get(col))
        out["platforms"] = platform_view(self.paths).stays(mid)
        out["number_of_seasons"] = _int_or_none(row.get("number_of_seasons"))
        return out

    # ------------------------------------------------------------------ web app helpers
    def search_page(self, query: str, limit: int = 20, offset: int = 0) -> dict:
        """Typo-tolerant title search for people: ``{items, total, limit, offset}``.

        Titles containing the normalised query come first (ranked as :meth:`search`), then
        titles whose word-by-word rapidfuzz score is >= FUZZY_MIN_SCORE (``src.serving.fuzzy``;
        "intersteller" finds "Interstellar"), best match first, at most MAX_N in all.
        ValueError names a bad field.
        """
        snap = self.snapshot
        limit = _validate_n(limit, "limit")
        offset = validate_int(offset, "offset", 0, MAX_OFFSET)
        if not isinstance(query, str) or len(query) > MAX_QUERY_LEN:
            raise ValueError(f"query must be text of at most {MAX_QUERY_LEN} characters")
        q = normalise_text(query)
        if not q:
            return {"items": [], "total": 0, "limit": limit, "offset": offset}
        exact = [m["id"] for m in self.search(query=q, limit=MAX_N)]
        seen = set(exact)
        scores = self._title_index(snap).scores(q)
        pos = np.flatnonzero(scores >= FUZZY_MIN_SCORE)
        pos = pos[np.lexsort((-snap.scores[pos], -scores[pos]))][:MAX_N]
        ids = snap.catalogue.index
        order = exact + [int(ids[p]) for p in pos if int(ids[p]) not in seen]
        page = order[offset:offset + limit]
        return {"items": self.card_rows(page, snap), "total": len(order),
                "limit": limit, "offset": offset}

    def _title_index(self, snap: Snapshot) -> TitleIndex:
        """The fuzzy word index of ``snap``'s titles, built on first use per loaded model."""
        with self._index_lock:
            if self._fuzzy[0] != snap.generation:
                self._fuzzy = (snap.generation, TitleIndex(snap.norm_titles.tolist()))
            return self._fuzzy[1]

    def card_rows(self, ids: list[int], snap: Snapshot | None = None) -> list[dict]:
        """What title cards show, for catalogue ``ids`` in order: id, title, year, genres,
        media type, poster, platforms. One positional slice of the shown columns (a ``.loc``
        per title costs ~3 ms in pandas 3)."""
        snap = snap or self.snapshot
        cat = snap.catalogue
        shown = [c for c in ("title", "year", "genres", "media_type", "score_final", "poster_path",
                             "platforms") if c in cat.columns]
        frame = cat.iloc[cat.index.get_indexer(ids), [cat.columns.get_loc(c) for c in shown]]
        out = []
        for mid, row in zip(ids, _frame_rows(frame)):
            card = self._movie_dict(mid, row)
            card["platforms"] = split_list(row.get("platforms"))
            out.append(card)
        return out

    def cards(self, items: list[dict], user_id: int | None = None) -> list[dict]:
        """Recommendation/search dicts as cards, with the viewer's predicted stars when the
        model can tell (SVD over their ratings; None otherwise). Titles gone are dropped."""
        snap = self.snapshot
        ids = [int(it["id"]) for it in items if it["id"] in snap.catalogue.index]
        out = self.card_rows(ids, snap)
        stars = self.predicted_stars(user_id, snap)
        for c in out:
            c["stars"] = stars.get(c["id"])
        return out

    def predicted_stars(self, user_id: int | None, snap: Snapshot | None = None) -> dict:
        """``{id: stars}`` over the catalogue: the SVD rating prediction (0.5-5, rounded to a
        half star) for a training user or a viewer with stored ratings; {} when none can be
        made. Cached per (model, viewer, their ratings): a fold-in solve takes ~0.1-0.3 s and
        one page shows dozens of cards."""
        snap = snap or self.snapshot
        if user_id is None:
            return {}
        rec = snap.recommender
        stored = self._known_ratings(self.store.for_user(user_id), snap)
        known = rec.known_user(user_id)
        if not known and not stored:
            return {}
        key = (snap.generation, int(user_id), tuple(sorted(stored.items())))
        cached = self._stars.get(key)
        if cached is not None:
            return cached
        try:
            pred = rec.predicted_ratings(snap.catalogue.index, user_id=user_id if known else None,
                                         ratings=stored or None)
        except (AttributeError, ValueError, KeyError):  # a recommender without an SVD
            return {}
        lo, hi = RATING_SCALE
        vals = np.clip(np.round(pred.to_numpy(dtype=float) * 2) / 2, lo, hi)
        out = {int(i): float(v) for i, v in zip(pred.index, vals) if np.isfinite(v)}
        self._stars.put(key, out)
        return out

    def popular(self, n: int = 20, genres: str | Iterable[str] | None = None) -> list[dict]:
        """The most rated titles (optionally in ``genres``), for visitors to rate.

        Out: Recommendation dicts; ``score`` is the number of training ratings and
        ``reason`` says "rated by N viewers" (see ``Recommender.popular_titles``).
        """
        snap = self.snapshot
        n = _validate_n(n)
        df = snap.recommender.popular_titles(n=n, genres=self.parse_genres(genres, snap))
        return _records(_frame_rows(df), snap)

    # ------------------------------------------------------------------ recommendations
    def _known_ratings(self, ratings: dict[int, float], snap: Snapshot) -> dict[int, float]:
        """Drop stored ratings of titles no longer in the catalogue (e.g. after an update)."""
        index = snap.catalogue.index
        return {m: r for m, r in ratings.items() if m in index}

    def recommend_user(self, user_id: object, genres: str | Iterable[str] | None = None,
                       n: int = 10, media_type: str | None = None,
                       platforms: str | Iterable[str] | None = None) -> dict:
        """Top-``n`` titles for a user, folding in the ratings they stored here.

        A user the model knows gets personal scores with stored ratings as ``extra_ratings``;
        an unknown user with stored ratings gets ``recommend_for_ratings``; anyone else the
        cold-start list; ``platforms`` keeps titles available now on any of them (the
        aggregator's "my services"). Out: RecommendationList dict. ValueError names a bad field.
        """
        snap = self.snapshot
        uid = validate_id(user_id, "user_id")
        n = _validate_n(n)
        media_type = _validate_media_type(media_type)
        names = self.parse_genres(genres, snap)
        on = self.parse_platforms(platforms, snap)
        stored = self._known_ratings(self.store.for_user(uid), snap)
        key = (snap.generation, uid, tuple(names or ()), n, media_type, tuple(on or ()),
               tuple(sorted(stored.items())))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        rec = snap.recommender
        # The *_rows variants skip building a DataFrame (most of a request's CPU in pandas 3).
        if rec.known_user(uid):
            rows = rec.recommend_rows(uid, genres=names, n=n, exclude_seen=True,
                                      extra_ratings=stored or None, media_type=media_type,
                                      platforms=on)
            strategy = "personal+fold-in" if stored else "personal"
        else:
            rows, strategy = self._for_ratings(rec, stored, names, n, media_type, on)
        reply = {"user_id": uid, "model_version": snap.model_version, "strategy": strategy,
                 "ratings_used": len(stored), "items": _records(rows, snap)}
        self.cache.put(key, reply)
        return reply

    def recommend_for_ratings(self, ratings: dict, genres: str | Iterable[str] | None = None,
                              n: int = 10, media_type: str | None = None,
                              platforms: str | Iterable[str] | None = None) -> dict:
        """Top-``n`` titles for a visitor with no id, from ``{movie_id: rating}`` given now.

        Empty ``ratings`` give the cold-start list. ValueError/KeyError name a bad field.
        """
        snap = self.snapshot
        n = _validate_n(n)
        media_type = _validate_media_type(media_type)
        names = self.parse_genres(genres, snap)
        on = self.parse_platforms(platforms, snap)
        clean = {self._require_movie(m, snap): validate_rating(r) for m, r in (ratings or {}).items()}
        rows, strategy = self._for_ratings(snap.recommender, clean, names, n, media_type, on)
        return {"user_id": None, "model_version": snap.model_version, "strategy": strategy,
                "ratings_used": len(clean), "items": _records(rows, snap)}

    @staticmethod
    def _for_ratings(rec, ratings: dict, names, n: int, media_type,
                     platforms: list[str] | None = None) -> tuple[list[dict], str]:
        """Rows and strategy for a viewer the model does not know: fold-in, or cold start."""
        if ratings:
            return (rec.recommend_for_ratings_rows(ratings, genres=names, n=n, media_type=media_type,
                                                   platforms=platforms), "fold-in")
        return (rec.cold_start_rows(genres=names, n=n, media_type=media_type, platforms=platforms),
                "cold-start")

    def similar(self, movie_id: object, n: int = 10, user_id: object | None = None) -> dict:
        """Titles similar to ``movie_id`` (optionally personalised for ``user_id``)."""
        snap = self.snapshot
        mid = self._require_movie(movie_id, snap, "movie_id")
        n = _validate_n(n)
        uid = None if user_id is None else validate_id(user_id, "user_id")
        df = snap.recommender.similar_titles(mid, n=n, user_id=uid)
        return {"user_id": uid, "model_version": snap.model_version, "strategy": "similar",
                "ratings_used": 0, "items": _records(_frame_rows(df), snap)}

    # ------------------------------------------------------------------ ratings
    def rate(self, user_id: object, movie_id: object, rating: object, sent_by: int | None = None,
             client: str = "api") -> dict:
        """Store a rating of a catalogue title (durable when this returns). Out: RatingOut dict.

        ``sent_by``/``client`` record who sent it and through which front end (the routes
        pass the signed-in viewer; see ``RatingStore.upsert``).
        """
        snap = self.snapshot
        uid = validate_id(user_id, "user_id")
        mid = self._require_movie(movie_id, snap, "movie_id")
        value = validate_rating(rating)
        row = self.store.upsert(uid, mid, value, sent_by=sent_by, client=client)
        row["title"] = str(_clean(snap.catalogue.at[mid, "title"]) or "")
        return row

    def user_ratings_page(self, user_id: object, limit: int = MAX_N, offset: int = 0) -> dict:
        """A page of :meth:`user_ratings`: ``{items, total, limit, offset}``."""
        return _page(self.user_ratings(user_id), limit, offset)

    def watchlist_page(self, user_id: object, limit: int = MAX_N, offset: int = 0) -> dict:
        """A page of :meth:`watchlist`: ``{items, total, limit, offset}``."""
        return _page(self.watchlist(user_id), limit, offset)

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

    # ------------------------------------------------------------------ watchlist, services
    def _title_of(self, mid: int, snap: Snapshot) -> str | None:
        """The catalogue title of ``mid`` (None for a title since removed)."""
        cat = snap.catalogue
        return str(_clean(cat.at[mid, "title"]) or "") if mid in cat.index else None

    def watchlist(self, user_id: object) -> list[dict]:
        """The viewer's watchlist, newest first, each row with its title (None if removed)."""
        snap = self.snapshot
        rows = self.accounts.watchlist(validate_id(user_id, "user_id"))
        for row in rows:
            row["title"] = self._title_of(row["movie_id"], snap)
        return rows

    def watch_later(self, user_id: object, movie_id: object) -> dict:
        """Put a catalogue title on the watchlist (KeyError if unknown). Out: the row with title."""
        snap = self.snapshot
        mid = self._require_movie(movie_id, snap, "movie_id")
        row = self.accounts.watchlist_add(validate_id(user_id, "user_id"), mid)
        row["title"] = self._title_of(mid, snap)
        return row

    def unwatch(self, user_id: object, movie_id: object) -> bool:
        """Take a title off the watchlist. Out: True if it was there."""
        return self.accounts.watchlist_remove(validate_id(user_id, "user_id"),
                                              validate_id(movie_id, "movie_id"))

    def services(self, user_id: object) -> list[str]:
        """The viewer's streaming services."""
        return self.accounts.services(validate_id(user_id, "user_id"))

    def set_services(self, user_id: object, platforms: object) -> list[str]:
        """Replace the viewer's streaming services (names, ValueError if malformed)."""
        return self.accounts.set_services(validate_id(user_id, "user_id"), platforms)

    def picked_genres(self, user_id: object) -> list[str]:
        """The genres the viewer picked at onboarding."""
        return self.accounts.genres(validate_id(user_id, "user_id"))

    def set_picked_genres(self, user_id: object, genres: object) -> list[str]:
        """Replace the viewer's picked genres; each must be a known genre (ValueError if not)."""
        if not isinstance(genres, (list, tuple)):
            raise ValueError("genres must be a list of genre names")
        names = self.parse_genres(list(genres)) or []
        return self.accounts.set_genres(validate_id(user_id, "user_id"), names)

    def close(self) -> None:
        """Stop following the model; close the ratings and account stores."""
        self._stop.set()
        self.store.close()
        self.accounts.close()
