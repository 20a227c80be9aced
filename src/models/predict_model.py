"""The StreamRec recommender served by the CLI, the API and the UI.

:class:`Recommender` joins the catalogue (``features.parquet``) with the checksum-verified
model bundle (SVD + EASE ranker + training ratings). Every list is scored over the whole
catalogue with numpy: the EASE ranker gives the top-N order, genre / media-type filters and
"already seen" are boolean masks, and titles the ranker cannot score (cold items, or any
title when no model is trained yet) are filled from the ``score_final`` chart. New viewers
and fresh ratings are folded in without retraining (EASE needs only the history vector; the
SVD's predicted rating uses :mod:`src.models.foldin`). Every returned title has a catalogue
row, and every row carries a human reason ("because you rated Heat 5★", "top Drama by
score", "similar to Toy Story").

Speed (the API's hot path): everything that does not depend on the request is built at load
— genre-major boolean masks, media masks, the output columns as Python lists, id -> position
arrays, every known user's history as flat arrays and (within RECOMMEND_PRECOMPUTE_MB) every
known user's blended EASE scores — so a request is masks + ``np.argpartition`` in ranker space,
reasons for the n returned titles only, and the n-row result built last. ``*_rows`` methods
return plain dicts for the API (a pandas 3 DataFrame costs more than the whole computation).

``main(user_id, genres, n, paths)`` prints a recommendation table (``invoke recommend``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from src.config import (
    EASE_SCORE_OFFSET,
    GENRE_AFFINITY_WEIGHT,
    HYBRID_CANDIDATES,
    ID_COL,
    ITEM_ID_COL,
    MAX_N,
    PATHS,
    RATING_COL,
    RATING_SCALE,
    RECOMMEND_PRECOMPUTE_MB,
    USER_COL,
    Paths,
)
from src.models.topn import blend_genre_affinity
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["Recommender", "main", "OUTPUT_COLUMNS"]

OUTPUT_COLUMNS = ["id", "title", "year", "genres", "media_type", "score", "reason"]
_SEP = "|"
_FALLBACK_REASON = "recommended for viewers with your ratings"
_FILTER_CACHE_SIZE = 256   # distinct (genres, media type) filters kept as ready masks
_PRECOMPUTE_CHUNK = 256    # users per batch when precomputing known users' scores


class _History:
    """One viewer's history as aligned arrays (no dicts on the hot path).

    ``ids`` raw item ids, ``ratings`` their ratings (extra ratings already won over training
    ones), ``cat`` catalogue positions (-1: no catalogue row), ``rk`` ranker columns (-1: the
    ranker does not know the item), ``row`` the known user's row when the history is exactly
    their training ratings (its precomputed scores may be used), else -1.
    """

    __slots__ = ("ids", "ratings", "cat", "rk", "row")

    def __init__(self, ids, ratings, cat, rk, row: int = -1) -> None:
        self.ids, self.ratings, self.cat, self.rk, self.row = ids, ratings, cat, rk, row

    def __len__(self) -> int:
        return len(self.ids)

    def as_dict(self) -> dict[int, float]:
        """{item id: rating} (for the generic, non-EASE code paths)."""
        return dict(zip(self.ids.tolist(), self.ratings.tolist()))


def _fmt_stars(r: float) -> str:
    """4.0 -> '4★', 3.5 -> '3.5★'."""
    return f"{r:g}★"


class Recommender:
    """Top-N recommendations, fold-in, cold start and similar titles over one catalogue.

    Build with :meth:`load` (files of a workspace) or directly from a features frame and an
    optional :class:`~src.models.bundle.ModelBundle` (tests, notebooks).
    """

    def __init__(self, catalogue: pd.DataFrame, bundle=None, model_version: str | None = None) -> None:
        """In: the features frame (column or index ``id``), an optional model bundle, its version."""
        cat = catalogue
        if ID_COL in cat.columns:
            cat = cat.set_index(ID_COL, drop=False)
        elif cat.index.name != ID_COL:
            raise ValueError(f"catalogue needs an {ID_COL!r} column or index")
        if cat.index.has_duplicates:
            dup = cat.index[cat.index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"catalogue ids are not unique: {dup}")
        cat.index = cat.index.astype("int64")
        cat.index.name = ID_COL
        if ID_COL not in cat.columns:
            cat = cat.assign(**{ID_COL: cat.index.to_numpy()})
        for col, default in (("title", ""), ("genres", ""), ("media_type", "movie"), ("year", pd.NA)):
            if col not in cat.columns:
                cat = cat.assign(**{col: default})
        self.catalogue: pd.DataFrame = cat
        self.bundle = bundle
        self.model_version: str | None = model_version or (getattr(bundle, "version", None) if bundle else None)
        self._ids = cat.index.to_numpy("int64")
        # Plain arrays of the output columns: building a list from them is ~10× cheaper than
        # slicing the catalogue frame per request (recommend_for_ratings must stay < 50 ms).
        self._col_arrays = {c: cat[c].to_numpy() for c in ("title", "year", "genres", "media_type")}
        self._pos_of = dict(zip(self._ids.tolist(), range(len(self._ids))))
        # Vectorised id -> position lookup (searchsorted; a pandas get_indexer costs ~50 µs
        # of overhead per call, more than the whole lookup on a short history).
        self._id_order = np.argsort(self._ids, kind="stable")
        self._ids_sorted = self._ids[self._id_order]
        # The output columns as plain Python values, so a reply row is a few list lookups.
        self._row_values = self._build_row_values(cat)
        self._titles = self._row_values[1]   # cleaned titles (str), for reasons
        self._filters: dict = {}
        self._build_masks()
        self._build_model_side()
        self._content = None
        self._content_lock = threading.Lock()
        log.info("recommender ready: %d titles, %d genres, model %s (ranker=%s, svd=%s, %d known users)",
                 len(cat), len(self.genres), self.model_version,
                 type(self.ranker).__name__ if self.ranker is not None else None,
                 self.svd is not None, len(self._user_ids))

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, paths: Paths = PATHS) -> "Recommender":
        """Read ``paths.features`` and (when trained) the verified bundle ``paths.model_pointer`` names.

        Without a bundle the recommender serves the catalogue only (cold start for all).
        Raises FileNotFoundError when the features file is missing and
        ``BundleIntegrityError`` when the pointed-to bundle is missing or fails its checks.
        """
        if not paths.features.exists():
            raise FileNotFoundError(f"features file not found: {paths.features} (run `invoke features`)")
        with timed(log, "loading features"):
            catalogue = pd.read_parquet(paths.features)
        from src.models.bundle import load_current

        with timed(log, "loading the model bundle"):
            bundle = load_current(paths)  # None: never trained; broken: BundleIntegrityError
        if bundle is None:
            log.warning("no model bundle at %s: serving cold-start lists only (run `invoke train`)",
                        paths.model_pointer)
        return cls(catalogue, bundle=bundle, model_version=getattr(bundle, "version", None))

    @staticmethod
    def _build_row_values(cat: pd.DataFrame) -> tuple[list, ...]:
        """(ids, titles, years, genres, media types) as Python lists in catalogue order.

        Years become int or None and text None/NaN becomes "", so the records need no
        per-request cleaning.
        """
        years = pd.to_numeric(cat["year"], errors="coerce").astype("float64").to_numpy()
        return (cat.index.to_numpy("int64").tolist(),
                cat["title"].fillna("").astype(str).tolist(),
                [None if y != y else int(y) for y in years.tolist()],
                cat["genres"].fillna("").astype(str).tolist(),
                cat["media_type"].fillna("movie").astype(str).tolist())

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        """Catalogue positions of raw ids (int64 array), -1 where the id has no catalogue row."""
        ids = np.asarray(ids, dtype="int64")
        if len(self._ids_sorted) == 0:
            return np.full(len(ids), -1, dtype="int64")
        at = np.minimum(np.searchsorted(self._ids_sorted, ids), len(self._ids_sorted) - 1)
        return np.where(self._ids_sorted[at] == ids, self._id_order[at], -1)

    def _build_masks(self) -> None:
        """Precompute the genre matrix (titles × genres), media types and cold-start order."""
        cat = self.catalogue
        genre_lists = cat["genres"].fillna("").astype(str).str.split(_SEP, regex=False)
        names = sorted({g.strip() for gl in genre_lists for g in gl if g and g.strip()})
        self.genres: list[str] = names
        mat = np.zeros((len(cat), len(names)), dtype=bool)
        for j, name in enumerate(names):
            dummy = f"genre_{name.replace(' ', '_')}"
            if dummy in cat.columns:  # the features stage's dummy columns (int8)
                mat[:, j] = cat[dummy].fillna(0).to_numpy() > 0
            else:
                mat[:, j] = [name in {g.strip() for g in gl} for gl in genre_lists]
        self._genre_mat = mat
        # Genre-major copy: one genre's mask is a contiguous row (no column gather per request).
        self._genre_rows = np.ascontiguousarray(mat.T)
        self._genre_idx = {n: j for j, n in enumerate(names)}
        self._media = cat["media_type"].fillna("movie").astype(str).to_numpy(dtype=object)
        self.media_types: list[str] = sorted(set(self._media.tolist()))
        self._media_masks = {m: self._media == m for m in self.media_types}
        score = cat["score_final"] if "score_final" in cat.columns else pd.Series(0.0, index=cat.index)
        self._score_final = score.astype("float64").fillna(-1.0).to_numpy()
        # Stable cold-start order: score_final, then vote_count, then id (deterministic ties).
        votes = (cat["vote_count"] if "vote_count" in cat.columns else pd.Series(0.0, index=cat.index))
        self._votes = votes.astype("float64").fillna(0.0).to_numpy()
        self._cold_order = np.lexsort((self._ids, -self._votes, -self._score_final))

    def _build_model_side(self) -> None:
        """Align the ranker and SVD with catalogue positions; index the training ratings.

        Everything a request needs that does not depend on it is built here once: ranker
        column <-> catalogue position maps, the ranker items' genre combinations (for the
        taste blend), each known user's history as flat arrays (ids, ratings, catalogue
        positions, ranker columns, slices per user) and — within RECOMMEND_PRECOMPUTE_MB —
        every known user's blended scores, so a known user's list is a mask + argpartition.
        """
        b = self.bundle
        self.ranker = getattr(b, "ranker", None) if b is not None else None
        self.svd = getattr(b, "svd", None) if b is not None else None
        # The numpy fast path needs EASE's weight matrix; other rankers use the generic code.
        self._ease = (self.ranker is not None and hasattr(self.ranker, "weights")
                      and hasattr(self.ranker, "history_vector") and hasattr(self.ranker, "contributions"))
        # Ranker column -> catalogue position (-1: the item has no catalogue row, never shown).
        if self.ranker is not None:
            rk_ids = np.asarray(self.ranker.item_ids, dtype="int64")
            self._rk_to_cat = self._positions(rk_ids)
            self._rk_ok = self._rk_to_cat >= 0
            self._rk_cat_safe = np.maximum(self._rk_to_cat, 0)
            self._rk_ids = rk_ids
            self._rk_pos_of = dict(zip(rk_ids.tolist(), range(len(rk_ids))))
            # Genres of the ranker's items (no catalogue row: no genres) for the taste blend.
            self._rk_genres = np.zeros((len(self._rk_to_cat), len(self.genres)), dtype=bool)
            self._rk_genres[self._rk_ok] = self._genre_mat[self._rk_to_cat[self._rk_ok]]
            # Items share few distinct genre sets: the affinity max over an item's genres is
            # computed once per set and gathered (exact: a max involves no rounding).
            combos, self._rk_combo = np.unique(self._rk_genres, axis=0, return_inverse=True)
            self._rk_combo = self._rk_combo.ravel()
            self._combo_genres = combos
            self._rk_genres_f = self._rk_genres.astype("float64")
            self._offset = float(getattr(self.ranker, "params", {}).get("score_offset", EASE_SCORE_OFFSET))
        self._svd_items = None
        if self.svd is not None:
            from src.models.foldin import svd_items

            self._svd_items = svd_items(self.svd)
            self._svd_pos = pd.Index(self._svd_items.item_ids)
            # SVD item -> catalogue position (-1: no catalogue row), so a request only gathers.
            self._svd_to_cat = self._positions(self._svd_items.item_ids)
        tr = getattr(b, "train_ratings", None) if b is not None else None
        self._user_scores = None
        if tr is not None and len(tr):
            # A later duplicate (same user+item) wins, as in the ranker's fit and in seen().
            tr = (tr[[USER_COL, ITEM_ID_COL, RATING_COL]]
                  .drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
                  .sort_values(USER_COL, kind="stable"))
            users = tr[USER_COL].to_numpy("int64")
            self._user_ids, starts = np.unique(users, return_index=True)
            self._user_starts = np.append(starts, len(users))
            self._tr_items = tr[ITEM_ID_COL].to_numpy("int64")
            self._tr_ratings = tr[RATING_COL].to_numpy("float64")
            self._tr_cat = self._positions(self._tr_items)
            counts = pd.Series(self._tr_items).value_counts()
            self._n_ratings = counts.reindex(self._ids).fillna(0).to_numpy("float64")
            if self._ease:
                self._tr_rk = self.ranker.positions(self._tr_items).astype("int64")
                self._precompute_user_scores(np.repeat(np.arange(len(self._user_ids)), np.diff(self._user_starts)))
        else:
            self._user_ids = np.empty(0, dtype="int64")
            self._n_ratings = np.zeros(len(self._ids))

    def _precompute_user_scores(self, user_rows: np.ndarray) -> None:
        """Blended EASE scores (users × ranker items, float32) of every known user.

        The same computation as a request (history weights · B, then the genre-affinity
        blend) batched like ``topn_eval`` does; skipped when it would exceed
        RECOMMEND_PRECOMPUTE_MB (requests then compute their row on the fly).
        """
        import scipy.sparse as sp

        n_users, n_rk = len(self._user_ids), len(self._rk_ids)
        need_mb = n_users * n_rk * 4 / 2**20
        if need_mb > RECOMMEND_PRECOMPUTE_MB:
            log.info("known users' scores not precomputed: %.0f MB > RECOMMEND_PRECOMPUTE_MB=%d",
                     need_mb, RECOMMEND_PRECOMPUTE_MB)
            return
        ok = self._tr_rk >= 0
        w = np.clip(self._tr_ratings[ok] - self._offset, 0.0, None).astype("float32")
        x = sp.csr_matrix((w, (user_rows[ok], self._tr_rk[ok])), shape=(n_users, n_rk), dtype="float32")
        x.eliminate_zeros()
        out = np.empty((n_users, n_rk), dtype="float32")
        with timed(log, f"precomputing scores of {n_users} known users ({need_mb:.0f} MB)"):
            for lo in range(0, n_users, _PRECOMPUTE_CHUNK):
                part = x[lo:lo + _PRECOMPUTE_CHUNK]
                cf = np.asarray(part @ self.ranker.weights, dtype="float32")
                out[lo:lo + _PRECOMPUTE_CHUNK] = blend_genre_affinity(
                    cf, part.toarray(), self._rk_genres, GENRE_AFFINITY_WEIGHT)
        self._user_scores = out

    # ------------------------------------------------------------------ validation
    def _check_n(self, n) -> int:
        """n must be an int in 1..MAX_N (ValueError naming ``n`` otherwise)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
            raise ValueError(f"n must be an integer in 1..{MAX_N}, got {n!r}")
        return int(n)

    def _mask(self, genres: Iterable[str] | None, media_type: str | None) -> np.ndarray:
        """Boolean catalogue mask: titles in ANY of ``genres`` and of ``media_type``.

        Unknown genre names or media types raise ValueError naming them. The mask is cached
        per filter and read-only: callers combine it into new arrays, never in place.
        """
        return self._filter(genres, media_type)[0]

    def _filter(self, genres: Iterable[str] | None, media_type: str | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(catalogue mask, ranker-column mask or None) of a filter, built once per filter.

        The ranker mask is also False for ranker items without a catalogue row, so ranking
        in ranker space never returns a title that cannot be shown.
        """
        if isinstance(genres, str):
            genres = [genres]
        gkey = tuple(genres) if genres else ()
        key = (gkey, media_type)
        hit = self._filters.get(key)
        if hit is not None:
            return hit
        unknown = [g for g in gkey if g not in self._genre_idx]
        if unknown:
            raise ValueError(f"unknown genres: {unknown} (known: {', '.join(self.genres)})")
        if media_type is not None and media_type not in self._media_masks:
            raise ValueError(f"unknown media_type {media_type!r} (known: {self.media_types})")
        if gkey:
            mask = np.logical_or.reduce(self._genre_rows[[self._genre_idx[g] for g in gkey]], axis=0)
        else:
            mask = np.ones(len(self._ids), dtype=bool)
        if media_type is not None:
            mask &= self._media_masks[media_type]
        mask.flags.writeable = False
        rk_mask = None
        if self.ranker is not None and self._ease:
            rk_mask = mask[self._rk_cat_safe] & self._rk_ok
            rk_mask.flags.writeable = False
        if len(self._filters) >= _FILTER_CACHE_SIZE:  # bounded: clients choose the filters
            self._filters.clear()
        self._filters[key] = (mask, rk_mask)
        return mask, rk_mask

    def _clean_ratings(self, ratings: Mapping | None, name: str = "ratings") -> dict[int, float]:
        """Validate {item id: rating}: int ids known to the catalogue or model, ratings in scale."""
        if ratings is None:
            return {}
        if not isinstance(ratings, Mapping):
            raise ValueError(f"{name} must be a mapping of item id to rating, got {type(ratings).__name__}")
        out: dict[int, float] = {}
        lo, hi = RATING_SCALE
        for k, v in ratings.items():
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
                raise ValueError(f"{name}: item id {k!r} must be an int")
            try:
                r = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: rating of item {k} is not a number: {v!r}") from None
            if not lo <= r <= hi:
                raise ValueError(f"{name}: rating of item {k} must be in {lo}..{hi}, got {v!r}")
            out[int(k)] = r
        unknown = [k for k in out if k not in self._pos_of and not self._in_model(k)]
        if unknown:
            raise ValueError(f"{name}: unknown movie ids {unknown[:10]}")
        return out

    def _in_model(self, item_id: int) -> bool:
        """Whether the ranker or SVD knows ``item_id`` (rated titles may lack a catalogue row)."""
        if self.ranker is not None and self.ranker.positions([item_id])[0] >= 0:
            return True
        return self._svd_items is not None and self._svd_pos.get_indexer([item_id])[0] >= 0

    # ------------------------------------------------------------------ users
    def _user_row(self, user_id: int) -> int:
        """Row of a known user in the precomputed arrays, -1 for an unknown one."""
        uid = int(user_id)
        i = int(np.searchsorted(self._user_ids, uid))
        return i if i < len(self._user_ids) and self._user_ids[i] == uid else -1

    def known_user(self, user_id: int) -> bool:
        """True when the user has ratings in the training data of the loaded model."""
        return self._user_row(user_id) >= 0

    def seen(self, user_id: int) -> dict[int, float]:
        """The user's training ratings {item id: rating} (empty for an unknown user)."""
        i = self._user_row(user_id)
        if i < 0:
            return {}
        s, e = self._user_starts[i], self._user_starts[i + 1]
        return dict(zip(self._tr_items[s:e].tolist(), self._tr_ratings[s:e].tolist()))

    # ------------------------------------------------------------------ scoring core
    def _rk_positions(self, ids: np.ndarray) -> np.ndarray:
        """Ranker columns of a few raw ids (-1: unknown to the ranker)."""
        get = self._rk_pos_of.get
        return np.fromiter((get(i, -1) for i in ids.tolist()), dtype="int64", count=len(ids))

    def _history(self, row: int, extra: Mapping[int, float] | None = None) -> _History:
        """A viewer's history: the known user ``row``'s training ratings (row -1: none) with
        ``extra`` {item id: rating} added; an extra rating wins over a training one."""
        if row >= 0:
            s, e = self._user_starts[row], self._user_starts[row + 1]
            ids, r, cat = self._tr_items[s:e], self._tr_ratings[s:e], self._tr_cat[s:e]
            rk = self._tr_rk[s:e] if self._ease else None
        else:
            ids, r, cat = np.empty(0, dtype="int64"), np.empty(0), np.empty(0, dtype="int64")
            rk = np.empty(0, dtype="int64") if self._ease else None
        if not extra:
            return _History(ids, r, cat, rk, row)
        ex_ids = np.fromiter(extra.keys(), dtype="int64", count=len(extra))
        ex_r = np.fromiter(extra.values(), dtype="float64", count=len(extra))
        keep = ~np.isin(ids, ex_ids)
        return _History(np.concatenate([ids[keep], ex_ids]), np.concatenate([r[keep], ex_r]),
                        np.concatenate([cat[keep], self._positions(ex_ids)]),
                        np.concatenate([rk[keep], self._rk_positions(ex_ids)]) if self._ease else None)

    def _weighted(self, h: _History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices into ``h``, ranker columns and float32 weights of the history items that
        pull in EASE (known to the ranker, weight max(r − offset, 0) > 0), by column."""
        idx = np.flatnonzero(h.rk >= 0)
        w = np.clip(h.ratings[idx] - self._offset, 0.0, None).astype("float32")
        idx, w = idx[w > 0], w[w > 0]
        order = np.argsort(h.rk[idx], kind="stable")  # ascending columns, as x[nz] @ B[nz]
        return idx[order], h.rk[idx[order]], w[order]

    def _rk_scores(self, h: _History) -> np.ndarray:
        """Blended EASE scores over ranker columns for one history (precomputed row when the
        history is a known user's training ratings): cf/max(cf) + β·genre affinity."""
        if h.row >= 0 and self._user_scores is not None:
            return self._user_scores[h.row]
        _, cols, w = self._weighted(h)
        # Only the history's rows of B matter: |history| × n_items work instead of n_items².
        cf = w @ self.ranker.weights[cols] if len(cols) else np.zeros(len(self._rk_ids), dtype="float32")
        beta = GENRE_AFFINITY_WEIGHT
        if beta == 0 or len(self.genres) == 0:
            return cf
        # topn.blend_genre_affinity for one row, on the history's rows only: the weighted
        # genre share of the history, then each item's best share among its genres.
        share = (w.astype("float64") @ self._rk_genres_f[cols]) / max(float(w.sum(dtype="float64")), 1e-12)
        aff = np.where(self._combo_genres, share[None, :], 0.0).max(axis=1)[self._rk_combo]
        cf64 = cf.astype("float64")
        top = float(cf64.max())
        scale = top if np.isfinite(top) and top > 0 else 1.0
        return cf64 / scale + beta * aff

    def _cf_scores(self, history: Mapping[int, float] | _History) -> np.ndarray:
        """Ranker scores over catalogue positions (-inf where the ranker cannot score)."""
        out = np.full(len(self._ids), -np.inf)
        if self.ranker is None or not len(history):
            return out
        if self._ease:
            h = history if isinstance(history, _History) else self._history(-1, history)
            s = self._rk_scores(h)
        else:
            items = np.fromiter(history.keys(), dtype="int64", count=len(history))
            ratings = np.fromiter(history.values(), dtype="float64", count=len(history))
            s = self.ranker.score_history(items, ratings)
            if hasattr(self.ranker, "history_vector"):
                s = blend_genre_affinity(s, self.ranker.history_vector(items, ratings), self._rk_genres,
                                         GENRE_AFFINITY_WEIGHT)
        out[self._rk_to_cat[self._rk_ok]] = s[self._rk_ok]
        return out

    def _ease_ranked(self, h: _History, mask: np.ndarray, rk_mask: np.ndarray, n: int, genres,
                     exclude_seen: bool) -> tuple[np.ndarray, list, list[str]]:
        """The EASE list in ranker space: masks, argpartition, reasons for the n kept only.

        Out: (catalogue positions, scores, reasons), best first; backfilled from the cold
        chart when fewer than n titles can be scored.
        """
        scores = self._rk_scores(h)
        cand_mask = rk_mask
        if exclude_seen and len(h):
            seen_cols = h.rk[h.rk >= 0]
            if len(seen_cols):
                cand_mask = rk_mask.copy()
                cand_mask[seen_cols] = False
        cand = np.flatnonzero(cand_mask)
        sc = scores[cand]
        finite = np.isfinite(sc)
        if not finite.all():
            cand, sc = cand[finite], sc[finite]
        k = min(n, len(cand))
        if k:
            part = np.argpartition(-sc, k - 1)[:k] if k < len(cand) else np.arange(len(cand))
            order = np.lexsort((self._rk_ids[cand[part]], -sc[part]))  # ties: smaller id first
            top_rk, top_sc = cand[part[order]], sc[part[order]]
        else:
            top_rk, top_sc = np.empty(0, dtype="int64"), np.empty(0)
        top = self._rk_to_cat[top_rk]
        reasons = self._ease_reasons(h, top_rk)
        out_scores = top_sc.astype("float64").tolist()
        if len(top) < n:
            top, out_scores, reasons = self._backfill(h, mask, exclude_seen, top, out_scores, reasons, n, genres)
        return top, out_scores, reasons

    def _backfill(self, h: _History, mask: np.ndarray, exclude_seen: bool, top: np.ndarray,
                  out_scores: list, reasons: list[str], n: int, genres):
        """Fill a short list from the score_final chart (titles not taken, not seen)."""
        avail = mask.copy()
        if exclude_seen:
            avail[h.cat[h.cat >= 0]] = False
        avail[top] = False
        fill = self._cold_order[avail[self._cold_order]][: n - len(top)]
        return (np.concatenate([top, fill]).astype("int64"), out_scores + self._score_final[fill].tolist(),
                reasons + [self._cold_reason(p, genres) for p in fill])

    def _ease_reasons(self, h: _History, top_rk: np.ndarray) -> list[str]:
        """"because you rated Heat 5★": the history title adding most to each item's score.

        Contribution of history item j to item i is w_j·B[j, i]; only history titles with a
        catalogue row can be named. Computed for the returned items only (|history| × n).
        """
        if len(top_rk) == 0:
            return []
        named = h.cat >= 0
        if not named.any():
            return [_FALLBACK_REASON] * len(top_rk)
        idx, cols, w = self._weighted(h)
        keep = named[idx]
        idx, cols, w = idx[keep], cols[keep], w[keep]
        if len(idx) == 0:
            return [_FALLBACK_REASON] * len(top_rk)
        contrib = w[:, None] * self.ranker.weights[np.ix_(cols, top_rk)]
        arg = contrib.argmax(axis=0)
        vals = contrib[arg, np.arange(len(top_rk))]
        src = idx[arg]
        return [f"because you rated {self._titles[c]} {_fmt_stars(r)}" if v > 0 else _FALLBACK_REASON
                for v, c, r in zip(vals.tolist(), h.cat[src].tolist(), h.ratings[src].tolist())]

    def _svd_scores(self, history: dict[int, float], user_id: int | None) -> np.ndarray:
        """SVD predicted ratings over catalogue positions (NaN where the SVD lacks the item).

        A known user without new ratings uses their trained factors; anyone else is folded in.
        """
        out = np.full(len(self._ids), np.nan)
        if self._svd_items is None:
            return out
        from src.models.foldin import fold_in, known_user_factors, predict_ratings

        it = self._svd_items
        factors = known_user_factors(self.svd, user_id) if user_id is not None else None
        if factors is None:
            pos = self._svd_pos.get_indexer(np.fromiter(history.keys(), dtype="int64", count=len(history)))
            r = np.fromiter(history.values(), dtype="float64", count=len(history))
            factors = fold_in(it, pos[pos >= 0], r[pos >= 0])
        ok = self._svd_to_cat >= 0
        out[self._svd_to_cat[ok]] = predict_ratings(it, *factors)[ok]
        return out

    def _frame(self, pos: np.ndarray, scores: np.ndarray, reasons: list[str]) -> pd.DataFrame:
        """The output table for catalogue positions (columns OUTPUT_COLUMNS)."""
        pos = np.asarray(pos, dtype="int64")
        cols = self._col_arrays
        df = pd.DataFrame({
            "id": self._ids[pos],
            "title": cols["title"][pos],
            "year": cols["year"][pos],
            "genres": cols["genres"][pos],
            "media_type": cols["media_type"][pos],
            "score": np.asarray(scores, dtype="float64"),
            "reason": reasons,
        })
        return df.reset_index(drop=True)

    def _cold_reason(self, p: int, genres: list[str] | None) -> str:
        """'top Drama by score': the first requested genre the title has, else its own first."""
        names = genres or []
        for g in names:
            if self._genre_mat[p, self._genre_idx[g]]:
                return f"top {g} by score"
        own = np.flatnonzero(self._genre_mat[p])
        return f"top {self.genres[own[0]]} by score" if len(own) else "top title by score"

    def _top(self, scores: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
        """Positions of the n best finite scores within ``mask``, best first (ties: cold order)."""
        cand = np.flatnonzero(mask & np.isfinite(scores))
        if len(cand) == 0:
            return cand
        k = min(n, len(cand))
        part = cand[np.argpartition(-scores[cand], k - 1)[:k]]
        return part[np.lexsort((self._ids[part], -scores[part]))]

    def _ranked(self, history: dict[int, float], mask: np.ndarray, n: int, genres,
                user_id=None) -> tuple[np.ndarray, list, list[str]]:
        """Generic ranking (non-EASE ranker, or SVD prediction when no ranker) over catalogue
        positions, backfilled with the cold chart. Out: (positions, scores, reasons)."""
        if self.ranker is not None:
            scores = self._cf_scores(history)
        else:
            scores = self._svd_scores(history, user_id)
            scores = np.where(np.isnan(scores), -np.inf, scores)
        top = self._top(scores, mask, n)
        reasons = self._cf_reasons(history, top)
        out_scores = scores[top].tolist()
        if len(top) < n:  # not enough scorable titles: fill from the score_final chart
            taken = np.zeros(len(self._ids), dtype=bool)
            taken[top] = True
            fill = self._cold_order[(mask & ~taken)[self._cold_order]][: n - len(top)]
            top = np.concatenate([top, fill]).astype("int64")
            reasons += [self._cold_reason(p, genres) for p in fill]
            out_scores += self._score_final[fill].tolist()
        return top, out_scores, reasons

    def _cf_reasons(self, history: dict[int, float], top: np.ndarray) -> list[str]:
        """"because you rated Heat 5★": the history title adding most to each item's score."""
        if len(top) == 0:
            return []
        # Only history titles with a catalogue row can be named in a reason.
        named = {k: v for k, v in history.items() if k in self._pos_of}
        fallback = _FALLBACK_REASON
        if not named:
            return [fallback] * len(top)
        items = np.fromiter(named.keys(), dtype="int64", count=len(named))
        ratings = np.fromiter(named.values(), dtype="float64", count=len(named))
        if self.ranker is not None and hasattr(self.ranker, "contributions"):
            best, _ = self.ranker.contributions(items, ratings, self._ids[top])
        elif self._svd_items is not None:
            best = self._svd_neighbour(items, ratings, self._ids[top])
        else:
            return [fallback] * len(top)
        out = []
        for b in best.tolist():
            if b < 0:
                out.append(fallback)
            else:
                out.append(f"because you rated {self._titles[self._pos_of[b]]} "
                           f"{_fmt_stars(named[b])}")
        return out

    def _svd_neighbour(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Most similar liked history item to each target by SVD item-factor cosine (-1: none)."""
        it = self._svd_items
        hp, tp = self._svd_pos.get_indexer(items), self._svd_pos.get_indexer(targets)
        liked = (hp >= 0) & (ratings >= 3.5)
        best = np.full(len(targets), -1, dtype="int64")
        if not liked.any():
            return best
        q = it.qi / np.maximum(np.linalg.norm(it.qi, axis=1, keepdims=True), 1e-12)
        ok = tp >= 0
        sims = q[hp[liked]] @ q[tp[ok]].T
        best[ok] = items[liked][sims.argmax(axis=0)]
        return best

    # ------------------------------------------------------------------ public lists
    def _records(self, pos: np.ndarray, scores, reasons: list[str]) -> list[dict]:
        """Output rows as dicts (keys OUTPUT_COLUMNS) of plain Python values; year int|None."""
        ids, titles, years, genres, media = self._row_values
        return [{"id": ids[p], "title": titles[p], "year": years[p], "genres": genres[p],
                 "media_type": media[p], "score": float(sc), "reason": r}
                for p, sc, r in zip(np.asarray(pos, dtype="int64").tolist(), scores, reasons)]

    @staticmethod
    def _genre_names(genres) -> list[str] | None:
        """Genre filter as a list of names (a single string is one name), None when empty."""
        if isinstance(genres, str):
            return [genres]
        return list(genres) if genres else None

    def _recommend_core(self, user_id: int, genres, n, exclude_seen: bool, extra_ratings,
                        media_type) -> tuple[np.ndarray, list, list[str]]:
        """recommend() as (catalogue positions, scores, reasons)."""
        n = self._check_n(n)
        genres = self._genre_names(genres)
        mask, rk_mask = self._filter(genres, media_type)
        extra = self._clean_ratings(extra_ratings, "extra_ratings")
        row = self._user_row(user_id)
        if row < 0 and not extra:
            return self._cold_core(genres, n, media_type)
        h = self._history(row, extra)
        if self._ease:
            return self._ease_ranked(h, mask, rk_mask, n, genres, exclude_seen)
        if exclude_seen:
            mask = mask & ~self._history_mask(h)
        return self._ranked(h.as_dict(), mask, n, genres, user_id=None if extra else user_id)

    def recommend(self, user_id: int, genres: list[str] | None = None, n: int = 10,
                  exclude_seen: bool = True, extra_ratings: dict[int, float] | None = None,
                  media_type: str | None = None) -> pd.DataFrame:
        """Top-n titles for a user, optionally filtered by genres (any of) and media type.

        In: user id; genre names; n (1..MAX_N); whether to hide titles the user rated;
        ``extra_ratings`` {item id: rating} stored since training (win over training
        ratings); media type. Out: DataFrame[id, title, year, genres, media_type, score,
        reason]. An unknown user without extra ratings gets :meth:`cold_start`.
        """
        return self._frame(*self._recommend_core(user_id, genres, n, exclude_seen, extra_ratings, media_type))

    def recommend_rows(self, user_id: int, genres: list[str] | None = None, n: int = 10,
                       exclude_seen: bool = True, extra_ratings: dict[int, float] | None = None,
                       media_type: str | None = None) -> list[dict]:
        """:meth:`recommend` as a list of dicts (keys OUTPUT_COLUMNS, plain Python values).

        The API's hot path: same list, without building a DataFrame (~1 ms in pandas 3).
        """
        return self._records(*self._recommend_core(user_id, genres, n, exclude_seen, extra_ratings, media_type))

    def _history_mask(self, history: Mapping[int, float] | _History) -> np.ndarray:
        """Boolean catalogue mask of the titles in ``history``."""
        m = np.zeros(len(self._ids), dtype=bool)
        if isinstance(history, _History):
            pos = history.cat
        else:
            pos = self._positions(np.fromiter(history.keys(), dtype="int64", count=len(history)))
        m[pos[pos >= 0]] = True
        return m

    def _for_ratings_core(self, ratings, genres, n, media_type) -> tuple[np.ndarray, list, list[str]]:
        """recommend_for_ratings() as (catalogue positions, scores, reasons)."""
        n = self._check_n(n)
        genres = self._genre_names(genres)
        mask, rk_mask = self._filter(genres, media_type)
        history = self._clean_ratings(ratings)
        if not history:
            return self._cold_core(genres, n, media_type)
        h = self._history(-1, history)
        if self._ease:
            return self._ease_ranked(h, mask, rk_mask, n, genres, True)
        return self._ranked(history, mask & ~self._history_mask(h), n, genres)

    def recommend_for_ratings(self, ratings: dict[int, float], genres: list[str] | None = None,
                              n: int = 10, media_type: str | None = None) -> pd.DataFrame:
        """Top-n for a new viewer from their ratings alone (fold-in, no retraining).

        In: {item id: rating} (ids in the catalogue or model, ratings in the scale). Rated
        titles are never returned. Empty ratings give :meth:`cold_start`.
        """
        return self._frame(*self._for_ratings_core(ratings, genres, n, media_type))

    def recommend_for_ratings_rows(self, ratings: dict[int, float], genres: list[str] | None = None,
                                   n: int = 10, media_type: str | None = None) -> list[dict]:
        """:meth:`recommend_for_ratings` as a list of dicts (see :meth:`recommend_rows`)."""
        return self._records(*self._for_ratings_core(ratings, genres, n, media_type))

    def predicted_ratings(self, item_ids: Iterable[int], user_id: int | None = None,
                          ratings: Mapping[int, float] | None = None) -> pd.Series:
        """SVD predicted ratings (rating scale) of items for a known user or folded-in ratings.

        Out: Series indexed by item id; NaN where no SVD is loaded or it lacks the item.
        """
        history = {**(self.seen(user_id) if user_id is not None else {}), **self._clean_ratings(ratings)}
        ids = np.asarray(list(item_ids), dtype="int64")
        full = self._svd_scores(history, None if ratings else user_id)
        pos = self._positions(ids)
        vals = np.where(pos >= 0, full[np.maximum(pos, 0)], np.nan)
        return pd.Series(vals, index=pd.Index(ids, name=ID_COL), name="predicted_rating")

    def _cold_core(self, genres, n, media_type) -> tuple[np.ndarray, list, list[str]]:
        """cold_start() as (catalogue positions, scores, reasons)."""
        n = self._check_n(n)
        names = self._genre_names(genres)
        mask = self._mask(names, media_type)
        top = self._cold_order[mask[self._cold_order]][:n]
        return top, self._score_final[top].tolist(), [self._cold_reason(p, names) for p in top]

    def cold_start(self, genres: list[str] | None = None, n: int = 10,
                   media_type: str | None = None) -> pd.DataFrame:
        """The ``score_final`` chart within the filters; reason "top Drama by score"."""
        return self._frame(*self._cold_core(genres, n, media_type))

    def cold_start_rows(self, genres: list[str] | None = None, n: int = 10,
                        media_type: str | None = None) -> list[dict]:
        """:meth:`cold_start` as a list of dicts (see :meth:`recommend_rows`)."""
        return self._records(*self._cold_core(genres, n, media_type))

    def popular_titles(self, n: int = 20, genres: list[str] | None = None) -> pd.DataFrame:
        """Titles most viewers have rated (to seed a new viewer's ratings), by genre (any of).

        Order: number of training ratings, then vote_count, then score_final. Reason
        "rated by N viewers" (or "popular on TMDB" with no training data).
        """
        n = self._check_n(n)
        mask = self._mask(genres, None)
        order = np.lexsort((self._ids, -self._score_final, -self._votes, -self._n_ratings))
        top = order[mask[order]][:n]
        reasons = [f"rated by {int(c)} viewers" if c > 0 else "popular on TMDB"
                   for c in self._n_ratings[top]]
        return self._frame(top, self._n_ratings[top], reasons)

    # ------------------------------------------------------------------ content
    @property
    def content(self):
        """The TF-IDF index over ``text`` (built on first use, once, thread-safe)."""
        if self._content is None:
            with self._content_lock:
                if self._content is None:
                    from src.models.content import ContentIndex

                    text = (self.catalogue["text"] if "text" in self.catalogue.columns
                            else self.catalogue["title"].fillna("") + " " + self.catalogue["genres"].fillna(""))
                    self._content = ContentIndex(self._ids, text.fillna("").astype(str).tolist())
        return self._content

    def similar_titles(self, movie_id: int, n: int = 10, user_id: int | None = None) -> pd.DataFrame:
        """Titles like ``movie_id`` by TF-IDF cosine; with a known ``user_id``, a hybrid.

        Hybrid: the top ``HYBRID_CANDIDATES`` content neighbours the user has not rated are
        re-ranked by the user's CF score (titles the ranker cannot score keep content order
        after the scored ones). Unknown ``movie_id`` raises KeyError naming it.
        Out: DataFrame[id, title, year, genres, media_type, score, reason "similar to X"].
        """
        n = self._check_n(n)
        if isinstance(movie_id, bool) or not isinstance(movie_id, (int, np.integer)):
            raise ValueError(f"movie_id must be an int, got {movie_id!r}")
        p = self._pos_of.get(int(movie_id), -1)
        if p < 0:
            raise KeyError(f"unknown movie id {movie_id}")
        reason = f"similar to {self._titles[p]}"
        hybrid = user_id is not None and self.known_user(user_id) and self.ranker is not None
        ids, sims = self.content.similar(int(movie_id), max(n, HYBRID_CANDIDATES) if hybrid else n)
        pos = self._positions(ids)
        if not hybrid:
            return self._frame(pos[:n], sims[:n], [reason] * min(n, len(pos)))
        history = self._history(self._user_row(user_id)) if self._ease else self.seen(user_id)
        keep = ~self._history_mask(history)[pos]
        pos, sims = pos[keep], sims[keep]
        cf = self._cf_scores(history)[pos]
        # Scored titles first by CF score; unscored (-inf) ones after, still by similarity.
        order = np.lexsort((-sims, -np.where(np.isfinite(cf), cf, -np.inf)))[:n]
        return self._frame(pos[order], np.where(np.isfinite(cf[order]), cf[order], sims[order]),
                           [reason] * len(order))


def main(user_id: int, genres: list[str] | None = None, n: int = 10, paths: Paths = PATHS) -> pd.DataFrame:
    """Print the top-n table for ``user_id`` (cold start when unknown); return it."""
    rec = Recommender.load(paths)
    df = rec.recommend(int(user_id), genres=genres, n=n)
    who = "known user" if rec.known_user(user_id) else "unknown user: cold start"
    print(f"Top {len(df)} for user {user_id} ({who}; model {rec.model_version}):")
    with pd.option_context("display.max_colwidth", 60, "display.width", 160):
        # Years are float in the frame (NaN for undated titles); show them as whole years.
        shown = df.assign(score=df["score"].round(4), year=df["year"].astype("Int64"))
        print(shown.to_string(index=False))
    return df
