"""Memory guards: nothing allocates a dense items² matrix past the budget — EASE keeps the head
that fits, KNNBaseline is skipped in ``evaluate`` — and the report says so (real ratings_small)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.config import DENSE_BUDGET_ENV, ITEM_ID_COL, USER_COL
from src.evaluation import evaluate
from src.evaluation.rating_cv import BASELINE, KNN, rating_algorithms, skip_over_budget
from src.models.topn import fit_ranker
from src.utils.memory import available_bytes, check_dense, max_dense_items, resolve_budget


@pytest.fixture(scope="module")
def real_subsample(shared_data) -> pd.DataFrame:
    """The first 120 users of ratings_small (real MovieLens ratings), MovieLens ids as itemId."""
    df = pd.read_csv(shared_data / "ratings_small.csv.gz")
    return df[df[USER_COL] <= 120].rename(columns={"movieId": ITEM_ID_COL}).reset_index(drop=True)


def test_budget_sources_and_the_dense_check(monkeypatch):
    assert available_bytes() > 2**26  # this box has more than 64 MiB free
    monkeypatch.delenv(DENSE_BUDGET_ENV, raising=False)
    assert 0 < resolve_budget(None, DENSE_BUDGET_ENV, 0.5) <= available_bytes()
    monkeypatch.setenv(DENSE_BUDGET_ENV, "3")
    assert resolve_budget(None, DENSE_BUDGET_ENV, 0.5) == 3 * 2**20
    assert resolve_budget(1, DENSE_BUDGET_ENV, 0.5) == 2**20  # the argument wins over the env
    monkeypatch.setenv(DENSE_BUDGET_ENV, "lots")
    with pytest.raises(ValueError, match=DENSE_BUDGET_ENV):
        resolve_budget(None, DENSE_BUDGET_ENV, 0.5)
    # 45,173 items x 5 float64 matrices (pearson_baseline) is the 76 GiB of the issue
    reason = check_dense("knn_baseline", 45_173, 5, 8, 24 * 2**30)
    assert reason and "76.0 GiB" in reason and "knn_baseline" in reason
    assert check_dense("knn_baseline", 1000, 5, 8, 40 * 10**6) is None
    n = max_dense_items(10**8, 3, 4)
    assert 3 * 4 * n**2 <= 10**8 < 3 * 4 * (n + 1) ** 2


def test_ease_keeps_the_head_that_fits_the_budget(real_subsample):
    full = fit_ranker(real_subsample, memory_budget_mb=10_000)
    assert "memory_cap" not in full.params
    budget_mb = 1.0  # 2^20 / 12 bytes -> at most 295 items
    small = fit_ranker(real_subsample, memory_budget_mb=budget_mb)
    assert len(small.item_ids) == max_dense_items(2**20, 3, 4) < len(full.item_ids)
    assert "kept the 295 most-rated" in small.params["memory_cap"]
    # the kept items are the most-interacted ones: each has at least as many as any dropped
    dropped = np.setdiff1d(full.item_ids, small.item_ids)
    assert small.counts.min() >= full.counts[np.isin(full.item_ids, dropped)].max()
    with pytest.raises(MemoryError, match="EASE needs"):
        fit_ranker(real_subsample, memory_budget_mb=0)


@pytest.mark.slow  # evaluate.main end to end on 120 real users (~10 s on a shared box)
def test_evaluate_skips_knn_and_reports_it(workspace, real_subsample):
    algos = rating_algorithms(include=(BASELINE, KNN))
    kept, skipped = skip_over_budget(algos, 10_000, memory_budget_mb=1024)
    assert list(kept) == [BASELINE] and "knn_baseline needs ~3.7 GiB" in skipped[KNN]
    kept, skipped = skip_over_budget(algos, 100, memory_budget_mb=1024)
    assert list(kept) == [BASELINE, KNN] and skipped == {}

    m = evaluate.main(ratings=real_subsample, paths=workspace, models=(BASELINE, KNN), n_splits=2,
                      memory_budget_mb=1.0, protocols=False)   # the cap is decided in the top-N part
    assert set(m["rating"]) == {BASELINE}  # KNN never fitted, and so no blend with it
    assert "knn_baseline needs" in m["skipped"][KNN]
    assert "knn_baseline" in m["skipped"]["svd_knn_blend"]
    assert "kept the 295 most-rated" in m["memory_capped"]["served"]
    assert json.loads(workspace.metrics.read_text())["skipped"] == m["skipped"]
    md = (workspace.reports / "metrics.md").read_text()
    assert "## Limited by size (memory and time)" in md and "| knn_baseline | skipped |" in md


@pytest.mark.slow  # real `invoke train` child process on 40 real users (~5 s)
def test_a_bad_budget_setting_is_one_line_exit_2(workspace, shared_data, monkeypatch):
    from tests.harness.invoke_cli import run_invoke

    df = pd.read_csv(shared_data / "ratings_small.csv.gz")
    ratings = workspace.raw / "ratings_40.csv"
    df[df[USER_COL] <= 40].to_csv(ratings, index=False)
    monkeypatch.setenv(DENSE_BUDGET_ENV, "lots")  # inherited by the child
    proc = run_invoke(["train", "--ratings", str(ratings), "--links", str(shared_data / "links_small.csv.gz")],
                      home=workspace.root)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and " INFO " not in ln]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and DENSE_BUDGET_ENV in lines[0] and "'lots'" in lines[0], proc.stderr
    assert not workspace.model_pointer.exists()  # nothing half-written became live
