"""People of the synthetic dataset: actor/crew/director pools and the ``credits.csv`` cells.

Each person has a home genre and a productivity weight, so a director makes mostly films of
one genre and a few actors appear in many films: that gives content similarity (shared people)
and the collaborative model (users who like a director) something real to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from src.data import synthetic_literals as lit
from src.data.synthetic_vocab import (
    CREW_JOBS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    MIDDLE_INITIALS,
    STOCK_CHARACTERS,
)

# Share of people whose TMDB gender is 0 (unknown), and of people with no profile image.
UNKNOWN_GENDER_SHARE = 0.2
NO_PROFILE_SHARE = 0.25
# Productivity ~ rank**-PEOPLE_ZIPF: a few people credited on many films, most on few.
PEOPLE_ZIPF = 0.8
# Share of a film's cast/crew drawn from people whose home genre is the film's main genre.
HOME_GENRE_SHARE = 0.7
# Share of films with an empty cast list ("[]"), like the real credits.csv.
EMPTY_CAST_SHARE = 0.01  # forced "[]" casts, on top of the gamma-Poisson zeros
# Share of cast "character" values that are stock roles (Himself, Nurse...) not names.
STOCK_CHARACTER_SHARE = 0.25
# Share of voice roles: "<character> (voice)".
VOICE_SHARE = 0.05

_ALNUM = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", np.uint8)


@dataclass
class People:
    """A pool of people: parallel arrays indexed by pool position."""

    ids: np.ndarray            # TMDB person ids (unique across all pools)
    names: list[str]
    name_reprs: list[str]      # repr(name), precomputed for the credits writer
    genders: np.ndarray        # 0 unknown, 1 female, 2 male (TMDB codes)
    profile_reprs: list[str]   # repr('/xxx.jpg') or 'None'
    home_genre: np.ndarray     # genre index 0..19
    weight: np.ndarray         # sampling weight (productivity)

    def __len__(self) -> int:
        """Out: the number of people in the pool."""
        return len(self.ids)


def random_paths(rng: np.random.Generator, n: int, ext: str = ".jpg") -> list[str]:
    """In: rng, count. Out: ``n`` TMDB-style image paths ``/<27 alnum chars>.jpg``."""
    chars = _ALNUM[rng.integers(0, len(_ALNUM), size=(n, 27))]
    raw = chars.tobytes().decode("ascii")
    return ["/" + raw[27 * k: 27 * (k + 1)] + ext for k in range(n)]


def make_people(rng: np.random.Generator, sizes: dict[str, int],
                genre_p: np.ndarray) -> dict[str, People]:
    """Build disjoint people pools with unique names and ids.

    In: rng; ``sizes`` pool name -> size (e.g. actors, crew, directors); ``genre_p`` genre
    frequencies (home genres follow them). Out: pool name -> :class:`People`.
    """
    firsts = [(n, 1) for n in FIRST_NAMES_F] + [(n, 2) for n in FIRST_NAMES_M]
    n_first, n_last, n_mid = len(firsts), len(LAST_NAMES), len(MIDDLE_INITIALS)
    total = sum(sizes.values())
    plain = n_first * n_last
    capacity = plain * (1 + n_mid)
    if total > capacity:
        raise ValueError(f"sizes: {total} people requested, name space holds {capacity}")
    # Plain "First Last" names first, then "First M. Last" once those run out.
    order = np.concatenate([rng.permutation(plain),
                            plain + rng.permutation(plain * n_mid)[: max(0, total - plain)]])[:total]
    order = order[rng.permutation(total)]  # mix plain and initialled names across pools
    ids = 1 + rng.choice(2_000_000, size=total, replace=False)
    genders_all = np.empty(total, np.int64)
    names_all: list[str] = []
    for k, code in enumerate(order.tolist()):
        mid, rest = divmod(code, plain)
        fi, li = divmod(rest, n_last)
        first, gender = firsts[fi]
        genders_all[k] = gender
        middle = f"{MIDDLE_INITIALS[mid - 1]}. " if mid else ""
        names_all.append(f"{first} {middle}{LAST_NAMES[li]}")
    genders_all[rng.random(total) < UNKNOWN_GENDER_SHARE] = 0
    paths = random_paths(rng, total)
    no_profile = rng.random(total) < NO_PROFILE_SHARE
    profile_reprs = ["None" if no_profile[k] else repr(paths[k]) for k in range(total)]
    home = rng.choice(len(genre_p), size=total, p=genre_p)
    pools: dict[str, People] = {}
    start = 0
    for pool, size in sizes.items():
        sl = slice(start, start + size)
        start += size
        weight = 1.0 / np.arange(1, size + 1) ** PEOPLE_ZIPF
        pools[pool] = People(
            ids=ids[sl], names=names_all[sl], name_reprs=[repr(n) for n in names_all[sl]],
            genders=genders_all[sl], profile_reprs=profile_reprs[sl], home_genre=home[sl],
            weight=weight[rng.permutation(size)],
        )
    return pools


def sample_people(rng: np.random.Generator, pool: People, genre_of_slot: np.ndarray) -> np.ndarray:
    """Pick one person per slot, mostly from the slot's genre.

    In: rng, pool, genre index of each slot. Out: pool indices, one per slot (weighted by
    productivity; HOME_GENRE_SHARE of slots restricted to people of that home genre).
    """
    out = np.empty(len(genre_of_slot), np.int64)
    p_all = pool.weight / pool.weight.sum()
    from_home = rng.random(len(genre_of_slot)) < HOME_GENRE_SHARE
    rest = ~from_home
    out[rest] = rng.choice(len(pool), size=int(rest.sum()), p=p_all)
    for g in np.unique(genre_of_slot[from_home]):
        slots = np.flatnonzero(from_home & (genre_of_slot == g))
        members = np.flatnonzero(pool.home_genre == g)
        if len(members) == 0:  # tiny pools may lack a genre: fall back to everyone
            out[slots] = rng.choice(len(pool), size=len(slots), p=p_all)
            continue
        w = pool.weight[members]
        out[slots] = members[rng.choice(len(members), size=len(slots), p=w / w.sum())]
    return out


def overdispersed_counts(rng: np.random.Generator, n: int, mean: float,
                         scale: np.ndarray | None = None) -> np.ndarray:
    """In: rng, count, target mean, optional per-item multiplier. Out: gamma-Poisson counts
    (heavy-tailed, like cast/crew sizes in the real credits)."""
    lam = rng.gamma(shape=1.5, scale=mean / 1.5, size=n)
    if scale is not None:
        lam = lam * scale
    return rng.poisson(lam)


@dataclass
class Credits:
    """Per-movie credits: the two CSV cells plus what the rating model needs."""

    cast_cells: list[str]
    crew_cells: list[str]
    director: np.ndarray   # (n,) index into the directors pool
    top_cast: np.ndarray   # (n, 3) index into the actors pool, -1 where the cast is shorter
    n_cast_entries: int
    n_crew_entries: int


def build_credits(rng: np.random.Generator, pools: dict[str, People], primary_genre: np.ndarray,
                  size_factor: np.ndarray, mean_cast: float, mean_crew: float,
                  progress: bool = False) -> Credits:
    """Build the cast and crew cells of every movie.

    In: rng; pools ``actors``, ``crew``, ``directors``; each movie's primary genre index and a
    size multiplier (popular films have bigger casts); mean cast and crew sizes. Out:
    :class:`Credits`. Every crew list holds a Director (first in most films).
    """
    n = len(primary_genre)
    actors, crew, directors = pools["actors"], pools["crew"], pools["directors"]
    n_cast = overdispersed_counts(rng, n, mean_cast, size_factor)
    n_cast[rng.random(n) < EMPTY_CAST_SHARE] = 0
    n_crew = 1 + overdispersed_counts(rng, n, max(mean_crew - 1.0, 0.0), size_factor)
    director = sample_people(rng, directors, primary_genre)
    cast_people = sample_people(rng, actors, np.repeat(primary_genre, n_cast))
    crew_people = sample_people(rng, crew, np.repeat(primary_genre, n_crew - 1))
    job_w = np.array([w for _, _, w in CREW_JOBS], float)
    crew_jobs = rng.choice(len(CREW_JOBS), size=int((n_crew - 1).sum()), p=job_w / job_w.sum())
    n_slots = int(n_cast.sum() + n_crew.sum())
    hexes = rng.bytes(12 * n_slots).hex()
    # Characters: a person-like name, a stock role, sometimes "(voice)" or a quoted nickname.
    total_cast = int(n_cast.sum())
    char_kind = rng.random(total_cast)
    char_first = rng.integers(0, len(FIRST_NAMES_F) + len(FIRST_NAMES_M), size=total_cast)
    char_last = rng.integers(0, len(LAST_NAMES), size=total_cast)
    char_stock = rng.integers(0, len(STOCK_CHARACTERS), size=total_cast)
    voice = rng.random(total_cast) < VOICE_SHARE
    cast_id_start = rng.integers(1, 30, size=n)
    director_first = rng.random(n) < 0.8
    firsts = FIRST_NAMES_F + FIRST_NAMES_M

    cast_cells: list[str] = []
    crew_cells: list[str] = []
    top_cast = np.full((n, 3), -1, np.int64)
    cast_written = 0
    ci = ri = hi = 0  # cursors into the flat cast / crew / credit-id arrays
    for m in tqdm(range(n), desc="credits", unit="movie", disable=not progress, mininterval=1.0):
        entries = []
        seen: set[int] = set()
        for j in range(int(n_cast[m])):
            p = int(cast_people[ci])
            k = ci
            ci += 1
            if p in seen:  # an actor is billed once per film
                continue
            seen.add(p)
            if char_kind[k] < STOCK_CHARACTER_SHARE:
                character = STOCK_CHARACTERS[char_stock[k]]
            elif char_kind[k] < STOCK_CHARACTER_SHARE + 0.01:
                # both quote kinds: repr falls back to '...\'...' — the ETL must cope.
                character = f'{firsts[char_first[k]]} "Ace" {LAST_NAMES[char_last[k]]}'
            else:
                character = f"{firsts[char_first[k]]} {LAST_NAMES[char_last[k]]}"
            if voice[k]:
                character += " (voice)"
            order = len(entries)
            if order < 3:
                top_cast[m, order] = p
            entries.append(lit.cast_entry(
                int(cast_id_start[m]) + j, character, hexes[hi: hi + 24], int(actors.genders[p]),
                int(actors.ids[p]), actors.name_reprs[p], order, actors.profile_reprs[p]))
            hi += 24
        cast_written += len(entries)
        cast_cells.append(lit.join_list(entries))

        d = int(director[m])
        crew_entries = []
        for _ in range(int(n_crew[m]) - 1):
            p = int(crew_people[ri])
            dept, job, _w = CREW_JOBS[crew_jobs[ri]]
            ri += 1
            crew_entries.append(lit.crew_entry(
                hexes[hi: hi + 24], dept, int(crew.genders[p]), int(crew.ids[p]), job,
                crew.name_reprs[p], crew.profile_reprs[p]))
            hi += 24
        director_entry = lit.crew_entry(
            hexes[hi: hi + 24], "Directing", int(directors.genders[d]), int(directors.ids[d]),
            "Director", directors.name_reprs[d], directors.profile_reprs[d])
        hi += 24
        pos = 0 if director_first[m] or not crew_entries else 1 + (m % len(crew_entries))
        crew_entries.insert(min(pos, len(crew_entries)), director_entry)
        crew_cells.append(lit.join_list(crew_entries))
    return Credits(cast_cells, crew_cells, director, top_cast,
                   n_cast_entries=cast_written, n_crew_entries=int(n_crew.sum()))
