"""Rank: the n best candidates of each viewer, ties broken by id, short lists backfilled.

A candidate needs a finite score > 0 (never a list of zeros). Best first; equal scores
go to the smaller id. A list shorter than n is filled from the chart (``score_final``
order): first the chart within the viewer's genres, then the whole chart, always within the
request's filters and never a title the viewer rated. Backfilled titles score below the
last personal one (last · (0.5 + 0.5 · score_final)), so scores stay in list order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FILL_CHART", "FILL_GENRES", "backfill", "top_n"]

FILL_GENRES = 1   # source code of a backfilled title: the chart within the viewer's genres
FILL_CHART = 2    # the whole chart (within the filters)


def top_n(scores: np.ndarray, allowed: np.ndarray, n: int, ids: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per viewer row: (catalogue positions, scores) of the n best allowed titles.

    In: viewers × titles scores (NaN/<= 0: not a candidate), allowed mask (same shape, or
    one row for all), n, catalogue ids (tie order). Out: one (positions, scores) per row.
    """
    s = np.where(allowed & np.isfinite(scores) & (scores > 0), scores, -np.inf)
    k = min(n, s.shape[1])
    if k == 0:
        return [(np.empty(0, dtype="int64"), np.empty(0)) for _ in range(len(s))]
    part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.tile(np.arange(k), (len(s), 1))
    v = np.take_along_axis(s, part, axis=1)
    # Every row's order at once (a lexsort per row was a third of ranking known users' lists):
    # -inf (not a candidate) sorts last, so each row's candidates are its first `count`.
    order = np.lexsort((ids[part], -v), axis=1)
    part = np.take_along_axis(part, order, axis=1).astype("int64")
    v = np.take_along_axis(v, order, axis=1)
    count = np.isfinite(v).sum(axis=1)
    return [(part[r, :c], v[r, :c]) for r, c in enumerate(count.tolist())]


def backfill(pos: np.ndarray, scores: np.ndarray, n: int, chart_order: np.ndarray, chart_score: np.ndarray,
             allowed: np.ndarray, in_genres: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill one viewer's list up to n from the chart.

    In: the ranked (positions, scores), n, the chart as catalogue positions best first and
    each title's chart score (0–1), the allowed mask (filters, not seen), the titles in the
    viewer's genres (None: no genre step). Out: (positions, scores, source per entry: 0
    ranked, FILL_GENRES, FILL_CHART).
    """
    src = np.zeros(len(pos), dtype="int8")
    if len(pos) >= n:
        return pos, scores, src
    free = allowed.copy()
    free[pos] = False
    picks, kinds = [], []
    need = n - len(pos)
    for kind, m in ((FILL_GENRES, in_genres), (FILL_CHART, None)):
        if need <= 0 or (kind == FILL_GENRES and m is None):
            continue
        ok = free if m is None else free & m
        take = chart_order[ok[chart_order]][:need]
        free[take] = False
        picks.append(take)
        kinds.append(np.full(len(take), kind, dtype="int8"))
        need -= len(take)
    fill = np.concatenate(picks) if picks else np.empty(0, dtype="int64")
    base = np.clip(chart_score[fill], 0.0, 1.0)
    fill_scores = scores[-1] * (0.5 + 0.5 * base) if len(scores) else base
    return (np.concatenate([pos, fill]).astype("int64"), np.concatenate([scores, fill_scores]),
            np.concatenate([src, *kinds]) if kinds else src)
