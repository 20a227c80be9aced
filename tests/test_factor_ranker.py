"""ALS factor ranker (implicit engine): the EASE ranker's interface, fold-in against fixed item
factors (checked against implicit's own solver), bundle round trip, NDCG above popularity on
the real ratings_small hold-out, and `train --engine implicit` serving from the bundle."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from src.config import FACTOR_TOP_N, ITEM_ID_COL, USER_COL
from src.evaluation.ranker_holdout import compare_rankers
from src.models.bundle import ModelBundle, load_bundle, load_current, save_bundle
from src.models.factor_ranker import FactorRanker, confidence_matrix, fit_factor_ranker
from src.models.topn import EaseRanker


@pytest.fixture(scope="module")
def ratings_small(shared_data) -> pd.DataFrame:
    """All of ratings_small (real MovieLens, 100k ratings), MovieLens ids as itemId."""
    return pd.read_csv(shared_data / "ratings_small.csv.gz").rename(columns={"movieId": ITEM_ID_COL})


@pytest.fixture(scope="module")
def als(ratings_small) -> FactorRanker:
    """ALS on the first 200 users (small rank: the contract, not the quality, is tested here)."""
    return fit_factor_ranker(ratings_small[ratings_small[USER_COL] <= 200], factors=16, iterations=8)


def test_same_public_interface_as_the_ease_ranker():
    public = {n for n, _ in inspect.getmembers(EaseRanker) if not n.startswith("_")}
    public |= {"item_ids", "counts", "user_ids", "history", "params"}
    for name in public - {"weights"}:  # no item×item matrix: that is the point
        assert hasattr(FactorRanker, name) or name in FactorRanker.__dataclass_fields__, name
        if callable(getattr(EaseRanker, name, None)) and not isinstance(getattr(EaseRanker, name), property):
            assert (list(inspect.signature(getattr(EaseRanker, name)).parameters)
                    == list(inspect.signature(getattr(FactorRanker, name)).parameters)), name
    assert not hasattr(FactorRanker, "weights")  # the Recommender's EASE fast path must not trigger


def test_every_item_rankable_and_fold_in_matches_known_users(als, ratings_small):
    sub = ratings_small[ratings_small[USER_COL] <= 200]
    assert set(als.item_ids) == set(sub[ITEM_ID_COL])  # every rated title has a factor
    assert als.item_factors.dtype == np.float32 and als.item_factors.shape == (als.n_items, 16)
    users = als.user_ids[[0, 7, 150]]
    batch = als.score_users(users)
    for row, u in enumerate(users):
        items, ratings = als.user_history(u)
        assert np.allclose(batch[row], als.score_history(items, ratings), atol=1e-4)
    with pytest.raises(ValueError, match="unknown user"):
        als.score_users([10**9])
    # implicit's own exact solver gives the same factor for a new viewer
    from implicit.cpu.als import AlternatingLeastSquares

    lib = AlternatingLeastSquares(factors=16, regularization=als.params["regularization"],
                                  alpha=als.params["alpha"])
    lib.item_factors = np.asarray(als.item_factors)
    items, ratings = als.user_history(als.user_ids[3])
    hist = sp.csr_matrix((ratings, (np.zeros(len(items), int), als.positions(items))), shape=(1, als.n_items))
    theirs = lib.recalculate_user(0, confidence_matrix(hist, als.params["fit_threshold"]))
    assert np.allclose(als.fold_in(items, ratings), theirs, atol=1e-3)
    # unknown items and low ratings are ignored; an empty history scores 0 everywhere
    assert not als.score_history(np.array([-5]), np.array([5.0])).any()
    assert not als.score_history(items[:3], np.full(3, 1.0)).any()
    with pytest.raises(ValueError, match="differ in length"):
        als.score_history(items[:3], np.ones(2))
    # with one liked item its contribution is the whole score
    top = als.item_ids[np.argsort(-als.score_history(items[:1], np.array([5.0])))[:5]]
    best, vals = als.contributions(items[:1], np.array([5.0]), top)
    assert np.all(best == items[0])
    assert np.allclose(vals, als.score_history(items[:1], np.array([5.0]))[als.positions(top)], atol=1e-4)


def test_bundle_round_trip_gives_the_same_scores(als, workspace, ratings_small):
    folder = save_bundle(ModelBundle(svd=None, ranker=als, train_ratings=None, params=als.params), workspace)
    back = load_bundle(folder).ranker
    assert isinstance(back, FactorRanker) and back.params == als.params
    assert isinstance(back.item_factors, np.memmap)  # mapped, not copied
    users = als.user_ids[:20]
    assert np.array_equal(back.score_users(users), als.score_users(users))
    items, ratings = als.user_history(users[4])
    assert np.allclose(back.score_history(items, ratings), als.score_history(items, ratings), atol=1e-6)


def test_als_beats_popularity_on_the_real_holdout(ratings_small):
    res = compare_rankers(ratings_small, {"als": fit_factor_ranker})
    assert res["als"]["ndcg@10"] > 1.3 * res["popularity"]["ndcg@10"], res
    assert res["als"]["users"] == res["popularity"]["users"] > 500


@pytest.mark.slow  # trains on the synthetic workspace and loads a Recommender (~6 s)
def test_train_engine_implicit_serves_from_the_bundle(ws):
    from src.models.predict_model import Recommender
    from src.models.train_model import main as train_main

    with pytest.raises(ValueError, match="unknown engine"):
        train_main(paths=ws, engine="tensorflow")
    train_main(paths=ws, engine="implicit")
    bundle = load_current(ws)
    assert bundle.svd is None and isinstance(bundle.ranker, FactorRanker)
    assert bundle.metadata["engine"] == "implicit"
    # the serving parts are computed at train time and stored: the top-N table and the HNSW index
    rk = bundle.ranker
    assert rk.top_items.shape == (len(rk.user_ids), min(FACTOR_TOP_N, rk.n_items)) and rk.ann_state is not None
    assert {"top_table", "ann_index"} <= set(bundle.metadata["fit_seconds"])
    rec = Recommender.load(ws)
    assert rec._factor is not None and rec._known is None   # nothing ranked per user at load
    user = int(bundle.ranker.user_ids[0])
    df = rec.recommend(user, n=10)
    seen = set(bundle.ranker.user_history(user)[0].tolist())
    assert len(df) == 10 and not seen & set(df["id"]) and df["score"].is_monotonic_decreasing
    liked = {int(i): 5.0 for i in bundle.ranker.item_ids[:3]}
    new = rec.recommend_for_ratings(liked, n=5)
    assert len(new) == 5 and not set(liked) & set(new["id"])
    # `invoke warm` ranks the known users once and adds their lists to the serving cache the
    # server start wrote without them; the next load maps them and answers from them.
    warm = Recommender.load(ws, build_lists=True)
    assert warm._known is not None and not warm._known.from_cache and warm._factor is not None
    again = Recommender.load(ws)
    assert again._known is not None and again._known.from_cache
    assert np.array_equal(again._known.pos, warm._known.pos)
    for genres in (None, [rec.genres[0]], rec.genres[:2]):
        assert again.recommend(user, n=10, genres=genres)["id"].tolist() == \
            rec.recommend(user, n=10, genres=genres)["id"].tolist()


@pytest.mark.slow  # real `invoke` child processes (~1 s each)
def test_invoke_train_refuses_bad_engine_options_in_one_line(workspace):
    from tests.harness.invoke_cli import run_invoke

    for args, needle in ((["train", "--engine", "tensorflow"], "--engine 'tensorflow'"),
                         (["train", "--engine", "implicit", "--master", "local[2]"], "--master")):
        proc = run_invoke(args, home=workspace.root)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and needle in lines[0], proc.stderr
