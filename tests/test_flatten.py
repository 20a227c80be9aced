"""Tests of flattening: tidy tables, per-title list columns, left join, list-cell helpers."""

from __future__ import annotations

import pandas as pd

from src.data.clean import clean_credits, clean_keywords, clean_movies
from src.data.flatten import flatten_catalogue
from src.data.schema import MERGED_COLUMNS, TMDB5000_COLUMNS, join_list, split_list


def _movies() -> pd.DataFrame:
    """Two TMDB-5000-shaped movies with JSON cells (one with inline keywords)."""
    base = {c: pd.NA for c in TMDB5000_COLUMNS}
    a = dict(base, id="1", title="One", release_date="2000-01-01",
             genres='[{"id": 1, "name": "Drama"}, {"id": 2, "name": "Sci|Fi"}]',
             keywords='[{"id": 9, "name": "inline kw"}]',
             production_countries='[{"iso_3166_1": "US", "name": "United States of America"}]',
             spoken_languages='[{"iso_639_1": "en", "name": "English"}]',
             production_companies='[{"id": 3, "name": "Pixar"}]')
    b = dict(base, id="2", title="Two", genres="[]", keywords="[]", production_countries="[]",
             spoken_languages="[]", production_companies="[]")
    clean, _, _ = clean_movies(pd.DataFrame([a, b]).astype("str"))
    return clean


def test_flatten_left_join_and_columns():
    """Every title survives; list cells joined; directors and top cast from credits."""
    cast = repr([{"id": i, "name": f"Actor {i}", "character": f"C{i}", "order": 6 - i}
                 for i in range(7)])
    crew = repr([{"id": 50, "name": "Ann Director", "job": "Director", "department": "Directing"},
                 {"id": 51, "name": "Bob Writer", "job": "Screenplay", "department": "Writing"},
                 {"id": 50, "name": "Ann Director", "job": "Director", "department": "Directing"}])
    credits, _, _ = clean_credits(pd.DataFrame([{"cast": cast, "crew": crew, "id": "1"},
                                                {"cast": "[]", "crew": "[]", "id": "99"}]))
    keywords, _, _ = clean_keywords(pd.DataFrame([{"id": "2", "keywords": "[{'id': 7, 'name': 'file kw'}]"}]))
    merged, tables = flatten_catalogue(_movies(), credits, keywords)

    assert list(merged.columns) == list(MERGED_COLUMNS)
    assert merged["id"].tolist() == [1, 2]
    one, two = merged.iloc[0], merged.iloc[1]
    assert one["genres"] == "Drama|Sci/Fi" and split_list(one["genres"]) == ["Drama", "Sci/Fi"]
    assert one["directors"] == "Ann Director"
    # Top 5 by billing order: order = 6 - i, so Actor 6 first.
    assert split_list(one["cast"]) == [f"Actor {i}" for i in (6, 5, 4, 3, 2)]
    assert one["production_countries"] == "US" and one["spoken_languages"] == "en"
    assert one["keywords"] == "inline kw" and two["keywords"] == "file kw"
    assert bool(one["has_credits"]) and not bool(two["has_credits"])
    assert bool(one["has_keywords"]) and bool(two["has_keywords"])
    assert two["cast"] == "" and two["directors"] == ""

    cast_t = tables["cast"]
    assert len(cast_t) == 7 and set(cast_t["id"]) == {1}  # id 99 is not in the catalogue
    assert cast_t.set_index("person_id").loc[6, "character"] == "C6"
    crew_t = tables["crew"]
    assert crew_t[["job", "department"]].values.tolist()[1] == ["Screenplay", "Writing"]
    assert tables["genres"]["name"].tolist() == ["Drama", "Sci|Fi"]


def test_flatten_without_credits_or_keywords():
    """No credits/keywords files: titles kept, flags False (keywords from inline only)."""
    merged, tables = flatten_catalogue(_movies(), None, None)
    assert len(merged) == 2 and not merged["has_credits"].any()
    assert merged["has_keywords"].tolist() == [True, False]
    assert tables["cast"].empty and list(tables["cast"].columns)[:3] == ["id", "person_id", "name"]


def test_join_and_split_list():
    """join_list drops blanks and escapes the separator; split_list inverts it."""
    assert join_list(["a", None, " b ", "", float("nan"), "c|d"]) == "a|b|c/d"
    assert split_list("a|b|c/d") == ["a", "b", "c/d"]
    assert split_list("") == [] and split_list(None) == [] and split_list(float("nan")) == []
