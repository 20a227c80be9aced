"""The drop folder for catalogue batches (``data/external/incoming``): find, check, group, file.

Everything in the folder is untrusted. Naming convention (references/updates.md,
references/untrusted_input.md):

* ``<stem>.csv`` or ``<stem>.csv.gz`` is a movies/series batch (either catalogue schema);
* ``<stem>.credits.csv[.gz]`` and ``<stem>.keywords.csv[.gz]`` are its optional siblings;
  ``x.csv`` beside ``x.csv.gz`` are two batches (plain first), each with its siblings of the
  same compression (a lone sibling joins the first);
* upload under a name ending ``.part`` (or ``.tmp``/``.partial``) and rename when complete:
  such names are left alone, and so are hidden files (``.x``), both logged;
* a file whose size or mtime changes during a short wait (``INBOX_STABLE_SECONDS``) is still
  being written and waits for the next run; one that changes while its batch is applied is
  left in the inbox (logged) so the next run applies it whole (updates are idempotent);
* names with control characters (a newline) are logged and skipped: they cannot be
  reported on one log line safely, so an operator must rename them;
* ``processed/`` and ``failed/`` must be real folders (not a file or a symlink someone
  uploaded under that name), else the run is refused before any file moves;
* symbolic links are never followed (``lstat`` only; dangling and looping links included)
  and other non-regular files (folders, FIFOs) are never opened: the batch holding one is
  moved to ``failed/`` with a reason; a sibling without its movies file fails the same way.

Batches are processed in name order; once done, each file of the batch is moved on its own
to ``processed/`` (or ``failed/`` with a ``<name>.error.txt`` saying what was wrong and
where, never the file's contents) under a UTC timestamp prefix, the name shortened with a
hash when prefix + name would exceed ``INBOX_MAX_NAME_BYTES``. A file that cannot be moved
is logged and stays; it never stops the other files or batches.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from src.config import (
    INBOX_FAILED,
    INBOX_MAX_NAME_BYTES,
    INBOX_PROCESSED,
    INBOX_SIBLING_KINDS,
    INBOX_STABLE_SECONDS,
    Paths,
)
from src.utils.errors import InputFileError
from src.utils.io import write_text_atomic
from src.utils.logging import get_logger

log = get_logger(__name__)

_CSV_RE = re.compile(r"^(?P<stem>.+?)(?:\.(?P<kind>" + "|".join(INBOX_SIBLING_KINDS)
                     + r"))?\.csv(?P<gz>\.gz)?$")
_IN_PROGRESS = (".tmp", ".part", ".partial")
_KINDS = ("movies", *INBOX_SIBLING_KINDS)


@dataclass
class InboxBatch:
    """One batch found in the inbox: its movies file and optional siblings (None if absent).

    ``problem``: why the batch cannot be applied at all (a symlink, a non-regular file, no
    movies file), found before anything is read; ``seen``: ``(size, mtime_ns)`` of each file
    when it was found, to tell whether it changed while being applied.
    """

    stem: str
    movies: Path | None = None
    credits: Path | None = None
    keywords: Path | None = None
    extra: list[Path] = field(default_factory=list)  # files that match no convention
    problem: str | None = None
    seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """Every file of the batch (movies first)."""
        return [p for p in (self.movies, self.credits, self.keywords, *self.extra) if p is not None]

    def changed(self) -> list[str]:
        """Names of the batch's files whose size or mtime differ from when they were found."""
        return [p.name for p, sig in self.seen.items() if _signature(p) != sig]


def _signature(path: Path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of ``path`` itself (never a link's target); None if gone."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _skip_reason(name: str) -> str | None:
    """Why a name is left in the inbox untouched (logged), or None to consider it."""
    if not name.isprintable():
        return "control characters (e.g. a newline) in the name: rename it"
    if name.startswith("."):
        return "hidden file"
    if name.endswith(_IN_PROGRESS):
        return "upload in progress (rename it without the suffix when complete)"
    return None


def _file_problem(st: os.stat_result) -> str | None:
    """Why a directory entry cannot be part of a batch (from its lstat), or None."""
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link (links are never followed): upload the file itself"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None


def check_filing_folders(inbox: Path) -> None:
    """Raise InputFileError unless ``processed/`` and ``failed/`` are absent or real folders.

    Anyone who can write the inbox could upload a file, or a symlink to elsewhere, under
    one of those names: files would then be moved into the link's target, or every run
    would fail on ``mkdir``. Nothing is moved until an operator removes it.
    """
    for name in (INBOX_PROCESSED, INBOX_FAILED):
        try:
            st = os.lstat(inbox / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):  # S_ISDIR of an lstat is False for a symlink
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a folder"
            raise InputFileError(f"inbox {inbox / name} is {kind}: remove it (files are filed "
                                 "into that folder); no inbox file was touched")


def _candidates(inbox: Path) -> dict[str, tuple[os.stat_result, str | None]]:
    """Entries of the inbox worth grouping: ``name -> (lstat, problem or None)``."""
    found: dict[str, tuple[os.stat_result, str | None]] = {}
    for name in sorted(os.listdir(inbox)):
        if name in (INBOX_PROCESSED, INBOX_FAILED):
            continue
        reason = _skip_reason(name)
        if reason is not None:
            log.info("inbox: skipped %r: %s", name, reason)
            continue
        try:
            st = os.lstat(inbox / name)
        except OSError as exc:  # vanished between listdir and lstat
            log.warning("inbox: skipped %r: %s", name, exc.strerror)
            continue
        found[name] = (st, _file_problem(st))
    return found


def _unstable(inbox: Path, found: dict) -> set[str]:
    """Names whose size or mtime change within ``INBOX_STABLE_SECONDS`` (still being written)."""
    regular = {n: (st.st_size, st.st_mtime_ns) for n, (st, problem) in found.items()
               if problem is None}
    if not regular or INBOX_STABLE_SECONDS <= 0:
        return set()
    time.sleep(INBOX_STABLE_SECONDS)
    moving = {n for n, sig in regular.items() if _signature(inbox / n) != sig}
    for n in sorted(moving):
        log.info("inbox: %r is still being written (its size changed); next run", n)
    return moving


def scan_inbox(paths: Paths) -> list[InboxBatch]:
    """List the batches waiting in ``paths.inbox``, in name order (see the module doc).

    In: the workspace. Out: batches; one with ``problem`` set (or ``movies is None``) is to
    be filed as failed without being read.
    """
    inbox = paths.inbox
    if not inbox.exists():
        return []
    check_filing_folders(inbox)
    found = _candidates(inbox)
    moving = _unstable(inbox, found)
    groups: dict[str, dict[str, list[Path]]] = {}
    batches: dict[str, InboxBatch] = {}
    for name, (st, problem) in found.items():
        if name in moving:
            continue
        m = _CSV_RE.match(name)
        if m is None:
            batch = batches.setdefault(name, InboxBatch(stem=name))
            batch.extra.append(inbox / name)
        else:
            groups.setdefault(m["stem"], {k: [] for k in _KINDS})[m["kind"] or "movies"].append(
                inbox / name)  # sorted names: x.csv before x.csv.gz
    for stem, kinds in groups.items():
        for batch in _split_compressions(stem, kinds):
            batches[batch.stem] = batch
    out = [batches[k] for k in sorted(batches)]
    for batch in out:
        for p in batch.files():
            st, problem = found[p.name]
            batch.seen[p] = (st.st_size, st.st_mtime_ns)
            if problem is not None and batch.problem is None:
                batch.problem = f"{p.name} {problem}"
    return out


def _split_compressions(stem: str, kinds: dict[str, list[Path]]) -> list[InboxBatch]:
    """One batch per movies file of ``stem`` (``x.csv`` and ``x.csv.gz`` are two batches).

    Siblings go to the batch of the same compression, else to the first batch.
    """
    movies = kinds["movies"]
    if len(movies) <= 1:
        batch = InboxBatch(stem=stem, movies=movies[0] if movies else None)
        for kind in INBOX_SIBLING_KINDS:
            files = kinds[kind]
            if files:
                setattr(batch, kind, files[0])
                batch.extra.extend(files[1:])  # x.credits.csv + .gz with one movies file
        if len(kinds["credits"]) > 1 or len(kinds["keywords"]) > 1:
            batch.problem = "both a plain and a .gz file of one sibling for one movies file"
        return [batch]
    out = []
    for m in movies:
        gz = m.name.endswith(".gz")
        batch = InboxBatch(stem=f"{stem}.gz" if gz else stem, movies=m)
        for kind in INBOX_SIBLING_KINDS:
            same = [p for p in kinds[kind] if p.name.endswith(".gz") == gz]
            if same:
                setattr(batch, kind, same[0])
            elif not gz and kinds[kind]:  # a lone sibling joins the first (plain) batch
                setattr(batch, kind, kinds[kind][0])
        out.append(batch)
    return out


def _stamp() -> str:
    """UTC timestamp prefix for filed inbox files (microseconds: names never collide)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def filed_name(prefix: str, name: str, limit: int = INBOX_MAX_NAME_BYTES) -> str:
    """``<prefix>-<name>``, shortened to ``limit`` UTF-8 bytes when longer.

    A long name keeps its end (the extension says what it is) behind a hash of the whole
    name, so two long names never collide: ``<prefix>-<sha1[:12]>-...<tail>``.
    """
    full = f"{prefix}-{name}"
    if len(full.encode()) <= limit:
        return full
    head = f"{prefix}-{hashlib.sha1(name.encode()).hexdigest()[:12]}-"
    tail = name
    while len((head + tail).encode()) > limit:
        tail = tail[1:]
    return head + tail


def file_batch(paths: Paths, batch: InboxBatch, ok: bool, error: str | None = None) -> list[Path]:
    """Move every file of ``batch`` to ``processed/`` (ok) or ``failed/`` (+ error file).

    In: the workspace, the batch, success flag and a one-line error (what was wrong and
    where; never file contents). Out: the new paths of the files moved. Each file is moved
    on its own (``os.replace`` of the entry itself: a symlink moves as a link); one that
    cannot be moved is logged and stays, the others still move.
    """
    dest_dir = paths.inbox / (INBOX_PROCESSED if ok else INBOX_FAILED)
    dest_dir.mkdir(parents=True, exist_ok=True)
    prefix = _stamp()
    moved = []
    for p in batch.files():
        dest = dest_dir / filed_name(prefix, p.name)
        try:
            os.replace(p, dest)  # same file system: atomic, the file is in exactly one place
        except OSError as exc:
            log.error("inbox: could not move %r to %s/: %s; it stays in the inbox", p.name,
                      dest_dir.name, exc.strerror or exc)
            continue
        moved.append(dest)
    if not ok:
        text = (f"batch {batch.stem!r} failed: {error or 'unknown error'}\n"
                f"files: {', '.join(repr(p.name) for p in batch.files())}\n")
        try:
            write_text_atomic(text, dest_dir / filed_name(prefix, f"{batch.stem}.error.txt"))
        except OSError as exc:
            log.error("inbox: could not write the error file of %r: %s", batch.stem, exc)
    log.info("inbox: %s -> %s/ (%d of %d file(s))", batch.stem, dest_dir.name, len(moved),
             len(batch.files()))
    return moved
