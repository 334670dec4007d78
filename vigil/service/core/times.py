"""Times as vigil stores and shows them: UTC, ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything vigil stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return utc(moment).isoformat()
