"""Write ``reports/README.md`` (``invoke report``): dataset, features, figures and model metrics.

The report opens with its data source (synthetic demo data with its seed, or the real input
files with their sha256; :mod:`src.data.provenance`). Every section is rendered from files the pipeline wrote (``etl_report.json``, ``features.parquet``,
``reports/figures/*.png``, ``metrics.json``); a missing input gives a one-line note in its
section instead of failing, so the report can be written at any stage of the pipeline.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from src.config import ID_COL, PATHS, Paths
from src.data.provenance import caption, from_etl_report, target_verdict
from src.data.provenance import markdown as provenance_markdown
from src.features.schema import genre_columns, genre_name
from src.utils.io import write_text_atomic
from src.utils.logging import get_logger, setup_logging, timed
from src.visualization import aggregator
from src.visualization.visualize import FEATURE_FIGURES, RATINGS_FIGURES

log = get_logger(__name__)

REPORT_NAME = "README.md"
RATING_METRICS = ("rmse", "mae")
TOPN_METRICS = ("precision@10", "recall@10", "ndcg@10", "map@10", "coverage")
# Figures listed first, in the order `invoke figures` writes them; any other PNG in the
# folder (e.g. the model figures) follows alphabetically.
FIGURE_ORDER = (*FEATURE_FIGURES, *RATINGS_FIGURES)


def _fmt(value: Any) -> str:
    """Format a cell for a Markdown table: ints with separators, floats to 4 significant places."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: Iterable[list[Any]]) -> str:
    """A Markdown table from a header and rows of cells (formatted with :func:`_fmt`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _read_json(path: Path) -> dict | None:
    """Parsed JSON object at ``path``, or None when absent; ValueError names the file if malformed."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def file_entries(report: dict, prefix: str = "") -> list[tuple[str, dict]]:
    """Every per-file record in an ETL report: (dotted key path, dict holding ``rows_in``)."""
    found: list[tuple[str, dict]] = []
    for key, value in report.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            if "rows_in" in value:
                found.append((name, value))
            else:
                found += file_entries(value, prefix=f"{name}.")
    return found


def dataset_section(etl: dict | None) -> str:
    """Markdown for the ETL report: rows in/out per file, quarantine reasons, other counts."""
    if etl is None:
        return "## Dataset\n\n_No ETL report yet: run `invoke data`._\n"
    # The ETL keys its per-file records by input file name under "inputs"; older or
    # hand-made reports may nest them elsewhere, which file_entries also finds.
    entries = file_entries(etl.get("inputs", etl))
    rows, reasons = [], []
    for name, rec in entries:
        quarantined = rec.get("quarantined") or {}
        n_quar = sum(quarantined.values()) if isinstance(quarantined, dict) else quarantined
        rows.append([name, rec.get("rows_in"), rec.get("rows_out"), n_quar, rec.get("duplicates_dropped", 0)])
        if isinstance(quarantined, dict):
            reasons += [[name, reason, count] for reason, count in sorted(quarantined.items())]
    parts = ["## Dataset\n", "Rows per input file (rows in = rows out + quarantined + duplicates dropped).\n",
             md_table(["file", "rows in", "rows out", "quarantined", "duplicates dropped"], rows), ""]
    if reasons:
        parts += ["Quarantined rows by reason (see `data/interim/quarantine/`):\n",
                  md_table(["file", "reason", "rows"], reasons), ""]
    else:
        parts += ["No row was quarantined.\n"]
    # Ratings coverage (how many ratings reach a catalogue title) and any other top-level
    # scalar counts are listed as they are.
    coverage = etl.get("ratings_coverage") if isinstance(etl.get("ratings_coverage"), dict) else {}
    scalars = [[k.replace("_", " "), v] for k, v in {**coverage, **etl}.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if scalars:
        parts += ["Ratings coverage and other counts:\n", md_table(["count", "value"], scalars), ""]
    return "\n".join(parts)


def features_section(paths: Paths) -> str:
    """Markdown summary of features.parquet: titles, media types, genres, score ranges, top 10."""
    if not paths.features.exists():
        return "## Features\n\n_No features yet: run `invoke features`._\n"
    df = pd.read_parquet(paths.features)
    genres = [genre_name(c) for c in genre_columns(df)]
    media = df["media_type"].value_counts().to_dict()
    years = df["year"].dropna()
    lines = [
        "## Features\n",
        f"- Titles: {len(df):,} ({', '.join(f'{v:,} {k}' for k, v in media.items())})",
        f"- Genres ({len(genres)}): {', '.join(genres)}",
        f"- score_final: min {df['score_final'].min():.3f}, median {df['score_final'].median():.3f}, "
        f"max {df['score_final'].max():.3f} (formula in `references/features.md`)",
        f"- weighted_rating: min {df['weighted_rating'].min():.2f}, max {df['weighted_rating'].max():.2f}",
        (f"- Release years: {int(years.min())}–{int(years.max())}" if len(years) else "- Release years: none"),
        "",
        "Top 10 titles by score_final (the cold-start list):\n",
        md_table(["id", "title", "year", "genres", "score_final", "weighted_rating"],
                 # ids and years as text: no thousands separators
                 [[str(int(r[ID_COL])), r["title"], "" if pd.isna(r["year"]) else str(int(r["year"])),
                   r["genres"].replace("|", ", "), float(r["score_final"]), float(r["weighted_rating"])]
                  for _, r in df.nlargest(10, "score_final").iterrows()]),
        "",
    ]
    return "\n".join(lines)


def figure_files(paths: Paths) -> list[Path]:
    """PNG files in ``paths.figures``: FIGURE_ORDER first, then the rest by name."""
    if not paths.figures.exists():
        return []
    pngs = {p.stem: p for p in paths.figures.glob("*.png") if not p.name.startswith(".")}
    ordered = [pngs.pop(stem) for stem in FIGURE_ORDER if stem in pngs]
    return ordered + [pngs[k] for k in sorted(pngs)]


def figures_section(paths: Paths) -> str:
    """Markdown embedding every figure with a link relative to the report folder."""
    files = figure_files(paths)
    if not files:
        return "## Figures\n\n_No figures yet: run `invoke figures`._\n"
    parts = ["## Figures\n"]
    for p in files:
        rel = p.relative_to(paths.reports).as_posix()
        parts.append(f"### {p.stem.replace('_', ' ')}\n\n![{p.stem}]({rel})\n")
    return "\n".join(parts)


def _metric_rows(block: dict, names: tuple[str, ...]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for one metrics block ({model: {metric: value}}); known metrics first,
    then any other numeric metric the models reported."""
    extra: list[str] = []
    for vals in block.values():
        if isinstance(vals, dict):
            extra += [k for k, v in vals.items()
                      if k not in names and k not in extra and isinstance(v, (int, float))]
    header = ["model", *names, *extra]
    rows = [[model, *[vals.get(k) if isinstance(vals, dict) else None for k in header[1:]]]
            for model, vals in block.items()]
    return header, rows


def metrics_section(metrics: dict | None) -> str:
    """Markdown tables of metrics.json's "rating" and "topn" blocks (whatever models are present)."""
    if metrics is None:
        return "## Model evaluation\n\n_No metrics yet: run `invoke evaluate`._\n"
    parts = ["## Model evaluation\n"]
    prov = (metrics.get("dataset") or {}).get("provenance")
    # Evaluate may have run on other files than the ETL (``--ratings``): say which.
    parts.append(f"{caption(prov)}.\n" if prov else "_metrics.json does not name its data source._\n")
    rating = metrics.get("rating") or {}
    topn = metrics.get("topn") or {}
    if rating:
        header, rows = _metric_rows(rating, RATING_METRICS)
        parts += ["Rating prediction (cross-validated; lower is better):\n", md_table(header, rows), ""]
    if topn:
        header, rows = _metric_rows(topn, TOPN_METRICS)
        parts += ["Top-N ranking (held-out ratings >= 4 are relevant; higher is better):\n",
                  md_table(header, rows), ""]
    targets = metrics.get("targets") or {}
    if targets:
        parts += ["Targets (real-data targets read \"n/a\" on synthetic data):\n",
                  md_table(["check", "target", "value", "verdict"],
                           [[name, t.get("target"), t.get("value"),
                             target_verdict(t)]
                            for name, t in targets.items() if isinstance(t, dict)]), ""]
    if not rating and not topn:
        parts.append("_metrics.json holds no \"rating\" or \"topn\" block._\n")
    return "\n".join(parts)


def source_section(etl: dict | None, paths: Paths) -> str:
    """Markdown naming the data everything below was computed from (synthetic demo or real
    files with sha256), decided by content through :mod:`src.data.provenance`."""
    return "## Data source\n\n" + provenance_markdown(from_etl_report(etl, paths))


def render(paths: Paths) -> str:
    """The full report as Markdown text, from whatever the workspace holds."""
    etl = _read_json(paths.etl_report)
    metrics = _read_json(paths.metrics)
    return "\n".join([
        "# StreamRec report\n",
        "Generated by `invoke report` from the pipeline's outputs.\n",
        source_section(etl, paths),
        dataset_section(etl),
        features_section(paths),
        aggregator.section(paths),
        metrics_section(metrics),
        figures_section(paths),
    ])


def main(paths: Paths = PATHS) -> Path:
    """Write ``paths.reports / README.md`` atomically; return its path."""
    setup_logging()
    with timed(log, "report"):
        target = paths.reports / REPORT_NAME
        text = render(paths)
        write_text_atomic(text, target)
        log.info("wrote report (%d lines, %d figures) to %s",
                 text.count("\n"), len(figure_files(paths)), target)
    return target


if __name__ == "__main__":  # pragma: no cover - `invoke report` is the entry point
    main()
