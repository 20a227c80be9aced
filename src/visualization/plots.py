"""EDA figure builders: each takes data and returns a matplotlib ``Figure`` (no file I/O).

Figures are built with the object API (``matplotlib.figure.Figure``), not ``pyplot``: no global
figure registry to leak or close, no backend switch (so notebooks keep their inline backend),
and safe to call from a server thread. Seaborn supplies the styling via :func:`styled`.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from src.features.schema import genre_column, genre_columns, genre_name

TITLE_MAX_CHARS = 38  # long titles are cut so bar labels stay readable
NUMERIC_FOR_CORR = ("budget", "revenue", "runtime", "popularity", "vote_average", "vote_count",
                    "year", "score_final", "weighted_rating")


@contextlib.contextmanager
def styled() -> Iterator[None]:
    """Apply seaborn's whitegrid/notebook style to figures created inside the block only."""
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}
    with matplotlib.rc_context(rc):
        yield


def _short(title: str, limit: int = TITLE_MAX_CHARS) -> str:
    """Cut a title to ``limit`` characters with an ellipsis."""
    title = str(title)
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _empty(ax, message: str) -> None:
    """Mark an axes as having no data (a figure is still written, saying why)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def titles_per_genre(features: pd.DataFrame) -> Figure:
    """Horizontal bars: number of titles carrying each genre (from the genre dummies)."""
    counts = features[genre_columns(features)].sum().sort_values()
    counts.index = [genre_name(c) for c in counts.index]
    fig = Figure(figsize=(9, max(4, 0.32 * len(counts) + 1.5)))
    ax = fig.add_subplot()
    if counts.empty:
        _empty(ax, "no genres in the catalogue")
    else:
        ax.barh(counts.index, counts.to_numpy(), color=sns.color_palette("viridis", len(counts)))
    ax.set(title="Titles per genre (a title can have several genres)",
           xlabel="number of titles", ylabel="genre")
    fig.tight_layout()
    return fig


def score_distribution(features: pd.DataFrame) -> Figure:
    """Histogram of score_final with its median marked."""
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    s = features["score_final"].dropna()
    sns.histplot(s, bins=40, ax=ax, color="steelblue")
    if len(s):
        ax.axvline(s.median(), color="darkred", linestyle="--", label=f"median {s.median():.2f}")
        ax.legend()
    ax.set(title="Distribution of score_final", xlabel="score_final (0–1)", ylabel="number of titles")
    fig.tight_layout()
    return fig


def top_by_genre(features: pd.DataFrame, genres: Sequence[str], n: int = 10) -> Figure:
    """One panel per genre: the ``n`` best titles by score_final, bars labelled with titles."""
    cols = 2 if len(genres) > 1 else 1
    rows = int(np.ceil(len(genres) / cols))
    fig = Figure(figsize=(8 * cols, 4.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, genre in zip(axes, genres):
        col = genre_column(genre)
        top = (features.loc[features[col] == 1] if col in features.columns else features.iloc[:0])
        top = top.nlargest(n, "score_final").iloc[::-1]
        if top.empty:
            _empty(ax, f"no {genre} titles")
        else:
            labels = [_short(t) for t in top["title"]]
            ax.barh(range(len(top)), top["score_final"].to_numpy(), color="teal")
            ax.set_yticks(range(len(top)), labels, fontsize=9)
            ax.set_xlim(0, 1)
        ax.set(title=f"Top {n} {genre} titles by score_final", xlabel="score_final", ylabel="title")
    for ax in axes[len(genres):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def votes_vs_average(features: pd.DataFrame) -> Figure:
    """Scatter of vote_count (log x) vs vote_average for titles with at least one vote."""
    voted = features.loc[features["vote_count"] > 0]
    fig = Figure(figsize=(8, 5.5))
    ax = fig.add_subplot()
    if voted.empty:
        _empty(ax, "no title has votes")
    else:
        ax.scatter(voted["vote_count"], voted["vote_average"], s=6, alpha=0.35, color="navy")
        ax.set_xscale("log")
    ax.set(title=f"Vote count vs average vote ({len(voted):,} titles with votes)",
           xlabel="vote_count (log scale)", ylabel="vote_average (0–10)")
    fig.tight_layout()
    return fig


def correlation_heatmap(features: pd.DataFrame) -> Figure:
    """Pearson correlation heatmap of the catalogue's numeric columns, annotated."""
    cols = [c for c in NUMERIC_FOR_CORR if c in features.columns]
    corr = features[cols].astype("float64").corr()
    fig = Figure(figsize=(9, 7.5))
    ax = fig.add_subplot()
    sns.heatmap(corr, annot=True, fmt=".2f", cmap="vlag", vmin=-1, vmax=1, square=True, ax=ax,
                cbar_kws={"label": "Pearson r"})
    ax.set(title="Correlation of numeric features", xlabel="feature", ylabel="feature")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    fig.tight_layout()
    return fig


def titles_per_year(features: pd.DataFrame) -> Figure:
    """Bars of titles per release year (titles without a date are counted in the title)."""
    years = features["year"].dropna().astype("int64")
    counts = years.value_counts().sort_index()
    fig = Figure(figsize=(10, 5))
    ax = fig.add_subplot()
    if counts.empty:
        _empty(ax, "no release dates")
    else:
        ax.bar(counts.index, counts.to_numpy(), width=0.9, color="darkorange")
    undated = int(features["year"].isna().sum())
    ax.set(title=f"Titles per release year ({undated:,} without a date)",
           xlabel="release year", ylabel="number of titles")
    fig.tight_layout()
    return fig


def ratings_distribution(ratings: pd.Series) -> Figure:
    """Bars of how often each star value was given."""
    counts = ratings.value_counts().sort_index()
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    ax.bar([f"{v:g}" for v in counts.index], counts.to_numpy(), color="mediumpurple")
    ax.set(title=f"Distribution of {len(ratings):,} user ratings",
           xlabel="rating (stars)", ylabel="number of ratings")
    fig.tight_layout()
    return fig


def ratings_long_tail(item_ids: pd.Series) -> Figure:
    """Ratings per title sorted descending (log y): the long tail collaborative filtering faces."""
    per_item = item_ids.value_counts().to_numpy()
    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(per_item) + 1), per_item, color="crimson")
    ax.set_yscale("log")
    if len(per_item):
        top = per_item[: max(1, len(per_item) // 10)].sum() / per_item.sum()
        ax.set_title(f"Ratings per title: the top 10% of titles get {top:.0%} of ratings")
    else:
        ax.set_title("Ratings per title")
    ax.set_xlabel("title rank (most rated first)")
    ax.set_ylabel("ratings per title (log scale)")
    fig.tight_layout()
    return fig
