"""Tests of cleaning: every quarantine reason, the row invariant, dates, booleans,
duplicate-id resolution, series rows, links and ratings validation."""

from __future__ import annotations

import pandas as pd
import pytest

from src.data.clean import clean_credits, clean_keywords, clean_movies
from src.data.convert import to_bool, to_float, to_iso_date
from src.data.ratings import clean_links, clean_ratings, map_ratings
from src.data.readers import detect_movies_schema
from src.data.schema import MOVIES_METADATA_COLUMNS, TMDB5000_COLUMNS


def invariant(stats: dict) -> bool:
    """rows_in == rows_out + quarantined + duplicates_dropped."""
    return stats["rows_in"] == (stats["rows_out"] + sum(stats["quarantined"].values())
                                + stats["duplicates_dropped"])


def meta_row(**overrides) -> dict:
    """One movies_metadata-shaped row of text cells (a valid movie unless overridden)."""
    row = {c: pd.NA for c in MOVIES_METADATA_COLUMNS}
    row.update({
        "adult": "False", "budget": "100", "genres": "[{'id': 16, 'name': 'Animation'}]",
        "id": "1", "original_language": "en", "original_title": "A", "popularity": "1.5",
        "production_companies": "[]", "production_countries": "[]", "release_date": "1995-10-30",
        "revenue": "0", "runtime": "90", "spoken_languages": "[]", "status": "Released",
        "title": " A ", "video": "False", "vote_average": "7", "vote_count": "10",
    })
    row.update(overrides)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    """All-text frame like read_raw_csv returns."""
    return pd.DataFrame(rows).astype("str")


def test_every_movie_quarantine_reason():
    """Each bad row lands in quarantine with its own reason code; good rows survive."""
    rows = [
        meta_row(id="1"),
        meta_row(id=pd.NA),                                        # missing_id
        meta_row(id="12ab"),                                       # id_not_integer
        meta_row(id="1997-08-20", adult=" - Written by Ørnås"),   # shifted_columns
        meta_row(id="abc", adult="A long overview that slid into adult"),  # shifted_columns
        meta_row(id="-5"),                                         # id_not_positive
        meta_row(id="7", genres="[{'id': 16, 'name': f(1)}]"),    # unparseable_nested:genres
        meta_row(id="8", genres="{'id': 16}"),                     # unparseable_nested:genres (shape)
        meta_row(id="9", media_type="podcast"),                    # invalid_media_type
    ]
    clean, quarantine, stats = clean_movies(frame(rows))
    assert clean["id"].tolist() == [1]
    assert stats["quarantined"] == {
        "missing_id": 1, "id_not_integer": 1, "shifted_columns": 2, "id_not_positive": 1,
        "unparseable_nested:genres": 2, "invalid_media_type": 1,
    }
    assert len(quarantine) == 8 and quarantine["reason"].notna().all()
    # The quarantined rows keep their original text for inspection.
    assert "1997-08-20" in quarantine["id"].tolist()
    assert invariant(stats)


def test_unparseable_descriptive_cell_is_kept_empty_and_counted():
    """A broken production_companies cell keeps the movie with an empty list, counted."""
    clean, quarantine, stats = clean_movies(frame([
        meta_row(id="1", production_companies="[{'name': __import__('os')}]"),
        meta_row(id="2", belongs_to_collection="{'id': 5, 'name': 'Saga'}"),
    ]))
    assert clean["id"].tolist() == [1, 2]
    assert clean.loc[0, "production_companies"] == []
    assert stats["nested_emptied"] == {"production_companies": 1}
    assert clean.loc[1, "belongs_to_collection"] == {"id": 5, "name": "Saga"}
    assert len(quarantine) == 0 and invariant(stats)


def test_duplicate_ids_resolved_deterministically():
    """Most non-empty fields wins, then highest vote_count, then first in file."""
    rows = [
        meta_row(id="1", title="sparse", overview=pd.NA, vote_count="999"),
        meta_row(id="1", title="full", overview="text", vote_count="1"),
        meta_row(id="2", title="low", vote_count="3"),
        meta_row(id="2", title="high", vote_count="30"),
        meta_row(id="3", title="first"),
        meta_row(id="3", title="second"),
    ]
    for order in (rows, rows[::-1]):
        clean, _, stats = clean_movies(frame(order))
        titles = dict(zip(clean["id"], clean["title"]))
        assert titles[1] == "full" and titles[2] == "high"
        assert stats["duplicates_dropped"] == 3 and invariant(stats)
    clean, _, _ = clean_movies(frame(rows))
    assert dict(zip(clean["id"], clean["title"]))[3] == "first"


def test_types_text_and_series_fallback():
    """Text is trimmed; numbers parsed with failures counted; series take first_air_date."""
    rows = [
        meta_row(id="1", budget="lots", runtime=""),
        dict(meta_row(id="2", release_date=pd.NA), media_type="Series",
             first_air_date="3/4/2001", number_of_seasons="2", number_of_episodes="20"),
    ]
    clean, _, stats = clean_movies(frame(rows))
    assert clean.loc[0, "title"] == "A"
    assert pd.isna(clean.loc[0, "budget"]) and stats["numeric_failures"]["budget"] == 1
    assert stats["numeric_failures"]["runtime"] == 0  # empty is missing, not a failure
    assert clean.loc[0, "media_type"] == "movie"
    assert clean.loc[1, "media_type"] == "series"
    assert clean.loc[1, "release_date"] == "2001-03-04"
    assert clean.loc[1, "number_of_seasons"] == 2.0


@pytest.mark.parametrize("text, expected", [
    ("1995-10-30", "1995-10-30"), ("1995-1-3", "1995-01-03"), ("10/30/1995", "1995-10-30"),
    ("3/4/2001", "2001-03-04"), ("1995-10-30T12:00:00", "1995-10-30"), (" 2001-02-03 ", "2001-02-03"),
])
def test_dates(text, expected):
    """ISO and M/D/YYYY (month first when ambiguous) become ISO strings."""
    out, failures = to_iso_date(pd.Series([text], dtype="str"))
    assert out.iloc[0] == expected and failures == 0


@pytest.mark.parametrize("text", ["2019-02-30", "30/10/1995", "yesterday", "1995"])
def test_bad_dates_counted(text):
    """Impossible or unknown dates become NA and are counted."""
    out, failures = to_iso_date(pd.Series([text, pd.NA], dtype="str"))
    assert out.isna().all() and failures == 1


def test_booleans_every_spelling():
    """True/False/TRUE/FALSE/true/false/1/0 parse; empty takes the default; junk counted."""
    cells = ["True", "False", "TRUE", "FALSE", "true", "false", "1", "0", " 1.0 ", pd.NA, "maybe"]
    out, failures = to_bool(pd.Series(cells, dtype="str"))
    assert out.tolist() == [True, False, True, False, True, False, True, False, True, False, False]
    assert failures == 1


def test_float_failures_counted():
    """Non-numeric cells become NaN and are counted; blanks are not failures."""
    out, failures = to_float(pd.Series(["1.5", "x", pd.NA, "2e3"], dtype="str"))
    assert out.iloc[0] == 1.5 and out.iloc[3] == 2000.0 and failures == 1


def test_schema_detection():
    """Both catalogue schemas are recognised; anything else names what is missing."""
    assert detect_movies_schema(MOVIES_METADATA_COLUMNS) == "movies_metadata"
    assert detect_movies_schema(TMDB5000_COLUMNS) == "tmdb_5000"
    with pytest.raises(ValueError, match="missing columns.*title"):
        detect_movies_schema([c for c in TMDB5000_COLUMNS if c != "title"])


def test_credits_and_keywords_reasons_and_duplicates():
    """Bad credits/keywords rows are quarantined; duplicates keep the row with most entries."""
    cast = "[{'cast_id': 1, 'character': 'Woody', 'id': 31, 'name': 'Tom Hanks', 'order': 0}]"
    crew = "[{'department': 'Directing', 'id': 7879, 'job': 'Director', 'name': 'John Lasseter'}]"
    credits = frame([
        {"cast": cast, "crew": crew, "id": "862"},
        {"cast": "[]", "crew": "[]", "id": "862"},
        {"cast": "[{'name': 'x'", "crew": "[]", "id": "5"},
        {"cast": cast, "crew": "os.system('x')", "id": "6"},
        {"cast": cast, "crew": crew, "id": "x"},
    ])
    clean, quarantine, stats = clean_credits(credits)
    assert clean["id"].tolist() == [862] and clean.loc[0, "cast"][0]["name"] == "Tom Hanks"
    assert stats["quarantined"] == {"unparseable_nested:cast": 1, "unparseable_nested:crew": 1,
                                    "id_not_integer": 1}
    assert stats["duplicates_dropped"] == 1 and invariant(stats)
    kw, kq, kstats = clean_keywords(frame([{"id": "1", "keywords": "[{'id': 2, 'name': 'toy'}]"},
                                           {"id": pd.NA, "keywords": "[]"}]))
    assert kw["keywords"].tolist() == [[{"id": 2, "name": "toy"}]]
    assert kstats["quarantined"] == {"missing_id": 1} and invariant(kstats)


def test_links_and_ratings_validation_and_mapping():
    """Links: float/missing tmdbId handled; ratings: every reason; mapping counts."""
    links, lq, lstats = clean_links(frame([
        {"movieId": "1", "imdbId": "0114709", "tmdbId": "862.0"},
        {"movieId": "2", "imdbId": "0113497", "tmdbId": pd.NA},
        {"movieId": "3", "imdbId": "1", "tmdbId": "abc"},
        {"movieId": "x", "imdbId": "1", "tmdbId": "5"},
    ]))
    assert links["tmdbId"].tolist()[0] == 862 and pd.isna(links["tmdbId"].iloc[1])
    assert links["imdbId"].iloc[0] == "0114709"
    assert lstats["quarantined"] == {"tmdbId_not_integer": 1, "movieId_not_integer": 1}
    assert invariant(lstats)
    ratings, rq, rstats = clean_ratings(frame([
        {"userId": "1", "movieId": "1", "rating": "4.5", "timestamp": "100"},
        {"userId": "1", "movieId": "1", "rating": "2.0", "timestamp": "200"},   # later wins
        {"userId": "1", "movieId": "2", "rating": "3", "timestamp": "100"},
        {"userId": "1", "movieId": "9", "rating": "5", "timestamp": "100"},
        {"userId": "u", "movieId": "1", "rating": "3", "timestamp": "100"},
        {"userId": "2", "movieId": pd.NA, "rating": "3", "timestamp": "100"},
        {"userId": "2", "movieId": "1", "rating": "5.5", "timestamp": "100"},
        {"userId": "2", "movieId": "1", "rating": "good", "timestamp": "100"},
        {"userId": "2", "movieId": "1", "rating": "3", "timestamp": "noon"},
    ]))
    assert rstats["quarantined"] == {"userId_not_integer": 1, "missing_movieId": 1,
                                     "rating_out_of_range": 1, "rating_not_numeric": 1,
                                     "timestamp_not_integer": 1}
    assert rstats["duplicates_dropped"] == 1 and invariant(rstats)
    assert ratings.loc[ratings["movieId"] == 1, "rating"].tolist() == [2.0]
    mapped, cov = map_ratings(ratings, links, pd.Series([862]))
    assert cov["ratings_without_tmdbId"] == 2  # movie 2 (no tmdbId) and 9 (no link)
    assert cov["ratings_in_catalogue"] == 1 and cov["ratings_without_catalogue_row"] == 0
