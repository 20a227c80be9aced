"""The canonical genre vocabulary: every source's genre names mapped onto TMDB genre names.

The mapping is data (``genre_map.csv`` beside this module, package data): one row per
(vocabulary, source genre) with the TMDB genre name(s) it becomes (``|``-joined, empty =
deliberately dropped: a region, audience or format tag that is not a genre; the ``note``
says why). Vocabularies: ``tmdb`` (TMDB movie and TV genre names, with their TMDB ids),
``justwatch`` (``drama``, ``scifi``, ``documentation``...), ``listed_in`` (Netflix, Prime,
Disney+ and Hulu category names: ``TV Dramas``, ``International TV Shows``...).
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path
from typing import Iterable

GENRE_MAP_FILE = Path(__file__).with_name("genre_map.csv")


@functools.lru_cache(maxsize=1)
def genre_map() -> dict[str, dict[str, tuple[str, ...]]]:
    """``{vocabulary: {source genre: (TMDB genre names...)}}`` read once from the map file."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    with GENRE_MAP_FILE.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            targets = tuple(t for t in row["tmdb_genres"].split("|") if t)
            out.setdefault(row["vocabulary"], {})[row["genre"]] = targets
    return out


@functools.lru_cache(maxsize=1)
def tmdb_genre_ids() -> dict[str, int]:
    """TMDB genre name -> TMDB genre id (the ``tmdb`` rows of the map file)."""
    with GENRE_MAP_FILE.open(newline="", encoding="utf-8") as fh:
        return {row["genre"]: int(row["tmdb_genre_id"]) for row in csv.DictReader(fh)
                if row["vocabulary"] == "tmdb" and row["tmdb_genre_id"]}


def map_genres(names: Iterable[str], vocabulary: str) -> tuple[list[str], list[str]]:
    """Map one title's source genre names onto TMDB names.

    In: the names as the source spells them and the vocabulary they come from. Out:
    ``(tmdb_names, unknown)``: the TMDB names in first-seen order without repeats, and the
    source names the map file does not list (the caller counts them in its report; a
    name listed with no target is a deliberate drop, not unknown).
    """
    table = genre_map()[vocabulary]
    out: list[str] = []
    unknown: list[str] = []
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        if name not in table:
            unknown.append(name)
            continue
        for target in table[name]:
            if target not in out:
                out.append(target)
    return out, unknown


def genres_cell(names: list[str]) -> str:
    """TMDB genre names as the JSON list-of-dicts cell the catalogue cleaner parses."""
    ids = tmdb_genre_ids()
    return json.dumps([{"id": ids.get(n), "name": n} for n in names], ensure_ascii=False)


# Order a free-form (minimal) catalogue's names are looked up in: TMDB names first (the
# canonical spelling), then the platform vocabularies.
ANY_VOCABULARY_ORDER = ("tmdb", "listed_in", "justwatch")


def map_any_genres(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Like :func:`map_genres` for a source of unknown vocabulary: each name is looked up
    in ``ANY_VOCABULARY_ORDER`` (first vocabulary listing it wins)."""
    out: list[str] = []
    unknown: list[str] = []
    tables = [genre_map()[v] for v in ANY_VOCABULARY_ORDER]
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        for table in tables:
            if name in table:
                out.extend(t for t in table[name] if t not in out)
                break
        else:
            unknown.append(name)
    return out, unknown
