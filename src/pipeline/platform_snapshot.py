"""The availability half of ``invoke update --platform P --as-of D``: arrivals, departures.

The catalogue half (added/updated titles) is the ordinary batch update; this module turns
the ids of a platform's dated snapshot into availability changes
(:mod:`src.data.availability`) and the ``platforms`` column of the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from src.config import ID_COL, Paths
from src.data.availability import (
    SNAPSHOT_COLUMNS,
    apply_snapshot,
    check_snapshot,
    current_platforms,
    read_availability,
    read_snapshots,
    validate_as_of,
    validate_platform,
)
from src.utils.logging import get_logger

log = get_logger(__name__)


@dataclass
class SnapshotChange:
    """Outcome of one snapshot: the new availability and snapshot log (None when nothing
    changed), arrived/departed ids, and whether this is the last snapshot again."""

    availability: pd.DataFrame | None
    snapshots: pd.DataFrame | None
    arrived: list[int]
    departed: list[int]
    repeat: bool

    @property
    def changed(self) -> bool:
        """True when availability or the snapshot log must be written."""
        return self.availability is not None


def check(paths: Paths, platform: str, as_of: str, sha256: str) -> tuple[str, str, bool]:
    """Validate a snapshot request before any work. Out: ``(platform, as_of, is_new)``.
    Raises ValueError for a bad name/date, ``SnapshotRefused`` for an out-of-order one."""
    platform, as_of = validate_platform(platform), validate_as_of(as_of)
    is_new = check_snapshot(read_snapshots(paths.platform_snapshots), platform, as_of, sha256)
    return platform, as_of, is_new


def apply(paths: Paths, platform: str, as_of: str, source: str, sha256: str, is_new: bool,
          listed_ids, merged: pd.DataFrame) -> SnapshotChange:
    """Apply a checked snapshot listing ``listed_ids`` and set ``merged["platforms"]``.

    In: the workspace, the checked platform/date, the file's name and sha256, whether it
    is new (:func:`check`), the ids of the snapshot's resolved rows and the new catalogue
    frame (its ``platforms`` column is set in place). Out: :class:`SnapshotChange`.
    """
    avail = read_availability(paths.availability)
    new_avail, arrived, departed = apply_snapshot(avail, platform, as_of, listed_ids)
    merged["platforms"] = current_platforms(new_avail, merged[ID_COL]).to_numpy()
    log.info("%s as of %s: %d titles listed, %d arrived, %d departed", platform, as_of,
             len(set(listed_ids)), len(arrived), len(departed))
    if not is_new and not arrived and not departed:
        return SnapshotChange(None, None, [], [], repeat=True)
    snaps = read_snapshots(paths.platform_snapshots)
    if is_new:
        row = pd.DataFrame([[platform, as_of, source, sha256, len(set(listed_ids)), len(arrived),
                             len(departed)]], columns=list(SNAPSHOT_COLUMNS)).astype("str")
        snaps = pd.concat([snaps, row], ignore_index=True)
    return SnapshotChange(new_avail, snaps, arrived, departed, repeat=not is_new)
