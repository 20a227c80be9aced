"""Blend: one score per title from the scorers, and which fallback step a viewer is on.

For a viewer with collaborative signal (``Step.COLLABORATIVE``)::

    s_i = d_i · (cf_i + (1 − α_i) · γ · content_i) + π(L) · pop_i        (titles EASE scores)
    s_i = (1 − δ) · (chart_new · (chart_i + ρ · taste_i) + μ · max(raw_i − τ, 0)) + π(L) · pop_i
                                                                         (titles it cannot score)
    α_i = n_i / (n_i + K)   (n_i training ratings of title i)
    d_i = 1 − δ · log1p(n_i) / log1p(max n)   (popularity de-bias of the personal part)
    π(L) = π₀ · (H / (H + L))^p (L ratings in the viewer's history)
    taste_i = β · genre taste + γ_new · raw content + mapped CF: raw content is the unscaled
          mean cosine, high only when the viewer's liked titles really resemble the title (a
          diffuse long history does not push every new title up)
    μ · max(raw_i − τ, 0): the focus level — the chart sets the order among new titles (small
          ρ), and only a viewer whose liked titles are near-duplicates of one (raw above τ) lifts
          it into their list

The per-title multipliers (d, chart_new · ρ, γ_new) are applied by :class:`..chain.RecPipeline`
before :func:`blend_scores` adds the parts; the chart and focus levels of unscorable titles after.
``cf_i`` is the collaborative scorer's cf / max(cf) + β · genre taste (the cf part is 0
for titles EASE cannot score, so a title nobody rated yet is scored by genre taste and
content alone), the content bonus fades as a title gets seen, and a short history leans on
the chart (weights in ``src.config``, measured in ``references/recommending.md``).
``content_i`` is scaled so the viewer's best unseen title scores 1. Without CF signal but
with liked titles (``Step.CONTENT``) the score is content + prior over content neighbours
only; with neither (``Step.CHART``) nothing is scored and the rank stage fills the list from the chart within the viewer's genres.
"""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["Step", "blend_scores", "prior_weight", "scale_rows", "title_alpha"]


class Step(enum.Enum):
    """The fallback chain, in order; the value names the step in reasons and logs."""

    COLLABORATIVE = "collaborative"
    CONTENT = "content"
    CHART = "chart"


def title_alpha(counts: np.ndarray, scorable: np.ndarray, shrink: float) -> np.ndarray:
    """CF share per title: n/(n+K) where EASE can score the title, else 0."""
    counts = np.asarray(counts, dtype="float64")
    return np.where(scorable, counts / (counts + float(shrink)), 0.0)


def prior_weight(lengths: np.ndarray, weight: float, half: float, power: float = 1.0) -> np.ndarray:
    """π(L) = π₀ · (H / (H + L))^p per viewer (0 when π₀ = 0); p > 1 keeps the prior for the
    shortest histories and drops it faster as a viewer's own ratings accumulate."""
    lengths = np.asarray(lengths, dtype="float64")
    return float(weight) * (float(half) / (float(half) + lengths)) ** float(power)


def scale_rows(x: np.ndarray, seen) -> np.ndarray:
    """Each row divided by its max over unseen titles (rows whose max is <= 0 stay as they are)."""
    masked = np.where(seen.toarray() if hasattr(seen, "toarray") else seen, 0.0, x)
    top = masked.max(axis=1, initial=0.0)
    return x / np.where(top > 0, top, 1.0)[:, None]


def blend_scores(cf: np.ndarray | None, content: np.ndarray | None, pop: np.ndarray, alpha: np.ndarray,
                 prior: np.ndarray, has_cf: np.ndarray, has_liked: np.ndarray, gamma: np.ndarray,
                 raw_content: np.ndarray | None = None, gamma_raw: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Viewers × titles blended scores and each viewer's step.

    In: CF scores (None without a ranker), content scores scaled per
    row (None without a content index), popularity in [0, 1], α per title, π(L) per viewer,
    whether each viewer has CF signal / liked titles, γ per title (on scaled content),
    optionally unscaled content with its own weight per title (γ_new on titles EASE cannot score). Out: (scores, steps as an object
    array of :class:`Step`); NaN = not a candidate of this step. ``cf`` may be overwritten
    (its NaNs set to 0): the chain passes a fresh array.
    """
    n_viewers, n_titles = len(prior), pop.shape[-1]
    has_cf = np.asarray(has_cf, dtype=bool) & (cf is not None)
    has_liked = np.asarray(has_liked, dtype=bool) & (content is not None)
    c = content if content is not None else np.zeros((n_viewers, n_titles))
    pr = prior[:, None] * (pop if pop.ndim == 2 else pop[None, :])
    if has_cf.all():
        # Every viewer on the CF step (the usual batch and every request with a history): the
        # same terms in the same order, in place — without the row-selected copies below, each
        # a viewers × titles array (a third of building 12k known users' lists at 45k titles).
        out = np.multiply((1.0 - alpha[None, :]) * np.asarray(gamma)[None, :], c)
        out += np.nan_to_num(cf, nan=0.0, copy=False)
        out += pr
        if raw_content is not None and gamma_raw is not None:
            out += np.asarray(gamma_raw)[None, :] * raw_content
        return out, np.full(n_viewers, Step.COLLABORATIVE, dtype=object)
    out = np.full((n_viewers, n_titles), np.nan)
    if has_cf.any():
        cfr = np.nan_to_num(cf[has_cf], nan=0.0)
        out[has_cf] = cfr + (1.0 - alpha[None, :]) * np.asarray(gamma)[None, :] * c[has_cf] + pr[has_cf]
        if raw_content is not None and gamma_raw is not None:
            out[has_cf] += np.asarray(gamma_raw)[None, :] * raw_content[has_cf]
    fb = ~has_cf & has_liked
    if fb.any():   # fallback step 2: content neighbours only (titles sharing a term)
        out[fb] = np.where(c[fb] > 0, c[fb] + pr[fb], np.nan)
    steps = np.full(n_viewers, Step.CHART, dtype=object)   # object array: keeps the enum members
    steps[fb] = Step.CONTENT
    steps[has_cf] = Step.COLLABORATIVE
    return out, steps
