"""Approximate top-N over ALS item factors: an hnswlib index, then an exact re-rank.

Scoring a viewer against every item is ``n_items × f`` work per request; at 60k items that
is the bulk of a request. An HNSW graph (Malkov & Yashunin 2018; the ``hnswlib`` library)
over the item factors with inner-product distance returns the ``candidates`` items with the
highest y_i·p in well under a millisecond; those candidates are then scored exactly
(float64 dot products) and the best n kept, so the scores served are exact and only the
candidate set is approximate. Items to exclude (the viewer's history) are dropped after the
search, which asks for that many more neighbours. :func:`ann_recall` measures recall@k
against exact search (the issue's bar: >= 0.95).
"""

from __future__ import annotations

import numpy as np

from src.config import ANN_CANDIDATES, ANN_EF_CONSTRUCTION, ANN_EF_SEARCH, ANN_M, EXTRA_MODULES, SEED
from src.utils.extras import require_extra

__all__ = ["FactorAnn", "ann_recall"]


class FactorAnn:
    """An inner-product HNSW index over item factors (rows = item positions)."""

    def __init__(self, item_factors: np.ndarray, m: int = ANN_M, ef_construction: int = ANN_EF_CONSTRUCTION,
                 ef_search: int = ANN_EF_SEARCH, seed: int = SEED, num_threads: int = -1) -> None:
        """In: float item factors (n_items × f), HNSW M / ef_construction / ef (search), seed,
        build threads (-1 = all cores). Builds the index (seconds for 60k × 64)."""
        require_extra("ann", EXTRA_MODULES["ann"], "src.models.factor_ann")
        import hnswlib

        self.item_factors = np.ascontiguousarray(item_factors, dtype="float32")
        n, dim = self.item_factors.shape
        self._index = hnswlib.Index(space="ip", dim=dim)
        self._index.init_index(max_elements=max(n, 1), ef_construction=ef_construction, M=m, random_seed=seed)
        self._index.add_items(self.item_factors, np.arange(n), num_threads=num_threads)
        self._ef = ef_search

    def top_n(self, user_vector: np.ndarray, n: int = 10, exclude: np.ndarray | None = None,
              candidates: int = ANN_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
        """The n best item positions for factor ``user_vector``, exactly scored, best first.

        In: the viewer's factor (f,), n, item positions to leave out, how many ANN candidates
        to re-rank (>= n). Out: (positions, scores y_i·p) of at most n items.
        """
        exclude = np.asarray([] if exclude is None else exclude, dtype="int64")
        total = len(self.item_factors)
        k = min(max(candidates, n) + len(exclude), total)
        if k == 0:
            return np.empty(0, dtype="int64"), np.empty(0, dtype="float64")
        self._index.set_ef(max(self._ef, k))  # hnswlib needs ef >= k
        labels, _ = self._index.knn_query(np.asarray(user_vector, dtype="float32")[None, :], k=k)
        cand = labels[0].astype("int64")
        cand = cand[~np.isin(cand, exclude)]
        exact = self.item_factors[cand].astype("float64") @ np.asarray(user_vector, dtype="float64")
        best = np.argsort(-exact, kind="stable")[:n]
        return cand[best], exact[best]


def ann_recall(ann: FactorAnn, user_factors: np.ndarray, k: int = 10) -> float:
    """Mean recall@k of :meth:`FactorAnn.top_n` against exact search, over the given users.

    In: the index, user factors (users × f), k. Out: |ANN top-k ∩ exact top-k| / k, averaged.
    """
    y = ann.item_factors.astype("float64")
    hits = 0
    for p in np.asarray(user_factors, dtype="float64"):
        exact = np.argsort(-(y @ p), kind="stable")[:k]
        approx, _ = ann.top_n(p, n=k)
        hits += len(np.intersect1d(exact, approx))
    return hits / (k * len(user_factors))
