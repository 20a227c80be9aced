"""Where a title can be watched, over time: platform availability from dated snapshots.

``data/processed/availability.csv`` has one row per stay of a title on a platform: ``id``,
``platform``, ``first_seen`` (as-of date of the first snapshot that listed it),
``last_seen`` (as-of date of the first snapshot that no longer listed it; empty while it
is still available). A title that leaves and comes back gets a second row.
``data/processed/platform_snapshots.csv`` logs every applied snapshot (platform, as_of,
source file, sha256, titles, arrived, departed): snapshots of one platform must come in
date order, and re-applying the last one is a no-op.

Inbox name convention: ``<platform>@<YYYY-MM-DD>[anything].csv[.gz]`` (siblings
``<same stem>.credits.csv[.gz]``) is a snapshot of that platform as of that date, e.g.
``netflix@2023-07-01.csv.gz``.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import ID_COL, LIST_SEP
from src.utils.errors import StreamRecError

AVAILABILITY_COLUMNS = (ID_COL, "platform", "first_seen", "last_seen")
SNAPSHOT_COLUMNS = ("platform", "as_of", "source", "sha256", "titles", "arrived", "departed")
PLATFORM_RE = re.compile(r"[a-z0-9][a-z0-9_+-]{0,31}")
_INBOX_RE = re.compile(r"^(?P<platform>[A-Za-z0-9][A-Za-z0-9_+-]{0,31})@(?P<as_of>\d{4}-\d{2}-\d{2})")


class SnapshotError(StreamRecError, ValueError):
    """A platform snapshot request that cannot be applied (bad platform name or date);
    the message is one line saying what to give instead."""


class SnapshotRefused(SnapshotError):
    """A snapshot that must not be applied (older than the platform's last one, or another
    file for the same date); the message says which snapshot was applied last."""


def validate_platform(name: str) -> str:
    """A platform name as stored: lower case, 1-32 of ``a-z 0-9 _ + -``; SnapshotError otherwise."""
    text = str(name).strip().lower()
    if not PLATFORM_RE.fullmatch(text):
        raise SnapshotError(f"platform {name!r}: use 1-32 letters, digits, '_', '+' or '-' "
                         "(e.g. netflix, hbo, disney+)")
    return text


def validate_as_of(text: str) -> str:
    """An ISO date ``YYYY-MM-DD`` (the snapshot's as-of date); SnapshotError otherwise."""
    try:
        return _dt.date.fromisoformat(str(text).strip()).isoformat()
    except ValueError:
        raise SnapshotError(f"as-of date {text!r}: expected YYYY-MM-DD") from None


def snapshot_of_name(name: str) -> tuple[str, str] | None:
    """``(platform, as_of)`` from an inbox file/stem named ``<platform>@<YYYY-MM-DD>…``;
    None when the name does not follow the convention (a plain batch)."""
    m = _INBOX_RE.match(Path(name).name)
    if not m:
        return None
    try:
        return validate_platform(m["platform"]), validate_as_of(m["as_of"])
    except ValueError:
        return None


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A text table, or an empty one with ``columns`` when the file does not exist."""
    if not Path(path).exists():
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def read_availability(path: Path) -> pd.DataFrame:
    """availability.csv as text (``id`` int), empty when absent."""
    df = _read(path, AVAILABILITY_COLUMNS)
    df[ID_COL] = pd.to_numeric(df[ID_COL]).astype("int64")
    return df


def read_snapshots(path: Path) -> pd.DataFrame:
    """platform_snapshots.csv as text, empty when absent."""
    return _read(path, SNAPSHOT_COLUMNS)


def check_snapshot(snapshots: pd.DataFrame, platform: str, as_of: str, sha256: str) -> bool:
    """Whether a snapshot is new (True) or the last applied one again (False: a no-op).

    Raises :class:`SnapshotRefused` for a date before the platform's last snapshot, or a
    different file for the same date.
    """
    mine = snapshots[snapshots["platform"] == platform]
    if not len(mine):
        return True
    last = mine.sort_values("as_of", kind="mergesort").iloc[-1]
    if as_of > last["as_of"]:
        return True
    if as_of == last["as_of"] and sha256 == last["sha256"]:
        return False
    if as_of == last["as_of"]:
        raise SnapshotRefused(f"{platform}: a different snapshot as of {as_of} was already "
                              f"applied ({last['source']}); give the new one a later date")
    raise SnapshotRefused(f"{platform}: snapshot as of {as_of} is older than the last one "
                          f"applied ({last['as_of']}, {last['source']}); snapshots of a "
                          "platform must be applied in date order")


def apply_snapshot(avail: pd.DataFrame, platform: str, as_of: str, ids) -> tuple[pd.DataFrame, list[int], list[int]]:
    """Availability after a platform's snapshot listing exactly ``ids``.

    In: the availability table, the platform, the as-of date and the ids the snapshot
    lists. Out: ``(new table, arrived ids, departed ids)``: a listed id with no open stay
    on the platform arrives (new row, ``first_seen = as_of``); an open stay whose id is not
    listed departs (``last_seen = as_of``; the title stays in the catalogue).
    """
    listed = set(int(i) for i in ids)
    is_open = (avail["platform"] == platform) & (avail["last_seen"] == "")
    open_ids = set(avail.loc[is_open, ID_COL].astype(int))
    arrived = sorted(listed - open_ids)
    departed = sorted(open_ids - listed)
    out = avail.copy()
    out.loc[is_open & out[ID_COL].isin(departed), "last_seen"] = as_of
    if arrived:
        new = pd.DataFrame({ID_COL: arrived, "platform": platform, "first_seen": as_of, "last_seen": ""})
        out = pd.concat([out, new], ignore_index=True)
    return out[list(AVAILABILITY_COLUMNS)], arrived, departed


def current_platforms(avail: pd.DataFrame, ids) -> pd.Series:
    """``platforms`` cell per id: the platforms with an open stay, sorted, ``|``-joined."""
    ids = pd.Index(list(ids))
    open_rows = avail[avail["last_seen"] == ""]
    cells = np.full(len(ids), "", dtype=object)
    # One vectorised pass per platform (a handful) instead of a Python call per title.
    for platform in sorted(set(open_rows["platform"])):
        has = ids.isin(open_rows.loc[open_rows["platform"] == platform, ID_COL])
        cells = np.where(has, np.where(cells == "", platform, cells + LIST_SEP + platform), cells)
    return pd.Series(cells, dtype="str")
