"""ANN over ALS item factors (hnswlib): recall@10 against exact search on real ratings_small
factors, exact scores on the returned items, the history excluded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import ITEM_ID_COL
from src.models.factor_ann import FactorAnn, ann_recall
from src.models.factor_ranker import fit_factor_ranker


def test_ann_recall_exact_rerank_and_exclusions(shared_data):
    df = pd.read_csv(shared_data / "ratings_small.csv.gz").rename(columns={"movieId": ITEM_ID_COL})
    rk = fit_factor_ranker(df, factors=32, iterations=8)
    ann = FactorAnn(rk.item_factors)
    recall = ann_recall(ann, rk.user_factors[:200], k=10)
    assert recall >= 0.95, recall
    # returned scores are the exact dot products, best first, and the history is left out
    user = rk.user_ids[3]
    items, ratings = rk.user_history(user)
    hist = rk.positions(items)
    pos, score = ann.top_n(rk.user_factors[3], n=10, exclude=hist)
    assert len(pos) == 10 and not np.isin(pos, hist).any()
    assert np.allclose(score, rk.score_users([user])[0][pos], atol=1e-4)
    assert np.all(np.diff(score) <= 0)
    # with exact search over the non-history items it agrees on most of the list
    full = rk.score_users([user])[0].astype("float64")
    full[hist] = -np.inf
    assert len(np.intersect1d(np.argsort(-full)[:10], pos)) >= 8
