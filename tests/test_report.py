"""Report: reports/README.md renders dataset, features, metrics and figure sections from a
crafted ETL report, a real features file, real PNGs and a crafted metrics.json.
"""

from __future__ import annotations

import json

import pandas as pd
from matplotlib.figure import Figure

from src.features.build_features import build_features
from src.features.merged_io import type_merged
from src.utils.io import write_parquet_atomic
from src.visualization.report import main, render
from src.visualization.visualize import save_figure


def _features() -> pd.DataFrame:
    raw = pd.DataFrame({
        "id": ["862", "603", "7"], "title": ["Toy Story", "The Matrix", "Obscure | Film"],
        "release_date": ["1995-10-30", "1999-03-30", ""], "runtime": ["81", "136", ""],
        "popularity": ["21.9", "33.4", "0.1"], "vote_average": ["7.7", "7.9", "0"],
        "vote_count": ["5415", "9079", "0"], "genres": ["Animation|Comedy", "Action|Science Fiction", ""],
        "media_type": ["movie", "movie", "series"],
    })
    return build_features(type_merged(raw))


def test_report_sections(workspace):
    ws = workspace
    write_parquet_atomic(_features(), ws.features)
    etl = {
        "inputs": {
            "movies_dataset.csv": {"rows_in": 12, "rows_out": 8, "duplicates_dropped": 1,
                       "quarantined": {"id_not_integer": 2, "shifted_columns": 1}, "sha256": "x"},
            "ratings.csv": {"rows_in": 100, "rows_out": 100, "duplicates_dropped": 0, "quarantined": {}},
        },
        "ratings_coverage": {"ratings": 100, "ratings_without_tmdbId": 13},
        "seconds": 1.5,
    }
    ws.etl_report.write_text(json.dumps(etl))
    ws.metrics.write_text(json.dumps({
        "rating": {"svd": {"rmse": 0.8765, "mae": 0.6712, "fit_seconds": 2.5},
                   "global_mean": {"rmse": 1.05, "mae": 0.85}},
        "topn": {"production": {"precision@10": 0.2345, "recall@10": 0.11, "ndcg@10": 0.25,
                                "map@10": 0.12, "coverage": 0.3}},
    }))
    fig = Figure()
    fig.add_subplot().plot([1, 2, 3])
    save_figure(fig, ws.figures / "score_final_distribution.png")
    save_figure(Figure(), ws.figures / "model_comparison.png")

    out = main(paths=ws)
    assert out == ws.reports / "README.md"
    text = out.read_text()
    for heading in ("# StreamRec report", "## Dataset", "## Features", "## Model evaluation", "## Figures"):
        assert heading in text
    assert "| movies_dataset.csv | 12 | 8 | 3 | 1 |" in text
    assert "| movies_dataset.csv | shifted_columns | 1 |" in text
    assert "| ratings without tmdbId | 13 |" in text
    assert "- Titles: 3 (2 movie, 1 series)" in text
    assert "Genres (4): Action, Animation, Comedy, Science Fiction" in text
    assert "| 603 | The Matrix | 1999 |" in text            # best score first, no "1,999"
    assert "Obscure \\| Film" in text                        # a pipe in a title does not break the table
    assert "| svd | 0.8765 | 0.6712 | 2.5 |" in text
    assert "| global_mean | 1.05 | 0.85 |  |" in text
    assert "| production | 0.2345 | 0.11 | 0.25 | 0.12 | 0.3 |" in text
    # known figures first, then the rest; links are relative to reports/
    i, j = text.index("figures/score_final_distribution.png"), text.index("figures/model_comparison.png")
    assert i < j and "](figures/" in text and str(ws.root) not in text


def test_report_before_anything_ran(workspace):
    text = render(workspace)
    assert "No ETL report yet" in text and "No features yet" in text
    assert "No metrics yet" in text and "No figures yet" in text
    main(paths=workspace)
    assert (workspace.reports / "README.md").read_text() == text
