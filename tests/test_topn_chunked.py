"""Chunked top-N scoring (issue 14): user blocks give the same lists as one dense matrix."""

import numpy as np
import pandas as pd

from src.config import ITEM_ID_COL, RATING_COL, USER_COL
from src.evaluation.topn_eval import block_rows, chunked_lists, score_lists


def _data(seed=0, n_users=23, n_items=17):
    rng = np.random.default_rng(seed)
    users = np.arange(1, n_users + 1, dtype="int64")
    col_ids = np.arange(100, 100 + n_items, dtype="int64")
    scores = rng.normal(size=(n_users, n_items))
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    pairs = [(u, i) for u in users for i in col_ids if rng.random() < 0.3]
    train = pd.DataFrame(pairs, columns=[USER_COL, ITEM_ID_COL])
    train[RATING_COL] = 4.0
    allowed = rng.random(n_items) < 0.9
    return users, col_ids, scores, train, allowed


def test_chunked_lists_equal_unchunked_for_tiny_blocks():
    users, col_ids, scores, train, allowed = _data()
    row_of = pd.Index(users)
    full = score_lists(scores, users, col_ids, train, allowed, k=5)
    assert any(len(v) == 5 for v in full.values())
    for rows in (1, 4, 7, len(users) + 3):
        got = chunked_lists(lambda b: scores[row_of.get_indexer(b)], users, col_ids, train, allowed,
                            k=5, rows=rows)
        assert got == full


def test_block_rows_bounds_block_bytes():
    assert block_rows(45_000, block_bytes=64 * 2**20) == 64 * 2**20 // (16 * 45_000)
    assert block_rows(10**9, block_bytes=1) == 1


def test_ranker_and_count_lists_in_blocks_equal_one_dense_matrix():
    from src.evaluation.topn_eval import count_lists, ranker_lists
    from src.models.topn import fit_ranker

    users, col_ids, _, train, allowed = _data(seed=1)
    train[RATING_COL] = np.where(np.arange(len(train)) % 3 == 0, 5.0, 4.0)
    # EASE knows only items with >= 3 interactions and the users rating them; user 999 is new.
    rk = fit_ranker(train, lam=2.0, min_count=3)
    asked = np.append(users, 999)
    dense = np.full((len(asked), len(col_ids)), -np.inf)
    known = np.isin(asked, rk.user_ids)
    cols = pd.Index(col_ids).get_indexer(rk.item_ids)
    dense[np.ix_(np.flatnonzero(known), cols)] = rk.score_users(asked[known])
    full = score_lists(dense, asked, col_ids, train, allowed, k=5)
    assert full[999] == [] and any(len(v) == 5 for v in full.values())
    for rows in (1, 5, 100):
        assert ranker_lists(rk, asked, col_ids, train, allowed, 5, rows=rows) == full
    counts = train[ITEM_ID_COL].value_counts().reindex(col_ids).fillna(0).to_numpy("float64")
    pop = score_lists(np.broadcast_to(np.where(counts > 0, counts, -np.inf), (len(asked), len(col_ids))),
                      asked, col_ids, train, allowed, k=5)
    assert count_lists(counts, asked, col_ids, train, allowed, 5, rows=2) == pop
