"""Headers that keep browsers from misusing what vigil sends: console pages may not be framed
or cached, and an asset's bytes are never sniffed into HTML nor run as a page.

A pure ASGI middleware (not BaseHTTPMiddleware): it only adds headers to the response start,
so streaming and the body limit work as before."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)
# An uploaded file opened straight in a browser: no script, no plugins, no same-origin access.
CONTENT = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; sandbox"),
)
_CONTENT_PATH = re.compile(r"^/v1/assets/[^/]+/content$")


def headers_for(path: str) -> tuple[tuple[bytes, bytes], ...]:
    if path == "/review" or path.startswith("/review/"):
        return CONSOLE
    if _CONTENT_PATH.match(path):
        return CONTENT
    return ()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        added = headers_for(scope["path"]) if scope["type"] == "http" else ()
        if not added:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A route's own value stands (a preview's "private, no-store" says more).
                present = {name.lower() for name, _ in message.get("headers", [])}
                missing = [(k, v) for k, v in added if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *missing]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
