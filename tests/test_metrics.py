"""Ranking metrics against hand-computed values, their input checks, and the seeded split."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from src.utils.ranking_metrics import (
    average_precision_at_k,
    coverage,
    mean_ranking_metrics,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from src.models.split import bernoulli_split

REC = [10, 20, 30, 40, 50]
REL = {20, 50, 99}


def test_metrics_match_hand_computed_values():
    # hits at ranks 2 and 5
    assert precision_at_k(REC, REL, 5) == pytest.approx(2 / 5)
    assert recall_at_k(REC, REL, 5) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(REC, REL, 5) == pytest.approx(dcg / idcg)
    assert average_precision_at_k(REC, REL, 5) == pytest.approx((1 / 2 + 2 / 5) / 3)
    # cut at k=2: one hit at rank 2
    assert precision_at_k(REC, REL, 2) == pytest.approx(1 / 2)
    assert ndcg_at_k(REC, REL, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert average_precision_at_k(REC, REL, 2) == pytest.approx((1 / 2) / 2)
    assert ndcg_at_k([20, 50, 99], REL, 3) == pytest.approx(1.0)
    assert coverage([[1, 2], [2, 3]], n_items=10) == pytest.approx(0.3)


def test_mean_skips_users_without_relevant_items():
    m = mean_ranking_metrics({1: [1, 2], 2: [3, 4], 3: [5, 6]}, {1: {1}, 2: {9}, 3: set()}, k=2, n_items=6)
    assert m["users"] == 2
    assert m["precision@2"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["coverage"] == pytest.approx(1.0)


@pytest.mark.parametrize("fn", [precision_at_k, recall_at_k, ndcg_at_k, average_precision_at_k])
def test_empty_and_mismatched_inputs_raise(fn):
    with pytest.raises(ValueError, match="empty"):
        fn([], {1}, 10)
    with pytest.raises(ValueError, match="empty"):
        fn([1], set(), 10)
    with pytest.raises(ValueError, match="id types"):
        fn(["1", "2"], {1, 2}, 10)          # str vs int would silently give 0
    with pytest.raises(ValueError, match="k must"):
        fn([1], {1}, 0)
    # numpy ints and integral floats count as ints
    assert fn(np.array([1, 2]), {np.int64(1)}, 2) == fn([1, 2], {1.0}, 2)


def test_coverage_input_checks():
    with pytest.raises(ValueError):
        coverage([], 10)
    with pytest.raises(ValueError):
        coverage([[1, 2, 3]], 2)
    with pytest.raises(ValueError):
        coverage([[1], ["a"]], 10)


def test_split_is_seeded_and_partitions():
    df = pd.DataFrame({"userId": np.arange(5000) % 50, "itemId": np.arange(5000), "rating": 4.0})
    tr1, te1 = bernoulli_split(df, 0.2, seed=7)
    tr2, te2 = bernoulli_split(df, 0.2, seed=7)
    _, te3 = bernoulli_split(df, 0.2, seed=8)
    assert te1.index.equals(te2.index) and tr1.index.equals(tr2.index)
    assert not te1.index.equals(te3.index)
    assert len(set(tr1.index) & set(te1.index)) == 0
    assert len(tr1) + len(te1) == len(df)
    assert 0.17 < len(te1) / len(df) < 0.23
    with pytest.raises(ValueError, match="test_fraction"):
        bernoulli_split(df, 1.5)
    with pytest.raises(ValueError, match="empty"):
        bernoulli_split(df.iloc[:0])
