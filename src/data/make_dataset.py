"""ETL entry point: raw movies/credits/keywords/links/ratings -> merged_data6.csv and friends.

``main`` reads the inputs (found by name in ``data/raw`` or given explicitly), cleans them
(src.data.clean, src.data.ratings), flattens the nested cells (src.data.flatten) and
writes, all or nothing:

* ``processed/merged_data6.csv``, ``ratings.csv`` (and the same rows as ``ratings.parquet``,
  read by training), ``links.csv``, ``etl_report.json``;
* ``interim/<table>.csv`` tidy tables and ``interim/quarantine/<input>.csv`` rejected rows.

Every output is first written to a temp file beside its target; the temp files are renamed
onto their targets only once all of them are complete, so a failure anywhere leaves every
previous output intact.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from src.config import (
    ETL_PARALLEL_CREDITS_MIN_MB,
    ID_COL,
    PATHS,
    RAW_MOVIES_NAMES,
    Paths,
)
from src.data.catalogue_clean import EXTRAS_KEY
from src.data.clean import LINE_COL
from src.data.credits_worker import CreditsJob
from src.data.csv_out import write_frame_csv
from src.data.flatten import CREDIT_TABLES, TIDY_SPECS, flatten_catalogue
from src.data.ingest import quarantine_path, run_input
from src.data.ratings import map_ratings
from src.data.readers import find_raw_inputs, input_name, read_raw_csv
from src.data.resolve import Context, read_registry
from src.data.shrink_guard import catalogue_size, check_shrink
from src.utils.errors import MissingInputError
from src.utils.io import atomic_path, sha256_file, write_parquet_verified
from src.utils.logging import get_logger, timed

__all__ = ["find_raw_inputs", "main"]

log = get_logger(__name__)

def resolve_inputs(given: dict[str, Any], paths: Paths) -> dict[str, Path | None]:
    """Inputs to use: the given ones if any was given, else those found in ``paths.raw``.

    Mixing is avoided on purpose: giving ``movies`` alone must not silently pick up
    unrelated credits from data/raw. Raises MissingInputError (a FileNotFoundError) for a
    missing movies file (naming where it looked) or a given path that does not exist.
    """
    if any(v is not None for v in given.values()):
        inputs = {k: (Path(v) if v is not None else None) for k, v in given.items()}
        if inputs["movies"] is None:
            found = find_raw_inputs(paths.raw)["movies"]
            if found is None:
                raise MissingInputError(
                    f"no movies file given and none in {paths.raw} (looked for "
                    f"{', '.join(RAW_MOVIES_NAMES)}, plain or .gz)")
            inputs["movies"] = found
    else:
        inputs = find_raw_inputs(paths.raw)
        if inputs["movies"] is None:
            raise MissingInputError(
                f"no movies file in {paths.raw}: looked for {', '.join(RAW_MOVIES_NAMES)} "
                "(plain or .gz); pass movies=... or run `invoke demo-data`")
    for kind, p in inputs.items():
        if p is not None and not p.is_file():
            raise MissingInputError(f"{kind} file not found: {p}")
    return inputs


def main(movies=None, credits=None, keywords=None, links=None, ratings=None,
         out_dir=None, paths: Paths = PATHS, schema: str | None = None,
         force: bool = False) -> dict:
    """Run the ETL.

    In: optional input paths (when none is given they are found by name in
    ``paths.raw``), ``out_dir`` replacing ``paths.processed``, the workspace ``paths``,
    the movies file's reader forced by name (``schema``; default: detected from the header,
    src.data.sources; ``UnknownSchemaError`` (ValueError) for a header no reader fits),
    ``force`` to accept a catalogue that shrinks past the guard (src.data.shrink_guard:
    otherwise ShrinkRefusedError, and every previous output stays).
    Out: the ETL report (also written to ``etl_report.json``): per input file ``rows_in``,
    ``rows_out``, ``quarantined`` by reason, ``duplicates_dropped``, sha256 and conversion
    failures; per output its path, rows and sha256; ratings coverage.
    """
    # The ETL rewrites the same files as `invoke update`: share its workspace lock so the
    # two can never interleave their renames (raises UpdateLockedError at once if held).
    from src.data.catalogue_store import update_lock

    with update_lock(paths):
        return _run(movies, credits, keywords, links, ratings, out_dir, paths, schema, force)


def _use_credits_worker(credits: Path | None) -> bool:
    """True when the credits file is big enough to be worth a worker process (see
    ``ETL_PARALLEL_CREDITS_MIN_MB``) and there is a second core to run it on."""
    return (credits is not None and (os.cpu_count() or 1) >= 2
            and credits.stat().st_size >= ETL_PARALLEL_CREDITS_MIN_MB * 1e6)


def _context(links: Path | None, paths: Paths) -> Context:
    """Entity-resolution context of a rebuild: no catalogue yet, the MovieLens links (raw
    text; rows the links cleaner would reject just never match) and the id registry."""
    raw_links = read_raw_csv(links)[0] if links is not None else None
    return Context(links=raw_links, registry=read_registry(paths.title_ids))


def _run(movies, credits, keywords, links, ratings, out_dir, paths: Paths,
         schema: str | None = None, force: bool = False) -> dict:
    """Body of :func:`main`, run while holding the workspace update lock."""
    start = time.perf_counter()
    inputs = resolve_inputs(dict(movies=movies, credits=credits, keywords=keywords,
                                  links=links, ratings=ratings), paths)
    processed = Path(out_dir) if out_dir is not None else paths.processed
    log.info("ETL inputs: %s", {k: str(v) if v else None for k, v in inputs.items()})

    # Every output is staged in a temp file entered on this ExitStack and renamed onto its
    # target only when the stack closes without error; on any failure the temp files are
    # removed (and the credits worker, if any, stopped first) and previous outputs stay.
    with contextlib.ExitStack() as stack:
        job = None
        if _use_credits_worker(inputs["credits"]):
            staged = {name: stack.enter_context(atomic_path(paths.interim / f"{name}.csv"))
                      for name in CREDIT_TABLES}
            job = stack.enter_context(CreditsJob(inputs["credits"], staged))

        cleaned: dict[str, pd.DataFrame | None] = {}
        quarantines: dict[str, tuple[Path, pd.DataFrame]] = {}
        input_stats: dict[str, dict] = {}
        extras = None
        for kind, path in tqdm(list(inputs.items()), desc="ETL inputs", unit="file"):
            cleaned[kind] = None
            if path is None or (kind == "credits" and job is not None):
                continue  # the worker's credits are collected below
            options: dict[str, Any] = {}
            if kind == "movies":  # first in the loop: the other inputs key on its ids
                options = {"schema": schema, "context": _context(inputs["links"], paths)}
            elif kind == "credits":
                options = {"id_of_source": extras.id_of_source or None}
            clean, quarantine, stats = run_input(kind, path, **options)
            if kind == "movies":
                extras = stats.pop(EXTRAS_KEY)
            cleaned[kind] = clean
            quarantines[kind] = (quarantine_path(paths, path), quarantine)
            input_stats[kind] = stats

        credit_part = None
        if job is not None:
            # Sent only now: the worker reads the ids once it has parsed the credits, and
            # until then a send bigger than the pipe buffer would block this process.
            job.send_ids(cleaned["movies"][ID_COL].to_numpy())
            credit_cols, quarantine, stats = job.columns()
            credit_part = (credit_cols, {})
            quarantines["credits"] = (quarantine_path(paths, inputs["credits"]), quarantine)
            input_stats["credits"] = stats
        report: dict[str, Any] = {"inputs": {
            input_name(inputs[kind]): {"kind": kind, **input_stats[kind]}
            for kind in inputs if kind in input_stats}, "outputs": {},
            "credits_worker": job is not None}

        if cleaned["credits"] is None and job is None and extras.credits is not None:
            cleaned["credits"] = extras.credits  # people listed in the catalogue file itself
        with timed(log, "flatten + merge") as t_flat:
            merged, tables = flatten_catalogue(cleaned["movies"], cleaned["credits"],
                                               cleaned["keywords"], credit_part=credit_part)
        report["stage_seconds"] = {"flatten": round(t_flat["seconds"], 3)}
        # Before anything is written: a broken movies file must not replace a good catalogue.
        check_shrink(catalogue_size(processed / paths.merged.name), len(merged),
                     f"this ETL run ({input_name(inputs['movies'])})", force=force)
        t_write = time.perf_counter()

        outputs: dict[str, tuple[Path, pd.DataFrame | None]] = {
            "merged": (processed / paths.merged.name, merged),
            "title_sources": (processed / paths.title_sources.name, extras.crosswalk),
            "title_ids": (paths.title_ids, extras.registry)}
        if cleaned["ratings"] is not None:
            mapped, coverage = map_ratings(cleaned["ratings"], cleaned["links"], merged["id"])
            outputs["ratings"] = (processed / paths.ratings.name, mapped)
            report["ratings_coverage"] = coverage
        if cleaned["links"] is not None:
            outputs["links"] = (processed / paths.links.name, cleaned["links"].drop(columns=LINE_COL))
        for name in TIDY_SPECS:
            if name in tables:
                outputs[f"interim/{name}"] = (paths.interim / f"{name}.csv", tables[name])
            elif job is not None and name in CREDIT_TABLES:
                outputs[f"interim/{name}"] = (paths.interim / f"{name}.csv", None)  # worker's
        for kind in inputs:
            if kind in quarantines:
                outputs[f"quarantine/{kind}"] = quarantines[kind]

        written: dict[str, tuple[int, str]] = {}
        for name, (target, df) in tqdm(outputs.items(), desc="ETL outputs", unit="file"):
            if df is None:  # staged by the credits worker
                if not written:
                    written = job.written()
                rows, digest = written[name.split("/", 1)[1]]
            else:
                tmp = stack.enter_context(atomic_path(target))
                rows, digest = int(len(df)), write_frame_csv(df, tmp)
            report["outputs"][name] = {"path": str(target), "rows": rows, "sha256": digest}
        if "ratings" in outputs:
            # The ratings again, columnar and typed, staged on the same stack (so committed
            # with the CSV or not at all) and written after it: training reads this file only
            # when it is not older than the CSV (src.models.ratings_data).
            with timed(log, "ratings.parquet"):
                target = processed / paths.ratings_parquet.name
                tmp = stack.enter_context(atomic_path(target, suffix=".parquet"))
                rows = write_ratings_parquet(outputs["ratings"][1], tmp)
            report["outputs"]["ratings_parquet"] = {"path": str(target), "rows": rows,
                                                    "sha256": sha256_file(tmp)}
        report["stage_seconds"]["write"] = round(time.perf_counter() - t_write, 3)
        report["seconds"] = round(time.perf_counter() - start, 3)
        tmp = stack.enter_context(atomic_path(processed / paths.etl_report.name))
        _write_report(report, tmp)
    log.info("ETL done in %.1fs: %d titles -> %s", report["seconds"], len(merged),
             outputs["merged"][0])
    return report


def write_ratings_parquet(ratings: pd.DataFrame, tmp: Path) -> int:
    """Write the mapped ratings (userId, movieId, rating, timestamp, tmdbId) to the staged
    Parquet file ``tmp``, read back and checked; return the row count.

    The CSV's columns and values, with their types kept (int64 ids, float64 ratings, nullable
    Int64 tmdbId), so a 26M-row load is a columnar read instead of a text parse.
    """
    write_parquet_verified(ratings.reset_index(drop=True), tmp, name="ratings.parquet")
    return int(len(ratings))


def _write_report(report: dict, tmp: Path) -> None:
    """Write the report JSON to its staged temp file."""
    import json

    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
