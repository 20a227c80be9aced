"""Factor ranker: implicit-feedback ALS item/user factors behind the EASE ranker's interface.

EASE needs an items² matrix, so past ~20k titles it cannot rank the whole catalogue on one
machine. Implicit ALS (Hu, Koren & Volinsky, ICDM 2008; the PyPI ``implicit`` library, which
parallelises the solve over users in C++) factorises the same interaction matrix X as EASE
(1 where rating >= the fit threshold) into item factors Y (n_items × f) and user factors,
in time and memory linear in the ratings — every rated title gets a vector and is rankable.

A viewer (known or new) is scored by solving their factor against the fixed Y — the same
least-squares step ALS trains with (implicit's ``recalculate_user``):

    p = (YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λI)⁻¹ Σ_j c_j y_j,   c_j = α for each liked item j

then s = Y·p. After the fit every known user's factor is recomputed with this exact solve, so
``score_users`` of a known user equals ``score_history`` of their training history.

:class:`FactorRanker` has exactly the EASE ranker's public methods (``item_ids``, ``n_items``,
``positions``, ``history_vector``, ``score_history``, ``contributions``, ``user_history``,
``history_weights``, ``score_users``), so any caller of :class:`~src.models.topn.EaseRanker`
can use it; it has no ``weights`` (there is no item×item matrix). Engines that train factors
elsewhere (Spark MLlib) build the same object with :func:`factor_ranker_from_factors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.config import (
    ALS_ALPHA,
    ALS_FACTORS,
    ALS_ITERATIONS,
    ALS_NUM_THREADS,
    ALS_REGULARIZATION,
    EASE_FIT_THRESHOLD,
    EASE_SCORE_OFFSET,
    EXTRA_MODULES,
    FACTOR_TOP_N,
    SCORE_BLOCK_BYTES,
    SEED,
)
from src.models.topn import HistoryRanker, _interaction_matrix, check_ratings_frame
from src.utils.extras import require_extra
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["FactorRanker", "fit_factor_ranker", "factor_ranker_from_factors", "confidence_matrix", "top_table"]


@dataclass
class FactorRanker(HistoryRanker):
    """Fitted item/user factors plus the training histories (the EASE ranker's interface).

    Attributes: ``item_ids`` (int64 raw ids, row order of ``item_factors``), ``item_factors``
    (float32 n_items × f), ``user_factors`` (float32 n_users × f, rows of ``user_ids``),
    ``counts`` (interactions per item), ``user_ids`` (sorted known users), ``history`` (CSR
    users × items of training ratings), ``params`` (engine, factors, reg, alpha, thresholds).
    Serving parts computed at train time (None until then, see :meth:`build_top_table`):
    ``top_items`` (int32 users × N ranker columns: each known user's N best unseen items by
    y·p, best first, -1 padding), ``top_scores`` (float32, their y·p) and ``ann_state`` (the
    HNSW index over ``item_factors`` as (arrays, meta), :meth:`.factor_ann.FactorAnn.state`).
    """

    item_ids: np.ndarray
    item_factors: np.ndarray = field(repr=False)
    user_factors: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    user_ids: np.ndarray = field(repr=False)
    history: sp.csr_matrix = field(repr=False)
    params: dict = field(default_factory=dict)
    top_items: np.ndarray | None = field(default=None, repr=False)
    top_scores: np.ndarray | None = field(default=None, repr=False)
    ann_state: tuple[dict, dict] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        # YᵀY in float64 once per model: each fold-in adds only the history's rows to it.
        y = np.asarray(self.item_factors, dtype="float64")
        self._yty = y.T @ y

    def _liked(self, items, ratings) -> np.ndarray:
        """Positions of the history's items the fit counts as interactions (rating >= threshold)."""
        items = np.asarray(items, dtype="int64")
        ratings = np.asarray(ratings, dtype="float64")
        if items.shape != ratings.shape:
            raise ValueError(f"items ({items.shape}) and ratings ({ratings.shape}) differ in length")
        pos = self.positions(items)
        keep = (pos >= 0) & (ratings >= self.params.get("fit_threshold", EASE_FIT_THRESHOLD))
        return np.unique(pos[keep])

    def _solve(self, liked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A⁻¹ as a factor of the fold-in system, p) for liked positions; see the module doc."""
        f = self.item_factors.shape[1]
        alpha, reg = float(self.params["alpha"]), float(self.params["regularization"])
        y = np.asarray(self.item_factors[liked], dtype="float64")
        a = self._yty + (alpha - 1.0) * (y.T @ y) + reg * np.eye(f)
        inv = np.linalg.inv(a)
        return inv, inv @ (alpha * y.sum(axis=0))

    def fold_in(self, items, ratings) -> np.ndarray:
        """The factor p (f,) of any viewer's history against the fixed item factors (zeros
        when no item of the history is a known interaction)."""
        liked = self._liked(items, ratings)
        if len(liked) == 0:
            return np.zeros(self.item_factors.shape[1], dtype="float32")
        return self._solve(liked)[1].astype("float32")

    def score_history(self, items, ratings) -> np.ndarray:
        """Scores over ``item_ids`` for one viewer's history (fold-in of any viewer).

        In: raw item ids and ratings of the history. Out: float32 (n_items,) — higher is
        better; items in the history are not masked here (the caller decides).
        """
        return np.asarray(self.item_factors @ self.fold_in(items, ratings), dtype="float32")

    def contributions(self, items, ratings, target_items) -> tuple[np.ndarray, np.ndarray]:
        """For each target item, the history item that adds most to its score.

        The score is linear in the liked items: s_i = Σ_j α · y_iᵀ A⁻¹ y_j (implicit's
        ``explain``), so item j's share is that term. Out: (best history item id per target,
        its contribution); id -1 when nothing in the history contributes positively.
        """
        tpos = self.positions(target_items)
        best_id = np.full(len(tpos), -1, dtype="int64")
        best_val = np.zeros(len(tpos), dtype="float32")
        liked = self._liked(items, ratings)
        ok = tpos >= 0
        if len(liked) == 0 or not ok.any():
            return best_id, best_val
        inv, _ = self._solve(liked)
        yh = np.asarray(self.item_factors[liked], dtype="float64")
        yt = np.asarray(self.item_factors[tpos[ok]], dtype="float64")
        contrib = float(self.params["alpha"]) * (yh @ inv) @ yt.T      # liked × targets
        arg = contrib.argmax(axis=0)
        vals = contrib[arg, np.arange(contrib.shape[1])]
        best_id[ok] = np.where(vals > 0, self.item_ids[liked[arg]], -1)
        best_val[ok] = vals
        return best_id, best_val

    def score_weight_rows(self, w: sp.csr_matrix) -> np.ndarray:
        """Scores (rows × n_items) of history-weight rows (EASE's max(r − offset, 0) over this
        ranker's columns), each row folded in as :meth:`score_history` does: a weight of at
        least fit_threshold − offset is a rating the fit counted as an interaction."""
        # One GEMM against float64 factors converted once per model: a matvec per row, each
        # converting the factors again, was ~3 ms of a viewer's ~8 ms when ranking known
        # users' lists at 59k titles.
        return self.weight_row_factors(w) @ self._factors64().T

    def _factors64(self) -> np.ndarray:
        """``item_factors`` as float64 (items × f), converted on first use and kept."""
        y = self.__dict__.get("_y64")
        if y is None:
            y = self.__dict__["_y64"] = np.asarray(self.item_factors, dtype="float64")
        return y

    def weight_row_factors(self, w: sp.csr_matrix) -> np.ndarray:
        """The fold-in factor p (rows × f, float64) of each history-weight row, as
        :meth:`score_weight_rows` solves it (zeros for a row with no interaction)."""
        w = sp.csr_matrix(w)
        cut = (self.params.get("fit_threshold", EASE_FIT_THRESHOLD)
               - self.params.get("score_offset", EASE_SCORE_OFFSET))
        out = np.zeros((w.shape[0], self.item_factors.shape[1]), dtype="float64")
        for r in range(w.shape[0]):
            start, end = w.indptr[r], w.indptr[r + 1]
            liked = np.unique(w.indices[start:end][w.data[start:end] >= cut - 1e-9])
            if len(liked):
                out[r] = self._solve(liked)[1]
        return out

    def score_weight_rows_at(self, w: sp.csr_matrix, cols: np.ndarray) -> np.ndarray:
        """:meth:`score_weight_rows` at ranker columns ``cols`` only (rows × len(cols)):
        the same fold-in, |cols| dot products instead of n_items (candidate scoring)."""
        return self.factor_scores_at(self.weight_row_factors(w), cols)

    def factor_scores_at(self, p: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores (rows × len(cols), float64) of fold-in factors ``p`` (rows × f, as
        :meth:`weight_row_factors` gives them) at ranker columns ``cols``: a caller that
        scores one viewer several times (a request's candidates, then its widening) solves
        the fold-in once and calls this."""
        # A plain ndarray view of the (memory-mapped) factors: fancy indexing a np.memmap
        # wraps every result in a memmap object (~0.1 ms a call at serving rates).
        y = np.asarray(self.item_factors).view(np.ndarray)[np.asarray(cols, dtype="int64")]
        return np.asarray(p, dtype="float64") @ y.astype("float64").T

    def build_top_table(self, n: int = FACTOR_TOP_N, block_bytes: int = SCORE_BLOCK_BYTES) -> None:
        """Compute (and keep in ``top_items``/``top_scores``) every known user's ``n`` best
        unseen items by y·p from the stored user factors, in user blocks of at most
        ``block_bytes`` of float32 scores (the train-time table serving reads)."""
        self.top_items, self.top_scores = top_table(self.user_factors, self.item_factors, self.history,
                                                    n, block_bytes)

    def pair_weights(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """How much history column ``rows[a]`` pulls target ``cols[b]``: the factors' inner
        product (the item-item similarity ALS learned)."""
        # From the plain float64 copy: gathers from the memory map returned np.memmap objects
        # whose every later operation paid the subclass's wrapping (10% of a factor bundle's
        # API CPU went to this explanation step).
        y = self._factors64()
        return y[np.asarray(rows, dtype="int64")] @ y[np.asarray(cols, dtype="int64")].T

    def score_users(self, user_ids) -> np.ndarray:
        """Batch scores (len(user_ids) × n_items) of known users from their stored factors.

        Raises ValueError naming the ids the ranker never saw.
        """
        return np.asarray(self.user_factors[self._rows(user_ids)] @ self.item_factors.T, dtype="float32")


def top_table(user_factors: np.ndarray, item_factors: np.ndarray, history: sp.csr_matrix, n: int,
              block_bytes: int = SCORE_BLOCK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Each user's ``n`` best items by x_u·y_i, their history's items left out.

    In: user factors (users × f), item factors (items × f), the users × items history CSR
    (any stored entry = seen), n, bytes of one block's float32 score matrix. Out: (int32
    users × n' item columns best first — ties to the smaller column — padded with -1 where a
    user has fewer unseen items, float32 scores padded with -inf), n' = min(n, items).
    Memory is one block (users_per_block × items float32), never users × items.
    """
    u = np.asarray(user_factors, dtype="float32")
    y = np.ascontiguousarray(item_factors, dtype="float32")
    n_users, n_items = len(u), len(y)
    k = int(min(max(n, 0), n_items))
    items = np.full((n_users, k), -1, dtype="int32")
    scores = np.full((n_users, k), -np.inf, dtype="float32")
    if k == 0 or n_users == 0:
        return items, scores
    hist = sp.csr_matrix(history)
    rows = max(1, int(block_bytes // (4 * max(n_items, 1))))
    cols = np.arange(n_items)
    with timed(log, f"top-{k} table of {n_users} users over {n_items} items"):
        for lo in range(0, n_users, rows):
            hi = min(lo + rows, n_users)
            s = u[lo:hi] @ y.T                                   # block × items, float32
            h = hist[lo:hi]
            s[np.repeat(np.arange(hi - lo), np.diff(h.indptr)), h.indices] = -np.inf
            part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < n_items else np.tile(cols, (hi - lo, 1))
            v = np.take_along_axis(s, part, axis=1)
            o = np.lexsort((part, -v), axis=1)                   # best first, ties: smaller column
            part, v = np.take_along_axis(part, o, axis=1), np.take_along_axis(v, o, axis=1)
            seen = ~np.isfinite(v)                               # only seen items are -inf
            items[lo:hi] = np.where(seen, -1, part)
            scores[lo:hi] = v
    return items, scores


def confidence_matrix(history: sp.csr_matrix, fit_threshold: float) -> sp.csr_matrix:
    """Users × items float32 CSR with 1 where a training rating is >= ``fit_threshold`` (X)."""
    x = history.copy().astype("float32")
    x.data = (x.data >= fit_threshold).astype("float32")
    x.eliminate_zeros()
    return x


def factor_ranker_from_factors(history: sp.csr_matrix, users: np.ndarray, items: np.ndarray,
                               item_factors: np.ndarray, params: dict) -> FactorRanker:
    """A :class:`FactorRanker` from item factors trained by any engine (implicit, Spark).

    In: the users × items training CSR (ratings) with its sorted user/item id arrays, item
    factors in ``items`` order (rows of items an engine never saw may be zeros), and params
    (must hold ``alpha``, ``regularization``, ``fit_threshold``). Out: the ranker, with every
    known user's factor solved exactly against the fixed item factors (so batch and fold-in
    scores agree).
    """
    x = confidence_matrix(history, params["fit_threshold"])
    rk = FactorRanker(item_ids=np.asarray(items, dtype="int64"),
                      item_factors=np.ascontiguousarray(item_factors, dtype="float32"),
                      user_factors=np.zeros((len(users), item_factors.shape[1]), dtype="float32"),
                      counts=np.asarray(x.sum(axis=0), dtype="float64").ravel(),
                      user_ids=np.asarray(users, dtype="int64"), history=history, params=dict(params))
    with timed(log, f"solving {len(users)} user factors against fixed item factors"):
        rk.user_factors = _solve_users(rk, x)
    return rk


def _solve_users(rk: FactorRanker, x: sp.csr_matrix) -> np.ndarray:
    """Exact least-squares user factors for every row of X: implicit's public
    ``recalculate_user`` (its C++ Cholesky solver, threaded) when installed, else the same
    solve in numpy one user at a time (a serving box without the [implicit] extra)."""
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError:
        out = np.zeros((x.shape[0], rk.item_factors.shape[1]), dtype="float32")
        for u in range(x.shape[0]):
            liked = x.indices[x.indptr[u]:x.indptr[u + 1]]
            if len(liked):
                out[u] = rk._solve(liked)[1]
        return out
    with threadpool_limits(1, "blas"):
        solver = AlternatingLeastSquares(factors=rk.item_factors.shape[1], alpha=float(rk.params["alpha"]),
                                         regularization=float(rk.params["regularization"]),
                                         num_threads=ALS_NUM_THREADS)
        solver.item_factors = np.asarray(rk.item_factors)
        return np.asarray(solver.recalculate_user(np.arange(x.shape[0]), x), dtype="float32")


def fit_factor_ranker(ratings: pd.DataFrame, factors: int = ALS_FACTORS, iterations: int = ALS_ITERATIONS,
                      regularization: float = ALS_REGULARIZATION, alpha: float = ALS_ALPHA,
                      fit_threshold: float = EASE_FIT_THRESHOLD, score_offset: float = EASE_SCORE_OFFSET,
                      seed: int = SEED, num_threads: int = ALS_NUM_THREADS) -> FactorRanker:
    """Fit implicit ALS on model-ready ratings; every rated title gets a factor.

    In: DataFrame[userId, itemId, rating, ...]; ALS rank, iterations, λ, α (confidence of an
    interaction), the interaction threshold (a rating >= it is a 1 in X, as EASE), the history
    weight offset, seed, solver threads (0 = all cores). Out: a :class:`FactorRanker` whose
    ``history`` keeps every training rating. Memory and time are linear in ratings × factors²
    (no items² array), so no memory guard is needed beyond the ratings themselves.
    """
    require_extra("implicit", EXTRA_MODULES["implicit"], "invoke train --engine implicit")
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    if factors < 1 or iterations < 1 or regularization < 0 or alpha <= 0:
        raise ValueError(f"bad ALS params: factors={factors}, iterations={iterations}, "
                         f"regularization={regularization}, alpha={alpha}")
    df = check_ratings_frame(ratings)
    hist, users, items = _interaction_matrix(df)
    x = confidence_matrix(hist, fit_threshold)
    if x.nnz == 0:
        raise ValueError(f"no rating >= {fit_threshold}: nothing to fit ALS on")
    log.info("implicit ALS: %d ratings (%d interactions >= %g), %d users, %d items, rank %d, %d "
             "iterations", len(df), x.nnz, fit_threshold, len(users), len(items), factors, iterations)
    # implicit threads over users itself; a multi-threaded BLAS inside each thread oversubscribes
    # (it checks, and warns, when the model is built: so both happen under the limit).
    with threadpool_limits(1, "blas"), timed(log, f"implicit ALS fit ({len(items)} items)"):
        model = AlternatingLeastSquares(factors=factors, iterations=iterations, regularization=regularization,
                                        alpha=alpha, random_state=seed, num_threads=num_threads)
        model.fit(x, show_progress=True)
    params = {"model": "als", "engine": "implicit", "factors": int(factors), "iterations": int(iterations),
              "regularization": float(regularization), "alpha": float(alpha),
              "fit_threshold": float(fit_threshold), "score_offset": float(score_offset), "seed": int(seed)}
    return factor_ranker_from_factors(hist, users, items, np.asarray(model.item_factors), params)
