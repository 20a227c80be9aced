"""SQLite store of the ratings viewers give through the API and the web UI.

The file lives at ``Paths.ratings_db``. It runs in WAL mode with ``synchronous=FULL`` so that
a rating the API has acknowledged is on disk before the reply leaves, and survives the server
being killed (SIGKILL) or the machine losing power. A user rates a title once: a second rating
of the same ``(user_id, movie_id)`` replaces the first (upsert) and refreshes its timestamp.
Each row records who sent it (``sent_by``: the signed-in account, NULL for rows older than
accounts) and through which front end (``client``: "api", "web", "ui"; "legacy" for old rows).
Schema changes are migrations keyed on ``PRAGMA user_version`` (see :data:`_MIGRATIONS`), so an
existing ``ratings.db`` is upgraded in place when the server opens it.

The trainer reads :meth:`RatingStore.all_ratings` so that viewer feedback reaches the next
model; the serving layer reads :meth:`RatingStore.for_user` on each recommendation request
(fold-in, no retraining).
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd

from src.config import ITEM_ID_COL, RATING_COL, RATING_SCALE, TIMESTAMP_COL, USER_COL
from src.utils.logging import get_logger
from src.utils.numbers import parse_canonical_decimal, parse_canonical_int

log = get_logger(__name__)

# SQLite INTEGER is a signed 64-bit value; larger Python ints would raise OverflowError deep
# inside sqlite3, so ids are checked against this bound up front.
MAX_ID = 2**63 - 1
RATING_STEP = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    user_id   INTEGER NOT NULL,
    movie_id  INTEGER NOT NULL,
    rating    REAL    NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;
"""
# Migration n (0-based) takes a database from user_version n to n + 1. Version 1 (issue 12):
# who sent each rating and through which client.
_MIGRATIONS = (
    "ALTER TABLE ratings ADD COLUMN sent_by INTEGER;"
    "ALTER TABLE ratings ADD COLUMN client TEXT NOT NULL DEFAULT 'legacy';",
)
CLIENTS = ("api", "web", "ui")


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, so an error message never echoes megabytes
    (or a 400-digit number, whose repr alone Python may refuse to build)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_int(value: object, field: str, lo: int, hi: int) -> int:
    """Return ``value`` as an int in ``lo..hi``, else raise ValueError naming ``field``.

    Canonical ASCII integer strings ("42"; not " 42", "+42", "4_2" or "４２": see
    :mod:`src.utils.numbers`) and whole floats (3.0) are accepted; booleans and floats with a
    fraction (or inf/NaN) are refused: ``True`` is not a user id, and ``3.5`` is not a count.
    """
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{field} must be an integer, got {value!r}")
    try:
        as_int = parse_canonical_int(value) if isinstance(value, str) else int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{field} must be an integer, got {_short(value)}") from None
    if not lo <= as_int <= hi:
        raise ValueError(f"{field} must be between {lo} and {hi}, got {_short(as_int)}")
    return as_int


def validate_id(value: object, field: str) -> int:
    """Return ``value`` as an int id in 0..2**63-1 (see :func:`validate_int`)."""
    return validate_int(value, field, 0, MAX_ID)


def validate_rating(value: object, field: str = "rating") -> float:
    """Return ``value`` as a float on the 0.5–5.0 scale in 0.5 steps, else raise ValueError.

    In: anything a client might send. Out: the rating as float. The error names ``field``.
    """
    lo, hi = RATING_SCALE
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number, got {value!r}")
    try:
        # Text only in canonical ASCII ("4.5", not "４" or " 4"); an int too big for a float
        # (1 followed by 400 zeros) raises OverflowError, which is a bad value, not a crash.
        as_float = parse_canonical_decimal(value) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{field} must be a number, got {_short(value)}") from None
    if not math.isfinite(as_float) or not lo <= as_float <= hi:
        raise ValueError(f"{field} must be between {lo} and {hi}, got {_short(value)}")
    # Compare in half-steps so that 3.5 passes and 3.3 or 3.49999 do not.
    if not math.isclose(as_float / RATING_STEP, round(as_float / RATING_STEP), abs_tol=1e-9):
        raise ValueError(f"{field} must be a multiple of {RATING_STEP}, got {_short(value)}")
    return round(as_float / RATING_STEP) * RATING_STEP


class RatingStore:
    """Thread-safe ratings table in one SQLite file (locked writer, per-thread readers).

    In: the database path (created with its folder if missing). Every method validates its
    arguments and raises ValueError naming the bad field.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Writes share one connection behind a lock (SQLite has one writer at a time anyway).
        # Reads use one connection per thread: in WAL mode readers never wait for a writer's
        # fsync, so a recommendation request is not held up by someone else's rating.
        self._lock = threading.Lock()
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._conn = self._connect()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
            self._migrate()
        log.info("rating store %s opened (%d ratings)", self.path, self.count())

    def _migrate(self) -> None:
        """Apply the migrations this file has not had yet, each in one transaction."""
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        for target, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            # executescript commits first; BEGIN..COMMIT makes columns + version one step.
            self._conn.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {target}; COMMIT;")
            log.info("rating store %s migrated to schema version %d", self.path, target)

    def _connect(self) -> sqlite3.Connection:
        """Open one connection with the durability settings (autocommit; FULL sync)."""
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        # FULL: the WAL is fsynced at every commit, so an acknowledged rating is durable.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # --- writes ---
    def upsert(self, user_id: int, movie_id: int, rating: float, sent_by: int | None = None,
               client: str = "api") -> dict:
        """Store ``rating`` of ``movie_id`` by ``user_id`` (replacing an earlier one).

        ``sent_by`` is the account that sent it (None: an operator/tool), ``client`` one of
        :data:`CLIENTS`. Out: the stored row as a dict ``{user_id, movie_id, rating,
        timestamp}``; it is on disk (committed and fsynced) when this returns.
        """
        uid = validate_id(user_id, "user_id")
        mid = validate_id(movie_id, "movie_id")
        value = validate_rating(rating)
        sender = None if sent_by is None else validate_id(sent_by, "sent_by")
        if client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}, got {client!r}")
        ts = int(time.time())
        with self._lock:
            self._conn.execute(
                "INSERT INTO ratings (user_id, movie_id, rating, timestamp, sent_by, client) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, movie_id) DO UPDATE SET "
                "rating = excluded.rating, timestamp = excluded.timestamp, "
                "sent_by = excluded.sent_by, client = excluded.client",
                (uid, mid, value, ts, sender, client),
            )
        return {"user_id": uid, "movie_id": mid, "rating": value, "timestamp": ts}

    def delete(self, user_id: int, movie_id: int) -> bool:
        """Remove one rating. Out: True when it existed, False when there was nothing to delete."""
        uid = validate_id(user_id, "user_id")
        mid = validate_id(movie_id, "movie_id")
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM ratings WHERE user_id = ? AND movie_id = ?", (uid, mid)
            )
            return cur.rowcount > 0

    # --- reads ---
    def for_user(self, user_id: int) -> dict[int, float]:
        """Out: ``{movie_id: rating}`` of every rating ``user_id`` stored (empty if none)."""
        uid = validate_id(user_id, "user_id")
        rows = self._reader().execute(
            "SELECT movie_id, rating FROM ratings WHERE user_id = ?", (uid,)
        ).fetchall()
        return {int(m): float(r) for m, r in rows}

    def rows_for_user(self, user_id: int) -> list[dict]:
        """Out: the user's ratings as dicts with timestamps, newest first."""
        uid = validate_id(user_id, "user_id")
        rows = self._reader().execute(
            "SELECT movie_id, rating, timestamp FROM ratings WHERE user_id = ? "
            "ORDER BY timestamp DESC, movie_id",
            (uid,),
        ).fetchall()
        return [
            {"user_id": uid, "movie_id": int(m), "rating": float(r), "timestamp": int(t)}
            for m, r, t in rows
        ]

    def provenance(self, user_id: int, movie_id: int) -> dict | None:
        """Out: ``{sent_by, client, timestamp}`` of one stored rating, or None if there is none."""
        row = self._reader().execute(
            "SELECT sent_by, client, timestamp FROM ratings WHERE user_id = ? AND movie_id = ?",
            (validate_id(user_id, "user_id"), validate_id(movie_id, "movie_id"))).fetchone()
        if row is None:
            return None
        return {"sent_by": None if row[0] is None else int(row[0]), "client": str(row[1]),
                "timestamp": int(row[2])}

    def all_ratings(self) -> pd.DataFrame:
        """Out: every stored rating as DataFrame[userId, itemId, rating, timestamp].

        ``itemId`` is the catalogue (TMDB) id, the item key the trainer uses for model-ready
        ratings. Columns are typed int64/int64/float64/int64 even when the table is empty.
        """
        rows = self._reader().execute(
            "SELECT user_id, movie_id, rating, timestamp FROM ratings ORDER BY user_id, movie_id"
        ).fetchall()
        df = pd.DataFrame(rows, columns=[USER_COL, ITEM_ID_COL, RATING_COL, TIMESTAMP_COL])
        return df.astype({USER_COL: "int64", ITEM_ID_COL: "int64", RATING_COL: "float64",
                          TIMESTAMP_COL: "int64"})

    def count(self) -> int:
        """Out: how many ratings are stored."""
        return int(self._reader().execute("SELECT COUNT(*) FROM ratings").fetchone()[0])

    def close(self) -> None:
        """Close every connection (the store is unusable afterwards)."""
        with self._lock, self._conns_lock:
            for conn in self._all_conns:
                conn.close()
            self._all_conns.clear()

    def __enter__(self) -> "RatingStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
