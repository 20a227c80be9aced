"""The drop folder for catalogue batches (``data/external/incoming``): find, group and file them.

Naming convention (documented in references/updates.md):

* ``<stem>.csv`` or ``<stem>.csv.gz`` is a movies/series batch (either catalogue schema);
* ``<stem>.credits.csv[.gz]`` and ``<stem>.keywords.csv[.gz]`` are its optional siblings;
* hidden files (``.x``) and names ending ``.tmp`` / ``.part`` are uploads in progress and are
  left alone, so uploaders should write under such a name and rename when complete;
* a sibling without its movies file is an error (moved to ``failed/``).

Batches are processed in name order (so ``2024-05-01-a.csv`` before ``2024-05-02.csv``); once
done, every file of the batch is moved to ``processed/`` (or ``failed/`` with a
``<name>.error.txt``) under a timestamp prefix, so a file is never processed twice and a later
upload with the same name never overwrites the record of an earlier one.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from src.config import INBOX_FAILED, INBOX_PROCESSED, INBOX_SIBLING_KINDS, Paths
from src.utils.io import write_text_atomic
from src.utils.logging import get_logger

log = get_logger(__name__)

_CSV_RE = re.compile(r"^(?P<stem>.+?)(?:\.(?P<kind>" + "|".join(INBOX_SIBLING_KINDS) + r"))?\.csv(?:\.gz)?$")
_IN_PROGRESS = (".tmp", ".part", ".partial")


@dataclass
class InboxBatch:
    """One batch found in the inbox: its movies file and optional siblings (None if absent)."""

    stem: str
    movies: Path | None = None
    credits: Path | None = None
    keywords: Path | None = None
    extra: list[Path] = field(default_factory=list)  # files that match no convention

    def files(self) -> list[Path]:
        """Every file of the batch that exists (movies first)."""
        return [p for p in (self.movies, self.credits, self.keywords, *self.extra) if p is not None]


def scan_inbox(paths: Paths) -> list[InboxBatch]:
    """List the batches waiting in ``paths.inbox``, in name order of their stem.

    In: the workspace. Out: batches; a batch with ``movies is None`` holds only orphan
    siblings or unrecognised files (the caller files them as failed).
    """
    inbox = paths.inbox
    if not inbox.exists():
        return []
    batches: dict[str, InboxBatch] = {}
    for p in sorted(inbox.iterdir()):
        if not p.is_file() or p.name.startswith(".") or p.name.endswith(_IN_PROGRESS):
            continue
        m = _CSV_RE.match(p.name)
        if m is None:
            batch = batches.setdefault(p.name, InboxBatch(stem=p.name))
            batch.extra.append(p)
            continue
        batch = batches.setdefault(m["stem"], InboxBatch(stem=m["stem"]))
        kind = m["kind"] or "movies"
        if getattr(batch, kind) is not None:
            # Both x.csv and x.csv.gz: ambiguous, keep the second as an unprocessable extra.
            batch.extra.append(p)
        else:
            setattr(batch, kind, p)
    return [batches[k] for k in sorted(batches)]


def _stamp() -> str:
    """UTC timestamp prefix for filed inbox files (microseconds: names never collide)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def file_batch(paths: Paths, batch: InboxBatch, ok: bool, error: str | None = None) -> list[Path]:
    """Move every file of ``batch`` to ``processed/`` (ok) or ``failed/`` (+ error file).

    In: the workspace, the batch, success flag and error text. Out: the new paths. Names get
    a UTC timestamp prefix so repeated uploads of one name never collide.
    """
    dest_dir = paths.inbox / (INBOX_PROCESSED if ok else INBOX_FAILED)
    dest_dir.mkdir(parents=True, exist_ok=True)
    prefix = _stamp()
    moved = []
    for p in batch.files():
        dest = dest_dir / f"{prefix}-{p.name}"
        os.replace(p, dest)  # same file system: atomic, the file is in exactly one place
        moved.append(dest)
    if not ok:
        write_text_atomic((error or "unknown error").rstrip("\n") + "\n",
                          dest_dir / f"{prefix}-{batch.stem}.error.txt")
    log.info("inbox: %s -> %s/ (%d file(s))", batch.stem, dest_dir.name, len(moved))
    return moved
