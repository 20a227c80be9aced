"""Title quality scores: ``score_final`` (the cold-start ranking) and the IMDB weighted rating.

Both are pure, vectorised functions of a title's vote_average, vote_count and popularity so
the feature stage, the updater and the tests compute them the same way. The formulas and
the reasons for each scaling are written up in ``references/features.md``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from src.config import (
    SCORE_POPULARITY_REF,
    SCORE_VOTE_COUNT_REF,
    SCORE_WEIGHTS,
    WR_VOTE_QUANTILE,
)

_SCORE_INPUTS = ("vote_average", "vote_count", "popularity")


def _as_float(values, name: str) -> np.ndarray:
    """Return ``values`` as a float64 array (scalars become 1-element arrays).

    Raises ValueError naming ``name`` when a value is not numeric.
    """
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values must be numeric ({exc})") from exc
    return np.atleast_1d(arr)


def _check_range(arr: np.ndarray, name: str, low: float, high: float = np.inf) -> None:
    """Raise ValueError naming ``name`` if a non-NaN value lies outside [low, high]."""
    bad = ~np.isnan(arr) & ((arr < low) | (arr > high))
    if bad.any():
        raise ValueError(
            f"{name}: {int(bad.sum())} value(s) outside [{low}, {high}], e.g. {arr[bad][0]!r}"
        )


def log_scale(values: np.ndarray, ref: float) -> np.ndarray:
    """Map non-negative heavy-tailed counts to 0–1: ``min(log1p(x) / log1p(ref), 1)``.

    In: float array (NaN allowed, treated as 0) and the fixed reference value that maps to 1.
    Out: float array in [0, 1]. Log because counts/popularity span 5 orders of magnitude;
    a fixed reference (not the catalogue max) so one new blockbuster cannot rescale every title.
    """
    if ref <= 0:
        raise ValueError(f"ref: must be > 0, got {ref!r}")
    x = np.nan_to_num(values, nan=0.0)
    return np.minimum(np.log1p(x) / np.log1p(ref), 1.0)


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validate score weights: exactly the keys vote_average/vote_count/popularity, each >= 0,
    summing to 1 (so the score stays in 0–1). Returns them as a plain dict; ValueError otherwise.
    """
    keys = set(weights)
    if keys != set(_SCORE_INPUTS):
        raise ValueError(f"weights: expected keys {sorted(_SCORE_INPUTS)}, got {sorted(keys)}")
    out = {k: float(weights[k]) for k in _SCORE_INPUTS}
    if any(v < 0 for v in out.values()):
        raise ValueError(f"weights: must be >= 0, got {out}")
    if not np.isclose(sum(out.values()), 1.0):
        raise ValueError(f"weights: must sum to 1, got {sum(out.values())}")
    return out


def score_final(
    vote_average,
    vote_count,
    popularity,
    weights: Mapping[str, float] = SCORE_WEIGHTS,
    vote_count_ref: float = SCORE_VOTE_COUNT_REF,
    popularity_ref: float = SCORE_POPULARITY_REF,
) -> np.ndarray:
    """Weighted 0–1 quality score of titles (the cold-start ranking).

    In: array-likes (or scalars) of vote_average (0–10), vote_count (>= 0) and popularity (>= 0),
    NaN allowed; weights over the three inputs (sum 1); the fixed log references.
    Out: float64 array in [0, 1], never NaN.

    score = w_avg * vote_average/10 + w_cnt * log_scale(vote_count) + w_pop * log_scale(popularity)

    A title with no votes (vote_count 0 or NaN) gets 0 for the vote_average term: TMDB stores
    0 for "nobody voted", which is absence of evidence, not a rating of 0 — and giving it the
    catalogue mean instead would rank unseen titles above well-voted mediocre ones. So its score
    is defined (popularity term only), and the score is non-decreasing in each input.
    ValueError names the input when a value is out of range or the weights are invalid.
    """
    w = check_weights(weights)
    avg = _as_float(vote_average, "vote_average")
    cnt = _as_float(vote_count, "vote_count")
    pop = _as_float(popularity, "popularity")
    try:
        avg, cnt, pop = np.broadcast_arrays(avg, cnt, pop)
    except ValueError as exc:
        raise ValueError(
            f"vote_average/vote_count/popularity: lengths differ {avg.shape}, {cnt.shape}, {pop.shape}"
        ) from exc
    _check_range(avg, "vote_average", 0.0, 10.0)
    _check_range(cnt, "vote_count", 0.0)
    _check_range(pop, "popularity", 0.0)
    has_votes = np.nan_to_num(cnt, nan=0.0) > 0
    avg_term = np.where(has_votes, np.nan_to_num(avg, nan=0.0) / 10.0, 0.0)
    score = (
        w["vote_average"] * avg_term
        + w["vote_count"] * log_scale(cnt, vote_count_ref)
        + w["popularity"] * log_scale(pop, popularity_ref)
    )
    return np.clip(score, 0.0, 1.0)


def weighted_rating_params(
    vote_average, vote_count, quantile: float = WR_VOTE_QUANTILE
) -> tuple[float, float]:
    """Catalogue constants of the IMDB weighted rating.

    In: the catalogue's vote_average and vote_count arrays, the quantile for m.
    Out: (m, C): m = ``quantile`` of vote_count over all titles (NaN counted as 0), C = mean
    vote_average over titles that have votes (0-vote averages are placeholders, not ratings);
    C = 0.0 when no title has votes.
    """
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile: must be in [0, 1], got {quantile!r}")
    avg = _as_float(vote_average, "vote_average")
    cnt = np.nan_to_num(_as_float(vote_count, "vote_count"), nan=0.0)
    m = float(np.quantile(cnt, quantile)) if cnt.size else 0.0
    voted = (cnt > 0) & ~np.isnan(avg)
    c = float(avg[voted].mean()) if voted.any() else 0.0
    return m, c


def weighted_rating(vote_average, vote_count, m: float, c: float) -> np.ndarray:
    """IMDB weighted rating ``v/(v+m)·R + m/(v+m)·C`` per title.

    In: vote_average R and vote_count v (array-likes, NaN allowed), constants m and C
    (see :func:`weighted_rating_params`). Out: float64 array on the 0–10 scale, never NaN.
    A title with 0 (or NaN) votes gets C, the prior; when m is 0 too the formula would be
    0/0, so it is C by the same rule.
    """
    if m < 0:
        raise ValueError(f"m: must be >= 0, got {m!r}")
    avg = np.nan_to_num(_as_float(vote_average, "vote_average"), nan=0.0)
    cnt = np.nan_to_num(_as_float(vote_count, "vote_count"), nan=0.0)
    _check_range(cnt, "vote_count", 0.0)
    denom = cnt + m
    with np.errstate(invalid="ignore", divide="ignore"):
        wr = (cnt * avg + m * c) / denom
    return np.where(cnt > 0, wr, float(c))


def add_scores(df: pd.DataFrame, weights: Mapping[str, float] = SCORE_WEIGHTS) -> pd.DataFrame:
    """Return ``df`` with ``score_final`` and ``weighted_rating`` columns added.

    In: a frame with vote_average, vote_count, popularity (float, NaN allowed). Out: a new frame
    (input untouched); m and C of the weighted rating come from this frame.
    """
    missing = [c for c in _SCORE_INPUTS if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) for scores: {missing}")
    out = df.copy()
    out["score_final"] = score_final(df["vote_average"], df["vote_count"], df["popularity"], weights)
    m, c = weighted_rating_params(df["vote_average"], df["vote_count"])
    out["weighted_rating"] = weighted_rating(df["vote_average"], df["vote_count"], m, c)
    return out
