"""Viewer histories as sparse rows: the input every stage of the chain reads.

One :class:`Histories` holds any number of viewers (all known users at load or in an
evaluation batch, or the single viewer of a request) as CSR matrices with one row per viewer,
so a request and a batch go through exactly the same arithmetic (scipy's sparse products
work row by row: a row's result does not depend on the rows around it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from src.config import CONTENT_LIKED_THRESHOLD

__all__ = ["Histories", "build_histories", "history_weights"]


def history_weights(ratings: np.ndarray, offset: float) -> np.ndarray:
    """EASE pull of each rating: max(rating − offset, 0), so 1–2★ pull nothing."""
    return np.clip(np.asarray(ratings, dtype="float64") - offset, 0.0, None)


@dataclass
class Histories:
    """Aligned sparse histories of ``n`` viewers.

    ``rk_w``: viewers × ranker items, float32 EASE weights (only items the ranker knows);
    ``cat_w``: viewers × catalogue, the same weights on titles with a catalogue row (genre
    taste); ``liked``: viewers × catalogue, weights of titles rated >= CONTENT_LIKED_THRESHOLD
    (content profile); ``seen``: viewers × catalogue bool, every rated title; ``lengths``:
    ratings per viewer (catalogue row or not).
    """

    rk_w: sp.csr_matrix
    cat_w: sp.csr_matrix
    liked: sp.csr_matrix
    seen: sp.csr_matrix
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)


def _csr(rows, cols, vals, shape, dtype) -> sp.csr_matrix:
    """Canonical CSR (sorted indices, zeros removed) so row arithmetic has one fixed order.

    Built straight from (data, indices, indptr) after one lexsort: a request's history is a
    few dozen entries, and scipy's COO -> CSR conversion with its checks cost ~10x the
    arithmetic there. Duplicate (row, col) pairs (callers normally drop them) are summed
    through scipy as before.
    """
    rows = np.asarray(rows, dtype="int64")
    cols = np.asarray(cols, dtype="int64")
    vals = np.asarray(vals, dtype=dtype)
    keep = vals != 0
    if not keep.all():
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    if len(rows) > 1 and bool(((np.diff(rows) == 0) & (np.diff(cols) == 0)).any()):
        m = sp.csr_matrix((vals, (rows, cols)), shape=shape, dtype=dtype)
        m.sum_duplicates()
        m.eliminate_zeros()
        m.sort_indices()
        return m
    indptr = np.zeros(shape[0] + 1, dtype="int64")
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    idx = np.int32 if max(shape) < 2**31 - 1 else np.int64
    m = sp.csr_matrix((vals, cols.astype(idx), indptr.astype(idx)), shape=shape, copy=False)
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def build_histories(rows: np.ndarray, ratings: np.ndarray, cat_pos: np.ndarray, rk_pos: np.ndarray | None,
                    n_viewers: int, n_cat: int, n_rk: int, offset: float) -> Histories:
    """Histories from flat arrays: one entry per (viewer row, rated item).

    In: viewer row of each rating, the rating, the item's catalogue position (-1: no row)
    and ranker column (-1 or None: unknown to the ranker); sizes; the EASE offset. Each
    (viewer, item) must appear once (callers drop duplicates, the latest rating winning).
    """
    rows = np.asarray(rows, dtype="int64")
    ratings = np.asarray(ratings, dtype="float64")
    cat_pos = np.asarray(cat_pos, dtype="int64")
    w = history_weights(ratings, offset)
    if rk_pos is None:
        rk_w = sp.csr_matrix((n_viewers, max(n_rk, 0)), dtype="float32")
    else:
        rk_pos = np.asarray(rk_pos, dtype="int64")
        k = rk_pos >= 0
        rk_w = _csr(rows[k], rk_pos[k], w[k], (n_viewers, n_rk), "float32")
    c = cat_pos >= 0
    cat_w = _csr(rows[c], cat_pos[c], w[c], (n_viewers, n_cat), "float64")
    like = c & (ratings >= CONTENT_LIKED_THRESHOLD)
    liked = _csr(rows[like], cat_pos[like], w[like], (n_viewers, n_cat), "float64")
    seen = _csr(rows[c], cat_pos[c], np.ones(int(c.sum()), dtype=bool), (n_viewers, n_cat), bool)
    lengths = np.bincount(rows, minlength=n_viewers).astype("int64")
    return Histories(rk_w, cat_w, liked, seen, lengths)
