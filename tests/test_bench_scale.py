"""The scale benchmark's EASE-head + ALS-tail merge (bench.bench_scale.HeadTailRanker): head
columns are EASE's own scores, tail columns ALS's mapped onto EASE's per-user scale, users
EASE never saw get ALS alone, and the whole catalogue is rankable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.bench_scale import HeadTailRanker, crossover_size
from bench.scale_synth import ML25M, generate
from src.evaluation.ranker_holdout import holdout_split, ranker_metrics
from src.models.factor_ranker import fit_factor_ranker
from src.models.topn import fit_ranker


def test_head_tail_merge_keeps_ease_on_the_head_and_scales_als_on_the_tail():
    df = generate(30_000, 500, 1_500, seed=1)
    # one user who rated only tail items: EASE (head = the 200 most-rated) cannot score them
    counts = df["itemId"].value_counts()
    tail_items = counts.index[-25:].to_numpy()
    df = pd.concat([df, pd.DataFrame({"userId": 10_000, "itemId": tail_items, "rating": 5.0})],
                   ignore_index=True)
    train, _test, relevant = holdout_split(df)
    ease = fit_ranker(train, max_items=200)
    als = fit_factor_ranker(train, factors=8, iterations=3)
    rk = HeadTailRanker(ease, als)
    assert len(rk.item_ids) == len(als.item_ids) > 3 * len(ease.item_ids)
    users = np.array([ease.user_ids[0], ease.user_ids[7], 10_000])
    assert 10_000 in als.user_ids and 10_000 not in ease.user_ids
    s, a, e = rk.score_users(users), als.score_users(users), ease.score_users(users[:2])
    head = als.positions(ease.item_ids)
    np.testing.assert_allclose(s[:2][:, head], e, rtol=1e-6)
    tail = np.setdiff1d(np.arange(len(als.item_ids)), head)
    for r in range(2):  # tail = ALS moved onto EASE's mean/std over the head: same order, new scale
        ah = a[r, head]
        expect = (a[r, tail] - ah.mean()) / ah.std() * e[r].std() + e[r].mean()
        np.testing.assert_allclose(s[r, tail], expect, rtol=1e-4, atol=1e-6)
        assert not np.allclose(s[r, tail], a[r, tail])
    np.testing.assert_array_equal(s[2], a[2])
    # the whole catalogue is rankable: tail items reach someone's top 10, unlike capped EASE
    m_h, m_e = ranker_metrics(rk, train, relevant), ranker_metrics(ease, train, relevant)
    assert m_h["coverage"] > m_e["coverage"]


def test_crossover_size_scales_users_and_keeps_every_item():
    assert crossover_size(ML25M["n_ratings"]) == ML25M
    five = crossover_size(5_000_000)
    assert five == {"n_ratings": 5_000_000, "n_users": 32_400, "n_items": ML25M["n_items"]}
