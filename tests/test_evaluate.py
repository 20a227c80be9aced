"""Evaluation: the rating CV loop, target verdicts, Markdown, figures, and evaluate.main end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from src.config import ITEM_ID_COL, RMSE_TARGET, USER_COL
from src.evaluation import evaluate
from src.evaluation.rating_cv import (
    BASELINE,
    KNN,
    NORMAL,
    SVD_DEFAULT,
    SVD_TUNED,
    SVDPP,
    cross_validate_ratings,
    rating_algorithms,
)
from src.visualization import model_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def real_subsample(shared_data) -> pd.DataFrame:
    """The first ~150 users of ratings_small (real MovieLens ratings), MovieLens item ids."""
    df = pd.read_csv(shared_data / "ratings_small.csv.gz")
    return df[df[USER_COL] <= 150].reset_index(drop=True)


def test_cv_uses_identical_folds_and_orders_models_sensibly(real_subsample):
    df = real_subsample.rename(columns={"movieId": ITEM_ID_COL})
    algos = rating_algorithms({"n_factors": 20, "n_epochs": 20, "lr_all": 0.01, "reg_all": 0.1},
                              include=(NORMAL, BASELINE, SVD_TUNED))
    blends = {"blend": {BASELINE: 0.5, SVD_TUNED: 0.5}, "needs_knn": {KNN: 1.0, BASELINE: 1.0}}
    res = cross_validate_ratings(df, algos, n_splits=3, random_state=0, blends=blends)
    # The blend whose component did not run is left out, not invented.
    assert list(res) == [NORMAL, BASELINE, SVD_TUNED, "blend"]
    # RMSE is convex: averaging two models' estimates can't be worse than their mean RMSE.
    assert res["blend"]["rmse"] <= (res[BASELINE]["rmse"] + res[SVD_TUNED]["rmse"]) / 2 + 1e-9
    assert res["blend"]["rmse"] < res[BASELINE]["rmse"]
    assert all(r["folds"] == 3 and r["fit_seconds"] >= 0 for r in res.values())
    # Random predictions are far worse than learned ones on real ratings.
    assert res[NORMAL]["rmse"] > res[BASELINE]["rmse"] + 0.3
    assert res[SVD_TUNED]["rmse"] < res[NORMAL]["rmse"]
    # Same folds + seeded algorithms (the random NormalPredictor too): a rerun is identical.
    again = cross_validate_ratings(df, {m: algos[m] for m in (NORMAL, BASELINE)}, n_splits=3,
                                   random_state=0)
    for m in (NORMAL, BASELINE):
        assert {k: again[m][k] for k in ("rmse", "mae", "rmse_std")} == \
            {k: res[m][k] for k in ("rmse", "mae", "rmse_std")}
    with pytest.raises(ValueError, match="unknown rating model"):
        rating_algorithms(include=("svd_magic",))
    assert SVDPP not in rating_algorithms()  # slow: only on request (--svdpp)
    pp = cross_validate_ratings(df.head(3000), rating_algorithms(svdpp=True, include=(SVDPP,)),
                                n_splits=2)
    assert 0.5 < pp[SVDPP]["rmse"] < res[NORMAL]["rmse"]


def test_targets_compare_against_baselines_of_the_same_run():
    rating = {BASELINE: {"rmse": 0.89, "mae": 0.69}, SVD_DEFAULT: {"rmse": 0.895, "mae": 0.69},
              SVD_TUNED: {"rmse": 0.86, "mae": 0.66}}
    topn = {"popularity": {"ndcg@10": 0.10}, "svd_predicted": {"ndcg@10": 0.02},
            "served": {"ndcg@10": 0.25}}
    t = evaluate.compute_targets(rating, topn)
    assert t["best_rmse"] == {"target": f"<= {RMSE_TARGET}", "model": SVD_TUNED, "value": 0.86,
                              "met": 0.86 <= RMSE_TARGET}
    assert t["served_svd_rmse"]["value"] == 0.86
    assert t["svd_tuned_beats_baseline"]["met"] and t["svd_tuned_beats_default"]["met"]
    assert t["served_beats_popularity"]["ratio"] == 2.5
    worse = evaluate.compute_targets({**rating, SVD_TUNED: {"rmse": 0.9, "mae": 0.7}},
                                     {**topn, "served": {"ndcg@10": 0.05}})
    assert not worse["svd_tuned_beats_baseline"]["met"]
    assert not worse["served_beats_popularity"]["met"] and not worse["best_rmse"]["met"]
    # A blend can carry best_rmse while the served SVD alone misses the target.
    blend = evaluate.compute_targets({**rating, SVD_TUNED: {"rmse": 0.87, "mae": 0.7},
                                      "svd_knn_blend": {"rmse": 0.80, "mae": 0.6}}, {})
    assert blend["best_rmse"]["met"] and blend["best_rmse"]["model"] == "svd_knn_blend"
    assert blend["served_svd_rmse"]["met"] is (0.87 <= RMSE_TARGET)
    assert "| best_rmse | <= " in evaluate.target_row("best_rmse", blend["best_rmse"])


def test_plots_refuse_empty_metrics(tmp_path, workspace):
    with pytest.raises(ValueError, match="rating"):
        model_plots.rating_error_figure({})
    with pytest.raises(ValueError, match="topn"):
        model_plots.topn_quality_figure({})
    assert model_plots.plot_model_comparison({"rating": {}, "topn": {}}, tmp_path) == []
    with pytest.raises(FileNotFoundError, match="invoke evaluate"):
        model_plots.main(workspace)


@pytest.mark.slow  # end-to-end evaluate (~3 s on an idle box, more when shared)
def test_evaluate_main_end_to_end_writes_json_markdown_and_figures(workspace, real_subsample,
                                                                   shared_data):
    rpath = workspace.raw / "ratings_subsample.csv"
    real_subsample.to_csv(rpath, index=False)
    # A tuned-params file from a (pretend) tune run must be the one evaluation uses.
    tuned = {"n_factors": 30, "n_epochs": 25, "lr_all": 0.01, "reg_all": 0.1}
    workspace.best_params.write_text(json.dumps({"params": tuned}))
    m = evaluate.main(ratings=rpath, links=shared_data / "links_small.csv.gz", paths=workspace,
                      models=(NORMAL, BASELINE, SVD_DEFAULT, SVD_TUNED), n_splits=3)

    on_disk = json.loads(workspace.metrics.read_text())
    assert on_disk["rating"] == m["rating"] and set(m["rating"]) == {NORMAL, BASELINE, SVD_DEFAULT,
                                                                     SVD_TUNED}
    assert m["protocol"]["rating"]["svd_tuned_params"] == tuned
    assert m["dataset"]["n_ratings"] == len(real_subsample) - m["dataset"]["load_unmapped"] \
        - m["dataset"]["load_duplicates"]
    assert len(m["dataset"]["sha256"]) == 64
    for model in ("popularity", "svd_predicted", "ease", "served"):
        assert 0.0 <= m["topn"][model]["ndcg@10"] <= 1.0
    # Every protocol, served vs its baselines, each metric a mean over runs with its spread.
    proto = on_disk["protocols"]
    # `served` = the API's configuration, `tuned` = this run's validation picks beside it.
    peers = {"served", "tuned", "ease", "slim", "als", "popularity"}
    for name, models in (("random", peers), ("cold_users", peers), ("temporal", peers),
                         ("new_title", {"served", "tuned", "popularity", "chart", "random"})):
        assert set(proto[name]) == models
        for v in proto[name].values():
            assert {"ndcg@10", "recall@10", "map@10", "coverage", "mean_popularity_rank",
                    "series_share", "ndcg@10_std"} <= set(v)
    assert proto["random"]["served"]["runs"] == 3 and proto["temporal"]["served"]["runs"] == 1
    assert proto["tuned"]["ease_lambda"] in (200.0, 400.0)
    assert "## Protocol: new_title" in (workspace.reports / "metrics.md").read_text()
    assert set(m["targets"]) >= {"best_rmse", "svd_tuned_beats_baseline", "served_beats_popularity"}
    assert m["targets"]["best_rmse"]["value"] == min(r["rmse"] for r in m["rating"].values())

    md = (workspace.reports / "metrics.md").read_text()
    assert "| model | RMSE | MAE |" in md and SVD_TUNED in md and "served" in md
    assert f"{m['rating'][SVD_TUNED]['rmse']:.4f}" in md
    # Evaluation draws nothing (layers point one way); `invoke evaluate`/`invoke figures`
    # draw the model figures from the JSON it wrote.
    assert not (workspace.figures / model_plots.RATING_FIGURE).exists()
    figs = [workspace.figures / model_plots.RATING_FIGURE, workspace.figures / model_plots.TOPN_FIGURE]
    assert model_plots.main(workspace) == figs
    for fig in figs:
        assert fig.read_bytes()[:8] == PNG_MAGIC and fig.stat().st_size > 10_000
