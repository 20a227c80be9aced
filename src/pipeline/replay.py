"""Rebuild the catalogue from ``data/raw`` and replay every applied update (``invoke data``).

An update changes the catalogue in place; rebuilding from ``data/raw`` alone would throw
those changes away. So every applied batch is kept in ``data/external/applied/<seq>-<ts>/``
(``src.pipeline.update`` stages it with the batch's own commit) and :func:`rebuild` runs
the ETL, drops what only updates produce (availability, snapshot log), then applies every
kept batch again in order, with the options it was applied with. Ids stay the same because
the id registry (``data/external/title_ids.csv``) survives rebuilds.

``out_dir``: a whole other workspace root for every output (processed, interim,
quarantine, the replayed state); the source workspace is only read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tqdm.auto import tqdm

from src.config import PATHS, Paths
from src.data.catalogue_store import update_lock
from src.data.make_dataset import resolve_inputs
from src.data.make_dataset import main as etl_main
from src.pipeline.update import apply_batch
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

# Files only updates write: reset before a replay so the batches rebuild them from scratch.
UPDATE_STATE = ("availability", "platform_snapshots")


def applied_batches(paths: Paths) -> list[tuple[Path, dict]]:
    """The kept batches in the order they were applied: ``[(folder, batch.json content)]``."""
    if not paths.applied.exists():
        return []
    out = []
    for folder in sorted(p for p in paths.applied.iterdir() if p.is_dir()):
        spec_file = folder / "batch.json"
        if spec_file.is_file():
            out.append((folder, json.loads(spec_file.read_text())))
    return out


def replay(paths: Paths, source: Paths | None = None) -> list[dict]:
    """Apply every batch kept in ``source.applied`` (default ``paths``) to ``paths``, in order.

    In: the workspace to change (holding a fresh ETL catalogue) and the one whose batches
    to replay. Out: one summary per batch (folder, status, added, updated, arrived,
    departed). Raises RuntimeError naming the batch when one can no longer be applied.
    """
    source = source or paths
    batches = applied_batches(source)
    summaries = []
    with update_lock(paths):
        for name in UPDATE_STATE:
            getattr(paths, name).unlink(missing_ok=True)
        for folder, spec in tqdm(batches, desc="replay updates", unit="batch",
                                 disable=len(batches) < 2):
            files = {k: folder / v for k, v in spec["files"].items()}
            try:
                rep = apply_batch(files["movies"], files.get("credits"), files.get("keywords"),
                                  paths, source_name=spec["source_name"], schema=spec["schema"],
                                  platform=spec["platform"], as_of=spec["as_of"], record=False)
            except Exception as exc:
                raise RuntimeError(f"replay of applied batch {folder.name} failed: {exc}") from exc
            summaries.append({"batch": folder.name, "status": rep["status"],
                              **{k: rep.get(k) for k in ("added", "updated", "arrived", "departed")}})
    log.info("replayed %d applied batch(es) from %s", len(summaries), source.applied)
    return summaries


def rebuild(movies=None, credits=None, keywords=None, links=None, ratings=None,
            out_dir=None, schema: str | None = None, paths: Paths = PATHS,
            force: bool = False) -> dict:
    """ETL from raw (``src.data.make_dataset.main``) then :func:`replay`.

    In: the ETL's inputs (default: found in ``paths.raw``), ``out_dir`` (a workspace root
    receiving every output instead of ``paths``), the forced reader, ``force`` to pass the
    shrink guard (src.data.shrink_guard). Out: the ETL report
    with ``replayed`` (one summary per batch).
    """
    target = paths
    given = dict(movies=movies, credits=credits, keywords=keywords, links=links, ratings=ratings)
    if out_dir is not None:
        target = Paths.from_root(out_dir).ensure()
        given = {k: (str(v) if v else None) for k, v in resolve_inputs(given, paths).items()}
        if paths.title_ids.exists() and not target.title_ids.exists():
            shutil.copyfile(paths.title_ids, target.title_ids)  # same ids as the source workspace
    with timed(log, "rebuild (ETL + replay)"):
        report = etl_main(**given, paths=target, schema=schema, force=force)
        report["replayed"] = replay(target, source=paths)
    return report
