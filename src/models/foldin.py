"""Fold a viewer into a fitted Surprise SVD without retraining (new viewers, fresh ratings).

With item factors q_i, item biases b_i and the global mean μ held fixed, a viewer's bias
b_u and factors p_u minimise the same objective SVD trains on, restricted to their ratings:

    Σ_{i∈I} (r_ui − μ − b_i − b_u − q_i·p_u)² + λ (b_u² + ‖p_u‖²)

This is ridge regression with design A = [1 | Q_I] (|I| × (1+f)) and target
y = r − μ − b_I, so θ = [b_u; p_u] = (AᵀA + λI)⁻¹ Aᵀ y — a (1+f)² solve, well under a
millisecond for f = 100. Predicted rating of any item: μ + b_u + b_i + q_i·p_u.
Factors are read through Surprise's public attributes (``qi``, ``bi``,
``trainset.global_mean``, ``trainset.to_inner_iid``/``to_raw_iid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.config import RATING_SCALE

__all__ = ["SvdItems", "svd_items", "fold_in", "predict_ratings", "known_user_factors", "CatalogueSvdScorer"]


@dataclass
class SvdItems:
    """The fixed item side of a fitted SVD, in the order of ``item_ids`` (raw ids)."""

    item_ids: np.ndarray   # raw ids (int64), inner-id order
    qi: np.ndarray         # item factors (n_items × f)
    bi: np.ndarray         # item biases (n_items,)
    mu: float              # global mean rating
    reg: float             # regularisation used for the fold-in (the SVD's reg_pu)


def svd_items(algo) -> SvdItems:
    """Extract the item side of a fitted ``surprise.SVD`` (raw ids in inner order)."""
    ts = algo.trainset
    ids = np.array([ts.to_raw_iid(i) for i in range(ts.n_items)])
    try:
        ids = ids.astype("int64")
    except (TypeError, ValueError) as exc:  # ids must match the catalogue's int ids
        raise ValueError(f"SVD item ids are not integers: {ids[:5].tolist()}") from exc
    reg = float(getattr(algo, "reg_pu", 0.02))
    return SvdItems(item_ids=ids, qi=np.asarray(algo.qi, dtype="float64"),
                    bi=np.asarray(algo.bi, dtype="float64"), mu=float(ts.global_mean), reg=reg)


def fold_in(items: SvdItems, positions: np.ndarray, ratings: np.ndarray,
            reg: float | None = None) -> tuple[float, np.ndarray]:
    """Solve a viewer's (b_u, p_u) by ridge least squares on their ratings.

    In: the SVD item side, the viewer's rated items as positions into ``items.item_ids``
    (unknown items already removed), their ratings, optional regularisation (default the
    SVD's). Out: (b_u, p_u). An empty history gives (0, zeros): the item baseline.
    """
    positions = np.asarray(positions, dtype="int64")
    ratings = np.asarray(ratings, dtype="float64")
    if positions.shape != ratings.shape:
        raise ValueError(f"positions ({positions.shape}) and ratings ({ratings.shape}) differ in length")
    f = items.qi.shape[1]
    if len(positions) == 0:
        return 0.0, np.zeros(f)
    lam = items.reg if reg is None else float(reg)
    a = np.hstack([np.ones((len(positions), 1)), items.qi[positions]])
    y = ratings - items.mu - items.bi[positions]
    theta = np.linalg.solve(a.T @ a + lam * np.eye(f + 1), a.T @ y)
    return float(theta[0]), theta[1:]


def known_user_factors(algo, user_id) -> tuple[float, np.ndarray] | None:
    """The trained (b_u, p_u) of a user in the SVD trainset, or None when not there."""
    try:
        inner = algo.trainset.to_inner_uid(user_id)
    except ValueError:
        return None
    return float(algo.bu[inner]), np.asarray(algo.pu[inner], dtype="float64")


def predict_ratings(items: SvdItems, bu: float, pu: np.ndarray, positions: np.ndarray | None = None,
                    clip: bool = True) -> np.ndarray:
    """Predicted ratings μ + b_u + b_i + q_i·p_u for items (all, or the given positions).

    ``clip`` bounds them to the rating scale as Surprise's ``predict`` does.
    """
    sl = slice(None) if positions is None else np.asarray(positions, dtype="int64")
    est = items.mu + bu + items.bi[sl] + items.qi[sl] @ pu
    return np.clip(est, *RATING_SCALE) if clip else est


class CatalogueSvdScorer:
    """Top-n SVD predicted ratings over a catalogue, per genre, with the item side laid out once.

    At construction (once per model) the SVD item factors/biases are aligned to catalogue
    order and copied into one contiguous float32 block per genre (plus one for "no filter"),
    holding only the titles the SVD knows; the titles it never saw share one score,
    μ + b_u (Surprise's own fallback), so they are kept as a position list, not scored.
    A request is then one small mat-vec over its genre's block and an argpartition: no
    mask, gather or full-catalogue pass per request.
    """

    def __init__(self, items: SvdItems, catalogue_ids: np.ndarray, genres: np.ndarray) -> None:
        """In: the SVD item side, catalogue ids (n_titles,), genre matrix (n_titles × G bool)."""
        catalogue_ids = np.asarray(catalogue_ids, dtype="int64")
        genres = np.asarray(genres, dtype=bool)
        if genres.shape[0] != len(catalogue_ids):
            raise ValueError(f"genres has {genres.shape[0]} rows for {len(catalogue_ids)} catalogue ids")
        order = np.argsort(items.item_ids, kind="stable")
        at = np.minimum(np.searchsorted(items.item_ids[order], catalogue_ids), len(order) - 1)
        svd_pos = np.where(items.item_ids[order][at] == catalogue_ids, order[at], -1)
        known = svd_pos >= 0
        self.mu = items.mu
        self._blocks = {}
        columns = [(None, np.ones(len(catalogue_ids), dtype=bool))] + [(g, genres[:, g]) for g in range(genres.shape[1])]
        for key, in_genre in columns:
            rows = np.flatnonzero(in_genre & known)
            self._blocks[key] = (rows, np.ascontiguousarray(items.qi[svd_pos[rows]], dtype="float32"),
                                 items.bi[svd_pos[rows]], np.flatnonzero(in_genre & ~known))

    def top_n(self, bu: float, pu: np.ndarray, genre: int | None = None, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The n best titles for factors (b_u, p_u) within ``genre`` (column index, None = all).

        Out: (catalogue positions, predicted ratings clipped to the scale), best first; ties
        by catalogue position (the order a per-title loop with a stable sort gives).
        """
        rows, q, b, unknown = self._blocks[genre]
        est = np.clip(self.mu + bu + b + q @ np.asarray(pu, dtype="float32"), *RATING_SCALE)
        k = min(n, len(est))
        part = np.argpartition(-est, k - 1)[:k] if 0 < k < len(est) else np.arange(k)
        pos, val = rows[part], est[part]
        if len(unknown):  # every unseen title scores μ + b_u: the first n of them can compete
            pos = np.concatenate([pos, unknown[:n]])
            val = np.concatenate([val, np.full(min(n, len(unknown)), np.clip(self.mu + bu, *RATING_SCALE))])
        best = np.lexsort((pos, -val))[:n]
        return pos[best], val[best]
