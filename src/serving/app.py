"""StreamRec's HTTP API (FastAPI) with the Gradio web UI mounted at ``/ui``, in one process.

``create_app(paths)`` loads the recommender and opens the ratings store once, at start-up;
``serve(host, port, paths)`` runs it under uvicorn (``invoke serve``). Endpoints are thin:
each calls one :class:`~src.serving.service.Service` method, and errors map to 4xx replies
whose ``detail`` names the offending field (ValueError -> 422, unknown id -> 404, failed
reload -> 409). OpenAPI docs are at ``/docs``.

Run directly: ``python -m src.serving.app --home WORKSPACE --port 8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
from typing import Annotated, AsyncIterator, Optional

from src.config import EXTRA_MODULES
from src.utils.extras import require_extra

# Before FastAPI/Gradio imports: without the [serve] extra, one line naming the pip command.
require_extra("serve", EXTRA_MODULES["serve"], __name__)

import orjson  # noqa: E402
from fastapi import FastAPI, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from src.config import API_HOST, API_PORT, MAX_N, PATHS, RECOMMEND_CACHE_SIZE, Paths
from src.data.feedback_store import MAX_ID
from src.serving.limits import BodySizeLimit
from src.serving.catalogue_api import router as catalogue_router
from src.serving.schemas import (
    CanonicalInt,
    DeleteResult,
    ErrorOut,
    Health,
    MediaType,
    Movie,
    MovieDetail,
    RatingIn,
    RatingOut,
    RecommendationList,
    ReloadResult,
)
from src.serving.service import MAX_QUERY_LEN, ReloadError, Service
from src.utils.logging import get_logger, setup_logging

log = get_logger(__name__)

UserId = Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="user id (MovieLens users keep theirs)")]
MovieId = Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="catalogue (TMDB) id")]
N = Annotated[CanonicalInt, Query(ge=1, le=MAX_N, description=f"how many, 1–{MAX_N}")]
ERRORS = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's error list as one line naming each field: "n: Input should be ..."."""
    parts = []
    for err in exc.errors():
        # loc is like ("query", "n") or ("body", "rating"); name the field, or the location
        # kind itself when the whole body is bad (e.g. ("body", 0) for invalid JSON).
        loc = tuple(err.get("loc", ()))
        names = [str(p) for p in loc[1:] if isinstance(p, str)]
        where = ".".join(names) or (str(loc[0]) if loc else "request")
        # Pydantic prefixes messages from our validators with "Value error, ".
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    """Map validation, lookup and reload errors to 422/404/409 JSON with a readable detail."""

    @app.exception_handler(RequestValidationError)
    async def _on_validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(status_code=422,
                            content={"detail": _validation_message(exc), "errors": errors})

    @app.exception_handler(ValueError)
    async def _on_value(_req: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(KeyError)
    async def _on_key(_req: Request, exc: KeyError) -> JSONResponse:
        # str(KeyError) adds quotes; the first argument is the message itself.
        msg = exc.args[0] if exc.args else "not found"
        return JSONResponse(status_code=404, content={"detail": str(msg)})

    @app.exception_handler(ReloadError)
    async def _on_reload(_req: Request, exc: ReloadError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})


def create_app(paths: Paths = PATHS, with_ui: bool = True,
               cache_size: int = RECOMMEND_CACHE_SIZE) -> FastAPI:
    """Build the API (and the UI at ``/ui``) over the workspace ``paths``.

    In: the workspace; ``with_ui=False`` skips Gradio (faster start for API-only use);
    ``cache_size`` recommendation replies kept in memory (0 = no cache).
    Out: the FastAPI app, with the loaded service at ``app.state.service``.
    """
    service = Service(paths, cache_size=cache_size)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """Close the ratings store when the server stops."""
        yield
        service.close()

    app = FastAPI(
        lifespan=lifespan,
        title="StreamRec API",
        version="1.0",
        description="Movie and series recommendations (SVD + content), ratings feedback, catalogue search.",
    )
    app.state.service = service
    _install_error_handlers(app)
    app.add_middleware(BodySizeLimit)  # 413 over API_MAX_BODY_BYTES, before the body is read
    app.include_router(catalogue_router)  # /platforms... (src.serving.catalogue_api)

    # CPU-only read endpoints are ``async def``: they finish in about a millisecond, and
    # running them on the event loop avoids a thread hop per request. Endpoints that fsync
    # (ratings writes) or load files (reload) are plain ``def`` so they run in the threadpool
    # and never stall other requests.

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/" if with_ui else "/docs")

    @app.get("/health", response_model=Health, tags=["admin"])
    async def health() -> dict:
        """Service status, model version, catalogue size and number of stored ratings."""
        return service.health()

    @app.get("/genres", response_model=list[str], tags=["catalogue"])
    async def genres() -> list[str]:
        """Genre names accepted by the ``genres``/``genre`` filters."""
        return service.genres()

    @app.get("/movies", response_model=list[Movie], responses=ERRORS, tags=["catalogue"])
    async def movies(
        query: Annotated[Optional[str], Query(max_length=MAX_QUERY_LEN,
                                              description="title search, case- and accent-insensitive")] = None,
        genre: Optional[str] = None,
        year_from: Annotated[Optional[CanonicalInt], Query(ge=1800, le=3000)] = None,
        media_type: Optional[MediaType] = None,
        limit: Annotated[CanonicalInt, Query(ge=1, le=MAX_N)] = 20,
        platform: Annotated[Optional[str], Query(max_length=MAX_QUERY_LEN,
                                                 description="available now on (comma-separated), e.g. netflix,hbo")] = None,
    ) -> list[dict]:
        """Search the catalogue by title with optional genre, year, media-type and platform filters."""
        return service.search(query=query, genre=genre, year_from=year_from,
                              media_type=media_type, limit=limit, platform=platform)

    @app.get("/movies/{movie_id}", response_model=MovieDetail, responses=ERRORS, tags=["catalogue"])
    async def movie(movie_id: MovieId) -> dict:
        """One title's details."""
        return service.movie(movie_id)

    @app.get("/movies/{movie_id}/similar", response_model=RecommendationList, responses=ERRORS,
             tags=["recommendations"])
    async def similar(movie_id: MovieId, n: N = 10,
                      user_id: Annotated[Optional[CanonicalInt], Query(ge=0, le=MAX_ID)] = None) -> dict:
        """Titles similar to ``movie_id`` (content + collaborative neighbours)."""
        return service.similar(movie_id, n=n, user_id=user_id)

    @app.get("/users/{user_id}/recommendations", response_model=RecommendationList,
             responses=ERRORS, tags=["recommendations"])
    async def recommendations(
        user_id: UserId,
        genres: Annotated[Optional[str], Query(description="comma-separated, e.g. Drama,Comedy")] = None,
        n: N = 10,
        media_type: Optional[MediaType] = None,
    ) -> Response:
        """Top-N for a user; ratings stored through this API count at once (fold-in)."""
        reply = service.recommend_user(user_id, genres=genres, n=n, media_type=media_type)
        # The hot endpoint: the service builds this dict in the RecommendationList shape, so
        # it is serialised directly (orjson) instead of being re-validated through pydantic
        # on every request; test_api checks the shape against the schema.
        return Response(orjson.dumps(reply), media_type="application/json")

    @app.post("/users/{user_id}/ratings", response_model=RatingOut, status_code=status.HTTP_201_CREATED,
              responses=ERRORS, tags=["ratings"])
    def add_rating(user_id: UserId, body: RatingIn) -> dict:
        """Store (or replace) a rating; it is on disk when the reply arrives."""
        return service.rate(user_id, body.movie_id, body.rating)

    @app.get("/users/{user_id}/ratings", response_model=list[RatingOut], responses=ERRORS,
             tags=["ratings"])
    async def list_ratings(user_id: UserId) -> list[dict]:
        """The user's stored ratings, newest first."""
        return service.user_ratings(user_id)

    @app.delete("/users/{user_id}/ratings/{movie_id}", response_model=DeleteResult, responses=ERRORS,
                tags=["ratings"])
    def delete_rating(user_id: UserId, movie_id: MovieId) -> dict:
        """Remove a stored rating (404 if there was none)."""
        if not service.unrate(user_id, movie_id):
            raise KeyError(f"movie_id {movie_id} has no rating by user_id {user_id}")
        return {"deleted": True, "user_id": user_id, "movie_id": movie_id}

    @app.post("/admin/reload", response_model=ReloadResult, responses=ERRORS, tags=["admin"])
    def reload() -> dict:
        """Load the model and catalogue from disk again and swap them in atomically.

        Requests keep being served (by the old model) while it loads; on failure (e.g. a
        bundle whose checksum does not match) the old model stays and the reply is 409.
        """
        return service.reload()

    if with_ui:
        import gradio as gr

        from src.serving.ui import build_ui  # first: it turns Gradio's analytics off

        app = gr.mount_gradio_app(app, build_ui(service), path="/ui")
    # Gradio, pandas and the model leave millions of long-lived objects on the heap; every
    # full garbage collection would walk them all, in the middle of some request. Freezing
    # moves what exists now out of the collector's sight (measured: /health 4 ms -> ~1 ms).
    gc.collect()
    gc.freeze()
    return app


def serve(host: str = API_HOST, port: int = API_PORT, paths: Paths = PATHS,
          with_ui: bool = True, access_log: bool = False,
          cache_size: int = RECOMMEND_CACHE_SIZE) -> None:
    """Run the API + UI under uvicorn in this process until interrupted.

    One worker on purpose: ``/admin/reload`` swaps the model inside the process that
    receives it, so a second worker process would keep serving the old model.
    """
    import uvicorn

    setup_logging()
    app = create_app(paths, with_ui=with_ui, cache_size=cache_size)
    log.info("serving on http://%s:%d (docs /docs, UI /ui)", host, port)
    # Access logs cost ~10% throughput under load; turn on with access_log=True.
    uvicorn.run(app, host=host, port=port, workers=1, access_log=access_log, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m src.serving.app [--home DIR] [--host H] [--port P] [--no-ui]
    [--cache-size N] [--access-log]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="workspace root (default: STREAMREC_HOME or the repo)")
    parser.add_argument("--host", default=API_HOST)
    parser.add_argument("--port", type=int, default=API_PORT)
    parser.add_argument("--no-ui", action="store_true", help="API only (skip Gradio)")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--cache-size", type=int, default=RECOMMEND_CACHE_SIZE,
                        help="recommendation replies kept in memory (0 = off)")
    args = parser.parse_args(argv)
    paths = Paths.from_root(args.home) if args.home else PATHS
    from src.models.bundle import BundleIntegrityError

    try:
        serve(args.host, args.port, paths, with_ui=not args.no_ui, access_log=args.access_log,
              cache_size=args.cache_size)
    except (FileNotFoundError, BundleIntegrityError) as exc:  # one line, exit 2: not a traceback
        parser.exit(2, f"streamrec serve: {exc}\n")


if __name__ == "__main__":
    main()
