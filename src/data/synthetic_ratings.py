"""Synthetic MovieLens ratings with planted structure a collaborative model can learn.

Generative model (all parameters are the module constants below)::

    rating(u, i) = clip(round_to_half(GLOBAL_MEAN + b_u + q_i + a_u . g_i
                                      + DIRECTOR_BOOST * [director(i) liked by u]
                                      + ACTOR_BOOST * #[top-3 cast of i liked by u]
                                      + N(0, RATING_NOISE_SD)), 0.5, 5.0)

``b_u`` a user bias, ``q_i`` the title's hidden quality, ``a_u`` the user's 20 genre
affinities and ``g_i`` the title's genre profile (1/len(genres) on each of its genres).
GENRE_LOVER_SHARE of users strongly love one genre. Which titles a user rates is drawn
without replacement with weight ``popularity_i * exp(SELECTION_STRENGTH * a_u . g_i)``
(times ``exp(LOVER_SELECTION_BONUS)`` for a lover's loved genre; Gumbel top-k), so counts
per title are heavy-tailed and users mostly watch what they like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

GLOBAL_MEAN = 3.1            # before selection: users pick liked titles, so the mean ends ~3.6
USER_BIAS_SD = 0.35
AFFINITY_SD = 0.9            # sd of each user's affinity for each genre (stars)
GENRE_LOVER_SHARE = 0.15     # share of users who strongly love one genre
LOVER_BOOST = 2.0            # added to a lover's affinity for the loved genre
LOVER_OTHER_PENALTY = 0.4    # subtracted from a lover's other affinities
DIRECTORS_LIKED = 3          # directors each user particularly likes
DIRECTOR_BOOST = 0.6
ACTORS_LIKED = 5             # actors each user particularly likes
ACTOR_BOOST = 0.3
RATING_NOISE_SD = 0.4        # irreducible noise: with rounding to halves, RMSE floor ~0.42
SELECTION_STRENGTH = 0.6     # how strongly taste drives which titles a user rates
LOVER_SELECTION_BONUS = 1.5  # extra log-weight of loved-genre titles when a lover picks what to rate
RATINGS_SIGMA = 1.0          # lognormal sigma of ratings per user (heavy users)
FIRST_TIMESTAMP = 820_454_400    # 1996-01-01
LAST_TIMESTAMP = 1_501_545_600   # 2017-08-01
USER_CHUNK = 256             # users per vectorised selection block


@dataclass
class SimulatedRatings:
    """Ratings as parallel arrays, plus the hidden truth tests may check against."""

    user: np.ndarray         # userId (1-based)
    item: np.ndarray         # catalogue index of the title
    rating: np.ndarray       # float, 0.5..5.0 in 0.5 steps
    timestamp: np.ndarray    # int epoch seconds
    loved_genre: dict[int, int]  # userId -> genre index, for genre lovers


def ratings_per_user(rng: np.random.Generator, n_users: int, mean: float, minimum: int,
                     n_items: int) -> np.ndarray:
    """In: rng, users, target mean, floor, catalogue size. Out: heavy-tailed counts >= floor
    (lognormal above the floor), capped at half the catalogue."""
    extra = max(mean - minimum, 1.0)
    mu = np.log(extra) - RATINGS_SIGMA ** 2 / 2
    k = minimum + np.floor(rng.lognormal(mu, RATINGS_SIGMA, size=n_users)).astype(np.int64)
    return np.minimum(k, max(minimum, n_items // 2))


def simulate(rng: np.random.Generator, genre_matrix: np.ndarray, quality: np.ndarray,
             pop_weight: np.ndarray, director: np.ndarray, top_cast: np.ndarray,
             n_users: int, mean_per_user: float, min_per_user: int,
             progress: bool = False) -> SimulatedRatings:
    """Draw who rates what and the ratings.

    In: rng; per title: (n, 20) genre profile, hidden quality, popularity weight, director
    index, (n, 3) top-cast indices (-1 = none); users, mean and minimum ratings per user.
    Out: :class:`SimulatedRatings` sorted by user then catalogue index.
    """
    n_items, n_genres = genre_matrix.shape
    if n_items < min_per_user:
        raise ValueError(f"n_movies: {n_items} titles cannot give {min_per_user} ratings per user")
    bias = rng.normal(0.0, USER_BIAS_SD, size=n_users)
    aff = rng.normal(0.0, AFFINITY_SD, size=(n_users, n_genres)).astype(np.float32)
    lovers = np.flatnonzero(rng.random(n_users) < GENRE_LOVER_SHARE)
    # Lovers pick a genre with enough titles to fill a profile: frequency-weighted.
    gfreq = (genre_matrix > 0).sum(axis=0).astype(float)
    loved = rng.choice(n_genres, size=len(lovers), p=gfreq / gfreq.sum())
    aff[lovers] -= LOVER_OTHER_PENALTY
    aff[lovers, loved] += LOVER_BOOST + LOVER_OTHER_PENALTY
    loved_of = np.full(n_users, -1, np.int64)
    loved_of[lovers] = loved
    p_item = pop_weight / pop_weight.sum()
    liked_dir = director[rng.choice(n_items, size=(n_users, DIRECTORS_LIKED), p=p_item)]
    cast_src = top_cast[rng.choice(n_items, size=(n_users, ACTORS_LIKED), p=p_item),
                        rng.integers(0, top_cast.shape[1], size=(n_users, ACTORS_LIKED))]
    k_u = ratings_per_user(rng, n_users, mean_per_user, min_per_user, n_items)

    log_pop = np.log(pop_weight).astype(np.float32)
    order = np.argsort(k_u, kind="stable")  # similar k per block: cheap top-k per block
    users_out, items_out = [], []
    blocks = range(0, n_users, USER_CHUNK)
    for start in tqdm(blocks, desc="ratings", unit="block", disable=not progress):
        us = order[start: start + USER_CHUNK]
        keys = SELECTION_STRENGTH * (aff[us] @ genre_matrix.T) + log_pop
        lover_rows = np.flatnonzero(loved_of[us] >= 0)
        keys[lover_rows] += LOVER_SELECTION_BONUS * (genre_matrix.T[loved_of[us[lover_rows]]] > 0)
        with np.errstate(divide="ignore"):
            keys -= np.log(-np.log(rng.random(keys.shape, dtype=np.float32)))  # + Gumbel
        kmax = int(k_u[us].max())
        top = np.argpartition(-keys, kmax - 1, axis=1)[:, :kmax]
        top_keys = np.take_along_axis(keys, top, axis=1)
        ranked = np.take_along_axis(top, np.argsort(-top_keys, axis=1, kind="stable"), axis=1)
        for row, u in enumerate(us.tolist()):
            sel = ranked[row, : k_u[u]]
            users_out.append(np.full(len(sel), u, np.int64))
            items_out.append(np.sort(sel))
    user_idx = np.concatenate(users_out)
    item = np.concatenate(items_out)
    srt = np.lexsort((item, user_idx))
    user_idx, item = user_idx[srt], item[srt]

    taste = np.einsum("ij,ij->i", aff[user_idx], genre_matrix[item])
    dir_hit = (liked_dir[user_idx] == director[item][:, None]).any(axis=1)
    tc = top_cast[item]
    actor_hits = ((cast_src[user_idx][:, :, None] == tc[:, None, :]) & (tc[:, None, :] >= 0)).any(axis=2).sum(axis=1)
    x = (GLOBAL_MEAN + bias[user_idx] + quality[item] + taste + DIRECTOR_BOOST * dir_hit
         + ACTOR_BOOST * actor_hits + rng.normal(0.0, RATING_NOISE_SD, size=len(item)))
    rating = np.clip(np.round(x * 2) / 2, 0.5, 5.0)

    # Each user is active from a start date over a lognormal span (many rate in one sitting).
    start_t = rng.integers(FIRST_TIMESTAMP, LAST_TIMESTAMP - 86_400, size=n_users)
    span = np.minimum(rng.lognormal(np.log(30 * 86_400), 2.0, size=n_users), LAST_TIMESTAMP - start_t)
    ts = start_t[user_idx] + np.floor(rng.random(len(item)) * span[user_idx]).astype(np.int64)
    loved_genre = {int(u) + 1: int(g) for u, g in zip(lovers, loved)}
    return SimulatedRatings(user_idx + 1, item, rating, ts, loved_genre)
