"""Spark engine: `train --engine spark` fits MLlib ALS in local mode on a ratings_small
subsample (regParam tuned on a validation split, explicit ALS for predicted stars), writes the
same factor-ranker bundle as the implicit engine, and the Recommender serves from it; plus the Java finder/installer `invoke test` uses (no machine touched)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.config import ITEM_ID_COL, JAVA_APT_PACKAGE, RATING_COL, SPARK_TUNE_REGS, USER_COL
from src.evaluation.ranker_holdout import holdout_split, ranker_metrics
from src.models.bundle import load_current
from src.models.factor_ranker import FactorRanker
from src.pipeline.java import ensure_java, find_java


def test_ensure_java_finds_installs_or_explains(tmp_path):
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    assert find_java({"JAVA_HOME": str(home)}, which=lambda _n: None) == home / "bin" / "java"
    assert ensure_java({}, which=lambda n: "/usr/bin/java" if n == "java" else None) is None
    none = lambda _n: None  # noqa: E731 - nothing on PATH
    msg = ensure_java({}, which=none, is_root=False)
    assert "not root" in msg and JAVA_APT_PACKAGE in msg and "\n" not in msg
    ran = []
    apt = lambda n: "/usr/bin/apt-get" if n == "apt-get" else None  # noqa: E731
    msg = ensure_java({}, which=apt, is_root=True, run=lambda c: ran.append(c) or 100)
    assert ran and JAVA_APT_PACKAGE in ran[0][-1] and "exit 100" in msg


@pytest.mark.slow  # starts a JVM and fits MLlib ALS in local[2] four times (rank 16, 5 iterations):
@pytest.mark.timeout(300)  # two regParams on the validation split, the final fit, explicit stars
def test_spark_trains_locally_and_serves_from_the_same_bundle(real_features, shared_data, tmp_path):
    from src.models.predict_model import Recommender
    from src.models.train_model import main as train_main
    from tests.harness.launcher import copy_workspace

    assert find_java() is not None, "invoke test installs Java before pytest runs"
    ws = copy_workspace(real_features, tmp_path / "ws")
    sub = pd.read_csv(shared_data / "ratings_small.csv.gz")
    sub = sub[sub[USER_COL] <= 300]
    path = Path(tmp_path / "ratings_sub.csv")
    sub.to_csv(path, index=False)
    train_main(ratings=path, links=shared_data / "links_small.csv.gz", paths=ws, engine="spark",
               master="local[2]", ranker_params={"factors": 16, "iterations": 5})
    bundle = load_current(ws)
    rk = bundle.ranker
    assert isinstance(rk, FactorRanker)
    assert rk.params["engine"] == "spark" and bundle.metadata["engine"] == "spark"
    # regParam chosen on the validation split: every candidate scored, the best one kept
    tuning = rk.params["tuning"]
    assert set(tuning["ndcg"]) == {f"{r:g}" for r in SPARK_TUNE_REGS} and tuning["users"] > 20
    assert rk.params["spark_reg"] == max(SPARK_TUNE_REGS, key=lambda r: (tuning["ndcg"][f"{r:g}"], -r))
    # predicted stars from explicit ALS, served as an SVD: they follow the ratings better than
    # the mean does, on the training ratings themselves (a floor, not a quality claim)
    svd, train_df = bundle.svd, bundle.train_ratings.sample(2000, random_state=0)
    est = np.array([svd.predict(u, i).est for u, i in zip(train_df[USER_COL], train_df[ITEM_ID_COL])])
    truth = train_df[RATING_COL].to_numpy()
    assert np.sqrt(np.mean((est - truth) ** 2)) < np.sqrt(np.mean((truth.mean() - truth) ** 2))
    assert rk.item_factors.shape[0] == rk.n_items and np.abs(rk.item_factors).sum() > 0
    # known users' stored factors agree with the fold-in every new viewer gets
    items, ratings = rk.user_history(int(rk.user_ids[0]))
    assert np.allclose(rk.score_users(rk.user_ids[:1])[0], rk.score_history(items, ratings), atol=1e-4)
    # better than popularity on its own training users' relevant items (a sanity floor)
    train, _test, relevant = holdout_split(bundle.train_ratings, test_fraction=0.2, seed=0)
    assert ranker_metrics(rk, train, {u: relevant[u] for u in list(relevant)[:50]})["ndcg@10"] > 0.05
    rec = Recommender.load(ws)
    user = int(rk.user_ids[1])
    df = rec.recommend(user, n=10)
    assert len(df) == 10 and not set(rk.user_history(user)[0].tolist()) & set(df["id"])
    assert df["predicted_rating"].between(0.5, 5.0).all()
    new = rec.recommend_for_ratings({int(i): 5.0 for i in rk.item_ids[:3]}, n=5)
    assert len(new) == 5
