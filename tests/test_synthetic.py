"""Tests of the synthetic Kaggle-shaped dataset (src.data.synthetic), small scale only.

Shapes are checked against the real files' headers and key orders (shared sample data), every
planted defect against the file's actual content, and the ratings for the structure a
recommender should find (genre lovers, heavy-tailed popularity, SVD beating the baseline).
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.config import SYNTHETIC_MIN_RATINGS_PER_USER
from src.data.synthetic import generate
from src.utils.io import sha256_file

MOVIE_COLUMNS = [
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id",
    "original_language", "original_title", "overview", "popularity", "poster_path",
    "production_companies", "production_countries", "release_date", "revenue", "runtime",
    "spoken_languages", "status", "tagline", "title", "video", "vote_average", "vote_count",
]
TMDB_GENRES = {
    28: "Action", 12: "Adventure", 16: "Animation", 35: "Comedy", 80: "Crime", 99: "Documentary",
    18: "Drama", 10751: "Family", 14: "Fantasy", 10769: "Foreign", 36: "History", 27: "Horror",
    10402: "Music", 9648: "Mystery", 10749: "Romance", 878: "Science Fiction", 10770: "TV Movie",
    53: "Thriller", 10752: "War", 37: "Western",
}
CSV_NAMES = ("movies_dataset.csv", "credits.csv", "keywords.csv", "links.csv", "ratings.csv")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    """Generate the small dataset once; return paths, manifest and the movies as text."""
    out = tmp_path_factory.mktemp("synthetic_small")
    paths = generate(out, scale="small", seed=0)
    manifest = json.loads(paths["manifest"].read_text())
    movies = pd.read_csv(paths["movies"], dtype=str, keep_default_na=False)
    return {"dir": out, "paths": paths, "manifest": manifest, "movies": movies}


def _valid_movies(movies: pd.DataFrame) -> pd.DataFrame:
    """Rows with an integer id, one per id (the ones the ETL should keep)."""
    ok = movies[movies["id"].str.fullmatch(r"\d+")]
    return ok.drop_duplicates("id").assign(tmdb=lambda d: d["id"].astype(int))


def _header(path: Path) -> list[str]:
    """The header fields of a CSV, plain or gzipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        return fh.readline().rstrip("\r\n").split(",")


def test_files_and_headers_match_the_real_ones(small, shared_data):
    paths = small["paths"]
    assert set(paths) == {"movies", "credits", "keywords", "links", "ratings", "manifest"}
    assert [p.name for k, p in paths.items() if k != "manifest"] == list(CSV_NAMES)
    assert _header(paths["movies"]) == MOVIE_COLUMNS
    assert _header(paths["credits"]) == _header(shared_data / "credits_sample.csv.gz")
    assert _header(paths["keywords"]) == _header(shared_data / "keywords.csv.gz")
    assert _header(paths["links"]) == _header(shared_data / "links.csv.gz")
    assert _header(paths["ratings"]) == _header(shared_data / "ratings_small.csv.gz")
    # atomic writes leave no temp files behind
    assert not [p.name for p in small["dir"].iterdir() if p.name.startswith(".")]
    # links keep the real file's CRLF line ends
    assert paths["links"].read_bytes().split(b"\n")[0].endswith(b"\r")


def test_movie_nested_cells_are_exact_python_literals(small):
    valid = _valid_movies(small["movies"])
    assert len(valid) == small["manifest"]["movies"]["valid_unique_ids"]
    keys = {
        "genres": ["id", "name"],
        "production_companies": ["name", "id"],
        "production_countries": ["iso_3166_1", "name"],
        "spoken_languages": ["iso_639_1", "name"],
    }
    seen_genres = set()
    for col, want in keys.items():
        for cell in valid[col]:
            value = ast.literal_eval(cell)
            assert isinstance(value, list)
            assert all(list(d) == want for d in value), cell
            assert repr(value) == cell  # byte-identical to Python's own repr
            if col == "genres":
                for d in value:
                    assert TMDB_GENRES[d["id"]] == d["name"]
                    seen_genres.add(d["name"])
    assert len(seen_genres) >= 18
    coll = valid.loc[valid["belongs_to_collection"] != "", "belongs_to_collection"]
    assert len(coll) > 20
    for cell in coll:
        d = ast.literal_eval(cell)
        assert list(d) == ["id", "name", "poster_path", "backdrop_path"] and repr(d) == cell
    # apostrophes make repr switch to double quotes, as in the real file
    apostrophes = ("\"Children's Television Workshop\"", "\"Hart's Crossing Films\"",
                   "\"O'Malley Brothers Pictures\"")
    companies = "\n".join(valid["production_companies"])
    assert any(a in companies for a in apostrophes)


def test_movie_scalar_fields_look_like_kaggle(small):
    valid = _valid_movies(small["movies"])
    assert valid["imdb_id"].str.fullmatch(r"tt\d{7}").all()
    assert valid["id"].is_unique
    runtime = pd.to_numeric(valid["runtime"].replace("", np.nan))
    assert runtime.dropna().between(0, 400).all()
    assert valid["vote_count"].str.fullmatch(r"(\d+\.0)?").all()  # '5415.0' like pandas wrote
    assert set(valid["status"]) <= {"Released", "Rumored", "Post Production", "In Production",
                                    "Planned", "Canceled"}
    assert (valid["title"].str.len() > 2).all()
    # overviews mention the title's own keywords (content similarity depends on it)
    kw = pd.read_csv(small["paths"]["keywords"]).drop_duplicates("id").set_index("id")["keywords"]
    hits = total = 0
    for tmdb, overview in zip(valid["tmdb"], valid["overview"]):
        names = [d["name"] for d in ast.literal_eval(kw.get(tmdb, "[]"))]
        if names and overview:
            total += 1
            hits += any(n in overview for n in names)
    assert total > 1000 and hits / total > 0.95


def test_credits_keys_order_and_directors(small, shared_data):
    real = pd.read_csv(shared_data / "credits_sample.csv.gz")
    real_cast_keys = list(ast.literal_eval(real["cast"][0])[0])
    real_crew_keys = list(ast.literal_eval(real["crew"][0])[0])
    credits = pd.read_csv(small["paths"]["credits"])
    man = small["manifest"]["credits"]
    assert len(credits) == man["rows"]
    both_quotes = 0
    for cast_cell, crew_cell in zip(credits["cast"], credits["crew"]):
        cast, crew = ast.literal_eval(cast_cell), ast.literal_eval(crew_cell)
        assert repr(cast) == cast_cell and repr(crew) == crew_cell
        assert all(list(d) == real_cast_keys for d in cast)
        assert all(list(d) == real_crew_keys for d in crew)
        assert [d["order"] for d in cast] == list(range(len(cast)))
        assert any(d["job"] == "Director" and d["department"] == "Directing" for d in crew)
        both_quotes += "\\'" in cast_cell
    assert both_quotes > 0  # names with both quote kinds: repr escapes, the ETL must cope
    sizes = credits["cast"].map(lambda c: c.count("'cast_id'"))
    assert sizes.max() > 3 * sizes.median()  # heavy-tailed cast sizes
    assert (credits["cast"] == "[]").sum() == man["empty_cast"] + sum(
        credits.loc[credits["id"].isin(man["duplicate_ids"] + man["orphan_ids"]), "cast"] == "[]")
    valid_ids = set(_valid_movies(small["movies"])["tmdb"])
    assert set(credits["id"]) - valid_ids == set(man["orphan_ids"])
    counts = credits["id"].value_counts()
    assert sorted(counts[counts > 1].index) == man["duplicate_ids"]


def test_keywords_cells(small):
    kw = pd.read_csv(small["paths"]["keywords"])
    man = small["manifest"]["keywords"]
    assert len(kw) == man["rows"]
    entries = 0
    for cell in kw.drop_duplicates("id")["keywords"]:
        value = ast.literal_eval(cell)
        assert repr(value) == cell and all(list(d) == ["id", "name"] for d in value)
        assert [d["id"] for d in value] == sorted(d["id"] for d in value)  # sorted like Kaggle
        entries += len(value)
    assert 0 < (kw["keywords"] == "[]").sum() < len(kw) / 3
    assert kw["keywords"].str.contains("\"based on children's book\"", regex=False).any()
    valid_ids = set(_valid_movies(small["movies"])["tmdb"])
    assert set(kw["id"]) - valid_ids == set(man["orphan_ids"])


def test_planted_defects_are_present_as_declared(small):
    movies, man = small["movies"], small["manifest"]["movies"]
    d = man["defects"]
    extra_rows = sum(d[k]["count"] for k in
                     ("shifted_columns", "non_integer_id", "exact_duplicate", "near_duplicate"))
    assert len(movies) == man["valid_unique_ids"] + extra_rows == man["rows"]
    # ids that are not integers: exactly the shifted rows and the bad-id rows
    bad = movies[~movies["id"].str.fullmatch(r"\d+")]
    assert sorted(bad["id"]) == sorted(d["shifted_columns"]["ids"] + d["non_integer_id"]["ids"])
    shifted = movies[movies["id"].isin(d["shifted_columns"]["ids"])]
    assert len(shifted) == d["shifted_columns"]["count"] > 0
    assert shifted["id"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert shifted["genres"].str.startswith("[{'name'").all()  # companies landed in genres
    assert (pd.to_numeric(shifted["popularity"], errors="coerce").isna()).all()  # text
    assert (shifted["vote_count"] == "").all() and (shifted["adult"].str.startswith(" - ")).all()
    # duplicates: exact copies and same-id rows that differ
    counts = movies["id"].value_counts()
    dup_ids = set(counts[counts > 1].index)
    assert dup_ids == set(d["exact_duplicate"]["ids"]) | set(d["near_duplicate"]["ids"])
    for i in d["exact_duplicate"]["ids"]:
        rows = movies[movies["id"] == i]
        assert len(rows) == 2 and rows.iloc[0].equals(rows.iloc[1])
    for i in d["near_duplicate"]["ids"]:
        rows = movies[movies["id"] == i]
        assert len(rows) == 2 and rows.iloc[0]["popularity"] != rows.iloc[1]["popularity"]
        assert rows.iloc[0]["title"] == rows.iloc[1]["title"]
    valid = _valid_movies(movies)
    # dates: ISO plus exactly the declared M/D/YYYY ones, which convert back to the originals
    mdy = valid[valid["release_date"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")]
    assert sorted(mdy["id"]) == sorted(d["mdy_release_date"]["ids"])
    for i, text in zip(mdy["id"], mdy["release_date"]):
        iso = pd.to_datetime(text, format="%m/%d/%Y").strftime("%Y-%m-%d")
        assert iso == d["mdy_release_date"]["iso"][i]
    other = valid[~valid["id"].isin(mdy["id"])]["release_date"]
    assert other.str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    # booleans: False/True plus exactly the declared FALSE/TRUE rows
    assert set(valid["adult"]) <= {"False", "True", "FALSE", "TRUE"}
    upper = valid[valid["adult"].isin(["FALSE", "TRUE"])]
    assert sorted(upper["id"]) == sorted(d["upper_case_bool"]["ids"])
    assert upper["video"].isin(["FALSE", "TRUE"]).all()
    assert sorted(upper.loc[upper["video"] == "TRUE", "id"]) == \
        sorted(d["upper_case_bool"]["video_true_ids"]) != []
    # blanks where declared
    for col, ids in d["missing_numeric"]["by_column"].items():
        assert (valid.set_index("id").loc[ids, col] == "").all(), col
    assert sum(len(v) for v in d["missing_numeric"]["by_column"].values()) == \
        d["missing_numeric"]["count"]
    # popularity in scientific notation: text, but still a number
    sci = valid[valid["popularity"].str.contains("e-", regex=False)]
    assert sorted(sci["id"]) == sorted(d["popularity_scientific"]["ids"])
    assert (pd.to_numeric(sci["popularity"]) < 1e-3).all()
    for kind, rec in d.items():
        assert rec["count"] == len(rec["ids"]) > 0 and rec["expected"], kind


def test_links_map_movie_ids_to_catalogue(small):
    links = pd.read_csv(small["paths"]["links"], dtype=str, keep_default_na=False)
    man = small["manifest"]["links"]
    assert links["movieId"].astype(int).is_unique
    assert links["imdbId"].str.fullmatch(r"\d{7}").all()
    catalogue = set(_valid_movies(small["movies"])["id"])
    has = links[links["tmdbId"] != ""]
    assert sorted(links.loc[links["tmdbId"] == "", "movieId"].astype(int)) == man["no_tmdb_movie_ids"]
    in_cat = has["tmdbId"].isin(catalogue)
    assert in_cat.mean() > 0.98
    assert dict(zip(has.loc[~in_cat, "movieId"], has.loc[~in_cat, "tmdbId"].astype(int))) == \
        man["unknown_tmdb"]
    assert len(catalogue - set(has["tmdbId"])) == 0  # every title is reachable from ratings


def test_ratings_shape_and_referential_gaps(small):
    r = pd.read_csv(small["paths"]["ratings"])
    man = small["manifest"]["ratings"]
    assert list(r.dtypes.astype(str)) == ["int64", "int64", "float64", "int64"]
    assert 25_000 <= len(r) == man["rows"] <= 40_000
    assert r["userId"].nunique() == 300
    assert set(np.unique(r["rating"])) <= {x / 2 for x in range(1, 11)}
    assert r["rating"].nunique() == 10
    assert r["timestamp"].between(820_454_400, 1_501_545_600).all()
    assert r.groupby("userId").size().min() >= SYNTHETIC_MIN_RATINGS_PER_USER
    assert not r.duplicated(["userId", "movieId"]).any()
    assert 3.3 < r["rating"].mean() < 3.9
    links = pd.read_csv(small["paths"]["links"])
    no_tmdb = set(links.loc[links["tmdbId"].isna(), "movieId"])
    assert r["movieId"].isin(no_tmdb).sum() == man["on_no_tmdb_movies"] > 0
    assert r["movieId"].isin(links["movieId"]).all()


def test_ratings_popularity_is_heavy_tailed(small):
    r = pd.read_csv(small["paths"]["ratings"])
    counts = r["movieId"].value_counts().to_numpy()
    assert counts.max() >= 15 * np.median(counts)
    top = np.sort(counts)[::-1][: len(counts) // 10]
    assert top.sum() / counts.sum() > 0.3  # top 10% of titles carry > 30% of the ratings
    per_user = r.groupby("userId").size()
    assert per_user.max() > 4 * per_user.median()  # a few heavy raters too


def _ratings_with_genres(small) -> pd.DataFrame:
    """Ratings joined through links to the genre names of their title."""
    r = pd.read_csv(small["paths"]["ratings"])
    links = pd.read_csv(small["paths"]["links"]).dropna()
    valid = _valid_movies(small["movies"])
    genres = dict(zip(valid["tmdb"], valid["genres"].map(
        lambda c: {d["name"] for d in ast.literal_eval(c)})))
    r = r.merge(links, on="movieId")
    r["genres"] = r["tmdbId"].astype(int).map(genres)
    return r.dropna(subset=["genres"])


def test_genre_lovers_rate_their_genre_higher_and_more_often(small):
    r = _ratings_with_genres(small)
    lovers = small["manifest"]["ratings"]["genre_lovers"]
    assert len(lovers) >= 25
    gaps, shares = [], []
    overall_share = {}
    for user, genre in lovers.items():
        mine = r[r["userId"] == int(user)]
        inside = mine["genres"].map(lambda gs: genre in gs)
        if inside.sum() < 3 or (~inside).sum() < 3:
            continue
        gaps.append(mine.loc[inside, "rating"].mean() - mine.loc[~inside, "rating"].mean())
        shares.append(inside.mean())
        overall_share[genre] = r["genres"].map(lambda gs: genre in gs).mean()
    gaps = np.array(gaps)
    assert np.mean(gaps) > 0.7 and np.mean(gaps > 0) > 0.9
    # lovers also watch their genre far more than the average user does
    lover_share = np.mean(shares)
    assert lover_share > 2 * np.mean(list(overall_share.values()))


def test_ratings_carry_structure_svd_can_learn(small):
    from surprise import SVD, Dataset, Reader, accuracy
    from surprise.model_selection import train_test_split

    r = pd.read_csv(small["paths"]["ratings"])
    data = Dataset.load_from_df(r[["userId", "movieId", "rating"]], Reader(rating_scale=(0.5, 5.0)))
    train, test = train_test_split(data, test_size=0.2, random_state=0)
    params = {"n_epochs": 40, "lr_all": 0.01, "reg_all": 0.05, "random_state": 0}
    # Same SGD model with and without latent factors: only user x title interactions (the
    # planted tastes) can make the factors help; with them switched off both score alike.
    biases_only = accuracy.rmse(SVD(n_factors=0, **params).fit(train).test(test), verbose=False)
    rmse = accuracy.rmse(SVD(n_factors=20, **params).fit(train).test(test), verbose=False)
    assert rmse < 0.95 * biases_only
    assert rmse > 0.4  # but not below the planted noise floor


def test_same_seed_same_bytes_other_seed_differs(small, tmp_path):
    again = generate(tmp_path / "again", scale="small", seed=0)
    for key, path in small["paths"].items():
        assert sha256_file(path) == sha256_file(again[key]), key
    other = generate(tmp_path / "other", scale="small", seed=1)
    for key in ("movies", "credits", "ratings"):
        assert sha256_file(other[key]) != sha256_file(small["paths"][key]), key


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale="huge")
    with pytest.raises(ValueError, match="seed"):
        generate(tmp_path, scale="small", seed="1")
    assert not any(tmp_path.iterdir())  # nothing half-written
