"""Clean one catalogue file of any registered schema: read -> adapt -> resolve ids -> clean.

The movies step of ``invoke data`` and ``invoke update``. A reader of
:mod:`src.data.sources` maps the header onto the cleaner's columns, :mod:`src.data.resolve`
gives rows of non-TMDB sources their StreamRec id, and ``src.data.clean.clean_movies``
cleans as before. What the ETL report gains per catalogue input: ``schema`` (the reader),
``columns_missing``, ``genres_unmapped`` and ``resolution`` (rows, matched by rule, new
titles, ambiguous). What travels beside the clean frame (``stats["_extras"]``, popped by
the caller before the report is written): a :class:`CatalogueExtras`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from src.config import ID_COL
from src.data.clean import LINE_COL, clean_credits, clean_movies
from src.data.resolve import AMBIGUOUS_REASON, Context, resolve
from src.data.sources import SOURCE_ID_COL, adapt, credits_frame, is_credits

EXTRAS_KEY = "_extras"


@dataclass
class CatalogueExtras:
    """Side outputs of cleaning one catalogue file.

    ``crosswalk``: rows for ``title_sources.csv``; ``registry``: the updated id registry;
    ``credits``: cast/crew the file itself carried (show_id schema) keyed by ``id``, or None;
    ``id_of_source``: source id -> StreamRec id (to key the source's credits file);
    ``supplied``: canonical columns the source really has (an update overwrites those).
    """

    crosswalk: pd.DataFrame
    registry: pd.DataFrame
    supplied: list[str]
    id_of_source: dict[str, int] = field(default_factory=dict)
    credits: pd.DataFrame | None = None


def clean_catalogue(raw: pd.DataFrame, source: str = "movies", schema: str | None = None,
                    context: Context | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a catalogue frame of any registered schema.

    In: the all-text frame from ``read_raw_csv``, the file's name, an optional forced
    schema and the resolution context (catalogue, links, id registry; empty by default).
    Out: ``(clean, quarantine, stats)`` as ``clean_movies`` gives, stats extended (module
    doc) and ``stats["_extras"]`` a :class:`CatalogueExtras`. Raises
    ``sources.UnknownSchemaError`` (a ValueError, one line) for a header no reader fits.
    """
    adapted = adapt(raw, source, schema)
    resolved = resolve(adapted.frame, adapted.schema, source, adapted.native_ids,
                       context or Context())
    frame = resolved.frame
    if not adapted.native_ids:
        frame = frame.drop(columns=[SOURCE_ID_COL])
    clean, quarantine, stats = clean_movies(frame, source)
    n_amb = len(resolved.quarantine)
    if n_amb:
        stats["rows_in"] += n_amb
        stats["quarantined"][AMBIGUOUS_REASON] = n_amb
        quarantine = pd.concat([quarantine, resolved.quarantine], ignore_index=True)
    stats["schema"] = adapted.schema
    stats["columns_missing"] = adapted.columns_missing
    stats["genres_unmapped"] = dict(sorted(adapted.genres_unmapped.items()))
    stats["resolution"] = resolved.report
    kept_ids = set(clean[ID_COL].tolist())
    crosswalk = resolved.crosswalk[pd.to_numeric(resolved.crosswalk[ID_COL], errors="coerce").isin(kept_ids)]
    id_of_source: dict[str, int] = {}
    if not adapted.native_ids:
        id_of_source = {s: int(i) for s, i in zip(crosswalk[SOURCE_ID_COL], crosswalk[ID_COL])}
    extras = CatalogueExtras(crosswalk=crosswalk.reset_index(drop=True),
                             registry=resolved.registry, supplied=adapted.supplied,
                             id_of_source=id_of_source)
    if adapted.credits is not None:
        extras.credits = key_by_id(adapted.credits, id_of_source)
    stats[EXTRAS_KEY] = extras
    return clean, quarantine, stats


def key_by_id(credits: pd.DataFrame, id_of_source: dict[str, int]) -> pd.DataFrame:
    """Credits keyed by ``source_id`` -> keyed by StreamRec ``id`` (rows of titles that did
    not make it into the catalogue are left out: their title was quarantined). Titles that
    several source rows resolved to keep the first row's credits."""
    ids = credits[SOURCE_ID_COL].map(id_of_source)
    out = credits.assign(**{ID_COL: ids}).dropna(subset=[ID_COL])
    out[ID_COL] = out[ID_COL].astype("int64")
    out = out.drop(columns=[SOURCE_ID_COL]).drop_duplicates(ID_COL)
    out.insert(0, LINE_COL, range(1, len(out) + 1))
    return out[[LINE_COL, ID_COL, "cast", "crew"]].reset_index(drop=True)


def clean_source_credits(raw: pd.DataFrame, source: str, id_of_source: dict[str, int]
                         ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a JustWatch credits file for the titles of its catalogue file.

    In: the all-text credits frame, its name, the catalogue's source id -> id map. Out:
    ``(clean, quarantine, stats)`` like ``clean_credits`` (``id``, ``cast``, ``crew``);
    person rows of titles not in the catalogue file are quarantined ``unknown_title``.
    """
    clean, quarantine, stats = credits_frame(raw)
    known = clean[SOURCE_ID_COL].isin(id_of_source.keys())
    if (~known).any():
        orphan_ids = set(clean.loc[~known, SOURCE_ID_COL])
        orphans = raw[raw["id"].isin(orphan_ids)].assign(reason="unknown_title")
        stats["rows_out"] -= len(orphans)
        stats["quarantined"]["unknown_title"] = int(len(orphans))
        quarantine = pd.concat([quarantine, orphans], ignore_index=True)
    return key_by_id(clean[known], id_of_source), quarantine, stats


def clean_credits_any(raw: pd.DataFrame, source: str = "credits",
                      id_of_source: dict[str, int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean a credits file of either shape: The Movies Dataset (``cast``, ``crew``, ``id``)
    or JustWatch (one row per person; needs ``id_of_source`` from its titles file).

    Raises ValueError (one line) for JustWatch credits given without their titles file.
    """
    if is_credits(raw.columns):
        if id_of_source is None:
            raise ValueError(f"{source}: JustWatch credits need their titles file (--movies "
                             "jw_<platform>_titles_<date>.csv) to know the titles' ids")
        return clean_source_credits(raw, source, id_of_source)
    return clean_credits(raw, source)
