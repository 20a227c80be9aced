"""Unit tests of the updater's own pieces: diffing, the journal swap, the inbox, the lock,
and the server notification (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import http.server
import io
import json
import multiprocessing
import threading

import pandas as pd
import pytest

from src.data import catalogue_store as store
from src.data.catalogue_diff import cells_equal, merge_batch, supplied_columns
from src.pipeline.inbox import file_batch, scan_inbox
from src.pipeline.update import maybe_retrain, notify_server
from src.pipeline.update_etl import prepare_batch
from tests.update_batches import batch_rows, write_batch

CUR = """id,media_type,title,vote_count,genres,directors,cast,has_credits,keywords,has_keywords,imdb_id
1,movie,A,10.0,Drama|Comedy,X,P|Q,True,k,True,tt1
2,movie,B,,Horror,,,False,,False,tt2
"""


def _frame(text: str) -> pd.DataFrame:
    """A merged-schema frame from CSV text."""
    return pd.read_csv(io.StringIO(text))


def test_merge_batch_adds_updates_and_keeps_unsupplied_columns():
    cur = _frame(CUR)
    batch = _frame("""id,media_type,title,vote_count,genres,directors,cast,has_credits,keywords,has_keywords,imdb_id
1,movie,A,12,Drama|Comedy,,,False,k2,True,
2,movie,B,,Horror,,,False,,False,
3,series,C,5,Drama,,,False,,False,
""")
    # A tmdb-style header: no imdb_id column, so imdb_id must be kept, not blanked.
    sup = supplied_columns(list(cur.columns), ["id", "title", "vote_count", "genres"])
    assert "imdb_id" not in sup and "media_type" in sup and "title" in sup
    r = merge_batch(cur, batch, sup)
    assert r["added"] == [3]
    # vote_count changed; keywords supplied (has_keywords) and changed; credits not supplied.
    assert r["updated"] == {1: ["vote_count", "keywords"]}
    assert r["unchanged"] == [2]
    m = r["merged"].set_index("id")
    assert list(r["merged"]["id"]) == [1, 2, 3]
    assert m.loc[1, "imdb_id"] == "tt1" and m.loc[1, "directors"] == "X"
    assert float(m.loc[1, "vote_count"]) == 12.0 and m.loc[1, "keywords"] == "k2"
    # Idempotent: merging the same batch into the result changes nothing.
    again = merge_batch(r["merged"], batch, sup)
    assert again["added"] == [] and again["updated"] == {} and sorted(again["unchanged"]) == [1, 2, 3]


def test_cells_equal_across_dtypes():
    a = pd.Series([1.0, None, "", 3.5, True])
    b = pd.Series(["1", "", None, "3.50", "True"])
    assert cells_equal(pd.Series([1.0, float("nan"), 3.5]), pd.Series([1, None, 3.5])).all()
    assert cells_equal(pd.Series(["x", "", None]), pd.Series(["x", None, ""])).all()
    assert not cells_equal(pd.Series([1.0]), pd.Series(["abc"])).any()
    assert not cells_equal(pd.Series(["x"]), pd.Series([""])).any()
    assert cells_equal(pd.Series([True, False]), pd.Series(["True", "false"])).all()
    assert len(cells_equal(a, b)) == 5


def test_merge_batch_rejects_duplicate_ids_and_missing_columns():
    cur = _frame(CUR)
    with pytest.raises(ValueError, match="id"):
        merge_batch(cur, pd.concat([cur, cur]), [])
    with pytest.raises(ValueError, match="lacks catalogue columns"):
        merge_batch(cur, cur[["id", "title"]], [])


def _ws(tmp_path):
    """An empty workspace in ``tmp_path``."""
    from src.config import Paths

    return Paths.from_root(tmp_path).ensure()


def test_commit_swaps_all_files_and_cleans_up(tmp_path):
    paths = _ws(tmp_path)
    a, b = paths.merged, paths.interim / "genres.csv"
    a.write_text("old-a")
    gen = store.new_generation(paths)
    (gen / "a").write_text("new-a")
    (gen / "b").write_text("new-b")
    shas = store.commit(paths, {a: gen / "a", b: gen / "b"})
    assert a.read_text() == "new-a" and b.read_text() == "new-b"
    assert set(shas) == {"data/processed/merged_data6.csv", "data/interim/genres.csv"}
    assert not store.journal_path(paths).exists() and not store.staging_root(paths).exists()


def test_recover_rolls_forward_a_committed_journal(tmp_path):
    paths = _ws(tmp_path)
    a, b = paths.merged, paths.features
    a.write_text("old-a")
    b.write_text("old-b")
    gen = store.new_generation(paths)
    (gen / "a").write_text("new-a")
    (gen / "b").write_text("new-b")
    # Simulate a crash after the first rename: journal present, a swapped, b not.
    from src.utils.io import sha256_file, write_json_atomic

    entries = [{"target": str(t.relative_to(paths.root)), "staged": str(s.relative_to(paths.root)),
                "sha256": sha256_file(s), "previous_sha256": sha256_file(t)}
               for t, s in ((a, gen / "a"), (b, gen / "b"))]
    write_json_atomic({"files": entries}, store.journal_path(paths))
    (gen / "a").replace(a)
    assert store.recover(paths)["action"] == "rolled_forward"
    assert a.read_text() == "new-a" and b.read_text() == "new-b"
    assert store.recover(paths)["action"] == "none"


def test_recover_refuses_to_clobber_a_target_rewritten_since(tmp_path):
    paths = _ws(tmp_path)
    a = paths.merged
    a.write_text("old-a")
    gen = store.new_generation(paths)
    (gen / "a").write_text("new-a")
    from src.utils.io import sha256_file, write_json_atomic

    write_json_atomic({"files": [{"target": "data/processed/merged_data6.csv",
                                  "staged": str((gen / "a").relative_to(paths.root)),
                                  "sha256": sha256_file(gen / "a"),
                                  "previous_sha256": sha256_file(a)}]}, store.journal_path(paths))
    a.write_text("rewritten by the ETL")
    with pytest.raises(store.JournalConflictError, match="merged_data6.csv"):
        store.recover(paths)
    assert a.read_text() == "rewritten by the ETL"


def test_recover_discards_uncommitted_staging(tmp_path):
    paths = _ws(tmp_path)
    paths.merged.write_text("old")
    gen = store.new_generation(paths)
    (gen / "a").write_text("half")
    assert store.recover(paths)["action"] == "discarded_staging"
    assert paths.merged.read_text() == "old" and not store.staging_root(paths).exists()


def _hold_lock(root, ready, release):
    """Child process: hold the update lock until told to release it."""
    from src.config import Paths

    with store.update_lock(Paths.from_root(root)):
        ready.set()
        release.wait(20)


def test_lock_excludes_a_second_process_and_is_released(tmp_path):
    paths = _ws(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        with pytest.raises(store.UpdateLockedError):
            with store.update_lock(paths):
                pass
    finally:
        release.set()
        proc.join(30)
    with store.update_lock(paths):  # free again once the holder exited
        pass


def test_scan_inbox_groups_siblings_and_skips_uploads(tmp_path):
    paths = _ws(tmp_path)
    for name in ("b.csv", "a.csv.gz", "a.credits.csv.gz", "b.keywords.csv", "b.credits.csv",
                 "c.credits.csv", ".hidden.csv", "d.csv.part", "notes.txt"):
        (paths.inbox / name).write_text("x")
    batches = {b.stem: b for b in scan_inbox(paths)}
    assert list(batches) == sorted(batches)
    assert batches["a"].movies.name == "a.csv.gz" and batches["a"].credits.name == "a.credits.csv.gz"
    assert batches["b"].keywords.name == "b.keywords.csv" and batches["b"].credits.name == "b.credits.csv"
    assert batches["c"].movies is None and batches["c"].credits is not None
    assert batches["notes.txt"].movies is None
    assert not any(k.startswith(".") or k.startswith("d") for k in batches)
    moved = file_batch(paths, batches["c"], ok=False, error="no movies")
    assert all(p.parent.name == "failed" for p in moved)
    assert any(p.name.endswith("c.error.txt") for p in (paths.inbox / "failed").iterdir())
    assert not (paths.inbox / "c.credits.csv").exists()


class _Handler(http.server.BaseHTTPRequestHandler):
    """A stand-in server that records the paths POSTed to it and answers 200."""

    calls: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        """Record the path, answer 200 with a small JSON body."""
        type(self).calls.append(self.path)
        body = json.dumps({"status": "reloaded"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Silence the per-request log lines."""
        pass


def test_notify_server_posts_reload_and_survives_a_dead_server():
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        assert notify_server(url)["status"] == 200
        assert _Handler.calls[-1] == "/admin/reload"
    finally:
        srv.shutdown()
        srv.server_close()
    dead = notify_server(url, timeout=1.0)  # same port, nobody listening now
    assert "error" in dead


def test_notify_server_skips_without_url(monkeypatch):
    monkeypatch.delenv("STREAMREC_SERVER_URL", raising=False)
    assert notify_server(None)["url"] is None


def test_maybe_retrain_skips_without_model_or_enough_ratings(tmp_path):
    paths = _ws(tmp_path)
    out = maybe_retrain(paths)
    assert out["retrained"] is False and "no model" in out["reason"]


def test_prepare_batch_counts_malformed_lines_of_every_file(tmp_path):
    """A record with too many fields is quarantined and counted as read, in the movies file
    and in the credits file alike (rows_in = rows_out + quarantined + duplicates)."""
    files = write_batch(tmp_path, "b", batch_rows(900000, n_movies=4, seed=5), keywords=False)
    for kind in ("movies", "credits"):
        with open(files[kind], "a") as fh:
            fh.write("1,2,3" + ",x" * 40 + "\n")  # more fields than the header
    batch = prepare_batch(files["movies"], files["credits"], None, "b.csv")
    assert batch.rows_in == 5 and len(batch.merged) == 4
    assert batch.quarantine["reason"].tolist() == ["wrong_field_count"]
    st = batch.side_stats["credits"]
    assert (st["rows_in"], st["rows_out"], st["quarantined"]) == (5, 4, {"wrong_field_count": 1})
    assert batch.side_quarantine["source"].tolist() == ["b.credits.csv"]

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        prepare_batch(empty, None, None, "empty.csv")
