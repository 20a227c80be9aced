"""The synthetic catalogue: movie rows in the 24-column ``movies_metadata.csv`` schema, their
keywords cells, and the messy rows planted for the ETL to catch.

Titles, overviews and keywords are drawn from per-genre word lists, so titles of one genre
share words, which is what the content-similarity features should find. The messy rows
(shifted columns, non-integer ids, duplicates, mixed date/bool formats, blanks, popularity in
scientific notation) copy the defects of the real Kaggle file; :func:`plant_messy_rows`
returns exactly which ids carry which defect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from src.data import synthetic_literals as lit
from src.data.synthetic_people import overdispersed_counts, random_paths
from src.data.synthetic_vocab import (
    COMPANIES,
    EXTRA_COUNTRIES,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    GENERIC_KEYWORDS,
    GENRE_NAMES,
    GENRE_WORDS,
    GENRES,
    LANGUAGES,
    OVERVIEW_PLACES,
    SEQUEL_SUBTITLES,
    STATUSES,
    STUDIO_WORDS,
    TAGLINES,
    TITLE_PLACES,
)

MOVIE_COLUMNS: tuple[str, ...] = (
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id",
    "original_language", "original_title", "overview", "popularity", "poster_path",
    "production_companies", "production_countries", "release_date", "revenue", "runtime",
    "spoken_languages", "status", "tagline", "title", "video", "vote_average", "vote_count",
)
COL = {c: k for k, c in enumerate(MOVIE_COLUMNS)}

# Share of movies with 0, 1, 2, 3, 4 genres (the real file: ~5% none, most 1-3).
N_GENRES_P = (0.02, 0.36, 0.35, 0.19, 0.08)
# Popularity weight of a title ~ rank**-POPULARITY_ZIPF: a heavy tail of rating counts.
POPULARITY_ZIPF = 0.9
# How much a title's hidden quality drives its popularity rank (0 = unrelated).
QUALITY_POPULARITY_LINK = 0.5
ITEM_BIAS_SD = 0.45          # sd of a title's hidden quality (its rating offset, in stars)
COLLECTION_SHARE = 0.04      # share of titles that start a collection (2-4 films)
EMPTY_KEYWORDS_SHARE = 0.15  # real keywords.csv: ~30% "[]"; fewer here so text has content
GENRE_KEYWORD_SHARE = 0.65   # share of a film's keywords from its genres' lists
EMPTY_OVERVIEW_SHARE = 0.02
TAGLINE_SHARE = 0.45
HOMEPAGE_SHARE = 0.17
ZERO_BUDGET_SHARE = 0.75     # real: most budgets are 0 (unknown)
ZERO_REVENUE_SHARE = 0.8
ADULT_SHARE = 0.002
VIDEO_SHARE = 0.002
MISSING_DATE_SHARE = 0.002
NEWEST_YEAR = 2017
# Kaggle keyword ids are stable across the dataset: a fixed generator, not the data seed.
_KEYWORD_ID_SEED = 931

FIRSTS = FIRST_NAMES_F + FIRST_NAMES_M


def _keyword_vocab() -> tuple[list[str], np.ndarray, dict[str, int]]:
    """Out: keyword names, their TMDB-like ids and name -> index (genre lists then generic)."""
    names: list[str] = []
    for g in GENRE_NAMES:
        names.extend(GENRE_WORDS[g]["keywords"])
    names.extend(GENERIC_KEYWORDS)
    names = list(dict.fromkeys(names))
    ids = 1 + np.random.default_rng(_KEYWORD_ID_SEED).choice(
        250_000, size=len(names), replace=False)
    return names, ids, {n: k for k, n in enumerate(names)}


KEYWORD_NAMES, KEYWORD_IDS, KEYWORD_INDEX = _keyword_vocab()
GENRE_KEYWORD_IDX = [np.array([KEYWORD_INDEX[k] for k in GENRE_WORDS[g]["keywords"]])
                     for g in GENRE_NAMES]
GENERIC_KEYWORD_IDX = np.array([KEYWORD_INDEX[k] for k in GENERIC_KEYWORDS])


def fmt_float(x: float) -> str:
    """In: a float. Out: popularity text like the real file (up to 6 decimals, no trailing 0s)."""
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return s if s else "0"


@dataclass
class Catalogue:
    """The valid titles (one per unique id) and what the other generators need about them."""

    tmdb_id: np.ndarray
    movie_id: np.ndarray          # MovieLens ids (links.csv / ratings.csv)
    imdb: np.ndarray              # numeric imdb ids
    genres: list[list[int]]       # genre indices per title
    primary_genre: np.ndarray     # (n,) genre index (0 when the title has none)
    quality: np.ndarray           # hidden per-title rating offset
    pop_weight: np.ndarray        # relative chance a user rates it
    pop_pct: np.ndarray           # popularity percentile 0..1
    rows: list[list[str]] = field(default_factory=list)   # 24 text cells per title
    keyword_cells: list[str] = field(default_factory=list)
    n_keyword_entries: int = 0

    @property
    def genre_matrix(self) -> np.ndarray:
        """Out: (n, 20) float32 profile, each title's genres weighted 1/len(genres)."""
        m = np.zeros((len(self.tmdb_id), len(GENRES)), np.float32)
        for k, gs in enumerate(self.genres):
            if gs:
                m[k, gs] = 1.0 / len(gs)
        return m


def genre_probabilities() -> np.ndarray:
    """Out: the 20 genres' relative frequencies in the real movies_metadata.csv."""
    w = np.array([g[2] for g in GENRES], float)
    return w / w.sum()


def draw_skeleton(rng: np.random.Generator, n: int) -> Catalogue:
    """Draw ids, genres, hidden quality and popularity for ``n`` unique titles.

    In: rng, number of titles. Out: a :class:`Catalogue` without rows/keywords yet.
    Collections are planted here: members share their first film's genres.
    """
    tmdb = 2 + rng.choice(470_000 - 2, size=n, replace=False)
    movie_id = np.cumsum(rng.geometric(0.35, size=n))
    imdb = 1 + rng.choice(6_999_999, size=n, replace=False)
    gp = genre_probabilities()
    n_genres = rng.choice(len(N_GENRES_P), size=n, p=N_GENRES_P)
    cand = rng.choice(len(GENRES), size=(n, 8), p=gp)
    genres = []
    for k in range(n):
        uniq = list(dict.fromkeys(cand[k].tolist()))
        genres.append(uniq[: n_genres[k]])
    quality = rng.normal(0.0, ITEM_BIAS_SD, size=n)
    score = QUALITY_POPULARITY_LINK * quality / ITEM_BIAS_SD + rng.normal(size=n)
    rank = np.empty(n, np.int64)
    rank[np.argsort(-score)] = np.arange(1, n + 1)
    pop_weight = rank.astype(float) ** -POPULARITY_ZIPF
    pop_pct = 1.0 - (rank - 1) / max(n - 1, 1)
    primary = np.array([gs[0] if gs else 0 for gs in genres], np.int64)
    return Catalogue(tmdb, movie_id, imdb, genres, primary, quality, pop_weight, pop_pct)


def _title(rng: np.random.Generator, genre: str) -> str:
    """In: rng, the title's main genre. Out: a plausible title from that genre's words."""
    w = GENRE_WORDS[genre]
    noun, adj = w["nouns"][rng.integers(len(w["nouns"]))], w["adjs"][rng.integers(len(w["adjs"]))]
    pattern = int(rng.integers(7))
    if pattern == 0:
        return f"The {adj} {noun}"
    if pattern == 1:
        return f"{noun} of {TITLE_PLACES[rng.integers(len(TITLE_PLACES))]}"
    if pattern == 2:
        return f"{adj} {noun}"
    if pattern == 3:
        return f"The {noun}"
    if pattern == 4:
        return f"{FIRSTS[rng.integers(len(FIRSTS))]}'s {noun}"
    if pattern == 5:
        return f"{noun} in {TITLE_PLACES[rng.integers(len(TITLE_PLACES))]}"
    return f"{adj} {noun} {['Rising', 'Returns', 'Forever', 'Down', 'Unbound'][rng.integers(5)]}"


def _a(noun: str) -> str:
    """In: a noun phrase. Out: it with the right indefinite article ("an astronaut")."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _overview(rng: np.random.Generator, genres: list[str], keywords: list[str]) -> str:
    """In: rng, genre names, keyword names. Out: 2-3 sentences using the genres' roles and
    goals and mentioning the keywords (what TF-IDF on overview+keywords should match)."""
    main = GENRE_WORDS[genres[0]] if genres else GENRE_WORDS["Drama"]
    role = main["roles"][rng.integers(len(main["roles"]))]
    goal = main["goals"][rng.integers(len(main["goals"]))]
    name = FIRSTS[rng.integers(len(FIRSTS))]
    kws = keywords or list(main["keywords"][:2])
    opener = ("When", "After", "Years after")[rng.integers(3)]
    event = ("stumbles into a world of", "becomes entangled in", "uncovers a secret about",
             "is drawn into")[rng.integers(4)]
    parts = [f"{opener} {name}, {_a(role)}, {event} {kws[0]}, {name} must {goal}."]
    place = OVERVIEW_PLACES[rng.integers(len(OVERVIEW_PLACES))]
    if len(kws) > 2:
        parts.append(f"Set in {place}, the story weaves together {kws[1]} and {kws[2]}.")
    else:
        parts.append(f"Set in {place}, nothing goes as planned.")
    if len(genres) > 1:
        other = GENRE_WORDS[genres[1]]
        parts.append(f"Along the way {_a(other['roles'][rng.integers(len(other['roles']))])} "
                     f"helps {name} {other['goals'][rng.integers(len(other['goals']))]}.")
    return " ".join(parts)


def _companies(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """In: rng, count. Out: company names (real-sounding list plus generated studios) and ids."""
    extra = [f"{LAST_NAMES_FOR_STUDIOS[k % len(LAST_NAMES_FOR_STUDIOS)]} "
             f"{STUDIO_WORDS[k % len(STUDIO_WORDS)]}" for k in range(max(0, n - len(COMPANIES)))]
    names = list(COMPANIES) + extra
    ids = 1 + rng.choice(100_000, size=len(names), replace=False)
    return names, ids


LAST_NAMES_FOR_STUDIOS = ("Northlight", "Bluewater", "Red Hill", "Silver Oak", "Crescent",
                          "Ironwood", "Harbor", "Summit Ridge", "Lantern", "Falcon", "Granite",
                          "Maple Leaf", "Starfall", "Riverside", "Old Mill", "Kestrel", "Quarry")


def build_rows(rng: np.random.Generator, cat: Catalogue, mean_keywords: float,
               progress: bool = False) -> None:
    """Fill ``cat.rows`` (24 text cells per title) and ``cat.keyword_cells``.

    In: rng, a skeleton catalogue, mean keywords per title, whether to show a progress bar.
    Out: None (mutates ``cat``).
    Cells are the exact text of the Kaggle file: nested cells are Python literals, numbers
    formatted like pandas wrote them (``'81.0'``, ``'5415.0'``), booleans ``False``/``True``.
    """
    n = len(cat.tmdb_id)
    # --- keywords: mostly from the title's genres, the rest generic; sorted by id like Kaggle
    n_kw = overdispersed_counts(rng, n, mean_keywords)
    n_kw[rng.random(n) < EMPTY_KEYWORDS_SHARE] = 0
    kw_lists: list[list[int]] = []
    entries = 0
    for k in range(n):
        picks = []
        gs = cat.genres[k]
        for _ in range(int(n_kw[k])):
            if gs and rng.random() < GENRE_KEYWORD_SHARE:
                pool = GENRE_KEYWORD_IDX[gs[rng.integers(len(gs))]]
            else:
                pool = GENERIC_KEYWORD_IDX
            picks.append(int(pool[rng.integers(len(pool))]))
        uniq = sorted(set(picks), key=lambda i: KEYWORD_IDS[i])
        kw_lists.append(uniq)
        entries += len(uniq)
        cat.keyword_cells.append(lit.id_name_list((int(KEYWORD_IDS[i]), KEYWORD_NAMES[i]) for i in uniq))
    cat.n_keyword_entries = entries

    # --- collections: a root title, its sequels "Root 2", "Root: Subtitle"
    titles = [_title(rng, GENRE_NAMES[cat.genres[k][0]] if cat.genres[k] else "Drama") for k in range(n)]
    collection = [""] * n
    n_coll = int(n * COLLECTION_SHARE)
    starts = rng.choice(n, size=n_coll, replace=False)
    taken = np.zeros(n, bool)
    coll_ids = 10 + rng.choice(500_000, size=max(n_coll, 1), replace=False)
    coll_paths = random_paths(rng, 2 * max(n_coll, 1))
    for c, s in enumerate(starts.tolist()):
        if taken[s]:
            continue
        size = int(rng.integers(1, 4))
        members = [s] + [m for m in rng.choice(n, size=size, replace=False).tolist()
                         if not taken[m] and m != s]
        root = titles[s]
        cname = f"{root} Collection"
        for j, m in enumerate(members):
            taken[m] = True
            cat.genres[m] = list(cat.genres[s])
            if j:
                titles[m] = (f"{root} {j + 1}" if rng.random() < 0.5
                             else f"{root}: {SEQUEL_SUBTITLES[rng.integers(len(SEQUEL_SUBTITLES))]}")
            poster = coll_paths[2 * c] if rng.random() < 0.9 else None
            collection[m] = lit.collection_dict(int(coll_ids[c]), cname, poster, coll_paths[2 * c + 1])
    cat.primary_genre = np.array([gs[0] if gs else 0 for gs in cat.genres], np.int64)

    # --- per-title numbers
    years = np.clip(NEWEST_YEAR - np.floor(rng.exponential(16.0, size=n)), 1902, NEWEST_YEAR).astype(int)
    months = rng.integers(1, 13, size=n)
    days = rng.integers(1, 29, size=n)
    no_date = rng.random(n) < MISSING_DATE_SHARE
    popularity = 0.05 + 60.0 * cat.pop_weight ** 0.7 * rng.lognormal(0, 0.4, size=n)
    vote_count = np.floor(14000.0 * cat.pop_weight ** 1.1 * rng.lognormal(0, 0.5, size=n))
    vote_avg = np.clip(np.round(6.0 + 1.6 * cat.quality / ITEM_BIAS_SD * 0.6 + rng.normal(0, 0.6, n), 1), 0, 10)
    vote_avg[vote_count == 0] = 0.0
    budget = np.where(rng.random(n) < ZERO_BUDGET_SHARE, 0,
                      np.round(rng.lognormal(16.0, 1.2, size=n), -3)).astype(np.int64)
    revenue = np.where(rng.random(n) < ZERO_REVENUE_SHARE, 0.0,
                       np.round(rng.lognormal(17.0, 1.5, size=n)))
    runtime = np.clip(np.round(rng.normal(100, 22, size=n)), 3, 400)
    runtime[rng.random(n) < 0.01] = 0
    lang_p = np.array([x[2] for x in LANGUAGES])
    lang = rng.choice(len(LANGUAGES), size=n, p=lang_p / lang_p.sum())
    status_p = np.array([s[1] for s in STATUSES])
    status = rng.choice(len(STATUSES), size=n, p=status_p / status_p.sum())
    comp_names, comp_ids = _companies(rng, 120)
    comp_w = 1.0 / np.arange(1, len(comp_names) + 1)
    n_comp = rng.choice(4, size=n, p=(0.25, 0.35, 0.25, 0.15))
    posters = random_paths(rng, n)
    u = rng.random((n, 8))  # spare uniforms for small per-title choices

    for k in tqdm(range(n), desc="titles", unit="title", disable=not progress, mininterval=1.0):
        gnames = [GENRE_NAMES[g] for g in cat.genres[k]]
        code, lname, _p, country, cname = LANGUAGES[lang[k]]
        spoken = [(code, lname)] + ([("en", "English")] if code != "en" and u[k, 0] < 0.3 else [])
        countries = [(country, cname)]
        if u[k, 1] < 0.15:
            extra = EXTRA_COUNTRIES[int(u[k, 2] * len(EXTRA_COUNTRIES))]
            if extra[0] != country:
                countries.append(extra)
        comps = rng.choice(len(comp_names), size=int(n_comp[k]), replace=False, p=comp_w / comp_w.sum())
        overview = "" if u[k, 3] < EMPTY_OVERVIEW_SHARE else _overview(
            rng, gnames, [KEYWORD_NAMES[i] for i in kw_lists[k]])
        title = titles[k]
        slug = "".join(ch for ch in title.lower() if ch.isalnum())
        row = [
            "True" if u[k, 4] < ADULT_SHARE else "False",
            collection[k],
            str(int(budget[k])),
            lit.id_name_list((GENRES[g][0], GENRES[g][1]) for g in cat.genres[k]),
            f"http://www.{slug}movie.com/" if u[k, 5] < HOMEPAGE_SHARE else "",
            str(int(cat.tmdb_id[k])),
            f"tt{int(cat.imdb[k]):07d}",
            code,
            title,
            overview,
            fmt_float(popularity[k]),
            posters[k] if u[k, 6] < 0.99 else "",
            lit.name_id_list((comp_names[c], int(comp_ids[c])) for c in comps),
            lit.countries_list(countries),
            "" if no_date[k] else f"{years[k]:04d}-{months[k]:02d}-{days[k]:02d}",
            repr(float(revenue[k])),
            repr(float(runtime[k])),
            lit.languages_list(spoken),
            STATUSES[status[k]][0],
            TAGLINES[int(u[k, 7] * len(TAGLINES) / TAGLINE_SHARE)] if u[k, 7] < TAGLINE_SHARE else "",
            title,
            "True" if rng.random() < VIDEO_SHARE else "False",
            repr(float(vote_avg[k])),
            repr(float(vote_count[k])),
        ]
        cat.rows.append(row)


# Defect name -> what the ETL is expected to do with the affected rows.
MESSY_EXPECTATIONS = {
    "shifted_columns": "quarantine (id holds a date; later fields misaligned)",
    "non_integer_id": "quarantine (id is not an integer)",
    "exact_duplicate": "drop the extra copy (identical line)",
    "near_duplicate": "keep one row per id (same id, popularity/vote_count differ)",
    "mdy_release_date": "parse M/D/YYYY to ISO YYYY-MM-DD",
    "upper_case_bool": "parse FALSE/TRUE as booleans",
    "missing_numeric": "keep the row, numeric field NaN",
    "popularity_scientific": "parse as float (e.g. '4.2e-05')",
}


def _ghost_row(rng: np.random.Generator, tmdb_id: int) -> list[str]:
    """In: rng, an id no valid title uses. Out: a complete, valid-looking row for it."""
    ghost = Catalogue(np.array([tmdb_id]), np.array([0]), rng.choice(7_000_000, 1) + 1,
                      [[int(rng.integers(len(GENRES)))]], np.array([0]), np.zeros(1),
                      np.array([1e-3]), np.array([0.0]))
    build_rows(rng, ghost, 3)
    row = ghost.rows[0]
    if not row[COL["release_date"]]:
        row[COL["release_date"]] = "1997-08-20"
    row[COL["tagline"]] = row[COL["tagline"]] or TAGLINES[0]
    return row


def plant_messy_rows(rng: np.random.Generator, cat: Catalogue, counts: dict[str, int]
                     ) -> tuple[list[list[str]], dict[str, dict]]:
    """Return the final movie rows with the planted defects, and a record of them.

    In: rng; a catalogue with rows; ``counts`` from ``SYNTHETIC_SCALES`` (``messy_*``).
    Out: (rows in file order, defect name -> {"count", "ids", "expected"}). ``ids`` are the
    ``id`` cell texts of the affected rows. Defects on valid titles use disjoint titles.
    """
    n = len(cat.rows)
    rows = [list(r) for r in cat.rows]
    kinds = ("mdy_release_date", "upper_case_bool", "missing_numeric", "popularity_scientific",
             "exact_duplicate", "near_duplicate")
    keys = ("messy_mdy_date", "messy_upper_bool", "messy_missing_numeric",
            "messy_popularity_text", "messy_exact_dup", "messy_near_dup")
    dated = [k for k in range(n) if rows[k][COL["release_date"]]]
    need = sum(counts[k] for k in keys)
    if need > len(dated):
        raise ValueError(f"counts: {need} messy rows requested but only {len(dated)} titles")
    chosen = rng.choice(dated, size=need, replace=False).tolist()
    picks: dict[str, list[int]] = {}
    for kind, key in zip(kinds, keys):
        picks[kind], chosen = chosen[: counts[key]], chosen[counts[key]:]
    record: dict[str, dict] = {}
    missing_cols = ("runtime", "revenue", "budget", "vote_average", "vote_count", "popularity")
    by_col: dict[str, list[str]] = {c: [] for c in missing_cols}
    iso_of: dict[str, str] = {}
    for k in picks["mdy_release_date"]:
        iso_of[rows[k][COL["id"]]] = rows[k][COL["release_date"]]
        y, m, d = rows[k][COL["release_date"]].split("-")
        rows[k][COL["release_date"]] = f"{int(m)}/{int(d)}/{y}"
    true_ids: list[str] = []
    for j, k in enumerate(picks["upper_case_bool"]):
        rows[k][COL["adult"]] = rows[k][COL["adult"]].upper()
        # every 4th also flips video to TRUE so both spellings of both values occur
        rows[k][COL["video"]] = "TRUE" if j % 4 == 0 else rows[k][COL["video"]].upper()
        if rows[k][COL["video"]] == "TRUE":
            true_ids.append(rows[k][COL["id"]])
    for j, k in enumerate(picks["missing_numeric"]):
        c = missing_cols[j % len(missing_cols)]
        rows[k][COL[c]] = ""
        by_col[c].append(rows[k][COL["id"]])
    for k in picks["popularity_scientific"]:
        rows[k][COL["popularity"]] = repr(float(f"{rng.uniform(1.0, 9.9):.1f}e-05"))

    extra: list[tuple[int, list[str]]] = []  # (insert position, row)
    for k in picks["exact_duplicate"]:
        extra.append((int(rng.integers(0, n + 1)), list(rows[k])))
    for k in picks["near_duplicate"]:
        dup = list(rows[k])
        dup[COL["popularity"]] = fmt_float(float(dup[COL["popularity"]] or 0) * 1.37 + 0.01)
        dup[COL["vote_count"]] = repr(float(float(dup[COL["vote_count"]] or 0) + 1))
        extra.append((int(rng.integers(0, n + 1)), dup))
    # Ghost titles (defective rows) use ids above every valid one (< 470,000).
    ghost_ids = (470_000 + rng.choice(10_000, size=64, replace=False)).tolist()
    shifted_ids, bad_ids = [], []
    for _ in range(counts["messy_shifted"]):
        g = _ghost_row(rng, ghost_ids.pop())
        overview_tail = " - Written by " + g[COL["overview"]][:20].strip()
        shifted = [overview_tail] + g[COL["popularity"]:] + [""] * 9
        shifted_ids.append(shifted[COL["id"]])
        extra.append((int(rng.integers(0, n + 1)), shifted))
    for j in range(counts["messy_bad_id"]):
        g = _ghost_row(rng, ghost_ids.pop())
        num = g[COL["id"]]
        g[COL["id"]] = (f"{num}x", f"{num}.5", "n/a", f"#{num}")[j % 4]
        bad_ids.append(g[COL["id"]])
        extra.append((int(rng.integers(0, n + 1)), g))
    # Insert from the back so earlier positions stay valid; ties keep draw order.
    out = list(rows)
    for pos, row in sorted(extra, key=lambda t: t[0], reverse=True):
        out.insert(pos, row)

    def ids_of(kind: str) -> list[str]:
        """Out: the id cells of the titles that carry defect ``kind``."""
        return [rows[k][COL["id"]] for k in picks[kind]]

    for kind in kinds:
        record[kind] = {"count": len(picks[kind]), "ids": ids_of(kind)}
    record["missing_numeric"]["by_column"] = by_col
    record["mdy_release_date"]["iso"] = iso_of
    record["upper_case_bool"]["video_true_ids"] = true_ids
    record["shifted_columns"] = {"count": len(shifted_ids), "ids": shifted_ids}
    record["non_integer_id"] = {"count": len(bad_ids), "ids": bad_ids}
    for kind, rec in record.items():
        rec["expected"] = MESSY_EXPECTATIONS[kind]
    return out, record
