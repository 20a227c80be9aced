"""A seeded MovieLens-25M-shaped synthetic ratings set for the scale benchmarks.

MovieLens 25M: 25M ratings, 162k users, 59k items, a long-tailed item popularity (the top 1%
of items hold ~30% of ratings) and user activity (median ~70 ratings, min 20). This generator
reproduces those shapes at any size, with a planted taste structure so a recommender has
something to find:

* items get a Zipf-like popularity ``(rank + 10)^-POP_EXPONENT`` and one of ``n_tastes``
  taste clusters; users get a favourite cluster and a log-normal activity (>= 20 ratings);
* each rating is, with probability ``TASTE_SHARE``, an item of the user's cluster (drawn by
  popularity within it), else any item (drawn by global popularity);
* in-taste ratings centre on 4.2★, others on 3.0★ (half stars, clipped to 0.5-5).

Everything is vectorised numpy (25M ratings in well under a minute) and seeded: the same
arguments give the same frame. Used by ``bench/bench_scale.py`` only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Shapes of MovieLens 25M (https://grouplens.org/datasets/movielens/25m/).
ML25M = {"n_ratings": 25_000_000, "n_users": 162_000, "n_items": 59_000}
POP_EXPONENT = 1.0     # Zipf-like: the top 1% of items get ~30% of draws at 59k items
TASTE_SHARE = 0.6      # share of a user's ratings drawn from their favourite cluster
MIN_PER_USER = 20      # MovieLens keeps users with >= 20 ratings


def generate(n_ratings: int, n_users: int, n_items: int, n_tastes: int = 20, seed: int = 0) -> pd.DataFrame:
    """DataFrame[userId, itemId, rating] of about ``n_ratings`` distinct (user, item) ratings.

    In: target sizes, taste clusters, seed. Out: int64 ids (users 1..n_users, items
    1..n_items), float ratings. Repeated (user, item) draws are dropped, so a first pass
    measures that loss and a second draws that much more (a seeded sample trims any excess;
    on a small catalogue the second pass repeats a little more, so the caller reports the
    count it got).
    """
    first = _draw(n_ratings, n_users, n_items, n_tastes, seed)
    if len(first) >= n_ratings:
        return first.sample(n=n_ratings, random_state=seed).sort_index().reset_index(drop=True)
    more = _draw(int(n_ratings * n_ratings / len(first) * 1.02), n_users, n_items, n_tastes, seed)
    take = min(n_ratings, len(more))
    return more.sample(n=take, random_state=seed).sort_index().reset_index(drop=True)


def _draw(n_ratings: int, n_users: int, n_items: int, n_tastes: int, seed: int) -> pd.DataFrame:
    """One pass of the generator: ``n_ratings`` draws, repeated (user, item) pairs dropped."""
    if min(n_ratings, n_users, n_items, n_tastes) < 1 or n_ratings < n_users * MIN_PER_USER:
        raise ValueError(f"need n_ratings >= {MIN_PER_USER} x n_users and positive sizes, got "
                         f"{n_ratings}, {n_users}, {n_items}, {n_tastes}")
    rng = np.random.default_rng(seed)
    pop = (np.arange(n_items) + 10.0) ** -POP_EXPONENT
    pop = rng.permutation(pop)                       # popularity not tied to the id
    taste = rng.integers(0, n_tastes, n_items)       # item -> cluster
    # activity: log-normal, shifted so every user has >= MIN_PER_USER, scaled to n_ratings
    act = rng.lognormal(0.0, 1.0, n_users)
    extra = n_ratings - MIN_PER_USER * n_users
    counts = MIN_PER_USER + np.floor(act / act.sum() * extra).astype("int64")
    users = np.repeat(np.arange(n_users), counts)
    fav = rng.integers(0, n_tastes, n_users)[users]
    n = len(users)
    in_taste = rng.random(n) < TASTE_SHARE
    # global draws by popularity
    cdf = np.cumsum(pop) / pop.sum()
    items = np.minimum(np.searchsorted(cdf, rng.random(n)), n_items - 1)
    # in-taste draws: items sorted by cluster; key = cluster + within-cluster cdf in (c, c+1]
    order = np.lexsort((np.arange(n_items), taste))
    tc = taste[order]
    within = np.cumsum(pop[order])
    starts = np.searchsorted(tc, np.arange(n_tastes))
    ends = np.searchsorted(tc, np.arange(n_tastes), side="right")
    base = np.where(starts > 0, within[np.maximum(starts - 1, 0)], 0.0)
    total = within[np.maximum(ends - 1, 0)] - base
    keys = tc + (within - base[tc]) / np.maximum(total[tc], 1e-300)
    sel = np.flatnonzero(in_taste)
    pos = np.searchsorted(keys, fav[sel] + rng.random(len(sel)) * (1 - 1e-12) + 1e-12)
    items[sel] = order[np.minimum(pos, n_items - 1)]
    hit = taste[items] == fav                       # also counts global draws that land in-taste
    mean = np.where(hit, 4.2, 3.0)
    rating = np.clip(np.round((mean + rng.normal(0, 0.8, n)) * 2) / 2, 0.5, 5.0)
    df = pd.DataFrame({"userId": users + 1, "itemId": items + 1, "rating": rating})
    return df.drop_duplicates(["userId", "itemId"]).reset_index(drop=True)
