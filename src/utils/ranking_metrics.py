"""Top-N ranking metrics: pure functions over one user's list, plus a per-user averager.

Every function takes ``recommended`` (ranked item ids, best first) and ``relevant`` (the
set of item ids the user actually liked in the held-out data). Ids must share one kind:
comparing string ids with integer ids would silently score 0, so it raises instead.
Empty input raises ``ValueError``: a metric of nothing is a bug upstream, not a zero.
In utils, the bottom layer, because both evaluation and the models layer (the Spark engine's
validation tuning, :mod:`src.models.spark_als`) score lists with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "precision_at_k", "recall_at_k", "ndcg_at_k", "average_precision_at_k", "coverage",
    "mean_ranking_metrics",
]


def _kind(x) -> str:
    """Classify one id as 'int' or 'str' (anything else is rejected)."""
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"item ids must be int or str, got bool {x!r}")
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, (str, np.str_)):
        return "str"
    # Floats are accepted only when integral (ids read from a CSV with NaNs become floats).
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return "int"
    raise ValueError(f"item ids must be int or str, got {type(x).__name__} {x!r}")


def _check(recommended: Sequence, relevant: Iterable, k: int) -> tuple[list, set]:
    """Validate inputs; return (top-k list, relevant set) with ids normalised to int/str.

    Raises ValueError when k < 1, when either side is empty, when the recommended list
    repeats an item, or when the two sides hold different id kinds (str vs int).
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    rec = list(recommended)
    rel = set(relevant)
    if not rec:
        raise ValueError("recommended is empty")
    if not rel:
        raise ValueError("relevant is empty (average only over users with >= 1 relevant item)")
    kinds = {_kind(x) for x in rec} | {_kind(x) for x in rel}
    if len(kinds) > 1:
        raise ValueError("recommended and relevant hold different id types (str vs int); "
                         "cast both to the same dtype first")
    if "int" in kinds:
        rec = [int(x) for x in rec]
        rel = {int(x) for x in rel}
    if len(set(rec)) != len(rec):
        raise ValueError("recommended repeats an item")
    return rec[:k], rel


def precision_at_k(recommended: Sequence, relevant: Iterable, k: int = 10) -> float:
    """Precision@k = |top-k ∩ relevant| / k.

    In: ranked ids, relevant ids, k. Out: float in [0, 1]. The denominator is k even when
    fewer than k items were recommended (a short list is not rewarded).
    """
    top, rel = _check(recommended, relevant, k)
    return sum(1 for x in top if x in rel) / k


def recall_at_k(recommended: Sequence, relevant: Iterable, k: int = 10) -> float:
    """Recall@k = |top-k ∩ relevant| / |relevant|.

    In: ranked ids, relevant ids, k. Out: float in [0, 1].
    """
    top, rel = _check(recommended, relevant, k)
    return sum(1 for x in top if x in rel) / len(rel)


def ndcg_at_k(recommended: Sequence, relevant: Iterable, k: int = 10) -> float:
    """NDCG@k with binary gain and log2 discount.

    DCG@k = Σ_{i=1..k} rel_i / log2(i + 1) (rel_i = 1 if the i-th item is relevant);
    IDCG@k = Σ_{i=1..min(k, |relevant|)} 1 / log2(i + 1); NDCG@k = DCG@k / IDCG@k.
    In: ranked ids, relevant ids, k. Out: float in [0, 1].
    """
    top, rel = _check(recommended, relevant, k)
    dcg = sum(1.0 / np.log2(i + 2) for i, x in enumerate(top) if x in rel)
    idcg = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(rel))))
    return float(dcg / idcg)


def average_precision_at_k(recommended: Sequence, relevant: Iterable, k: int = 10) -> float:
    """AP@k = (1 / min(k, |relevant|)) · Σ_{i=1..k} P@i · rel_i.

    P@i is the precision of the first i items; the mean of AP@k over users is MAP@k.
    In: ranked ids, relevant ids, k. Out: float in [0, 1].
    """
    top, rel = _check(recommended, relevant, k)
    hits, total = 0, 0.0
    for i, x in enumerate(top, start=1):
        if x in rel:
            hits += 1
            total += hits / i
    return total / min(k, len(rel))


def coverage(recommended_lists: Iterable[Sequence], n_items: int, k: int | None = None) -> float:
    """Catalogue coverage = |∪_u top-k(u)| / n_items.

    In: every user's ranked list, the catalogue (candidate item) size, optional k cut.
    Out: the share of the catalogue that appears in at least one list, in [0, 1].
    """
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items!r}")
    lists = [list(lst)[:k] if k else list(lst) for lst in recommended_lists]
    if not lists:
        raise ValueError("recommended_lists is empty")
    kinds = {_kind(x) for lst in lists for x in lst}
    if len(kinds) > 1:
        raise ValueError("recommended lists mix str and int item ids")
    shown = {x for lst in lists for x in lst}
    if len(shown) > n_items:
        raise ValueError(f"{len(shown)} distinct items recommended but n_items={n_items}")
    return len(shown) / n_items


def mean_ranking_metrics(recommended: Mapping, relevant: Mapping, k: int, n_items: int) -> dict:
    """Average precision/recall/NDCG/MAP@k over users with >= 1 relevant item, plus coverage.

    In: ``recommended`` {user: ranked ids}, ``relevant`` {user: relevant ids} (users with
    an empty relevant set are skipped, as the protocol says), k, and the number of candidate
    items for coverage. Out: {"precision@k", "recall@k", "ndcg@k", "map@k", "coverage",
    "users"}. Raises ValueError when no user has both a list and a relevant item.
    """
    users = [u for u, rel in relevant.items() if len(rel) and u in recommended]
    if not users:
        raise ValueError("no user has both recommendations and >= 1 relevant item")
    rows = np.array([
        # A user whose list came out empty (every candidate already rated) scores 0, not an error.
        (precision_at_k(recommended[u], relevant[u], k), recall_at_k(recommended[u], relevant[u], k),
         ndcg_at_k(recommended[u], relevant[u], k), average_precision_at_k(recommended[u], relevant[u], k))
        if len(recommended[u]) else (0.0, 0.0, 0.0, 0.0)
        for u in users
    ])
    means = rows.mean(axis=0)
    return {
        f"precision@{k}": float(means[0]),
        f"recall@{k}": float(means[1]),
        f"ndcg@{k}": float(means[2]),
        f"map@{k}": float(means[3]),
        "coverage": coverage((recommended[u] for u in recommended if len(recommended[u])), n_items, k),
        "users": len(users),
    }


def mean_popularity_rank(recommended_lists: Iterable[Sequence], popularity_rank: Mapping) -> float:
    """Mean popularity rank of every recommended title (1 = the most-rated title).

    In: ranked lists and {item: rank} (rank by training ratings, ties averaged; items
    missing from the map rank last). Lower = more mainstream. Raises ValueError when empty.
    """
    worst = float(len(popularity_rank) + 1)
    ranks = [float(popularity_rank.get(x, worst)) for lst in recommended_lists for x in lst]
    if not ranks:
        raise ValueError("recommended_lists holds no item")
    return float(np.mean(ranks))


def share_in(recommended_lists: Iterable[Sequence], subset: set) -> float:
    """Share of recommended slots holding an item of ``subset`` (e.g. the series), in [0, 1]."""
    items = [x for lst in recommended_lists for x in lst]
    if not items:
        raise ValueError("recommended_lists holds no item")
    return float(np.mean([x in subset for x in items]))
