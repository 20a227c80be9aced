"""SQLite store of viewer accounts: logins, sessions, watchlists, services and genre picks.

The file lives at ``Paths.accounts_db`` (beside the ratings store, not inside it: the trainer
reads every rating and never needs password hashes). Passwords are hashed with argon2id
(``argon2-cffi``'s ``PasswordHasher``, RFC 9106 defaults); session tokens are 256-bit random
strings of which only the SHA-256 is stored, so a copy of the file lets nobody sign in.

Viewer ids are drawn from ``VIEWER_ID_BASE`` up, so they never collide with MovieLens/training ids.
Every method validates its input and raises ValueError with a one-line message naming the
field; a wrong password or unknown token returns None (the caller answers 401).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from src.config import (
    PASSWORD_MAX_LEN,
    PASSWORD_MIN_LEN,
    SESSION_TTL_S,
    USERNAME_PATTERN,
    VIEWER_ID_BASE,
    VIEWER_ID_SPAN,
)
from src.data.feedback_store import validate_id
from src.utils.logging import get_logger

log = get_logger(__name__)

_USERNAME_RE = re.compile(USERNAME_PATTERN)
MAX_PLATFORM_LEN = 64      # a platform name longer than this is not a platform name
MAX_LIST_ITEMS = 50        # services/genres a viewer can pick (a form, not a data dump)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,          -- 'api' (bearer) or 'web' (cookie)
    csrf       TEXT    NOT NULL,          -- synchronizer token for cookie-authenticated writes
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watchlist (
    user_id  INTEGER NOT NULL,
    movie_id INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS services (
    user_id  INTEGER NOT NULL,
    platform TEXT    NOT NULL,
    PRIMARY KEY (user_id, platform)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS genre_picks (
    user_id INTEGER NOT NULL,
    genre   TEXT    NOT NULL,
    PRIMARY KEY (user_id, genre)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Session:
    """A signed-in viewer as a token resolves to: who, which kind of session, its CSRF token."""

    user_id: int
    username: str
    kind: str
    csrf: str


def hash_token(token: str) -> str:
    """SHA-256 hex of a session token (what the store keeps; a 256-bit random token needs no
    slow hash: nobody can guess one, and a stolen hash cannot be turned back into it)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def validate_username(value: object) -> str:
    """``value`` as a username (3-32 of letters, digits, ``_ . -``), else ValueError."""
    if not isinstance(value, str) or not _USERNAME_RE.match(value):
        raise ValueError("username must be 3-32 characters: letters, digits, '_', '.' or '-'")
    return value


def validate_password(value: object) -> str:
    """``value`` as a password of PASSWORD_MIN_LEN..PASSWORD_MAX_LEN characters, else ValueError."""
    if not isinstance(value, str) or not PASSWORD_MIN_LEN <= len(value) <= PASSWORD_MAX_LEN:
        raise ValueError(f"password must be {PASSWORD_MIN_LEN}-{PASSWORD_MAX_LEN} characters")
    return value


def _validate_names(values: object, field: str) -> list[str]:
    """A list of short non-empty names (platforms, genres), de-duplicated in order."""
    if not isinstance(values, (list, tuple)) or len(values) > MAX_LIST_ITEMS:
        raise ValueError(f"{field} must be a list of at most {MAX_LIST_ITEMS} names")
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_PLATFORM_LEN \
                or not v.isprintable():
            raise ValueError(f"{field}: each name must be 1-{MAX_PLATFORM_LEN} printable characters")
        if v.strip() not in out:
            out.append(v.strip())
    return out


class UsernameTaken(ValueError):
    """Sign-up with a username that exists (the API answers 409)."""


class AccountStore:
    """Accounts, sessions and per-viewer lists in one SQLite file (one locked connection).

    In: the database path (created with its folder if missing). Lookups take microseconds,
    so one connection behind a lock serves the authenticated request path without contention
    worth a per-thread reader pool.
    """

    def __init__(self, path: str | os.PathLike, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hasher = hasher or PasswordHasher()
        # A hash of a random password, verified when a username does not exist, so a failed
        # sign-in takes the same time whether or not the account exists.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                     timeout=30.0)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")  # an acknowledged sign-up is on disk
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
        log.info("account store %s opened (%d accounts)", self.path, self.count())

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, args)

    # ------------------------------------------------------------------ accounts
    def create_account(self, username: object, password: object) -> int:
        """Create an account. Out: its viewer id (>= VIEWER_ID_BASE).

        Raises ValueError for a bad username/password and :class:`UsernameTaken` when the
        name (case-insensitively) exists.
        """
        name = validate_username(username)
        pw_hash = self._hasher.hash(validate_password(password))
        # A random id in the viewer range, not MAX(id) + 1: if accounts.db were ever lost
        # while ratings.db survived, a sequential id would hand an old viewer's ratings to a
        # stranger. Below 2**53 so JavaScript clients read it exactly.
        for _attempt in range(5):
            uid = VIEWER_ID_BASE + secrets.randbelow(VIEWER_ID_SPAN)
            try:
                self._exec("INSERT INTO accounts (user_id, username, password_hash, created_at) "
                           "VALUES (?, ?, ?, ?)", (uid, name, pw_hash, int(time.time())))
                break
            except sqlite3.IntegrityError:
                if self._exec("SELECT 1 FROM accounts WHERE username = ?", (name,)).fetchone():
                    raise UsernameTaken(f"username {name!r} is taken") from None
        else:  # five collisions in a 9e15 range: the range is misconfigured
            raise RuntimeError("could not allocate a viewer id")
        log.info("account %d created", uid)
        return uid

    def verify_login(self, username: object, password: object) -> int | None:
        """Out: the viewer id when ``username``/``password`` match an account, else None."""
        if not isinstance(username, str) or not isinstance(password, str) \
                or len(password) > PASSWORD_MAX_LEN or len(username) > 64:
            return None
        row = self._exec("SELECT user_id, password_hash FROM accounts WHERE username = ?",
                         (username,)).fetchone()
        stored = row[1] if row else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self._hasher.check_needs_rehash(stored):  # parameters raised since it was stored
            self._exec("UPDATE accounts SET password_hash = ? WHERE user_id = ?",
                       (self._hasher.hash(password), row[0]))
        return int(row[0])

    def username(self, user_id: int) -> str | None:
        """Out: the account's username, or None if there is no such account."""
        row = self._exec("SELECT username FROM accounts WHERE user_id = ?",
                         (validate_id(user_id, "user_id"),)).fetchone()
        return None if row is None else str(row[0])

    def count(self) -> int:
        """Out: how many accounts exist."""
        return int(self._exec("SELECT COUNT(*) FROM accounts").fetchone()[0])

    # ------------------------------------------------------------------ sessions
    def new_session(self, user_id: int, kind: str = "api") -> tuple[str, str]:
        """Open a session for ``user_id``. Out: ``(token, csrf)``; only the token's hash is kept."""
        if kind not in ("api", "web"):
            raise ValueError(f"kind must be 'api' or 'web', got {kind!r}")
        uid = validate_id(user_id, "user_id")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = int(time.time())
        self._exec("INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (hash_token(token), uid, kind, csrf, now,
                                                 now + SESSION_TTL_S))
        return token, csrf

    def session(self, token: object) -> Session | None:
        """Out: the live session ``token`` opens, or None (unknown, expired, or not a token)."""
        if not isinstance(token, str) or not 16 <= len(token) <= 128:
            return None
        row = self._exec(
            "SELECT s.user_id, a.username, s.kind, s.csrf, s.expires_at FROM sessions s "
            "JOIN accounts a ON a.user_id = s.user_id WHERE s.token_hash = ?",
            (hash_token(token),)).fetchone()
        if row is None or row[4] < time.time():
            return None
        return Session(int(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def end_session(self, token: object) -> None:
        """Forget a session (sign-out); unknown tokens are ignored."""
        if isinstance(token, str):
            self._exec("DELETE FROM sessions WHERE token_hash = ?", (hash_token(token),))

    def purge_expired(self) -> int:
        """Delete expired sessions. Out: how many."""
        return self._exec("DELETE FROM sessions WHERE expires_at < ?", (int(time.time()),)).rowcount

    # ------------------------------------------------------------------ watchlist
    def watchlist_add(self, user_id: int, movie_id: int) -> dict:
        """Put a title on the viewer's watchlist (again: keeps the first date). Out: the row."""
        uid, mid = validate_id(user_id, "user_id"), validate_id(movie_id, "movie_id")
        self._exec("INSERT OR IGNORE INTO watchlist (user_id, movie_id, added_at) VALUES (?, ?, ?)",
                   (uid, mid, int(time.time())))
        added = self._exec("SELECT added_at FROM watchlist WHERE user_id = ? AND movie_id = ?",
                           (uid, mid)).fetchone()[0]
        return {"user_id": uid, "movie_id": mid, "added_at": int(added)}

    def watchlist_remove(self, user_id: int, movie_id: int) -> bool:
        """Take a title off the watchlist. Out: True when it was there."""
        uid, mid = validate_id(user_id, "user_id"), validate_id(movie_id, "movie_id")
        return self._exec("DELETE FROM watchlist WHERE user_id = ? AND movie_id = ?",
                          (uid, mid)).rowcount > 0

    def watchlist(self, user_id: int) -> list[dict]:
        """Out: the watchlist rows ``{user_id, movie_id, added_at}``, newest first."""
        uid = validate_id(user_id, "user_id")
        rows = self._exec("SELECT movie_id, added_at FROM watchlist WHERE user_id = ? "
                          "ORDER BY added_at DESC, movie_id", (uid,)).fetchall()
        return [{"user_id": uid, "movie_id": int(m), "added_at": int(t)} for m, t in rows]

    # ------------------------------------------------------------------ services and genres
    def _replace_names(self, table: str, column: str, user_id: int, names: list[str]) -> None:
        """Replace one viewer's rows of a name table in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
                self._conn.executemany(f"INSERT INTO {table} (user_id, {column}) VALUES (?, ?)",
                                       [(user_id, n) for n in names])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def set_services(self, user_id: int, platforms: object) -> list[str]:
        """Replace the viewer's streaming services. Out: the stored names."""
        uid, names = validate_id(user_id, "user_id"), _validate_names(platforms, "services")
        self._replace_names("services", "platform", uid, names)
        return self.services(uid)

    def services(self, user_id: int) -> list[str]:
        """Out: the viewer's streaming services, sorted."""
        rows = self._exec("SELECT platform FROM services WHERE user_id = ? ORDER BY platform",
                          (validate_id(user_id, "user_id"),)).fetchall()
        return [str(r[0]) for r in rows]

    def set_genres(self, user_id: int, genres: object) -> list[str]:
        """Replace the genres the viewer picked at onboarding. Out: the stored names."""
        uid, names = validate_id(user_id, "user_id"), _validate_names(genres, "genres")
        self._replace_names("genre_picks", "genre", uid, names)
        return self.genres(uid)

    def genres(self, user_id: int) -> list[str]:
        """Out: the viewer's picked genres, sorted."""
        rows = self._exec("SELECT genre FROM genre_picks WHERE user_id = ? ORDER BY genre",
                          (validate_id(user_id, "user_id"),)).fetchall()
        return [str(r[0]) for r in rows]

    def close(self) -> None:
        """Close the connection (the store is unusable afterwards)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "AccountStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
