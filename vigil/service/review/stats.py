"""Figures for the review dashboard and ``GET /v1/stats`` (definitions in docs/review.md)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from vigil.service.core.windows import Window
from vigil.service.review.rows import Verdict, decision_category
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow

VERDICTS = (Verdict.APPROVE.value, Verdict.REJECT.value)
DAILY_COLUMNS = (
    "date",
    "processed",
    "auto_allowed",
    "auto_blocked",
    "sent_to_review",
    "human_decisions",
)


def stats(db: Database, span: Window) -> dict[str, Any]:
    machine = _machine(db, span)
    decisions = _final_decisions(db, span)
    return {
        "since": span.first.isoformat(),
        "until": span.last.isoformat(),
        **_shares(machine),
        **_decision_times(db, span),
        **_disagreement(db, span),
        "categories": _error_rates(decisions),
        "daily": _daily(span, machine, db),
    }


def _machine(db: Database, span: Window) -> list[tuple[date, str]]:
    """(day, machine action) of every upload the machine decided in the window."""
    with db.session() as session:
        rows = session.execute(
            select(AssetRow.created_at, AssetRow.decision).where(
                AssetRow.created_at >= span.start,
                AssetRow.created_at < span.end,
                AssetRow.decision.is_not(None),
            )
        ).all()
    return [(created.date(), str(decision["action"])) for created, decision in rows if decision]


def _shares(machine: list[tuple[date, str]]) -> dict[str, Any]:
    counts = Counter(action for _, action in machine)
    total = len(machine)

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
    with db.session() as session:
        rows = session.execute(
            select(ReviewItemRow.created_at, ReviewItemRow.decided_at).where(
                ReviewItemRow.outcome.in_(VERDICTS),
                ReviewItemRow.decided_at >= span.start,
                ReviewItemRow.decided_at < span.end,
            )
        ).all()
    seconds = [(done - opened).total_seconds() for opened, done in rows if done]
    return {
        "decisions_timed": len(seconds),
        "mean_seconds_to_decision": round(statistics.fmean(seconds), 3) if seconds else None,
        "median_seconds_to_decision": round(statistics.median(seconds), 3) if seconds else None,
    }


def _disagreement(db: Database, span: Window) -> dict[str, Any]:
    """Of the items two people reviewed, the share where the second differed from the first."""
    with db.session() as session:
        rows = session.execute(
            select(ReviewDecisionRow.item_id, ReviewDecisionRow.disagreed)
            .join(ReviewItemRow, ReviewItemRow.id == ReviewDecisionRow.item_id)
            .where(
                ReviewItemRow.reviews_needed == 2,
                ReviewItemRow.state == "done",
                ReviewDecisionRow.decision.in_(VERDICTS),
                ReviewDecisionRow.created_at >= span.start,
                ReviewDecisionRow.created_at < span.end,
            )
        ).all()
    pairs: dict[str, list[bool]] = defaultdict(list)
    for item_id, flag in rows:
        pairs[item_id].append(bool(flag))
    twice = [flags for flags in pairs.values() if len(flags) >= 2]
    disagreed = sum(1 for flags in twice if any(flags))
    return {
        "double_reviewed": len(twice),
        "disagreements": disagreed,
        "disagreement_rate": round(disagreed / len(twice), 4) if twice else None,
    }


def _final_decisions(db: Database, span: Window) -> list[ReviewDecisionRow]:
    """Each asset's latest approve or reject that settled its item, in the window."""
    with db.session() as session:
        rows = session.scalars(
            select(ReviewDecisionRow)
            .join(ReviewItemRow, ReviewItemRow.id == ReviewDecisionRow.item_id)
            .where(
                ReviewItemRow.outcome.in_(VERDICTS),
                ReviewDecisionRow.decision.in_(VERDICTS),
                ReviewDecisionRow.created_at >= span.start,
                ReviewDecisionRow.created_at < span.end,
            )
            .order_by(ReviewDecisionRow.id)
        )
        latest = {row.asset_id: row for row in rows}
    return list(latest.values())


def _error_rates(decisions: list[ReviewDecisionRow]) -> list[dict[str, Any]]:
    """Per category: the machine's blocks people approved (false positives) and its allows
    people rejected (false negatives), each over the machine's decisions people checked. A
    decision counts under the category it was made for (``decision_category``)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for row in decisions:
        # Also right for decisions stored before a rejection counted under its reason.
        counts = table[decision_category(row.decision, row.reason, row.category)]
        if row.machine_action == "block":
            counts["blocked_checked"] += 1
            counts["false_positives"] += row.decision == Verdict.APPROVE
        elif row.machine_action == "allow":
            counts["allowed_checked"] += 1
            counts["false_negatives"] += row.decision == Verdict.REJECT
        else:
            counts["reviewed"] += 1
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


def _daily(span: Window, machine: list[tuple[date, str]], db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        decided = session.scalars(
            select(ReviewDecisionRow.created_at).where(
                ReviewDecisionRow.decision.in_(VERDICTS),
                ReviewDecisionRow.created_at >= span.start,
                ReviewDecisionRow.created_at < span.end,
            )
        ).all()
    people = Counter(moment.date() for moment in decided)
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for day, action in machine:
        by_day[day][action] += 1
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
    """The per-day figures as CSV, one row a day."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DAILY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(figures["daily"])
    return out.getvalue()
