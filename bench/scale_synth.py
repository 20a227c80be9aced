"""Seeded MovieLens-shaped synthetic ratings sets: 25M-shaped for the scale benchmarks,
100k-shaped (:func:`generate_ml100k`) for the rating-accuracy bench.

MovieLens 25M: 25M ratings, 162k users, 59k items, a long-tailed item popularity (the top 1%
of items hold ~30% of ratings) and user activity (median ~70 ratings, min 20). This generator
reproduces those shapes at any size, with a planted taste structure so a recommender has
something to find:

* items get a Zipf-like popularity ``(rank + 10)^-POP_EXPONENT`` and one of ``n_tastes``
  taste clusters; users get a favourite cluster and a log-normal activity (>= 20 ratings);
* each rating is, with probability ``TASTE_SHARE``, an item of the user's cluster (drawn by
  popularity within it), else any item (drawn by global popularity);
* in-taste ratings centre on 4.2★, others on 3.0★ (half stars, clipped to 0.5-5), plus
  optional per-user and per-item biases (0 by default).

The MovieLens-100k shape (943 users, 1,682 items, 100,000 ratings, 1-5 integer stars, every
user >= 20 ratings) is the same generator with other knobs (:data:`ML100K_SHAPE`): a wider
popularity head (the most-rated ML-100k title has 583 ratings, 0.6%), a lighter activity tail
(max 737 ratings per user), fewer, larger taste clusters, integer stars, user/item rating
biases (ML-100k's are ~0.4-0.5★ sd) and a guaranteed per-user minimum. The ML-100k file itself
is not in /work/shared/data, so this is a shape, not the data: RMSEs measured on it are not
comparable to published ML-100k numbers (only ratios within one run are).

Everything is vectorised numpy (25M ratings in well under a minute) and seeded: the same
arguments give the same frame. Used by ``bench/bench_scale.py``, ``bench/bench_fullscale.py``
and ``bench/bench_rating_blend.py --data ml100k-style``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Shapes of MovieLens 25M (https://grouplens.org/datasets/movielens/25m/).
ML25M = {"n_ratings": 25_000_000, "n_users": 162_000, "n_items": 59_000}
POP_EXPONENT = 1.0     # Zipf-like: the top 1% of items get ~30% of draws at 59k items
TASTE_SHARE = 0.6      # share of a user's ratings drawn from their favourite cluster
MIN_PER_USER = 20      # MovieLens keeps users with >= 20 ratings
EXACT_PASSES = 8       # generate(min_per_user=...): draw passes tried to reach n_ratings distinct
FLOOR_MARGIN = 5       # generate(min_per_user=m): each user draws >= m + this (repeats eat a few)
MAX_DRAW_FACTOR = 4    # generate(min_per_user=...): a pass draws at most this x n_ratings (ML-100k: ~2x)
# Shapes of MovieLens 100k (https://grouplens.org/datasets/movielens/100k/) and the knobs that
# come near them (seed 0: top title 536 ratings, median title 29, users 23-608 with median 80,
# mean 3.45★; ML-100k: 583, 27, 20-737 with median 65, 3.53★): a steeper popularity over a
# wider head (rank + 40)^-1.4, a log-normal activity sigma of 1.1, ten taste clusters of ~170
# titles (twenty small ones make heavy users repeat more than extra draws can make up), 1-5
# integer stars and user/item rating biases near ML-100k's BaselineOnly ones (sd ~0.4/0.5).
ML100K = {"n_ratings": 100_000, "n_users": 943, "n_items": 1_682}
ML100K_SHAPE = {"n_tastes": 10, "stars": (1.0, 5.0, 1.0), "pop_exponent": 1.4, "pop_offset": 40.0,
                "activity_sd": 1.1, "user_bias_sd": 0.4, "item_bias_sd": 0.5, "min_per_user": MIN_PER_USER}


def generate(n_ratings: int, n_users: int, n_items: int, n_tastes: int = 20, seed: int = 0, *,
             stars: tuple[float, float, float] = (0.5, 5.0, 0.5), pop_exponent: float = POP_EXPONENT,
             pop_offset: float = 10.0, activity_sd: float = 1.0, user_bias_sd: float = 0.0,
             item_bias_sd: float = 0.0, min_per_user: int | None = None) -> pd.DataFrame:
    """DataFrame[userId, itemId, rating] of about ``n_ratings`` distinct (user, item) ratings.

    In: target sizes, taste clusters, seed; the shape knobs: ``stars`` (lowest, highest, step
    of the rating scale), popularity ``(rank + pop_offset)^-pop_exponent``, the log-normal
    sigma of user activity, the sds of per-user and per-item rating biases (drawn from their
    own seeded stream, so the defaults give exactly the frames they always gave), and
    ``min_per_user``. Out: int64 ids (users 1..n_users, items 1..n_items), float ratings.

    Repeated (user, item) draws are dropped, so a first pass measures that loss and a second
    draws that much more; a seeded sample trims any excess. With ``min_per_user`` None (the
    25M runs) that is all, best effort: on a small catalogue the second pass repeats a little
    more, so the caller reports the count it got. With an int ``min_per_user`` (small, dense
    shapes, where heavy users repeat much more as they draw more) the result has exactly
    ``n_ratings`` rows and every user at least ``min_per_user``: each user draws FLOOR_MARGIN
    more than it, up to EXACT_PASSES passes (of at most MAX_DRAW_FACTOR x ``n_ratings``
    draws) are drawn to reach ``n_ratings`` distinct pairs, and the trim never takes a user
    below the minimum. ValueError when the sizes cannot hold that (n_items < min_per_user,
    n_ratings > n_users x n_items); RuntimeError when the passes still fall short.
    """
    if min_per_user is not None and (n_items < min_per_user or n_ratings > n_users * n_items):
        raise ValueError(f"{n_users} users x {n_items} items cannot hold {n_ratings} distinct ratings with "
                         f">= {min_per_user} per user")
    knobs = dict(stars=stars, pop_exponent=pop_exponent, pop_offset=pop_offset, activity_sd=activity_sd,
                 user_bias_sd=user_bias_sd, item_bias_sd=item_bias_sd,
                 floor=MIN_PER_USER if min_per_user is None else int(min_per_user) + FLOOR_MARGIN)
    out = _draw(n_ratings, n_users, n_items, n_tastes, seed, **knobs)
    draws = n_ratings
    for _ in range(1 if min_per_user is None else EXACT_PASSES):
        if len(out) >= n_ratings:
            break
        draws = int(draws * n_ratings / len(out) * 1.02)
        if min_per_user is not None:
            draws = min(draws, MAX_DRAW_FACTOR * n_ratings)
        out = _draw(draws, n_users, n_items, n_tastes, seed, **knobs)
    if min_per_user is None:
        take = min(n_ratings, len(out))
        return out.sample(n=take, random_state=seed).sort_index().reset_index(drop=True)
    if len(out) < n_ratings:
        raise RuntimeError(f"only {len(out)} distinct ratings of {n_ratings} after {EXACT_PASSES + 1} passes "
                           f"of <= {MAX_DRAW_FACTOR} x n_ratings draws: too dense a shape for this generator")
    return _trim_keeping(out, n_ratings, int(min_per_user), seed)


def generate_ml100k(seed: int = 0) -> pd.DataFrame:
    """The MovieLens-100k-shaped set: :data:`ML100K` sizes with :data:`ML100K_SHAPE` knobs
    (943 users, 1,682 items, 100,000 ratings, 1-5 integer stars, every user >= 20)."""
    return generate(**ML100K, seed=seed, **ML100K_SHAPE)


def _trim_keeping(df: pd.DataFrame, take: int, minimum: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``take`` rows of ``df`` in which every user keeps >= ``minimum``.

    Each user's first ``minimum`` rows in a seeded random order are kept; the rest of the
    sample is drawn from the other rows. RuntimeError names users with fewer than
    ``minimum`` rows to begin with."""
    per_user = df.groupby("userId").size()
    short = per_user[per_user < minimum]
    if len(short):
        raise RuntimeError(f"{len(short)} users have < {minimum} distinct ratings after repeats "
                           f"(e.g. {short.index[:5].tolist()}): raise n_ratings or lower the minimum")
    shuffled = df.sample(frac=1.0, random_state=seed)
    keep = shuffled.groupby("userId").cumcount().to_numpy() < minimum
    rest = shuffled[~keep].sample(n=take - int(keep.sum()), random_state=seed)
    return pd.concat([shuffled[keep], rest]).sort_index().reset_index(drop=True)


def _draw(n_ratings: int, n_users: int, n_items: int, n_tastes: int, seed: int, *,
          stars: tuple[float, float, float], pop_exponent: float, pop_offset: float, activity_sd: float,
          user_bias_sd: float, item_bias_sd: float, floor: int) -> pd.DataFrame:
    """One pass of the generator: ``n_ratings`` draws (>= ``floor`` per user), repeated
    (user, item) pairs dropped; the knobs are :func:`generate`'s."""
    if min(n_ratings, n_users, n_items, n_tastes) < 1 or n_ratings < n_users * floor:
        raise ValueError(f"need n_ratings >= {floor} x n_users and positive sizes, got "
                         f"{n_ratings}, {n_users}, {n_items}, {n_tastes}")
    rng = np.random.default_rng(seed)
    pop = (np.arange(n_items) + pop_offset) ** -pop_exponent
    pop = rng.permutation(pop)                       # popularity not tied to the id
    taste = rng.integers(0, n_tastes, n_items)       # item -> cluster
    # activity: log-normal, shifted so every user draws >= floor, scaled to n_ratings
    act = rng.lognormal(0.0, activity_sd, n_users)
    extra = n_ratings - floor * n_users
    counts = floor + np.floor(act / act.sum() * extra).astype("int64")
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
    noise = rng.normal(0, 0.8, n)
    if user_bias_sd or item_bias_sd:
        # Their own stream: the main one (so every frame of the default knobs) is unchanged.
        brng = np.random.default_rng([seed, 1])
        mean = mean + brng.normal(0, user_bias_sd, n_users)[users] + brng.normal(0, item_bias_sd, n_items)[items]
    lo, hi, step = stars
    rating = np.clip(np.round((mean + noise) / step) * step, lo, hi)
    df = pd.DataFrame({"userId": users + 1, "itemId": items + 1, "rating": rating})
    return df.drop_duplicates(["userId", "itemId"]).reset_index(drop=True)
