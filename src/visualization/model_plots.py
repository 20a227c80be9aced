"""Model comparison figures from ``reports/metrics.json``: rating error and top-N quality per model.

``plot_model_comparison(metrics, out_dir)`` draws two PNGs — RMSE/MAE bars per rating model
(with the RMSE target line, on real data only) and top-N metric bars per ranking model — and ``main(paths)``
does it for the workspace's metrics file (called by ``invoke figures``). Figures use the
object API (no pyplot registry) and are written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from src.config import PATHS, RMSE_TARGET, TOPN_K, Paths
from src.data.provenance import is_real
from src.utils.logging import get_logger
from src.visualization.figure_io import save_png

log = get_logger(__name__)

RATING_FIGURE = "model_rating_error.png"
TOPN_FIGURE = "model_topn_quality.png"
TOPN_METRICS = ("precision", "recall", "ndcg", "map")


def rating_error_figure(rating: dict, real_data: bool = True) -> Figure:
    """Grouped bars of RMSE and MAE per rating model (best first) with the RMSE target line.

    In: the "rating" part of metrics.json ``{model: {"rmse", "mae", ...}}``; ``real_data``
    False leaves the target line out (it was set on real MovieLens ratings). Out: a Figure.
    """
    if not rating:
        raise ValueError("metrics 'rating' is empty: nothing to plot")
    names = sorted(rating, key=lambda m: rating[m]["rmse"])
    x = np.arange(len(names))
    fig = Figure(figsize=(max(6.0, 1.2 * len(names) + 2), 4.5))
    ax = fig.add_subplot()
    w = 0.38
    for off, key, label in ((-w / 2, "rmse", "RMSE"), (w / 2, "mae", "MAE")):
        vals = [rating[n][key] for n in names]
        bars = ax.bar(x + off, vals, w, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    if real_data:
        ax.axhline(RMSE_TARGET, color="crimson", linestyle="--", linewidth=1,
                   label=f"RMSE target {RMSE_TARGET}")
    top = max(max(rating[n]["rmse"], rating[n]["mae"]) for n in names)
    # Head-room above the tallest bar (NormalPredictor) keeps its label clear of the legend.
    ax.set_ylim(0, max(top, RMSE_TARGET if real_data else 0) * 1.2)
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_ylabel("error on held-out ratings (lower is better)")
    ax.set_xlabel("rating model")
    ax.set_title("Rating prediction error per model (cross-validated)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def topn_quality_figure(topn: dict, k: int = TOPN_K) -> Figure:
    """Grouped bars of precision/recall/NDCG/MAP@k per top-N model.

    In: the "topn" part of metrics.json ``{model: {"precision@k", ...}}``. Out: a Figure.
    """
    if not topn:
        raise ValueError("metrics 'topn' is empty: nothing to plot")
    names = list(topn)
    keys = [f"{m}@{k}" for m in TOPN_METRICS if f"{m}@{k}" in next(iter(topn.values()))]
    if not keys:
        raise ValueError(f"metrics 'topn' has none of {[f'{m}@{k}' for m in TOPN_METRICS]}")
    x = np.arange(len(keys))
    w = 0.8 / len(names)
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.add_subplot()
    for i, name in enumerate(names):
        bars = ax.bar(x + (i - (len(names) - 1) / 2) * w, [topn[name][c] for c in keys], w,
                      label=name)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    ax.set_xticks(x, keys)
    ax.set_ylabel("score (higher is better)")
    ax.set_xlabel("ranking metric")
    ax.set_title(f"Top-{k} recommendation quality on held-out ratings")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_model_comparison(metrics: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write the rating-error and top-N figures for ``metrics`` into ``out_dir``; return their paths.

    A part missing from ``metrics`` (e.g. no top-N run) is skipped with a log line.
    """
    out_dir = Path(out_dir)
    written = []
    # metrics.json names its data (src.evaluation.evaluate); older files without it count as
    # unknown, so no real-data target line is drawn for them.
    prov = (metrics.get("dataset") or {}).get("provenance")
    if metrics.get("rating"):
        written.append(save_png(rating_error_figure(metrics["rating"], real_data=is_real(prov)),
                                out_dir / RATING_FIGURE, prov))
    else:
        log.info("no rating metrics: skipping %s", RATING_FIGURE)
    if metrics.get("topn"):
        written.append(save_png(topn_quality_figure(metrics["topn"]), out_dir / TOPN_FIGURE, prov))
    else:
        log.info("no top-N metrics: skipping %s", TOPN_FIGURE)
    return written


def main(paths: Paths = PATHS) -> list[Path]:
    """Read ``paths.metrics`` and write the model figures to ``paths.figures``; return the paths."""
    if not paths.metrics.exists():
        raise FileNotFoundError(f"{paths.metrics} not found: run `invoke evaluate` first")
    metrics = json.loads(paths.metrics.read_text())
    return plot_model_comparison(metrics, paths.figures)
