"""Training: model-ready ratings loading, SVD learning planted structure and beating baselines
on real ratings, train/tune entry points writing a loadable bundle and best params."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.config import (
    ITEM_COL,
    ITEM_ID_COL,
    RATING_COL,
    SVD_TUNED_PARAMS,
    TIMESTAMP_COL,
    TMDB_COL,
    USER_COL,
)
from src.data import synthetic_ratings as sr
from src.evaluation.rating_cv import (
    BASELINE,
    NORMAL,
    SVD_DEFAULT,
    SVD_TUNED,
    holdout_ratings,
    rating_algorithms,
)
from src.models.bundle import load_bundle, read_current_manifest
from src.models.ratings_data import load_ratings, ratings_sha256
from src.models.train_model import check_svd_params, tune
from src.models.train_model import main as train_main

# ---------------------------------------------------------------- load_ratings


def _ml(rows):
    return pd.DataFrame(rows, columns=[USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL])


LINKS = pd.DataFrame({ITEM_COL: [1, 2, 3, 4], "imdbId": [11, 12, 13, 14],
                      TMDB_COL: [862.0, 8844.0, np.nan, 862.0]})


def test_links_map_to_catalogue_ids_count_unmapped_and_collapse_duplicates(tmp_path):
    ratings = _ml([[1, 1, 4.0, 100], [1, 2, 3.0, 101], [1, 3, 5.0, 102],   # movie 3: no tmdbId
                   [1, 4, 2.0, 200],                                    # movie 4 -> 862 again, later
                   [2, 2, 5.0, 50], [2, 99, 1.0, 60]])                  # movie 99: not in links
    rpath, lpath = tmp_path / "r.csv", tmp_path / "l.csv"
    ratings.to_csv(rpath, index=False)
    LINKS.to_csv(lpath, index=False)
    df = load_ratings(rpath, lpath, include_feedback=False)
    assert list(df.columns) == [USER_COL, ITEM_ID_COL, RATING_COL, TIMESTAMP_COL]
    assert [str(t) for t in df.dtypes] == ["int64", "int64", "float64", "int64"]
    got = {(u, i): r for u, i, r in df[[USER_COL, ITEM_ID_COL, RATING_COL]].itertuples(index=False)}
    # user 1 rated 862 twice (movies 1 and 4): the later rating (2.0) wins.
    assert got == {(1, 862): 2.0, (1, 8844): 3.0, (2, 8844): 5.0}
    st = df.attrs["load_stats"]
    assert (st["rows_in"], st["unmapped"], st["duplicates"], st["rows_out"]) == (6, 2, 1, 3)
    assert st["id_space"] == "catalogue"
    # Without links the MovieLens ids are kept, nothing is dropped.
    raw = load_ratings(rpath, include_feedback=False)
    assert sorted(raw[ITEM_ID_COL].unique()) == [1, 2, 3, 4, 99]
    assert raw.attrs["load_stats"]["id_space"] == "movielens"
    # A frame that is already model-ready (itemId = catalogue ids) is not re-mapped.
    again = load_ratings(df, lpath, include_feedback=False)
    pd.testing.assert_frame_equal(again, df)


def test_default_reads_processed_ratings_with_tmdb_column(workspace):
    df = _ml([[5, 10, 3.5, 1], [5, 11, 4.5, 2], [6, 10, 1.0, 3]])
    df[TMDB_COL] = [100.0, np.nan, 100.0]
    df.to_csv(workspace.ratings, index=False)
    out = load_ratings(paths=workspace)
    assert out[ITEM_ID_COL].tolist() == [100, 100] and out.attrs["load_stats"]["unmapped"] == 1


@pytest.mark.parametrize("col,value,match", [
    (USER_COL, "abc", "'userId'"), (ITEM_COL, 2.5, "'movieId'"), (RATING_COL, "good", "'rating'"),
    (RATING_COL, 7.0, "'rating'"), (TIMESTAMP_COL, None, "'timestamp'"), (USER_COL, True, "'userId'"),
])
def test_bad_values_raise_naming_the_column(col, value, match):
    df = _ml([[1, 1, 4.0, 100], [2, 2, 3.0, 101]]).astype(object)
    df.loc[1, col] = value
    with pytest.raises(ValueError, match=match):
        load_ratings(df, include_feedback=False)


def test_missing_column_and_bad_links_raise():
    with pytest.raises(ValueError, match="'timestamp'"):
        load_ratings(_ml([[1, 1, 4.0, 1]]).drop(columns=TIMESTAMP_COL), include_feedback=False)
    with pytest.raises(ValueError, match="tmdbId"):
        load_ratings(_ml([[1, 1, 4.0, 1]]), links=LINKS.assign(tmdbId=["x", 1, 2, 3]),
                     include_feedback=False)


def test_sqlite_feedback_is_merged_and_later_rating_wins(workspace):
    from src.data.feedback_store import RatingStore

    base = _ml([[1, 1, 1.0, 100], [1, 2, 3.0, 101]])
    with RatingStore(workspace.ratings_db) as store:   # real SQLite file, the serving schema
        store.upsert(1, 862, 5.0)      # re-rates movie 1 (tmdb 862) now: must win over 1.0
        store.upsert(77, 8844, 4.5)    # a new viewer
    df = load_ratings(base, LINKS, paths=workspace)
    got = {(u, i): r for u, i, r in df[[USER_COL, ITEM_ID_COL, RATING_COL]].itertuples(index=False)}
    assert got == {(1, 862): 5.0, (1, 8844): 3.0, (77, 8844): 4.5}
    assert df.attrs["load_stats"]["feedback_rows"] == 2
    # Opt-out and MovieLens-id frames leave the feedback out.
    assert len(load_ratings(base, LINKS, paths=workspace, include_feedback=False)) == 2
    assert len(load_ratings(base, paths=workspace)) == 2


def test_ratings_sha256_is_order_independent_and_content_sensitive():
    df = _ml([[1, 1, 4.0, 100], [2, 2, 3.0, 101]]).rename(columns={ITEM_COL: ITEM_ID_COL})
    assert ratings_sha256(df) == ratings_sha256(df.iloc[::-1])
    assert ratings_sha256(df) != ratings_sha256(df.assign(rating=[4.0, 3.5]))


# ---------------------------------------------------------------- learning


def planted_ratings(seed: int = 0, n_users: int = 1000, n_items: int = 150, n_genres: int = 5):
    """Ratings from the synthetic generator's model with a rank-``n_genres`` taste structure.

    Directors are unique per title and casts empty, so the only signal beyond biases is the
    planted low-rank term and the noise floor is ``sr.RATING_NOISE_SD`` (plus rounding).
    """
    rng = np.random.default_rng(seed)
    gm = np.zeros((n_items, n_genres), np.float32)
    for i in range(n_items):
        gs = rng.choice(n_genres, size=rng.integers(1, 3), replace=False)
        gm[i, gs] = 1.0 / len(gs)
    s = sr.simulate(rng, gm, rng.normal(0, 0.5, n_items), rng.lognormal(0, 1, n_items),
                    np.arange(n_items), -np.ones((n_items, 3), np.int64), n_users=n_users,
                    mean_per_user=50, min_per_user=20)
    return pd.DataFrame({USER_COL: s.user, ITEM_ID_COL: s.item + 1, RATING_COL: s.rating,
                         TIMESTAMP_COL: s.timestamp})


def test_svd_recovers_planted_structure():
    df = planted_ratings()
    params = {"n_factors": 10, "n_epochs": 60, "lr_all": 0.01, "reg_all": 0.05}
    res = holdout_ratings(df, rating_algorithms(params, include=(NORMAL, BASELINE, SVD_TUNED)))
    svd, normal, base = (res[k]["rmse"] for k in (SVD_TUNED, NORMAL, BASELINE))
    # Irreducible error: the generator's Gaussian noise plus rounding to half stars
    # (uniform over a 0.5 step: variance 0.5**2 / 12).
    floor = float(np.sqrt(sr.RATING_NOISE_SD ** 2 + 0.5 ** 2 / 12))
    # Near that floor, far below random and clearly below biases only.
    assert svd < 1.2 * floor, (floor, res)
    assert svd < 0.45 * normal and svd < 0.8 * base, res


@pytest.mark.slow  # CV of several models on the real ratings (~3 s idle)
def test_tuned_svd_beats_baselines_on_real_ratings(shared_data):
    df = load_ratings(shared_data / "ratings_small.csv.gz", shared_data / "links_small.csv.gz",
                      include_feedback=False)
    assert df.attrs["load_stats"]["unmapped"] > 0 and len(df) > 99_000
    res = holdout_ratings(df, rating_algorithms(include=(BASELINE, SVD_DEFAULT, SVD_TUNED)))
    assert res[SVD_TUNED]["rmse"] < res[BASELINE]["rmse"] - 0.01, res
    assert res[SVD_TUNED]["rmse"] < res[SVD_DEFAULT]["rmse"] - 0.01, res


# ---------------------------------------------------------------- entry points


def test_train_and_tune_write_bundle_and_params(workspace, shared_data):
    """tune -> best params file; train uses it, the bundle loads and predicts; sidecar describes it."""
    small = pd.read_csv(shared_data / "ratings_small.csv.gz", nrows=6000)
    rpath = workspace.raw / "r.csv"
    small.to_csv(rpath, index=False)
    lpath = shared_data / "links_small.csv.gz"

    path = train_main(ratings=rpath, links=lpath, paths=workspace)
    b = load_bundle(path)
    # No tune run yet: the documented tuned set (what evaluation reports as svd_tuned).
    assert b.params == SVD_TUNED_PARAMS and b.metadata["params_source"].endswith("TUNED_PARAMS")
    manifest = read_current_manifest(workspace)
    assert manifest["version"] == b.version and path.name.endswith(b.version)
    trained_on = load_ratings(rpath, lpath, paths=workspace)
    assert manifest["metadata"]["data"]["n_ratings"] == len(trained_on)
    assert manifest["metadata"]["data"]["sha256"] == ratings_sha256(trained_on)
    # The bundle keeps each (user, item) once: what serving needs, not the raw frame.
    assert len(b.train_ratings) == len(trained_on.drop_duplicates([USER_COL, ITEM_ID_COL]))
    assert b.ranker is None or len(b.ranker.item_ids) > 0

    grid = {"n_factors": [5, 20], "n_epochs": [5], "lr_all": [0.01], "reg_all": [0.1]}
    best = tune(ratings=rpath, links=lpath, paths=workspace, grid=grid, n_iter=None, cv=2)
    saved = json.loads(workspace.best_params.read_text())
    assert saved["params"] == best["params"] and best["n_candidates"] == 2
    assert best["rmse"] == min(r["rmse"] for r in saved["results"])

    b2 = load_bundle(train_main(ratings=rpath, links=lpath, paths=workspace))
    assert b2.params == best["params"] and b2.version != b.version
    u, i = b2.train_ratings.iloc[0][[USER_COL, ITEM_ID_COL]]
    assert 0.5 <= b2.svd.predict(int(u), int(i)).est <= 5.0
    assert b2.svd.predict(int(u), int(i)).details["was_impossible"] is False


def test_bad_params_are_refused(workspace):
    with pytest.raises(ValueError, match="n_factorz"):
        check_svd_params({"n_factorz": 3})
    workspace.best_params.write_text(json.dumps({"params": {"lr_all": "fast"}}))
    with pytest.raises(ValueError, match="lr_all"):
        train_main(ratings=_ml([[1, 1, 4.0, 1]]), paths=workspace)


def test_training_from_parquet_equals_training_from_csv(workspace, real_etl):
    """The ETL's ratings.parquet trains exactly the model its ratings.csv trains; a Parquet
    older than the CSV (CSV rewritten after the ETL) is not read."""
    import os
    import shutil

    from src.models.ratings_data import default_ratings_source

    shutil.copy2(real_etl.ratings, workspace.ratings)
    shutil.copy2(real_etl.ratings_parquet, workspace.ratings_parquet)
    assert default_ratings_source(workspace) == workspace.ratings_parquet
    quick = {"factors": 8, "iterations": 3}
    from_pq = load_bundle(train_main(paths=workspace, engine="implicit", ranker_params=quick))
    st = os.stat(workspace.ratings_parquet)
    os.utime(workspace.ratings_parquet, ns=(st.st_atime_ns, st.st_mtime_ns - 10**10))  # stale
    assert default_ratings_source(workspace) == workspace.ratings
    from_csv = load_bundle(train_main(paths=workspace, engine="implicit", ranker_params=quick))
    assert from_pq.metadata["data"] == from_csv.metadata["data"]
    assert from_pq.metadata["data"]["n_ratings"] > 90_000
    assert set(from_pq.metadata["load_seconds"]) == {"read", "map", "dedupe"}
    pd.testing.assert_frame_equal(from_pq.train_ratings, from_csv.train_ratings)
    np.testing.assert_array_equal(from_pq.ranker.item_ids, from_csv.ranker.item_ids)
    np.testing.assert_array_equal(from_pq.ranker.item_factors, from_csv.ranker.item_factors)


def test_dedupe_latest_matches_the_pandas_rule_on_many_duplicates_and_ties():
    """The array dedupe (one lexsort) keeps exactly what the two-sort pandas rule kept:
    per (user, item) the latest timestamp, the later row on equal timestamps, rows sorted
    by user then item."""
    from src.models.ratings_data import _dedupe_latest

    rng = np.random.default_rng(0)
    n = 5_000
    df = pd.DataFrame({USER_COL: rng.integers(-3, 40, n), ITEM_ID_COL: rng.integers(0, 60, n) * 1_000_003,
                       RATING_COL: rng.integers(1, 11, n) / 2.0, TIMESTAMP_COL: rng.integers(0, 5, n)})
    ref = (df.assign(_o=np.arange(n)).sort_values([TIMESTAMP_COL, "_o"], kind="mergesort"))
    ref = ref[~ref.duplicated([USER_COL, ITEM_ID_COL], keep="last")].drop(columns="_o")
    ref = ref.sort_values([USER_COL, ITEM_ID_COL], kind="mergesort").reset_index(drop=True)
    got, dropped = _dedupe_latest(df)
    pd.testing.assert_frame_equal(got, ref)
    assert dropped == n - len(ref) > 0
    unique = df.drop_duplicates([USER_COL, ITEM_ID_COL]).iloc[::-1]  # no repeats: the fast path
    back, zero = _dedupe_latest(unique)
    pd.testing.assert_frame_equal(back, unique.sort_values([USER_COL, ITEM_ID_COL]).reset_index(drop=True))
    assert zero == 0
    empty, none = _dedupe_latest(df.iloc[:0])
    assert (len(empty), none) == (0, 0)


def test_ease_inverted_beside_the_svd_is_the_ease_fitted_alone(monkeypatch):
    """Past EASE_INVERSE_PROCESS_MIN_ITEMS, `invoke train` inverts EASE's Gram matrix in a
    second process while the SVD fits: the ranker is the one `fit_ranker` makes alone."""
    import src.models.train_model as tm
    from src.models.topn import fit_ranker

    df = planted_ratings(n_users=300, n_items=120)
    params = {**SVD_TUNED_PARAMS, "n_epochs": 2, "n_factors": 5}
    monkeypatch.setattr(tm, "EASE_INVERSE_PROCESS_MIN_ITEMS", 1)
    svd, ranker, t_svd, t_rank = tm._fit_both(df, params)
    alone = fit_ranker(df)
    assert np.array_equal(ranker.item_ids, alone.item_ids)
    assert np.allclose(ranker.weights, alone.weights, rtol=1e-5, atol=1e-7)
    assert t_rank["seconds"] > 0 and svd.predict(int(df.userId.iloc[0]), int(df.itemId.iloc[0])).est > 0
