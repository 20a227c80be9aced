"""Size budgets of ``invoke evaluate``: what is sampled or skipped when the data is too big to
evaluate in full on a small box, and the one-line reasons the report shows.

The budgets live in ``config.EVAL_BUDGETS`` (src/config/params.py); callers may override some
(tests pass tiny ones). Every helper returns its input untouched when the budget holds, so data
under every budget (ratings_small, the small synthetic set) is evaluated exactly as before.
Sampling is by USER (LensKit's and Microsoft Recommenders' rule): a sampled user keeps all their
ratings, and every title stays rankable. Each limit that bites is written to a ``sampled`` dict
``{what: reason with counts}`` that ends up in metrics.json and metrics.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import EVAL_BUDGETS, USER_COL
from src.models.topn import eligible_items
from src.utils.logging import get_logger

log = get_logger(__name__)

__all__ = ["ease_item_cap", "note", "resolve_budgets", "sample_eval_users", "sample_rating_users"]


def resolve_budgets(overrides: dict | None = None) -> dict:
    """``config.EVAL_BUDGETS`` with ``overrides`` applied (None as a value = no limit).

    Raises ValueError on a name that is not a budget (a typo would otherwise be ignored)."""
    out = dict(EVAL_BUDGETS)
    unknown = set(overrides or {}) - set(out)
    if unknown:
        raise ValueError(f"unknown evaluation budget(s) {sorted(unknown)}; known: {sorted(out)}")
    out.update(overrides or {})
    return out


def note(sampled: dict | None, what: str, reason: str) -> None:
    """Record ``reason`` under ``what`` in ``sampled`` (when given) and log it as a warning."""
    log.warning("%s: %s", what, reason)
    if sampled is not None:
        sampled[what] = reason


def sample_rating_users(ratings: pd.DataFrame, max_ratings: int | None, seed: int,
                        sampled: dict | None = None, what: str = "rating_cv") -> pd.DataFrame:
    """The ratings of a seeded sample of users whose ratings add up to at most ``max_ratings``.

    In: ratings (userId, ...), the budget (None: no limit), a seed, the ``sampled`` dict. Out:
    ``ratings`` itself when it is within the budget; else the rows of the users taken in a
    seeded random order while their running total stays within it (at least one user), index
    reset, and ``sampled[what]`` says how many of how many.
    """
    if max_ratings is None or len(ratings) <= max_ratings:
        return ratings
    per_user = ratings.groupby(USER_COL).size()
    order = np.random.default_rng(seed).permutation(per_user.index.to_numpy())
    total = per_user.reindex(order).cumsum().to_numpy()
    keep = order[:max(int(np.searchsorted(total, max_ratings, side="right")), 1)]
    out = ratings[ratings[USER_COL].isin(keep)].reset_index(drop=True)
    note(sampled, what, f"ran on a seeded sample of {len(keep):,} of {len(per_user):,} users (all their "
                        f"ratings: {len(out):,} of {len(ratings):,}) > budget cv_max_ratings {max_ratings:,}")
    return out


def ease_item_cap(ratings: pd.DataFrame, max_items: int | None, sampled: dict | None = None,
                  what: str = "ease_items") -> dict:
    """``fit_ranker`` keywords capping EASE's item set at ``max_items``, or {} when it holds.

    In: the ratings EASE is fitted on (all of them: each protocol's training side is a part of
    it, so its count bounds theirs), the budget (None: no limit), the ``sampled`` dict. Out:
    ``{"max_items": max_items}`` when more items pass EASE's own rule (>= EASE_MIN_COUNT
    ratings >= EASE_FIT_THRESHOLD, at most EASE_MAX_ITEMS), with ``sampled[what]`` saying how
    many; else {} (EASE fitted exactly as trained).
    """
    if max_items is None:
        return {}
    eligible = len(eligible_items(ratings))   # EASE's own rule and cap, as trained
    if eligible <= max_items:
        return {}
    note(sampled, what, f"EASE (alone and inside the served chain) fitted on the {max_items:,} most-rated of the "
                        f"{eligible:,} items a trained bundle keeps (its fit is cubic in items) > budget "
                        f"ease_max_items {max_items:,}; every title stays rankable")
    return {"max_items": int(max_items)}


def sample_eval_users(users: np.ndarray, max_users: int | None, seed: int, sampled: dict | None = None,
                      what: str = "users") -> np.ndarray:
    """A seeded sample of ``max_users`` evaluated users (sorted), or ``users`` within the budget.

    In: the sorted users with a relevant test title, the budget (None: no limit), a seed, the
    ``sampled`` dict. Out: the users every model of that run is scored for; fitting still uses
    every training rating, so only the metrics' averages are over fewer users.
    """
    if max_users is None or len(users) <= max_users:
        return users
    kept = np.sort(np.random.default_rng(seed).choice(users, size=int(max_users), replace=False))
    note(sampled, what, f"metrics over a seeded sample of {len(kept):,} of {len(users):,} users with a relevant "
                        f"test title (the same for every model; fits use every training rating) > budget "
                        f"max_eval_users {max_users:,}")
    return kept
