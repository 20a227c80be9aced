"""The StreamRec recommender served by the CLI, the API and the UI.

:class:`Recommender` joins the catalogue (``features.parquet``) with the model bundle (SVD +
EASE ranker + training ratings) and asks the one chain of :mod:`src.models.pipeline`
(candidates -> scorers -> blend -> rank -> explain) for every list: a request is a batch of
one viewer, ``invoke evaluate`` asks :meth:`Recommender.recommend_batch` for all its users at
once, so what is measured is what is served. The content representation (TF-IDF over the
features ``text``) is built here at load from the catalogue, so a title added by
``invoke update`` is scored for every viewer as soon as the features have it.

Every list entry carries a catalogue row, a reason naming the chain step ("because you
rated Heat 5★", "similar to Heat, which you rated 5★", "top Drama in your genres") and the
SVD's ``predicted_rating`` (known users' trained factors, anyone else folded in).

Speed (the API's hot path): masks, id maps, every known user's history as flat arrays and
(within RECOMMEND_PRECOMPUTE_MB) every known user's ranked candidates
(:mod:`src.models.pipeline.known_lists`) are built at load, so a known user's request is a
mask lookup over that prefix + reasons for the n returned titles. A factor (ALS) model
skips that load-time ranking: known users' candidates come from the bundle's train-time
top-N table and folded-in viewers' from its ANN index, and the chain scores only those
(:mod:`src.models.pipeline.factor_candidates`).
``*_rows`` methods return plain dicts for the API (a pandas 3 DataFrame costs more than the
whole computation).

``main(user_id, genres, n, paths)`` prints a recommendation table (``invoke recommend``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from src.config import (
    EASE_SCORE_OFFSET,
    HYBRID_CANDIDATES,
    ID_COL,
    ITEM_ID_COL,
    MAX_N,
    PATHS,
    RATING_COL,
    RATING_SCALE,
    RECOMMEND_GENRE_DEPTH,
    RECOMMEND_PRECOMPUTE_DEPTH,
    RECOMMEND_PRECOMPUTE_MB,
    RECOMMEND_PRECOMPUTE_MIN_DEPTH,
    USER_COL,
    VIEWER_LISTS_CACHE,
    Paths,
)
from src.models.pipeline.blend import Step
from src.models.pipeline.candidates import CandidateSelector
from src.models.pipeline.chain import BlendParams, RecPipeline
from src.models.pipeline.explain import chart_reason, explain
from src.models.pipeline.factor_candidates import FactorCandidates
from src.models.pipeline.histories import Histories, build_histories, history_weights
from src.models.pipeline.known_lists import KnownLists, genre_shape
from src.models.ratings_data import ID_SPACE_MOVIELENS
from src.models.seen import SeenRatings
from src.utils.errors import StreamRecError
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["OUTPUT_COLUMNS", "IdSpaceError", "Recommender"]

OUTPUT_COLUMNS = ["id", "title", "year", "genres", "media_type", "score", "reason", "predicted_rating"]
_BATCH_CELLS = 2**20       # viewers × titles per chunk when scoring many at once: one float64 array
                           # of a chunk stays ~8 MB, in cache; 256 viewers at 59k titles (121 MB
                           # arrays) took 20 ms a viewer to rank, 16 viewers 6 ms (45k: 9.6 vs 7.8)


def _batch_rows(n_titles: int) -> int:
    """Viewers per scoring chunk at ``n_titles`` titles (8..256, ``_BATCH_CELLS`` cells)."""
    return int(np.clip(_BATCH_CELLS // max(int(n_titles), 1), 8, 256))


class IdSpaceError(StreamRecError, ValueError):
    """Ratings keyed by MovieLens movieIds met a catalogue keyed by TMDB ids."""


def check_id_space(ratings: pd.DataFrame | None, what: str = "ratings") -> None:
    """Refuse ratings whose items are MovieLens movieIds before any catalogue join.

    ``load_ratings`` records the id space in ``attrs["load_stats"]["id_space"]``; joining
    movieIds to a TMDB-keyed catalogue would silently give items another title's row.
    Raises :class:`IdSpaceError` naming the fix.
    """
    _refuse_movielens((getattr(ratings, "attrs", None) or {}).get("load_stats", {}).get("id_space"), what)


def _refuse_movielens(space: str | None, what: str) -> None:
    """IdSpaceError when ``space`` (a ``load_stats`` id space) is MovieLens movieIds."""
    if space == ID_SPACE_MOVIELENS:
        raise IdSpaceError(f"{what} use MovieLens movieIds but the catalogue is keyed by TMDB ids: "
                           f"pass the links file (movieId -> tmdbId) so items are mapped first")


class _Viewer:
    """One viewer's history as aligned arrays: raw ids, ratings, catalogue positions (-1: no
    row), ranker columns (-1: unknown) and the known user's row when the history is exactly
    their training ratings (its precomputed scores may be used), else -1."""

    __slots__ = ("cat", "ids", "ratings", "rk", "row")

    def __init__(self, ids, ratings, cat, rk, row: int = -1) -> None:
        self.ids, self.ratings, self.cat, self.rk, self.row = ids, ratings, cat, rk, row

    def __len__(self) -> int:
        return len(self.ids)


_DENSE_LOOKUP_MIN = 1_000_000   # ids looked up at once before a dense id -> position table pays
_DENSE_LOOKUP_SPAN = 1 << 25     # widest id range such a table may cover (int32: 128 MiB)


def _sorted_lookup(sorted_ids: np.ndarray, order: np.ndarray, ids) -> np.ndarray:
    """Positions of raw ``ids`` in an id array given as its sorted copy and argsort
    (``order``); -1 where an id is absent. Vectorised: no per-id dict probes.

    Millions of ids at once (the training ratings at load) over a compact id range go
    through a dense table (one gather per id, where a binary search over 60k ids cost
    ~1.5 s at 25M ratings); the result is the same."""
    ids = np.asarray(ids, dtype="int64")
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1, dtype="int64")
    lo, hi = int(sorted_ids[0]), int(sorted_ids[-1])
    if len(ids) >= _DENSE_LOOKUP_MIN and 0 <= lo and hi < _DENSE_LOOKUP_SPAN:
        table = np.full(hi + 1, -1, dtype="int64")
        table[sorted_ids] = order
        inside = (ids >= 0) & (ids <= hi)
        return np.where(inside, table[np.where(inside, ids, 0)], -1)
    at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == ids, order[at], -1)


def _compact_positions(pos: np.ndarray) -> np.ndarray:
    """Positions as int32 when they fit (half the memory of 25M training ratings' index)."""
    return pos.astype("int32") if len(pos) and int(pos.max(initial=-1)) < 2**31 - 1 else pos


def _from_cache(cached: Mapping | None):
    """(ContentIndex, derived arrays) from serving-cache arrays (:meth:`Recommender._cache_arrays`),
    or (None, None). The Recommender still checks the ids against its catalogue."""
    if not cached or "content_data" not in cached:
        return None, None
    import scipy.sparse as sp

    from src.models.content import ContentIndex

    shape = tuple(int(x) for x in cached["content_shape"])
    m = sp.csr_matrix((cached["content_data"], cached["content_indices"], cached["content_indptr"]),
                      shape=shape, copy=False)
    m.has_sorted_indices = True   # written sorted; read-only maps must not be re-sorted in place
    content = ContentIndex.from_matrix(cached["ids"], m)
    derived = {k: cached[k] for k in cached if k in ("tr_cat", "tr_rk") or k.startswith(("known_", "cmap_"))}
    return content, derived


def _by_user(tr: pd.DataFrame) -> pd.DataFrame:
    """Training ratings with one row per (user, item) (a later duplicate wins, as in the
    ranker's fit), stably sorted by user.

    A bundle's ratings are already unique and sorted (``load_ratings``), so both are checked
    on arrays first (a sort of one int64 key per pair — a hash set of 25M keys took 10 s —
    and one comparison pass) and the pandas
    ``drop_duplicates``/sort only run when needed: at 25M ratings they were ~15 s of load.
    """
    u = tr[USER_COL].to_numpy("int64")
    if len(u) == 0:
        return tr
    uc = pd.factorize(u)[0].astype("int64")
    ic, items = pd.factorize(tr[ITEM_ID_COL].to_numpy("int64"))
    key = np.sort(uc * np.int64(len(items)) + ic, kind="stable")  # near-sorted: ~1 s at 25M
    if bool((key[1:] == key[:-1]).any()):
        tr = tr.drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
        u = tr[USER_COL].to_numpy("int64")
    if len(u) > 1 and not bool((u[1:] >= u[:-1]).all()):
        tr = tr.sort_values(USER_COL, kind="stable")
    return tr


class Recommender:
    """Top-N recommendations, fold-in, cold start and similar titles over one catalogue.

    Build with :meth:`load` (files of a workspace), :meth:`from_models` (fitted models, e.g.
    an evaluation split), or directly from a features frame and an optional bundle (any
    object with ``svd``, ``ranker``, ``train_ratings``).
    """

    def __init__(self, catalogue: pd.DataFrame, bundle=None, model_version: str | None = None,
                 params: BlendParams | None = None, content=None, derived: Mapping | None = None,
                 precompute: bool = True, build_lists: bool = False) -> None:
        """In: the features frame (column or index ``id``), an optional model bundle, its
        version, optional blend parameters (default ``src.config``), optionally a ready
        :class:`~src.models.content.ContentIndex` of this catalogue (evaluation reuses one)
        and ``derived`` arrays of this bundle × catalogue (:mod:`src.models.serving_cache`:
        the training ratings' catalogue positions ``tr_cat`` and ranker columns ``tr_rk``, the
        known users' lists ``known_*``: :meth:`.KnownLists.arrays`, the content map ``cmap_*``).
        ``precompute=False`` skips ranking every known user's candidates at build time (an
        evaluation that scores a sample of them: the lists are the same, scored on demand).
        A factor model's lists are only built with ``build_lists`` (``invoke warm``: minutes at
        full scale) or read from ``derived``; without them its known users take the candidate
        path (:mod:`.pipeline.factor_candidates`)."""
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
        self._pos_of = dict(zip(self._ids.tolist(), range(len(self._ids))))
        # Vectorised id -> position lookup (searchsorted: a get_indexer costs ~50 µs per call).
        self._id_order = np.argsort(self._ids, kind="stable")
        self._ids_sorted = self._ids[self._id_order]
        self._row_values = self._build_row_values(cat)
        # Plain arrays of the output columns: ~10× cheaper than slicing the frame per request.
        self._col_arrays = {c: cat[c].to_numpy() for c in ("title", "year", "genres", "media_type")}
        self._titles = self._row_values[1]
        self.selector = CandidateSelector(cat)
        self.genres: list[str] = self.selector.genres
        self.media_types: list[str] = self.selector.media_types
        self.platforms: list[str] = self.selector.platforms
        score = cat["score_final"] if "score_final" in cat.columns else pd.Series(0.0, index=cat.index)
        self._score_final = score.astype("float64").fillna(-1.0).to_numpy()
        votes = cat["vote_count"] if "vote_count" in cat.columns else pd.Series(0.0, index=cat.index)
        self._votes = votes.astype("float64").fillna(0.0).to_numpy()
        # Stable chart order: score_final, then vote_count, then id (deterministic ties).
        self._cold_order = np.lexsort((self._ids, -self._votes, -self._score_final))
        if content is not None and np.array_equal(content.item_ids, self._ids):
            self.content = content
        else:
            if content is not None:
                derived = None   # made for another catalogue: its positions are not ours
            self._build_content()
        self._build_model_side(params, derived, precompute, build_lists)
        log.info("recommender ready: %d titles, %d genres, model %s (ranker=%s, svd=%s, %d known users)",
                 len(cat), len(self.genres), self.model_version,
                 type(self.ranker).__name__ if self.ranker is not None else None,
                 self.svd is not None, len(self._user_ids))

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, paths: Paths = PATHS, build_lists: bool = False) -> Recommender:
        """Read ``paths.features`` and (when trained) the verified bundle ``paths.model_pointer`` names.

        ``build_lists``: rank a factor model's known users now when the serving cache lacks
        their lists (``invoke warm``) and write them there; a server start without it reads
        them from the cache or serves those users through their candidate sets.

        Without a bundle the recommender serves the catalogue only (cold start and content
        lists). Raises FileNotFoundError when the features file is missing and
        ``BundleIntegrityError`` when the pointed-to bundle is missing or fails its checks.
        """
        if not paths.features.exists():
            raise FileNotFoundError(f"features file not found: {paths.features} (run `invoke features`)")
        import hashlib
        import io

        from src.models import serving_cache
        from src.models.bundle import load_current

        with timed(log, "loading features"):
            raw = paths.features.read_bytes()   # hashed and parsed from the same bytes
            catalogue = pd.read_parquet(io.BytesIO(raw))
        with timed(log, "loading the model bundle"):
            bundle = load_current(paths)  # None: never trained; broken: BundleIntegrityError
        if bundle is None:
            log.warning("no model bundle at %s: serving cold-start lists only (run `invoke train`)",
                        paths.model_pointer)
        key = serving_cache.cache_key(getattr(bundle, "metadata", {}).get("manifest_sha256"),
                                      hashlib.sha256(raw).hexdigest())
        with timed(log, "reading the serving cache"):
            cached = serving_cache.read_cache(paths, key)
        content, derived = _from_cache(cached)
        rec = cls(catalogue, bundle=bundle, model_version=getattr(bundle, "version", None),
                  content=content, derived=derived, build_lists=build_lists)
        known_missing = rec._known is not None and not rec._known.from_cache
        if content is None or rec.content is not content or known_missing:   # missing, or made for other ids
            with timed(log, "writing the serving cache"):
                # A cache written without the lists (a factor model's server start) is replaced
                # once they are built.
                serving_cache.write_cache(paths, key, rec._cache_arrays(), replace=known_missing)
        return rec

    def _cache_arrays(self) -> dict[str, np.ndarray]:
        """What the serving cache keeps of this recommender (see :func:`_from_cache`): the
        catalogue ids, the TF-IDF matrix (sorted CSR arrays) and, with training ratings, their
        catalogue positions and ranker columns."""
        m = self.content.matrix.tocsr().copy()
        m.sort_indices()
        out = {"ids": self._ids, "content_data": m.data, "content_indices": m.indices,
               "content_indptr": m.indptr, "content_shape": np.asarray(m.shape, dtype="int64")}
        if len(self._tr_items):
            out.update(tr_cat=self._tr_cat, tr_rk=self._tr_rk)
        if self._known is not None:
            out.update({f"known_{k}": v for k, v in self._known.arrays().items()})
        cmap = self.pipeline.collab.map if self.pipeline.collab is not None else None
        if cmap is not None:
            p = self.pipeline.params
            out.update(cmap_data=cmap.data, cmap_indices=cmap.indices, cmap_indptr=cmap.indptr,
                       cmap_params=np.asarray([p.map_k, p.map_shrink], dtype="float64"))
        return out

    @classmethod
    def from_models(cls, catalogue: pd.DataFrame, train_ratings: pd.DataFrame, ranker=None, svd=None,
                    params: BlendParams | None = None, version: str = "evaluation",
                    content=None, precompute: bool = True, build_lists: bool = False) -> Recommender:
        """A recommender from fitted models without a bundle file (evaluation splits, notebooks);
        ``precompute=False``: no known users' lists at build; ``build_lists``: a factor
        model's too (see ``__init__``)."""
        from types import SimpleNamespace

        models = SimpleNamespace(svd=svd, ranker=ranker, train_ratings=train_ratings, version=version)
        return cls(catalogue, bundle=models, model_version=version, params=params, content=content,
                   precompute=precompute, build_lists=build_lists)

    @staticmethod
    def _build_row_values(cat: pd.DataFrame) -> tuple[list, ...]:
        """(ids, titles, years, genres, media types) as Python lists in catalogue order."""
        years = pd.to_numeric(cat["year"], errors="coerce").astype("float64").to_numpy()
        return (cat.index.to_numpy("int64").tolist(),
                cat["title"].fillna("").astype(str).tolist(),
                [None if y != y else int(y) for y in years.tolist()],
                cat["genres"].fillna("").astype(str).tolist(),
                cat["media_type"].fillna("movie").astype(str).tolist())

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        """Catalogue positions of raw ids (int64 array), -1 where the id has no catalogue row."""
        return _sorted_lookup(self._ids_sorted, self._id_order, ids)

    def _build_content(self) -> None:
        """The TF-IDF index over ``text`` (title + genres without it), in catalogue order."""
        from src.models.content import ContentIndex

        cat = self.catalogue
        text = (cat["text"] if "text" in cat.columns
                else cat["title"].fillna("") + " " + cat["genres"].fillna("").str.replace("|", " ", regex=False))
        self.content = ContentIndex(self._ids, text.fillna("").astype(str).tolist())

    def _build_model_side(self, params: BlendParams | None, derived: Mapping | None = None,
                          precompute: bool = True, build_lists: bool = False) -> None:
        """Index the training ratings, align the ranker/SVD with the catalogue, build the chain
        and either (factor ranker) its candidate sets — the bundle's top-N table and ANN index —
        or (within RECOMMEND_PRECOMPUTE_MB) every known user's ranked candidates. ``derived``:
        arrays of this bundle × catalogue from the serving cache (``tr_cat``, ``tr_rk``,
        ``known_*``, ``cmap_*``; what does not fit this recommender is rebuilt)."""
        b = self.bundle
        self.ranker = getattr(b, "ranker", None) if b is not None else None
        self.svd = getattr(b, "svd", None) if b is not None else None
        # A saved bundle's SeenRatings are used as arrays (below); its train_ratings property
        # would build a 25M-row frame on every access.
        tr = None if isinstance(getattr(b, "seen", None), SeenRatings) else (
            getattr(b, "train_ratings", None) if b is not None else None)
        check_id_space(tr, "the model's training ratings")
        # A bundle keeps its ratings as arrays (no frame attrs): the id space its training
        # ratings were loaded in is in its metadata (train_model records load_stats there).
        _refuse_movielens(((getattr(b, "metadata", None) or {}).get("data") or {}).get("load_id_space"),
                          "the model's training ratings")
        self._offset = float(getattr(self.ranker, "params", {}).get("score_offset", EASE_SCORE_OFFSET)) \
            if self.ranker is not None else EASE_SCORE_OFFSET
        rk_to_cat = None
        if self.ranker is not None:
            rk_ids = np.asarray(self.ranker.item_ids, dtype="int64")
            rk_to_cat = self._positions(rk_ids)
            # Sorted ids + their columns: vectorised lookups (a dict built and probed id by id
            # took seconds at load for 26M training ratings).
            self._rk_order = np.argsort(rk_ids, kind="stable")
            self._rk_sorted = rk_ids[self._rk_order]
        self._n_rk = len(self.ranker.item_ids) if self.ranker is not None else 0
        self._stars = None
        self._tr_items = np.empty(0, dtype="int64")
        if self.svd is not None:
            from src.models.pipeline.scorers import SvdStars

            self._stars = SvdStars(self.svd, self._ids, self._positions)
        seen = getattr(b, "seen", None) if b is not None else None
        if isinstance(seen, SeenRatings) and len(seen):
            # A saved bundle's training ratings are already one row per (user, item), grouped
            # by sorted user (SeenRatings checks the CSR): its arrays are the index as they are
            # (memory-mapped: shared by every process serving the bundle), where building a
            # frame and re-deriving them cost ~10 s at 25M ratings.
            self._user_ids = np.asarray(seen.user_ids, dtype="int64")
            self._user_starts = np.asarray(seen.indptr, dtype="int64")
            self._tr_items = np.asarray(seen.item_ids, dtype="int64")
            # Plain views of the memory maps (same pages): numpy's memmap wrapper costs ~5 µs per
            # slice, ~0.1 ms of a request's few slices and lookups.
            self._tr_ratings = np.asarray(seen.ratings)   # float32 when lossless; converted where used
        elif tr is not None and len(tr):
            tr = _by_user(tr[[USER_COL, ITEM_ID_COL, RATING_COL]])
            users = tr[USER_COL].to_numpy("int64")
            self._user_ids, starts = np.unique(users, return_index=True)
            self._user_starts = np.append(starts, len(users))
            self._tr_items = tr[ITEM_ID_COL].to_numpy("int64")
            self._tr_ratings = tr[RATING_COL].to_numpy("float64")
        if len(self._tr_items):
            cached = {k: v for k, v in (derived or {}).items() if len(v) == len(self._tr_items)}
            self._tr_cat = None if cached.get("tr_cat") is None else np.asarray(cached["tr_cat"])
            if self._tr_cat is None:
                self._tr_cat = _compact_positions(self._positions(self._tr_items))
            self._tr_rk = None if cached.get("tr_rk") is None else np.asarray(cached["tr_rk"])
            if self._tr_rk is None:
                self._tr_rk = _compact_positions(self._rk_positions(self._tr_items))
            ok = self._tr_cat >= 0
            self._n_ratings = np.bincount(self._tr_cat[ok], minlength=len(self._ids)).astype("float64")
            # Σ max(r − offset, 0) per title: how much it was liked (the popularity prior's counts).
            liked = np.bincount(self._tr_cat[ok], minlength=len(self._ids),
                                weights=history_weights(self._tr_ratings[ok], self._offset))
        else:
            self._user_ids = np.empty(0, dtype="int64")
            self._user_starts = np.zeros(1, dtype="int64")
            self._tr_items = self._tr_cat = self._tr_rk = np.empty(0, dtype="int64")
            self._tr_ratings = np.empty(0)
            self._n_ratings = np.zeros(len(self._ids))
            liked = np.zeros(len(self._ids))
        chart = np.clip(self._score_final, 0.0, None)
        self.pipeline = RecPipeline(self._ids, self.selector, self._n_ratings, self._cold_order, chart,
                                    ranker=self.ranker, rk_to_cat=rk_to_cat,
                                    content_matrix=self.content.matrix, params=params,
                                    liked_counts=liked, content_map=self._cached_map(derived, params))
        self._known: KnownLists | None = None
        self._factor: FactorCandidates | None = None
        self._viewer_lists: OrderedDict[bytes, KnownLists] = OrderedDict()   # see _prefix
        self._viewer_lock = threading.Lock()
        n_users = len(self._user_ids)
        # As deep as the memory budget allows for this many users, up to the configured depth:
        # a deeper prefix answers narrower filters without scoring the user in full.
        gshape = genre_shape(len(self.genres), len(self._ids), RECOMMEND_GENRE_DEPTH)
        fits = int(RECOMMEND_PRECOMPUTE_MB * 2**20 // max(n_users * KnownLists.nbytes_per_user(1), 1)) \
            - gshape[0] * gshape[1]
        depth = min(RECOMMEND_PRECOMPUTE_DEPTH, len(self._ids),
                    max(fits, min(RECOMMEND_PRECOMPUTE_MIN_DEPTH, len(self._ids))))
        need_mb = n_users * KnownLists.nbytes_per_user(depth, gshape) / 2**20
        self._batch = _batch_rows(len(self._ids))
        factor = hasattr(self.ranker, "build_top_table")
        if not (n_users and len(self._ids)):
            return
        if factor:
            # A factor model: known users' candidates come from the train-time top-N table and
            # anyone else's from the ANN index — what a request uses when no ranked list answers.
            with timed(log, "factor candidates (top-N table, ANN index)"):
                self._factor = FactorCandidates(self.pipeline, self.ranker, self._user_ids)
        if not precompute:
            log.info("known users' lists not precomputed (precompute=False): scored on demand")
        elif need_mb > RECOMMEND_PRECOMPUTE_MB:
            log.info("known users' lists not precomputed: %.0f MB > RECOMMEND_PRECOMPUTE_MB=%d",
                     need_mb, RECOMMEND_PRECOMPUTE_MB)
        else:
            cached = {k.removeprefix("known_"): v for k, v in (derived or {}).items() if k.startswith("known_")}
            self._known = KnownLists.from_arrays(cached, n_users, depth, len(self._ids), gshape) if cached else None
            if self._known is None and factor and not build_lists:
                # Ranking 162k users × 59k titles is ~15 min: not at a server start. The
                # candidate path answers (~10 ms a request) until `invoke warm` has built them.
                log.info("known users' lists of this factor model are not in the serving cache: "
                         "their requests use the candidate path until `invoke warm` builds them")
            elif self._known is None:
                with timed(log, f"ranking candidates of {n_users} known users ({need_mb:.0f} MB)"):
                    self._known = KnownLists(self.pipeline, self._known_histories, n_users, depth, self._batch,
                                             RECOMMEND_GENRE_DEPTH)

    def _cached_map(self, derived: Mapping | None, params: BlendParams | None):
        """The serving cache's CF -> new-title content map (:func:`.scorers.content_map`) when it
        was built with these parameters for this catalogue, else None (the chain builds it)."""
        d = derived or {}
        p = params or BlendParams()
        if self.ranker is None or "cmap_indptr" not in d or len(d["cmap_indptr"]) != len(self._ids) + 1 \
                or list(np.asarray(d.get("cmap_params", []), dtype="float64")) != [p.map_k, p.map_shrink]:
            return None
        import scipy.sparse as sp

        n = len(self._ids)
        m = sp.csr_matrix((d["cmap_data"], d["cmap_indices"], d["cmap_indptr"]), shape=(n, n), copy=False)
        m.has_sorted_indices = True   # written sorted; read-only maps must not be re-sorted in place
        return m

    # ------------------------------------------------------------------ histories
    def _rk_positions(self, ids: np.ndarray) -> np.ndarray:
        """Ranker columns of raw ids (-1: unknown to the ranker or no ranker)."""
        if self.ranker is None:
            return np.full(len(np.asarray(ids)), -1, dtype="int64")
        return _sorted_lookup(self._rk_sorted, self._rk_order, ids)

    def _known_histories(self, rows: np.ndarray) -> Histories:
        """Histories of known users (rows into the training index), one row each."""
        rows = np.asarray(rows, dtype="int64")
        lo, hi = self._user_starts[rows], self._user_starts[rows + 1]
        lengths = hi - lo
        # Every index lo..hi-1 of every row at once: position within the row + the row's start.
        starts = np.cumsum(lengths) - lengths
        take = np.arange(int(lengths.sum()), dtype="int64") - np.repeat(starts - lo, lengths)
        viewer = np.repeat(np.arange(len(rows)), lengths)
        return build_histories(viewer, self._tr_ratings[take], self._tr_cat[take],
                               self._tr_rk[take] if self.ranker is not None else None,
                               len(rows), len(self._ids), self._n_rk, self._offset)

    def _viewer_histories(self, v: _Viewer) -> Histories:
        """One viewer's Histories (a batch of one row)."""
        return build_histories(np.zeros(len(v), dtype="int64"), v.ratings, v.cat,
                               v.rk if self.ranker is not None else None, 1, len(self._ids),
                               self._n_rk, self._offset)

    def _viewer(self, row: int, extra: Mapping[int, float] | None = None) -> _Viewer:
        """The known user ``row``'s training ratings (row -1: none) with ``extra`` {id: rating}
        added; an extra rating wins over a training one."""
        s, e = (self._user_starts[row], self._user_starts[row + 1]) if row >= 0 else (0, 0)
        ids, r = self._tr_items[s:e], np.asarray(self._tr_ratings[s:e], dtype="float64")
        cat, rk = self._tr_cat[s:e], self._tr_rk[s:e]
        if not extra:
            return _Viewer(ids, r, cat, rk, row)
        ex_ids = np.fromiter(extra.keys(), dtype="int64", count=len(extra))
        ex_r = np.fromiter(extra.values(), dtype="float64", count=len(extra))
        keep = ~np.isin(ids, ex_ids)
        return _Viewer(np.concatenate([ids[keep], ex_ids]), np.concatenate([r[keep], ex_r]),
                       np.concatenate([cat[keep], self._positions(ex_ids)]),
                       np.concatenate([rk[keep], self._rk_positions(ex_ids)]))

    def _viewer_scores(self, v: _Viewer) -> tuple[Histories, np.ndarray, np.ndarray]:
        """(histories, 1 × titles scores, steps) of one viewer: the chain's full score row."""
        h = self._viewer_histories(v)
        s, st = self.pipeline.score(h)
        return h, s, st

    # ------------------------------------------------------------------ validation
    def _check_n(self, n) -> int:
        """n must be an int in 1..MAX_N (ValueError naming ``n`` otherwise)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
            raise ValueError(f"n must be an integer in 1..{MAX_N}, got {n!r}")
        return int(n)

    def _mask(self, genres, media_type, platforms=None) -> np.ndarray:
        """Read-only catalogue mask of a filter (ValueError naming an unknown value)."""
        return self.selector.mask(genres, media_type, platforms)

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
        in_int64 = -2**63 <= int(item_id) < 2**63   # other ids cannot be in an int64 id map
        if self.ranker is not None and in_int64 and self._rk_positions(np.array([item_id]))[0] >= 0:
            return True
        return self._stars is not None and int(item_id) in self._stars._svd_pos

    @staticmethod
    def _genre_names(genres) -> list[str] | None:
        """Genre filter as a list of names (a single string is one name), None when empty."""
        if isinstance(genres, str):
            return [genres]
        return list(genres) if genres else None

    # ------------------------------------------------------------------ users
    def _user_row(self, user_id) -> int:
        """Row of a known user in the training index, -1 for an unknown one (any int-like id)."""
        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            return -1
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
        return dict(zip(self._tr_items[s:e].tolist(), np.asarray(self._tr_ratings[s:e], dtype="float64").tolist()))

    # ------------------------------------------------------------------ the chain, one viewer
    def _personal(self, v: _Viewer, mask: np.ndarray, n: int, genres, exclude_seen: bool,
                  user_id: int | None, genre_only: bool = False) -> tuple[np.ndarray, list, list[str], list]:
        """One viewer's list through the chain: (positions, scores, reasons, predicted stars).
        ``genre_only``: ``mask`` is exactly "any of ``genres``" (no other filter)."""
        prefix = self._prefix(v) if exclude_seen else None
        hit = self._lookup(prefix[0], prefix[1], mask, n, genres if genre_only else None) \
            if prefix is not None else None
        if hit is not None:   # the viewer's ranked prefix decides the list (see known_lists)
            step = prefix[0].steps[prefix[1]]
            h = self._viewer_histories(v) if len(hit[0]) < n else None
            pos, sc, src = self.pipeline.fill(h, 0, *hit, mask, n) if h is not None \
                else (*hit, np.zeros(len(hit[0]), dtype="int8"))
        else:
            got = None
            if self._factor is not None:   # a factor model: score only the viewer's candidates
                h = self._viewer_histories(v)
                got = self._factor_rank(h, v.row, prefix, mask, n, exclude_seen)
            if got is not None:
                pos, sc, src, step = got
            else:
                h, scores, steps = self._viewer_scores(v)
                step = steps[0]
                pos, sc, src = self.pipeline.rank(h, scores, steps, mask, n, exclude_seen)[0]
        reasons = explain(self.pipeline, self._titles, self._n_ratings, step, pos, src, v.cat,
                          v.rk, v.ratings, self._offset, genres)
        stars = self._stars_for(pos, v, user_id)
        return pos, sc.tolist(), reasons, stars

    def _lookup(self, lists: KnownLists, row: int, mask: np.ndarray, n: int, genres: list[str] | None):
        """A ranked prefix's answer under ``mask`` (:meth:`.KnownLists.lookup`), else, for a
        genres-only filter (``genres``), the per-genre lists' (:meth:`.KnownLists.lookup_genres`)."""
        hit = lists.lookup(row, mask, n)
        if hit is None and genres:
            hit = lists.lookup_genres(row, self.selector.genre_index(genres), n, self._ids)
        return hit

    def _factor_rank(self, h: Histories, row: int, prefix: tuple[KnownLists, int] | None, mask: np.ndarray,
                     n: int, exclude_seen: bool = True):
        """A factor model's list of one viewer whose ranked prefix (if any) did not decide:
        from the prefix and the filter's other titles when the prefix is a known user's, else
        from their candidate sets; None when only the full row can (see factor_candidates)."""
        got = None
        if prefix is not None and row >= 0 and prefix[0] is self._known:
            lists = prefix[0]
            k = int(lists.length[row])
            got = self._factor.after_prefix(h, row, lists.pos[row, :k], lists.scores[row, :k], mask, n)
        return got if got is not None else self._factor.rank(h, row, mask, n, exclude_seen)

    def _prefix(self, v: _Viewer) -> tuple[KnownLists, int] | None:
        """The ranked prefix that decides viewer ``v``'s lists, as (lists, row), or None.

        A known user without new ratings: their row of the precomputed known lists. A viewer
        known by their ratings only (signed up, or a known user with ratings stored since
        training): a one-row :class:`KnownLists` computed by the same code on their first
        request and kept for their exact ratings (``VIEWER_LISTS_CACHE`` viewers, least
        recently used dropped), so the next request, whatever its filter and n, is a lookup
        (a factor model's too: at 59k titles that first full row, ~7 ms, costs about what
        its ANN candidate path does, ~6 ms, and every later request is a lookup).
        """
        if v.row >= 0:
            return (self._known, v.row) if self._known is not None else None
        if not VIEWER_LISTS_CACHE or not len(self._ids):
            return None
        order = np.argsort(v.ids, kind="stable")
        key = v.ids[order].tobytes() + np.asarray(v.ratings, dtype="float64")[order].tobytes()
        with self._viewer_lock:
            lists = self._viewer_lists.get(key)
            if lists is not None:
                self._viewer_lists.move_to_end(key)
                return lists, 0
        h = self._viewer_histories(v)
        lists = KnownLists(self.pipeline, lambda _rows: h, 1, RECOMMEND_PRECOMPUTE_DEPTH, 1, RECOMMEND_GENRE_DEPTH)
        with self._viewer_lock:
            self._viewer_lists[key] = lists
            while len(self._viewer_lists) > VIEWER_LISTS_CACHE:
                self._viewer_lists.popitem(last=False)
        return lists, 0

    def _stars_for(self, pos: np.ndarray, v: _Viewer | None, user_id: int | None) -> list:
        """SVD predicted stars of positions for a viewer (None entries without an SVD/viewer)."""
        if self._stars is None or v is None:
            return [None] * len(pos)
        bu, pu = self._stars.factors(user_id, v.ids, v.ratings)
        return [round(float(x), 4) for x in self._stars.stars(bu, pu, pos).tolist()]

    def _recommend_core(self, user_id, genres, n, exclude_seen, extra_ratings, media_type, platforms):
        """recommend() as (catalogue positions, scores, reasons, stars)."""
        n = self._check_n(n)
        genres = self._genre_names(genres)
        mask = self._mask(genres, media_type, platforms)
        extra = self._clean_ratings(extra_ratings, "extra_ratings")
        row = self._user_row(user_id)
        if row < 0 and not extra:
            return self._cold_core(genres, n, media_type, platforms)
        v = self._viewer(row, extra)
        return self._personal(v, mask, n, genres, exclude_seen, None if extra else int(user_id),
                              media_type is None and not platforms)

    def recommend(self, user_id: int, genres: list[str] | None = None, n: int = 10,
                  exclude_seen: bool = True, extra_ratings: dict[int, float] | None = None,
                  media_type: str | None = None, platforms: list[str] | None = None) -> pd.DataFrame:
        """Top-n titles for a user, optionally filtered by genres / platforms (any of) and media type.

        In: user id; genre names; n (1..MAX_N); whether to hide titles the user rated;
        ``extra_ratings`` {item id: rating} stored since training (win over training
        ratings); media type; platform names. Out: DataFrame[OUTPUT_COLUMNS]. An unknown
        user without extra ratings gets :meth:`cold_start`.
        """
        return self._frame(*self._recommend_core(user_id, genres, n, exclude_seen, extra_ratings,
                                                 media_type, platforms))

    def recommend_rows(self, user_id: int, genres: list[str] | None = None, n: int = 10,
                       exclude_seen: bool = True, extra_ratings: dict[int, float] | None = None,
                       media_type: str | None = None, platforms: list[str] | None = None) -> list[dict]:
        """:meth:`recommend` as a list of dicts (keys OUTPUT_COLUMNS, plain Python values)."""
        return self._records(*self._recommend_core(user_id, genres, n, exclude_seen, extra_ratings,
                                                   media_type, platforms))

    def _for_ratings_core(self, ratings, genres, n, media_type, platforms):
        """recommend_for_ratings() as (catalogue positions, scores, reasons, stars)."""
        n = self._check_n(n)
        genres = self._genre_names(genres)
        mask = self._mask(genres, media_type, platforms)
        history = self._clean_ratings(ratings)
        if not history:
            return self._cold_core(genres, n, media_type, platforms)
        return self._personal(self._viewer(-1, history), mask, n, genres, True, None,
                              media_type is None and not platforms)

    def recommend_for_ratings(self, ratings: dict[int, float], genres: list[str] | None = None,
                              n: int = 10, media_type: str | None = None,
                              platforms: list[str] | None = None) -> pd.DataFrame:
        """Top-n for a new viewer from their ratings alone (fold-in, no retraining).

        In: {item id: rating} (ids in the catalogue or model, ratings in the scale). Rated
        titles are never returned. Empty ratings give :meth:`cold_start`.
        """
        return self._frame(*self._for_ratings_core(ratings, genres, n, media_type, platforms))

    def recommend_for_ratings_rows(self, ratings: dict[int, float], genres: list[str] | None = None,
                                   n: int = 10, media_type: str | None = None,
                                   platforms: list[str] | None = None) -> list[dict]:
        """:meth:`recommend_for_ratings` as a list of dicts (see :meth:`recommend_rows`)."""
        return self._records(*self._for_ratings_core(ratings, genres, n, media_type, platforms))

    # ------------------------------------------------------------------ the chain, many viewers
    def recommend_batch(self, user_ids: Iterable[int], n: int = 10, genres: list[str] | None = None,
                        media_type: str | None = None, platforms: list[str] | None = None,
                        candidates: Iterable[int] | None = None) -> dict[int, list[int]]:
        """Top-n ids of many users at once (what ``invoke evaluate`` measures), seen titles hidden.

        The same chain and lookups as :meth:`recommend` (known users' ranked prefixes, or the
        same scoring in chunks where a prefix cannot decide); unknown users get the cold-start list. ``candidates``
        restricts the titles further (evaluation protocols: titles known before a time cut,
        or only the new titles). Out: {user: [ids]}.
        """
        n = self._check_n(n)
        genres = self._genre_names(genres)
        mask = self._mask(genres, media_type, platforms)
        genre_only = media_type is None and not platforms and candidates is None
        if candidates is not None:
            mask = mask & np.isin(self._ids, np.asarray(list(candidates), dtype="int64"))
        users = np.asarray(list(user_ids), dtype="int64")
        rows = np.array([self._user_row(u) for u in users.tolist()], dtype="int64")
        cold = self._cold_order[mask[self._cold_order]][:n]
        out = {int(u): self._ids[cold].tolist() for u in users[rows < 0].tolist()}
        known = np.flatnonzero(rows >= 0)
        misses = []
        for k in known.tolist():   # the same prefix lookup a request makes (see _personal)
            hit = self._lookup(self._known, int(rows[k]), mask, n, genres if genre_only else None) \
                if self._known is not None else None
            if hit is None and self._factor is not None:   # the same candidate path a request takes
                prefix = (self._known, int(rows[k])) if self._known is not None else None
                got = self._factor_rank(self._known_histories(rows[k:k + 1]), int(rows[k]), prefix, mask, n)
                if got is None:
                    misses.append(k)
                else:
                    out[int(users[k])] = self._ids[got[0]].tolist()
            elif hit is None:
                misses.append(k)
            elif len(hit[0]) < n:
                h = self._known_histories(rows[k:k + 1])
                out[int(users[k])] = self._ids[self.pipeline.fill(h, 0, *hit, mask, n)[0]].tolist()
            else:
                out[int(users[k])] = self._ids[hit[0]].tolist()
        misses = np.asarray(misses, dtype="int64")
        for lo in range(0, len(misses), self._batch):   # scored in full, in chunks
            part = misses[lo:lo + self._batch]
            h = self._known_histories(rows[part])
            scores, steps = self.pipeline.score(h)
            for k, (pos, _, _) in zip(part.tolist(), self.pipeline.rank(h, scores, steps, mask, n)):
                out[int(users[k])] = self._ids[pos].tolist()
        return out

    def predicted_ratings(self, item_ids: Iterable[int], user_id: int | None = None,
                          ratings: Mapping[int, float] | None = None) -> pd.Series:
        """SVD predicted stars of items for a known user and/or folded-in ratings.

        The same numbers as each list entry's ``predicted_rating`` (Surprise's ``predict``
        for a known user without new ratings). Out: Series indexed by item id; NaN where no
        SVD is loaded or the item has no catalogue row.
        """
        ids = np.asarray(list(item_ids), dtype="int64")
        pos = self._positions(ids)
        vals = np.full(len(ids), np.nan)
        extra = self._clean_ratings(ratings)
        row = self._user_row(user_id) if user_id is not None else -1
        if self._stars is not None and (row >= 0 or extra):
            v = self._viewer(row, extra)
            ok = pos >= 0
            vals[ok] = self._stars_for(pos[ok], v, None if extra or row < 0 else int(user_id))
        return pd.Series(vals, index=pd.Index(ids, name=ID_COL), name="predicted_rating")

    # ------------------------------------------------------------------ charts
    def _cold_core(self, genres, n, media_type, platforms=None):
        """cold_start() as (catalogue positions, scores, reasons, stars)."""
        n = self._check_n(n)
        names = self._genre_names(genres)
        mask = self._mask(names, media_type, platforms)
        top = self._cold_order[mask[self._cold_order]][:n]
        return (top, self._score_final[top].tolist(),
                [chart_reason(self.pipeline, int(p), names) for p in top], [None] * len(top))

    def cold_order_ids(self) -> np.ndarray:
        """Every catalogue id in chart order (score_final, vote_count, id): the cold-start list."""
        return self._ids[self._cold_order]

    def cold_start(self, genres: list[str] | None = None, n: int = 10, media_type: str | None = None,
                   platforms: list[str] | None = None) -> pd.DataFrame:
        """The ``score_final`` chart within the filters; reason "top Drama by score"."""
        return self._frame(*self._cold_core(genres, n, media_type, platforms))

    def cold_start_rows(self, genres: list[str] | None = None, n: int = 10, media_type: str | None = None,
                        platforms: list[str] | None = None) -> list[dict]:
        """:meth:`cold_start` as a list of dicts (see :meth:`recommend_rows`)."""
        return self._records(*self._cold_core(genres, n, media_type, platforms))

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
        return self._frame(top, self._n_ratings[top], reasons, [None] * len(top))

    def similar_titles(self, movie_id: int, n: int = 10, user_id: int | None = None) -> pd.DataFrame:
        """Titles like ``movie_id`` by TF-IDF cosine; with a known ``user_id``, a hybrid.

        Hybrid: the top ``HYBRID_CANDIDATES`` content neighbours the user has not rated are
        re-ranked by the user's blended chain score (unscored ones keep content order after
        the scored ones). Unknown ``movie_id`` raises KeyError naming it.
        """
        n = self._check_n(n)
        if isinstance(movie_id, bool) or not isinstance(movie_id, (int, np.integer)):
            raise ValueError(f"movie_id must be an int, got {movie_id!r}")
        p = self._pos_of.get(int(movie_id), -1)
        if p < 0:
            raise KeyError(f"unknown movie id {movie_id}")
        reason = f"similar to {self._titles[p]}"
        row = self._user_row(user_id) if user_id is not None else -1
        ids, sims = self.content.similar(int(movie_id), max(n, HYBRID_CANDIDATES) if row >= 0 else n)
        pos = self._positions(ids)
        if row < 0:
            return self._frame(pos[:n], sims[:n], [reason] * min(n, len(pos)), [None] * min(n, len(pos)))
        v = self._viewer(row)
        _, scores, steps = self._viewer_scores(v)
        keep = ~np.isin(pos, v.cat)
        pos, sims = pos[keep], sims[keep]
        s = scores[0, pos] if steps[0] != Step.CHART else np.full(len(pos), np.nan)
        ok = np.isfinite(s)
        order = np.lexsort((-sims, -np.where(ok, s, -np.inf)))[:n]
        pos = pos[order]
        return self._frame(pos, np.where(ok[order], s[order], sims[order]), [reason] * len(order),
                           self._stars_for(pos, v, int(user_id)))

    # ------------------------------------------------------------------ output
    def _records(self, pos: np.ndarray, scores, reasons: list[str], stars) -> list[dict]:
        """Output rows as dicts (keys OUTPUT_COLUMNS) of plain Python values; year int|None."""
        ids, titles, years, genres, media = self._row_values
        return [{"id": ids[p], "title": titles[p], "year": years[p], "genres": genres[p],
                 "media_type": media[p], "score": float(sc), "reason": r, "predicted_rating": st}
                for p, sc, r, st in zip(np.asarray(pos, dtype="int64").tolist(), scores, reasons, stars)]

    def _frame(self, pos: np.ndarray, scores, reasons: list[str], stars) -> pd.DataFrame:
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
            "reason": list(reasons),
            "predicted_rating": np.array([np.nan if s is None else s for s in stars], dtype="float64"),
        })
        return df.reset_index(drop=True)
