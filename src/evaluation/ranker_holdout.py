"""Any ranker on one seeded hold-out split: the same protocol for EASE, ALS, Spark ALS.

The engines of issue 14 (EASE, implicit ALS, Spark MLlib ALS) must be compared on the SAME
held-out split with the SAME candidates and relevance rule as ``invoke evaluate``'s top-N
protocol (:mod:`src.evaluation.topn_eval`): each rating goes to test with probability
``test_fraction`` (seeded), relevant = test rating >= ``RELEVANT_THRESHOLD``, candidates =
training items the user has not rated in training. A ranker is anything with the models
contract (``item_ids``, ``user_ids``, ``score_users``); the popularity baseline is scored on
the same split. Users are scored in chunks, so memory is chunk × items, never users × items.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from src.config import ITEM_ID_COL, RATING_COL, RELEVANT_THRESHOLD, SEED, TOPN_K, TOPN_TEST_FRACTION, USER_COL
from src.utils.ranking_metrics import mean_ranking_metrics
from src.models.split import bernoulli_split
from src.models.topn import check_ratings_frame, fit_popularity

__all__ = ["holdout_split", "ranker_metrics", "compare_rankers"]

# Users scored per batch: 2,000 × 60k items float32 = 480 MB at MovieLens-25M shape.
SCORE_CHUNK = 2_000


def holdout_split(ratings: pd.DataFrame, test_fraction: float = TOPN_TEST_FRACTION,
                  seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, set]]:
    """(train, test, relevant) of the protocol: relevant = {user: test items rated >= threshold}
    for users also present in train."""
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    train, test = bernoulli_split(df, test_fraction=test_fraction, seed=seed)
    rel = test[(test[RATING_COL] >= RELEVANT_THRESHOLD) & test[USER_COL].isin(train[USER_COL].unique())]
    relevant = {int(u): set(g.tolist()) for u, g in rel.groupby(USER_COL)[ITEM_ID_COL]}
    return train, test, relevant


def ranker_metrics(ranker, train: pd.DataFrame, relevant: dict[int, set], k: int = TOPN_K) -> dict:
    """Precision/recall/NDCG/MAP@k and coverage of ``ranker``'s top-k over training items
    minus each user's training items. Users the ranker does not know get no list (they count
    as 0, like a served model that cannot rank them)."""
    candidates = np.sort(train[ITEM_ID_COL].unique())
    col_of = pd.Index(candidates)
    users = np.array(sorted(relevant), dtype="int64")
    known = users[np.isin(users, ranker.user_ids)]
    cols = col_of.get_indexer(np.asarray(ranker.item_ids, dtype="int64"))
    ok = cols >= 0
    # Training rows of the known users sorted by user once, so each chunk of (sorted) users is
    # one contiguous slice: re-filtering the whole frame per chunk cost minutes at 25M ratings.
    seen = train[train[USER_COL].isin(known)]
    seen_users = seen[USER_COL].to_numpy("int64")
    order = np.argsort(seen_users, kind="stable")
    seen_users = seen_users[order]
    seen_cols = col_of.get_indexer(seen[ITEM_ID_COL].to_numpy("int64"))[order]
    lists = {int(u): [] for u in users}
    for lo in range(0, len(known), SCORE_CHUNK):
        chunk = known[lo:lo + SCORE_CHUNK]
        scores = np.full((len(chunk), len(candidates)), -np.inf, dtype="float32")
        scores[:, cols[ok]] = ranker.score_users(chunk)[:, ok]
        a = np.searchsorted(seen_users, chunk[0], side="left")
        b = np.searchsorted(seen_users, chunk[-1], side="right")
        scores[np.searchsorted(chunk, seen_users[a:b]), seen_cols[a:b]] = -np.inf
        kk = min(k, scores.shape[1])
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1,
                                                 kind="stable"), axis=1)
        finite = np.isfinite(np.take_along_axis(scores, top, axis=1))
        for r, u in enumerate(chunk):
            lists[int(u)] = candidates[top[r][finite[r]]].tolist()
    return mean_ranking_metrics(lists, relevant, k, n_items=len(candidates))


def _popularity_with_users(train: pd.DataFrame):
    """The popularity baseline with the training users attached (so it scores like a ranker)."""
    pop = fit_popularity(train)
    pop.user_ids = np.sort(train[USER_COL].unique())
    return pop


def compare_rankers(ratings: pd.DataFrame, fitters: dict[str, Callable[[pd.DataFrame], object]],
                    k: int = TOPN_K, seed: int = SEED, test_fraction: float = TOPN_TEST_FRACTION) -> dict:
    """Fit each ranker on the same training side and score it on the same test side.

    In: ratings, ``{name: fit(train_frame) -> ranker}``, k, seed. Out: ``{"popularity": m,
    name: m, ...}`` with each m the :func:`ranker_metrics` dict plus ``fit_seconds``.
    """
    train, _test, relevant = holdout_split(ratings, test_fraction, seed)
    out = {}
    for name, fit in {"popularity": _popularity_with_users, **fitters}.items():
        t0 = time.perf_counter()
        ranker = fit(train)
        fit_s = time.perf_counter() - t0
        out[name] = {**ranker_metrics(ranker, train, relevant, k), "fit_seconds": round(fit_s, 3)}
    return out
