"""Write the EDA figures (and, when metrics exist, the model figures) to ``reports/figures``
(``invoke figures``).

Reads ``features.parquet`` and, if present, the processed ``ratings.csv``; each figure is
built by :mod:`src.visualization.plots` and saved atomically as PNG with a footer naming the
data source (:mod:`src.data.provenance`, via :mod:`src.visualization.figure_io`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from src.config import FOCUS_GENRES, ITEM_COL, PATHS, RATING_COL, Paths
from src.data.provenance import workspace_provenance
from src.utils.logging import get_logger, setup_logging, timed
from src.visualization import model_plots, plots
from src.visualization.figure_io import save_png

log = get_logger(__name__)

# File stem -> builder over the features frame, in report order.
FEATURE_FIGURES: dict[str, Callable[[pd.DataFrame], Figure]] = {
    "titles_per_genre": plots.titles_per_genre,
    "score_final_distribution": plots.score_distribution,
    "top10_focus_genres": lambda f: plots.top_by_genre(f, FOCUS_GENRES, n=10),
    "vote_count_vs_average": plots.votes_vs_average,
    "correlation_heatmap": plots.correlation_heatmap,
    "titles_per_year": plots.titles_per_year,
}
RATINGS_FIGURES = ("ratings_distribution", "ratings_per_title_long_tail")


def save_figure(fig: Figure, target: Path, provenance: dict | None = None) -> Path:
    """Save ``fig`` as PNG at ``target`` (atomic, data-source footer); return target."""
    return save_png(fig, target, provenance)


def load_features(paths: Paths) -> pd.DataFrame:
    """Read ``paths.features``; FileNotFoundError says to run the feature stage first."""
    if not paths.features.exists():
        raise FileNotFoundError(f"features not found at {paths.features}: run `invoke features` first")
    return pd.read_parquet(paths.features)


def ratings_figures(paths: Paths, provenance: dict | None = None) -> list[Path]:
    """Ratings histogram and per-title long tail from ``paths.ratings``; [] (logged) if absent."""
    if not paths.ratings.exists():
        log.info("no ratings at %s: skipping the ratings figures", paths.ratings)
        return []
    ratings = pd.read_csv(paths.ratings, usecols=[ITEM_COL, RATING_COL])
    log.info("ratings figures from %d ratings", len(ratings))
    with plots.styled():
        return [
            save_figure(plots.ratings_distribution(ratings[RATING_COL]),
                        paths.figures / f"{RATINGS_FIGURES[0]}.png", provenance),
            save_figure(plots.ratings_long_tail(ratings[ITEM_COL]),
                        paths.figures / f"{RATINGS_FIGURES[1]}.png", provenance),
        ]


def model_figures(paths: Paths) -> list[Path]:
    """The model comparison figures (:func:`src.visualization.model_plots.main`) when metrics exist."""
    if not paths.metrics.exists():
        log.info("no metrics at %s: skipping model figures", paths.metrics)
        return []
    return model_plots.main(paths)


def main(paths: Paths = PATHS) -> list[Path]:
    """Write every figure to ``paths.figures``; return the PNG paths written, in report order."""
    setup_logging()
    paths.figures.mkdir(parents=True, exist_ok=True)
    with timed(log, "figures"):
        features = load_features(paths)
        provenance = workspace_provenance(paths)
        log.info("figures from %d titles (%s)", len(features), provenance["label"])
        written: list[Path] = []
        with plots.styled():
            for stem, build in tqdm(FEATURE_FIGURES.items(), desc="figures", unit="fig"):
                written.append(save_figure(build(features), paths.figures / f"{stem}.png", provenance))
        written += ratings_figures(paths, provenance)
        written += model_figures(paths)
        log.info("wrote %d figures to %s", len(written), paths.figures)
    return written


if __name__ == "__main__":  # pragma: no cover - `invoke figures` is the entry point
    main()
