"""Adapter between the updater and the ETL/feature stages: read, clean, flatten one batch.

The updater owns no parsing or cleaning rules: a batch goes through exactly the ETL's
reading (schema detection), cleaning, quarantining, de-duplication and flattening, and the
features through the feature stage's pure ``build_features``. This module only glues them
together for a *batch* (no links/ratings) and adds what is specific to updates: TMDB TV
column names (``name`` -> ``title``), and patching the interim tables for replaced ids.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from src.config import ID_COL, Paths
from src.data.catalogue_clean import EXTRAS_KEY, CatalogueExtras, clean_catalogue
from src.data.csv_out import write_frame_csv_atomic
from src.data.flatten import TIDY_SPECS, flatten_catalogue
from src.data.ingest import add_bad_lines, check_invariant, read_and_clean
from src.data.readers import input_name, read_raw_csv
from src.data.resolve import Context, read_registry
from src.features.build_features import build_features
from src.features.merged_io import read_merged, type_merged
from src.utils.logging import get_logger

log = get_logger(__name__)

# Tidy table (flatten.TIDY_SPECS name) -> which batch file supplies it; tables not listed
# come from the movies file.
INTERIM_SOURCES = {"cast": "credits", "crew": "credits", "keywords": "keywords"}
# TMDB's TV endpoints name two columns differently from movies.
TV_RENAMES = {"name": "title", "original_name": "original_title"}


@dataclass
class PreparedBatch:
    """One batch after the ETL's cleaning and flattening.

    ``merged``: clean rows in the merged_data6.csv schema (typed like the catalogue);
    ``quarantine``: bad rows of the movies file with a ``reason`` column;
    ``side_quarantine``/``side_stats``: those of the credits/keywords files; ``interim``:
    the batch's tidy tables by name (the file supplying each: ``INTERIM_SOURCES``);
    ``raw_columns``: the catalogue columns the movies file supplies (its reader's, after
    TV renames); ``credit_ids`` / ``keyword_ids``: titles the batch has credits / keywords
    for; counts for the report; ``extras``: the reader's side outputs (crosswalk rows, id
    registry); ``source_stats``: the movies file's reader/resolution report.
    """

    merged: pd.DataFrame
    quarantine: pd.DataFrame
    interim: dict[str, pd.DataFrame]
    raw_columns: list[str]
    rows_in: int
    duplicates_dropped: int
    side_quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    side_stats: dict = field(default_factory=dict)
    credit_ids: set[int] = field(default_factory=set)
    keyword_ids: set[int] = field(default_factory=set)
    extras: CatalogueExtras | None = None
    source_stats: dict = field(default_factory=dict)


def read_catalogue(paths: Paths) -> pd.DataFrame:
    """The current catalogue (``paths.merged``), typed by the feature stage's reader."""
    return read_merged(paths.merged)


def write_catalogue(merged: pd.DataFrame, target: Path) -> Path:
    """Write a merged catalogue frame to ``target`` atomically (the ETL's CSV writer)."""
    return write_frame_csv_atomic(merged, target)


def _as_csv_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as the all-text frame its CSV file would read back as (empty cells ``""``)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    buf.seek(0)
    return pd.read_csv(buf, dtype=str, keep_default_na=False, na_values=[])


def retype(merged: pd.DataFrame) -> pd.DataFrame:
    """Round-trip a merged frame through CSV text and the catalogue reader.

    Makes batch rows typed exactly like the catalogue read from disk, so the diff compares
    like with like (e.g. an int column in a small batch vs float in the catalogue).
    """
    return type_merged(_as_csv_text(merged))


def rebuild_features(merged_file: Path) -> pd.DataFrame:
    """Features of the catalogue at ``merged_file`` (the feature stage's read + pure build)."""
    return build_features(read_merged(merged_file))


def _read_movies(movies: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a batch's movies file with the ETL reader and map TMDB TV names to the catalogue's."""
    raw, bad_lines = read_raw_csv(movies)
    renames = {tv: col for tv, col in TV_RENAMES.items() if tv in raw.columns and col not in raw.columns}
    if renames:
        log.info("%s: TV column names mapped %s", movies.name, renames)
        raw = raw.rename(columns=renames)
    return raw, bad_lines


def resolution_context(paths: Paths, current: pd.DataFrame) -> Context:
    """What a batch's rows are resolved against: the current catalogue, the workspace's
    MovieLens links (when the ETL wrote them) and the id registry."""
    links = read_raw_csv(paths.links)[0] if paths.links.exists() else None
    return Context(catalogue=current, links=links, registry=read_registry(paths.title_ids))


def _read_side(path: Path | None, kind: str, stats_out: dict, **options) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Read and clean a credits/keywords file with the ETL; quarantined rows get ``source``."""
    if path is None:
        return None, pd.DataFrame()
    clean, q, stats = read_and_clean(kind, path, **options)
    stats_out[kind] = {k: stats[k] for k in ("rows_in", "rows_out", "quarantined", "duplicates_dropped")}
    return clean, q.assign(source=input_name(path)) if len(q) else q


def prepare_batch(movies: Path, credits: Path | None, keywords: Path | None,
                  source_name: str, schema: str | None = None,
                  context: Context | None = None) -> PreparedBatch:
    """Read, clean, quarantine, de-duplicate and flatten one batch with the ETL's functions.

    In: the batch files, the movies file's report name, its reader forced by name
    (default: detected) and the entity-resolution context. Out: a :class:`PreparedBatch`.
    Raises ValueError (``UnknownSchemaError``) when the movies file fits no reader.
    """
    raw, bad_lines = _read_movies(Path(movies))
    clean, quarantine, stats = clean_catalogue(raw, source_name, schema, context)
    extras: CatalogueExtras = stats.pop(EXTRAS_KEY)
    quarantine = add_bad_lines(quarantine, stats, bad_lines)
    check_invariant(stats, source_name, records=raw.attrs["records"])
    side_stats: dict = {}
    cred, q_cred = _read_side(credits, "credits", side_stats,
                              id_of_source=extras.id_of_source or None)
    if cred is None and extras.credits is not None:
        cred = extras.credits  # people listed in the catalogue file itself (show_id)
    kw, q_kw = _read_side(keywords, "keywords", side_stats)
    merged, tables = flatten_catalogue(clean, cred, kw)
    merged = retype(merged)
    movie_q = quarantine.assign(source=source_name)
    side_q = [q for q in (q_cred, q_kw) if len(q)]
    flags = merged.set_index(ID_COL)
    return PreparedBatch(
        merged=merged,
        # The report's per-title invariant counts rows of the movies file only; credits/
        # keywords rejects are filed beside them (column ``source``) and counted per file.
        quarantine=movie_q,
        side_quarantine=pd.concat(side_q, ignore_index=True) if side_q else pd.DataFrame(),
        side_stats=side_stats,
        interim=tables,
        raw_columns=list(extras.supplied),
        rows_in=int(stats["rows_in"]),
        duplicates_dropped=int(stats["duplicates_dropped"]),
        credit_ids=set(flags.index[flags["has_credits"].fillna(False).astype(bool)]),
        keyword_ids=set(flags.index[flags["has_keywords"].fillna(False).astype(bool)]),
        extras=extras,
        source_stats={k: stats[k] for k in ("schema", "columns_missing", "genres_unmapped",
                                            "resolution")},
    )


def patch_interim(paths: Paths, batch: PreparedBatch, replaced: set[int]) -> dict[str, pd.DataFrame]:
    """New interim tables: rows of the ids a batch replaces swapped for the batch's rows.

    In: the workspace, the prepared batch, ids added or updated. A table's rows for an id
    are replaced only when the batch supplied that table's source for the id: credits
    tables only for ids in the batch's credits, keywords for ids with keywords, the other
    tables only when the movies file has their source column (a TMDB-5000 batch has no
    ``belongs_to_collection``, so collections rows stay). Out: ``{file name: full new
    table}`` for each table that changes.
    """
    raw_cols = set(batch.raw_columns)
    out: dict[str, pd.DataFrame] = {}
    for name, rows in batch.interim.items():
        source = INTERIM_SOURCES.get(name, "movies")
        if source == "credits":
            ids = replaced & batch.credit_ids
        elif source == "keywords":
            ids = replaced & batch.keyword_ids
        elif TIDY_SPECS.get(name, (name,))[0] in raw_cols:
            ids = set(replaced)
        else:
            ids = set()
        if not ids:
            continue
        file_name = f"{name}.csv"
        new_rows = rows[rows[ID_COL].isin(ids)]
        target = paths.interim / file_name
        if target.exists():
            old = pd.read_csv(target, dtype=str, keep_default_na=False, na_values=[])
            keep = ~pd.to_numeric(old[ID_COL], errors="coerce").isin(ids)
            # Text round trip of the new rows, so the table's cells keep one CSV form.
            table = pd.concat([old[keep], _as_csv_text(new_rows)], ignore_index=True)
            log.info("interim %s: %d rows of %d titles replaced by %d rows", file_name,
                     int((~keep).sum()), len(ids), len(new_rows))
        else:
            table = new_rows
        out[file_name] = table
    return out


def updated_crosswalk(paths: Paths, batch: PreparedBatch) -> pd.DataFrame:
    """``title_sources.csv`` after a batch: the current crosswalk with the batch's rows
    (a source row seen before keeps one line, the latest)."""
    rows = batch.extras.crosswalk
    if paths.title_sources.exists():
        old = pd.read_csv(paths.title_sources, dtype=str, keep_default_na=False, na_values=[])
        rows = pd.concat([old, _as_csv_text(rows)], ignore_index=True)
    return rows.drop_duplicates(["source", "source_id"], keep="last").reset_index(drop=True)
