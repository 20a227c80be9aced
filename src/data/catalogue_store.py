"""Swap a new generation of catalogue artifacts in atomically, with roll-forward after a crash.

Several files (``merged_data6.csv``, the interim tables, ``features.parquet``) cannot be
renamed together in one atomic step, yet every other stage reads them at their documented
paths. The updater therefore works like a tiny write-ahead log:

1. Every new file is written completely into a staging folder on the same file system
   (``data/.update-staging/<generation>/``), each write atomic and fsynced.
2. A journal (``data/.update-journal.json``) listing ``staged -> target`` with the sha256 of
   each staged file and of the target it replaces is written atomically. **Writing the
   journal is the commit point**: before it, a crash leaves the previous version untouched
   (the staging folder is discarded on the next start); after it, the new version is durable.
3. Each staged file is ``os.replace``d onto its target (atomic per file), then the journal and
   the staging folder are removed.

:func:`recover` runs at the start of every update: with a journal it rolls the interrupted
swap forward (checking sha256s, so it never overwrites a file somebody else rewrote since),
without one it deletes leftover staging folders. :func:`update_lock` keeps two updaters from
running at once (``flock``: released by the kernel even when the holder is SIGKILLed).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Iterator

from src.config import UPDATE_PAUSE_ENV, UPDATE_PAUSE_SECONDS_ENV, Paths
from src.utils.errors import UpdateLockedError  # noqa: F401  (re-exported: callers catch it here)
from src.utils.io import sha256_file, write_json_atomic
from src.utils.logging import get_logger

log = get_logger(__name__)


class JournalConflictError(RuntimeError):
    """A journalled swap cannot be rolled forward because a target changed since."""


def staging_root(paths: Paths) -> Path:
    """Folder holding staged generations (same file system as data/interim and data/processed)."""
    return paths.data / ".update-staging"


def journal_path(paths: Paths) -> Path:
    """The commit record of a swap in progress (absent when no swap is in progress)."""
    return paths.data / ".update-journal.json"


def lock_path(paths: Paths) -> Path:
    """The lock file taken by every update run."""
    return paths.data / ".update.lock"


def new_generation(paths: Paths) -> Path:
    """Create and return an empty staging folder for one update (named by UTC time + pid)."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    gen = staging_root(paths) / f"{stamp}-{os.getpid()}"
    gen.mkdir(parents=True, exist_ok=False)
    return gen


def pause_point(step: str) -> None:
    """Sleep at ``step`` when env ``STREAMREC_UPDATE_PAUSE_AT`` names it (crash tests only).

    The crash tests start an update in a subprocess, wait for the ``PAUSED at <step>`` log
    line, and SIGKILL it there, to prove each step leaves a consistent workspace.
    """
    if os.environ.get(UPDATE_PAUSE_ENV) != step:
        return
    seconds = float(os.environ.get(UPDATE_PAUSE_SECONDS_ENV, "60"))
    log.warning("PAUSED at %s for %.0fs (%s)", step, seconds, UPDATE_PAUSE_ENV)
    # Flush explicitly: the test watches the stream while we sleep.
    for handler in log.parent.handlers if log.parent else []:
        with contextlib.suppress(Exception):
            handler.flush()
    time.sleep(seconds)


@contextlib.contextmanager
def update_lock(paths: Paths) -> Iterator[Path]:
    """Hold the workspace's exclusive update lock for the ``with`` block.

    In: the workspace. Out (yield): the lock file path. Raises :class:`UpdateLockedError`
    at once (non-blocking) when another process holds it, so cron runs never pile up.
    """
    path = lock_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UpdateLockedError(
                f"another update is running (it holds the lock {path}); try again when it "
                "has finished") from exc
        # Record the holder for humans looking at a stuck lock; the lock itself is the flock.
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield path
    finally:
        fh.close()  # closing releases the flock


def _fsync_dir(path: Path) -> None:
    """fsync a directory so renames inside it survive a power cut."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _rel(paths: Paths, p: Path) -> str:
    """``p`` relative to the workspace root (journals stay valid if the workspace moves)."""
    return str(Path(p).resolve().relative_to(paths.root))


def commit(paths: Paths, staged: dict[Path, Path]) -> dict[str, str]:
    """Swap staged files onto their targets as one logical, crash-safe step.

    In: the workspace and ``{target: staged_file}`` (staged files complete, inside a
    generation folder from :func:`new_generation`; order = rename order, so put the file
    readers load last — features — last). Out: ``{target relative path: new sha256}``.
    """
    entries = []
    for target, src in staged.items():
        target, src = Path(target), Path(src)
        if not src.is_file():
            raise FileNotFoundError(f"staged file missing: {src}")
        entries.append({
            "target": _rel(paths, target),
            "staged": _rel(paths, src),
            "sha256": sha256_file(src),
            "previous_sha256": sha256_file(target) if target.exists() else None,
        })
    gens = {Path(src).parent for src in staged.values()}
    for gen in gens:
        _fsync_dir(gen)
    journal = {
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "pid": os.getpid(),
        "files": entries,
    }
    pause_point("before_commit")
    write_json_atomic(journal, journal_path(paths))  # <- the commit point
    _fsync_dir(journal_path(paths).parent)
    pause_point("committed")
    _roll_forward(paths, journal)
    return {e["target"]: e["sha256"] for e in entries}


def _roll_forward(paths: Paths, journal: dict) -> None:
    """Apply every rename of ``journal`` not yet done, then drop journal and staging."""
    for i, entry in enumerate(journal["files"]):
        target = paths.root / entry["target"]
        src = paths.root / entry["staged"]
        if src.exists():
            current = sha256_file(target) if target.exists() else None
            if current not in (entry["previous_sha256"], entry["sha256"]):
                raise JournalConflictError(
                    f"{entry['target']} changed since the update was committed "
                    f"(sha256 {current}); left as is, staged copy kept at {entry['staged']}")
            if sha256_file(src) != entry["sha256"]:
                raise JournalConflictError(f"staged file {entry['staged']} is corrupt (sha256 mismatch)")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
            _fsync_dir(target.parent)
        elif not target.exists() or sha256_file(target) != entry["sha256"]:
            raise JournalConflictError(
                f"{entry['target']}: staged copy gone and target is not the committed version")
        if i == 0:
            pause_point("swapping")
    pause_point("swapped")
    journal_path(paths).unlink(missing_ok=True)
    _fsync_dir(journal_path(paths).parent)
    shutil.rmtree(staging_root(paths), ignore_errors=True)


def recover(paths: Paths) -> dict:
    """Finish or discard an update interrupted by a crash; call with the update lock held.

    In: the workspace. Out: ``{"action": "none" | "rolled_forward" | "discarded_staging",
    "files": [...]}``. Raises :class:`JournalConflictError` (with the file named) when a
    committed swap cannot be completed safely.
    """
    jpath = journal_path(paths)
    if jpath.exists():
        journal = json.loads(jpath.read_text())
        files = [e["target"] for e in journal["files"]]
        log.warning("rolling forward an interrupted catalogue update (%d files, committed %s)",
                    len(files), journal.get("created_at"))
        _roll_forward(paths, journal)
        return {"action": "rolled_forward", "files": files}
    root = staging_root(paths)
    if root.exists() and any(root.iterdir()):
        leftovers = sorted(p.name for p in root.iterdir())
        log.warning("discarding %d uncommitted update staging folder(s): %s", len(leftovers), leftovers)
        shutil.rmtree(root, ignore_errors=True)
        return {"action": "discarded_staging", "files": leftovers}
    return {"action": "none", "files": []}
