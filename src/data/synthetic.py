"""Generate a synthetic StreamRec dataset in the exact shapes of the Kaggle files.

``generate(out_dir, scale, seed)`` writes ``movies_dataset.csv`` (The Movies Dataset's
``movies_metadata.csv`` schema, with its defects), ``credits.csv``, ``keywords.csv``,
``links.csv`` and ``ratings.csv`` (MovieLens), plus ``synthetic_manifest.json`` that lists
every planted defect so ETL tests can check each one was quarantined, deduplicated or parsed.
The ratings carry planted structure (genre tastes, liked directors/actors, title quality; see
:mod:`src.data.synthetic_ratings`), so collaborative models have something real to learn.
Same seed, same bytes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from src.config import (
    PATHS,
    RAW_CREDITS_NAMES,
    RAW_KEYWORDS_NAMES,
    RAW_LINKS_NAMES,
    RAW_MOVIES_NAMES,
    RAW_RATINGS_NAMES,
    SYNTHETIC_MANIFEST,
    SYNTHETIC_MIN_RATINGS_PER_USER,
    SYNTHETIC_SCALES,
)
from src.data import synthetic_ratings as model
from src.data.synthetic_catalogue import (
    MOVIE_COLUMNS,
    build_rows,
    draw_skeleton,
    genre_probabilities,
    plant_messy_rows,
)
from src.data.synthetic_people import build_credits, make_people
from src.data.synthetic_vocab import GENRE_NAMES
from src.utils.io import atomic_path, sha256_file, write_json_atomic
from src.utils.logging import get_logger, setup_logging, timed

log = get_logger(__name__)

FILE_NAMES = {
    "movies": RAW_MOVIES_NAMES[0],      # movies_dataset.csv
    "credits": RAW_CREDITS_NAMES[0],    # credits.csv
    "keywords": RAW_KEYWORDS_NAMES[0],  # keywords.csv
    "links": RAW_LINKS_NAMES[0],        # links.csv
    "ratings": RAW_RATINGS_NAMES[0],    # ratings.csv
}
# People pools relative to the catalogue: films per person on average (real TMDB: actors
# ~3 films each in this dataset, crew ~4), so people recur across films.
FILMS_PER_ACTOR = 6.0
FILMS_PER_CREW = 6.0
FILMS_PER_DIRECTOR = 3.5
# Unknown-tmdb links point above every generated id, so they never hit the catalogue.
_UNKNOWN_TMDB_BASE = 480_000


def _write_csv(path: Path, header: list[str], rows, line_end: str = "\n") -> int:
    """Write rows as CSV atomically (pandas-style minimal quoting). Out: bytes written."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
            w.writerow(header)
            w.writerows(rows)
    return path.stat().st_size


def _side_rows(ids: list[int], cells: list[tuple], dup_ids: set[int],
               orphans: list[tuple[int, tuple]]) -> list[tuple]:
    """Rows of credits/keywords: one per title in catalogue order, exact duplicates right
    after the titles duplicated in the movies file, then orphan rows (ids with no title)."""
    rows = []
    for i, c in zip(ids, cells):
        row = (*c, i)
        rows.append(row)
        if i in dup_ids:
            rows.append(row)
    rows.extend((*c, i) for i, c in orphans)
    return rows


def generate(out_dir: str | os.PathLike, scale: str = "small", seed: int = 0) -> dict[str, Path]:
    """Write the five Kaggle-shaped CSVs and the manifest into ``out_dir``.

    In: output folder (created), ``scale`` ``"small"`` (~2k titles, 300 users, ~30k ratings,
    < 3 s) or ``"full"`` (45.5k titles, ~190 MB credits, 1M+ ratings), integer ``seed``.
    Out: {"movies", "credits", "keywords", "links", "ratings", "manifest"} -> path.
    Raises ValueError for an unknown scale or a non-integer seed.
    """
    if scale not in SYNTHETIC_SCALES:
        raise ValueError(f"scale: expected one of {sorted(SYNTHETIC_SCALES)}, got {scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: expected an integer, got {seed!r}")
    cfg = SYNTHETIC_SCALES[scale]
    progress = scale == "full"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(seed))
    n = cfg["n_movies"]
    paths = {k: out / v for k, v in FILE_NAMES.items()}
    sizes: dict[str, dict] = {}

    with timed(log, f"synthetic {scale} dataset (seed {seed})"):
        with timed(log, f"catalogue of {n} titles"):
            cat = draw_skeleton(rng, n)
            build_rows(rng, cat, cfg["mean_keywords"], progress=progress)
        with timed(log, "credits"):
            pools = make_people(rng, {
                "actors": max(200, int(n * cfg["mean_cast"] / FILMS_PER_ACTOR)),
                "crew": max(200, int(n * cfg["mean_crew"] / FILMS_PER_CREW)),
                "directors": max(50, int(n / FILMS_PER_DIRECTOR)),
            }, genre_probabilities())
            credits = build_credits(rng, pools, cat.primary_genre, 0.5 + cat.pop_pct,
                                    cfg["mean_cast"], cfg["mean_crew"], progress=progress)
        movie_rows, defects = plant_messy_rows(rng, cat, cfg)
        with timed(log, "ratings"):
            sim = model.simulate(rng, cat.genre_matrix, cat.quality, cat.pop_weight,
                                 credits.director, credits.top_cast, cfg["n_users"],
                                 cfg["mean_ratings_per_user"], SYNTHETIC_MIN_RATINGS_PER_USER,
                                 progress=progress)

        # --- links: every title, plus movieIds with no tmdbId and with an unknown tmdbId
        free = np.ones(int(cat.movie_id.max()) + 1, bool)
        free[0] = False
        free[cat.movie_id] = False
        n_none, n_unknown = cfg["links_no_tmdb"], cfg["links_unknown_tmdb"]
        extra_mid = rng.choice(np.flatnonzero(free), size=n_none + n_unknown, replace=False)
        # Catalogue imdb ids are < 7,000,000 (see draw_skeleton): these cannot collide.
        extra_imdb = 7_000_000 + rng.choice(2_000_000, size=len(extra_mid), replace=False)
        no_tmdb_mid = sorted(int(m) for m in extra_mid[:n_none])
        unknown = {int(m): _UNKNOWN_TMDB_BASE + j for j, m in enumerate(extra_mid[n_none:])}
        link_rows = [(int(m), f"{int(im):07d}", str(int(t)))
                     for m, im, t in zip(cat.movie_id, cat.imdb, cat.tmdb_id)]
        link_rows += [(int(m), f"{int(im):07d}", str(unknown[int(m)]) if int(m) in unknown else "")
                      for m, im in zip(extra_mid, extra_imdb)]
        link_rows.sort(key=lambda r: r[0])

        # --- ratings: the simulated ones plus a few on the link-only movieIds
        users = [sim.user]
        mids = [cat.movie_id[sim.item]]
        vals, stamps = [sim.rating], [sim.timestamp]
        extra_counts = {}
        for m in extra_mid.tolist():
            k = int(rng.integers(2, 9))
            users.append(rng.choice(cfg["n_users"], size=k, replace=False) + 1)
            mids.append(np.full(k, m))
            vals.append(rng.integers(1, 11, size=k) / 2)
            stamps.append(rng.integers(model.FIRST_TIMESTAMP, model.LAST_TIMESTAMP, size=k))
            extra_counts[int(m)] = k
        r_user, r_mid = np.concatenate(users), np.concatenate(mids)
        r_val, r_ts = np.concatenate(vals), np.concatenate(stamps)
        srt = np.lexsort((r_mid, r_user))
        r_user, r_mid, r_val, r_ts = r_user[srt], r_mid[srt], r_val[srt], r_ts[srt]

        # --- credits / keywords rows (same order as the titles; dup + orphan rows planted)
        ids = cat.tmdb_id.tolist()
        dup_ids = {int(i) for i in defects["exact_duplicate"]["ids"]}
        n_orph = cfg["orphan_side_rows"]
        orphan_ids = [int(i) for i in 490_000 + rng.choice(10_000, size=n_orph, replace=False)]
        donors = rng.choice(n, size=n_orph).tolist()
        credit_rows = _side_rows(ids, list(zip(credits.cast_cells, credits.crew_cells)), dup_ids,
                                 [(i, (credits.cast_cells[d], credits.crew_cells[d]))
                                  for i, d in zip(orphan_ids, donors)])
        keyword_rows = [(i, cell) for cell, i in _side_rows(
            ids, [(c,) for c in cat.keyword_cells], dup_ids,
            [(i, (cat.keyword_cells[d],)) for i, d in zip(orphan_ids, donors)])]

        with timed(log, "writing CSVs"):
            sizes["movies"] = _write_csv(paths["movies"], list(MOVIE_COLUMNS), movie_rows)
            sizes["credits"] = _write_csv(paths["credits"], ["cast", "crew", "id"], credit_rows)
            sizes["keywords"] = _write_csv(paths["keywords"], ["id", "keywords"], keyword_rows)
            # The real links.csv has CRLF line ends; keep them so readers are tested on it.
            sizes["links"] = _write_csv(paths["links"], ["movieId", "imdbId", "tmdbId"], link_rows,
                                        line_end="\r\n")
            sizes["ratings"] = _write_csv(
                paths["ratings"], ["userId", "movieId", "rating", "timestamp"],
                zip(r_user.tolist(), r_mid.tolist(), r_val.tolist(), r_ts.tolist()))

    n_rows = {"movies": len(movie_rows), "credits": len(credit_rows), "keywords": len(keyword_rows),
              "links": len(link_rows), "ratings": len(r_user)}
    for k, p in paths.items():
        log.info("wrote %s: %d rows, %.1f MB", p.name, n_rows[k], sizes[k] / 1e6)
    per_user = np.bincount(r_user)[1:]
    manifest = {
        "generator": "src.data.synthetic.generate",
        "scale": scale,
        "seed": int(seed),
        # sha256 of each file as written: src.data.provenance recognises synthetic inputs
        # by content (a renamed or moved file is still known; a real file never matches).
        "files": {FILE_NAMES[k]: {"rows": n_rows[k], "bytes": sizes[k], "sha256": sha256_file(p)}
                  for k, p in paths.items()},
        "movies": {
            "rows": len(movie_rows),
            "valid_unique_ids": n,
            "defects": defects,
        },
        "credits": {
            "rows": len(credit_rows),
            "cast_entries": credits.n_cast_entries,
            "crew_entries": credits.n_crew_entries,
            "empty_cast": int(sum(c == "[]" for c in credits.cast_cells)),
            "duplicate_ids": sorted(dup_ids),
            "orphan_ids": orphan_ids,
        },
        "keywords": {
            "rows": len(keyword_rows),
            "entries": cat.n_keyword_entries,
            "empty": int(sum(c == "[]" for c in cat.keyword_cells)),
            "duplicate_ids": sorted(dup_ids),
            "orphan_ids": orphan_ids,
        },
        "links": {
            "rows": len(link_rows),
            "no_tmdb_movie_ids": no_tmdb_mid,
            "unknown_tmdb": {str(m): t for m, t in sorted(unknown.items())},
        },
        "ratings": {
            "rows": len(r_user),
            "users": int(cfg["n_users"]),
            "min_per_user": int(per_user.min()),
            "mean": round(float(r_val.mean()), 4),
            "on_no_tmdb_movies": int(sum(extra_counts[m] for m in no_tmdb_mid)),
            "on_unknown_tmdb_movies": int(sum(extra_counts[m] for m in unknown)),
            "genre_lovers": {str(u): GENRE_NAMES[g] for u, g in sorted(sim.loved_genre.items())},
            "params": {k: getattr(model, k) for k in (
                "GLOBAL_MEAN", "USER_BIAS_SD", "AFFINITY_SD", "GENRE_LOVER_SHARE", "LOVER_BOOST",
                "LOVER_OTHER_PENALTY", "DIRECTORS_LIKED", "DIRECTOR_BOOST", "ACTORS_LIKED",
                "ACTOR_BOOST", "RATING_NOISE_SD", "SELECTION_STRENGTH")},
        },
    }
    result = dict(paths)
    result["manifest"] = write_json_atomic(manifest, out / SYNTHETIC_MANIFEST)
    return result


def main() -> None:
    """CLI: ``python -m src.data.synthetic [small|full] [out_dir] [seed]``."""
    import sys

    setup_logging()
    args = sys.argv[1:]
    generate(args[1] if len(args) > 1 else PATHS.raw, scale=args[0] if args else "small",
             seed=int(args[2]) if len(args) > 2 else 0)


if __name__ == "__main__":
    main()
