"""Tests of the SQLite ratings store: upsert/delete/read, validation, durability settings,
concurrent writers and the DataFrame the trainer reads."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.config import ITEM_ID_COL, RATING_COL, TIMESTAMP_COL, USER_COL
from src.data.feedback_store import (
    RatingStore,
    validate_id,
    validate_int,
    validate_rating,
)


@pytest.fixture()
def store(workspace):
    """A fresh store at the workspace's ratings_db path."""
    s = RatingStore(workspace.ratings_db)
    yield s
    s.close()


def test_upsert_read_delete_roundtrip(store):
    row = store.upsert(7, 550, 4.5)
    assert row["rating"] == 4.5 and row["timestamp"] > 0
    store.upsert(7, 13, 2.0)
    store.upsert(8, 550, 1.0)
    assert store.for_user(7) == {550: 4.5, 13: 2.0}
    # Upsert replaces, it does not duplicate.
    store.upsert(7, 550, 3.0)
    assert store.for_user(7) == {550: 3.0, 13: 2.0}
    assert store.count() == 3
    assert store.delete(7, 13) is True
    assert store.delete(7, 13) is False
    assert store.for_user(7) == {550: 3.0}
    assert store.for_user(999) == {}
    assert [r["movie_id"] for r in store.rows_for_user(8)] == [550]


def test_all_ratings_frame_for_trainer(store):
    empty = store.all_ratings()
    assert list(empty.columns) == [USER_COL, ITEM_ID_COL, RATING_COL, TIMESTAMP_COL]
    assert len(empty) == 0 and str(empty[ITEM_ID_COL].dtype) == "int64"
    store.upsert(2, 10, 5.0)
    store.upsert(1, 11, 0.5)
    df = store.all_ratings()
    assert df[[USER_COL, ITEM_ID_COL, RATING_COL]].values.tolist() == [[1, 11, 0.5], [2, 10, 5.0]]
    assert str(df[RATING_COL].dtype) == "float64"


def test_durability_pragmas_and_reopen(workspace):
    s = RatingStore(workspace.ratings_db)
    s.upsert(1, 2, 3.5)
    s.close()
    # A separate plain sqlite3 connection sees the committed row and the WAL journal mode.
    con = sqlite3.connect(workspace.ratings_db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT rating FROM ratings").fetchall() == [(3.5,)]
    con.close()
    again = RatingStore(workspace.ratings_db)
    assert again._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # 2 = FULL
    assert again.for_user(1) == {2: 3.5}
    again.close()


@pytest.mark.parametrize(
    "user_id, movie_id, rating, field",
    [
        (1, 2, 5.5, "rating"), (1, 2, 0.0, "rating"), (1, 2, 3.3, "rating"),
        (1, 2, float("nan"), "rating"), (1, 2, "abc", "rating"), (1, 2, True, "rating"),
        (-1, 2, 3.0, "user_id"), ("x", 2, 3.0, "user_id"), (1.5, 2, 3.0, "user_id"),
        (1, 2**63, 3.0, "movie_id"), (1, None, 3.0, "movie_id"), (1, True, 3.0, "movie_id"),
    ],
)
def test_bad_input_names_the_field(store, user_id, movie_id, rating, field):
    with pytest.raises(ValueError, match=field):
        store.upsert(user_id, movie_id, rating)
    assert store.count() == 0


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_validate_rating_accepts_exactly_half_steps(x):
    ok = x == x and 0.5 <= x <= 5.0 and (x * 2).is_integer()
    if ok:
        assert validate_rating(x) == x
    else:
        with pytest.raises(ValueError, match="rating"):
            validate_rating(x)


def test_validate_id_accepts_int_strings():
    assert validate_id("42", "user_id") == 42
    assert validate_id(3.0, "movie_id") == 3


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2.5, True, "ten", None, 0, 101])
def test_validate_int_refuses_non_counts(value):
    with pytest.raises(ValueError, match="^n must be"):
        validate_int(value, "n", 1, 100)
    assert validate_int(100.0, "n", 1, 100) == 100


def test_concurrent_writers_lose_nothing(store):
    def writer(uid: int) -> None:
        for mid in range(50):
            store.upsert(uid, mid, 0.5 + (mid % 10) * 0.5)

    threads = [threading.Thread(target=writer, args=(u,)) for u in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 8 * 50
    assert store.for_user(3)[9] == 5.0
