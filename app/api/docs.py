"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), from the service's own
files, so they work with no internet access: FastAPI's recipe for self-hosting the docs' static
assets, with the files from the fastapi-standalone-docs package (Swagger UI, ReDoc and their
licences; its ReDoc build is patched to load no logo from a CDN). Only the files are used: the
package's own wiring replaces FastAPI's functions process-wide, which this does not need."""

from __future__ import annotations

from pathlib import Path

import fastapi_standalone_docs
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS_PATH = "/static/docs"
ASSETS_DIR = Path(fastapi_standalone_docs.__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page, /redoc and their files. The app must be made
    with ``docs_url=None, redoc_url=None`` (FastAPI's own pages load from a CDN)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def root(request: Request) -> str:
        # Behind a proxy that serves the app under a prefix, every URL the pages load carries it.
        return request.scope.get("root_path", "").rstrip("/")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        prefix = root(request)
        assets = prefix + ASSETS_PATH
        return get_swagger_ui_html(
            openapi_url=prefix + OPENAPI_PATH,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{assets}/fastapi/favicon.png",
            # Swagger UI's Authorize dialog signs in with the password grant at the token
            # URL the OpenAPI document names; this page serves the browser-redirect flows.
            oauth2_redirect_url=prefix + OAUTH2_REDIRECT_PATH,
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        prefix = root(request)
        assets = prefix + ASSETS_PATH
        return get_redoc_html(
            openapi_url=prefix + OPENAPI_PATH,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/fastapi/favicon.png",
            with_google_fonts=False,
        )
