"""Top-N rankers: EASE (the production model) and popularity (the baseline).

EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019) learns an item×item weight
matrix B from the implicit user×item matrix X (1 where the user rated the item):

    P = (XᵀX + λI)⁻¹,   B = I − P·diag(1 / diag(P))   (so diag(B) = 0)

and scores a user with history vector x as s = x·B. It has one hyper-parameter (λ), a
closed form (no epochs, no seed), and on MovieLens it beats both popularity and SVD
ranked by predicted rating by a wide margin under our protocol (numbers in
``references/recommending.md``). Because scoring needs only a history vector, a brand-new
viewer is "folded in" for free: ``score_history(items, ratings)`` is one vector×matrix product.

Rankers share one interface (the models contract): ``item_ids`` (raw ids, column order),
``score_history(items, ratings) -> scores over item_ids``, ``score_users(user_ids) -> 2-D``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp

from src.config import (
    DENSE_BUDGET_ENV,
    DENSE_MEMORY_FRACTION,
    EASE_BLAS_THREADS,
    EASE_BUSY_LOAD,
    EASE_DENSE_ITEMSIZE,
    EASE_DENSE_MATRICES,
    EASE_FIT_THRESHOLD,
    EASE_LAMBDA,
    EASE_MAX_ITEMS,
    EASE_MIN_COUNT,
    EASE_SCORE_OFFSET,
    ITEM_ID_COL,
    RATING_COL,
    USER_COL,
)
from src.models.ratings_data import id_codes
from src.utils.errors import MemoryBudgetError
from src.utils.logging import get_logger, timed
from src.utils.memory import check_dense, max_dense_items, resolve_budget

log = get_logger(__name__)

__all__ = ["EaseRanker", "PopularityRanker", "fit_ranker", "fit_popularity", "check_ratings_frame"]


def check_ratings_frame(ratings: pd.DataFrame) -> pd.DataFrame:
    """Validate a model-ready ratings frame; return it with int64 ids and float ratings.

    In: a frame with USER_COL, ITEM_ID_COL, RATING_COL. Out: a copy with those columns
    cast. Raises ValueError naming the column when it is missing, holds NaN, or is not
    numeric (string ids are refused rather than coerced so id kinds never silently mix).
    """
    if not isinstance(ratings, pd.DataFrame):
        raise ValueError(f"ratings must be a DataFrame, got {type(ratings).__name__}")
    out = {}
    for col in (USER_COL, ITEM_ID_COL, RATING_COL):
        if col not in ratings.columns:
            raise ValueError(f"ratings is missing column {col!r} (has {list(ratings.columns)})")
        s = ratings[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise ValueError(f"ratings column {col!r} must be numeric, got dtype {s.dtype}")
        if s.isna().any():
            raise ValueError(f"ratings column {col!r} holds {int(s.isna().sum())} missing values")
        out[col] = s.to_numpy(dtype="float64" if col == RATING_COL else "int64")
    if len(ratings) == 0:
        raise ValueError("ratings is empty")
    return pd.DataFrame(out, index=ratings.index)


def _history_weights(ratings: np.ndarray, offset: float) -> np.ndarray:
    """Scoring weight of each history rating: max(rating − offset, 0).

    Why: a 5★ should pull its neighbours harder than a 3★, and a 1★ not at all. On
    ratings_small this beats binary weights by ~0.02 NDCG@10 (references/recommending.md).
    """
    return np.clip(np.asarray(ratings, dtype="float64") - offset, 0.0, None).astype("float32")


@dataclass
class PopularityRanker:
    """Ranks every item by its number of ratings in training (the baseline)."""

    item_ids: np.ndarray
    counts: np.ndarray
    user_items: dict = field(repr=False, default_factory=dict)

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Scores over ``item_ids`` for any history: the (log) count, the same for everyone."""
        return np.log1p(self.counts).astype("float32")

    def score_users(self, user_ids) -> np.ndarray:
        """2-D (len(user_ids) × n_items) of popularity scores."""
        user_ids = np.asarray(user_ids)
        return np.tile(self.score_history(np.empty(0), np.empty(0)), (len(user_ids), 1))


class HistoryRanker:
    """What every top-N ranker shares: raw item ids <-> columns, history weights and the
    training histories of known users (``item_ids``, ``user_ids``, ``history``, ``params``
    are the subclass's fields). EASE and the ALS factor ranker (src.models.factor_ranker)
    derive from it, so the recommendation chain can call either."""

    def __post_init__(self) -> None:
        self._item_pos = pd.Index(self.item_ids)

    @property
    def n_items(self) -> int:
        """Number of items the ranker can score."""
        return len(self.item_ids)

    def positions(self, items) -> np.ndarray:
        """Column positions of raw item ids (-1 for ids the ranker does not know)."""
        return self._item_pos.get_indexer(np.asarray(items, dtype="int64"))

    def history_vector(self, items, ratings) -> np.ndarray:
        """The scoring vector x (n_items,) of one history; unknown items are ignored.

        In: raw item ids and their ratings (same length). Out: float32 weights.
        """
        items = np.asarray(items, dtype="int64")
        ratings = np.asarray(ratings, dtype="float64")
        if items.shape != ratings.shape:
            raise ValueError(f"items ({items.shape}) and ratings ({ratings.shape}) differ in length")
        pos = self.positions(items)
        ok = pos >= 0
        x = np.zeros(self.n_items, dtype="float32")
        x[pos[ok]] = _history_weights(ratings[ok], self.params.get("score_offset", EASE_SCORE_OFFSET))
        return x

    def user_history(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Training (item ids, ratings) of a known user; empty arrays for an unknown one."""
        row = np.searchsorted(self.user_ids, user_id)
        if row >= len(self.user_ids) or self.user_ids[row] != user_id:
            return np.empty(0, dtype="int64"), np.empty(0, dtype="float64")
        start, end = self.history.indptr[row], self.history.indptr[row + 1]
        return self.item_ids[self.history.indices[start:end]], self.history.data[start:end].astype("float64")

    def _rows(self, user_ids) -> np.ndarray:
        """History rows of known users; ValueError naming unknown ids."""
        user_ids = np.asarray(user_ids, dtype="int64")
        rows = np.minimum(np.searchsorted(self.user_ids, user_ids), len(self.user_ids) - 1)
        unknown = user_ids[self.user_ids[rows] != user_ids]
        if len(unknown):
            raise ValueError(f"unknown user ids: {unknown[:10].tolist()}")
        return rows


@dataclass
class EaseRanker(HistoryRanker):
    """A fitted EASE model: item×item weights plus the training histories.

    Attributes: ``item_ids`` (int64 raw ids, column order), ``weights`` (B, float32,
    n_items²), ``counts`` (ratings per item in training), ``user_ids`` (sorted known
    users), ``history`` (CSR users×items of training ratings, 0 = not rated), ``params``.
    """

    item_ids: np.ndarray
    weights: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    user_ids: np.ndarray = field(repr=False)
    history: sp.csr_matrix = field(repr=False)
    params: dict = field(default_factory=dict)

    def score_history(self, items, ratings) -> np.ndarray:
        """Scores over ``item_ids`` for one viewer's history (fold-in of any viewer).

        In: raw item ids and ratings of the history. Out: float32 (n_items,) — higher is
        better; items in the history are not masked here (the caller decides).
        """
        x = self.history_vector(items, ratings)
        nz = np.flatnonzero(x)
        # Only the history's rows of B matter: |history| × n_items work instead of n_items².
        return x[nz] @ self.weights[nz] if len(nz) else np.zeros(self.n_items, dtype="float32")

    def contributions(self, items, ratings, target_items) -> tuple[np.ndarray, np.ndarray]:
        """For each target item, the history item that adds most to its score.

        In: history ids/ratings, target raw ids. Out: (best history item id per target,
        its contribution x_j·B[j, i]); id -1 when nothing in the history contributes.
        Used for reasons like "because you rated Heat 5★".
        """
        x = self.history_vector(items, ratings)
        hist_pos = np.flatnonzero(x)
        tpos = self.positions(target_items)
        best_id = np.full(len(tpos), -1, dtype="int64")
        best_val = np.zeros(len(tpos), dtype="float32")
        if len(hist_pos) == 0:
            return best_id, best_val
        ok = tpos >= 0
        contrib = x[hist_pos, None] * self.weights[np.ix_(hist_pos, tpos[ok])]
        arg = contrib.argmax(axis=0)
        vals = contrib[arg, np.arange(contrib.shape[1])]
        ids = self.item_ids[hist_pos[arg]]
        best_id[ok] = np.where(vals > 0, ids, -1)
        best_val[ok] = vals
        return best_id, best_val

    def score_weight_rows(self, w: sp.csr_matrix) -> np.ndarray:
        """Scores (rows × n_items) of history-weight rows over the ranker's columns: w · B.

        The recommendation chain (src.models.pipeline.scorers) scores every request and batch
        through this, so any ranker offering it (and :meth:`pair_weights`) can serve."""
        return np.asarray(w @ self.weights)

    def pair_weights(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """How much history column ``rows[a]`` pulls target column ``cols[b]``: B[rows, cols]."""
        # a plain view of the (memory-mapped) weights: a np.memmap result wraps every later op
        return np.asarray(self.weights)[np.ix_(rows, cols)]

    def score_users(self, user_ids) -> np.ndarray:
        """Batch scores (len(user_ids) × n_items) for known users from their training ratings.

        Raises ValueError naming the ids the ranker never saw.
        """
        x = self.history[self._rows(user_ids)].copy()
        x.data = _history_weights(x.data, self.params.get("score_offset", EASE_SCORE_OFFSET))
        return np.asarray(x @ self.weights, dtype="float32")


def _inverse_threads() -> int | None:
    """BLAS threads for :func:`spd_inverse`: ``EASE_BLAS_THREADS``, or when 0 (auto) 1 thread
    while other work keeps the cores busy (see the constant's note) and BLAS's default else."""
    if EASE_BLAS_THREADS:
        return int(EASE_BLAS_THREADS)
    try:
        others = os.getloadavg()[0] - 1.0   # this process counts as one runnable task
    except OSError:   # no load average on this platform
        return None
    return 1 if others >= EASE_BUSY_LOAD else None


def spd_inverse(a: np.ndarray, block: int = 2048, threads: int | None = None) -> np.ndarray:
    """The inverse of a symmetric positive definite float32 matrix, computed in place in ``a``.

    LAPACK's Cholesky factor (``potrf``) then its inverse from the factor (``potri``): ~n³
    flops, where solving against an n × n identity (``cho_solve``) costs ~2.3 n³ and a second
    n² matrix (n = 6,000 on one busy core: 6.6–7.2 s against 13–15 s). ``potri`` writes one
    triangle; the other is mirrored in blocks (no n² temporary). Raises ``np.linalg.LinAlgError``
    when ``a`` is not positive definite. ``threads``: BLAS threads (None: :func:`_inverse_threads`).
    """
    from threadpoolctl import threadpool_limits

    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (a,))
    # a is symmetric, so its transpose (Fortran order, no copy) is a: LAPACK works in place.
    with threadpool_limits(threads or _inverse_threads(), "blas"):
        c, info = potrf(a.T, lower=False, overwrite_a=True, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError(f"matrix is not positive definite (potrf info {info})")
        inv, info = potri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix is singular (potri info {info})")
    n = inv.shape[0]
    for lo in range(0, n, block):   # the upper triangle holds the inverse: copy it below
        hi = min(lo + block, n)
        blk = inv[lo:hi, lo:hi]
        blk[np.tril_indices(hi - lo, -1)] = blk.T[np.tril_indices(hi - lo, -1)]
        inv[hi:, lo:hi] = inv[lo:hi, hi:].T
    return inv.T   # symmetric: the C-ordered view of the same memory (callers want rows)


class InverseBeside:
    """:func:`spd_inverse` of ``a`` in a spawned process, while the caller works on (the SVD fit).

    scipy's LAPACK wrappers hold the GIL, so a thread cannot overlap them with Python work;
    a process can. The matrix goes through a memory-mapped temp file (not /dev/shm, which
    containers often cap at 64 MB), the child inverts it there in place on 1 BLAS thread, and
    :meth:`result` reads the inverse back; the temp folder is removed either way. In: a
    symmetric positive definite float32 matrix (copied; the caller may drop it). Use as a
    context manager; ``result()`` raises what the child raised (e.g. LinAlgError).
    """

    def __init__(self, a: np.ndarray) -> None:
        import multiprocessing
        import tempfile
        from concurrent.futures import ProcessPoolExecutor

        self._dir = tempfile.TemporaryDirectory(prefix="streamrec-ease-")
        self._path = os.path.join(self._dir.name, "gram.npy")
        m = np.lib.format.open_memmap(self._path, mode="w+", dtype=a.dtype, shape=a.shape)
        m[...] = a
        m.flush()
        del m
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self._future = self._pool.submit(_invert_file, self._path)

    def result(self) -> np.ndarray:
        """The inverse (a fresh C-ordered array), after the child finished; ``seconds`` is then
        how long the child's inverse took."""
        self.seconds = float(self._future.result())
        return np.array(np.load(self._path, mmap_mode="r"), order="C")

    def close(self) -> None:
        """Stop the child's pool and remove the temp folder (safe to call twice)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._dir.cleanup()

    def __enter__(self) -> InverseBeside:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _invert_file(path: str) -> float:
    """In the child: invert the matrix stored at ``path`` in place (1 BLAS thread); out: seconds."""
    import time

    t0 = time.perf_counter()
    m = np.load(path, mmap_mode="r+")
    inv = spd_inverse(m, threads=1)
    if not np.shares_memory(inv, m):   # LAPACK worked on a copy: write the result back
        m[...] = inv
    m.flush()
    return time.perf_counter() - t0


def _interaction_matrix(df: pd.DataFrame):
    """Users×items CSR of ratings (last rating wins on duplicates) plus the id arrays."""
    # A later duplicate (same user+item, e.g. two movieIds mapped to one tmdbId) wins.
    df = df.drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    users, u_idx = id_codes(df[USER_COL].to_numpy())
    items, i_idx = id_codes(df[ITEM_ID_COL].to_numpy())
    mat = sp.csr_matrix((df[RATING_COL].to_numpy(dtype="float32"), (u_idx, i_idx)),
                        shape=(len(users), len(items)))
    mat.sort_indices()
    return mat, users, items


def fit_popularity(ratings: pd.DataFrame) -> PopularityRanker:
    """Fit the popularity baseline: items ranked by their count of ratings."""
    df = check_ratings_frame(ratings)
    counts = df[ITEM_ID_COL].value_counts()
    return PopularityRanker(item_ids=counts.index.to_numpy("int64"), counts=counts.to_numpy("float64"))


def eligible_items(ratings: pd.DataFrame, min_count: int = EASE_MIN_COUNT, max_items: int | None = EASE_MAX_ITEMS,
                   fit_threshold: float = EASE_FIT_THRESHOLD) -> pd.Series:
    """The item set an item-item model (EASE, SLIM) is fitted on, before any memory cap.

    In: ratings with one row per (user, item) (callers dedupe), the minimum number of
    interactions (ratings >= ``fit_threshold``), the cap (None: none). Out: ``{item id:
    interactions}`` of the items with at least ``min_count`` of them, most-interacted first,
    at most ``max_items``."""
    counts = ratings.loc[ratings[RATING_COL] >= fit_threshold, ITEM_ID_COL].value_counts()
    keep = counts[counts >= max(int(min_count), 1)]
    return keep if max_items is None else keep.iloc[:max_items]


def fit_ranker(ratings: pd.DataFrame, lam: float = EASE_LAMBDA, min_count: int = EASE_MIN_COUNT,
               max_items: int = EASE_MAX_ITEMS, fit_threshold: float = EASE_FIT_THRESHOLD,
               score_offset: float = EASE_SCORE_OFFSET,
               memory_budget_mb: float | None = None, blas_threads: int | None = None) -> EaseRanker:
    """Fit EASE on model-ready ratings (the production top-N model).

    In: DataFrame[userId, itemId, rating, ...]; λ (L2 on B); ``fit_threshold`` (a rating
    >= it is an interaction in X); ``min_count`` (items with fewer interactions are left
    out of the item set); ``max_items`` (keep at most the most-interacted ones: P is
    n_items² float32); ``score_offset`` (history weight max(rating − offset, 0) at scoring);
    ``memory_budget_mb`` (bytes the dense fit may take; default env ``DENSE_BUDGET_ENV`` or
    ``DENSE_MEMORY_FRACTION`` of available RAM): when the kept items' n² peak would not fit,
    only the most-interacted items that do are kept, with a logged reason that is also stored
    as ``params["memory_cap"]``; :class:`MemoryBudgetError` when not even one item fits;
    ``blas_threads`` for the dense inverse (None: :func:`_inverse_threads`).
    Out: a fitted :class:`EaseRanker`; its ``history`` keeps every training rating of the
    kept items (low ones too) so scoring sees the same histories as serving.
    Cost: one n_items² Gram product and one inverse from its Cholesky factor (ratings_small:
    ~4.8k items, a few seconds on 2 cores). Its two halves, :func:`ease_gram` and
    :func:`ease_from_inverse`, let ``invoke train`` run the inverse beside the SVD.
    """
    g = ease_gram(ratings, lam, min_count, max_items, fit_threshold, score_offset, memory_budget_mb)
    with timed(log, f"EASE inverse ({len(g.items)} items)"):
        p = spd_inverse(g.gram, threads=blas_threads)
    return ease_from_inverse(g, p)


@dataclass
class EaseGram:
    """EASE's inputs to the inverse and the parts of the ranker (:func:`ease_gram`)."""

    gram: np.ndarray | None   # G + λI, float32; spd_inverse inverts it in place
    hist: sp.csr_matrix       # users × kept items, every training rating of them
    users: np.ndarray
    items: np.ndarray
    counts: pd.Series         # positive interactions per item id
    params: dict


def ease_gram(ratings: pd.DataFrame, lam: float = EASE_LAMBDA, min_count: int = EASE_MIN_COUNT,
              max_items: int = EASE_MAX_ITEMS, fit_threshold: float = EASE_FIT_THRESHOLD,
              score_offset: float = EASE_SCORE_OFFSET, memory_budget_mb: float | None = None) -> EaseGram:
    """EASE's first half (arguments as :func:`fit_ranker`): the kept items, the interaction
    matrix and the regularised Gram matrix G + λI, checked against the memory budget first."""
    if lam <= 0:
        raise ValueError(f"lam must be > 0, got {lam!r}")
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    keep = eligible_items(df, min_count, max_items, fit_threshold)
    if keep.empty:
        raise ValueError(f"no item has >= {min_count} ratings >= {fit_threshold}")
    # Checked before anything n² is allocated: past the budget, keep the head that fits.
    budget = resolve_budget(memory_budget_mb, DENSE_BUDGET_ENV, DENSE_MEMORY_FRACTION)
    memory_cap = check_dense("EASE", len(keep), EASE_DENSE_MATRICES, EASE_DENSE_ITEMSIZE, budget)
    if memory_cap is not None:
        fits = max_dense_items(budget, EASE_DENSE_MATRICES, EASE_DENSE_ITEMSIZE)
        if fits < 1:
            raise MemoryBudgetError(f"{memory_cap}; raise {DENSE_BUDGET_ENV} or train with --engine implicit")
        memory_cap += f": kept the {fits} most-rated of {len(keep)} items"
        log.warning("%s", memory_cap)
        keep = keep.iloc[:fits]
    dropped = df[ITEM_ID_COL].nunique() - len(keep)
    df_kept = df[df[ITEM_ID_COL].isin(keep.index)]
    hist, users, items = _interaction_matrix(df_kept)
    log.info("EASE: %d ratings, %d users, %d items kept (%d dropped: < %d ratings >= %g or over %d "
             "items), λ=%g", len(df_kept), len(users), len(items), dropped, min_count, fit_threshold,
             max_items, lam)
    with timed(log, f"EASE Gram matrix ({len(items)} items)"):
        x = hist.copy()
        x.data = (x.data >= fit_threshold).astype("float32")
        x.eliminate_zeros()
        # Gram and inverse in float32: counts are exact in float32 and G + λI is well
        # conditioned (cond ≈ (λ_max + λ) / λ), so float32 halves time and memory for the
        # same top-N lists. Inverse via Cholesky: G + λI is symmetric positive definite.
        gram = (x.T @ x).toarray().astype("float32", copy=False)
        gram[np.diag_indices_from(gram)] += np.float32(lam)
    params = {"model": "ease", "lam": float(lam), "min_count": int(min_count), "max_items": int(max_items),
              "fit_threshold": float(fit_threshold), "score_offset": float(score_offset),
              **({"memory_cap": memory_cap} if memory_cap else {})}
    return EaseGram(gram=gram, hist=hist, users=users, items=items, counts=keep, params=params)


def ease_from_inverse(g: EaseGram, p: np.ndarray) -> EaseRanker:
    """EASE's second half: the ranker from P = (G + λI)⁻¹ (``spd_inverse(g.gram)``, which
    used the Gram's memory: ``g.gram`` is dropped). P becomes the weights in place."""
    g.gram = None
    # B = I − P·diag(1/diag(P)): column j divided by −P_jj, then a zero diagonal (in place).
    p /= -np.diag(p).copy()[None, :]
    p[np.diag_indices_from(p)] = 0.0
    weights = np.ascontiguousarray(p, dtype="float32")
    del p
    item_counts = g.counts.reindex(g.items).to_numpy("float64")
    return EaseRanker(item_ids=g.items.astype("int64"), weights=weights, counts=item_counts,
                      user_ids=g.users.astype("int64"), history=g.hist, params=g.params)
