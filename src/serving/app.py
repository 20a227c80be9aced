"""StreamRec's HTTP API (FastAPI) with the Gradio web UI mounted at ``/ui``, in one process.

``create_app(paths)`` loads the recommender and opens the ratings store once, at start-up;
``serve(host, port, paths)`` runs it under uvicorn (``invoke serve``). This module owns the
route layout: the endpoints live in routers (``routes_catalogue`` public reads,
``routes_auth`` sign-up/login, ``routes_viewer`` a viewer's own data, ``routes_admin``), each
thin, calling one :class:`~src.serving.service.Service` method; errors map to 4xx replies
whose ``detail`` names the offending field (ValueError -> 422, unknown id -> 404, failed
reload or taken username -> 409, rate limited -> 429; no credentials 401, not yours 403).
OpenAPI docs are at ``/docs``, served from local files.

Run directly: ``python -m src.serving.app --home WORKSPACE --port 8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
from typing import AsyncIterator

from src.config import EXTRA_MODULES
from src.utils.extras import require_extra

# Before FastAPI/Gradio imports: without the [serve] extra, one line naming the pip command.
require_extra("serve", EXTRA_MODULES["serve"], __name__)

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse, Response  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from src.config import (  # noqa: E402
    API_HOST,
    API_PORT,
    API_WORKERS,
    PATHS,
    RECOMMEND_CACHE_SIZE,
    SERVE_BLAS_THREADS,
    Paths,
)
from src.data.accounts_store import UsernameTaken  # noqa: E402
from src.data.admin_key import load_admin_token  # noqa: E402
from src.models.bundle import BundleIntegrityError  # noqa: E402
from src.serving import routes_admin, routes_auth, routes_catalogue, routes_viewer, web  # noqa: E402
from src.serving.auth import Auth  # noqa: E402
from src.serving.catalogue_api import router as catalogue_router  # noqa: E402
from src.serving.docs import install_docs  # noqa: E402
from src.serving.fast_path import RecommendFastPath  # noqa: E402
from src.serving.limits import BodySizeLimit  # noqa: E402
from src.serving.ratelimit import RateLimited  # noqa: E402
from src.serving.service import ReloadError, Service  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger(__name__)


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


def _reply(request: Request, code: int, detail: str, headers: dict | None = None) -> Response:
    """An error as JSON ``{"detail"}`` for API clients, or the web app's error page for a
    browser (``Accept: text/html``); redirects (the web app's "sign in first") pass through."""
    if 300 <= code < 400:
        return Response(status_code=code, headers=headers)
    if web.wants_html(request):
        return web.error_page(request, code, detail)
    return JSONResponse(status_code=code, content={"detail": detail}, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    """Map validation, lookup, reload, taken-name, rate-limit and HTTP errors to 422/404/409/
    409/429/their code, as JSON with a readable ``detail`` (an HTML page for browsers)."""

    @app.exception_handler(RequestValidationError)
    async def _on_validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(status_code=422,
                            content={"detail": _validation_message(exc), "errors": errors})

    @app.exception_handler(ValueError)
    async def _on_value(req: Request, exc: ValueError) -> Response:
        return _reply(req, 422, str(exc))

    @app.exception_handler(KeyError)
    async def _on_key(req: Request, exc: KeyError) -> Response:
        # str(KeyError) adds quotes; the first argument is the message itself.
        msg = exc.args[0] if exc.args else "not found"
        return _reply(req, 404, str(msg))

    @app.exception_handler(UsernameTaken)
    async def _on_taken(req: Request, exc: UsernameTaken) -> Response:
        return _reply(req, 409, str(exc))

    @app.exception_handler(RateLimited)
    async def _on_limited(req: Request, exc: RateLimited) -> Response:
        return _reply(req, 429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(req: Request, exc: StarletteHTTPException) -> Response:
        return _reply(req, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(ReloadError)
    async def _on_reload(_req: Request, exc: ReloadError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})


def create_app(paths: Paths = PATHS, with_ui: bool = True,
               cache_size: int = RECOMMEND_CACHE_SIZE, rate_limits: bool = True,
               follow_model: bool = False, fast_path: bool = True) -> FastAPI:
    """Build the API (and the UI at ``/ui``) over the workspace ``paths``.

    In: the workspace; ``with_ui=False`` skips Gradio (faster start for API-only use);
    ``cache_size`` recommendation replies kept in memory (0 = no cache); ``rate_limits=False``
    turns the sign-in and write buckets off (load tests and benchmarks only);
    ``follow_model`` reloads by itself when the model pointer or features change (a worker of
    a multi-process server); ``fast_path=False`` leaves every recommendation read to FastAPI's
    route (:mod:`src.serving.fast_path` answers the plain ones first by default). BLAS is
    limited to ``SERVE_BLAS_THREADS`` in this process.
    Out: the FastAPI app, with the loaded service at ``app.state.service`` and the
    authentication state (accounts, admin token, rate limits) at ``app.state.auth``.
    """
    # Before any model work: a request's products are tiny, and a multi-threaded BLAS under
    # concurrent requests oversubscribes the cores (process-wide, as intended here).
    from threadpoolctl import threadpool_limits

    threadpool_limits(SERVE_BLAS_THREADS, "blas")
    service = Service(paths, cache_size=cache_size, follow_model=follow_model)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """Close the ratings and account stores when the server stops."""
        yield
        service.close()

    app = FastAPI(
        lifespan=lifespan,
        title="StreamRec API",
        version="1.1",
        description="Movie and series recommendations (SVD + content), ratings feedback, catalogue "
                    "search, viewer accounts. Sign up or log in under `/auth`, then send "
                    "`Authorization: Bearer <token>` for writes and personal reads.",
        docs_url=None,  # served below from local Swagger UI files (works offline)
    )
    app.state.service = service
    log.info("purged %d expired sessions", service.accounts.purge_expired())
    app.state.auth = Auth(service.accounts, load_admin_token(paths), rate_limits=rate_limits)
    _install_error_handlers(app)
    install_docs(app)

    # Route layout (issue 12 owns it): each area is an APIRouter in its own module; add
    # yours with one include_router line here, and middleware with one line below them.
    app.include_router(routes_catalogue.router)
    app.include_router(routes_auth.router)
    app.include_router(routes_viewer.router)
    app.include_router(routes_admin.router)
    app.include_router(catalogue_router)  # /platforms... (src.serving.catalogue_api)
    app.include_router(web.router)  # the viewer web app: "/", /title, /search, /profile, ...
    web.mount_static(app)
    app.add_middleware(BodySizeLimit)  # 413 over API_MAX_BODY_BYTES, before the body is read
    if fast_path:
        # Added last, so it runs before BodySizeLimit and the router: plain recommendation reads
        # skip FastAPI's routing and dependency solving (half the CPU of such a request);
        # anything unusual falls through to the route.
        app.add_middleware(RecommendFastPath, service=service, auth=app.state.auth)


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


_WORKER_ENV = "STREAMREC_SERVE_WORKER"   # create_app's arguments for worker processes (JSON)


def worker_app() -> FastAPI:
    """The app of one worker process of a multi-process server (uvicorn's factory): the
    arguments :func:`serve` put in ``STREAMREC_SERVE_WORKER``, with ``follow_model`` on."""
    opts = json.loads(os.environ[_WORKER_ENV])
    setup_logging()
    return create_app(Paths.from_root(opts["home"]), with_ui=opts["with_ui"],
                      cache_size=opts["cache_size"], rate_limits=opts["rate_limits"], follow_model=True)


def serve(host: str = API_HOST, port: int = API_PORT, paths: Paths = PATHS,
          with_ui: bool = True, access_log: bool = False,
          cache_size: int = RECOMMEND_CACHE_SIZE, rate_limits: bool = True,
          workers: int = API_WORKERS) -> None:
    """Run the API + UI under uvicorn until interrupted, in this process (``workers`` 1) or
    in ``workers`` processes sharing the port.

    Each worker loads the model itself; the bundle's arrays and the serving cache are
    memory-mapped, so the workers share those pages. ``/admin/reload`` swaps the model in
    the worker that receives it; with several workers each also follows the model pointer
    and the features file (:class:`~src.serving.service.Service` ``follow_model``), so all of
    them serve a new model within ``API_RELOAD_POLL_S`` of it being committed. Per-process
    state stays per worker: the reply cache and the rate-limit buckets (a limit of N per
    minute becomes up to N per worker).
    """
    import uvicorn

    setup_logging()
    if workers > 1:
        os.environ[_WORKER_ENV] = json.dumps({"home": str(paths.root), "with_ui": with_ui,
                                              "cache_size": cache_size, "rate_limits": rate_limits})
        log.info("serving on http://%s:%d with %d workers (docs /docs, UI /ui)", host, port, workers)
        uvicorn.run("src.serving.app:worker_app", factory=True, host=host, port=port, workers=workers,
                    access_log=access_log, log_level="warning")
        return
    app = create_app(paths, with_ui=with_ui, cache_size=cache_size, rate_limits=rate_limits)
    log.info("serving on http://%s:%d (docs /docs, UI /ui)", host, port)
    # Access logs cost ~10% throughput under load; turn on with access_log=True.
    uvicorn.run(app, host=host, port=port, workers=1, access_log=access_log, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m src.serving.app [--home DIR] [--host H] [--port P] [--no-ui]
    [--cache-size N] [--access-log] [--no-rate-limits]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="workspace root (default: STREAMREC_HOME or the repo)")
    parser.add_argument("--host", default=API_HOST)
    parser.add_argument("--port", type=int, default=API_PORT)
    parser.add_argument("--no-ui", action="store_true", help="API only (skip Gradio)")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--cache-size", type=int, default=RECOMMEND_CACHE_SIZE,
                        help="recommendation replies kept in memory (0 = off)")
    parser.add_argument("--no-rate-limits", action="store_true",
                        help="no sign-in/write rate limits (load tests and benchmarks only)")
    parser.add_argument("--workers", type=int, default=API_WORKERS,
                        help="worker processes (each loads the model; >1: each follows the model pointer)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    paths = Paths.from_root(args.home) if args.home else PATHS

    try:
        serve(args.host, args.port, paths, with_ui=not args.no_ui, access_log=args.access_log,
              cache_size=args.cache_size, rate_limits=not args.no_rate_limits, workers=args.workers)
    except (FileNotFoundError, BundleIntegrityError) as exc:  # one line, exit 2: not a traceback
        parser.exit(2, f"streamrec serve: {exc}\n")


if __name__ == "__main__":
    main()
