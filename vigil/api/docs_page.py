"""The API's interactive docs at ``/docs``, served whole by vigil itself: FastAPI's default
page loads Swagger UI from a CDN and is blank on a machine without internet (issue 16).

Swagger UI's files come from the swagger-ui-bundle package (its dist files) and are served
from ``/docs/assets``. ReDoc is turned off rather than served: no package ships its script,
and Swagger UI already covers the same need (docs/api.md)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS = "/docs"
ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Serve Swagger UI's files and the page that uses them; the app must be created with
    ``docs_url=None`` so FastAPI's own CDN page is not there too."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get(DOCS, include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that strips a prefix, the browser needs the prefix on every URL.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
