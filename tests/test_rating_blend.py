"""The validated rating blend (src.models.rating_blend): weights from validation only, clipped
predictions, never worse than its best base on a toy set with a planted structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.config import ITEM_ID_COL, RATING_BLEND_PARAMS, RATING_COL, RATING_SCALE, SEED, USER_COL
from src.evaluation.rating_cv import (
    BASELINE,
    RATING_BLEND,
    SVD_TUNED,
    cross_validate_ratings,
    rating_algorithms,
)
from src.models.rating_blend import (
    RatingBlend,
    _to_trainset,
    design_matrix,
    fit_ridge,
    meta_matrix,
    trainset_frame,
)
from src.models.split import bernoulli_split

# Cheap bases for toy data (the real ones are config RATING_BLEND_PARAMS): biases, a small SVD,
# and two item kNNs differing only in k (they share one fit).
TOY = {
    **RATING_BLEND_PARAMS,
    "bases": {
        "svd": {"kind": "svd", "params": {"n_factors": 4, "n_epochs": 40, "lr_all": 0.01, "reg_all": 0.05}},
        "bsl": {"kind": "baseline_only", "params": {}},
        "knn_10": {"kind": "knn_baseline", "params": {"k": 10, "sim_options": {
            "name": "pearson_baseline", "user_based": False}}},
        "knn_60": {"kind": "knn_baseline", "params": {"k": 60, "sim_options": {
            "name": "pearson_baseline", "user_based": False}}},
    },
}


def planted(seed: int = 0, n_users: int = 300, n_items: int = 60) -> pd.DataFrame:
    """Biases + a rank-3 taste term that only heavy raters follow, plus noise, on half stars.

    Light raters (few ratings) follow biases only, so which base is right depends on the
    user's count: the blend's count features can exploit that, a single base cannot.
    """
    rng = np.random.default_rng(seed)
    bu, bi = rng.normal(0, 0.4, n_users), rng.normal(0, 0.4, n_items)
    p, q = rng.normal(0, 0.7, (n_users, 3)), rng.normal(0, 0.7, (n_items, 3))
    n_per = np.where(rng.random(n_users) < 0.5, 6, 45)
    rows = []
    for u in range(n_users):
        for i in rng.choice(n_items, size=n_per[u], replace=False):
            taste = p[u] @ q[i] if n_per[u] > 10 else 0.0
            rows.append((u, i + 1, 3.5 + bu[u] + bi[i] + taste + rng.normal(0, 0.3)))
    df = pd.DataFrame(rows, columns=[USER_COL, ITEM_ID_COL, RATING_COL])
    df[RATING_COL] = (np.clip(df[RATING_COL], *RATING_SCALE) * 2).round() / 2
    return df


@pytest.fixture(scope="module")
def toy():
    """(train frame, test frame, blend fitted on train) of the planted set."""
    train, test = bernoulli_split(planted(), test_fraction=0.2, seed=SEED)
    blend = RatingBlend(TOY).fit(_to_trainset(train, RATING_SCALE))
    return train, test, blend


def _rmse(est, y) -> float:
    return float(np.sqrt(np.mean((np.asarray(est) - np.asarray(y)) ** 2)))


def test_weights_are_the_ridge_fit_on_the_validation_part_only():
    train, _ = bernoulli_split(planted(seed=1), test_fraction=0.2, seed=SEED)
    trainset = _to_trainset(train, RATING_SCALE)
    blend = RatingBlend({**TOY, "refit": False}).fit(trainset)
    # Redo the recipe by hand: same seeded split of the training ratings, bases fitted on the
    # fit part, the ridge on the validation part's estimates and stats.
    df = trainset_frame(trainset)
    is_val = np.random.default_rng(SEED).random(len(df)) < TOY["validation_fraction"]
    fit_df, val_df = df.loc[~is_val], df.loc[is_val]
    bases = RatingBlend(TOY)
    bases._scale = RATING_SCALE
    fitted = bases._fit_bases(fit_df)
    pairs = list(zip(val_df[USER_COL], val_df[ITEM_ID_COL]))
    est = bases._base_estimates(fitted, pairs)
    g = fit_df.groupby(USER_COL)[RATING_COL]
    h = fit_df.groupby(ITEM_ID_COL)[RATING_COL]
    u, i = val_df[USER_COL], val_df[ITEM_ID_COL]
    meta = meta_matrix(u.map(g.size()).fillna(0), i.map(h.size()).fillna(0),
                       u.map(g.std().fillna(0)).fillna(0), i.map(h.std().fillna(0)).fillna(0),
                       TOY["meta_features"])
    coef, *_ = fit_ridge(design_matrix(est, meta), val_df[RATING_COL].to_numpy(float), TOY["ridge_alpha"])
    np.testing.assert_allclose(blend.coef_, coef, rtol=1e-6, atol=1e-8)
    # Changing a validation rating changes the weights; the weights never saw anything else.
    moved = train.copy()
    moved.loc[moved.index[np.flatnonzero(is_val)[:50]], RATING_COL] = 0.5
    other = RatingBlend({**TOY, "refit": False}).fit(_to_trainset(moved, RATING_SCALE))
    assert not np.allclose(other.coef_, blend.coef_)
    # The features the weights are named by match the coefficient vector.
    w = blend.weights()
    assert len(w["features"]) == len(w["coef"]) == len(blend.base_names) * (1 + len(TOY["meta_features"])) \
        + len(TOY["meta_features"])


def test_predictions_ignore_test_ratings_stay_on_scale_and_cover_unknowns(toy):
    _, test, blend = toy
    testset = list(test[[USER_COL, ITEM_ID_COL, RATING_COL]].itertuples(index=False, name=None))
    est = np.array([p.est for p in blend.test(testset)])
    # Test ratings are only carried along: garbage in their place gives the same estimates.
    garbage = [(u, i, 99.0) for u, i, _ in testset]
    assert np.array_equal(est, [p.est for p in blend.test(garbage)])
    assert est.min() >= RATING_SCALE[0] and est.max() <= RATING_SCALE[1]
    # Unknown users/items get a finite, in-scale estimate (the bases' own fallbacks).
    odd = blend.predict_many([("nobody", 1), (0, 10_000), ("nobody", 10_000)])
    assert np.all(np.isfinite(odd)) and np.all((odd >= 0.5) & (odd <= 5.0))
    assert blend.predict(testset[0][0], testset[0][1]).est == pytest.approx(est[0])


def test_blend_is_no_worse_than_its_best_base_on_planted_structure(toy):
    _, test, blend = toy
    pairs = list(zip(test[USER_COL], test[ITEM_ID_COL]))
    y = test[RATING_COL].to_numpy(float)
    # After refit, bases_ are the bases fitted on the whole training set: the fair comparison.
    base_rmse = {n: _rmse([m.predict(u, i).est for u, i in pairs], y) for n, m in blend.bases_.items()}
    blend_rmse = _rmse(blend.predict_many(pairs), y)
    assert blend_rmse <= min(base_rmse.values()), (blend_rmse, base_rmse)
    # The two kNN bases share their similarity fit; only k differs.
    assert blend.bases_["knn_10"].sim is blend.bases_["knn_60"].sim
    assert (blend.bases_["knn_10"].k, blend.bases_["knn_60"].k) == (10, 60)


def test_rating_cv_row_stacks_the_evaluated_tuned_svd(toy):
    train, _, _ = toy
    tuned = {"n_factors": 4, "n_epochs": 40, "lr_all": 0.01, "reg_all": 0.05}
    made = rating_algorithms(tuned, include=(RATING_BLEND,))[RATING_BLEND]()
    assert isinstance(made, RatingBlend) and made.params["bases"][SVD_TUNED]["params"] == tuned
    assert set(made.base_names) == set(RATING_BLEND_PARAMS["bases"])
    # As a CV row it runs on the table's folds like any Surprise model (cheap bases here).
    res = cross_validate_ratings(train, {BASELINE: rating_algorithms(include=(BASELINE,))[BASELINE],
                                         RATING_BLEND: lambda: RatingBlend(TOY)}, n_splits=2, blends={})
    assert res[RATING_BLEND]["folds"] == 2 and res[RATING_BLEND]["rmse"] < res[BASELINE]["rmse"]


def test_blend_targets_judge_the_issue_target_and_the_served_svd():
    from src.config import RATING_BLEND_RMSE_TARGET
    from src.evaluation.evaluate import compute_targets

    row = {"rmse": RATING_BLEND_RMSE_TARGET + 0.001, "mae": 0.6}
    t = compute_targets({SVD_TUNED: {"rmse": 0.8644, "mae": 0.66}, RATING_BLEND: row}, {})
    assert t["rating_blend_rmse"]["met"] is False and t["rating_blend_beats_svd_tuned"]["met"] is True
    t = compute_targets({RATING_BLEND: {"rmse": RATING_BLEND_RMSE_TARGET, "mae": 0.6}}, {})
    assert t["rating_blend_rmse"]["met"] is True and "rating_blend_beats_svd_tuned" not in t


def test_rating_cv_clips_to_the_given_rating_scale():
    # A 1-5 star set (the MovieLens-100k-style bench) is scored on its own scale: a seeded
    # random predictor's draws below 1 are clipped to 1, not to the configured 0.5.
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(40), 10)
    items = np.concatenate([rng.choice(30, 10, replace=False) for _ in range(40)])
    df = pd.DataFrame({USER_COL: users, ITEM_ID_COL: items,
                       RATING_COL: np.where((users < 20) & (items < 15), 1.0, 5.0)})
    algos = rating_algorithms(include=("normal_predictor",))
    own = cross_validate_ratings(df, algos, blends={}, rating_scale=(1.0, 5.0))["normal_predictor"]
    default = cross_validate_ratings(df, algos, blends={})["normal_predictor"]
    assert RATING_SCALE[0] < 1.0 and own["rmse"] < default["rmse"], (own, default)
