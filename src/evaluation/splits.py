"""Splitters of the evaluation protocols (seeded where they draw; pure pandas/numpy).

* :func:`cold_user_cut` — cut a share of users to 1–5 training ratings (the rest of their
  training ratings are dropped, not tested), so short histories are measured;
* :func:`temporal_split` — one global time cut: every rating after it is test;
* :func:`new_title_split` — the most recent titles (by first rating) lose all their
  ratings from training and are ranked as new arrivals.

The random split itself is :func:`src.models.split.bernoulli_split`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from src.config import (
    COLD_USER_RATINGS,
    COLD_USER_SHARE,
    ITEM_ID_COL,
    NEW_TITLE_SHARE,
    TEMPORAL_TRAIN_SHARE,
    TIMESTAMP_COL,
    USER_COL,
)

__all__ = ["cold_user_cut", "new_title_split", "temporal_split"]


def cold_user_cut(train: pd.DataFrame, seed: int, share: float = COLD_USER_SHARE,
                  keep: tuple[int, int] = COLD_USER_RATINGS) -> tuple[pd.DataFrame, np.ndarray]:
    """Cut ``share`` of the training users to between ``keep[0]`` and ``keep[1]`` ratings.

    In: training ratings, seed, share of users, (min, max) ratings kept. Out: (the cut
    training frame, sorted ids of the cut users). Which users, how many ratings each keeps
    and which ones are drawn from one seeded generator; a user with fewer ratings than
    drawn keeps them all.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share!r}")
    rng = np.random.default_rng(seed)
    users = np.sort(train[USER_COL].unique())
    cold = np.sort(rng.choice(users, size=int(round(share * len(users))), replace=False))
    n_keep = dict(zip(cold.tolist(), rng.integers(keep[0], keep[1] + 1, size=len(cold)).tolist()))
    is_cold = train[USER_COL].isin(cold).to_numpy()
    # A random order of each cold user's ratings, then the first n_keep of them.
    order = rng.permutation(int(is_cold.sum()))
    part = train[is_cold].iloc[order]
    rank = part.groupby(USER_COL).cumcount().to_numpy()
    limit = part[USER_COL].map(n_keep).to_numpy()
    kept = part[rank < limit]
    return pd.concat([train[~is_cold], kept]).sort_index(), cold


def temporal_split(ratings: pd.DataFrame, train_share: float = TEMPORAL_TRAIN_SHARE
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Global time cut at the ``train_share`` quantile of timestamps.

    Out: (train = ratings at or before the cut, test = after it, the cut timestamp). Every
    user's future is test, so the past never learns from it.
    """
    ts = ratings[TIMESTAMP_COL].to_numpy()
    cut = int(np.quantile(ts, train_share, method="lower"))
    after = ts > cut
    return ratings[~after], ratings[after], cut


def new_title_split(ratings: pd.DataFrame, share: float = NEW_TITLE_SHARE
                    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The ``share`` most recent titles (by their first rating; ties: larger id newer) become new.

    Out: (train = ratings of the other titles, test = every rating of the new titles, the
    new titles' ids). At least one title is new when there are two or more.
    """
    first = ratings.groupby(ITEM_ID_COL)[TIMESTAMP_COL].min()
    order = first.reset_index().sort_values([TIMESTAMP_COL, ITEM_ID_COL])[ITEM_ID_COL].to_numpy()
    n_new = min(max(1, math.ceil(share * len(order))), max(len(order) - 1, 0))
    new = np.sort(order[len(order) - n_new:])
    is_new = ratings[ITEM_ID_COL].isin(new).to_numpy()
    return ratings[~is_new], ratings[is_new], new
