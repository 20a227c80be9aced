"""Top-N evaluation of the served chain on one seeded random split (the ``topn`` block).

Protocol (also in ``references/recommending.md``):

1. each rating goes to test with probability ``TOPN_TEST_FRACTION`` (seeded, :mod:`split`);
2. relevant items of a user = their test ratings >= ``RELEVANT_THRESHOLD``;
3. candidates = every catalogue title the user has not rated in training (what serving
   can show: the catalogue is the features frame, or the rated items alone without one);
4. each model ranks the candidates; precision/recall/NDCG/MAP@k are averaged over users
   with >= 1 relevant item; coverage = share of the catalogue shown to anyone.

Models: "popularity" (count of training ratings), "svd_predicted" (Surprise SVD ranked by
predicted rating, unclipped), "ease" (EASE alone, the ranker served before the chain) and
"served" — the lists of :meth:`src.models.predict_model.Recommender.recommend_batch`, the
same chain and objects the API serves (LensKit's rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import (
    ID_COL,
    ITEM_ID_COL,
    RATING_COL,
    RELEVANT_THRESHOLD,
    SCORE_BLOCK_BYTES,
    SEED,
    TOPN_K,
    TOPN_TEST_FRACTION,
    USER_COL,
)
from src.evaluation.budgets import sample_eval_users
from src.utils.ranking_metrics import mean_ranking_metrics
from src.models.predict_model import Recommender
from src.models.split import bernoulli_split
from src.models.topn import check_ratings_frame, fit_ranker
from src.models.train_model import fit_svd  # the same SVD fit training uses
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["block_rows", "catalogue_for", "chunked_lists", "count_lists", "evaluate_topn", "ranker_lists",
           "relevant_sets", "score_lists", "svd_score_matrix", "topk_indices"]


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


def catalogue_for(ratings: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """The catalogue to evaluate over: the features frame, or (None) the rated items as
    bare titles (no genres, no text) so the chain still runs, on collaborative signal only."""
    if catalogue is not None:
        return catalogue
    items = np.sort(ratings[ITEM_ID_COL].unique())
    return pd.DataFrame({ID_COL: items, "title": "", "genres": "", "media_type": "movie"})


def relevant_sets(test: pd.DataFrame, users: np.ndarray | None = None) -> dict[int, set]:
    """{user: ids of their test ratings >= RELEVANT_THRESHOLD} (optionally only ``users``)."""
    rel = test[test[RATING_COL] >= RELEVANT_THRESHOLD]
    if users is not None:
        rel = rel[rel[USER_COL].isin(users)]
    return {int(u): set(g.tolist()) for u, g in rel.groupby(USER_COL)[ITEM_ID_COL]}


def score_lists(scores: np.ndarray, users: np.ndarray, col_ids: np.ndarray, train: pd.DataFrame,
                allowed: np.ndarray, k: int) -> dict[int, list[int]]:
    """Top-k lists of users × columns scores: seen (in ``train``) and not-allowed columns masked."""
    col_of = pd.Index(col_ids)
    row_of = pd.Index(users)
    seen_rows = train[train[USER_COL].isin(users) & train[ITEM_ID_COL].isin(col_ids)]
    s = np.where(allowed[None, :], scores.astype("float64"), -np.inf)
    s[row_of.get_indexer(seen_rows[USER_COL]), col_of.get_indexer(seen_rows[ITEM_ID_COL])] = -np.inf
    idx = topk_indices(s, k)
    finite = np.isfinite(np.take_along_axis(s, idx, axis=1))
    return {int(u): col_ids[idx[r][finite[r]]].tolist() for r, u in enumerate(users)}


def block_rows(n_cols: int, block_bytes: int = SCORE_BLOCK_BYTES) -> int:
    """Users per scoring block so one float64 block of ``n_cols`` columns (plus the masked
    copy ``score_lists`` makes) stays within ``block_bytes``; at least 1."""
    return max(1, int(block_bytes) // (2 * 8 * max(int(n_cols), 1)))


def chunked_lists(score_rows, users: np.ndarray, col_ids: np.ndarray, train: pd.DataFrame,
                  allowed: np.ndarray, k: int, rows: int | None = None) -> dict[int, list[int]]:
    """Top-k lists like :func:`score_lists`, scoring ``rows`` users at a time.

    In: ``score_rows(block_users) -> (len(block_users) x len(col_ids))`` scores, the users,
    columns, training ratings, allowed mask, k and the block size (default
    :func:`block_rows`). Out: {user: ids}, identical to scoring all users at once (each row's
    list depends on that row alone), while only one block is ever dense in memory.
    """
    rows = rows or block_rows(len(col_ids))
    train = train[train[USER_COL].isin(users)]
    out: dict[int, list[int]] = {}
    for lo in range(0, len(users), rows):
        block = users[lo:lo + rows]
        out.update(score_lists(score_rows(block), block, col_ids, train, allowed, k))
    return out


def ranker_lists(ranker, users: np.ndarray, col_ids: np.ndarray, train: pd.DataFrame, allowed: np.ndarray,
                 k: int, rows: int | None = None) -> dict[int, list[int]]:
    """Top-k lists of a history ranker alone (EASE, SLIM, ALS: anything with ``item_ids``,
    ``user_ids`` and ``score_users``) over ``col_ids``, scored in user blocks.

    Columns the ranker does not know and users it never saw (e.g. every training rating on an
    item it dropped) score -inf: such a user gets an empty list (0 in the metrics), not an error.
    """
    cols = pd.Index(col_ids).get_indexer(ranker.item_ids)
    ok = cols >= 0
    ranker_users = pd.Index(ranker.user_ids)

    def rows_of(block: np.ndarray) -> np.ndarray:
        s = np.full((len(block), len(col_ids)), -np.inf)
        known = ranker_users.get_indexer(block) >= 0
        if known.any():
            s[np.ix_(np.flatnonzero(known), cols[ok])] = ranker.score_users(block[known])[:, ok]
        return s

    return chunked_lists(rows_of, users, col_ids, train, allowed, k, rows)


def count_lists(counts: np.ndarray, users: np.ndarray, col_ids: np.ndarray, train: pd.DataFrame,
                allowed: np.ndarray, k: int, rows: int | None = None) -> dict[int, list[int]]:
    """The same ranking by ``counts`` (> 0 only; one value per column) for every user, seen
    titles masked, in user blocks (a broadcast view: no users x items copy of the counts)."""
    s = np.where(np.asarray(counts) > 0, counts, -np.inf).astype("float64")
    return chunked_lists(lambda b: np.broadcast_to(s, (len(b), len(col_ids))), users, col_ids, train,
                         allowed, k, rows)


def evaluate_topn(ratings: pd.DataFrame, k: int = TOPN_K, seed: int = SEED,
                  svd_params: dict | None = None, ranker_params: dict | None = None,
                  test_fraction: float = TOPN_TEST_FRACTION,
                  catalogue: pd.DataFrame | None = None, notes: dict | None = None,
                  max_users: int | None = None, sampled: dict | None = None) -> dict[str, dict]:
    """Run the seeded random-split protocol; return {model_name: metrics}.

    In: model-ready ratings (userId, itemId, rating) in the catalogue's id space (callers
    check it, see ``evaluate.main``), k, seed, SVD params (default config), optional EASE
    params (``fit_ranker`` keywords), the catalogue (features frame; None = rated items).
    Out: {"popularity", "svd_predicted", "ease", "served"} → {"precision@k", "recall@k",
    "ndcg@k", "map@k", "coverage", "users", "fit_seconds"}. ``notes``, when given, receives
    ``{"served": reason, "ease": reason}`` if the memory guard shrank EASE's item set
    (``fit_ranker``'s ``params["memory_cap"]``). ``max_users`` (default None: all) caps the
    evaluated users at a seeded sample, the same for every model (fits still use all training
    ratings); when it bites, ``sampled["topn_users"]`` says so (:mod:`src.evaluation.budgets`).
    """
    df = check_ratings_frame(ratings).drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    cat = catalogue_for(df, catalogue)
    train, test = bernoulli_split(df, test_fraction=test_fraction, seed=seed)
    users_train = np.sort(train[USER_COL].unique())
    relevant = relevant_sets(test, users_train)
    users = sample_eval_users(np.array(sorted(relevant), dtype="int64"), max_users, seed, sampled, "topn_users")
    if len(users) < len(relevant):
        relevant = {u: relevant[u] for u in users.tolist()}
    # Past the user budget the chain scores the evaluated users on demand: precomputing every
    # known user's list would run the chain over all of them (the same lists either way,
    # src.models.pipeline.known_lists).
    precompute = max_users is None or len(users_train) <= max_users
    col_ids = np.sort(cat[ID_COL].to_numpy("int64"))
    log.info("top-N protocol: %d train / %d test ratings, %d catalogue titles, %d users with a "
             "relevant test item (rating >= %.1f)", len(train), len(test), len(col_ids),
             len(users), RELEVANT_THRESHOLD)
    if len(users) == 0:
        raise ValueError("no user has a relevant test rating; need more ratings")
    allowed = np.ones(len(col_ids), dtype=bool)
    results: dict[str, dict] = {}

    def _score(name: str, lists: dict, fit_seconds: float) -> None:
        m = mean_ranking_metrics(lists, relevant, k, n_items=len(col_ids))
        m["fit_seconds"] = round(fit_seconds, 3)
        results[name] = m
        log.info("%-14s ndcg@%d=%.4f precision@%d=%.4f recall@%d=%.4f coverage=%.3f", name, k,
                 m[f"ndcg@{k}"], k, m[f"precision@{k}"], k, m[f"recall@{k}"], m["coverage"])

    counts = train[ITEM_ID_COL].value_counts().reindex(col_ids).fillna(0).to_numpy("float64")
    pop = np.where(counts > 0, counts, -np.inf)
    # Every model below is scored in user blocks (chunked_lists): a users x items float64
    # matrix at full scale (270k x 45k) would be ~90 GiB.
    _score("popularity", chunked_lists(lambda b: np.broadcast_to(pop, (len(b), len(col_ids))),
                                       users, col_ids, train, allowed, k), 0.0)
    with timed(log, "SVD fit (top-N protocol)") as t:
        algo = fit_svd(train, svd_params, seed)
    _score("svd_predicted", chunked_lists(lambda b: svd_score_matrix(algo, b, col_ids), users, col_ids,
                                          train, allowed, k), t["seconds"])
    with timed(log, "EASE fit (top-N protocol)") as t:
        ranker = fit_ranker(train, **(ranker_params or {}))
    # A user whose training ratings all fall on items EASE dropped is unknown to it: their
    # EASE list is empty (scores 0 in the metrics), not an error (ranker_lists).
    _score("ease", ranker_lists(ranker, users, col_ids, train, allowed, k), t["seconds"])
    with timed(log, "served chain (top-N protocol)") as t2:
        rec = Recommender.from_models(cat, train, ranker=ranker, precompute=precompute)
        lists = rec.recommend_batch(users, n=k)
    _score("served", lists, t["seconds"] + t2["seconds"])
    log.info("served = chain over EASE %s", ranker.params)
    if notes is not None and ranker.params.get("memory_cap"):
        notes["served"] = notes["ease"] = ranker.params["memory_cap"]
    return results
