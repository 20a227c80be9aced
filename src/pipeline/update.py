"""Incremental catalogue updates: add or change movies and series without rerunning the ETL.

``invoke update --movies batch.csv [--credits c.csv] [--keywords k.csv]`` or ``--inbox``
(cron). One batch goes through the ETL's own reading, cleaning, quarantining and flattening
(:mod:`src.pipeline.update_etl` adapts them), is diffed against ``merged_data6.csv`` by ``id``
(:mod:`src.data.catalogue_diff`), and when anything changed a complete new generation of
every derived artifact (merged catalogue, interim tables, features, quarantine file and the
batch report) is staged and swapped in through a journal (:mod:`src.data.catalogue_store`),
so a crash at any point leaves either the previous or the new version complete. Afterwards
it optionally retrains the model (enough new viewer ratings) and asks a running server to
reload. See references/updates.md. With ``--platform P --as-of D`` the batch is that
platform's whole catalogue on that date and also updates availability
(:mod:`src.pipeline.platform_snapshot`); every applied batch is kept for `invoke data` to
replay (:mod:`src.pipeline.replay`). See references/catalogue.md.

Series share TMDB's id space with movies and can collide. StreamRec keys every title by
``id`` alone (ratings, the API and the recommender all do), so ids must be distinct across
media types: an incoming row whose id belongs to a catalogue title of the other media type
is quarantined with reason ``id_media_type_conflict`` (feeds must map series ids to a
range of their own).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from src.config import (
    ID_COL,
    PATHS,
    RETRAIN_MIN_NEW_RATINGS,
    TIMESTAMP_COL,
    UPDATE_RELOAD_TIMEOUT_S,
    UPDATE_SERVER_URL_ENV,
    Paths,
)
from src.data.admin_key import read_admin_token
from src.data.availability import SnapshotError, snapshot_of_name
from src.data.catalogue_diff import merge_batch, supplied_columns
from src.data.catalogue_store import (
    UpdateLockedError,
    commit,
    journal_path,
    new_generation,
    pause_point,
    recover,
    update_lock,
)
from src.data.csv_out import write_frame_csv_atomic
from src.data.feedback_store import RatingStore
from src.data.readers import input_name
from src.data.shrink_guard import check_shrink
from src.models.bundle import read_current_manifest
from src.models.train_model import main as train_main
from src.pipeline import platform_snapshot, update_etl
from src.pipeline.inbox import file_batch, scan_inbox
from src.utils.errors import MissingInputError, StreamRecError
from src.utils.io import sha256_file, write_json_atomic, write_parquet_atomic
from src.utils.logging import get_logger, setup_logging, timed

log = get_logger(__name__)

CONFLICT_REASON = "id_media_type_conflict"


def _stamp() -> str:
    """UTC timestamp used to name a batch report (microseconds: two runs never share one)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _input_info(path: str | os.PathLike | None) -> dict | None:
    """{"path", "sha256", "bytes"} of an input file, or None when not given."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise MissingInputError(f"update input {p} does not exist")
    return {"path": str(p), "sha256": sha256_file(p), "bytes": p.stat().st_size}


def _media_conflicts(current: pd.DataFrame, batch: pd.DataFrame) -> pd.Series:
    """Bool mask over ``batch``: id exists in ``current`` with the other media_type."""
    cur_type = current.set_index(ID_COL)["media_type"].replace("", "movie")
    existing = batch[ID_COL].map(cur_type)
    return existing.notna() & existing.ne(batch["media_type"].replace("", "movie"))


def _counts_by_media(batch: pd.DataFrame, ids) -> dict[str, int]:
    """How many of ``ids`` are movies / series in ``batch``."""
    sub = batch[batch[ID_COL].isin(list(ids))]
    return {str(k): int(v) for k, v in sub["media_type"].value_counts().sort_index().items()}


def apply_batch(movies, credits=None, keywords=None, paths: Paths = PATHS,
                source_name: str | None = None, schema: str | None = None,
                platform: str | None = None, as_of: str | None = None, record: bool = True,
                force: bool = False) -> dict:
    """Apply one batch to the workspace; call with the update lock held (see :func:`main`).

    In: the batch's movies file (either catalogue schema, optional media_type and series
    columns), optional credits/keywords files, the workspace, and the name quarantine files
    are filed under (default: the movies file name), the movies file's reader forced by
    name (default: detected, src.data.sources); with ``platform`` and ``as_of`` the batch
    is that platform's whole catalogue on that date (src.pipeline.platform_snapshot:
    titles it lists arrive, open stays it omits depart); ``force`` to pass the shrink guard.
    Out: the batch report, also written to ``paths.updates/<timestamp>.json``. Raises
    InputFileError/MissingInputError on a batch that cannot be read at all (the inbox files
    it as failed), ``SnapshotRefused`` for a snapshot older than the platform's last, and
    ShrinkRefusedError before staging anything if the new catalogue would be too small
    (src.data.shrink_guard); bad rows are quarantined instead.
    ``record``: keep an immutable copy of the applied batch (inputs, options, report) in
    ``paths.applied`` with the same commit, for `invoke data` to replay (a replay itself
    passes False).
    """
    stamp = _stamp()
    movies = Path(movies)
    source_name = source_name or input_name(movies)
    if not paths.merged.exists():
        raise MissingInputError(
            f"no catalogue at {paths.merged}: run the ETL (`invoke data`) before updates")
    report: dict = {
        "timestamp": stamp,
        "status": None,
        "inputs": {"movies": _input_info(movies), "credits": _input_info(credits),
                   "keywords": _input_info(keywords)},
    }
    if (platform is None) != (as_of is None):
        raise SnapshotError("--platform and --as-of go together: a snapshot is one platform's "
                            "catalogue on one date")
    snapshot = None
    if platform is not None:
        platform, as_of, snap_new = platform_snapshot.check(
            paths, platform, as_of, report["inputs"]["movies"]["sha256"])
        report.update(platform=platform, as_of=as_of)
    with timed(log, f"update {source_name}") as clock:
        current = update_etl.read_catalogue(paths)
        batch = update_etl.prepare_batch(movies, credits, keywords, source_name, schema,
                                         update_etl.resolution_context(paths, current))
        pause_point("read")
        rows, quarantine = batch.merged, batch.quarantine
        conflicts = _media_conflicts(current, rows)
        if conflicts.any():
            q = rows[conflicts].assign(reason=CONFLICT_REASON)
            log.warning("%d row(s) quarantined: id already used by a title of the other media type "
                        "(ids %s)", int(conflicts.sum()), q[ID_COL].head(5).tolist())
            quarantine = pd.concat([quarantine, q], ignore_index=True)
            rows = rows[~conflicts]
        supplied = supplied_columns(list(current.columns), batch.raw_columns)
        result = merge_batch(current, rows, supplied)
        # merge_batch only adds and updates today; the guard keeps that a checked promise.
        check_shrink(len(current), len(result["merged"]), f"update {source_name}", force=force)
        added, updated, unchanged = result["added"], result["updated"], result["unchanged"]
        if platform is not None:
            snapshot = platform_snapshot.apply(
                paths, platform, as_of, source_name, report["inputs"]["movies"]["sha256"],
                snap_new, rows[ID_COL].tolist(), result["merged"])
            report.update(arrived=len(snapshot.arrived), departed=len(snapshot.departed),
                          arrived_ids=snapshot.arrived, departed_ids=snapshot.departed)
        quarantined = (quarantine["reason"].value_counts().sort_index().to_dict()
                       if len(quarantine) else {})
        report.update({
            "rows_in": batch.rows_in,
            "source": batch.source_stats,
            "added": len(added),
            "updated": len(updated),
            "unchanged": len(unchanged),
            "quarantined": {str(k): int(v) for k, v in quarantined.items()},
            "duplicates_dropped": batch.duplicates_dropped,
            "by_media_type": {"added": _counts_by_media(rows, added),
                              "updated": _counts_by_media(rows, updated)},
            "added_ids": added,
            "updated_ids": {str(k): v for k, v in updated.items()},
            "catalogue_rows": {"before": len(current), "after": len(result["merged"])},
        })
        log.info("batch %s: %d rows in -> %d added, %d updated, %d unchanged, %d quarantined, "
                 "%d duplicates", source_name, batch.rows_in, len(added), len(updated),
                 len(unchanged), len(quarantine), batch.duplicates_dropped)
        for kind, st in batch.side_stats.items():
            report["inputs"][kind]["stats"] = st
        # One quarantine file per batch: movie rows first, then credits/keywords rejects.
        if len(batch.side_quarantine):
            quarantine = pd.concat([quarantine, batch.side_quarantine], ignore_index=True)
        report_path = paths.updates / f"{stamp}.json"
        quarantine_path = paths.quarantine / f"update-{stamp}-{source_name}"
        if not quarantine_path.name.endswith(".csv"):
            quarantine_path = quarantine_path.with_name(quarantine_path.name + ".csv")
        report["quarantine_file"] = str(quarantine_path.relative_to(paths.root)) if len(quarantine) else None

        if not added and not updated and not (snapshot and snapshot.changed):
            log.info("nothing to do: the catalogue already holds every row of %s", source_name)
            report["status"] = "unchanged"
            report["outputs"] = {}
            if len(quarantine):
                write_frame_csv_atomic(quarantine, quarantine_path)
            report["seconds"] = round(clock.get("seconds", 0.0), 3)
            write_json_atomic(report, report_path)
            return report

        gen = new_generation(paths)
        try:
            staged = _stage_generation(paths, gen, current, result, batch, quarantine,
                                       quarantine_path, snapshot)
            report["status"] = "applied"
            # Output checksums are known before the swap: the report travels with its generation.
            report["outputs"] = {str(t.relative_to(paths.root)): sha256_file(s)
                                 for t, s in staged.items()}
            staged_report = gen / "report.json"
            write_json_atomic(report, staged_report)
            staged[report_path] = staged_report
            if record:
                staged.update(_stage_record(paths, gen, stamp, report, source_name, schema,
                                            dict(movies=movies, credits=credits, keywords=keywords)))
            pause_point("staged")
            commit(paths, staged)
        except BaseException:
            # Before the commit point nothing is visible: drop the partial generation. After it,
            # commit() has finished or raised JournalConflictError, which leaves the journal.
            if not journal_path(paths).exists():
                shutil.rmtree(gen, ignore_errors=True)
            raise
    report["seconds"] = round(clock["seconds"], 3)
    log.info("catalogue now %d titles (%s)", len(result["merged"]), report_path)
    return report


def _stage_generation(paths: Paths, gen: Path, current: pd.DataFrame, result: dict,
                      batch: "update_etl.PreparedBatch", quarantine: pd.DataFrame,
                      quarantine_path: Path, snapshot=None) -> dict[Path, Path]:
    """Write the complete new generation into ``gen``; return ``{target: staged file}``.

    Order of the mapping = rename order at commit: quarantine and interim tables first,
    then the merged catalogue, features last (what the recommender loads).
    """
    staged: dict[Path, Path] = {}
    if len(quarantine):
        staged[quarantine_path] = write_frame_csv_atomic(quarantine, gen / "quarantine.csv")
    replaced = set(result["added"]) | set(map(int, result["updated"]))
    for name, table in update_etl.patch_interim(paths, batch, replaced).items():
        staged[paths.interim / name] = write_frame_csv_atomic(table, gen / "interim" / name)
    staged[paths.title_sources] = write_frame_csv_atomic(
        update_etl.updated_crosswalk(paths, batch), gen / "title_sources.csv")
    staged[paths.title_ids] = write_frame_csv_atomic(batch.extras.registry, gen / "title_ids.csv")
    if snapshot is not None and snapshot.changed:
        staged[paths.availability] = write_frame_csv_atomic(snapshot.availability,
                                                            gen / "availability.csv")
        staged[paths.platform_snapshots] = write_frame_csv_atomic(snapshot.snapshots,
                                                                  gen / "platform_snapshots.csv")
    merged_file = update_etl.write_catalogue(result["merged"], gen / "merged_data6.csv")
    staged[paths.merged] = merged_file
    with timed(log, "features rebuild"):
        features = update_etl.rebuild_features(merged_file)
        staged[paths.features] = write_parquet_atomic(features, gen / "features.parquet")
    log.info("staged %d files in %s", len(staged), gen)
    return staged


def _stage_record(paths: Paths, gen: Path, stamp: str, report: dict, source_name: str,
                  schema: str | None, inputs: dict) -> dict[Path, Path]:
    """Stage the applied batch's permanent record: ``paths.applied/<seq>-<stamp>/`` with
    byte copies of its input files, ``batch.json`` (what to pass to :func:`apply_batch` to
    apply it again) and ``report.json``. Out: ``{target: staged file}``."""
    paths.applied.mkdir(parents=True, exist_ok=True)
    seq = 1 + sum(1 for p in paths.applied.iterdir() if p.is_dir())
    target_dir = paths.applied / f"{seq:06d}-{stamp}"
    staged: dict[Path, Path] = {}
    files: dict[str, str] = {}
    for kind, path in inputs.items():
        if path is None:
            continue
        name = f"{kind}-{Path(path).name}"  # kind prefix: two inputs never share a name
        copy = gen / "applied" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        staged[target_dir / name] = copy
        files[kind] = name
    spec = {"seq": seq, "timestamp": stamp, "source_name": source_name, "schema": schema,
            "platform": report.get("platform"), "as_of": report.get("as_of"), "files": files}
    staged[target_dir / "batch.json"] = write_json_atomic(spec, gen / "applied" / "batch.json")
    staged[target_dir / "report.json"] = write_json_atomic(report, gen / "applied" / "report.json")
    return staged


# --- after a successful swap -------------------------------------------------------------

def _epoch(created_at: str | float | int | None) -> float | None:
    """Seconds since the epoch of a manifest ``created_at`` (ISO text or a number)."""
    if created_at is None:
        return None
    if isinstance(created_at, (int, float)):
        return float(created_at)
    ts = _dt.datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_dt.timezone.utc)
    return ts.timestamp()


def maybe_retrain(paths: Paths = PATHS, min_new: int = RETRAIN_MIN_NEW_RATINGS) -> dict:
    """Retrain the model when at least ``min_new`` viewer ratings arrived since it was built.

    In: the workspace and the threshold (config ``RETRAIN_MIN_NEW_RATINGS``). New ratings are
    counted in the SQLite feedback store (``paths.ratings_db``) with a timestamp after the
    live bundle manifest's ``created_at``. Out: ``{"retrained": bool, "reason": str,
    "new_ratings": n, ...}``; a skip is logged with its reason.
    """
    out: dict = {"retrained": False, "threshold": int(min_new)}
    if not paths.model_pointer.exists():
        out["reason"] = f"no model at {paths.model_pointer}: run `invoke train` first"
    elif not paths.ratings_db.exists():
        out["reason"] = f"no feedback store at {paths.ratings_db}: no new ratings"
        out["new_ratings"] = 0
    else:
        created = _epoch(read_current_manifest(paths)["metadata"].get("created_at"))
        with RatingStore(paths.ratings_db) as store:
            fb = store.all_ratings()
        new = int((fb[TIMESTAMP_COL] > created).sum()) if created is not None else len(fb)
        out.update(new_ratings=new, model_created_at=created)
        if new < min_new:
            out["reason"] = f"{new} new rating(s) since the model was trained < threshold {min_new}"
        else:
            with timed(log, "retrain"):
                bundle = train_main(paths=paths)
            out.update(retrained=True, reason=f"{new} new ratings >= threshold {min_new}",
                       bundle=str(bundle))
    log.info("retrain: %s (%s)", "done" if out["retrained"] else "skipped", out["reason"])
    return out


def notify_server(url: str | None = None, timeout: float = UPDATE_RELOAD_TIMEOUT_S,
                  paths: Paths | None = None) -> dict:
    """POST ``{url}/admin/reload`` so a running server serves the new catalogue/model.

    In: the server base URL (default env ``STREAMREC_SERVER_URL``; nothing happens when
    neither is set), a short timeout, and the workspace whose admin key to send (default
    the repo's; env ``STREAMREC_ADMIN_TOKEN`` wins). Out: ``{"url", "status"}`` or
    ``{"url", "error"}``. Never raises: a server that is down must not fail an update or a
    training run that is already on disk.
    """
    url = url or os.environ.get(UPDATE_SERVER_URL_ENV)
    if not url:
        return {"url": None, "skipped": f"{UPDATE_SERVER_URL_ENV} not set"}
    target = url.rstrip("/") + "/admin/reload"
    token = read_admin_token(paths or PATHS)
    # JSON content type: urllib would label the empty body as a form, which the server's
    # admin guard refuses (a browser form must never reach /admin).
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(target, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator-set URL
            status = resp.status
        log.info("server reload %s -> HTTP %d", target, status)
        return {"url": target, "status": status}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        code = getattr(exc, "code", None)
        log.warning("server reload %s failed (%s); the server keeps its old catalogue until "
                    "reloaded", target, exc)
        return {"url": target, "error": str(exc), **({"status": code} if code else {})}


def _after(reports: list[dict], retrain: bool, paths: Paths, server_url: str | None) -> dict:
    """Retrain (if asked) and reload the server once, after all batches; record both."""
    extra: dict = {}
    changed = any(r.get("status") == "applied" for r in reports)
    if retrain:
        extra["retrain"] = maybe_retrain(paths)
    if changed or extra.get("retrain", {}).get("retrained"):
        extra["reload"] = notify_server(server_url, paths=paths)
    for r in reports:
        if r.get("timestamp") and extra:
            r.update(extra)
            # Re-write the batch report with the after-swap outcome (single file: atomic).
            write_json_atomic(r, paths.updates / f"{r['timestamp']}.json")
    return extra


# --- entry points ----------------------------------------------------------------------

def _error_line(exc: BaseException) -> str:
    """What an inbox error file says about ``exc``: the project's own one-line messages as
    they are (they name files and problems, never contents); for anything else only its
    type, since a library's message may quote the file (the traceback goes to the log)."""
    if isinstance(exc, StreamRecError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__} (unexpected error; the traceback is in the update log)"


def _run_inbox_batch(paths: Paths, b, reports: list[dict]) -> dict:
    """Apply one inbox batch and file it; never raises for a bad batch. Out: its summary."""
    if b.problem is not None or b.movies is None:
        msg = b.problem or (f"no movies file for {b.stem}: expected {b.stem}.csv[.gz] beside "
                            f"{[p.name for p in b.files()]}")
        log.error("inbox batch %s not applied: %s", b.stem, msg)
        file_batch(paths, b, ok=False, error=msg)
        return {"stem": b.stem, "status": "failed", "error": msg}
    try:
        # <platform>@<YYYY-MM-DD>… names a platform snapshot (src.data.availability).
        platform, as_of = snapshot_of_name(b.stem) or (None, None)
        rep = apply_batch(b.movies, b.credits, b.keywords, paths, source_name=b.movies.name,
                          platform=platform, as_of=as_of)
    except Exception as exc:  # one bad file must not block the rest of the inbox
        msg = _error_line(exc)
        if isinstance(exc, StreamRecError):
            log.error("inbox batch %s failed: %s", b.stem, msg)
        else:
            log.exception("inbox batch %s failed", b.stem)
        file_batch(paths, b, ok=False, error=msg)
        return {"stem": b.stem, "status": "failed", "error": msg}
    reports.append(rep)
    summary = {"stem": b.stem, "status": rep["status"], "report": rep["timestamp"],
               "added": rep["added"], "updated": rep["updated"]}
    changed = b.changed()
    if changed:
        # Still being written while it was applied: what was read is in, the rest is not.
        # Left in place, the next run applies the whole file again (idempotent by id).
        log.error("inbox batch %s: %s changed while being applied; left in the inbox for the "
                  "next run", b.stem, changed)
        return {**summary, "left_in_inbox": changed}
    if b.extra:
        log.warning("inbox: %s has unrecognised files %s (filed with it)",
                    b.stem, [p.name for p in b.extra])
    file_batch(paths, b, ok=True)
    return summary



def run_inbox(paths: Paths = PATHS, retrain: bool = False, server_url: str | None = None) -> dict:
    """Process every batch waiting in ``paths.inbox`` in name order (cron entry point).

    Out: ``{"status": "empty" | "locked" | "done", "batches": [...]}`` (``reason`` too when
    locked); never raises for a bad batch (it goes to ``failed/`` with an ``.error.txt``)
    nor when another run holds the lock (``invoke update`` then exits 2 with the reason,
    like a direct run; the files wait for the next run).
    """
    try:
        with update_lock(paths):
            recovered = recover(paths)
            batches = scan_inbox(paths)
            if not batches:
                log.info("inbox %s: nothing to do", paths.inbox)
                return {"status": "empty", "batches": [], "recovery": recovered}
            results, reports = [], []
            # Progress only matters for a backlog (e.g. after downtime); one batch logs enough.
            for b in tqdm(batches, desc="inbox", unit="batch", disable=len(batches) < 2):
                results.append(_run_inbox_batch(paths, b, reports))
            extra = _after(reports, retrain, paths, server_url)
            return {"status": "done", "batches": results, "recovery": recovered, **extra}
    except UpdateLockedError as exc:
        log.info("inbox: %s; nothing done this time", exc)
        return {"status": "locked", "batches": [], "reason": str(exc)}


def main(movies=None, credits=None, keywords=None, inbox: bool = False, retrain: bool = False,
         paths: Paths = PATHS, server_url: str | None = None, schema: str | None = None,
         platform: str | None = None, as_of: str | None = None, force: bool = False) -> dict:
    """Apply a batch (``movies`` [+ ``credits``, ``keywords``]) or the whole inbox.

    In: batch files, or ``inbox=True``; ``retrain`` to retrain when enough new ratings
    exist; the workspace; the server to reload (default env ``STREAMREC_SERVER_URL``); the
    batch's reader forced by name (``schema``; default: detected from the header); a
    platform snapshot's ``platform`` and ``as_of`` date (see :func:`apply_batch`);
    ``force`` to pass the shrink guard (direct batches only: the inbox never forces).
    Out: the batch report (``--movies``) or the inbox summary (``--inbox``). A direct run
    that finds another update running raises UpdateLockedError ("another update is
    running"); the inbox run logs it and returns ``status: locked`` with that ``reason``.
    """
    setup_logging()
    paths.ensure()
    if inbox:
        return run_inbox(paths, retrain=retrain, server_url=server_url)
    if movies is None:
        raise StreamRecError("give a batch file (--movies PATH) or use --inbox")
    with update_lock(paths):
        recover(paths)
        report = apply_batch(movies, credits, keywords, paths, schema=schema,
                             platform=platform, as_of=as_of, force=force)
        _after([report], retrain, paths, server_url)
    return report
