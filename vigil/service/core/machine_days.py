"""Which days' machine-decision counts the dashboard may keep (``machine_days``), and
forgetting a day when a late decision changes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from vigil.storage.tables import MachineDayRow

# Today and yesterday are always counted live: uploads of those days are still being decided.
LIVE_DAYS = 2


def last_settled_day(today: date | None = None) -> date:
    """The newest day whose counts may be kept."""
    return (today or datetime.now(UTC).date()) - timedelta(days=LIVE_DAYS)


def forget_day(session: Session, created_at: datetime) -> None:
    """An upload of ``created_at`` got a (new) machine decision: drop its day's kept counts,
    in the writer's transaction, so the next dashboard counts the day again. Only a late
    decision (a slow retry, a re-scan) touches an older day; others cost nothing."""
    day = created_at.astimezone(UTC).date()
    if day <= last_settled_day():
        session.execute(delete(MachineDayRow).where(MachineDayRow.day == day))
