"""A datetime column that always holds, and always gives back, aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def _as_utc(moment: datetime) -> datetime:
    # Naive values are taken as UTC: vigil has only ever stored UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that converts to UTC on the way in and out.

    The stored form is exactly what ``DateTime(timezone=True)`` gives, so the
    migrations stay valid: ``timestamptz`` on PostgreSQL, where the driver hands
    back the session's time zone (converted here), and on SQLite the text
    ``YYYY-MM-DD HH:MM:SS.ffffff`` without an offset, which reads back naive
    (marked UTC here). Converting binds to UTC first keeps SQLite's text the UTC
    wall time, so its string comparisons still order correctly.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)
