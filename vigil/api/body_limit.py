"""Request bodies are bounded, and their senders known, before any of the body is read.

Pure ASGI rather than a route dependency: FastAPI parses (and spools to disk) a multipart
body before any dependency runs, so a credentials check there comes after the damage, and
only a wrapper around ``receive`` can stop a body that streams past its limit. Refusals are
413 (too large) and 401 or the AWS answer (no known credentials), in each surface's usual
error shape, with ``Connection: close`` because the unread body is never consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.api.deps import PRINCIPAL_STATE
from vigil.api.errors import refusal_response
from vigil.app import Vigil
from vigil.aws.errors import aws_error_response
from vigil.aws.routes import MAX_BODY_BYTES as REKOGNITION_MAX_BODY_BYTES
from vigil.aws.routes import known_caller
from vigil.errors import ImageTooLarge, RequestTooLarge, VideoTooLarge, VigilError
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Principal
from vigil.settings import Settings
from vigil.storage.db import database_refusal

# Room in a multipart upload for the boundaries and the form fields besides the file: an
# upload this much over the file limit still reaches the route, which names the exact limit.
FORM_ALLOWANCE = 256 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Gate:
    """What one request may send: its body limit, the refusal above it, whose credentials."""

    limit: int
    too_large: VigilError
    credentials: str = ""  # "api" (Bearer key), "aws" (SigV4 access key id) or "" (none)


def gate_for(method: str, path: str, headers: Headers, settings: Settings) -> Gate:
    if method == "POST" and path == "/" and "x-amz-target" in headers:
        message = f"the request is larger than {REKOGNITION_MAX_BODY_BYTES} bytes"
        return Gate(REKOGNITION_MAX_BODY_BYTES, ImageTooLarge(message, status=413), "aws")
    wants_key = "api" if path.startswith("/v1/") and method in BODY_METHODS else ""
    if method == "POST" and path in ("/v1/moderate", "/v1/assets"):
        return _upload_gate(path, settings)
    message = f"the request body is larger than the limit of {settings.max_request_bytes} bytes"
    return Gate(settings.max_request_bytes, RequestTooLarge(message), wants_key)


def _upload_gate(path: str, settings: Settings) -> Gate:
    """Uploads carry the file: the image limit, or for /v1/assets the video limit when that
    is larger, with the code of whichever limit it is."""
    refusal: type[VigilError] = ImageTooLarge
    limit = settings.max_upload_bytes
    if path == "/v1/assets" and settings.video_max_bytes > limit:
        limit, refusal = settings.video_max_bytes, VideoTooLarge
    message = f"the upload is larger than the limit of {limit} bytes"
    return Gate(limit + FORM_ALLOWANCE, refusal(message), "api")


class BodyTooLargeError(Exception):
    """Raised into the app from ``receive`` to stop it reading a body past its limit."""


@dataclass
class _Cycle:
    gate: Gate
    received: int = 0
    over: bool = False
    started: bool = False  # the app's response went out; nothing can replace it any more


class BodyLimit:
    def __init__(self, app: ASGIApp, vigil: Vigil) -> None:
        self.app = app
        self.vigil = vigil

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        gate = gate_for(scope["method"], scope["path"], headers, self.vigil.settings)
        refusal = await self._refusal(scope, headers, gate)
        if refusal is not None:
            if _declared_length(headers) or "transfer-encoding" in headers:
                refusal.headers["Connection"] = "close"  # the body stays unread
            await refusal(scope, receive, send)
            return
        await self._guarded(scope, receive, send, _Cycle(gate))

    async def _refusal(self, scope: Scope, headers: Headers, gate: Gate) -> JSONResponse | None:
        """401 before 413, so an unauthenticated caller learns nothing about limits."""
        try:
            if gate.credentials:
                who = await to_thread.run_sync(_caller, self.vigil, gate.credentials, headers)
                scope.setdefault("state", {})[PRINCIPAL_STATE] = who
            if _declared_length(headers) > gate.limit:
                raise gate.too_large
        except (OperationalError, PoolTimeout) as exc:  # down, or busy: a 503, not a 500
            return _shaped(gate, database_refusal(exc))
        except VigilError as refusal:
            return _shaped(gate, refusal)
        return None

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, cycle: _Cycle) -> None:
        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not cycle.started:
                cycle.received += len(message.get("body", b""))
                if cycle.received > cycle.gate.limit:
                    cycle.over = True
                    raise BodyTooLargeError(cycle.gate.too_large.message)
            return message

        async def quiet_send(message: Message) -> None:
            if cycle.over:
                return  # whatever the app made of the cut-off body; the 413 replaces it
            cycle.started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, quiet_send)
        except Exception:
            if not cycle.over:
                raise
        if cycle.over:
            refusal = _shaped(cycle.gate, cycle.gate.too_large)
            refusal.headers["Connection"] = "close"  # the rest of the body stays unread
            await refusal(scope, receive, send)


def _caller(vigil: Vigil, kind: str, headers: Headers) -> Principal:
    if kind == "aws":
        return known_caller(vigil, headers)
    return authenticate(vigil.db, headers.get("authorization"))


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0  # h11 refuses a malformed Content-Length before the app sees it


def _shaped(gate: Gate, refusal: VigilError) -> JSONResponse:
    if gate.credentials == "aws":
        answer = aws_error_response(refusal)
        if refusal.status == 413:
            answer.status_code = 413  # AWS's name, but the status every HTTP client knows
        return answer
    return refusal_response(refusal)
