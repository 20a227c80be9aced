"""SLIM-style baseline (src.models.slim) on hand-made matrices: W >= 0, zero diagonal, an
obvious co-occurrence recovered, the neighbour cap, fold-in = batch scores, the memory guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from src.evaluation.topn_eval import ranker_lists
from src.models.slim import fit_slim, slim_peak_bytes, slim_weights
from src.utils.errors import MemoryBudgetError


def _pairs_matrix() -> sp.csr_matrix:
    """8 users x 4 items: items 0 and 1 always together (users 0-3), items 2 and 3 always
    together (users 4-6), user 7 rated 0 and 2 once."""
    x = np.zeros((8, 4))
    x[0:4, [0, 1]] = 1
    x[4:7, [2, 3]] = 1
    x[7, [0, 2]] = 1
    return sp.csr_matrix(x)


def test_slim_weights_are_nonnegative_with_zero_diagonal_and_find_the_pairs():
    w = slim_weights(_pairs_matrix(), alpha=0.01, l1_ratio=0.1, neighbours=None, max_iter=200, tol=1e-6)
    d = w.toarray()
    assert d.shape == (4, 4) and (d >= 0).all() and np.all(np.diag(d) == 0)
    # Item 1 is explained by item 0 (its constant companion) far more than by 2 or 3, and so on.
    assert d[0, 1] > 0.5 and d[0, 1] > 5 * max(d[2, 1], d[3, 1])
    assert d[2, 3] > 0.5 and d[2, 3] > 5 * max(d[0, 3], d[1, 3])
    # Items 1 and 3 never co-occur: no weight either way (the exactness argument of the module doc).
    assert d[1, 3] == 0 and d[3, 1] == 0


def test_neighbour_cap_keeps_at_most_k_entries_per_column():
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((40, 30)) < 0.3).astype("float64"))
    w = slim_weights(x, alpha=1e-3, neighbours=3, max_iter=20)
    per_col = np.diff(w.tocsc().indptr)
    assert per_col.max() <= 3 and w.nnz > 0
    with pytest.raises(ValueError, match="neighbours"):
        slim_weights(x, neighbours=0)
    with pytest.raises(ValueError, match="non-negative"):
        slim_weights(-x)


def _two_tastes() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for u in range(40):
        group = np.arange(1, 11) if u < 20 else np.arange(11, 21)
        rows += [(u, int(i), float(rng.choice([4.0, 5.0]))) for i in rng.choice(group, 6, replace=False)]
    return pd.DataFrame(rows, columns=["userId", "itemId", "rating"])


def test_fit_slim_ranks_the_viewers_taste_and_batch_equals_fold_in():
    df = _two_tastes()
    rk = fit_slim(df, alpha=1e-3, min_count=1)
    assert rk.params["model"] == "slim" and rk.n_items == 20
    s = rk.score_history(np.array([1, 2]), np.array([5.0, 5.0]))
    assert set(rk.item_ids[np.argsort(-s)[:8]]) <= set(range(1, 11))
    users = np.array([3, 30])
    batch = rk.score_users(users)
    for r, u in enumerate(users):
        items, ratings = rk.user_history(u)
        assert np.allclose(batch[r], rk.score_history(items, ratings), atol=1e-6)
    # The protocol's scorer: each user's top-4 unseen titles (4 of their group are left) come from it.
    ids = np.arange(1, 21)
    lists = ranker_lists(rk, users, ids, df, np.ones(20, dtype=bool), 4, rows=1)
    assert set(lists[3]) <= set(range(1, 11)) and set(lists[30]) <= set(range(11, 21))
    with pytest.raises(ValueError, match="unknown user"):
        rk.score_users([999])


def test_fit_slim_memory_guard_keeps_the_most_rated_items_that_fit():
    df = _two_tastes()
    budget_mb = slim_peak_bytes(12, 200) / 2**20
    rk = fit_slim(df, min_count=1, memory_budget_mb=budget_mb)
    assert rk.n_items <= 12 and "memory_cap" in rk.params
    with pytest.raises(MemoryBudgetError):
        fit_slim(df, min_count=1, memory_budget_mb=0)
