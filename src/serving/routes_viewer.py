"""``/users/{user_id}/…``: a viewer's recommendations, ratings, watchlist and services.

Every write and every personal read goes through :func:`~src.serving.auth.require_owner`:
no credentials -> 401, someone else's id -> 403, too many writes -> 429. The one exception is
``GET /users/{id}/recommendations`` for a *training* user id (below ``VIEWER_ID_BASE``): those
are MovieLens dataset users nobody signs in as, kept readable for the data-science UI and
benchmarks. Ratings record who sent them (``sent_by``) and through which client.
"""

from __future__ import annotations

from typing import Annotated, Optional

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import Response

from src.config import MAX_N, VIEWER_ID_BASE
from src.data.feedback_store import MAX_ID
from src.serving.auth import Viewer, optional_viewer, require_owner
from src.serving.pagination import TOTAL_HEADER, Limit, Offset, paged
from src.serving.schemas import (
    DeleteResult,
    ErrorOut,
    MediaType,
    NameList,
    RatingIn,
    RatingOut,
    RecommendationList,
    WatchlistIn,
    WatchlistItem,
)
from src.serving.schemas import CanonicalInt
from src.serving.service import MAX_QUERY_LEN

router = APIRouter(prefix="/users/{user_id}")
UserId = Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="viewer id (or a training user id for reads)")]
MovieId = Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="catalogue (TMDB) id")]
N = Annotated[CanonicalInt, Query(ge=1, le=MAX_N, description=f"how many, 1–{MAX_N}")]
Owner = Annotated[Viewer, Depends(require_owner)]
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut},
          422: {"model": ErrorOut}, 429: {"model": ErrorOut}}


def _client(viewer: Viewer) -> str:
    """The feedback store's client name for how the viewer signed in."""
    return "web" if viewer.via == "cookie" else "api"


@router.get("/recommendations", response_model=RecommendationList, responses=ERRORS,
            tags=["recommendations"])
async def recommendations(
    request: Request,
    user_id: UserId,
    viewer: Annotated[Optional[Viewer], Depends(optional_viewer)],
    genres: Annotated[Optional[str], Query(description="comma-separated, e.g. Drama,Comedy")] = None,
    n: N = 10,
    media_type: Optional[MediaType] = None,
    platforms: Annotated[Optional[str], Query(max_length=MAX_QUERY_LEN,
                                              description="only titles available now on any of these "
                                                          "(comma-separated), e.g. netflix,hbo")] = None,
) -> Response:
    """Top-N for a user; ratings stored through this API count at once (fold-in).

    Viewer ids need that viewer's token; training user ids are readable by anyone.
    """
    if user_id >= VIEWER_ID_BASE:
        if viewer is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})
        if viewer.user_id != user_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "you can only see and change your own data")
    reply = request.app.state.service.recommend_user(user_id, genres=genres, n=n, media_type=media_type,
                                                     platforms=platforms)
    # The hot endpoint: the service builds this dict in the RecommendationList shape, so it is
    # serialised directly (orjson) instead of being re-validated through pydantic on every
    # request; test_api checks the shape against the schema.
    return Response(orjson.dumps(reply), media_type="application/json")


@router.post("/ratings", response_model=RatingOut, status_code=status.HTTP_201_CREATED,
             responses=ERRORS, tags=["ratings"])
def add_rating(request: Request, user_id: UserId, body: RatingIn, viewer: Owner) -> dict:
    """Store (or replace) a rating; it is on disk when the reply arrives."""
    return request.app.state.service.rate(user_id, body.movie_id, body.rating,
                                          sent_by=viewer.user_id, client=_client(viewer))


@router.get("/ratings", response_model=list[RatingOut], responses=ERRORS, tags=["ratings"],
            openapi_extra=TOTAL_HEADER)
async def list_ratings(request: Request, user_id: UserId, _viewer: Owner, limit: Limit = MAX_N,
                       offset: Offset = 0) -> Response:
    """The viewer's stored ratings, newest first (paged; ``X-Total-Count`` has the total)."""
    return paged(request.app.state.service.user_ratings_page(user_id, limit, offset))


@router.delete("/ratings/{movie_id}", response_model=DeleteResult, responses=ERRORS, tags=["ratings"])
def delete_rating(request: Request, user_id: UserId, movie_id: MovieId, _viewer: Owner) -> dict:
    """Remove a stored rating (404 if there was none)."""
    if not request.app.state.service.unrate(user_id, movie_id):
        raise KeyError(f"movie_id {movie_id} has no rating by user_id {user_id}")
    return {"deleted": True, "user_id": user_id, "movie_id": movie_id}


@router.get("/watchlist", response_model=list[WatchlistItem], responses=ERRORS, tags=["watchlist"],
            openapi_extra=TOTAL_HEADER)
async def watchlist(request: Request, user_id: UserId, _viewer: Owner, limit: Limit = MAX_N,
                    offset: Offset = 0) -> Response:
    """The viewer's watchlist, newest first (paged; ``X-Total-Count`` has the total)."""
    return paged(request.app.state.service.watchlist_page(user_id, limit, offset))


@router.post("/watchlist", response_model=WatchlistItem, status_code=status.HTTP_201_CREATED,
             responses=ERRORS, tags=["watchlist"])
def add_to_watchlist(request: Request, user_id: UserId, body: WatchlistIn, _viewer: Owner) -> dict:
    """Put a catalogue title on the watchlist (adding it twice keeps the first date)."""
    return request.app.state.service.watch_later(user_id, body.movie_id)


@router.delete("/watchlist/{movie_id}", response_model=DeleteResult, responses=ERRORS,
               tags=["watchlist"])
def remove_from_watchlist(request: Request, user_id: UserId, movie_id: MovieId, _viewer: Owner) -> dict:
    """Take a title off the watchlist (404 if it was not on it)."""
    if not request.app.state.service.unwatch(user_id, movie_id):
        raise KeyError(f"movie_id {movie_id} is not on the watchlist of user_id {user_id}")
    return {"deleted": True, "user_id": user_id, "movie_id": movie_id}


@router.get("/services", response_model=NameList, responses=ERRORS, tags=["services"])
async def services(request: Request, user_id: UserId, _viewer: Owner) -> dict:
    """The streaming services the viewer subscribes to."""
    return {"names": request.app.state.service.services(user_id)}


@router.put("/services", response_model=NameList, responses=ERRORS, tags=["services"])
def set_services(request: Request, user_id: UserId, body: NameList, _viewer: Owner) -> dict:
    """Replace the viewer's streaming services."""
    return {"names": request.app.state.service.set_services(user_id, body.names)}


@router.get("/genres", response_model=NameList, responses=ERRORS, tags=["services"])
async def picked_genres(request: Request, user_id: UserId, _viewer: Owner) -> dict:
    """The genres the viewer picked (they shape the home page's suggestions)."""
    return {"names": request.app.state.service.picked_genres(user_id)}


@router.put("/genres", response_model=NameList, responses=ERRORS, tags=["services"])
def set_picked_genres(request: Request, user_id: UserId, body: NameList, _viewer: Owner) -> dict:
    """Replace the viewer's picked genres (each a name from ``GET /genres``)."""
    return {"names": request.app.state.service.set_picked_genres(user_id, body.names)}
