"""Response classes and OpenAPI content for the routes that answer bytes, not JSON: their
real media type shows in ``/docs``, and the route-table test tells them from JSON routes."""

from __future__ import annotations

from fastapi.responses import Response

from vigil.metrics import CONTENT_TYPE

# OpenAPI fragments, as FastAPI's ``responses=`` takes them.
OpenApi = dict[str, object]
# OpenAPI's way to say "a file": a string of bytes.
BINARY: OpenApi = {"schema": {"type": "string", "format": "binary"}}
TEXT: OpenApi = {"schema": {"type": "string"}}


class JpegResponse(Response):
    media_type = "image/jpeg"


class CsvResponse(Response):
    media_type = "text/csv"


class MetricsResponse(Response):
    media_type = CONTENT_TYPE  # Prometheus' text exposition format


def answered_in(
    description: str, *media_types: str, schema: OpenApi = BINARY
) -> dict[int | str, OpenApi]:
    """A route's ``responses=``: its 200 answer in each of ``media_types``."""
    return {200: {"description": description, "content": dict.fromkeys(media_types, schema)}}
