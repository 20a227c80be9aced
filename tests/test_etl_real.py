"""Integration tests of the ETL entry point on the real sample files and on crafted raw
folders: counts, invariants, Toy Story, ratings coverage, discovery and atomic writes."""

from __future__ import annotations

import csv
import gzip
import json

import pandas as pd
import pytest

import src.data.make_dataset as make_dataset
from src.data.make_dataset import find_raw_inputs, main
from src.data.schema import MERGED_COLUMNS, MOVIES_METADATA_COLUMNS, split_list
from src.utils.io import sha256_file

# Slow: end-to-end ETL on the real sample files, several full runs (~9 s); `invoke test --quick` leaves it out.
pytestmark = pytest.mark.slow


def _report(paths) -> dict:
    return json.loads(paths.etl_report.read_text())


def test_real_counts_and_invariant(real_etl):
    """4,803 movies in and out; rows_in = rows_out + quarantined + duplicates for every file."""
    report = _report(real_etl)
    movies = report["inputs"]["tmdb_5000_movies.csv"]
    assert movies["rows_in"] == 4803 and movies["rows_out"] == 4803
    assert movies["schema"] == "tmdb_5000"
    assert report["inputs"]["keywords.csv"]["duplicates_dropped"] == 46419 - 45432
    assert len(report["inputs"]) == 5
    for name, stats in report["inputs"].items():
        total = stats["rows_out"] + sum(stats["quarantined"].values()) + stats["duplicates_dropped"]
        assert stats["rows_in"] == total, name
        assert stats["sha256"] == sha256_file(stats["file"])
    for name, out in report["outputs"].items():
        assert out["sha256"] == sha256_file(out["path"]), name
        if out["path"].endswith(".csv"):
            assert len(pd.read_csv(out["path"])) == out["rows"], name


def test_real_merged_schema_and_toy_story(real_etl):
    """merged_data6.csv has the contract columns; Toy Story has its genres and director."""
    merged = pd.read_csv(real_etl.merged)
    assert list(merged.columns) == list(MERGED_COLUMNS)
    assert merged["id"].is_unique and len(merged) == 4803
    toy = merged.set_index("id").loc[862]
    assert split_list(toy["genres"]) == ["Animation", "Comedy", "Family"]
    assert split_list(toy["directors"]) == ["John Lasseter"]
    assert split_list(toy["cast"])[:2] == ["Tom Hanks", "Tim Allen"]
    assert toy["release_date"] == "1995-10-30" and toy["media_type"] == "movie"
    assert bool(toy["has_credits"]) and bool(toy["has_keywords"])
    # Only the 35 sampled credits exist: most titles have none but are kept.
    assert merged["has_credits"].sum() <= 35 and (~merged["has_credits"]).sum() > 4700
    crew = pd.read_csv(real_etl.interim / "crew.csv")
    lasseter = crew[(crew["id"] == 862) & (crew["job"] == "Director")]
    assert lasseter["name"].tolist() == ["John Lasseter"]
    assert lasseter["department"].tolist() == ["Directing"]


def test_real_ratings_coverage(real_etl):
    """9,053 of 9,066 rated movies map to a tmdbId; 3,394 are in the catalogue (66,947 ratings)."""
    cov = _report(real_etl)["ratings_coverage"]
    assert cov["rated_movies"] == 9066 and cov["rated_movies_with_tmdbId"] == 9053
    assert cov["rated_movies_in_catalogue"] == 3394 and cov["ratings_in_catalogue"] == 66947
    ratings = pd.read_csv(real_etl.ratings, dtype={"tmdbId": "Int64"})
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp", "tmdbId"]
    assert len(ratings) == 100004
    assert ratings["tmdbId"].isna().sum() == cov["ratings_without_tmdbId"]
    assert ratings["rating"].between(0.5, 5.0).all()
    links = pd.read_csv(real_etl.links, dtype={"imdbId": str})
    assert links.loc[links["movieId"] == 1, "imdbId"].item() == "0114709"


def _write_gz_csv(path, header, rows):
    """Write a gzipped CSV with every field quoted as needed."""
    with gzip.open(path, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _meta_row(mid, **kw):
    row = {c: "" for c in MOVIES_METADATA_COLUMNS}
    row.update(adult="False", id=mid, title=f"T{mid}", genres="[{'id': 18, 'name': 'Drama'}]",
               release_date="10/30/1995", video="FALSE", vote_count="5",
               belongs_to_collection="{'id': 10194, 'name': 'Toy Story Collection'}")
    row.update(kw)
    return [row[c] for c in MOVIES_METADATA_COLUMNS]


def test_movies_metadata_raw_folder(workspace):
    """The Kaggle movies_metadata schema found in data/raw: shifted rows, malformed lines
    and duplicates are quarantined/dropped and accounted for, written per input file."""
    raw = workspace.raw
    rows = [_meta_row("862"), _meta_row("863"), _meta_row("863", title="dup"),
            _meta_row("1997-08-20", adult=" - Written by Ørnås"),
            ["a short line: the rest of an overview", "x"],   # too few fields: rejected
            _meta_row("864") + ["one field too many"]]
    _write_gz_csv(raw / "movies_metadata.csv.gz", MOVIES_METADATA_COLUMNS, rows)
    (raw / "credits.csv").write_text(
        "cast,crew,id\n\"[{'name': 'Tom Hanks', 'order': 0}]\",\"[f(1)]\",862\n")
    found = find_raw_inputs(raw)
    assert found["movies"].name == "movies_metadata.csv.gz" and found["credits"].name == "credits.csv"
    assert found["keywords"] is None and found["ratings"] is None

    report = main(paths=workspace)
    stats = report["inputs"]["movies_metadata.csv"]
    assert stats["schema"] == "movies_metadata"
    assert stats["rows_in"] == 6 and stats["rows_out"] == 2 and stats["duplicates_dropped"] == 1
    assert stats["quarantined"] == {"shifted_columns": 1, "wrong_field_count": 2}
    q = pd.read_csv(workspace.quarantine / "movies_metadata.csv")
    assert sorted(q["reason"]) == ["shifted_columns", "wrong_field_count", "wrong_field_count"]
    cq = pd.read_csv(workspace.quarantine / "credits.csv")
    assert cq["reason"].tolist() == ["unparseable_nested:crew"]
    merged = pd.read_csv(workspace.merged).set_index("id")
    assert merged.loc[862, "collection"] == "Toy Story Collection"
    assert merged.loc[862, "release_date"] == "1995-10-30"
    assert not merged.loc[862, "has_credits"]  # its credits row was quarantined


def test_missing_movies_is_a_clear_error(workspace):
    """No movies file: the error names the folder it searched and the names it tried."""
    with pytest.raises(FileNotFoundError, match=r"raw.*movies_dataset\.csv"):
        main(paths=workspace)
    with pytest.raises(FileNotFoundError, match="movies file not found: .*nope.csv"):
        main(movies=workspace.raw / "nope.csv", credits=workspace.raw / "nope.csv", paths=workspace)


def test_failed_write_keeps_previous_outputs(workspace, shared_data, monkeypatch, tmp_path):
    """If a later write fails, the previous merged_data6.csv (and report) stay intact."""
    movies = shared_data / "tmdb_5000_movies.csv.gz"
    main(movies=movies, paths=workspace)
    before = {p: sha256_file(p) for p in (workspace.merged, workspace.etl_report)}

    calls = {"n": 0}
    real_write = make_dataset.write_frame_csv

    def flaky_write(df, tmp):
        calls["n"] += 1
        if calls["n"] == 3:  # merged is already staged by now
            raise OSError("disk full")
        return real_write(df, tmp)

    monkeypatch.setattr(make_dataset, "write_frame_csv", flaky_write)
    with pytest.raises(OSError, match="disk full"):
        main(movies=movies, credits=shared_data / "credits_sample.csv.gz", paths=workspace)
    assert {p: sha256_file(p) for p in before} == before
    leftovers = [p for p in workspace.processed.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_out_dir_overrides_processed(workspace, shared_data, tmp_path):
    """out_dir receives the processed files instead of data/processed."""
    out = tmp_path / "elsewhere"
    main(movies=shared_data / "tmdb_5000_movies.csv.gz", out_dir=out, paths=workspace)
    assert (out / "merged_data6.csv").is_file() and (out / "etl_report.json").is_file()
    assert not workspace.merged.exists()


def _csv_bytes(paths) -> dict:
    """Every CSV the ETL wrote under a workspace, relative name -> bytes."""
    root = paths.processed.parent
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_credits_worker_gives_identical_outputs(real_etl, shared_data, workspace, monkeypatch):
    """Credits parsed in the worker process (forced by a 0 MB threshold) give byte-identical
    outputs and the same per-input stats as the in-process run of the real_etl fixture."""
    monkeypatch.setattr(make_dataset, "ETL_PARALLEL_CREDITS_MIN_MB", 0.0)
    assert make_dataset._use_credits_worker(shared_data / "credits_sample.csv.gz")
    report = main(movies=shared_data / "tmdb_5000_movies.csv.gz",
                  credits=shared_data / "credits_sample.csv.gz",
                  keywords=shared_data / "keywords.csv.gz",
                  links=shared_data / "links_small.csv.gz",
                  ratings=shared_data / "ratings_small.csv.gz", paths=workspace)
    assert _csv_bytes(workspace) == _csv_bytes(real_etl)
    ref = _report(real_etl)

    def strip(stats):
        return {k: v for k, v in stats.items() if k != "seconds"}

    assert list(report["inputs"]) == list(ref["inputs"])
    assert {n: strip(s) for n, s in report["inputs"].items()} == \
        {n: strip(s) for n, s in ref["inputs"].items()}
    assert [(n, o["rows"], o["sha256"]) for n, o in report["outputs"].items()] == \
        [(n, o["rows"], o["sha256"]) for n, o in ref["outputs"].items()]


def test_credits_worker_failure_keeps_previous_outputs(shared_data, workspace, monkeypatch, tmp_path):
    """A credits file the worker rejects raises the same ValueError as in-process; every
    previous output stays and no staged temp file is left behind."""
    movies = shared_data / "tmdb_5000_movies.csv.gz"
    main(movies=movies, credits=shared_data / "credits_sample.csv.gz", paths=workspace)
    before = {name: sha256_file(workspace.processed.parent / name) for name in _csv_bytes(workspace)}
    bad = tmp_path / "credits.csv"
    bad.write_text("id,cast\n862,[]\n")  # no crew column
    monkeypatch.setattr(make_dataset, "ETL_PARALLEL_CREDITS_MIN_MB", 0.0)
    with pytest.raises(ValueError, match="missing required column.*crew") as info:
        main(movies=movies, credits=bad, paths=workspace)
    assert "credits worker" in "".join(getattr(info.value, "__notes__", []))
    after = {name: sha256_file(workspace.processed.parent / name) for name in _csv_bytes(workspace)}
    assert after == before
    leftovers = [p for p in workspace.processed.parent.rglob(".*.tmp") if p.is_file()]
    assert leftovers == []
