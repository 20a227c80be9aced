"""Where titles can be watched, as the service reads it: availability + snapshot log of a workspace.

In: the workspace's ``availability.csv`` and ``platform_snapshots.csv`` (src.data.availability).
Out: a :class:`PlatformView` re-read whenever an update changed either file. Kept free of
FastAPI so the core install (``invoke recommend``, src.serving.service) can use it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from src.config import ID_COL, Paths
from src.data.availability import read_availability, read_snapshots, validate_platform


class PlatformView:
    """Availability and snapshot log of one workspace, re-read when either file changes."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self.availability = read_availability(paths.availability)
        self.snapshots = read_snapshots(paths.platform_snapshots)

    def _file_stamp(self) -> tuple:
        """(mtime, size) of both files; a change means an update was applied."""
        def one(p: Path):
            try:
                st = p.stat()
                return st.st_mtime_ns, st.st_size
            except FileNotFoundError:
                return None
        return one(self.paths.availability), one(self.paths.platform_snapshots)

    def refresh(self) -> "PlatformView":
        """Re-read the files when they changed since the last read; return self."""
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self.availability = read_availability(self.paths.availability)
                    self.snapshots = read_snapshots(self.paths.platform_snapshots)
                    self._stamp = stamp
        return self

    def platforms(self) -> list[str]:
        """Every platform that ever had a snapshot applied, sorted."""
        return sorted(set(self.availability["platform"]) | set(self.snapshots["platform"]))

    def require(self, platform: str) -> str:
        """``platform`` validated and known; KeyError (404) naming the known ones otherwise."""
        name = validate_platform(platform)
        if name not in self.platforms():
            raise KeyError(f"platform {name!r} has no snapshot; known: {', '.join(self.platforms()) or 'none'}")
        return name

    def stays(self, movie_id: int) -> list[dict]:
        """One title's stays: ``[{platform, first_seen, last_seen (None while available)}]``."""
        rows = self.availability[self.availability[ID_COL] == int(movie_id)]
        return [{"platform": p, "first_seen": f, "last_seen": last or None}
                for p, f, last in zip(rows["platform"], rows["first_seen"], rows["last_seen"])]

    def last_snapshot(self, platform: str) -> str | None:
        """As-of date of the platform's latest snapshot."""
        dates = self.snapshots.loc[self.snapshots["platform"] == platform, "as_of"]
        return max(dates) if len(dates) else None


_VIEWS: dict[Path, PlatformView] = {}
_VIEWS_LOCK = threading.Lock()


def platform_view(paths: Paths) -> PlatformView:
    """The (refreshed) view of a workspace, one per workspace per process."""
    with _VIEWS_LOCK:
        view = _VIEWS.get(paths.root)
        if view is None:
            view = _VIEWS[paths.root] = PlatformView(paths)
    return view.refresh()
