"""Time windows of whole UTC days, as reports and the audit log take them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from vigil.errors import InvalidParameter

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Days a window may name: a default window reaches DEFAULT_DAYS back from its last day and
# its end one day past it, which date arithmetic cannot do near year 1 or 9999.
EARLIEST = date(1900, 1, 1)
LATEST = date(9998, 12, 31)


@dataclass(frozen=True)
class Window:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def window(since: str | None, until: str | None, today: date | None = None) -> Window:
    """The days between ``since`` and ``until`` (YYYY-MM-DD, both included); the last
    30 days up to today by default."""
    last = _day(until, "until") if until else (today or datetime.now(UTC).date())
    first = _day(since, "since") if since else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidParameter("since must not be after until")
    if (last - first).days >= MAX_DAYS:
        raise InvalidParameter(f"the window is at most {MAX_DAYS} days")
    return Window(first, last)


def _day(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(f"{name} must be a date as YYYY-MM-DD, got '{text}'") from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidParameter(f"{name} must be a day from {EARLIEST} to {LATEST}")
    return day
