"""Column schemas of the raw inputs and of ``merged_data6.csv``, and its list-cell helpers.

``MERGED_COLUMNS`` is the contract with the feature, model and serving stages
(references/architecture.md): one row per title keyed by ``id``, list-valued cells joined
with ``src.config.LIST_SEP``. Use :func:`split_list` / :func:`join_list` to read/write them.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from src.config import ID_COL, LIST_SEP

# --- raw movie schemas -------------------------------------------------------------------
# The Movies Dataset (Kaggle, Rounak Banik): movies_metadata.csv / movies_dataset.csv.
MOVIES_METADATA_COLUMNS = (
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id",
    "original_language", "original_title", "overview", "popularity", "poster_path",
    "production_companies", "production_countries", "release_date", "revenue", "runtime",
    "spoken_languages", "status", "tagline", "title", "video", "vote_average", "vote_count",
)
# TMDB 5000 (Kaggle): tmdb_5000_movies.csv, nested cells as JSON, keywords inline.
TMDB5000_COLUMNS = (
    "budget", "genres", "homepage", "id", "keywords", "original_language", "original_title",
    "overview", "popularity", "production_companies", "production_countries", "release_date",
    "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "vote_average",
    "vote_count",
)
SCHEMA_MOVIES_METADATA = "movies_metadata"
SCHEMA_TMDB5000 = "tmdb_5000"
# Optional columns a batch may carry (series support, fed by src.pipeline.update).
SERIES_COLUMNS = ("media_type", "number_of_seasons", "number_of_episodes", "first_air_date")
MEDIA_TYPES = ("movie", "series")
DEFAULT_MEDIA_TYPE = "movie"

CREDITS_COLUMNS = ("cast", "crew", "id")
KEYWORDS_COLUMNS = ("id", "keywords")
LINKS_COLUMNS = ("movieId", "imdbId", "tmdbId")
RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")

# Nested cells of the movies file: column -> expected shape ("list" of dicts or one "dict").
MOVIE_NESTED_COLUMNS = {
    "genres": "list",
    "production_companies": "list",
    "production_countries": "list",
    "spoken_languages": "list",
    "belongs_to_collection": "dict",
    "keywords": "list",  # inline in TMDB 5000 only
}
# Policy for a nested cell that fails to parse (also in src.data.clean's docstring):
# genres drive recommendations and a broken genres cell signals a mangled row, so the row
# is quarantined; for the other descriptive columns the row is kept with the cell empty and
# the failure counted in the report (``nested_emptied``).
MOVIE_NESTED_QUARANTINE = ("genres",)

# --- merged_data6.csv ---------------------------------------------------------------------
TEXT_COLUMNS = (
    "title", "original_title", "original_language", "overview", "tagline", "status",
    "homepage", "imdb_id", "poster_path",
)
BOOL_COLUMNS = ("adult", "video")
FLOAT_COLUMNS = (
    "budget", "revenue", "runtime", "popularity", "vote_average", "vote_count",
    "number_of_seasons", "number_of_episodes",
)
LIST_COLUMNS = (
    "genres", "keywords", "directors", "cast", "production_companies",
    "production_countries", "spoken_languages",
)
MERGED_COLUMNS = (
    ID_COL, "media_type",
    *TEXT_COLUMNS,
    "release_date",
    *BOOL_COLUMNS,
    *FLOAT_COLUMNS,
    "genres", "keywords", "directors", "cast", "collection",
    "production_companies", "production_countries", "spoken_languages",
    "has_credits", "has_keywords",
    "platforms",  # current platforms, LIST_SEP-joined (src.data.availability); ETL: empty
)
MERGED_CAST_TOP = 5  # cast column = the first N cast names by billing order


def join_list(values: Iterable[Any]) -> str:
    """Join names into one list cell: ``LIST_SEP``-separated, blanks dropped.

    In: an iterable of names (None/NaN/blank skipped). Out: e.g. ``"Animation|Comedy"``;
    a ``|`` inside a name becomes ``/`` so the cell splits back to the same names.
    """
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        s = str(v).strip().replace(LIST_SEP, "/")
        if s:
            out.append(s)
    return LIST_SEP.join(out)


def split_list(cell: Any) -> list[str]:
    """Split one list cell of merged_data6.csv back into names (empty/NaN -> ``[]``)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    try:
        import pandas as pd

        if pd.isna(cell):
            return []
    except (TypeError, ValueError):
        pass
    text = str(cell)
    return [part for part in text.split(LIST_SEP) if part] if text else []
