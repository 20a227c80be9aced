"""The aggregator's platform routes (a FastAPI ``APIRouter``, included by ``src.serving.app``).

* ``GET /platforms``: every platform with the titles it carries now (movies, series) and
  the date of its last snapshot;
* ``GET /platforms/{platform}/new?days=30``: titles that arrived on it in the ``days`` up
  to its last snapshot (snapshots are dated by their as-of day, not by when they were
  applied, so "recent" is measured from the platform's latest snapshot);
* ``GET /platforms/{platform}/titles?media_type=series``: what it carries now.

Availability is read from ``data/processed/availability.csv`` and the snapshot log
(:class:`PlatformView`, re-read when the files change, so an update is visible without a
restart); titles come from the service's loaded catalogue. ``/movies?platform=`` and the
``platforms`` of ``/movies/{id}`` are served by :class:`~src.serving.service.Service` with
the same view.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Optional

import pandas as pd
from fastapi import APIRouter, Query, Request

from src.config import ID_COL, MAX_N
from src.serving.platform_view import platform_view
from src.serving.schemas import MediaType, PlatformArrival, PlatformSummary
from src.serving.schemas import CanonicalInt

MAX_NEW_DAYS = 3660  # ten years: beyond that "new" means nothing and the scan is pointless


def _title_rows(service, ids: list[int]) -> dict[int, dict]:
    """Movie dicts of the ids the loaded catalogue holds."""
    cat = service.snapshot.catalogue
    known = [i for i in ids if i in cat.index]
    rows = cat.loc[known]
    return {int(i): service._movie_dict(i, row) for i, row in rows.iterrows()}


router = APIRouter(tags=["platforms"])


@router.get("/platforms", response_model=list[PlatformSummary])
def list_platforms(request: Request) -> list[dict]:
    """Platforms with the number of titles (movies, series) they carry now."""
    service = request.app.state.service
    view = platform_view(service.paths)
    avail = view.availability
    now = avail[avail["last_seen"] == ""]
    media = service.snapshot.catalogue["media_type"] if "media_type" in service.snapshot.catalogue else None
    out = []
    for name in view.platforms():
        ids = now.loc[now["platform"] == name, ID_COL]
        kinds = ids.map(media).fillna("movie") if media is not None else pd.Series("movie", index=ids.index)
        out.append({"platform": name, "titles": int(len(ids)), "movies": int((kinds == "movie").sum()),
                    "series": int((kinds == "series").sum()), "last_snapshot": view.last_snapshot(name)})
    return out


@router.get("/platforms/{platform}/new", response_model=list[PlatformArrival])
def new_on_platform(
    request: Request, platform: str,
    days: Annotated[CanonicalInt, Query(ge=1, le=MAX_NEW_DAYS, description="window ending at the last snapshot")] = 30,
    media_type: Optional[MediaType] = None,
    limit: Annotated[CanonicalInt, Query(ge=1, le=MAX_N)] = 20,
) -> list[dict]:
    """Titles that arrived on ``platform`` in the ``days`` up to its last snapshot, newest first
    (ties by score)."""
    service = request.app.state.service
    view = platform_view(service.paths)
    name = view.require(platform)
    last = view.last_snapshot(name)
    avail = view.availability
    mine = avail[(avail["platform"] == name) & (avail["last_seen"] == "")]
    if last is not None:
        since = (_dt.date.fromisoformat(last) - _dt.timedelta(days=days)).isoformat()
        mine = mine[mine["first_seen"] > since]
    titles = _title_rows(service, mine[ID_COL].tolist())
    first = dict(zip(mine[ID_COL].astype(int), mine["first_seen"]))
    rows = [{**t, "first_seen": first[i]} for i, t in titles.items()
            if media_type is None or t["media_type"] == media_type]
    rows.sort(key=lambda r: (r["first_seen"], r["score"] or 0.0), reverse=True)
    return rows[:limit]


@router.get("/platforms/{platform}/titles", response_model=list[PlatformArrival])
def titles_on_platform(
    request: Request, platform: str, media_type: Optional[MediaType] = None,
    limit: Annotated[CanonicalInt, Query(ge=1, le=MAX_N)] = 20,
) -> list[dict]:
    """What ``platform`` carries now, best ``score_final`` first."""
    service = request.app.state.service
    view = platform_view(service.paths)
    name = view.require(platform)
    avail = view.availability
    mine = avail[(avail["platform"] == name) & (avail["last_seen"] == "")]
    first = dict(zip(mine[ID_COL].astype(int), mine["first_seen"]))
    titles = _title_rows(service, list(first))
    rows = [{**t, "first_seen": first[i]} for i, t in titles.items()
            if media_type is None or t["media_type"] == media_type]
    rows.sort(key=lambda r: r["score"] or 0.0, reverse=True)
    return rows[:limit]
