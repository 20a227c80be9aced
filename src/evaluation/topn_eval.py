"""Top-N evaluation under StreamRec's one fixed protocol (popularity vs SVD vs production).

Protocol (also in ``references/recommending.md``):

1. each rating goes to test with probability ``TOPN_TEST_FRACTION`` (seeded, :mod:`split`);
2. relevant items of a user = their test ratings >= ``RELEVANT_THRESHOLD``;
3. candidates = every item seen in training that the user has not rated in training;
4. each model ranks the candidates; precision/recall/NDCG/MAP@k are averaged over users
   with >= 1 relevant item; coverage = share of the training items shown to anyone.

Models: "popularity" (count of training ratings), "svd_predicted" (Surprise SVD ranked by
predicted rating μ + b_u + b_i + q_i·p_u, unclipped so 5★ ties do not scramble the order),
and "production" (the EASE ranker the Recommender serves, :func:`src.models.topn.fit_ranker`).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from src.config import (
    GENRE_AFFINITY_WEIGHT,
    ITEM_ID_COL,
    RATING_COL,
    RELEVANT_THRESHOLD,
    SEED,
    TOPN_K,
    TOPN_TEST_FRACTION,
    USER_COL,
)
from src.evaluation.metrics import mean_ranking_metrics
from src.models.split import bernoulli_split
from src.models.topn import (
    blend_genre_affinity,
    check_ratings_frame,
    fit_ranker,
    genre_matrix,
)
from src.models.train_model import fit_svd  # the same SVD fit training uses
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["evaluate_topn", "topk_indices", "svd_score_matrix"]


def topk_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k best scores of each row, best first (rows × min(k, cols)).

    In: 2-D float scores where masked entries are -inf. Out: int indices. -inf entries
    can come out only when a row has fewer than k finite scores; callers drop them.
    """
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def svd_score_matrix(algo, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
    """Predicted ratings μ + b_u + b_i + q_i·p_u (unclipped) for users × items, vectorised.

    Ids unknown to the trainset get the baseline parts only (b_u or b_i = 0, factors 0),
    exactly as Surprise's own ``estimate`` would fall back.
    """
    ts = algo.trainset

    def inner(ids, to_inner):
        out = np.full(len(ids), -1, dtype="int64")
        for n, raw in enumerate(ids):
            try:
                out[n] = to_inner(raw)
            except ValueError:
                pass
        return out

    uin = inner(user_ids.tolist(), ts.to_inner_uid)
    iin = inner(item_ids.tolist(), ts.to_inner_iid)
    pu = np.where(uin[:, None] >= 0, algo.pu[np.maximum(uin, 0)], 0.0)
    bu = np.where(uin >= 0, algo.bu[np.maximum(uin, 0)], 0.0)
    qi = np.where(iin[:, None] >= 0, algo.qi[np.maximum(iin, 0)], 0.0)
    bi = np.where(iin >= 0, algo.bi[np.maximum(iin, 0)], 0.0)
    return ts.global_mean + bu[:, None] + bi[None, :] + pu @ qi.T


def _lists_from_scores(scores: np.ndarray, seen_mask: np.ndarray, col_ids: np.ndarray,
                       users: np.ndarray, k: int) -> dict:
    """Mask seen items, take the top k of each row, map to raw ids: {user: [ids]}."""
    scores = np.where(seen_mask, -np.inf, scores.astype("float64"))
    idx = topk_indices(scores, k)
    finite = np.isfinite(np.take_along_axis(scores, idx, axis=1))
    return {int(u): col_ids[idx[r][finite[r]]].tolist() for r, u in enumerate(users)}


def evaluate_topn(ratings: pd.DataFrame, k: int = TOPN_K, seed: int = SEED,
                  svd_params: dict | None = None, ranker_params: dict | None = None,
                  test_fraction: float = TOPN_TEST_FRACTION, item_genres: pd.Series | None = None,
                  genre_beta: float = GENRE_AFFINITY_WEIGHT, notes: dict | None = None) -> dict[str, dict]:
    """Run the fixed top-N protocol; return {model_name: metrics}.

    In: model-ready ratings (userId, itemId, rating), k, seed, SVD params (default
    config), optional EASE params (``fit_ranker`` keywords), and the catalogue genres
    (Series item id -> "A|B"; e.g. ``features.set_index("id")["genres"]``) so "production"
    includes the Recommender's genre-affinity blend exactly as served (β = ``genre_beta``;
    without genres it is EASE alone). Out: {"popularity",
    "svd_predicted", "production"} → {"precision@k", "recall@k", "ndcg@k", "map@k",
    "coverage", "users", "fit_seconds"} (numbers only, so reports can tabulate them).
    ``notes``, when given, receives ``{"production": reason}`` if the memory guard shrank
    EASE's item set (``fit_ranker``'s ``params["memory_cap"]``).
    """
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    train, test = bernoulli_split(df, test_fraction=test_fraction, seed=seed)
    item_ids = np.sort(train[ITEM_ID_COL].unique())
    users_train = np.sort(train[USER_COL].unique())
    rel = test[(test[RATING_COL] >= RELEVANT_THRESHOLD) & test[USER_COL].isin(users_train)]
    relevant = {int(u): set(g.tolist()) for u, g in rel.groupby(USER_COL)[ITEM_ID_COL]}
    users = np.array(sorted(relevant), dtype="int64")
    log.info("top-N protocol: %d train / %d test ratings, %d candidate items, %d users with a "
             "relevant test item (rating >= %.1f)", len(train), len(test), len(item_ids),
             len(users), RELEVANT_THRESHOLD)
    if len(users) == 0:
        raise ValueError("no user has a relevant test rating; need more ratings")

    # Seen mask over the candidate columns (users × training items).
    col_of = pd.Index(item_ids)
    row_of = pd.Index(users)
    seen_rows = train[train[USER_COL].isin(users)]
    seen = np.zeros((len(users), len(item_ids)), dtype=bool)
    seen[row_of.get_indexer(seen_rows[USER_COL]), col_of.get_indexer(seen_rows[ITEM_ID_COL])] = True

    results: dict[str, dict] = {}

    def _score(name: str, lists: dict, fit_seconds: float) -> None:
        m = mean_ranking_metrics(lists, relevant, k, n_items=len(item_ids))
        m["fit_seconds"] = round(fit_seconds, 3)
        results[name] = m
        log.info("%-14s ndcg@%d=%.4f precision@%d=%.4f recall@%d=%.4f coverage=%.3f", name, k,
                 m[f"ndcg@{k}"], k, m[f"precision@{k}"], k, m[f"recall@{k}"], m["coverage"])

    # Popularity: count of training ratings, identical for every user.
    t0 = time.perf_counter()
    counts = train[ITEM_ID_COL].value_counts().reindex(item_ids).to_numpy("float64")
    fit_s = time.perf_counter() - t0
    _score("popularity", _lists_from_scores(np.broadcast_to(counts, seen.shape), seen, item_ids,
                                             users, k), fit_s)

    # SVD ranked by predicted rating (the original notebook's approach, on real users).
    with timed(log, "SVD fit (top-N protocol)") as t:
        algo = fit_svd(train, svd_params, seed)
    _score("svd_predicted", _lists_from_scores(svd_score_matrix(algo, users, item_ids), seen,
                                                item_ids, users, k), t["seconds"])

    # Production: EASE; its columns may be a subset of the candidates (min_count), the rest
    # stay -inf so it can only recommend what it can score — exactly as served.
    with timed(log, "EASE fit (top-N protocol)") as t:
        ranker = fit_ranker(train, **(ranker_params or {}))
    scores = np.full(seen.shape, -np.inf)
    cols = col_of.get_indexer(ranker.item_ids)
    # A user whose training ratings all fell outside EASE's item set (min_count, max_items,
    # the memory cap) has no history row: they get no list, as served EASE would give none.
    known = np.isin(users, ranker.user_ids)
    cf = ranker.score_users(users[known])
    if item_genres is not None and genre_beta:
        gm, _ = genre_matrix(ranker.item_ids, item_genres)
        cf = blend_genre_affinity(cf, ranker.history_weights(users[known]), gm, genre_beta)
    scores[np.ix_(np.flatnonzero(known), cols)] = cf
    _score("production", _lists_from_scores(scores, seen, item_ids, users, k), t["seconds"])
    log.info("production = EASE %s", ranker.params)
    if notes is not None and ranker.params.get("memory_cap"):
        notes["production"] = ranker.params["memory_cap"]
    return results
