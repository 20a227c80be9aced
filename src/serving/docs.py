"""``/docs`` from local Swagger UI files, so the API page renders with no internet.

FastAPI's default ``/docs`` loads Swagger UI's JavaScript and CSS from a CDN. The
``swagger-ui-bundle`` package ships the same files (Swagger UI 4.x); they are mounted at
``/static/swagger`` and FastAPI's own page template is pointed at them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

SWAGGER_MOUNT = "/static/swagger"


def install_docs(app: FastAPI) -> None:
    """Mount the Swagger UI assets and serve ``/docs`` from them (``app.docs_url`` must be None)."""
    app.mount(SWAGGER_MOUNT, StaticFiles(directory=Path(swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} docs",
            swagger_js_url=f"{SWAGGER_MOUNT}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_MOUNT}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_MOUNT}/favicon-32x32.png")
