"""Read and clean one input file: the step ETL (``invoke data``) and updates share.

In: an input's kind (movies/credits/keywords/links/ratings) and path. Out: ``(clean,
quarantine, stats)`` with every physical record accounted for (``check_invariant``).
Sits below :mod:`src.data.make_dataset` and the credits worker so both, and the update
pipeline, call one implementation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pandas as pd

from src.config import Paths
from src.data.catalogue_clean import clean_catalogue, clean_credits_any
from src.data.clean import clean_keywords
from src.data.ratings import clean_links, clean_ratings
from src.data.readers import input_name, read_raw_csv
from src.utils.io import sha256_file
from src.utils.logging import get_logger, timed

__all__ = ["CLEANERS", "add_bad_lines", "check_invariant", "quarantine_path", "read_and_clean",
           "run_input"]

log = get_logger(__name__)

# movies/credits: any registered catalogue schema (src.data.sources), ids resolved.
CLEANERS: dict[str, Callable] = {
    "movies": clean_catalogue,
    "credits": clean_credits_any,
    "keywords": clean_keywords,
    "links": clean_links,
    "ratings": clean_ratings,
}


def quarantine_path(paths: Paths, source: str | os.PathLike) -> Path:
    """Quarantine file of an input: ``quarantine/<input name without .csv/.gz>.csv``."""
    name = input_name(source)
    stem = name[:-4] if name.endswith(".csv") else name
    return paths.quarantine / f"{stem}.csv"


def add_bad_lines(quarantine: pd.DataFrame, stats: dict, bad: pd.DataFrame) -> pd.DataFrame:
    """Count a file's records rejected by the reader (``read_raw_csv``) as read and quarantined.

    In: a cleaner's quarantine and stats (updated in place) and the rejected records. Out:
    the quarantine with them appended (their reasons: src.data.csv_records).
    """
    if not len(bad):
        return quarantine
    stats["rows_in"] += len(bad)
    for reason, n in bad["reason"].value_counts().items():
        stats["quarantined"][reason] = stats["quarantined"].get(reason, 0) + int(n)
    return pd.concat([quarantine, bad], ignore_index=True)


def read_and_clean(kind: str, path: str | os.PathLike, **options) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read one input with the ETL reader and clean it with its kind's cleaner.

    In: its kind (movies/credits/keywords/links/ratings), path and the cleaner's keyword
    options (movies: ``schema``, ``context``; credits: ``id_of_source``). Out: ``(clean,
    quarantine, stats)``, malformed CSV records included (:func:`add_bad_lines`) and the
    ``encoding``/``delimiter`` the file was read with; raises if the counts do not add up
    (:func:`check_invariant`).
    """
    raw, bad = read_raw_csv(path)
    clean, quarantine, stats = CLEANERS[kind](raw, input_name(path), **options)
    quarantine = add_bad_lines(quarantine, stats, bad)
    check_invariant(stats, kind, records=raw.attrs["records"])
    # How the file was read, for the report: a Latin-1 or ';' export is worth knowing about.
    stats.update(encoding=raw.attrs["encoding"], delimiter=raw.attrs["delimiter"])
    return clean, quarantine, stats


def run_input(kind: str, path: str | os.PathLike, **options) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read and clean one input file (:func:`read_and_clean`), timed and checksummed.

    In: its kind (movies/credits/keywords/links/ratings), path and cleaner options. Out:
    ``(clean, quarantine, stats)`` where stats also carries the file's path, sha256 and seconds.
    """
    path = Path(path)
    with timed(log, f"{kind} ({path.name})") as t:
        clean, quarantine, stats = read_and_clean(kind, path, **options)
    stats = {"file": str(path), "sha256": sha256_file(path), **stats,
             "seconds": round(t["seconds"], 3)}
    return clean, quarantine, stats


def check_invariant(stats: dict, what: str, records: int | None = None) -> None:
    """Raise if ``rows_in != rows_out + sum(quarantined) + duplicates_dropped`` (a row was
    lost or invented: a bug, never a data problem).

    ``records``: the file's record count from the reader's line-accounted split
    (``df.attrs["records"]``, counted before any cleaning); when given, ``rows_in`` must
    equal it too, so a record the cleaning lost cannot hide behind a ``rows_in`` counted
    after it.
    """
    if records is not None and stats["rows_in"] != records:
        raise RuntimeError(f"{what}: the reader found {records} records but cleaning counted "
                           f"{stats['rows_in']} rows in")
    accounted = stats["rows_out"] + sum(stats["quarantined"].values()) + stats["duplicates_dropped"]
    if stats["rows_in"] != accounted:
        raise RuntimeError(f"{what}: {stats['rows_in']} rows in but {accounted} accounted for "
                           f"({stats})")


