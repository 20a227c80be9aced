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


def test_ml100k_shape_is_exact_seeded_and_learnable():
    """The MovieLens-100k-shaped set: exactly 100,000 distinct 1-5 integer ratings of 943 users
    x 1,682 titles, every user >= 20, a long tail, and a planted taste a factor model finds
    (SVD beats the bias-only baseline on a hold-out)."""
    from surprise import SVD, BaselineOnly

    from bench.scale_synth import ML100K, generate_ml100k
    from src.evaluation.rating_cv import holdout_ratings

    df = generate_ml100k(seed=0)
    assert df.equals(generate_ml100k(seed=0)) and not df.equals(generate_ml100k(seed=1))
    assert len(df) == ML100K["n_ratings"] and not df.duplicated(["userId", "itemId"]).any()
    assert df["userId"].nunique() == ML100K["n_users"] and df["itemId"].nunique() == ML100K["n_items"]
    assert set(df["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    per_user = df.groupby("userId").size()
    assert per_user.min() >= MIN_PER_USER and per_user.max() > 4 * per_user.median()
    counts = df["itemId"].value_counts()
    assert counts.max() > 10 * counts.median()   # long-tailed (ML-100k: 583 vs 27)
    res = holdout_ratings(df, {"baseline": lambda: BaselineOnly(verbose=False),
                               "svd": lambda: SVD(n_factors=20, n_epochs=20, random_state=0)})
    # The planted taste is there to find: SVD beats the bias-only baseline (by ~2.6% at seed 0).
    assert res["svd"]["rmse"] < 0.985 * res["baseline"]["rmse"], res


def test_guaranteed_minimum_refuses_shapes_that_cannot_hold_it():
    # An error up front, not silently short users or an ever-growing draw.
    with pytest.raises(ValueError, match="cannot hold"):
        generate(3_000, 50, 15, n_tastes=3, min_per_user=20)      # 15 titles < 20 per user
    with pytest.raises(ValueError, match="cannot hold"):
        generate(3_000, 50, 40, n_tastes=3, min_per_user=20)      # 50 x 40 < 3,000 pairs
    # Possible on paper but too dense for a popularity sampler: refused, never short.
    with pytest.raises(RuntimeError, match="users have < 20 distinct"):
        generate(1_300, 50, 40, n_tastes=2, min_per_user=20)
    with pytest.raises(RuntimeError, match="only .* distinct ratings of 1800"):
        generate(1_800, 50, 40, n_tastes=2, min_per_user=20)
    df = generate(3_000, 50, 400, n_tastes=2, min_per_user=20)
    assert len(df) == 3_000 and df.groupby("userId").size().min() >= 20
