"""Reader of the ``show_id,type,title,director,cast,…,listed_in`` platform catalogues
(Netflix, Amazon Prime, Disney+, Hulu; Kaggle shivamb).

``show_id`` (``s1``…, per platform file, kept as ``source_id``), ``type`` Movie/TV Show ->
movie/series, ``release_year`` -> ``release_date`` ``YYYY-01-01`` (``first_air_date`` for
series), ``duration`` ``"90 min"`` -> ``runtime`` or ``"2 Seasons"`` -> ``number_of_seasons``
(a few files put the duration in ``rating``: used when ``duration`` is empty),
``listed_in`` mapped onto TMDB genre names, ``country`` -> production countries (names),
``director``/``cast`` (comma-joined) -> the title's credits. ``date_added`` is not used:
availability comes from dated snapshots (``invoke update --platform --as-of``).
"""

from __future__ import annotations

import json

import pandas as pd

from src.data.sources.base import (
    APPROXIMATE_COLUMNS,
    SOURCE_ID_COL,
    Adapted,
    Reader,
    canonical_frame,
    split_comma,
    supplied_and_missing,
    year_date,
)
from src.data.sources.genres import genres_cell, map_genres

NAME = "show_id"
VOCABULARY = "listed_in"
MEDIA_TYPES = {"movie": "movie", "tv show": "series"}
_MINUTES = r"^\s*(\d+)\s*min\s*$"
_SEASONS = r"^\s*(\d+)\s*Seasons?\s*$"


def adapt(raw: pd.DataFrame, source_name: str) -> Adapted:
    """Raw show_id catalogue frame -> the canonical frame and its credits (module doc)."""
    kind = raw["type"].astype("str").str.strip().str.lower()
    media = kind.map(MEDIA_TYPES).fillna(kind)
    release = year_date(raw["release_year"])
    duration = raw["duration"] if "duration" in raw.columns else pd.Series(pd.NA, index=raw.index)
    if "rating" in raw.columns:  # misplaced durations ("74 min" in rating)
        duration = duration.fillna(raw["rating"].where(raw["rating"].astype("str").str.match(_MINUTES)))
    duration = duration.astype("str")
    unmapped: dict[str, int] = {}

    def genres(cell) -> str:
        mapped, unknown = map_genres(split_comma(cell), VOCABULARY)
        for n in unknown:
            unmapped[n] = unmapped.get(n, 0) + 1
        return genres_cell(mapped)

    columns = {
        "title": raw["title"], "original_title": raw["title"],
        "overview": raw.get("description"), "media_type": media, "release_date": release,
        "first_air_date": release.where(media == "series"),
        "runtime": duration.str.extract(_MINUTES, expand=False),
        "number_of_seasons": duration.str.extract(_SEASONS, expand=False),
        "genres": raw["listed_in"].map(genres).astype("object"),
        SOURCE_ID_COL: raw["show_id"],
    }
    if "country" in raw.columns:
        columns["production_countries"] = raw["country"].map(
            lambda c: json.dumps([{"iso_3166_1": None, "name": n} for n in split_comma(c)],
                                 ensure_ascii=False)).astype("object")
    supplied, missing = supplied_and_missing(columns, APPROXIMATE_COLUMNS)
    credits = None
    if "cast" in raw.columns or "director" in raw.columns:
        cast_col = raw["cast"] if "cast" in raw.columns else pd.Series(pd.NA, index=raw.index)
        dir_col = raw["director"] if "director" in raw.columns else pd.Series(pd.NA, index=raw.index)
        credits = pd.DataFrame({
            SOURCE_ID_COL: raw["show_id"],
            "cast": [[{"name": n, "order": i} for i, n in enumerate(split_comma(c))] for c in cast_col],
            "crew": [[{"name": n, "job": "Director", "department": "Directing"}
                      for n in split_comma(d)] for d in dir_col],
        })
        credits = credits[raw["show_id"].notna().to_numpy()]
    return Adapted(frame=canonical_frame(raw, columns), schema=NAME, supplied=supplied,
                   columns_missing=missing, native_ids=False, credits=credits,
                   genres_unmapped=unmapped)


READER = Reader(
    name=NAME, required=("show_id", "type", "title", "release_year", "listed_in"),
    needs="show_id, type (Movie/TV Show), title, release_year, listed_in (director, cast, "
          "country, duration optional)",
    adapt=adapt)
