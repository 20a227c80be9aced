"""Entity resolution: every source row -> one canonical title with a stable StreamRec id.

Rules, in order (precision first: a rule that could merge two different titles is never
tried before one that cannot):

1. ``registry``: the (namespace, source id) pair was resolved before -> the same id again
   (``data/external/title_ids.csv``; the crosswalk keeps the rule first used).
2. ``imdb_id``: the row's IMDb id is a catalogue title's own IMDb id (same media type).
3. ``imdb_links``: a movie's IMDb id maps to a TMDB id through MovieLens ``links.csv``; the
   title takes that TMDB id (today's TMDB ids keep their value) whether or not the
   catalogue holds it yet (catalogue movies with no IMDb id of their own, TMDB 5000's, are
   found this way).
4. ``title_year``: normalised title + year + media type name exactly one catalogue title,
   whose IMDb id (if both have one) agrees; two or more -> the row is quarantined
   ``ambiguous_title_match`` instead of guessed.
5. ``new_id``: none matched -> a new id from ``NEW_TITLE_ID_BASE`` up (never a TMDB id).

TMDB-keyed sources (``native_ids``) keep their ids (rule ``tmdb_id``). Rows of one batch
resolve against each other too (an IMDb id or title seen earlier in the batch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from src.config import ID_COL, NEW_TITLE_ID_BASE
from src.data.sources.base import SOURCE_ID_COL
from src.utils.logging import get_logger

log = get_logger(__name__)

CROSSWALK_COLUMNS = (ID_COL, "source", SOURCE_ID_COL, "imdb_id", "tmdb_id", "match_rule")
REGISTRY_COLUMNS = ("namespace", SOURCE_ID_COL, ID_COL, "match_rule")
RULES = ("tmdb_id", "imdb_id", "imdb_links", "title_year", "new_id")
AMBIGUOUS_REASON = "ambiguous_title_match"
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_DATE_SUFFIX = re.compile(r"[_-]\d{4}(?:-\d{2})?[a-z]?$")


def namespace_of(schema: str, source_name: str) -> str:
    """Key space of a source's own ids. JustWatch ids are global (``justwatch``); show_id
    ids are per platform file (``show_id:shivamb_netflix_titles``: the file name without
    ``.csv[.gz]`` and its date suffix, so snapshots of one catalogue share ids)."""
    if schema == "justwatch":
        return "justwatch"
    stem = re.sub(r"\.csv(\.gz)?$", "", source_name)
    return f"{schema}:{_DATE_SUFFIX.sub('', stem)}"


def normalise_titles(titles: pd.Series) -> pd.Series:
    """Casefolded titles without accents, punctuation or spacing (``"Amélie!"`` ->
    ``amelie``; ``&`` reads as ``and``), vectorised; missing -> ``""``."""
    text = titles.where(titles.map(lambda t: isinstance(t, str)), "").astype("object")
    text = text.str.normalize("NFKD").str.replace(_COMBINING, "", regex=True)
    return text.str.casefold().str.replace("&", "and", regex=False).str.replace(
        r"[^0-9a-z]+", "", regex=True).fillna("")


def _imdb(value) -> str | None:
    """``tt0075314`` from ``tt0075314`` / ``0075314`` / ``75314``; None when missing/invalid."""
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and value == value:
            return f"tt{int(value):07d}"
        return None
    text = value.strip()
    m = re.fullmatch(r"(?:tt)?(\d{1,10})", text)
    return f"tt{int(m.group(1)):07d}" if m else None


def _imdb_series(values: pd.Series) -> pd.Series:
    """:func:`_imdb` over a column, vectorised (links.csv has 45k rows)."""
    digits = values.astype("str").str.strip().str.extract(r"^(?:tt)?(\d{1,10})$", expand=False)
    num = pd.to_numeric(digits, errors="coerce")
    out = pd.Series(pd.NA, index=values.index, dtype="object")
    ok = num.notna()
    out[ok] = ["tt%07d" % n for n in num[ok].astype("int64")]
    return out


def _int_ids(values: list) -> pd.arrays.IntegerArray:
    """Values as nullable ints; anything not a whole number (ids the cleaner will
    quarantine) becomes NA."""
    num = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
    return pd.array(num.where(num == num.round()), dtype="Int64")


def _year(date) -> str:
    """The ``YYYY`` of an ISO date cell, or ``""``."""
    return date[:4] if isinstance(date, str) and re.match(r"\d{4}", date) else ""


@dataclass
class Context:
    """What rows are resolved against.

    ``catalogue``: titles already known (id, imdb_id, title, release_date, media_type);
    ``links``: MovieLens links (imdbId, tmdbId) or None; ``registry``: ids given before
    (``REGISTRY_COLUMNS``).
    """

    catalogue: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[ID_COL]))
    links: pd.DataFrame | None = None
    registry: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REGISTRY_COLUMNS)))


@dataclass
class Resolved:
    """Outcome of :func:`resolve`: ``frame`` (ids filled, ambiguous rows removed),
    ``quarantine`` (those rows, ``reason``), ``crosswalk`` rows, ``registry`` (the whole
    updated registry), ``report`` (rows, matched by rule, new titles, ambiguous)."""

    frame: pd.DataFrame
    quarantine: pd.DataFrame
    crosswalk: pd.DataFrame
    registry: pd.DataFrame
    report: dict


def read_registry(path) -> pd.DataFrame:
    """The id registry file, or an empty one when it does not exist yet."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        return pd.DataFrame(columns=list(REGISTRY_COLUMNS))


class _Index:
    """Lookups over the catalogue plus the rows resolved so far in this batch."""

    def __init__(self, ctx: Context):
        cat = ctx.catalogue
        self.ids: set[int] = set(pd.to_numeric(cat[ID_COL], errors="coerce").dropna().astype("int64"))
        self.media: dict[int, str] = {}
        self.imdb: dict[tuple[str, str], tuple[int, str]] = {}  # -> (id, rule)
        self.title: dict[tuple[str, str, str], set[int]] = {}
        self.imdb_of: dict[int, str] = {}
        self.tmdb_of_imdb: dict[str, int] = {}
        if ctx.links is not None and len(ctx.links):
            imdb = _imdb_series(ctx.links["imdbId"])
            tmdb = pd.to_numeric(ctx.links["tmdbId"], errors="coerce")
            ok = imdb.notna() & tmdb.notna()
            pairs = pd.DataFrame({"imdb": imdb[ok], "tmdb": tmdb[ok].astype("int64")})
            pairs = pairs.drop_duplicates("imdb", keep="first")
            self.tmdb_of_imdb = dict(zip(pairs["imdb"], pairs["tmdb"].tolist()))
        cols = cat.reindex(columns=[ID_COL, "imdb_id", "title", "release_date", "media_type"])
        media = cols["media_type"].fillna("").astype("str").replace("", "movie")
        for sid, imdb, key, date, kind in zip(cols[ID_COL].astype("int64").tolist(),
                                             _imdb_series(cols["imdb_id"]).tolist(),
                                             normalise_titles(cols["title"]).tolist(),
                                             cols["release_date"].tolist(), media.tolist()):
            self.add(sid, imdb if isinstance(imdb, str) else None, key, date, kind)
        # Catalogue movies without an IMDb id of their own (TMDB 5000) get one through links.
        for imdb, tmdb in self.tmdb_of_imdb.items():
            if tmdb in self.ids and self.media.get(tmdb) == "movie" and tmdb not in self.imdb_of:
                self.imdb.setdefault((imdb, "movie"), (tmdb, "imdb_links"))
                self.imdb_of[tmdb] = imdb

    def add(self, sid: int, imdb: str | None, title_key: str, date, media: str) -> None:
        """Record one title (catalogue or just resolved; its normalised title) in every lookup."""
        self.ids.add(sid)
        self.media[sid] = media
        if imdb:
            self.imdb.setdefault((imdb, media), (sid, "imdb_id"))
            self.imdb_of.setdefault(sid, imdb)
        key = (title_key, _year(date), media)
        if key[0]:
            self.title.setdefault(key, set()).add(sid)


def resolve(frame: pd.DataFrame, schema: str, source_name: str, native_ids: bool,
            ctx: Context) -> Resolved:
    """Give every row of an adapted catalogue frame its StreamRec id (module doc: rules).

    In: the canonical text frame (``id`` empty where the source has no TMDB id,
    ``source_id`` its own id), the reader's name, the file name, whether ids are TMDB ids,
    the context. Out: :class:`Resolved`.
    """
    namespace = namespace_of(schema, source_name)
    registry = ctx.registry
    known = {(ns, s): (int(i), r) for ns, s, i, r in zip(
        registry["namespace"], registry[SOURCE_ID_COL], registry[ID_COL], registry["match_rule"])}
    index = _Index(ctx)
    before = set(index.ids)
    next_id = max([NEW_TITLE_ID_BASE - 1, *(i for i in index.ids if i >= NEW_TITLE_ID_BASE),
                   *(i for i, _ in known.values())]) + 1
    ids: list[str | None] = []
    rules: list[str | None] = []
    tmdb_ids: list[int | None] = []
    new_rows: list[tuple] = []
    batch_ids: dict[str, tuple[int, str]] = {}
    cols = frame.reindex(columns=[ID_COL, SOURCE_ID_COL, "imdb_id", "title", "release_date", "media_type"])
    cols = cols.assign(title=normalise_titles(cols["title"]))
    for row in cols.itertuples(index=False):
        sid_text, source_id, imdb_raw, title, date, media = row
        media = media if isinstance(media, str) else "movie"
        imdb = _imdb(imdb_raw)
        if native_ids:
            ids.append(sid_text)
            rules.append("tmdb_id")
            tmdb_ids.append(pd.to_numeric(sid_text, errors="coerce"))
            continue
        sid, rule = None, None
        if isinstance(source_id, str) and (namespace, source_id) in known:
            sid, rule = known[(namespace, source_id)]
        elif isinstance(source_id, str) and source_id in batch_ids:
            sid, rule = batch_ids[source_id]
        elif imdb and (imdb, media) in index.imdb:
            sid, rule = index.imdb[(imdb, media)]
        elif imdb and media == "movie" and imdb in index.tmdb_of_imdb and \
                index.media.get(index.tmdb_of_imdb[imdb], "movie") == "movie":
            sid, rule = index.tmdb_of_imdb[imdb], "imdb_links"
        else:
            cands = index.title.get((title, _year(date), media), set())
            cands = {c for c in cands if not (imdb and index.imdb_of.get(c) not in (None, imdb))}
            if len(cands) > 1:
                ids.append(None)
                rules.append(AMBIGUOUS_REASON)
                tmdb_ids.append(None)
                continue
            if cands:
                sid, rule = next(iter(cands)), "title_year"
            else:
                sid, rule = next_id, "new_id"
                next_id += 1
        if isinstance(source_id, str):
            batch_ids[source_id] = (sid, rule)
            if (namespace, source_id) not in known:
                new_rows.append((namespace, source_id, str(sid), rule))
                known[(namespace, source_id)] = (sid, rule)
        index.add(sid, imdb, title, date, media)
        ids.append(str(sid))
        rules.append(rule)
        tmdb_ids.append(sid if sid < NEW_TITLE_ID_BASE else None)
    out = frame.copy()
    out[ID_COL] = pd.Series(ids, index=frame.index, dtype="object")
    rule_s = pd.Series(rules, index=frame.index)
    bad = rule_s == AMBIGUOUS_REASON
    quarantine = frame[bad].drop(columns=[ID_COL]).assign(reason=AMBIGUOUS_REASON)
    kept = ~bad
    crosswalk = pd.DataFrame({
        ID_COL: out.loc[kept, ID_COL].to_numpy(),
        "source": source_name,
        SOURCE_ID_COL: (cols.loc[kept, SOURCE_ID_COL] if not native_ids else cols.loc[kept, ID_COL]).to_numpy(),
        "imdb_id": cols.loc[kept, "imdb_id"].map(_imdb).to_numpy(),
        "tmdb_id": _int_ids([t for t, k in zip(tmdb_ids, kept) if k]),
        "match_rule": rule_s[kept].to_numpy(),
    }, columns=list(CROSSWALK_COLUMNS))
    resolved_ids = pd.to_numeric(out.loc[kept, ID_COL], errors="coerce")
    counts = rule_s[kept].value_counts()
    report = {
        "rows": int(len(frame)),
        "matched": {r: int(counts.get(r, 0)) for r in RULES if r != "new_id"},
        "new_titles": int(resolved_ids[~resolved_ids.isin(list(before))].dropna().nunique()),
        "ambiguous": int(bad.sum()),
    }
    if new_rows:
        registry = pd.concat([registry, pd.DataFrame(new_rows, columns=list(REGISTRY_COLUMNS))],
                             ignore_index=True)
    log.info("%s: %d rows resolved: %s, %d new titles, %d ambiguous", source_name,
             report["rows"], report["matched"], report["new_titles"], report["ambiguous"])
    return Resolved(frame=out[kept], quarantine=quarantine, crosswalk=crosswalk,
                    registry=registry, report=report)
