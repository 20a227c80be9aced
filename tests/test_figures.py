"""Figures: every EDA figure is written as a real, non-empty PNG from the real sample data,
ratings figures are skipped (not crashed) without ratings, and pyplot holds no figures after.
"""

from __future__ import annotations

import shutil

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.image import imread

from src.visualization import visualize
from src.visualization.visualize import FEATURE_FIGURES, RATINGS_FIGURES, main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path):
    assert path.exists() and path.stat().st_size > 5_000, path
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
    # not a blank canvas: many distinct colours
    assert len(pd.unique(img.reshape(-1, img.shape[-1])[:, 0])) > 10


@pytest.mark.slow  # ETL + features + every figure on real data (~13 s)
def test_every_figure_on_real_data(real_features):
    written = main(paths=real_features)
    names = [p.stem for p in written]
    assert names[: len(FEATURE_FIGURES)] == list(FEATURE_FIGURES)
    assert set(RATINGS_FIGURES) <= set(names)          # the real ETL writes ratings.csv
    for p in written:
        assert p.parent == real_features.figures
        _check_png(p)
    assert not list(real_features.figures.glob(".*"))   # no temp files left behind
    assert plt.get_fignums() == []                       # nothing left open in pyplot


def test_figures_without_ratings_or_metrics(real_features, tmp_path):
    from src.config import Paths

    ws = Paths.from_root(tmp_path).ensure()
    # a sample keeps this fast; the full catalogue is covered above
    pd.read_parquet(real_features.features).sample(300, random_state=0).to_parquet(ws.features)
    written = main(paths=ws)
    assert [p.stem for p in written] == list(FEATURE_FIGURES)


def test_missing_features_is_a_clear_error(workspace):
    with pytest.raises(FileNotFoundError, match="invoke features"):
        main(paths=workspace)


def test_model_figures_called_when_metrics_exist(real_features, tmp_path):
    """With metrics.json present, model_plots.main runs and its PNGs are returned."""
    import json

    from src.config import Paths

    ws = Paths.from_root(tmp_path).ensure()
    shutil.copy(real_features.features, ws.features)
    metrics = {"rating": {"svd": {"rmse": 0.9, "mae": 0.7}, "baseline": {"rmse": 1.0, "mae": 0.8}},
               "topn": {"popularity": {"precision@10": 0.1, "recall@10": 0.05, "ndcg@10": 0.1,
                                       "map@10": 0.05, "coverage": 0.01},
                        "production": {"precision@10": 0.2, "recall@10": 0.1, "ndcg@10": 0.2,
                                       "map@10": 0.1, "coverage": 0.2}}}
    ws.metrics.write_text(json.dumps(metrics))
    extra = visualize.model_figures(ws)
    assert extra and all(p.exists() and p.stat().st_size > 0 for p in extra)
