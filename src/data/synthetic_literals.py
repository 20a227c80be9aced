"""Fast writers of Kaggle-style nested cells: the exact text ``repr()`` gives for a list of dicts.

The Movies Dataset stores nested fields as Python literals (``"[{'id': 16, 'name':
'Animation'}]"``). Building a dict per entry and calling ``repr`` on the list is correct but
slow for ~1M credit entries, so these helpers format the same text directly with f-strings.
Strings go through ``repr`` themselves (cached for the small vocabularies), so quoting of
names with apostrophes (``"Children's Film"``) or both quote kinds is exactly Python's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence


@lru_cache(maxsize=None)
def r(value: str | None) -> str:
    """In: a string or None. Out: its Python ``repr`` (``'None'`` for None), cached.

    Only for small vocabularies (genres, jobs, keywords, companies): the cache keeps them all.
    """
    return repr(value)


def id_name_list(pairs: Iterable[tuple[int, str]]) -> str:
    """In: (id, name) pairs. Out: ``"[{'id': 1, 'name': 'x'}, ...]"`` (genres, keywords)."""
    return "[" + ", ".join(f"{{'id': {i}, 'name': {r(n)}}}" for i, n in pairs) + "]"


def name_id_list(pairs: Iterable[tuple[str, int]]) -> str:
    """In: (name, id) pairs. Out: ``"[{'name': 'x', 'id': 1}, ...]"`` (production_companies)."""
    return "[" + ", ".join(f"{{'name': {r(n)}, 'id': {i}}}" for n, i in pairs) + "]"


def countries_list(pairs: Iterable[tuple[str, str]]) -> str:
    """In: (ISO 3166-1 code, name) pairs. Out: the production_countries cell."""
    return "[" + ", ".join(f"{{'iso_3166_1': {r(c)}, 'name': {r(n)}}}" for c, n in pairs) + "]"


def languages_list(pairs: Iterable[tuple[str, str]]) -> str:
    """In: (ISO 639-1 code, name) pairs. Out: the spoken_languages cell."""
    return "[" + ", ".join(f"{{'iso_639_1': {r(c)}, 'name': {r(n)}}}" for c, n in pairs) + "]"


def collection_dict(cid: int, name: str, poster: str | None, backdrop: str | None) -> str:
    """In: collection id, name and image paths. Out: the belongs_to_collection cell."""
    return (f"{{'id': {cid}, 'name': {r(name)}, 'poster_path': {r(poster)}, "
            f"'backdrop_path': {r(backdrop)}}}")


def cast_entry(cast_id: int, character: str, credit_id: str, gender: int, pid: int,
               name_repr: str, order: int, profile_repr: str) -> str:
    """In: one cast credit (name/profile already repr'd). Out: its dict text, real key order."""
    # character names are mostly unique: plain repr, not the cache (it would only grow)
    return (f"{{'cast_id': {cast_id}, 'character': {character!r}, 'credit_id': '{credit_id}', "
            f"'gender': {gender}, 'id': {pid}, 'name': {name_repr}, 'order': {order}, "
            f"'profile_path': {profile_repr}}}")


def crew_entry(credit_id: str, department: str, gender: int, pid: int, job: str,
               name_repr: str, profile_repr: str) -> str:
    """In: one crew credit (name/profile already repr'd). Out: its dict text, real key order."""
    return (f"{{'credit_id': '{credit_id}', 'department': {r(department)}, 'gender': {gender}, "
            f"'id': {pid}, 'job': {r(job)}, 'name': {name_repr}, 'profile_path': {profile_repr}}}")


def join_list(entries: Sequence[str]) -> str:
    """In: dict texts. Out: the list text, ``'[]'`` when empty."""
    return "[" + ", ".join(entries) + "]"
