"""Integration tests of catalogue updates on a copy of the small synthetic workspace.

Each test copies the session's ``synthetic_pipeline`` workspace (ETL + features + model on
synthetic data) since updates mutate it, feeds real batch files in the Kaggle shapes
(tests/update_batches.py) through ``src.pipeline.update.main``, and checks the artifacts other
stages read: merged_data6.csv, interim tables, features.parquet, the recommender, the API.
"""

from __future__ import annotations

import json
import time

import httpx
import pandas as pd
import pytest

from src.config import ID_COL, Paths
from src.data.catalogue_store import update_lock
from src.pipeline import update as upd
from src.utils.io import sha256_file
from tests.harness.launcher import copy_workspace
from tests.update_batches import (
    artifact_hashes,
    batch_rows,
    credits_frame,
    kaggle_frame,
    write_batch,
)

BASE_ID = 7_000_000  # far above the synthetic catalogue's ids


@pytest.fixture()
def ws(synthetic_pipeline: Paths, tmp_path) -> Paths:
    """A private copy of the synthetic workspace."""
    return copy_workspace(synthetic_pipeline, tmp_path / "ws")



def _check_invariant(rep: dict) -> None:
    """Every input row is accounted for exactly once in the batch report."""
    total = (rep["added"] + rep["updated"] + rep["unchanged"] + sum(rep["quarantined"].values())
             + rep["duplicates_dropped"])
    assert total == rep["rows_in"], rep


def _big_batch(tmp_path, seed=3):
    """500 movies + 50 series with one top-rated War title per media type; written to disk."""
    rows = batch_rows(BASE_ID, n_movies=500, n_series=50, seed=seed)
    # One blockbuster per media type: it must top the cold-start list of its genre at once.
    for r in (rows[0], rows[500]):
        r.update(vote_average=9.8, vote_count=60_000, popularity=2_000.0,
                 genres=[{"id": 10752, "name": "War"}])
    return rows, write_batch(tmp_path / "batch", "big", rows)


@pytest.mark.slow  # a real server / 550-title batches end to end (~4-7 s)
def test_add_500_movies_and_50_series_then_rerun_is_a_noop(ws, tmp_path):
    before = pd.read_csv(ws.merged, dtype=str, keep_default_na=False)
    rows, files = _big_batch(tmp_path)
    rep = upd.main(**files, paths=ws)

    assert rep["status"] == "applied"
    assert rep["added"] == 550 and rep["updated"] == 0 and rep["quarantined"] == {}
    assert rep["by_media_type"]["added"] == {"movie": 500, "series": 50}
    _check_invariant(rep)
    assert rep["inputs"]["movies"]["sha256"] == sha256_file(files["movies"])
    saved = json.loads((ws.updates / f"{rep['timestamp']}.json").read_text())
    assert saved["added_ids"] == [r["id"] for r in rows]

    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False)
    assert len(merged) == len(before) + 550 and merged[ID_COL].is_unique
    feats = pd.read_parquet(ws.features).set_index(ID_COL)
    new = feats.loc[[r["id"] for r in rows]]
    assert new["score_final"].notna().all()
    assert (new["media_type"] == ["movie"] * 500 + ["series"] * 50).all()
    series = new[new["media_type"] == "series"]
    assert series["number_of_seasons"].notna().all() and (series["number_of_episodes"] > 0).all()
    assert new.loc[BASE_ID + 1, "directors"] == f"Dir {BASE_ID + 1}"  # credits flowed through
    # Old titles keep their score (fixed scales): adding titles must not reshuffle them.
    old_feats = feats.drop(index=[r["id"] for r in rows])
    assert len(old_feats) == len(before)
    # Interim tables hold the new ids too.
    genres_tables = [p for p in ws.interim.glob("*genre*.csv")]
    assert genres_tables, list(ws.interim.iterdir())
    g = pd.read_csv(genres_tables[0], dtype=str)
    assert str(BASE_ID) in set(g[ID_COL])

    from src.models.predict_model import Recommender

    rec = Recommender.load(ws)
    top_war = rec.cold_start(["War"], n=5)
    assert int(top_war.iloc[0]["id"]) in (BASE_ID, BASE_ID + 500)
    only_series = rec.cold_start(n=10, media_type="series")
    assert len(only_series) == 10 and set(only_series["media_type"]) == {"series"}
    assert int(only_series.iloc[0]["id"]) == BASE_ID + 500
    # Content similarity covers new titles at once (no ratings needed).
    assert len(rec.similar_titles(BASE_ID + 1, n=5)) == 5

    # Same batch again: nothing changes, and the report says so.
    shas = artifact_hashes(ws)
    again = upd.main(**files, paths=ws)
    assert again["status"] == "unchanged" and again["unchanged"] == 550
    assert again["added"] == 0 and again["updated"] == 0
    _check_invariant(again)
    assert artifact_hashes(ws) == shas


def test_changed_vote_count_updates_only_that_field_and_score_final(ws, tmp_path):
    rows = batch_rows(BASE_ID, n_movies=20, seed=5)
    files = write_batch(tmp_path / "b1", "b1", rows)
    upd.main(**files, paths=ws)
    score_before = pd.read_parquet(ws.features).set_index(ID_COL)["score_final"]
    for r in rows[:3]:
        r["vote_count"] = r["vote_count"] * 10 + 1000
    # Without credits/keywords files: directors/cast/keywords must be kept, not blanked.
    files2 = write_batch(tmp_path / "b2", "b2", rows, credits=False, keywords=False)
    rep = upd.main(**files2, paths=ws)
    assert rep["updated"] == 3 and rep["unchanged"] == 17 and rep["added"] == 0
    assert rep["updated_ids"] == {str(r["id"]): ["vote_count"] for r in rows[:3]}
    feats = pd.read_parquet(ws.features).set_index(ID_COL)
    for r in rows[:3]:
        assert feats.loc[r["id"], "vote_count"] == r["vote_count"]
        assert feats.loc[r["id"], "score_final"] > score_before[r["id"]]
        assert feats.loc[r["id"], "directors"] == f"Dir {r['id']}"
    for r in rows[3:]:
        assert feats.loc[r["id"], "score_final"] == score_before[r["id"]]


def test_existing_etl_rows_fed_back_unchanged_are_unchanged(ws, tmp_path):
    """Rows of the raw file the ETL built the catalogue from are recognised as unchanged."""
    from src.data.readers import find_raw_inputs

    raw = pd.read_csv(find_raw_inputs(ws.raw)["movies"], dtype=str, keep_default_na=False)
    merged_ids = set(pd.read_csv(ws.merged, usecols=[ID_COL])[ID_COL].astype(str))
    clean = raw[raw[ID_COL].isin(merged_ids)].drop_duplicates(ID_COL, keep=False).head(40)
    path = tmp_path / "same.csv"
    clean.to_csv(path, index=False)
    rep = upd.main(movies=path, paths=ws)
    assert rep["status"] == "unchanged" and rep["unchanged"] == len(clean), rep["updated_ids"]


def test_broken_rows_are_quarantined_exactly(ws, tmp_path):
    rows = batch_rows(BASE_ID, n_movies=10, seed=7)
    frame = kaggle_frame(rows).astype(object)  # object: ids get text like "abc" below
    frame["media_type"] = "movie"
    bad = frame.iloc[:5].copy()
    existing_movie = int(pd.read_csv(ws.merged, usecols=[ID_COL])[ID_COL].iloc[0])
    bad.loc[bad.index[0], "id"] = "abc"                                   # not an integer
    bad.loc[bad.index[1], "id"] = ""                                      # missing
    bad.loc[bad.index[2], "genres"] = "[__import__('os').system('echo pwned')]"  # code, not data
    bad.loc[bad.index[3], "media_type"] = "podcast"                       # unknown media type
    bad.loc[bad.index[4], ["id", "media_type"]] = [str(existing_movie), "series"]  # id clash
    bad["title"] = [f"Qzbroken {i}" for i in range(5)]
    path = tmp_path / "broken.csv"
    pd.concat([frame.iloc[5:], bad]).to_csv(path, index=False)

    rep = upd.main(movies=path, paths=ws)
    _check_invariant(rep)
    assert rep["added"] == 5 and sum(rep["quarantined"].values()) == 5, rep["quarantined"]
    assert rep["quarantined"].get("id_media_type_conflict") == 1
    assert any(k.startswith("unparseable_nested") and "genres" in k for k in rep["quarantined"])
    q = pd.read_csv(ws.root / rep["quarantine_file"], dtype=str, keep_default_na=False)
    assert sorted(q["title"]) == [f"Qzbroken {i}" for i in range(5)]
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index(ID_COL)
    assert not merged["title"].str.startswith("Qzbroken").any()
    assert merged.loc[str(existing_movie), "media_type"] == "movie"  # not overwritten


def test_tmdb_json_schema_batch_and_tv_names(ws, tmp_path):
    rows = batch_rows(BASE_ID, n_movies=30, seed=9)
    files = write_batch(tmp_path / "tmdb", "tmdb", rows, schema="tmdb", credits=False)
    rep = upd.main(**files, paths=ws)
    assert rep["added"] == 30 and rep["quarantined"] == {}
    feats = pd.read_parquet(ws.features).set_index(ID_COL)
    r0 = rows[0]
    assert feats.loc[r0["id"], "title"] == r0["title"]
    assert set(feats.loc[r0["id"], "keywords"].split("|")) == {k["name"] for k in r0["keywords"]}
    assert set(feats.loc[r0["id"], "genres"].split("|")) == {g["name"] for g in r0["genres"]}

    # TMDB TV column names: name -> title, first_air_date -> release_date.
    tv = batch_rows(BASE_ID + 1000, n_movies=0, n_series=3, seed=11)
    frame = kaggle_frame(tv).rename(columns={"title": "name"})
    frame["release_date"] = ""
    path = tmp_path / "tv.csv"
    frame.to_csv(path, index=False)
    rep = upd.main(movies=path, paths=ws)
    assert rep["added"] == 3, rep
    feats = pd.read_parquet(ws.features).set_index(ID_COL)
    assert feats.loc[tv[0]["id"], "title"] == tv[0]["title"]
    assert feats.loc[tv[0]["id"], "release_date"] == tv[0]["first_air_date"]
    assert feats.loc[tv[0]["id"], "media_type"] == "series"


def test_inbox_moves_files_and_is_cron_friendly(ws, tmp_path):
    ok_rows = batch_rows(BASE_ID, n_movies=8, n_series=2, seed=13)
    write_batch(ws.inbox, "2024-01-01-good", ok_rows)
    (ws.inbox / "2024-01-02-junk.csv").write_text("this,is,not\n1,a,catalogue\n")
    credits_frame(ok_rows[:1]).to_csv(ws.inbox / "2024-01-03-orphan.credits.csv", index=False)
    (ws.inbox / "2024-01-04-upload.csv.part").write_text("half written")

    out = upd.main(inbox=True, paths=ws)
    status = {b["stem"]: b["status"] for b in out["batches"]}
    assert status == {"2024-01-01-good": "applied", "2024-01-02-junk": "failed",
                      "2024-01-03-orphan": "failed"}
    processed = sorted(p.name for p in (ws.inbox / "processed").iterdir())
    failed = sorted(p.name for p in (ws.inbox / "failed").iterdir())
    assert [n.split("-", 1)[1] for n in processed] == [
        "2024-01-01-good.credits.csv", "2024-01-01-good.csv", "2024-01-01-good.keywords.csv"]
    assert any(n.endswith("2024-01-02-junk.error.txt") for n in failed)
    assert any(n.endswith("2024-01-02-junk.csv") for n in failed)
    assert any(n.endswith("2024-01-03-orphan.credits.csv") for n in failed)
    err = next(p for p in (ws.inbox / "failed").iterdir() if p.name.endswith("junk.error.txt"))
    assert "schema" in err.read_text() or "column" in err.read_text()
    assert sorted(p.name for p in ws.inbox.iterdir() if p.is_file()) == ["2024-01-04-upload.csv.part"]
    merged = pd.read_csv(ws.merged, usecols=[ID_COL])
    assert set(r["id"] for r in ok_rows) <= set(merged[ID_COL])

    # Nothing left: exit quietly; a concurrent run is refused without error.
    shas = artifact_hashes(ws)
    assert upd.main(inbox=True, paths=ws)["status"] == "empty"
    write_batch(ws.inbox, "2024-01-05-more", batch_rows(BASE_ID + 100, n_movies=2, seed=17))
    with update_lock(ws):
        assert upd.main(inbox=True, paths=ws)["status"] == "locked"
    assert (ws.inbox / "2024-01-05-more.csv").exists() and artifact_hashes(ws) == shas


def test_retrain_threshold_counts_new_feedback(ws, tmp_path, monkeypatch):
    from src.data.feedback_store import RatingStore
    from src.models.bundle import read_current_manifest

    created = read_current_manifest(ws)["metadata"]["created_at"]
    item = int(pd.read_csv(ws.merged, usecols=[ID_COL])[ID_COL].iloc[0])
    time.sleep(1.1)  # feedback strictly after the model's created_at (second resolution)
    with RatingStore(ws.ratings_db) as st:
        for u in range(5):
            st.upsert(900_000 + u, item, 4.0)
    skipped = upd.maybe_retrain(ws, min_new=10)
    assert skipped["retrained"] is False and skipped["new_ratings"] == 5
    assert "threshold 10" in skipped["reason"]
    done = upd.maybe_retrain(ws, min_new=5)
    assert done["retrained"] is True
    assert read_current_manifest(ws)["metadata"]["created_at"] >= created
    assert upd.maybe_retrain(ws, min_new=5)["new_ratings"] == 0


@pytest.mark.slow  # a real server / 550-title batches end to end (~4-7 s)
def test_running_server_serves_new_titles_after_reload(ws, tmp_path):
    from tests.harness.launcher import ServerProcess

    rows = batch_rows(BASE_ID, n_movies=5, n_series=1, seed=19)
    files = write_batch(tmp_path / "srv", "srv", rows)
    marker = rows[-1]["title"]
    with ServerProcess(ws, ui=False, log_path=tmp_path / "server.log") as srv:
        def search():
            """Titles matching the marker through the running API."""
            r = httpx.get(srv.base_url + "/movies", params={"query": marker}, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()

        assert search() == []
        rep = upd.main(**files, paths=ws, server_url=srv.base_url)
        assert rep["reload"]["status"] == 200, rep["reload"]
        hits = search()
        assert [h["id"] for h in hits] == [rows[-1]["id"]]
        assert hits[0]["media_type"] == "series"
        r = httpx.get(srv.base_url + "/movies", params={"media_type": "series", "limit": 100}, timeout=10)
        assert {m["id"] for m in r.json()} == {rows[-1]["id"]}
