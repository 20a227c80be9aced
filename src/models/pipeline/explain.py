"""Explain: the human reason of each title in one viewer's final list.

The reason names the chain step that put the title there:

* collaborative — "because you rated Heat 5★" (the history title adding most to its EASE
  score), for titles EASE scores;
* content — "similar to Heat, which you rated 5★" (the liked title closest in TF-IDF), for
  titles EASE cannot score (new ones) and for viewers on the content fallback step;
* popularity prior — "popular with viewers (N ratings)" when neither names a title;
* chart — "top Drama in your genres" (the viewer's genres) or "top Drama by score".
"""

from __future__ import annotations

import numpy as np

from src.config import CONTENT_LIKED_THRESHOLD
from src.models.pipeline.blend import Step
from src.models.pipeline.chain import RecPipeline
from src.models.pipeline.rank import FILL_GENRES

__all__ = ["chart_reason", "explain", "fmt_stars"]


def fmt_stars(r: float) -> str:
    """4.0 -> '4★', 3.5 -> '3.5★'."""
    return f"{r:g}★"


def chart_reason(pipe: RecPipeline, p: int, genres: list[str] | None, suffix: str = "by score") -> str:
    """'top Drama by score': the first requested genre the title has, else its own first."""
    own = pipe.selector.genre_names(p)
    for g in genres or []:
        if g in own:
            return f"top {g} {suffix}"
    return f"top {own[0]} {suffix}" if own else f"top title {suffix}"


def explain(pipe: RecPipeline, titles: list[str], counts: np.ndarray, step: Step, pos: np.ndarray,
            source: np.ndarray, hist_cat: np.ndarray, hist_rk: np.ndarray | None, hist_ratings: np.ndarray,
            offset: float, genres: list[str] | None) -> list[str]:
    """Reasons for one viewer's list.

    In: the chain, catalogue titles and training counts (by position), the viewer's step,
    the list's positions and sources (0 ranked, else a backfill kind), the viewer's history
    as catalogue positions (-1: no row), ranker columns (-1: unknown; None: no ranker) and
    ratings, the EASE offset, the requested genres. Out: one reason per list entry.
    """
    from src.models.pipeline.histories import history_weights

    n = len(pos)
    reasons: list[str | None] = [None] * n
    ranked = np.flatnonzero(source == 0)
    w = history_weights(hist_ratings, offset)
    named = hist_cat >= 0
    cf_best = np.full(n, -1, dtype="int64")
    use = np.flatnonzero(named & (hist_rk >= 0) & (w > 0)) if hist_rk is not None else np.empty(0, dtype="int64")
    if step == Step.COLLABORATIVE and pipe.collab is not None and len(ranked) and len(use):
        best, _ = pipe.collab.contributions(hist_rk[use], w[use].astype("float32"), pos[ranked])
        cf_best[ranked] = np.where(best >= 0, use[np.maximum(best, 0)], -1)
    ct_best = np.full(n, -1, dtype="int64")
    liked = np.flatnonzero(named & (hist_ratings >= CONTENT_LIKED_THRESHOLD))
    cf_first = (np.zeros(n, dtype=bool) if step != Step.COLLABORATIVE or pipe.collab is None
                else pipe.collab.scorable[pos])
    # The content neighbour is only read where the CF reason is not used (below): a title
    # explained by a rated title pulling it in never needs it (most of a known user's list).
    need = ranked[~(cf_first[ranked] & (cf_best[ranked] >= 0))]
    if pipe.content is not None and len(need) and len(liked):
        best, _ = pipe.content.neighbours(hist_cat[liked], w[liked], pos[need])
        ct_best[need] = np.where(best >= 0, liked[np.maximum(best, 0)], -1)
    for k in ranked.tolist():
        mostly_cf = bool(cf_first[k])
        order = (cf_best[k], ct_best[k]) if mostly_cf else (ct_best[k], cf_best[k])
        kinds = ("cf", "content") if mostly_cf else ("content", "cf")
        for j, kind in zip(order, kinds):
            if j >= 0:
                t, r = titles[hist_cat[j]], fmt_stars(hist_ratings[j])
                reasons[k] = (f"because you rated {t} {r}" if kind == "cf"
                              else f"similar to {t}, which you rated {r}")
                break
        if reasons[k] is None:
            reasons[k] = f"popular with viewers ({int(counts[pos[k]])} ratings)"
    for k in np.flatnonzero(source != 0).tolist():
        reasons[k] = chart_reason(pipe, int(pos[k]), genres,
                                  "in your genres" if source[k] == FILL_GENRES else "by score")
    return reasons  # type: ignore[return-value]
