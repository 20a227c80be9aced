"""The ETL on the small synthetic dataset does exactly what its manifest declares.

``src.data.synthetic.generate`` plants defects and lists them in synthetic_manifest.json;
here the real ETL (``src.data.make_dataset.main``) runs on that data and every quarantined
row, dropped duplicate and surviving id is checked against the manifest, file by file.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from src.config import Paths
from src.data.make_dataset import main as etl_main
from src.data.synthetic import generate


@pytest.fixture(scope="module")
def synth_etl(tmp_path_factory) -> tuple[Paths, dict, dict]:
    """Workspace with the small synthetic data (seed 1, not the seed 0 other tests use)
    ETL'd. Out: (paths, manifest, ETL report)."""
    ws = Paths.from_root(tmp_path_factory.mktemp("synth_etl")).ensure()
    generate(ws.raw, scale="small", seed=1)
    manifest = json.loads((ws.raw / "synthetic_manifest.json").read_text())
    report = etl_main(paths=ws)
    return ws, manifest, report


def test_movies_quarantine_equals_declared_defects(synth_etl):
    """Exactly the shifted and non-integer-id rows are quarantined, with those reasons."""
    ws, manifest, report = synth_etl
    defects = manifest["movies"]["defects"]
    stats = report["inputs"]["movies_dataset.csv"]
    assert stats["quarantined"] == {
        "shifted_columns": defects["shifted_columns"]["count"],
        "id_not_integer": defects["non_integer_id"]["count"],
    }
    q = pd.read_csv(ws.quarantine / "movies_dataset.csv", dtype=str, keep_default_na=False)
    by_reason = {r: sorted(g["id"]) for r, g in q.groupby("reason")}
    assert by_reason["shifted_columns"] == sorted(defects["shifted_columns"]["ids"])
    assert by_reason["id_not_integer"] == sorted(defects["non_integer_id"]["ids"])


def test_movies_duplicates_and_survivors_match_manifest(synth_etl):
    """Dropped duplicates = exact + near duplicates planted; every valid id survives once."""
    ws, manifest, report = synth_etl
    movies = manifest["movies"]
    defects = movies["defects"]
    stats = report["inputs"]["movies_dataset.csv"]
    assert stats["rows_in"] == movies["rows"]
    assert stats["duplicates_dropped"] == (defects["exact_duplicate"]["count"]
                                           + defects["near_duplicate"]["count"])
    assert stats["rows_out"] == movies["valid_unique_ids"]
    merged = pd.read_csv(ws.merged, dtype={"id": "int64"})
    assert merged["id"].is_unique and len(merged) == movies["valid_unique_ids"]
    dup_ids = {int(i) for k in ("exact_duplicate", "near_duplicate") for i in defects[k]["ids"]}
    assert dup_ids <= set(merged["id"])
    # The near-duplicate tie is broken by the higher vote_count (the planted copy has +1).
    raw = pd.read_csv(ws.raw / "movies_dataset.csv", dtype=str, keep_default_na=False)
    for i in defects["near_duplicate"]["ids"]:
        best = raw.loc[raw["id"] == i, "vote_count"].astype(float).max()
        assert float(merged.loc[merged["id"] == int(i), "vote_count"].iloc[0]) == best


@pytest.mark.parametrize("name, key", [("credits.csv", "credits"), ("keywords.csv", "keywords")])
def test_side_files_match_manifest(synth_etl, name, key):
    """Credits/keywords: nothing quarantined, the planted duplicate rows dropped, orphan rows
    (ids without a title) kept out of the catalogue tables."""
    ws, manifest, report = synth_etl
    side = manifest[key]
    stats = report["inputs"][name]
    assert stats["rows_in"] == side["rows"]
    assert stats["quarantined"] == {}
    assert stats["duplicates_dropped"] == len(side["duplicate_ids"])
    assert stats["rows_out"] == side["rows"] - len(side["duplicate_ids"])
    for table in (("cast", "crew") if key == "credits" else ("keywords",)):
        ids = set(pd.read_csv(ws.interim / f"{table}.csv", usecols=["id"])["id"])
        assert not ids & set(side["orphan_ids"])


def test_invariant_and_links_match_manifest(synth_etl):
    """rows_in = rows_out + quarantined + duplicates for every input; links without a tmdbId
    are the ones the manifest lists."""
    _, manifest, report = synth_etl
    for name, s in report["inputs"].items():
        assert s["rows_in"] == s["rows_out"] + sum(s["quarantined"].values()) \
            + s["duplicates_dropped"], name
    links = report["inputs"]["links.csv"]
    assert links["unmapped"] == len(manifest["links"]["no_tmdb_movie_ids"])


def test_ratings_parquet_holds_the_csv_rows_typed(synth_etl):
    """ratings.parquet (committed with ratings.csv) has the CSV's rows and values, ids kept
    as integers (no float round trip), and is what training reads by default."""
    from src.models.ratings_data import default_ratings_source

    ws, _, report = synth_etl
    csv = pd.read_csv(ws.ratings)
    pq = pd.read_parquet(ws.ratings_parquet)
    assert list(pq.columns) == list(csv.columns) and len(pq) == len(csv) > 0
    assert str(pq["tmdbId"].dtype) == "Int64" and str(pq["userId"].dtype) == "int64"
    pd.testing.assert_frame_equal(pq.astype({"tmdbId": "float64"}), csv.astype({"tmdbId": "float64"}))
    out = report["outputs"]["ratings_parquet"]
    assert out["rows"] == report["outputs"]["ratings"]["rows"] == len(csv)
    assert default_ratings_source(ws) == ws.ratings_parquet
