"""Reader of the JustWatch-derived platform catalogues (``jw_<platform>_titles_<date>``) and
their credits (``jw_<platform>_credits_<date>``).

Titles: ``id`` (JustWatch ``tm…`` movie / ``ts…`` show, kept as ``source_id``; the
StreamRec id comes from :mod:`src.data.resolve`), ``type`` MOVIE/SHOW -> ``media_type``
movie/series, ``release_year`` -> ``release_date`` ``YYYY-01-01`` (and ``first_air_date``
for shows), ``seasons`` -> ``number_of_seasons``, ``genres`` (Python-literal list of
JustWatch names) mapped onto TMDB names, ``production_countries`` (ISO codes),
``tmdb_score``/``tmdb_popularity`` -> ``vote_average``/``popularity`` (TMDB's scales, as in
the rest of the catalogue; IMDb's score and votes are another scale and are not mixed in).
Credits: one row per person and title, ``role`` ACTOR/DIRECTOR, the character column
named ``character`` or ``character_name`` (2023 Netflix copy).
"""

from __future__ import annotations

import json

import pandas as pd

from src.data.nested import parse_many
from src.data.sources.base import (
    APPROXIMATE_COLUMNS,
    SOURCE_ID_COL,
    Adapted,
    Reader,
    canonical_frame,
    supplied_and_missing,
    year_date,
)
from src.data.sources.genres import genres_cell, map_genres

NAME = "justwatch"
VOCABULARY = "justwatch"
MEDIA_TYPES = {"MOVIE": "movie", "SHOW": "series"}
CREDIT_COLUMNS = ("person_id", "id", "name", "role")
CHARACTER_COLUMNS = ("character", "character_name")


def _list_cells(s: pd.Series, convert) -> pd.Series:
    """Parse Python-literal lists of names and turn each parsed list into a JSON cell with
    ``convert(list) -> str``; a cell that does not parse stays as written, so the cleaner
    quarantines (genres) or empties and counts (other columns) it with its reason."""
    values, errors = parse_many(s.tolist())
    out = []
    for i, (cell, value) in enumerate(zip(s.tolist(), values)):
        if i in errors or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            out.append(cell if value is not None or i in errors else pd.NA)
            continue
        out.append(convert(value))
    return pd.Series(out, index=s.index, dtype="object")


def adapt(raw: pd.DataFrame, source_name: str) -> Adapted:
    """Raw JustWatch titles frame -> the canonical frame (see module doc)."""
    kind = raw["type"].astype("str").str.strip().str.upper()
    media = kind.map(MEDIA_TYPES).fillna(raw["type"].astype("str").str.lower())
    release = year_date(raw["release_year"])
    unmapped: dict[str, int] = {}

    def genres(names: list[str]) -> str:
        mapped, unknown = map_genres(names, VOCABULARY)
        for n in unknown:
            unmapped[n] = unmapped.get(n, 0) + 1
        return genres_cell(mapped)

    def countries(codes: list[str]) -> str:
        return json.dumps([{"iso_3166_1": c, "name": c} for c in codes], ensure_ascii=False)

    columns = {
        "title": raw["title"], "original_title": raw["title"], "overview": raw.get("description"),
        "media_type": media, "release_date": release,
        "first_air_date": release.where(media == "series"),
        "runtime": raw.get("runtime"), "number_of_seasons": raw.get("seasons"),
        "genres": _list_cells(raw["genres"], genres),
        "imdb_id": raw.get("imdb_id"),
        "vote_average": raw.get("tmdb_score"), "popularity": raw.get("tmdb_popularity"),
        SOURCE_ID_COL: raw["id"],
    }
    if "production_countries" in raw.columns:
        columns["production_countries"] = _list_cells(raw["production_countries"], countries)
    columns = {k: v for k, v in columns.items() if v is not None}
    supplied, missing = supplied_and_missing(columns, APPROXIMATE_COLUMNS)
    return Adapted(frame=canonical_frame(raw, columns), schema=NAME, supplied=supplied,
                   columns_missing=missing, native_ids=False, genres_unmapped=unmapped)


READER = Reader(
    name=NAME, required=("id", "title", "type", "release_year", "genres", "seasons", "imdb_id"),
    needs="JustWatch columns id (tm…/ts…), title, type (MOVIE/SHOW), release_year, genres, "
          "seasons, imdb_id",
    adapt=adapt)


def is_credits(columns) -> bool:
    """True when a header is a JustWatch credits file."""
    cols = set(columns)
    return set(CREDIT_COLUMNS) <= cols and bool(cols & set(CHARACTER_COLUMNS))


def credits_frame(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Group a raw JustWatch credits frame into one cast/crew row per title.

    In: the all-text frame of a credits file. Out: ``(clean, quarantine, stats)`` like
    ``src.data.clean.clean_credits``: ``clean`` has ``source_id``, ``cast`` (list of dicts
    in file order: id, name, character, order) and ``crew`` (directors: id, name, job,
    department); ``quarantine`` the person rows with no title id, name or a role other
    than ACTOR/DIRECTOR (reason ``missing_id``, ``missing_name``, ``unknown_role``);
    stats count person rows (``rows_in = rows_out + quarantined``, rows_out = rows kept).
    """
    character = next(c for c in CHARACTER_COLUMNS if c in raw.columns)
    role = raw["role"].astype("str").str.strip().str.upper()
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")
    reason = reason.mask(raw["id"].isna(), "missing_id")
    reason = reason.mask(reason.isna() & raw["name"].isna(), "missing_name")
    reason = reason.mask(reason.isna() & ~role.isin(["ACTOR", "DIRECTOR"]), "unknown_role")
    bad = reason.notna()
    quarantine = raw[bad].assign(reason=reason[bad])
    ok = raw[~bad].assign(_role=role[~bad])
    stats = {"rows_in": int(len(raw)), "rows_out": int(len(ok)), "duplicates_dropped": 0,
             "quarantined": {str(k): int(v) for k, v in reason[bad].value_counts().items()}}
    cast: dict[str, list] = {}
    crew: dict[str, list] = {}
    for sid, pid, name, char, r in zip(ok["id"], ok["person_id"], ok["name"], ok[character], ok["_role"]):
        pid_value = int(pid) if isinstance(pid, str) and pid.isdigit() else None
        if r == "ACTOR":
            lst = cast.setdefault(sid, [])
            lst.append({"id": pid_value, "name": name,
                        "character": char if isinstance(char, str) else None, "order": len(lst)})
        else:
            crew.setdefault(sid, []).append({"id": pid_value, "name": name, "job": "Director",
                                             "department": "Directing"})
    ids = list(dict.fromkeys(ok["id"].tolist()))
    clean = pd.DataFrame({SOURCE_ID_COL: ids,
                          "cast": [cast.get(i, []) for i in ids],
                          "crew": [crew.get(i, []) for i in ids]})
    return clean, quarantine, stats
