"""Candidate sets for factor (ALS) models: serving 60k titles × 100k+ users without load-time ranking.

:class:`~.known_lists.KnownLists` ranks every known user over every title at load: fine for
671 users, hours (and over ``RECOMMEND_PRECOMPUTE_MB``) at 270k. For a factor ranker the
work moves to train time and per-request candidate sets instead:

* **known users** — the bundle holds each known user's ``FACTOR_TOP_N`` best unseen ranker
  items by x_u·y_i (:func:`src.models.factor_ranker.top_table`, computed at ``invoke train``,
  memory-mapped at load). Their candidates are those items ∪ every catalogue title the ranker
  cannot score (new titles from ``invoke update``: the chain scores them by content and genre);
* **anyone else** (extra ratings, new viewers: folded in) — the ``FACTOR_ANN_CANDIDATES``
  nearest item factors to their fold-in factor p in the HNSW index
  (:class:`~src.models.factor_ann.FactorAnn`, stored in the bundle or built here), the
  history left out, ∪ the same unscorable titles.

When the known users' ranked lists exist (:class:`~.known_lists.KnownLists`, built by
``invoke warm``) they answer first; a filter that leaves fewer than n of a user's prefix is
answered by :meth:`FactorCandidates.after_prefix`: every title outside the prefix scores at most
its last entry, so the list is the prefix's titles that pass the filter followed by the best
of the filter's other titles, scored exactly (O(titles in the filter), no bound pass).

The chain then scores only the candidates, exactly (:meth:`.chain.RecPipeline.score_at`: the
same blend as the full row at those columns) and ranks them under the request's filters
(applied after the search). The blend is cf/max(cf) plus terms that do not depend on cf, and
every item outside a table row has a ranker score <= the row's last one, so an upper bound
of any other title's score costs no dot products (genre taste, content, popularity: O(titles));
titles whose bound reaches the n-th best found are scored exactly too ("widened"). The list
is then the full chain's (an ANN row's bound holds as far as the search found the true
neighbours). When the filters leave fewer than n candidates, or the viewer is not on the
collaborative step, the caller scores the full row instead (``None`` here). Counters in
:attr:`FactorCandidates.stats` say which path answered.
"""

from __future__ import annotations

import numpy as np

from src.config import EXTRA_MODULES, FACTOR_ANN_CANDIDATES, FACTOR_PREFIX_TAIL_SHARE
from src.models.pipeline.blend import Step
from src.models.pipeline.chain import RecPipeline
from src.models.pipeline.histories import Histories
from src.utils.extras import missing_modules
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["FactorCandidates"]


class FactorCandidates:
    """Per-request candidate sets of a factor ranker: top-N table rows and ANN neighbours."""

    def __init__(self, pipeline: RecPipeline, ranker, user_ids: np.ndarray,
                 n_ann: int = FACTOR_ANN_CANDIDATES, use_ann: bool = True) -> None:
        """In: the chain (with its collaborative scorer over ``ranker``), the factor ranker
        (``top_items`` from the bundle, computed here when absent), the serving side's sorted
        known-user ids (row order of its requests), ANN neighbours per folded-in viewer, and
        whether to use an ANN index at all (False: folded-in viewers get the full row)."""
        if pipeline.collab is None:
            raise ValueError("factor candidates need the chain's collaborative scorer")
        self.pipeline = pipeline
        self.ranker = ranker
        self.n_ann = int(n_ann)
        self.rk_to_cat = pipeline.collab.rk_to_cat
        # Titles the ranker cannot score (new ones): every viewer's candidates, since the chain
        # scores them by content/genre and a table built before they existed cannot hold them.
        self.unscorable = np.flatnonzero(~pipeline.collab.scorable).astype("int64")
        if ranker.top_items is None:
            ranker.build_top_table()   # a bundle from before the table existed, or an evaluation fit
        rows = np.searchsorted(ranker.user_ids, np.asarray(user_ids, dtype="int64"))
        rows = np.minimum(rows, max(len(ranker.user_ids) - 1, 0))
        ok = (np.asarray(ranker.user_ids)[rows] == user_ids) if len(ranker.user_ids) else np.zeros(len(user_ids), bool)
        self._table_row = np.where(ok, rows, -1).astype("int64")
        self.ann = self._ann() if use_ann else None
        self.stats = {"table": 0, "ann": 0, "full": 0, "widened": 0, "prefix": 0}

    def _ann(self):
        """The HNSW index: restored from the bundle's state, else built (None without hnswlib)."""
        if missing_modules(EXTRA_MODULES["ann"]):
            log.info("hnswlib not installed: folded-in viewers are scored over every title")
            return None
        from src.models.factor_ann import FactorAnn

        state = getattr(self.ranker, "ann_state", None)
        if state is not None:
            try:
                return FactorAnn.from_state(self.ranker.item_factors, *state)
            except ValueError as exc:
                log.warning("stored ANN index not used (%s): building it", exc)
        with timed(log, f"building the HNSW index over {self.ranker.n_items} item factors"):
            return FactorAnn(self.ranker.item_factors)

    def _cols(self, items: np.ndarray) -> np.ndarray:
        """Sorted catalogue positions of ranker columns ``items`` ∪ the unscorable titles."""
        cat = self.rk_to_cat[items]
        return np.union1d(cat[cat >= 0], self.unscorable)

    def for_known(self, row: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(catalogue candidates, ranker columns, bound) of known-user ``row`` from the table,
        or None (not in the ranker, or a zero factor: nothing ranks them). The bound is the
        table's last score: no unseen item outside the row scores more (-inf when the row
        holds every unseen item)."""
        got = self._table(row)
        return None if got is None else (self._cols(got[0]), *got[1:])

    def _table(self, row: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(table items, ranker columns holding the cf normaliser, bound) of :meth:`for_known`."""
        r = int(self._table_row[row]) if 0 <= row < len(self._table_row) else -1
        if r < 0 or not np.any(self.ranker.user_factors[r]):
            return None
        items = np.asarray(self.ranker.top_items[r])
        items = items[items >= 0].astype("int64")
        # The table leaves the history out, but cf's normaliser is the max over every item:
        # a rated title (even one rated too low to weigh) may hold it.
        hist = self.ranker.history
        seen = np.asarray(hist.indices[hist.indptr[r]:hist.indptr[r + 1]], dtype="int64")
        full_row = len(items) == self.ranker.top_items.shape[1]
        bound = float(self.ranker.top_scores[r, -1]) if full_row and len(items) else -np.inf
        return items, np.concatenate([items, seen]), bound

    def for_viewer(self, h: Histories) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(catalogue candidates, ranker columns, bound) of the one viewer in ``h`` from the ANN
        index around their fold-in factor, their history left out; None without an index or
        factor. The bound is the last neighbour's exact score (a bound only as far as the
        search found the true neighbours: recall@10 >= 0.95)."""
        if self.ann is None:
            return None
        p = self.pipeline.collab.fold_in(h)[0]   # solved once, reused by the scoring below
        if not p.any():
            return None
        hist = h.rk_w.indices[h.rk_w.indptr[0]:h.rk_w.indptr[1]].astype("int64")
        items, exact = self.ann.top_n(p, n=self.n_ann, exclude=hist, candidates=self.n_ann)
        bound = float(exact[-1]) if len(items) == self.n_ann else -np.inf
        return self._cols(items), items, bound

    def rank(self, h: Histories, row: int, mask: np.ndarray, n: int, exclude_seen: bool = True
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Step] | None:
        """The one viewer of ``h``'s list from candidates: (positions, scores, source, step).

        In: the viewer's histories (one row), their known-user row (-1: fold-in), the request
        mask, n, whether seen titles are hidden. Out: None when the full row must decide
        (seen titles shown, no collaborative signal, no candidates, or fewer than n pass).
        """
        got = None
        if exclude_seen and self.pipeline.collab.has_signal(h)[0]:
            got = self.for_known(row) if row >= 0 else self.for_viewer(h)
        if got is None:
            self.stats["full"] += 1
            return None
        cols, max_cols, bound = got
        scores, steps = self.pipeline.score_at(h, cols, max_cols)
        if steps[0] != Step.COLLABORATIVE:
            self.stats["full"] += 1
            return None
        pos, sc = self.pipeline.rank_at(h, cols, scores, steps, mask, n)[0]
        if len(pos) < n:   # the filters left too few candidates: the full row decides
            self.stats["full"] += 1
            return None
        if np.isfinite(bound):
            more = self._beyond(h, cols, max_cols, bound, mask, float(sc[-1]))
            if len(more):   # titles outside the candidates that could still make the list
                # Scored alone and merged: the same cf normaliser (max over max_cols), so the
                # same numbers as scoring the union in one call.
                extra, _ = self.pipeline.score_at(h, more, max_cols)
                cols, scores = np.concatenate([cols, more]), np.hstack([scores, extra])
                pos, sc = self.pipeline.rank_at(h, cols, scores, steps, mask, n)[0]
                self.stats["widened"] += 1
        self.stats["table" if row >= 0 else "ann"] += 1
        return pos, sc, np.zeros(len(pos), dtype="int8"), steps[0]

    def after_prefix(self, h: Histories, row: int, pos: np.ndarray, scores: np.ndarray, mask: np.ndarray,
                     n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Step] | None:
        """Known user ``row``'s list when their truncated ranked prefix leaves fewer than n
        under ``mask``: (positions, scores, source, step), or None (the caller goes on to
        :meth:`rank`).

        In: the one viewer's histories, their known-user row, their prefix (positions and
        scores, best first: the first entries of the chain's total order), the mask, n. The
        prefix's entries that pass the mask come first (nothing outside the prefix outranks
        them), then the best of the mask's titles outside it, scored exactly at those columns
        with the cf normaliser of :meth:`for_known`. None when the mask leaves more than
        ``FACTOR_PREFIX_TAIL_SHARE`` of the titles to score (the bound pass is cheaper) or
        too few positive titles (the full row backfills).
        """
        got = self._table(row) if row >= 0 else None
        if got is None or not self.pipeline.collab.has_signal(h)[0]:
            return None
        _, max_cols, _ = got
        pos = np.asarray(pos, dtype="int64")
        keep = mask[pos]
        rest = np.array(mask, dtype=bool)
        rest[pos] = False
        rest[h.seen.indices[h.seen.indptr[0]:h.seen.indptr[1]]] = False
        cols = np.flatnonzero(rest)
        if len(cols) > FACTOR_PREFIX_TAIL_SHARE * len(rest):
            return None
        tail_sc, steps = self.pipeline.score_at(h, cols, max_cols)
        if steps[0] != Step.COLLABORATIVE:
            return None
        need = n - int(keep.sum())
        tp, ts = self.pipeline.rank_at(h, cols, tail_sc, steps, mask, need)[0]
        if len(tp) < need:
            return None
        self.stats["prefix"] += 1
        out_pos = np.concatenate([pos[keep], tp])
        return out_pos, np.concatenate([np.asarray(scores)[keep], ts]), np.zeros(len(out_pos), dtype="int8"), steps[0]

    def _beyond(self, h: Histories, cols: np.ndarray, max_cols: np.ndarray, bound: float,
                mask: np.ndarray, nth: float) -> np.ndarray:
        """Scorable titles outside ``cols`` whose score could beat ``nth`` (the n-th best found).

        A title outside the candidates has a raw ranker score <= ``bound`` (the table's last
        score), so its chain score is at most the blend with cf = bound
        (:meth:`.chain.RecPipeline.score_at` with ``cf_bound``: O(titles), no dot products).
        Scoring every title whose bound beats ``nth`` exactly makes the list the full chain's:
        adding candidates only raises the n-th best. Out: sorted catalogue positions.
        """
        out = np.asarray(mask, dtype=bool) & self.pipeline.collab.scorable
        out[cols] = False
        out[h.seen.indices[h.seen.indptr[0]:h.seen.indptr[1]]] = False
        # Slack for the table's float32 scores of the stored factor vs the fold-in's float64.
        slack = bound + 1e-5 * abs(bound) + 1e-7
        # The bound at every title at once (vector arithmetic over static per-title arrays
        # and the request's memoised content row): gathering the ~60k outside positions first
        # cost more than the bound itself.
        ub, _ = self.pipeline.score_at(h, None, max_cols, cf_bound=np.array([slack]))
        out &= np.nan_to_num(ub[0], nan=-np.inf) >= nth   # a tie may win on id
        return np.flatnonzero(out)
