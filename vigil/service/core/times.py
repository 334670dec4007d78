"""Times as vigil stores and shows them: UTC, ISO 8601 with ``+00:00``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime.

    Naive input is taken to be UTC already: that is how vigil stores times,
    and how clients that omit an offset are read.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit ``+00:00`` offset (never ``Z``)."""
    return utc(moment).isoformat()


# Pydantic v2 writes aware UTC datetimes as "...Z"; the API promises "+00:00", so response
# models annotate datetime fields with this type instead. The serializer alone would leave
# OpenAPI a bare string: the schema keeps saying it is a date-time.
Timestamp = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
