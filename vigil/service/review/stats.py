"""Figures for the review dashboard and ``GET /v1/stats`` (definitions in docs/review.md)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, Integer, cast, func, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vigil.service.core.machine_days import last_settled_day
from vigil.service.core.windows import Window
from vigil.service.review.rows import Verdict, decision_category
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, MachineDayRow, ReviewDecisionRow, ReviewItemRow

VERDICTS = (Verdict.APPROVE.value, Verdict.REJECT.value)
DAILY_COLUMNS = (
    "date",
    "processed",
    "auto_allowed",
    "auto_blocked",
    "sent_to_review",
    "human_decisions",
)


# (day, machine action) -> how many uploads the machine decided so that day.
MachineCounts = dict[tuple[date, str], int]


def stats(db: Database, span: Window) -> dict[str, Any]:
    machine = _machine(db, span)
    return {
        "since": span.first.isoformat(),
        "until": span.last.isoformat(),
        **_shares(machine),
        **_decision_times(db, span),
        **_disagreement(db, span),
        "categories": _error_rates(_final_decisions(db, span)),
        "daily": _daily(span, machine, _people_per_day(db, span)),
    }


def daily(db: Database, span: Window) -> list[dict[str, Any]]:
    """Only the per-day figures (the CSV export): none of the others is computed."""
    return _daily(span, _machine(db, span), _people_per_day(db, span))


# The people's figures are counted by the database and come back as a handful of rows: a
# million assets' window holds thousands of decisions, and reading each into Python cost
# more than the counting, and set off the interpreter's full garbage collections.


def _verdicts_in(span: Window) -> tuple[Any, ...]:
    """A person's approve or reject made in the window (found through the time's index)."""
    return (
        ReviewDecisionRow.decision.in_(VERDICTS),
        ReviewDecisionRow.created_at >= span.start,
        ReviewDecisionRow.created_at < span.end,
    )


def _people_per_day(db: Database, span: Window) -> Counter[date]:
    """The window's approves and rejects per UTC day."""
    day_of = utc_day(db, ReviewDecisionRow.created_at)
    query = select(day_of, func.count()).where(*_verdicts_in(span)).group_by(day_of)
    with db.session() as session:
        return Counter({as_date(day): int(count) for day, count in session.execute(query)})


def _machine(db: Database, span: Window) -> MachineCounts:
    """Uploads the machine decided in the window, per day and action: settled days from
    their kept counts (counted once, then kept), the last two days counted live."""
    settled = last_settled_day()
    counts: MachineCounts = {}
    if span.first <= settled:
        counts |= _settled(db, span.first, min(span.last, settled))
    live = max(span.first, settled + timedelta(days=1))
    if live <= span.last:
        counts |= _count(db, live, span.last)
    return counts


def _settled(db: Database, first: date, last: date) -> MachineCounts:
    with db.session() as session:
        kept = session.scalars(
            select(MachineDayRow).where(MachineDayRow.day >= first, MachineDayRow.day <= last)
        )
        by_day = {row.day: dict(row.counts) for row in kept}
    missing = [day for day in Window(first, last).days() if day not in by_day]
    if missing:
        fresh = _count(db, missing[0], missing[-1])
        counted = {day: {a: n for (d, a), n in fresh.items() if d == day} for day in missing}
        _keep(db, counted)
        by_day |= counted
    return {(day, action): n for day, actions in by_day.items() for action, n in actions.items()}


def _keep(db: Database, counted: dict[date, dict[str, int]]) -> None:
    """Keep the counts; a dashboard that counted the same day at once kept them first."""
    postgres = db.engine.dialect.name == "postgresql"
    insert = postgres_insert if postgres else sqlite_insert
    rows = [{"day": day, "counts": actions} for day, actions in counted.items()]
    with db.session() as session:
        session.execute(insert(MachineDayRow).on_conflict_do_nothing(), rows)


def _count(db: Database, first: date, last: date) -> MachineCounts:
    """The days' uploads counted by the database from ``ix_assets_created_action`` alone:
    no decision JSON is read."""
    span = Window(first, last)
    day_of = utc_day(db, AssetRow.created_at)
    with db.session() as session:
        rows = session.execute(
            select(day_of, AssetRow.machine_action, func.count())
            .where(
                AssetRow.created_at >= span.start,
                AssetRow.created_at < span.end,
                AssetRow.machine_action.is_not(None),
            )
            .group_by(day_of, AssetRow.machine_action)
        ).all()
    return {(as_date(moment), str(action)): int(count) for moment, action, count in rows}


def utc_day(db: Database, column: Any) -> Any:
    """The UTC calendar day of a timestamp column. PostgreSQL's ``date()`` would use the
    session's time zone; SQLite's stored text is UTC already."""
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def seconds_between(db: Database, start: Any, end: Any) -> Any:
    """``end - start`` in seconds, to the microsecond, computed by the database: no
    timestamp is read into Python. SQLite's own date functions keep only milliseconds, so
    its stored text (``YYYY-MM-DD HH:MM:SS.ffffff``) gives whole seconds and fraction apart."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.extract("epoch", end - start), Float)

    def day(column: Any) -> Any:
        # The text up to the seconds only: SQLite rounds .9995 and up to the next second,
        # which the fraction would then count again.
        return func.julianday(func.substr(column, 1, 19))

    def fraction(column: Any) -> Any:
        return cast(func.substr(column, 20), Float)

    # julianday() is about twice as fast as strftime('%s'); rounding its difference gives
    # the whole seconds exactly (its error is far below a second).
    whole = func.round((day(end) - day(start)) * 86400)
    return whole + (fraction(end) - fraction(start))


def as_date(value: date | str) -> date:
    """SQLite answers ``date()`` as text, PostgreSQL as a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _shares(machine: MachineCounts) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    for (_, action), count in machine.items():
        counts[action] += count
    total = sum(counts.values())

    def share(action: str) -> float | None:
        return round(counts[action] / total, 4) if total else None

    return {
        "uploads_processed": total,
        "auto_allowed": counts["allow"],
        "auto_blocked": counts["block"],
        "sent_to_review": counts["review"],
        "auto_allowed_share": share("allow"),
        "auto_blocked_share": share("block"),
        "sent_to_review_share": share("review"),
    }


def _decision_times(db: Database, span: Window) -> dict[str, Any]:
    """Seconds from an item entering its queue to a person's approve or reject."""
    waited = seconds_between(db, ReviewItemRow.created_at, ReviewItemRow.decided_at)
    with db.session() as session:
        seconds = [
            float(value)
            for value in session.scalars(
                select(waited).where(
                    ReviewItemRow.outcome.in_(VERDICTS),
                    ReviewItemRow.decided_at >= span.start,
                    ReviewItemRow.decided_at < span.end,
                )
            )
        ]
    return {
        "decisions_timed": len(seconds),
        "mean_seconds_to_decision": round(statistics.fmean(seconds), 3) if seconds else None,
        "median_seconds_to_decision": round(statistics.median(seconds), 3) if seconds else None,
    }


def _disagreement(db: Database, span: Window) -> dict[str, Any]:
    """Of the items two people reviewed, the share where the second differed from the first:
    items that needed two people and are done, with two or more verdicts in the window."""
    # Grouped before the join: only the few items with two verdicts are looked up.
    per_item = (
        select(
            ReviewDecisionRow.item_id,
            func.max(cast(ReviewDecisionRow.disagreed, Integer)).label("differed"),
        )
        .where(*_verdicts_in(span))
        .group_by(ReviewDecisionRow.item_id)
        .having(func.count() >= 2)
        .subquery()
    )
    query = (
        select(func.count(), func.coalesce(func.sum(per_item.c.differed), 0))
        .join(ReviewItemRow, ReviewItemRow.id == per_item.c.item_id)
        .where(ReviewItemRow.reviews_needed == 2, ReviewItemRow.state == "done")
    )
    with db.session() as session:
        twice, disagreed = (int(value) for value in session.execute(query).one())
    return {
        "double_reviewed": twice,
        "disagreements": disagreed,
        "disagreement_rate": round(disagreed / twice, 4) if twice else None,
    }


# (decision, reason, category, machine action) -> how many final decisions were so.
DecisionCounts = list[tuple[str, str, str, str | None, int]]


def _final_decisions(db: Database, span: Window) -> DecisionCounts:
    """Each asset's latest approve or reject that settled its item, in the window, counted
    per kind."""
    # The item's outcome as a subquery per decision, not a join: PostgreSQL's planner guesses
    # a month's decisions touch most items and reads them all (16 ms at a million assets)
    # where a lookup by key for each decision is a few milliseconds.
    outcome = (
        select(ReviewItemRow.outcome)
        .where(ReviewItemRow.id == ReviewDecisionRow.item_id)
        .scalar_subquery()
    )
    latest = (
        select(func.max(ReviewDecisionRow.id))
        .where(*_verdicts_in(span), outcome.in_(VERDICTS))
        .group_by(ReviewDecisionRow.asset_id)
    )
    kind = (
        ReviewDecisionRow.decision,
        ReviewDecisionRow.reason,
        ReviewDecisionRow.category,
        ReviewDecisionRow.machine_action,
    )
    query = select(*kind, func.count()).where(ReviewDecisionRow.id.in_(latest)).group_by(*kind)
    with db.session() as session:
        return [
            (decision, reason, category, machine, int(count))
            for decision, reason, category, machine, count in session.execute(query)
        ]


def _error_rates(decisions: DecisionCounts) -> list[dict[str, Any]]:
    """Per category: the machine's blocks people approved (false positives) and its allows
    people rejected (false negatives), each over the machine's decisions people checked. A
    decision counts under the category it was made for (``decision_category``)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for decision, reason, category, machine, n in decisions:
        # Also right for decisions stored before a rejection counted under its reason.
        counts = table[decision_category(decision, reason, category)]
        if machine == "block":
            counts["blocked_checked"] += n
            counts["false_positives"] += n if decision == Verdict.APPROVE else 0
        elif machine == "allow":
            counts["allowed_checked"] += n
            counts["false_negatives"] += n if decision == Verdict.REJECT else 0
        else:
            counts["reviewed"] += n
    return [_category_view(name, table[name]) for name in sorted(table)]


def _category_view(name: str, counts: Counter[str]) -> dict[str, Any]:
    def rate(part: str, whole: str) -> float | None:
        return round(counts[part] / counts[whole], 4) if counts[whole] else None

    return {
        "category": name,
        "human_decisions": sum(
            counts[key] for key in ("blocked_checked", "allowed_checked", "reviewed")
        ),
        "blocked_checked": counts["blocked_checked"],
        "false_positives": counts["false_positives"],
        "false_positive_rate": rate("false_positives", "blocked_checked"),
        "allowed_checked": counts["allowed_checked"],
        "false_negatives": counts["false_negatives"],
        "false_negative_rate": rate("false_negatives", "allowed_checked"),
    }


def _daily(span: Window, machine: MachineCounts, people: Counter[date]) -> list[dict[str, Any]]:
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for (moment, action), count in machine.items():
        by_day[moment][action] += count
    return [
        {
            "date": day.isoformat(),
            "processed": sum(by_day[day].values()),
            "auto_allowed": by_day[day]["allow"],
            "auto_blocked": by_day[day]["block"],
            "sent_to_review": by_day[day]["review"],
            "human_decisions": people[day],
        }
        for day in span.days()
    ]


def daily_csv(figures: dict[str, Any]) -> str:
    """The per-day figures (``figures["daily"]``, from ``stats`` or ``daily``) as CSV, one
    row a day."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DAILY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(figures["daily"])
    return out.getvalue()
