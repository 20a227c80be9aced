"""Platform snapshots on the REAL Netflix catalogues: arrivals/departures, availability,
the ``platforms`` column, idempotent re-apply, refusal of an older snapshot, a minimal
3-column batch and the example snapshot through ``invoke update``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from src.config import SHARED_STREAMING_DIR, Paths
from src.data.availability import SnapshotRefused, read_availability, snapshot_of_name
from src.data.make_dataset import main as etl_main
from src.data.schema import split_list
from src.pipeline.update import main as update_main
from src.utils.io import sha256_file

ROOT = Path(__file__).resolve().parents[1]
JW = SHARED_STREAMING_DIR


def _tmdb_workspace(root: Path, shared_data: Path) -> Paths:
    """A workspace whose catalogue is TMDB 5000 (+ MovieLens links.csv for resolution)."""
    ws = Paths.from_root(root).ensure()
    etl_main(movies=shared_data / "tmdb_5000_movies.csv.gz",
             links=shared_data / "links.csv.gz", paths=ws)
    return ws


@pytest.fixture(scope="module")
def netflix_ws(tmp_path_factory, shared_data) -> tuple[Paths, dict, dict]:
    """TMDB 5000, then Netflix 2022a (as of 2022-03-01), then Netflix 2023 (2023-07-01)."""
    ws = _tmdb_workspace(tmp_path_factory.mktemp("netflix"), shared_data)
    first = update_main(movies=JW / "jw_netflix_titles_2022a.csv.gz",
                        credits=JW / "jw_netflix_credits_2022a.csv.gz",
                        platform="netflix", as_of="2022-03-01", paths=ws)
    second = update_main(movies=JW / "jw_netflix_titles_2023.csv.gz", platform="Netflix",
                         as_of="2023-07-01", paths=ws)
    return ws, first, second


def _ids_of(ws: Paths, source: str) -> set[int]:
    """StreamRec ids the crosswalk gives the rows of one source file."""
    cw = pd.read_csv(ws.title_sources, dtype=str)
    return set(cw.loc[cw["source"] == source, "id"].astype(int))


@pytest.mark.slow
def test_arrivals_and_departures_equal_the_id_set_differences(netflix_ws):
    ws, first, second = netflix_ws
    a = _ids_of(ws, "jw_netflix_titles_2022a.csv")
    b = _ids_of(ws, "jw_netflix_titles_2023.csv")
    assert first["arrived"] == len(a) == 5850 and first["departed"] == 0
    assert set(second["arrived_ids"]) == b - a and second["arrived"] == len(b - a) > 500
    assert set(second["departed_ids"]) == a - b and second["departed"] == len(a - b) > 500
    for key in ("arrived", "departed", "added", "updated", "unchanged", "quarantined"):
        assert key in second
    avail = read_availability(ws.availability)
    open_now = set(avail.loc[avail["last_seen"] == "", "id"])
    assert open_now == b
    gone = avail[avail["id"].isin(a - b)]
    assert (gone["first_seen"] == "2022-03-01").all() and (gone["last_seen"] == "2023-07-01").all()
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index("id")
    # Departed titles stay in the catalogue with no current platform.
    departed = [str(i) for i in second["departed_ids"]]
    assert merged.loc[departed, "platforms"].eq("").all()
    assert merged.loc[[str(i) for i in b], "platforms"].eq("netflix").all()
    features = pd.read_parquet(ws.features).set_index("id")
    assert features.loc[list(b), "platforms"].map(split_list).map(lambda p: p == ["netflix"]).all()


@pytest.mark.slow
def test_taxi_driver_is_one_title_carrying_netflix(netflix_ws):
    ws, first, _ = netflix_ws
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False)
    taxi = merged[merged["imdb_id"] == "tt0075314"]
    assert taxi["id"].tolist() == ["103"]  # TMDB 5000's id, not a second title
    # The other "Taxi Driver" on Netflix (2015, tt5112438) stays a title of its own.
    other = merged[merged["imdb_id"] == "tt5112438"]
    assert other["title"].tolist() == ["Taxi Driver"] and other["id"].tolist() != ["103"]
    avail = read_availability(ws.availability)
    stay = avail[avail["id"] == 103]
    assert stay["platform"].tolist() == ["netflix"] and stay["first_seen"].tolist() == ["2022-03-01"]
    # The TMDB release date is not replaced by the platform file's bare year.
    assert taxi["release_date"].iloc[0] == "1976-02-07"
    cast = pd.read_csv(ws.interim / "cast.csv", dtype=str)
    assert "Robert De Niro" in cast.loc[cast["id"] == "103", "name"].tolist()


@pytest.mark.slow
def test_reapply_is_a_noop_and_older_is_refused(netflix_ws):
    ws, _, _ = netflix_ws
    files = [ws.merged, ws.availability, ws.platform_snapshots, ws.features, ws.title_sources]
    before = {p: sha256_file(p) for p in files}
    again = update_main(movies=JW / "jw_netflix_titles_2023.csv.gz", platform="netflix",
                        as_of="2023-07-01", paths=ws)
    assert again["status"] == "unchanged"
    assert (again["arrived"], again["departed"], again["added"], again["updated"]) == (0, 0, 0, 0)
    assert {p: sha256_file(p) for p in files} == before
    with pytest.raises(SnapshotRefused, match="older than the last one applied"):
        update_main(movies=JW / "jw_netflix_titles_2022b.csv.gz", platform="netflix",
                    as_of="2022-06-01", paths=ws)
    env = {"STREAMREC_HOME": str(ws.root), "PATH": str(Path(sys.executable).parent),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "invoke", "update", "--platform", "netflix",
                           "--as-of", "2022-06-01", "--movies",
                           str(JW / "jw_netflix_titles_2022b.csv.gz")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invoke update: netflix: snapshot as of 2022-06-01 is older" in proc.stderr
    assert {p: sha256_file(p) for p in files} == before


@pytest.mark.slow
def test_minimal_batch_and_example_snapshot_through_invoke_update(tmp_path, shared_data):
    ws = _tmdb_workspace(tmp_path / "ws", shared_data)
    batch = tmp_path / "new_titles.csv"
    batch.write_text("id,title,genres\n950001,A Reduced Batch Film,Drama|Comedy\n"
                     "950002,Another One,scifi\n")
    env = {"STREAMREC_HOME": str(ws.root), "PATH": str(Path(sys.executable).parent),
           "PYTHONPATH": str(ROOT)}

    def invoke(*args):
        return subprocess.run([sys.executable, "-m", "invoke", "update", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    proc = invoke("--movies", str(batch))
    assert proc.returncode == 0, proc.stderr
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index("id")
    assert merged.loc["950001", "genres"] == "Drama|Comedy"
    assert merged.loc["950002", "genres"] == "Science Fiction"
    example = ROOT / "references" / "examples" / "platform_snapshot.csv"
    proc = invoke("--platform", "hbo", "--as-of", "2024-01-31", "--movies", str(example))
    assert proc.returncode == 0, proc.stderr
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index("id")
    assert merged.loc["103", "platforms"] == "hbo"
    series = merged[merged["title"] == "StreamRec Example Series"].iloc[0]
    assert series["media_type"] == "series" and series["number_of_seasons"] == "3.0"
    assert int(series.name) >= 100_000_000
    proc = invoke("--platform", "not a platform!", "--as-of", "2024-02-01", "--movies", str(example))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "platform" in proc.stderr
    # The inbox reads platform and date from the file name.
    (ws.inbox / "disney+@2024-02-01.csv").write_bytes(example.read_bytes())
    proc = invoke("--inbox")
    assert proc.returncode == 0, proc.stderr
    avail = read_availability(ws.availability)
    assert sorted(avail.loc[avail["platform"] == "disney+", "first_seen"]) == ["2024-02-01"] * 4


def test_inbox_names_carry_platform_and_date():
    assert snapshot_of_name("netflix@2023-07-01.csv.gz") == ("netflix", "2023-07-01")
    assert snapshot_of_name("Disney+@2022-12-31-weekly") == ("disney+", "2022-12-31")
    assert snapshot_of_name("2024-05-01-a") is None
    assert snapshot_of_name("netflix@2023-13-01") is None  # not a date: a plain batch


@pytest.mark.slow
def test_platform_series_flow_into_features_and_cold_start(netflix_ws):
    """Series from a platform file are recommendable like movies: features carry them with
    their first-air year, and the cold-start chart for series lists them."""
    from src.models.predict_model import Recommender

    ws, _, _ = netflix_ws
    features = pd.read_parquet(ws.features)
    series = features[features["media_type"] == "series"]
    assert len(series) > 2000 and series["year"].notna().mean() > 0.99
    assert (series["number_of_seasons"] >= 1).all()
    rec = Recommender(features)
    chart = rec.cold_start(n=10, media_type="series")
    assert len(chart) == 10 and set(chart["media_type"]) == {"series"}
    assert set(chart["id"]) <= set(series["id"])
