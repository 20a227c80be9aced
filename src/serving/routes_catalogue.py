"""Public reads: health, genres, catalogue search, title details and similar titles.

No sign-in needed: these are the same for everyone (see ``references/serving.md``).
CPU-only endpoints are ``async def``: they finish in about a millisecond, and running them on
the event loop avoids a thread hop per request.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from src.config import MAX_N
from src.data.feedback_store import MAX_ID
from src.serving.pagination import TOTAL_HEADER, Limit, Offset, paged
from src.serving.schemas import (
    ErrorOut,
    Health,
    MediaType,
    Movie,
    MovieDetail,
    RecommendationList,
)
from src.serving.service import MAX_QUERY_LEN
from src.serving.schemas import CanonicalInt

router = APIRouter()
MovieId = Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="catalogue (TMDB) id")]
N = Annotated[CanonicalInt, Query(ge=1, le=MAX_N, description=f"how many, 1–{MAX_N}")]
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.get("/health", response_model=Health, tags=["admin"])
async def health(request: Request) -> dict:
    """Service status, model version, catalogue size and number of stored ratings."""
    return request.app.state.service.health()


@router.get("/genres", response_model=list[str], tags=["catalogue"])
async def genres(request: Request) -> list[str]:
    """Genre names accepted by the ``genres``/``genre`` filters."""
    return request.app.state.service.genres()


@router.get("/movies", response_model=list[Movie], responses=ERRORS, tags=["catalogue"],
            openapi_extra=TOTAL_HEADER)
async def movies(
    request: Request,
    query: Annotated[Optional[str], Query(max_length=MAX_QUERY_LEN,
                                          description="title search, case- and accent-insensitive")] = None,
    genre: Optional[str] = None,
    year_from: Annotated[Optional[CanonicalInt], Query(ge=1800, le=3000)] = None,
    media_type: Optional[MediaType] = None,
    limit: Limit = 20,
    offset: Offset = 0,
    platform: Annotated[Optional[str], Query(max_length=MAX_QUERY_LEN,
                                             description="available now on (comma-separated), e.g. netflix,hbo")] = None,
) -> Response:
    """Search the catalogue by title with optional genre, year, media-type and platform filters.

    Paged: ``limit`` titles from ``offset``; the ``X-Total-Count`` header has the number of
    matches in all.
    """
    res = request.app.state.service.search_result(query=query, genre=genre, year_from=year_from,
                                                  media_type=media_type, limit=limit, offset=offset,
                                                  platform=platform)
    return paged(res)


@router.get("/movies/{movie_id}", response_model=MovieDetail, responses=ERRORS, tags=["catalogue"])
async def movie(request: Request, movie_id: MovieId) -> dict:
    """One title's details."""
    return request.app.state.service.movie(movie_id)


@router.get("/movies/{movie_id}/similar", response_model=RecommendationList, responses=ERRORS,
            tags=["recommendations"])
async def similar(request: Request, movie_id: MovieId, n: N = 10,
                  user_id: Annotated[Optional[CanonicalInt], Query(ge=0, le=MAX_ID)] = None) -> dict:
    """Titles similar to ``movie_id`` (content + collaborative neighbours)."""
    return request.app.state.service.similar(movie_id, n=n, user_id=user_id)
