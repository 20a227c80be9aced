"""`invoke report`'s aggregator section: tables and figure from availability files only."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import Paths
from src.data.make_dataset import main as etl_main
from src.pipeline.update import main as update_main
from src.visualization import aggregator
from src.visualization.report import main as report_main

EXAMPLE = Path(__file__).resolve().parents[1] / "references" / "examples" / "platform_snapshot.csv"


@pytest.mark.slow
def test_aggregator_section_counts_and_figure(tmp_path, shared_data):
    ws = Paths.from_root(tmp_path).ensure()
    etl_main(movies=shared_data / "tmdb_5000_movies.csv.gz", links=shared_data / "links.csv.gz",
             paths=ws)
    assert "No platform snapshots yet" in aggregator.section(ws)
    update_main(movies=EXAMPLE, platform="hbo", as_of="2024-01-01", paths=ws)
    lines = EXAMPLE.read_text().splitlines()
    netflix = tmp_path / "netflix.csv"
    netflix.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")  # Taxi Driver + a series
    update_main(movies=netflix, platform="netflix", as_of="2024-02-01", paths=ws)
    update_main(movies=tmp_path / "netflix.csv", platform="hbo", as_of="2024-03-01", paths=ws)

    text = report_main(paths=ws).read_text()
    section = text[text.index("## Aggregator catalogue"):text.index("## Model evaluation")]
    assert "| hbo | 1 | 1 | 2 |" in section          # hbo kept Taxi Driver + the series
    assert "| netflix | 1 | 1 | 2 |" in section
    assert "| hbo | 2 | 2 |" in section               # overlap: both titles on both platforms
    assert "| hbo | 2024-03-01 | netflix.csv | 2 | 0 | 2 |" in section  # two departures
    assert "2 titles available now on 2 platform(s); 2 on two or more." in section
    png = aggregator.figure_path(ws)
    assert png.is_file() and png.stat().st_size > 10_000
    assert "figures/aggregator/platforms.png" in section
    assert text.count("platforms.png") == 1  # not repeated in the generic gallery
