"""Approximate top-N over ALS item factors: an hnswlib index, then an exact re-rank.

Scoring a viewer against every item is ``n_items × f`` work per request; at 60k items that
is the bulk of a request. An HNSW graph (Malkov & Yashunin 2018; the ``hnswlib`` library)
over the item factors with inner-product distance returns the ``candidates`` items with the
highest y_i·p in well under a millisecond; those candidates are then scored exactly
(float64 dot products) and the best n kept, so the scores served are exact and only the
candidate set is approximate. Items to exclude (the viewer's history) are dropped after the
search, which asks for that many more neighbours. :func:`ann_recall` measures recall@k
against exact search (the issue's bar: >= 0.95).

The built index is stored in a factor bundle at train time (:meth:`FactorAnn.state`: hnswlib's
own numeric arrays + scalars, sizes checked by :meth:`FactorAnn.from_state` before hnswlib
reads them), so serving restores it in milliseconds instead of rebuilding (60k random
64-d factors: ~110 s on this box's 2 cores).
"""

from __future__ import annotations

import numpy as np

from src.config import ANN_CANDIDATES, ANN_EF_CONSTRUCTION, ANN_EF_SEARCH, ANN_M, EXTRA_MODULES, SEED
from src.utils.extras import require_extra

__all__ = ["FactorAnn", "ann_recall"]

# hnswlib's serialised index: these entries are arrays, the rest scalars (hnswlib 0.8).
_STATE_ARRAYS = ("label_lookup_external", "label_lookup_internal", "element_levels", "data_level0", "link_lists")


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

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The built index as (numeric arrays, JSON scalars) for a bundle: hnswlib's own
        serialised state (graph links, levels, label maps, vectors), no pickle. Rebuild with
        :meth:`from_state` (milliseconds, where building takes seconds to minutes)."""
        st = dict(self._index.__getstate__()[0])
        arrays = {k: np.asarray(st.pop(k)) for k in _STATE_ARRAYS}
        return arrays, {k: (v.item() if isinstance(v, np.generic) else v) for k, v in st.items()}

    @classmethod
    def from_state(cls, item_factors: np.ndarray, arrays, meta: dict, ef_search: int = ANN_EF_SEARCH) -> FactorAnn:
        """The index :meth:`state` saved, over the same ``item_factors``.

        Checks before hnswlib reads anything: inner-product space, the factors' dimension and
        item count, and that every array has the size the scalars imply (hnswlib copies them
        with those sizes). Raises ValueError naming the mismatch.
        """
        require_extra("ann", EXTRA_MODULES["ann"], "src.models.factor_ann")
        import hnswlib

        self = cls.__new__(cls)
        self.item_factors = np.ascontiguousarray(item_factors, dtype="float32")
        n, dim = self.item_factors.shape
        meta = dict(meta)
        count, cap = int(meta.get("cur_element_count", -1)), int(meta.get("max_elements", -1))
        levels = np.asarray(arrays.get("element_levels", np.zeros(0)), dtype="int64")
        expect = {"label_lookup_external": count, "label_lookup_internal": count, "element_levels": cap,
                  "data_level0": count * int(meta.get("size_data_per_element", -1)),
                  "link_lists": int(levels[:max(count, 0)].sum()) * int(meta.get("size_links_per_element", -1))}
        bad = [k for k in _STATE_ARRAYS if k not in arrays]
        bad += [f"{k}: {np.asarray(arrays[k]).size} != {v}" for k, v in expect.items()
                if k in arrays and np.asarray(arrays[k]).size != v]
        internal = np.asarray(arrays.get("label_lookup_internal", np.zeros(0)), dtype="int64")
        if len(levels) and (levels.min() < 0 or levels.max() > int(meta.get("max_level", -1))):
            bad.append("element levels out of range")
        if len(internal) and (internal.min() < 0 or internal.max() >= max(count, 0)):
            bad.append("internal ids out of range")
        if not 0 <= int(meta.get("enterpoint_node", -1)) < max(count, 1):
            bad.append("entry point out of range")
        if meta.get("space") != "ip" or meta.get("dim") != dim or count != n or cap < n or bad:
            raise ValueError(f"stored ANN index does not match {n} x {dim} item factors "
                             f"(space {meta.get('space')!r}, dim {meta.get('dim')}, {count} items; {bad})")
        # pybind11's pickle protocol: __setstate__ initialises a fresh, unconstructed instance.
        self._index = hnswlib.Index.__new__(hnswlib.Index)
        self._index.__setstate__(({**meta, **{k: np.ascontiguousarray(arrays[k]) for k in _STATE_ARRAYS}},))
        self._ef = ef_search
        return self

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


def ann_recall(ann: FactorAnn, user_factors: np.ndarray, k: int = 10, candidates: int = ANN_CANDIDATES) -> float:
    """Mean recall@k of :meth:`FactorAnn.top_n` against exact search, over the given users.

    In: the index, user factors (users × f), k, ANN candidates re-ranked exactly (serving asks
    ``FACTOR_ANN_CANDIDATES``). Out: |ANN top-k ∩ exact top-k| / k, averaged.
    """
    y = ann.item_factors.astype("float64")
    hits = 0
    for p in np.asarray(user_factors, dtype="float64"):
        exact = np.argsort(-(y @ p), kind="stable")[:k]
        approx, _ = ann.top_n(p, n=k, candidates=candidates)
        hits += len(np.intersect1d(exact, approx))
    return hits / (k * len(user_factors))
