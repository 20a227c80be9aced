"""The chain itself: one object holding every fitted stage over one catalogue.

:class:`RecPipeline` is what ``Recommender`` asks for every list and what ``invoke evaluate``
asks for every evaluated user (in batches of rows): histories -> candidates -> scorers ->
blend -> rank/backfill. Explanations are added by the caller for the titles it returns
(:mod:`src.models.pipeline.explain`), since they never change the list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.config import (
    CHART_NEW_WEIGHT,
    CONTENT_MAP_K,
    CONTENT_MAP_SHRINK,
    CONTENT_MAP_WEIGHT,
    CONTENT_NEW_WEIGHT,
    CONTENT_SHRINK,
    CONTENT_WEIGHT,
    GENRE_AFFINITY_WEIGHT,
    NEW_TITLE_FOCUS_THRESHOLD,
    NEW_TITLE_FOCUS_WEIGHT,
    NEW_TITLE_TASTE_WEIGHT,
    POPULARITY_DEBIAS,
    POPULARITY_PRIOR_GENRE,
    POPULARITY_PRIOR_HALF,
    POPULARITY_PRIOR_LIKED,
    POPULARITY_PRIOR_POWER,
    POPULARITY_PRIOR_WEIGHT,
)
from src.models.pipeline.blend import (
    Step,
    blend_scores,
    prior_weight,
    scale_rows,
    title_alpha,
)
from src.models.pipeline.candidates import CandidateSelector
from src.models.pipeline.histories import Histories
from src.models.pipeline.rank import backfill, top_n
from src.models.pipeline.scorers import (
    CollaborativeScorer,
    ContentScorer,
    popularity_scores,
)

__all__ = ["BlendParams", "RecPipeline", "Step"]


@dataclass(frozen=True)
class BlendParams:
    """The blend's weights (defaults from ``src.config``; evaluation tunes them on validation)."""

    beta: float = GENRE_AFFINITY_WEIGHT
    gamma: float = CONTENT_WEIGHT
    gamma_new: float = CONTENT_NEW_WEIGHT
    map_k: int = CONTENT_MAP_K
    map_shrink: float = CONTENT_MAP_SHRINK
    map_weight: float = CONTENT_MAP_WEIGHT
    chart_new: float = CHART_NEW_WEIGHT
    shrink: float = CONTENT_SHRINK
    prior_weight: float = POPULARITY_PRIOR_WEIGHT
    prior_half: float = POPULARITY_PRIOR_HALF
    prior_liked: bool = POPULARITY_PRIOR_LIKED
    prior_power: float = POPULARITY_PRIOR_POWER
    prior_genre: float = POPULARITY_PRIOR_GENRE
    new_taste: float = NEW_TITLE_TASTE_WEIGHT
    debias: float = POPULARITY_DEBIAS
    focus_weight: float = NEW_TITLE_FOCUS_WEIGHT
    focus_threshold: float = NEW_TITLE_FOCUS_THRESHOLD


class RecPipeline:
    """Candidates -> scorers -> blend -> rank over one catalogue (positions in its order)."""

    def __init__(self, ids: np.ndarray, selector: CandidateSelector, counts: np.ndarray,
                 chart_order: np.ndarray, chart_score: np.ndarray, ranker=None, rk_to_cat=None,
                 content_matrix=None, params: BlendParams | None = None,
                 liked_counts: np.ndarray | None = None, content_map=None) -> None:
        """In: catalogue ids, its candidate selector, training ratings per title, the chart
        (positions best first, scores 0–1), optionally the EASE ranker with its column ->
        position map, the TF-IDF matrix (catalogue order), blend parameters, and the titles'
        summed history weights Σ max(r − offset, 0) (the prior's counts when
        ``params.prior_liked``; None: the rating counts), and optionally the CF -> new-title
        content map already built for these inputs and ``params`` (the serving cache's)."""
        self.ids = np.asarray(ids, dtype="int64")
        self.selector = selector
        self.params = params or BlendParams()
        self.chart_order = chart_order
        self.chart_score = chart_score
        self.collab = (CollaborativeScorer(ranker, rk_to_cat, selector.genre_mat, self.params.beta,
                                           content_matrix, self.params.map_k, self.params.map_shrink,
                                           self.params.map_weight, ready_map=content_map)
                       if ranker is not None else None)
        self.content = ContentScorer(content_matrix) if content_matrix is not None else None
        p = self.params
        # The prior counts how much a title was liked (Σ max(r − offset, 0)) rather than how
        # often it was rated: what a short history needs is titles viewers rate >= 4, and a
        # much-rated, middling title is not one (validation: references/recommending.md).
        self.pop = popularity_scores(liked_counts if p.prior_liked and liked_counts is not None else counts)
        scorable = self.collab.scorable if self.collab is not None else np.zeros(len(self.ids), dtype=bool)
        self.alpha = title_alpha(counts, scorable, p.shrink)
        self.gamma = np.where(scorable, p.gamma, 0.0)
        # A title EASE cannot score has no rating count to be popular by: its catalogue chart
        # score (score_final, from TMDB votes) stands in, for every viewer alike, plus ρ × the
        # viewer's own match (genre taste, raw content, content-mapped CF), all × chart_new:
        # s_i = chart_new · (chart_i + ρ · taste_i). ρ sets the order among new titles alone
        # (tuned on a new-title validation split), chart_new their level against the titles
        # EASE scores (tuned on a random one), so the two are chosen independently.
        # The popularity de-bias d_i = 1 − δ · log-popularity multiplies the personal (CF +
        # content) part of scored titles (EASE's lists lean on hits; δ buys coverage). It moves
        # exposure within the titles EASE scores, so a title it cannot score is damped like the
        # top hit (1 − δ): its level stays what chart_new makes it, not above every damped hit.
        n = np.asarray(counts, dtype="float64")
        top = float(n.max()) if len(n) else 0.0
        log_pop = np.log1p(n) / np.log1p(top) if top > 0 else np.zeros(len(n))
        damp = 1.0 - p.debias * np.where(scorable, log_pop, 1.0)
        self.personal_scale = np.where(scorable, 1.0, p.chart_new * p.new_taste) * damp
        self.new_prior = np.where(scorable, 0.0, p.chart_new * np.clip(chart_score, 0.0, 1.0)) * damp
        self.gamma_raw = np.where(scorable, 0.0, p.gamma_new) * self.personal_scale
        # The focus level μ · max(raw content − τ, 0) of a title EASE cannot score: the chart
        # sets the order among new titles (ρ small), so a viewer whose liked titles are near-
        # duplicates of a new one (mean raw cosine above τ, which diffuse real histories rarely
        # reach) needs its own level to get it into a short list. Damped like the top hit.
        self.focus_scale = np.where(scorable, 0.0, p.focus_weight) * damp
        self.gamma_scaled = self.gamma * self.personal_scale

    def _genre_prior(self) -> bool:
        """Whether the prior is the chart within the viewer's genres (needs the genre taste)."""
        p = self.params
        return bool(self.collab is not None and p.prior_weight and self.collab.beta and p.prior_genre)

    def _combine(self, h: Histories, cf, raw, content, affinity, cols=None) -> tuple[np.ndarray, np.ndarray]:
        """The blend from the scorers' outputs, at every title (``cols`` None) or at ``cols``.

        The one place the blend's terms are put together, so the dense path (:meth:`score`)
        and the candidate path (:meth:`score_at`) cannot drift apart. In: histories, CF
        scores, raw and scaled content, genre taste (None: the plain chart prior), columns.
        Every per-title factor here is >= 0 (``personal_scale`` is 1 − δ·log-pop with δ < 1),
        so an upper bound on cf stays an upper bound on the score (the factor path's bound pass).
        """
        p = self.params
        at = slice(None) if cols is None else cols
        has_cf = self.collab.has_signal(h) if self.collab is not None else np.zeros(len(h), dtype=bool)
        has_liked = np.diff(h.liked.indptr) > 0
        prior = prior_weight(h.lengths, p.prior_weight, p.prior_half, p.prior_power)
        pop = self.pop[at]
        if affinity is not None:
            # The chart within the viewer's genres: a title's popularity counts 1 − m, plus m
            # times the viewer's taste for its genres (a horror lover's prior favours horror hits).
            pop = pop[None, :] * (1.0 - p.prior_genre + p.prior_genre * affinity)
        if cf is not None:
            cf = cf * self.personal_scale[at][None, :]
        scores, steps = blend_scores(cf, content, pop, self.alpha[at], prior, has_cf, has_liked,
                                     self.gamma_scaled[at], raw, self.gamma_raw[at])
        collab = steps == Step.COLLABORATIVE
        every = slice(None) if collab.all() else collab   # a slice adds in place, a mask copies rows
        if p.chart_new:
            scores[every] += self.new_prior[at][None, :]
        if p.focus_weight and raw is not None and collab.any():
            scores[every] += self.focus_scale[at][None, :] * np.maximum(raw[every] - p.focus_threshold, 0.0)
        return scores, steps

    def score(self, h: Histories) -> tuple[np.ndarray, np.ndarray]:
        """Viewers × titles blended scores (NaN: not a candidate) and each viewer's Step."""
        cf = self.collab.score(h) if self.collab is not None else None
        raw = self.content.score(h) if self.content is not None else None
        content = scale_rows(raw, h.seen) if raw is not None else None
        affinity = self.collab.affinity(h) if self._genre_prior() else None
        return self._combine(h, cf, raw, content, affinity)

    def base_allowed(self, h: Histories, steps: np.ndarray, exclude_seen: bool = True) -> np.ndarray:
        """Viewers × titles bool: what may be listed before any request filter.

        Rated titles are hidden (``exclude_seen``), and a viewer on the content step keeps to
        the genres of what they liked. Out: a fresh array the caller may modify.
        """
        allowed = np.ones((len(h), len(self.ids)), dtype=bool)
        if exclude_seen:
            allowed &= ~h.seen.toarray()
        content_rows = np.flatnonzero(steps == Step.CONTENT)
        if len(content_rows):   # step 2 keeps to the genres of what the viewer liked
            allowed[content_rows] &= self.selector.shares_genre(h.liked[content_rows])
        return allowed

    def rank(self, h: Histories, scores: np.ndarray, steps: np.ndarray, mask: np.ndarray, n: int,
             exclude_seen: bool = True) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per viewer: (positions, scores, source) of the final n-list (see :mod:`.rank`).

        In: the histories, their :meth:`score` output, the request filter mask (titles), n,
        whether rated titles are hidden.
        """
        base = self.base_allowed(h, steps, exclude_seen)
        ranked = top_n(scores, base & mask, n, self.ids)
        return [self.fill(h, r, pos, sc, mask, n, exclude_seen) for r, (pos, sc) in enumerate(ranked)]

    def fill(self, h: Histories, r: int, pos: np.ndarray, sc: np.ndarray, mask: np.ndarray, n: int,
             exclude_seen: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Viewer ``r``'s ranked (positions, scores) backfilled to n from the chart.

        Out: (positions, scores, source per entry), as :func:`.rank.backfill`.
        """
        if len(pos) >= n:
            return pos, sc, np.zeros(len(pos), dtype="int8")
        row = h.seen[r]
        row_allowed = np.array(np.broadcast_to(mask, (len(self.ids),)))
        if exclude_seen:
            row_allowed[row.indices] = False
        in_genres = self.selector.shares_genre(row)[0] if row.nnz else None
        return backfill(pos, sc, n, self.chart_order, self.chart_score, row_allowed, in_genres)

    def recommend(self, h: Histories, mask: np.ndarray, n: int, exclude_seen: bool = True):
        """score + rank in one call; also returns the steps."""
        scores, steps = self.score(h)
        return self.rank(h, scores, steps, mask, n, exclude_seen), steps

    # ------------------------------------------------------------ candidate-restricted path
    # The same chain at a given set of catalogue positions: a factor (ALS) model's known user
    # is scored at their train-time top-N table items (+ the titles the ranker cannot score),
    # a folded-in viewer at ANN neighbours (src.models.pipeline.factor_candidates). Every
    # blend term is elementwise per title, so score_at(h, cols) == score(h)[:, cols] as long
    # as each viewer's cf normaliser (their best ranker item) is among the columns computed.

    def score_at(self, h: Histories, cols: np.ndarray, max_cols: np.ndarray | None = None,
                 cf_bound: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Viewers × len(cols) blended scores at catalogue positions ``cols`` (shared by every
        row of ``h``) and each viewer's Step, as :meth:`score` at those columns.

        In: histories, sorted unique catalogue positions (None with ``cf_bound``: every title,
        the bound pass, without gathering every position), optionally ranker columns holding
        each viewer's best ranker score, optionally a per-viewer bound on the raw ranker score
        of every scorable title in ``cols``: then the result is an upper bound of each
        scorable title's score, computed without the ranker (see
        :meth:`.scorers.CollaborativeScorer.score_at`; the blend adds cf to terms that do not
        depend on it, so a bound on cf bounds the score).
        """
        if cols is None and cf_bound is None:
            raise ValueError("score_at at every title is the bound pass only (cf_bound); use score")
        cols = None if cols is None else np.asarray(cols, dtype="int64")
        cf = self.collab.score_at(h, cols, max_cols, cf_bound) if self.collab is not None else None
        raw = top = None
        if self.content is not None:
            raw, top = self.content.score_at(h, cols)
        content = raw / np.where(top > 0, top, 1.0)[:, None] if raw is not None else None
        affinity = ((self.collab.affinity(h) if cols is None else self.collab.affinity_at(h, cols))
                    if self._genre_prior() else None)
        return self._combine(h, cf, raw, content, affinity, cols)

    def rank_at(self, h: Histories, cols: np.ndarray, scores: np.ndarray, steps: np.ndarray,
                mask: np.ndarray, n: int, exclude_seen: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per viewer: the ranked (catalogue positions, scores) of at most n candidates among
        ``cols`` (:meth:`score_at` output), under the same rules as :meth:`rank` (seen hidden,
        the content step's genre rule, the request mask, ties to the smaller id), before any
        backfill: a list shorter than n means the candidates ran out (the caller decides)."""
        cols = np.asarray(cols, dtype="int64")
        allowed = np.broadcast_to(np.asarray(mask)[cols], (len(h), len(cols))).copy()
        if exclude_seen:
            allowed &= ~h.seen.toarray()[:, cols]
        content_rows = np.flatnonzero(steps == Step.CONTENT)
        if len(content_rows):
            allowed[content_rows] &= self.selector.shares_genre(h.liked[content_rows])[:, cols]
        return [(cols[pos], sc) for pos, sc in top_n(scores, allowed, n, self.ids[cols])]
