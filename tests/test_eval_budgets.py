"""Size budgets of ``invoke evaluate`` (issue 14, full scale): past a budget a stage samples users
or skips, and metrics.json ``sampled`` / metrics.md "Limited by size" say so; within every budget
(the defaults on small data) nothing changes. Tiny budgets are passed in, as
tests/test_memory_guard.py passes a 1 MiB memory budget."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.config import EVAL_BUDGETS, ITEM_ID_COL, USER_COL
from src.evaluation import evaluate
from src.evaluation.budgets import resolve_budgets, sample_eval_users, sample_rating_users
from src.evaluation.protocols import run_protocols
from src.evaluation.rating_cv import BASELINE, NORMAL
from tests.test_protocols import _toy

NO_LIMITS = {name: None for name in EVAL_BUDGETS}


def _without_seconds(res: dict) -> dict:
    return {k: v for k, v in res.items() if k != "seconds"}


def test_user_samples_keep_whole_users_are_seeded_and_leave_small_data_alone():
    ratings, _ = _toy()   # 80 users x 12 ratings
    assert sample_rating_users(ratings, len(ratings), seed=0) is ratings   # within budget: untouched
    notes: dict = {}
    part = sample_rating_users(ratings, 100, seed=0, sampled=notes)
    # Whole users only (all 12 of each sampled user's ratings), within the budget, seeded.
    assert len(part) <= 100 and set(part.groupby(USER_COL).size()) == {12} and part[USER_COL].nunique() == 8
    assert part.equals(sample_rating_users(ratings, 100, seed=0))
    assert not part.equals(sample_rating_users(ratings, 100, seed=1))
    assert "8 of 80 users" in notes["rating_cv"] and "96 of 960" in notes["rating_cv"]
    users = np.arange(50, dtype="int64")
    assert sample_eval_users(users, 50, seed=0) is users
    picked = sample_eval_users(users, 7, seed=3, sampled=notes, what="topn_users")
    assert len(picked) == 7 and np.all(np.diff(picked) > 0) and np.isin(picked, users).all()
    assert "7 of 50 users" in notes["topn_users"]
    with pytest.raises(ValueError, match="unknown evaluation budget"):
        resolve_budgets({"max_users": 3})


def test_default_budgets_leave_the_toy_protocols_untouched():
    ratings, cat = _toy()
    default = run_protocols(ratings, cat, k=5, seeds=(0,), tune=False)
    unlimited = run_protocols(ratings, cat, k=5, seeds=(0,), tune=False, budgets=NO_LIMITS)
    assert default["sampled"] == {} and _without_seconds(default) == _without_seconds(unlimited)


def test_tiny_budgets_sample_and_skip_in_the_protocols_and_say_so():
    ratings, cat = _toy()
    tiny = {"max_eval_users": 10, "seeds_max_ratings": 500, "tune_max_ratings": 500, "slim_max_items": 5,
            "ease_max_items": 12}
    res = run_protocols(ratings, cat, k=5, seeds=(0, 1), tune=True, budgets=tiny)
    assert res["seeds"] == [0] and res["random"]["served"]["runs"] == 1
    assert "slim" not in res["random"] and "slim" not in res["temporal"] and "ease" in res["random"]
    assert "item columns" in res["skipped"]["slim"] and "slim_max_items 5" in res["sampled"]["slim"]
    # No tuning past the budget: the served config only, no `tuned` row, and the reason.
    assert "tuned" not in res["random"] and res["tuned"]["grid"] == {}
    assert "tune_max_ratings 500" in res["tuned"]["skipped"] == res["sampled"]["validation_tuning"]
    assert "seed 0 only" in res["sampled"]["protocol_seeds"]
    assert "the 12 most-rated of the 40 items" in res["sampled"]["ease_items"]
    for name in ("random", "temporal", "new_title"):
        assert res[name]["served"]["users"] <= 10
    assert "10 of" in res["sampled"]["random_users_seed0"] and "10 of" in res["sampled"]["new_title_users"]
    md = "\n".join(evaluate.protocol_markdown(res, k=5))
    assert "Validation tuning skipped, served config used" in md and "Baseline `slim` not run" in md


@pytest.mark.slow  # evaluate.main end to end on 120 real users (~10 s on a shared box)
def test_evaluate_reports_every_budget_that_bit(workspace, shared_data):
    df = pd.read_csv(shared_data / "ratings_small.csv.gz")
    real = df[df[USER_COL] <= 120].rename(columns={"movieId": ITEM_ID_COL}).reset_index(drop=True)
    m = evaluate.main(ratings=real, paths=workspace, models=(NORMAL, BASELINE), n_splits=2,
                      budgets={"cv_max_ratings": 5_000, "max_eval_users": 40, "seeds_max_ratings": 5_000,
                               "tune_max_ratings": 5_000, "slim_max_items": 100, "ease_max_items": 200})
    cv_n = m["protocol"]["rating"]["n_ratings"]
    assert cv_n <= 5_000 < m["dataset"]["n_ratings"]
    assert m["topn"]["served"]["users"] <= 40 and m["protocols"]["random"]["served"]["runs"] == 1
    assert set(m["sampled"]) >= {"rating_cv", "topn_users", "protocols.protocol_seeds", "protocols.validation_tuning",
                                 "protocols.slim", "protocols.random_users_seed0", "topn_ease_items",
                                 "protocols.ease_items"}
    assert json.loads(workspace.metrics.read_text())["sampled"] == m["sampled"]
    md = (workspace.reports / "metrics.md").read_text()
    assert f"CV on {cv_n:,} of {m['dataset']['n_ratings']:,} ratings: a seeded sample of users" in md
    assert "## Limited by size (memory and time)" in md
    assert "| rating_cv | sampled |" in md and "| protocols.slim | skipped (time) |" in md
    assert "| protocols.protocol_seeds | fewer seeds |" in md and "| topn_ease_items | fewer items |" in md


def test_lists_scored_on_demand_equal_the_precomputed_ones():
    # A sampled evaluation builds its chains without the known users' precomputed lists
    # (precompute=False): every user's list must be the one the precomputed path gives.
    from src.models.predict_model import Recommender
    from src.models.topn import fit_ranker

    ratings, cat = _toy()
    train = ratings[ratings["timestamp"] % 5 != 0]
    ranker = fit_ranker(train)
    users = np.unique(ratings[USER_COL].to_numpy())
    pre = Recommender.from_models(cat, train, ranker=ranker)
    lazy = Recommender.from_models(cat, train, ranker=ranker, precompute=False)
    assert pre._known is not None and lazy._known is None
    for n, cands in ((5, None), (10, np.arange(1, 41, 3)), (3, np.arange(31, 41))):
        assert lazy.recommend_batch(users, n=n, candidates=cands) == pre.recommend_batch(users, n=n, candidates=cands)
