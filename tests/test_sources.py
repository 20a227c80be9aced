"""Catalogue readers, genre vocabulary, series fields and entity resolution on the REAL
shared files (../shared/data/movies and ../shared/data/streaming)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from src.config import NEW_TITLE_ID_BASE, SHARED_STREAMING_DIR
from src.data.catalogue_clean import EXTRAS_KEY, clean_catalogue, clean_credits_any
from src.data.nested import parse_many
from src.data.readers import read_raw_csv
from src.data.resolve import AMBIGUOUS_REASON, Context
from src.data.sources import READERS, UnknownSchemaError, adapt, detect
from src.data.sources.base import split_comma
from src.data.sources.genres import genre_map, map_genres

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def streaming() -> Path:
    """The real streaming catalogues; fail (never skip) when absent."""
    if not (SHARED_STREAMING_DIR / "jw_netflix_titles_2022a.csv.gz").exists():
        pytest.fail(f"real streaming data not found at {SHARED_STREAMING_DIR}")
    return SHARED_STREAMING_DIR


def _clean(path: Path, context: Context | None = None, schema: str | None = None):
    raw, bad = read_raw_csv(path)
    clean, quarantine, stats = clean_catalogue(raw, path.name, schema, context)
    return clean, quarantine, stats, stats.pop(EXTRAS_KEY)


@pytest.fixture(scope="module")
def tmdb_context(shared_data: Path) -> Context:
    """The TMDB 5000 catalogue (clean) and MovieLens links.csv as a resolution context."""
    clean, _, stats, _ = _clean(shared_data / "tmdb_5000_movies.csv.gz")
    assert stats["schema"] == "tmdb_5000" and len(clean) == 4803
    links = read_raw_csv(shared_data / "links.csv.gz")[0]
    return Context(catalogue=clean, links=links)


@pytest.fixture(scope="module")
def netflix_2022a(streaming: Path, tmdb_context: Context):
    """jw_netflix_titles_2022a resolved against TMDB 5000 + links."""
    return _clean(streaming / "jw_netflix_titles_2022a.csv.gz", tmdb_context)


def test_detection_picks_each_reader_from_real_headers(shared_data, streaming):
    cases = {
        shared_data / "tmdb_5000_movies.csv.gz": "tmdb_5000",
        streaming / "jw_hbo_titles_2023.csv.gz": "justwatch",
        streaming / "shivamb_disney_plus_titles_2021.csv.gz": "show_id",
    }
    for path, name in cases.items():
        header = pd.read_csv(path, nrows=0).columns
        assert detect(header).name == name, path.name
    # Any id+title file is a minimal catalogue; the specific readers are tried first.
    assert detect(["id", "title", "genres"]).name == "minimal"
    assert [r.name for r in READERS][-1] == "minimal"


def test_justwatch_reader_taxi_driver_and_series(netflix_2022a):
    clean, quarantine, stats, extras = netflix_2022a
    assert stats["schema"] == "justwatch"
    assert stats["rows_in"] == 5850 and stats["rows_out"] == 5850 and len(quarantine) == 0
    assert "budget" in stats["columns_missing"] and "title" not in stats["columns_missing"]
    taxi = clean.set_index("id").loc[103]  # tm84618 -> tt0075314 -> links -> TMDB 103
    assert taxi["title"] == "Taxi Driver" and taxi["imdb_id"] == "tt0075314"
    assert [g["name"] for g in taxi["genres"]] == ["Drama", "Crime"]
    assert taxi["runtime"] == 114 and taxi["release_date"].startswith("1976")
    cw = extras.crosswalk.set_index("source_id").loc["tm84618"]
    assert int(cw["id"]) == 103 and cw["match_rule"] == "imdb_links" and int(cw["tmdb_id"]) == 103
    # Series are first-class: every SHOW row is a series with seasons and a first-air year.
    series = clean[clean["media_type"] == "series"]
    assert len(series) == 2106
    assert series["number_of_seasons"].notna().all() and series["first_air_date"].notna().all()
    five = clean[clean["title"] == "Five Came Back: The Reference Films"].iloc[0]
    assert five["media_type"] == "series" and five["number_of_seasons"] == 1
    assert five["first_air_date"] == "1945-01-01"


def test_justwatch_credits_join_their_titles(streaming, netflix_2022a):
    _, _, _, extras = netflix_2022a
    for name in ("jw_netflix_credits_2022a.csv.gz", "jw_netflix_credits_2023.csv.gz"):
        raw, _ = read_raw_csv(streaming / name)  # 2023 names the column character_name
        clean, quarantine, stats = clean_credits_any(raw, name, extras.id_of_source)
        assert stats["rows_in"] == len(raw)
        assert stats["rows_in"] == stats["rows_out"] + sum(stats["quarantined"].values())
        if name.endswith("2022a.csv.gz"):
            assert len(quarantine) == 0
            taxi = clean.set_index("id").loc[103]
            assert taxi["cast"][0]["name"] == "Robert De Niro"
            assert taxi["cast"][0]["character"] == "Travis Bickle"
            assert [d["name"] for d in taxi["crew"]] == ["Martin Scorsese"]
        else:  # another snapshot: people of titles not in 2022a are quarantined, counted
            assert stats["quarantined"].get("unknown_title", 0) > 0
    with pytest.raises(ValueError, match="need their titles file"):
        clean_credits_any(raw, "jw_credits.csv")


def test_show_id_reader_real_netflix(streaming):
    clean, quarantine, stats, extras = _clean(streaming / "shivamb_netflix_titles_2021-09.csv.gz")
    assert stats["schema"] == "show_id"
    assert stats["rows_in"] == 8807
    assert stats["rows_in"] == stats["rows_out"] + sum(stats["quarantined"].values()) + \
        stats["duplicates_dropped"]
    row = clean.set_index("id").loc[int(extras.id_of_source["s2"])]
    assert row["title"] == "Blood & Water" and row["media_type"] == "series"
    assert row["number_of_seasons"] == 2 and row["first_air_date"] == "2021-01-01"
    # "International TV Shows, TV Dramas, TV Mysteries": the region tag is not a genre.
    assert [g["name"] for g in row["genres"]] == ["Drama", "Mystery"]
    movie = clean.set_index("id").loc[int(extras.id_of_source["s1"])]
    assert movie["media_type"] == "movie" and movie["runtime"] == 90
    assert [g["name"] for g in movie["genres"]] == ["Documentary"]
    # People listed in the file become the title's credits.
    credits = extras.credits.set_index("id").loc[int(extras.id_of_source["s1"])]
    assert [d["name"] for d in credits["crew"]] == ["Kirsten Johnson"]
    assert (clean["media_type"] == "series").sum() > 2000


def test_every_genre_in_the_shared_files_maps(streaming, shared_data):
    """Each genre name of every JustWatch, show_id and TMDB file is listed in genre_map.csv,
    and every target is a TMDB genre name of the map."""
    tmdb_names = set(genre_map()["tmdb"])
    seen: dict[str, set[str]] = {"justwatch": set(), "listed_in": set(), "tmdb": set()}
    for path in sorted(streaming.glob("jw_*_titles_*.csv.gz")):
        values, errors = parse_many(pd.read_csv(path, usecols=["genres"], dtype=str)["genres"])
        assert not errors, path.name
        seen["justwatch"].update(g for v in values if v for g in v)
    for path in sorted(streaming.glob("shivamb_*.csv.gz")):
        for cell in pd.read_csv(path, usecols=["listed_in"], dtype=str)["listed_in"]:
            seen["listed_in"].update(split_comma(cell))
    values, _ = parse_many(pd.read_csv(shared_data / "tmdb_5000_movies.csv.gz",
                                       usecols=["genres"], dtype=str)["genres"])
    seen["tmdb"].update(d["name"] for v in values if v for d in v)
    assert len(seen["justwatch"]) >= 19 and len(seen["listed_in"]) >= 100
    for vocabulary, names in seen.items():
        mapped, unknown = map_genres(sorted(names), vocabulary)
        assert unknown == [], (vocabulary, unknown)
        assert set(mapped) <= tmdb_names, (vocabulary, set(mapped) - tmdb_names)
    assert map_genres(["scifi", "documentation"], "justwatch")[0] == ["Science Fiction", "Documentary"]
    assert map_genres(["TV Dramas", "International TV Shows"], "listed_in")[0] == ["Drama"]


def test_minimal_catalogue_lists_missing_columns(tmp_path):
    path = tmp_path / "mini.csv"
    path.write_text("id,title,genres\n900001,A Minimal Film,Drama|scifi\n900002,Second,"
                    "\"Comedies, Stand-Up Comedy\"\nnot-an-id,Broken,Drama\n")
    clean, quarantine, stats, extras = _clean(path)
    assert stats["schema"] == "minimal"
    assert "overview" in stats["columns_missing"] and "genres" not in stats["columns_missing"]
    assert set(extras.supplied) == {"id", "title", "genres"}
    rows = clean.set_index("id")
    assert [g["name"] for g in rows.loc[900001, "genres"]] == ["Drama", "Science Fiction"]
    assert [g["name"] for g in rows.loc[900002, "genres"]] == ["Comedy"]
    assert quarantine["reason"].tolist() == ["id_not_integer"]
    assert stats["rows_in"] == 3 and stats["rows_out"] == 2


def test_unknown_header_is_one_line_exit_2(tmp_path, streaming):
    """`invoke data` on a file no reader fits: one line naming the readers, exit code 2."""
    top10 = streaming / "netflix_top10_global_weekly_2021-07_2025-04.csv.gz"
    with pytest.raises(UnknownSchemaError, match="justwatch: .*show_id: .*minimal: "):
        adapt(read_raw_csv(top10)[0], top10.name)
    env = {"STREAMREC_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent),
           "PYTHONPATH": str(ROOT)}
    for args in (["data", "--movies", str(top10)],
                 ["data", "--movies", str(top10), "--schema", "nonesuch"]):
        proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("invoke data:")]
        assert len(errors) == 1 and "minimal: at least id" in errors[0]


def test_forced_schema_needs_its_columns(shared_data):
    raw = read_raw_csv(shared_data / "tmdb_5000_movies.csv.gz")[0]
    with pytest.raises(UnknownSchemaError, match="--schema justwatch needs columns"):
        adapt(raw, "tmdb_5000_movies.csv", "justwatch")
    assert adapt(raw, "tmdb_5000_movies.csv", "minimal").schema == "minimal"


def test_resolution_precision_on_real_pairs(netflix_2022a, tmdb_context):
    tmdb_ids = set(tmdb_context.catalogue["id"].astype(int))
    clean, _, stats, extras = netflix_2022a
    cw = extras.crosswalk.set_index("source_id")
    # Same title, different year: JustWatch's Halloween (2007) is not TMDB's 1978 one (948).
    assert int(cw.loc["tm79895", "id"]) != 948
    assert int(cw.loc["tm102337", "id"]) != 377      # A Nightmare on Elm Street 2010 vs 1984
    # A movie and a series of one name and year stay two titles.
    assert cw.loc["tm25842", "id"] != cw.loc["ts19384", "id"]
    # A series never takes a movie's TMDB id through MovieLens links (movies only).
    assert int(cw.loc["ts20526", "id"]) != 2649      # The Game (series 2006) vs (movie 1997)
    new = extras.crosswalk[extras.crosswalk["match_rule"] == "new_id"]
    assert (new["id"].astype(int) >= NEW_TITLE_ID_BASE).all() and new["tmdb_id"].isna().all()
    rep = stats["resolution"]
    assert rep["rows"] == 5850 and rep["ambiguous"] == 0
    assert rep["matched"]["imdb_links"] + rep["matched"]["imdb_id"] > 700
    resolved = extras.crosswalk["id"].astype(int)
    assert rep["new_titles"] == resolved[~resolved.isin(tmdb_ids)].nunique()


def test_ids_are_stable_through_the_registry(streaming, netflix_2022a, tmdb_context):
    _, _, _, first = netflix_2022a
    ctx = Context(catalogue=tmdb_context.catalogue, links=tmdb_context.links, registry=first.registry)
    # A later snapshot of the same platform: shared titles keep their ids.
    _, _, _, later = _clean(streaming / "jw_netflix_titles_2023.csv.gz", ctx)
    a = first.crosswalk.set_index("source_id")["id"]
    b = later.crosswalk.set_index("source_id")["id"]
    shared = a.index.intersection(b.index)
    assert len(shared) > 3000
    assert (a.loc[shared] == b.loc[shared]).all()
    assert not set(b.drop(shared)).intersection(set(a))  # new titles never reuse an id


def test_ambiguous_title_match_is_quarantined(tmp_path):
    """Two catalogue titles of one normalised name, year and type: a row with no IMDb id
    cannot be told apart, so it is quarantined rather than merged into either."""
    catalogue = pd.DataFrame({"id": [1, 2], "imdb_id": ["tt0000001", "tt0000002"],
                              "title": ["Crash", "CRASH!"], "release_date": ["2004-05-06"] * 2,
                              "media_type": ["movie", "movie"]})
    path = tmp_path / "jw_x_titles_2023.csv"
    header = "id,title,type,description,release_year,age_certification,runtime,genres," \
             "production_countries,seasons,imdb_id,imdb_score,imdb_votes,tmdb_popularity,tmdb_score"
    path.write_text(f"{header}\ntm1,Crash,MOVIE,,2004,,112,['drama'],['US'],,,,,,\n"
                    f"tm2,Crash,MOVIE,,2004,,112,['drama'],['US'],,tt0000002,,,,\n")
    clean, quarantine, stats, extras = _clean(path, Context(catalogue=catalogue))
    assert quarantine["reason"].tolist() == [AMBIGUOUS_REASON]
    assert stats["quarantined"] == {AMBIGUOUS_REASON: 1} and stats["rows_in"] == 2
    assert clean["id"].tolist() == [2]  # the row with an IMDb id matches exactly


def test_etl_of_a_platform_catalogue_keeps_ids_across_rebuilds(tmp_path, streaming):
    """`invoke data --movies <show_id file>`: a catalogue with series, credits from the file's
    people, the crosswalk, and the same ids on a rebuild (id registry)."""
    import json

    from src.config import Paths
    from src.data.make_dataset import main as etl_main

    ws = Paths.from_root(tmp_path).ensure()
    movies = streaming / "shivamb_disney_plus_titles_2021.csv.gz"
    report = etl_main(movies=movies, paths=ws)
    info = report["inputs"]["shivamb_disney_plus_titles_2021.csv"]
    assert info["schema"] == "show_id" and info["rows_in"] == 1450
    assert info["resolution"]["rows"] == 1450 and "budget" in info["columns_missing"]
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False)
    assert len(merged) == info["rows_out"] and (merged["media_type"] == "series").sum() > 300
    assert (merged["directors"] != "").sum() > 500 and (merged["cast"] != "").sum() > 1000
    cw = pd.read_csv(ws.title_sources, dtype=str)
    assert set(cw["match_rule"]) == {"new_id"} and len(cw) == len(merged)
    first = dict(zip(cw["source_id"], cw["id"]))
    etl_main(movies=movies, paths=ws)  # a rebuild
    again = pd.read_csv(ws.title_sources, dtype=str)
    assert dict(zip(again["source_id"], again["id"])) == first
    assert json.loads(ws.etl_report.read_text())["outputs"]["title_ids"]["rows"] == len(first)
