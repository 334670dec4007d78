"""Jinja2 templates, and the HTML answer to refusals and signed-out visitors on /review."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vigil.errors import VigilError
from vigil.web.session import SignInRequired

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
PREFIX = "/review"


def age(seconds: float | None) -> str:
    """A queue age for people: 45 s, 12 min, 3 h, 2 d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def when(text: str | None) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates.env.filters["age"] = age
templates.env.filters["when"] = when


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


async def _sign_in(request: Request, _exc: Exception) -> Response:
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def install(app: FastAPI) -> None:
    """The console's routers and its HTML error pages (the API keeps its JSON errors)."""
    from vigil.web.pages import router as pages_router
    from vigil.web.pages_admin import router as admin_router

    app.include_router(pages_router)
    app.include_router(admin_router)
    api_handler = app.exception_handlers.get(VigilError)

    async def refusal(request: Request, exc: Exception) -> Response:
        # Pages answer refusals with a page; everything else keeps the API's own answer.
        if not request.url.path.startswith(PREFIX) and api_handler is not None:
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        assert isinstance(exc, VigilError)
        return page(request, "error.html", exc.status, code=exc.code, message=exc.message)

    app.add_exception_handler(VigilError, refusal)
    app.add_exception_handler(SignInRequired, _sign_in)
