"""Flatten parsed nested cells into tidy tables and into the per-title columns of merged_data6.

Tidy tables (``data/interim/<name>.csv``) keep one row per title x entity with the entity's
ids and names (cast order/character, crew job/department), for analysis and for the
updater. The merged catalogue keeps one row per title with list cells joined by
``LIST_SEP`` (see src.data.schema).
"""

from __future__ import annotations

from itertools import chain
from typing import Any, Iterable

import numpy as np
import pandas as pd

from src.config import ID_COL
from src.data.schema import MERGED_CAST_TOP, MERGED_COLUMNS, join_list
from src.utils.logging import get_logger

log = get_logger(__name__)

# Tidy table name -> (source column, {output column: key in each dict}).
TIDY_SPECS: dict[str, tuple[str, dict[str, str]]] = {
    "genres": ("genres", {"genre_id": "id", "name": "name"}),
    "production_companies": ("production_companies", {"company_id": "id", "name": "name"}),
    "production_countries": ("production_countries", {"iso_3166_1": "iso_3166_1", "name": "name"}),
    "spoken_languages": ("spoken_languages", {"iso_639_1": "iso_639_1", "name": "name"}),
    "collections": ("belongs_to_collection", {"collection_id": "id", "name": "name"}),
    "keywords": ("keywords", {"keyword_id": "id", "name": "name"}),
    "cast": ("cast", {"person_id": "id", "name": "name", "character": "character",
                      "order": "order", "cast_id": "cast_id", "gender": "gender",
                      "credit_id": "credit_id"}),
    "crew": ("crew", {"person_id": "id", "name": "name", "job": "job",
                      "department": "department", "gender": "gender", "credit_id": "credit_id"}),
}


def explode_entities(ids: Iterable[int], cells: Iterable[Any], fields: dict[str, str]) -> pd.DataFrame:
    """One row per (title, entity): ``id`` plus ``fields`` taken from each entity dict.

    In: title ids, their parsed cells (list of dicts, one dict, or None/[]), and the
    output-column -> dict-key mapping. Out: the tidy DataFrame (entities kept in order).
    """
    ids = list(ids)
    cells = [(c if isinstance(c, list) else [c]) if c else () for c in cells]
    # Column by column over one flat list of entities: a few C-level passes instead of a
    # Python tuple per entity (the cast/crew tables have ~1M entities at full scale).
    counts = np.fromiter((len(c) for c in cells), dtype=np.int64, count=len(cells))
    flat = list(chain.from_iterable(cells))
    data: dict[str, Any] = {ID_COL: np.repeat(np.asarray(ids), counts)}
    for out_col, key in fields.items():
        data[out_col] = [ent.get(key) for ent in flat]
    # The dict constructor infers each column's dtype (int/float/str/object) the same way
    # the former row-wise one did; the ETL output snapshots are byte-identical.
    return pd.DataFrame(data, columns=[ID_COL, *fields.keys()]) if flat else \
        pd.DataFrame([], columns=[ID_COL, *fields.keys()])


def _names(cell: Any, key: str = "name") -> str:
    """Joined ``key`` values of a list-of-dicts cell (fallback to ``name`` when missing)."""
    if not cell:
        return ""
    return join_list(d.get(key) or d.get("name") for d in cell)


def _top_cast(cell: Any) -> str:
    """The first :data:`MERGED_CAST_TOP` cast names by billing ``order`` (ties: file order)."""
    if not cell:
        return ""
    orders = [d.get("order") for d in cell]
    # Nearly every cell is already in billing order (0, 1, 2...): then the stable sort
    # below would return it unchanged, so skip it (it costs ~1 s at full scale).
    if all(type(o) is int for o in orders) and orders == sorted(orders):
        return join_list(d.get("name") for d in cell[:MERGED_CAST_TOP])
    ranked = sorted(enumerate(cell), key=lambda p: (_order(p[1].get("order")), p[0]))
    return join_list(d.get("name") for _, d in ranked[:MERGED_CAST_TOP])


def _order(value: Any) -> float:
    """Billing order as a number; a missing/odd order sorts last."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _directors(cell: Any) -> str:
    """Names of the crew members whose job is Director, in file order, de-duplicated."""
    if not cell:
        return ""
    seen: dict[str, None] = {}
    for d in cell:
        if d.get("job") == "Director" and d.get("name"):
            seen.setdefault(str(d["name"]), None)
    return join_list(seen)


CREDIT_TABLES = ("cast", "crew")  # tidy tables built from the credits file


def flatten_credits(ids: Iterable[int], credits: pd.DataFrame | None
                    ) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Flatten the credits of the catalogue titles ``ids`` (in that order).

    In: catalogue title ids and the clean credits of :mod:`src.data.clean` (None = no
    credits file). Out: ``(columns, tables)``: columns ``has_credits`` (bool array),
    ``cast`` (top-billed names) and ``directors`` (joined names), aligned with ``ids``;
    tables the tidy ``cast`` and ``crew`` tables. Runs in the ETL's credits worker process
    at full scale (src.data.credits_worker), in-process otherwise: same code either way.
    """
    ids = pd.Series(np.asarray(ids))
    if credits is not None and len(credits):
        has_credits = ids.isin(credits[ID_COL]).to_numpy()
        cells = {}
        for col in CREDIT_TABLES:
            lookup = dict(zip(credits[ID_COL], credits[col]))
            cells[col] = [lookup.get(i) or [] for i in ids]
    else:
        has_credits = np.zeros(len(ids), dtype=bool)
        cells = {col: [[] for _ in range(len(ids))] for col in CREDIT_TABLES}
    tables = {name: explode_entities(ids, cells[TIDY_SPECS[name][0]], TIDY_SPECS[name][1])
              for name in CREDIT_TABLES}
    columns = {"has_credits": has_credits,
               "cast": [_top_cast(c) for c in cells["cast"]],
               "directors": [_directors(c) for c in cells["crew"]]}
    return columns, tables


def flatten_catalogue(movies: pd.DataFrame, credits: pd.DataFrame | None = None,
                      keywords: pd.DataFrame | None = None,
                      credit_part: tuple[dict[str, Any], dict[str, pd.DataFrame]] | None = None
                      ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Merge clean movies with credits and keywords and flatten every nested column.

    In: the clean frames of :mod:`src.data.clean` (credits/keywords optional). Left join on
    ``id``: no title is lost for missing credits/keywords. Keywords come from the keywords
    file when it has the title, else from the movies file's inline column (TMDB 5000).
    ``credit_part``: the result of :func:`flatten_credits` for these movies computed
    elsewhere (then ``credits`` is ignored, and its tables are returned only if given).
    Out: ``(merged, tables)``: merged has exactly ``MERGED_COLUMNS``; tables maps tidy
    table name -> DataFrame (``TIDY_SPECS`` order), restricted to catalogue titles.
    """
    m = movies.copy()
    ids = m[ID_COL]
    credit_cols, credit_tables = credit_part if credit_part is not None else \
        flatten_credits(ids, credits)
    inline = m["keywords"] if "keywords" in m.columns else pd.Series([[]] * len(m), index=m.index)
    has_inline = inline.map(bool)
    if keywords is not None and len(keywords):
        lookup = dict(zip(keywords[ID_COL], keywords["keywords"]))
        in_file = ids.isin(keywords[ID_COL])
        m["keywords"] = [lookup[i] if i in lookup else (cell or []) for i, cell in zip(ids, inline)]
        m["has_keywords"] = (in_file | has_inline).to_numpy()
    else:
        m["keywords"] = inline.to_numpy()
        m["has_keywords"] = has_inline.to_numpy()

    tables = {}
    for name, (src, fields) in TIDY_SPECS.items():
        if name not in CREDIT_TABLES:
            tables[name] = explode_entities(ids, m[src], fields)
        elif name in credit_tables:
            tables[name] = credit_tables[name]

    merged = pd.DataFrame({ID_COL: ids})
    for col in MERGED_COLUMNS:
        if col in ("genres", "production_companies", "keywords"):
            merged[col] = m[col].map(_names)
        elif col == "production_countries":
            merged[col] = m[col].map(lambda c: _names(c, "iso_3166_1"))
        elif col == "spoken_languages":
            merged[col] = m[col].map(lambda c: _names(c, "iso_639_1"))
        elif col in ("directors", "cast", "has_credits"):
            merged[col] = pd.Series(credit_cols[col], index=m.index)
        elif col == "collection":
            merged[col] = m["belongs_to_collection"].map(
                lambda d: join_list([d.get("name")]) if isinstance(d, dict) else "")
        elif col == "platforms":  # availability comes from platform snapshots, not here
            merged[col] = ""
        elif col != ID_COL:
            merged[col] = m[col]
    merged = merged[list(MERGED_COLUMNS)].reset_index(drop=True)
    log.info("flattened %d titles: %s", len(merged),
             ", ".join(f"{k}={len(v)}" for k, v in tables.items()))
    return merged, tables
