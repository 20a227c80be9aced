"""The account store (real SQLite files) and the ratings store's provenance migration."""

from __future__ import annotations

import sqlite3
import time

import pytest

from src.config import VIEWER_ID_BASE, VIEWER_ID_SPAN
from src.data.accounts_store import AccountStore, UsernameTaken
from src.data.feedback_store import RatingStore
from src.serving.ratelimit import RateLimited, TokenBucket


@pytest.fixture()
def accounts(tmp_path):
    with AccountStore(tmp_path / "accounts.db") as store:
        yield store


def test_accounts_ids_logins_and_sessions(accounts, tmp_path):
    a = accounts.create_account("alice", "password-1")
    b = accounts.create_account("bob", "password-2")
    assert a != b and all(VIEWER_ID_BASE <= u < VIEWER_ID_BASE + VIEWER_ID_SPAN for u in (a, b))
    with pytest.raises(UsernameTaken):
        accounts.create_account("Alice", "password-3")
    for name, pw in (("al", "password-1"), ("a b c", "password-1"), ("carol", "short"), (None, "x" * 9)):
        with pytest.raises(ValueError):
            accounts.create_account(name, pw)
    assert accounts.verify_login("alice", "password-1") == a
    assert accounts.verify_login("ALICE", "password-1") == a  # usernames are case-insensitive
    assert accounts.verify_login("alice", "password-2") is None
    assert accounts.verify_login("nobody", "password-1") is None
    assert accounts.verify_login("alice", 123) is None
    token, csrf = accounts.new_session(a, "web")
    s = accounts.session(token)
    assert s.user_id == a and s.kind == "web" and s.csrf == csrf and s.username == "alice"
    assert accounts.session(token + "x") is None and accounts.session(None) is None
    # Only the SHA-256 of the token is stored.
    con = sqlite3.connect(tmp_path / "accounts.db")
    stored = [r[0] for r in con.execute("SELECT token_hash FROM sessions")]
    con.close()
    assert token not in stored and len(stored[0]) == 64
    accounts.end_session(token)
    assert accounts.session(token) is None


def test_expired_sessions_do_not_open(accounts):
    uid = accounts.create_account("dora", "password-1")
    token, _ = accounts.new_session(uid)
    accounts._exec("UPDATE sessions SET expires_at = ?", (int(time.time()) - 1,))
    assert accounts.session(token) is None
    assert accounts.purge_expired() == 1


def test_watchlist_services_genres(accounts):
    uid = accounts.create_account("erin", "password-1")
    first = accounts.watchlist_add(uid, 10)
    assert accounts.watchlist_add(uid, 10)["added_at"] == first["added_at"]
    accounts.watchlist_add(uid, 11)
    assert {w["movie_id"] for w in accounts.watchlist(uid)} == {10, 11}
    assert accounts.watchlist_remove(uid, 10) and not accounts.watchlist_remove(uid, 10)
    assert accounts.set_services(uid, ["Netflix", "Hulu", "Netflix"]) == ["Hulu", "Netflix"]
    assert accounts.set_services(uid, []) == []
    for bad in ("Netflix", ["x" * 65], [""], [1], ["a\x00b"]):
        with pytest.raises(ValueError):
            accounts.set_services(uid, bad)
    assert accounts.set_genres(uid, ["Drama"]) == ["Drama"]


def test_old_ratings_db_is_migrated_in_place(tmp_path):
    """A ratings.db from before accounts (no sent_by/client) opens, keeps its rows, and
    records provenance from then on."""
    path = tmp_path / "ratings.db"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE ratings (user_id INTEGER NOT NULL, movie_id INTEGER NOT NULL, "
                      "rating REAL NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (user_id, movie_id)) "
                      "WITHOUT ROWID; INSERT INTO ratings VALUES (7, 42, 4.0, 1000);")
    con.close()
    with RatingStore(path) as store:
        assert store.for_user(7) == {42: 4.0}
        assert store.provenance(7, 42) == {"sent_by": None, "client": "legacy", "timestamp": 1000}
        store.upsert(VIEWER_ID_BASE + 5, 42, 3.5, sent_by=VIEWER_ID_BASE + 5, client="web")
        assert store.provenance(VIEWER_ID_BASE + 5, 42)["client"] == "web"
        with pytest.raises(ValueError):
            store.upsert(1, 42, 3.0, client="telnet")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()
    with RatingStore(path) as again:  # a second open does not migrate twice
        assert again.count() == 2


def test_token_bucket_refuses_then_refills():
    bucket = TokenBucket(burst=2, per_s=50.0, what="tries")
    bucket.take("k")
    bucket.take("k")
    with pytest.raises(RateLimited) as exc:
        bucket.take("k")
    assert exc.value.retry_after >= 1 and "tries" in str(exc.value)
    bucket.take("other")  # keys are independent
    time.sleep(0.05)
    bucket.take("k")  # refilled
    TokenBucket(1, 1.0, enabled=False).take("k")
    TokenBucket(1, 1.0, enabled=False).take("k")
