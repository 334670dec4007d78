"""The dashboard's people figures, counted by the database: the cases the counting
must keep apart, on SQLite and PostgreSQL, with answers worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from tests.review_helpers import asset_row
from vigil.app import Vigil
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Role
from vigil.service.core.windows import Window
from vigil.service.review.stats import daily, stats
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow

SPAN = Window(date(2026, 3, 1), date(2026, 3, 10))
# The assets' creation time: outside the window, so there are no machine figures.
OUTSIDE = datetime(2026, 1, 1, tzinfo=UTC)
ON_2 = datetime(2026, 3, 2, 10, tzinfo=UTC)
ON_5 = datetime(2026, 3, 5, 10, tzinfo=UTC)

# item: (asset, reviews needed, state, outcome, seconds from entering the queue to decided,
# decided at)
ITEMS: dict[str, tuple[str, int, str, str | None, float, datetime | None]] = {
    "i1": ("a1", 2, "done", "reject", 60.25, ON_2),  # two people, who disagreed
    "i2": ("a2", 2, "done", "approve", 120.5, ON_5),  # two people, who agreed
    "i3": ("a3", 2, "claimed", None, 0, None),  # two verdicts, yet not done
    "i4": ("a4", 2, "done", "approve", 0.000001, ON_2),  # its first verdict is before the window
    "i5a": ("a5", 1, "done", "reject", 3600, ON_2),  # superseded by a5's appeal below
    "i5b": ("a5", 1, "done", "approve", 86401.5, ON_5),
    "i6": ("a6", 1, "done", "superseded", 10, ON_2),  # settled by no verdict
    "i7": ("a7", 1, "done", "reject", 599.999999, ON_2),  # escalated first
    "i8": ("a8", 1, "done", "approve", 5, datetime(2026, 3, 11, tzinfo=UTC)),  # after it
}
# (item, verdict, reason, category, machine action, disagreed, made at), oldest first
DECISIONS: list[tuple[str, str, str, str, str, bool, datetime]] = [
    ("i4", "approve", "", "Explicit", "block", False, datetime(2026, 2, 28, 23, tzinfo=UTC)),
    ("i6", "approve", "", "Explicit", "allow", False, datetime(2026, 3, 1, tzinfo=UTC)),
    ("i1", "approve", "", "Explicit", "review", False, ON_2),
    ("i1", "reject", "nudity", "Explicit", "review", True, ON_2),
    ("i4", "approve", "", "Explicit", "block", True, ON_2),
    ("i5a", "reject", "nudity", "Explicit", "block", False, ON_2),
    ("i7", "escalate", "", "Explicit", "allow", False, ON_2),
    ("i7", "reject", "weapons", "Explicit", "allow", False, ON_2),
    ("i2", "approve", "", "Violence", "allow", False, ON_5),
    ("i2", "approve", "", "Violence", "allow", False, ON_5),
    ("i3", "approve", "", "Explicit", "review", False, ON_5),
    ("i3", "reject", "nudity", "Explicit", "review", True, ON_5),
    ("i5b", "approve", "", "Explicit", "block", False, ON_5),
    ("i8", "approve", "", "Explicit", "allow", False, datetime(2026, 3, 11, tzinfo=UTC)),
]


def test_people_figures_keep_each_case_apart(on_both: Vigil) -> None:
    seed(on_both)
    figures = stats(on_both.db, SPAN)
    # i1, i2, i4, i5a, i5b, i7: sorted, the middle two are 120.5 and 599.999999.
    assert figures["decisions_timed"] == 6
    assert figures["mean_seconds_to_decision"] == 15130.375
    assert figures["median_seconds_to_decision"] == 360.25
    assert (figures["double_reviewed"], figures["disagreements"]) == (2, 1)  # i1 and i2
    assert figures["disagreement_rate"] == 0.5
    # a5 counts once, by its appeal's approval; i3's, i6's and the escalation do not count.
    assert figures["categories"] == [
        category("Explicit", reviewed=1, blocked=(2, 2), allowed=(0, 0)),
        category("Violence", reviewed=0, blocked=(0, 0), allowed=(2, 1)),
    ]
    people = {day["date"]: day["human_decisions"] for day in figures["daily"]}
    assert people == {f"2026-03-{n:02d}": {1: 1, 2: 5, 5: 5}.get(n, 0) for n in range(1, 11)}
    assert daily(on_both.db, SPAN) == figures["daily"]


def category(
    name: str, reviewed: int, blocked: tuple[int, int], allowed: tuple[int, int]
) -> dict[str, Any]:
    """A category's row: ``blocked`` is (checked, false positives), ``allowed`` (checked,
    false negatives)."""

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "category": name,
        "human_decisions": reviewed + blocked[0] + allowed[0],
        "blocked_checked": blocked[0],
        "false_positives": blocked[1],
        "false_positive_rate": rate(blocked[1], blocked[0]),
        "allowed_checked": allowed[0],
        "false_negatives": allowed[1],
        "false_negative_rate": rate(allowed[1], allowed[0]),
    }


def seed(vigil: Vigil) -> None:
    owner = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}").key_id
    assets = sorted({asset for asset, *_ in ITEMS.values()})
    with vigil.db.engine.begin() as connection:
        connection.execute(
            insert(AssetRow), [asset_row(name, owner, OUTSIDE, "review") for name in assets]
        )
        connection.execute(insert(ReviewItemRow), [item_row(name) for name in ITEMS])
        connection.execute(insert(ReviewDecisionRow), [decision_row(*row) for row in DECISIONS])


def item_row(item_id: str) -> dict[str, Any]:
    asset_id, needed, state, outcome, seconds, decided = ITEMS[item_id]
    entered = (decided or ON_5) - timedelta(seconds=seconds)
    return {
        "id": item_id,
        "asset_id": asset_id,
        "queue": "appeal" if item_id == "i5b" else "first_pass",
        "round": 0,
        "state": state,
        "reviews_needed": needed,
        "outcome": outcome,
        "created_at": entered,
        "decided_at": decided,
    }


def decision_row(
    item_id: str,
    verdict: str,
    reason: str,
    category: str,
    machine: str,
    disagreed: bool,
    made: datetime,
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "asset_id": ITEMS[item_id][0],
        "queue": "first_pass",
        "actor": "user:someone",
        "decision": verdict,
        "reason": reason,
        "machine_action": machine,
        "category": category,
        "disagreed": disagreed,
        "created_at": made,
    }
