"""The aggregator section of ``invoke report``: platforms, their overlap and their churn.

Reads files only: ``availability.csv`` and ``platform_snapshots.csv`` (written by
``invoke update --platform``) and the catalogue's media types (``merged_data6.csv``).
Writes one figure, ``reports/figures/aggregator/platforms.png`` (titles per platform by
media type; arrivals and departures per snapshot), in its own folder so the generic
figure gallery of the report does not list it twice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from src.config import ID_COL, Paths
from src.utils.io import atomic_path

FIGURE_DPI = 110


def _md_table(header: list[str], rows: list[list]) -> str:
    """A small Markdown table (numbers with thousands separators)."""
    def fmt(v):
        return f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def load(paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(current availability with media_type, snapshot log)``; None before any snapshot."""
    if not paths.availability.exists() or not paths.platform_snapshots.exists():
        return None
    avail = pd.read_csv(paths.availability, dtype=str, keep_default_na=False)
    snaps = pd.read_csv(paths.platform_snapshots, dtype=str, keep_default_na=False)
    media = pd.read_csv(paths.merged, usecols=[ID_COL, "media_type"], dtype=str,
                        keep_default_na=False).set_index(ID_COL)["media_type"]
    now = avail[avail["last_seen"] == ""].copy()
    now["media_type"] = now[ID_COL].map(media).replace("", "movie").fillna("movie")
    return now, snaps


def per_platform(now: pd.DataFrame) -> pd.DataFrame:
    """Titles available now per platform and media type (columns movie, series, total)."""
    table = now.pivot_table(index="platform", columns="media_type", values=ID_COL,
                            aggfunc="nunique", fill_value=0)
    for col in ("movie", "series"):
        if col not in table.columns:
            table[col] = 0
    table = table[["movie", "series"]]
    table["total"] = table.sum(axis=1)
    return table.sort_values("total", ascending=False)


def overlap(now: pd.DataFrame) -> pd.DataFrame:
    """Platform x platform: titles available on both now (the diagonal: on that platform)."""
    sets = {p: set(g[ID_COL]) for p, g in now.groupby("platform")}
    names = sorted(sets, key=lambda p: -len(sets[p]))
    return pd.DataFrame([[len(sets[a] & sets[b]) for b in names] for a in names],
                        index=names, columns=names)


def figure(table: pd.DataFrame, snaps: pd.DataFrame) -> Figure:
    """Left: stacked bars of titles per platform (movies, series); right: arrivals and
    departures per applied snapshot, in order."""
    fig = Figure(figsize=(12, 4.5))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    x = np.arange(len(table))
    left.bar(x, table["movie"], label="movies", color="#4C72B0")
    left.bar(x, table["series"], bottom=table["movie"], label="series", color="#DD8452")
    left.set_xticks(x, table.index, rotation=30, ha="right")
    left.set_ylabel("titles available now")
    left.set_title("Titles per platform")
    left.legend()
    labels = [f"{p} {d}" for p, d in zip(snaps["platform"], snaps["as_of"])]
    y = np.arange(len(snaps))
    arrived = pd.to_numeric(snaps["arrived"]).to_numpy()
    departed = pd.to_numeric(snaps["departed"]).to_numpy()
    right.barh(y, arrived, color="#55A868", label="arrived")
    right.barh(y, -departed, color="#C44E52", label="departed")
    right.set_yticks(y, labels)
    right.invert_yaxis()
    right.axvline(0, color="black", linewidth=0.8)
    right.set_xlabel("titles (departures to the left)")
    right.set_title("Arrivals and departures per snapshot")
    right.legend(loc="lower right")
    fig.tight_layout()
    return fig


def figure_path(paths: Paths) -> Path:
    """Where the aggregator figure goes."""
    return paths.figures / "aggregator" / "platforms.png"


def section(paths: Paths) -> str:
    """The report's aggregator section (Markdown); writes its figure. A placeholder line
    before any platform snapshot was applied."""
    loaded = load(paths)
    if loaded is None:
        return ("## Aggregator catalogue\n\n_No platform snapshots yet: run "
                "`invoke update --platform NAME --as-of YYYY-MM-DD --movies FILE`._\n")
    now, snaps = loaded
    table = per_platform(now)
    over = overlap(now)
    target = figure_path(paths)
    with atomic_path(target, suffix=".png") as tmp:
        fig = figure(table, snaps)
        fig.savefig(tmp, dpi=FIGURE_DPI, format="png", bbox_inches="tight")
    multi = now.groupby(ID_COL)["platform"].nunique()
    rel = target.relative_to(paths.reports).as_posix()
    parts = [
        "## Aggregator catalogue\n",
        f"{now[ID_COL].nunique():,} titles available now on {len(table)} platform(s); "
        f"{int((multi > 1).sum()):,} on two or more.\n",
        "Titles per platform and media type (available now):\n",
        _md_table(["platform", "movies", "series", "total"],
                  [[p, int(r["movie"]), int(r["series"]), int(r["total"])] for p, r in table.iterrows()]),
        "",
        "Overlap (titles on both platforms now):\n",
        _md_table(["", *over.columns], [[p, *[int(v) for v in row]] for p, row in over.iterrows()]),
        "",
        "Snapshots applied (in order):\n",
        _md_table(["platform", "as of", "file", "titles", "arrived", "departed"],
                  [[r["platform"], r["as_of"], r["source"], int(r["titles"]), int(r["arrived"]),
                    int(r["departed"])] for _, r in snaps.iterrows()]),
        "",
        f"![aggregator]({rel})\n",
    ]
    return "\n".join(parts)
