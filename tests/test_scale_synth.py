"""The benchmark's MovieLens-25M-shaped generator: seeded, the asked shape, long-tailed
popularity, and a planted taste a recommender can find."""

from __future__ import annotations

import pytest

from bench.scale_synth import MIN_PER_USER, generate
from src.evaluation.ranker_holdout import compare_rankers
from src.models.factor_ranker import fit_factor_ranker


def test_generator_is_seeded_shaped_and_long_tailed():
    df = generate(60_000, 1_000, 2_000, seed=3)
    assert df.equals(generate(60_000, 1_000, 2_000, seed=3))
    assert not df.equals(generate(60_000, 1_000, 2_000, seed=4))
    assert 0.9 * 60_000 <= len(df) <= 60_000
    assert not df.duplicated(["userId", "itemId"]).any()
    assert df["userId"].between(1, 1_000).all() and df["itemId"].between(1, 2_000).all()
    assert df["rating"].between(0.5, 5.0).all() and ((df["rating"] * 2) % 1 == 0).all()
    per_user = df.groupby("userId").size()
    assert per_user.median() >= MIN_PER_USER * 0.8 and per_user.max() > 4 * per_user.median()
    counts = df["itemId"].value_counts()
    assert counts.iloc[:20].sum() > 5 * counts.iloc[-200:].sum()  # head ≫ tail
    # planted taste: a personal model finds far more than the popularity chart does
    res = compare_rankers(df, {"als": lambda t: fit_factor_ranker(t, factors=16, iterations=5)})
    assert res["als"]["ndcg@10"] > 2 * res["popularity"]["ndcg@10"], res
    with pytest.raises(ValueError, match="n_ratings"):
        generate(100, 1_000, 10)
