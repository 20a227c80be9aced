"""Builders of catalogue update batches for the update tests (not a test module itself).

They write new titles in the exact Kaggle shapes the ETL reads: The Movies Dataset schema
(nested cells as Python reprs) or the TMDB 5000 schema (nested cells as JSON, keywords
inline), with an optional ``media_type`` column and TV series columns. Every value is drawn
from a seeded generator so a test knows exactly what it put in.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd

from src.config import Paths

GENRES = {28: "Action", 12: "Adventure", 16: "Animation", 35: "Comedy", 80: "Crime",
          99: "Documentary", 18: "Drama", 10751: "Family", 14: "Fantasy", 36: "History",
          27: "Horror", 10402: "Music", 9648: "Mystery", 10749: "Romance",
          878: "Science Fiction", 53: "Thriller", 10752: "War", 37: "Western"}
KAGGLE_COLUMNS = ["adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id",
                  "original_language", "original_title", "overview", "popularity", "poster_path",
                  "production_companies", "production_countries", "release_date", "revenue",
                  "runtime", "spoken_languages", "status", "tagline", "title", "video",
                  "vote_average", "vote_count"]
TMDB_COLUMNS = ["budget", "genres", "homepage", "id", "keywords", "original_language",
                "original_title", "overview", "popularity", "production_companies",
                "production_countries", "release_date", "revenue", "runtime",
                "spoken_languages", "status", "tagline", "title", "vote_average", "vote_count"]
WORDS = ["Zephyr", "Quasar", "Lantern", "Harbor", "Velvet", "Cipher", "Meridian", "Falcon",
         "Orchid", "Summit", "Ember", "Glacier", "Nomad", "Prism", "Tundra", "Marble"]


def _title(rng: random.Random, i: int, kind: str) -> str:
    """A plausible title holding a unique marker word (``Upd<id>``)."""
    # A unique marker word per title makes search/assertions unambiguous.
    return f"{rng.choice(WORDS)} {kind.capitalize()} Upd{i:05d}"


def batch_rows(start_id: int, n_movies: int, n_series: int = 0, seed: int = 1) -> list[dict]:
    """Structured rows (python objects, not yet serialised) for ``n_movies`` + ``n_series`` titles.

    In: first id, counts, seed. Out: one dict per title with nested values as lists/dicts and
    ``media_type``; series carry number_of_seasons/episodes and first_air_date.
    """
    rng = random.Random(seed)
    rows = []
    for i in range(n_movies + n_series):
        kind = "movie" if i < n_movies else "series"
        gids = rng.sample(sorted(GENRES), k=rng.randint(1, 3))
        year = rng.randint(1990, 2024)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        row = {
            "id": start_id + i,
            "media_type": kind,
            "title": _title(rng, start_id + i, kind),
            "genres": [{"id": g, "name": GENRES[g]} for g in gids],
            "keywords": [{"id": 9000 + k, "name": f"kw{k}"} for k in rng.sample(range(40), 3)],
            "overview": f"A story about {rng.choice(WORDS).lower()} and {rng.choice(WORDS).lower()}.",
            "popularity": round(rng.uniform(0.1, 60.0), 6),
            "vote_average": round(rng.uniform(3.0, 9.0), 1),
            "vote_count": rng.randint(0, 5000),
            "runtime": float(rng.randint(20, 60) if kind == "series" else rng.randint(70, 180)),
            "release_date": date,
            "budget": rng.randint(0, 10**8), "revenue": rng.randint(0, 10**9),
            "original_language": "en", "status": "Released", "tagline": "Tagline.",
            "homepage": "",
            "production_companies": [{"name": "Upd Studios", "id": 77}],
            "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
            "spoken_languages": [{"iso_639_1": "en", "name": "English"}],
        }
        if kind == "series":
            row["number_of_seasons"] = rng.randint(1, 9)
            row["number_of_episodes"] = row["number_of_seasons"] * rng.randint(6, 13)
            row["first_air_date"] = date
        rows.append(row)
    return rows


def kaggle_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a movies_metadata-style frame (Python-repr nested cells, 24 columns + extras)."""
    out = []
    for r in rows:
        d = {c: "" for c in KAGGLE_COLUMNS}
        d.update({k: v for k, v in r.items() if k != "keywords"})
        for col in ("genres", "production_companies", "production_countries", "spoken_languages"):
            d[col] = repr(r[col])
        d.update(adult="False", video="False", original_title=r["title"],
                 imdb_id=f"tt{r['id']:07d}", poster_path=f"/p{r['id']}.jpg")
        out.append(d)
    cols = KAGGLE_COLUMNS + [c for c in ("media_type", "number_of_seasons", "number_of_episodes",
                                         "first_air_date") if any(c in r for r in rows)]
    return pd.DataFrame(out).reindex(columns=cols)


def tmdb_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a tmdb_5000-style frame (JSON nested cells, keywords inline, no media_type)."""
    out = []
    for r in rows:
        d = {c: r.get(c, "") for c in TMDB_COLUMNS}
        for col in ("genres", "keywords", "production_companies", "production_countries",
                    "spoken_languages"):
            d[col] = json.dumps(r[col])
        d["original_title"] = r["title"]
        out.append(d)
    return pd.DataFrame(out, columns=TMDB_COLUMNS)


def credits_frame(rows: list[dict]) -> pd.DataFrame:
    """A credits.csv for the rows (cast/crew Python reprs; director 'Dir <id>')."""
    out = []
    for r in rows:
        cast = [{"cast_id": k, "character": f"Role {k}", "credit_id": f"c{r['id']}{k}", "gender": 0,
                 "id": 500000 + k, "name": f"Actor {r['id'] % 97} {k}", "order": k, "profile_path": None}
                for k in range(4)]
        crew = [{"credit_id": f"d{r['id']}", "department": "Directing", "gender": 0, "id": 600000 + r["id"],
                 "job": "Director", "name": f"Dir {r['id']}", "profile_path": None}]
        out.append({"cast": repr(cast), "crew": repr(crew), "id": r["id"]})
    return pd.DataFrame(out, columns=["cast", "crew", "id"])


def keywords_frame(rows: list[dict]) -> pd.DataFrame:
    """A keywords.csv for the rows (Python-repr keyword lists)."""
    return pd.DataFrame([{"id": r["id"], "keywords": repr(r["keywords"])} for r in rows])


def write_batch(folder: Path, stem: str, rows: list[dict], schema: str = "kaggle",
                credits: bool = True, keywords: bool = True) -> dict[str, Path]:
    """Write ``<stem>.csv`` (+ ``<stem>.credits.csv``, ``<stem>.keywords.csv``) into ``folder``.

    Out: {"movies": path, "credits": path or None, "keywords": path or None}, the inbox
    naming convention, so the same files serve --movies runs and inbox runs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    frame = kaggle_frame(rows) if schema == "kaggle" else tmdb_frame(rows)
    out = {"movies": folder / f"{stem}.csv", "credits": None, "keywords": None}
    frame.to_csv(out["movies"], index=False)
    if credits:
        out["credits"] = folder / f"{stem}.credits.csv"
        credits_frame(rows).to_csv(out["credits"], index=False)
    if keywords and schema == "kaggle":
        out["keywords"] = folder / f"{stem}.keywords.csv"
        keywords_frame(rows).to_csv(out["keywords"], index=False)
    return out


def artifact_hashes(paths: Paths) -> dict[str, str]:
    """sha256 of every artifact an update may rewrite, by workspace-relative path."""
    from src.utils.io import sha256_file

    files = [paths.merged, paths.features, *sorted(paths.interim.glob("*.csv"))]
    return {str(p.relative_to(paths.root)): sha256_file(p) for p in files}
