"""SLIM-style item-item ranker (an evaluation baseline: fitted and scored by the protocols, never served).

SLIM (Ning & Karypis, "SLIM: Sparse Linear Methods for Top-N Recommender Systems", ICDM 2011)
learns a sparse item×item matrix W with W >= 0 and diag(W) = 0 so that X ≈ X·W, one column
at a time: for item j,

    w_j = argmin_{w >= 0, w_j = 0}  1/(2·n_users)·‖x_j − X·w‖² + α·ρ·‖w‖₁ + α·(1 − ρ)/2·‖w‖²

(scikit-learn's ElasticNet objective: α = ``alpha``, ρ = ``l1_ratio``), with X the same binary
interaction matrix EASE is fitted on (1 where rating >= ``EASE_FIT_THRESHOLD``). A viewer
with history weights x (max(rating − offset, 0), as EASE) is scored s = x·W. Against EASE
(dense, closed form, signed weights) it measures what sparsity and non-negative weights cost
or buy on the same data.

Fast path (scikit-learn's ElasticNet docs): X is sparse CSC (coordinate descent walks
columns; ``precompute`` is ignored for sparse input), ``copy_X=False`` and
``fit(..., check_input=False)`` skip the per-column copy and validation. Column j may use only
the items that co-occur with it (feature selection, the paper's fsSLIM): with X >= 0 and
w >= 0 an item never rated with j has a gradient >= 0 at w = 0 and would get no weight
anyway, so this restriction is exact; ``SLIM_NEIGHBOURS`` (None by default) can further keep
only the most co-occurring ones (an approximation). Measured on ratings_small (reports/benchmarks.md, "Baseline
tuning on validation"): the exact fit on all 99,933 ratings (4,089 items) takes ~43 s on 2
shared cores; on the validation fit side a 200-neighbour cap took 9 s instead of 15 s but lost
NDCG@10 (0.158 vs 0.164). Cost grows with items × non-zeros of X: fine for ratings_small-sized
evaluation, not meant for a 45k-title catalogue (EASE's memory cap or ALS are the paths there).

Bounds: only items with >= ``SLIM_MIN_COUNT`` interactions are columns (at most
``SLIM_MAX_ITEMS``, most-interacted first); W is sparse (at most ``SLIM_NEIGHBOURS`` entries
per column when set), and the fit's worst-case peak (W's entries at ``SLIM_ENTRY_BYTES`` each plus one
``SLIM_BLOCK`` × n_items float64 block of co-occurrence counts) is checked against the dense-memory
budget before anything is allocated, keeping the most-interacted items that fit (the reason
is kept in ``params["memory_cap"]``, as EASE does).

:class:`SlimRanker` has the EASE ranker's scoring interface (``item_ids``, ``score_history``,
``score_users``, ``score_weight_rows``, ``pair_weights``, ``user_history``...).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.config import (
    DENSE_BUDGET_ENV,
    DENSE_MEMORY_FRACTION,
    EASE_FIT_THRESHOLD,
    EASE_SCORE_OFFSET,
    ITEM_ID_COL,
    SEED,
    SLIM_ALPHA,
    SLIM_BLOCK,
    SLIM_ENTRY_BYTES,
    SLIM_L1_RATIO,
    SLIM_MAX_ITEMS,
    SLIM_MAX_ITER,
    SLIM_MIN_COUNT,
    SLIM_NEIGHBOURS,
    SLIM_TOL,
    USER_COL,
)
from src.models.topn import HistoryRanker, _history_weights, _interaction_matrix, check_ratings_frame, eligible_items
from src.utils.errors import MemoryBudgetError
from src.utils.logging import get_logger, timed
from src.utils.memory import fmt_bytes, resolve_budget

log = get_logger(__name__)

__all__ = ["SlimRanker", "fit_slim", "slim_columns", "slim_peak_bytes", "slim_weights"]


@dataclass
class SlimRanker(HistoryRanker):
    """A fitted SLIM model: sparse item×item weights W (>= 0, zero diagonal) plus histories.

    Attributes: ``item_ids`` (int64 raw ids, column order), ``weights`` (W, CSR float32,
    n_items², row = history item, column = scored item), ``counts`` (interactions per item),
    ``user_ids`` (sorted known users), ``history`` (CSR users × items of training ratings),
    ``params``.
    """

    item_ids: np.ndarray
    weights: sp.csr_matrix = field(repr=False)
    counts: np.ndarray = field(repr=False)
    user_ids: np.ndarray = field(repr=False)
    history: sp.csr_matrix = field(repr=False)
    params: dict = field(default_factory=dict)

    def score_history(self, items, ratings) -> np.ndarray:
        """Scores over ``item_ids`` for one viewer's history: x·W (float32, n_items; history
        items are not masked here)."""
        x = sp.csr_matrix(self.history_vector(items, ratings)[None, :])
        return self.score_weight_rows(x)[0].astype("float32")

    def score_weight_rows(self, w: sp.csr_matrix) -> np.ndarray:
        """Scores (rows × n_items, float64) of history-weight rows: w · W."""
        return np.asarray((sp.csr_matrix(w) @ self.weights).toarray(), dtype="float64")

    def pair_weights(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """How much history column ``rows[a]`` pulls target column ``cols[b]``: W[rows, cols]."""
        return self.weights[np.asarray(rows)][:, np.asarray(cols)].toarray()

    def score_users(self, user_ids) -> np.ndarray:
        """Batch scores (len(user_ids) × n_items, float32) of known users from their training
        ratings; ValueError naming ids the ranker never saw."""
        x = self.history[self._rows(user_ids)].copy()
        x.data = _history_weights(x.data, self.params.get("score_offset", EASE_SCORE_OFFSET))
        return (x @ self.weights).toarray().astype("float32")


def slim_weights(x: sp.spmatrix, alpha: float = SLIM_ALPHA, l1_ratio: float = SLIM_L1_RATIO,
                 neighbours: int | None = SLIM_NEIGHBOURS, max_iter: int = SLIM_MAX_ITER, tol: float = SLIM_TOL,
                 seed: int = SEED, block: int = SLIM_BLOCK) -> sp.csr_matrix:
    """W (n_items × n_items CSR float32, >= 0, zero diagonal) of SLIM for interactions ``x``.

    In: users × items non-negative matrix (binary or weighted), the ElasticNet penalty α and
    mix ρ, ``neighbours`` (column j may use only the items co-occurring most often with it;
    None = every co-occurring item, exact SLIM), coordinate-descent epochs and tolerance per
    column, the seed of the random coordinate order, and how many columns' co-occurrence
    counts are dense at once (``block`` × n_items float64). Out: column j of W regresses x_j
    on its candidate items (see the module doc).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet

    if alpha <= 0 or not 0 <= l1_ratio <= 1 or (neighbours is not None and neighbours < 1):
        raise ValueError(f"bad SLIM params: alpha={alpha!r} (> 0), l1_ratio={l1_ratio!r} (in [0, 1]), "
                         f"neighbours={neighbours!r} (>= 1 or None)")
    xc = sp.csc_matrix(x, dtype="float64", copy=True)
    xc.sort_indices()
    if xc.nnz and xc.data.min() < 0:
        raise ValueError("SLIM needs a non-negative interaction matrix")
    n_items = xc.shape[1]
    xt = xc.T.tocsr()
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False, copy_X=False,
                       precompute=False, selection="random", tol=tol, max_iter=max_iter, random_state=seed)
    rows, cols, vals = [], [], []
    with warnings.catch_warnings():
        # A few epochs per column is the point (a bounded baseline): sklearn warns on each
        # column that stops at max_iter before tol, thousands of identical lines.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for lo in range(0, n_items, max(int(block), 1)):
            hi = min(lo + max(int(block), 1), n_items)
            co = (xt @ xc[:, lo:hi]).toarray()           # co-occurrence of every item with the block
            co[np.arange(lo, hi), np.arange(hi - lo)] = 0.0   # item j may not explain itself
            for b, j in enumerate(range(lo, hi)):
                cand = np.flatnonzero(co[:, b] > 0)
                if neighbours is not None and len(cand) > neighbours:
                    cand = np.sort(cand[np.argpartition(-co[cand, b], neighbours - 1)[:neighbours]])
                if len(cand) == 0:
                    continue
                y = np.zeros(xc.shape[0], dtype="float64")
                y[xc.indices[xc.indptr[j]:xc.indptr[j + 1]]] = xc.data[xc.indptr[j]:xc.indptr[j + 1]]
                model.fit(xc[:, cand], y, check_input=False)
                keep = model.coef_ > 0
                rows.append(cand[keep])
                cols.append(np.full(int(keep.sum()), j, dtype="int64"))
                vals.append(model.coef_[keep].astype("float32"))
    r = np.concatenate(rows) if rows else np.empty(0, dtype="int64")
    c = np.concatenate(cols) if cols else np.empty(0, dtype="int64")
    v = np.concatenate(vals) if vals else np.empty(0, dtype="float32")
    return sp.csr_matrix((v, (r, c)), shape=(n_items, n_items), dtype="float32")


def slim_peak_bytes(n_items: int, neighbours: int | None = SLIM_NEIGHBOURS, block: int = SLIM_BLOCK) -> int:
    """Peak bytes of a SLIM fit over ``n_items`` columns: W's entries (at most ``neighbours``
    per column, all n_items without a cap) at SLIM_ENTRY_BYTES each, plus one co-occurrence
    block (``block`` × n_items float64)."""
    per_col = n_items if neighbours is None else min(int(neighbours), n_items)
    return int(n_items * per_col * SLIM_ENTRY_BYTES + min(block, n_items) * n_items * 8)


def slim_columns(ratings: pd.DataFrame, min_count: int = SLIM_MIN_COUNT, max_items: int = SLIM_MAX_ITEMS,
                 fit_threshold: float = EASE_FIT_THRESHOLD) -> pd.Series:
    """The item columns :func:`fit_slim` regresses (before any memory cap): ``{item: interactions}``
    of the items with >= ``min_count`` ratings >= ``fit_threshold``, most-interacted first, at most
    ``max_items``. One ElasticNet per column, so its length is what a fit costs."""
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    return eligible_items(df, min_count, max_items, fit_threshold)


def fit_slim(ratings: pd.DataFrame, alpha: float = SLIM_ALPHA, l1_ratio: float = SLIM_L1_RATIO,
             min_count: int = SLIM_MIN_COUNT, max_items: int = SLIM_MAX_ITEMS,
             fit_threshold: float = EASE_FIT_THRESHOLD, score_offset: float = EASE_SCORE_OFFSET,
             neighbours: int | None = SLIM_NEIGHBOURS, max_iter: int = SLIM_MAX_ITER,
             tol: float = SLIM_TOL, seed: int = SEED, memory_budget_mb: float | None = None) -> SlimRanker:
    """Fit the SLIM baseline on model-ready ratings.

    In: DataFrame[userId, itemId, rating, ...]; the ElasticNet α and ρ; ``min_count`` /
    ``max_items`` (the item set: items with >= min_count interactions, most-interacted first);
    the interaction threshold and history-weight offset (EASE's); ``neighbours`` (candidate
    items per column, None = all co-occurring); coordinate-descent epochs and tolerance; seed; ``memory_budget_mb`` (as :func:`src.models.topn.fit_ranker`). Out: a
    :class:`SlimRanker`; its ``history`` keeps every training rating of the kept items.
    Raises ValueError when no item has enough interactions, :class:`MemoryBudgetError` when
    not even one item fits the budget.
    """
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    keep = slim_columns(df, min_count, max_items, fit_threshold)
    if keep.empty:
        raise ValueError(f"no item has >= {min_count} ratings >= {fit_threshold}")
    budget = resolve_budget(memory_budget_mb, DENSE_BUDGET_ENV, DENSE_MEMORY_FRACTION)
    need = slim_peak_bytes(len(keep), neighbours)
    memory_cap = None
    if need > budget:
        fits = len(keep)
        while fits > 0 and slim_peak_bytes(fits, neighbours) > budget:
            fits = int(fits * 0.9)
        memory_cap = (f"SLIM needs ~{fmt_bytes(need)} for {len(keep)} items > memory budget "
                      f"{fmt_bytes(budget)}")
        if fits < 1:
            raise MemoryBudgetError(f"{memory_cap}; raise {DENSE_BUDGET_ENV}")
        memory_cap += f": kept the {fits} most-rated of {len(keep)} items"
        log.warning("%s", memory_cap)
        keep = keep.iloc[:fits]
    hist, users, items = _interaction_matrix(df[df[ITEM_ID_COL].isin(keep.index)])
    x = hist.copy()
    x.data = (x.data >= fit_threshold).astype("float32")
    x.eliminate_zeros()
    with timed(log, f"SLIM fit ({len(items)} items, {len(users)} users, α={alpha:g}, ρ={l1_ratio:g})"):
        w = slim_weights(x, alpha=alpha, l1_ratio=l1_ratio, neighbours=neighbours, max_iter=max_iter, tol=tol,
                         seed=seed)
    log.info("SLIM: %d non-zero weights (%.1f per item)", w.nnz, w.nnz / max(len(items), 1))
    return SlimRanker(item_ids=items.astype("int64"), weights=w, counts=keep.reindex(items).to_numpy("float64"),
                      user_ids=users.astype("int64"), history=hist,
                      params={"model": "slim", "alpha": float(alpha), "l1_ratio": float(l1_ratio),
                              "neighbours": None if neighbours is None else int(neighbours),
                              "min_count": int(min_count), "max_items": int(max_items),
                              "fit_threshold": float(fit_threshold), "score_offset": float(score_offset),
                              "max_iter": int(max_iter), "tol": float(tol), "seed": int(seed),
                              **({"memory_cap": memory_cap} if memory_cap else {})})
