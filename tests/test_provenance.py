"""Every report, metrics file and figure names its data: synthetic demo (by content, through
the generator's manifest of sha256s) or real files with their sha256; real-data targets are
never judged on synthetic data."""

from __future__ import annotations

import json
import shutil

import pytest

from src.config import SYNTHETIC_MANIFEST
from src.data import provenance as prov
from src.evaluation import evaluate
from src.evaluation.rating_cv import BASELINE, SVD_TUNED
from src.utils.io import sha256_file
from src.visualization import report, visualize
from tests.harness.png_text import png_text

SYNTHETIC_LABEL = "synthetic demo data (src.data.synthetic, seed 0)"


def test_synthetic_workspace_is_recognised_by_content(synthetic_pipeline, tmp_path):
    p = prov.workspace_provenance(synthetic_pipeline)
    assert p["kind"] == "synthetic" and p["seed"] == 0 and p["scale"] == "small"
    assert p["label"] == SYNTHETIC_LABEL and len(p["files"]) == 5
    assert all(f["synthetic"] for f in p["files"])
    # A synthetic file renamed like a real one is still synthetic (its sha256 is in the manifest)...
    renamed = tmp_path / "ratings_small.csv"
    shutil.copy(synthetic_pipeline.raw / "ratings.csv", renamed)
    shutil.copy(synthetic_pipeline.raw / SYNTHETIC_MANIFEST, tmp_path / SYNTHETIC_MANIFEST)
    assert prov.files_provenance([renamed], synthetic_pipeline)["kind"] == "synthetic"
    # ...and a real file with a synthetic name next to the manifest is real.
    fake = tmp_path / "ratings.csv"
    fake.write_text("userId,movieId,rating,timestamp\n1,2,4.0,1\n")
    mixed = prov.files_provenance([renamed, fake], synthetic_pipeline)
    assert mixed["kind"] == "mixed" and not prov.is_real(mixed)
    assert f"ratings.csv (sha256 {sha256_file(fake)[:12]}…)" in mixed["label"]


def test_real_files_are_named_with_sha256(real_etl, shared_data):
    p = prov.workspace_provenance(real_etl)
    assert p["kind"] == "real" and prov.is_real(p) and p["seed"] is None
    names = {f["name"]: f["sha256"] for f in p["files"]}
    assert names["tmdb_5000_movies.csv.gz"] == sha256_file(shared_data / "tmdb_5000_movies.csv.gz")
    assert names["ratings_small.csv.gz"] == sha256_file(shared_data / "ratings_small.csv.gz")
    assert p["label"].startswith("real data: ") and "tmdb_5000_movies.csv.gz (sha256 " in p["label"]


def test_unknown_and_broken_manifest(workspace, tmp_path):
    assert prov.workspace_provenance(workspace)["kind"] == "unknown"
    (tmp_path / SYNTHETIC_MANIFEST).write_text("{not json")
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    assert prov.files_provenance([f], workspace)["kind"] == "real"  # a bad manifest proves nothing
    assert prov.na_reason({"kind": "unknown"}) != prov.NA_SYNTHETIC


def test_absolute_targets_are_not_judged_on_synthetic_data():
    rating = {SVD_TUNED: {"rmse": 0.70}, BASELINE: {"rmse": 0.80}}
    syn = evaluate.compute_targets(rating, {}, provenance={"kind": "synthetic"})
    assert syn["best_rmse"]["met"] is None and syn["best_rmse"]["verdict"] == "n/a: synthetic data"
    assert syn["served_svd_rmse"]["verdict"] == "n/a: synthetic data"
    assert syn["svd_tuned_beats_baseline"]["met"] is True  # same-run comparison still holds
    real = evaluate.compute_targets(rating, {}, provenance={"kind": "real"})
    assert real["best_rmse"]["met"] is True and "verdict" not in real["best_rmse"]
    assert "n/a: synthetic data" in evaluate.target_row("best_rmse", syn["best_rmse"])


@pytest.mark.slow  # evaluate + every figure + the report on the synthetic workspace (~8 s)
def test_metrics_report_and_every_figure_name_the_synthetic_source(ws):
    # Provenance is written by every part; the protocols (tested in test_protocols/test_evaluate) are
    # left out to keep this test fast.
    m = evaluate.main(paths=ws, models=(BASELINE, SVD_TUNED), n_splits=2, topn=False, protocols=False)
    assert m["dataset"]["provenance"]["kind"] == "synthetic"
    saved = json.loads(ws.metrics.read_text())
    assert saved["targets"]["best_rmse"]["verdict"] == "n/a: synthetic data"
    md = (ws.reports / "metrics.md").read_text()
    assert SYNTHETIC_LABEL in md and "n/a: synthetic data" in md
    assert "| best_rmse |" in md and "| met |" not in md.split("| best_rmse |")[1].splitlines()[0]
    figures = visualize.main(paths=ws)
    assert len(figures) >= 9
    for f in figures:
        assert png_text(f).get("Description") == f"Data: {SYNTHETIC_LABEL}", f.name
    text = report.main(paths=ws).read_text()
    assert f"**Data: {SYNTHETIC_LABEL}**" in text.split("## Dataset")[0]
    assert "n/a: synthetic data" in text and "target 0.865 met" not in text
