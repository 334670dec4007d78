"""Block and review thresholds per top-level category, suggested by people's final decisions
on the assets already stored (see docs/policy-simulation.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil import taxonomy
from vigil.errors import InvalidParameter
from vigil.policy.replay import direct_scores
from vigil.service.core.status import Status
from vigil.service.core.times import iso
from vigil.service.policies.simulation import FINAL, MODERATED
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

MIN_DECISIONS = 20  # fewer people's decisions than this in a category: no suggestion


@dataclass(frozen=True)
class Threshold:
    value: int  # 0-100
    support: int  # assets people decided that score at or above it
    precision: float  # share of those that people rejected
    recall: float | None  # share of the category's recall base at or above it


@dataclass(frozen=True)
class Suggestion:
    """Thresholds for one top-level category. ``decided``: assets people decided with a
    score in the category; ``recall_base``: the rejected ones whose highest score of all is in
    this category (people decide assets, not categories: this is the category's share)."""

    category: str
    decided: int
    rejected: int
    recall_base: int
    block: Threshold | None
    review: Threshold | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def shown(found: Threshold | None) -> dict[str, Any] | None:
            return None if found is None else vars(found).copy()

        return {
            "category": self.category,
            "decided": self.decided,
            "rejected": self.rejected,
            "recall_base": self.recall_base,
            "block": shown(self.block),
            "review": shown(self.review),
            "notes": list(self.notes),
        }


class _Curve:
    """People's decisions in one category, bucketed by the floor of the score: a score is at
    or above an integer threshold exactly when its floor is."""

    def __init__(self) -> None:
        self.total = [0] * 101
        self.rejected = [0] * 101
        self.led = [0] * 101

    def add(self, score: float, rejected: bool, leads: bool) -> None:
        bucket = int(min(100.0, max(0.0, score)))
        self.total[bucket] += 1
        self.rejected[bucket] += rejected
        self.led[bucket] += rejected and leads

    def suggest(
        self, category: str, target_precision: float, target_recall: float, minimum: int
    ) -> Suggestion:
        total, rejected = _at_or_above(self.total), _at_or_above(self.rejected)
        led = _at_or_above(self.led)
        decided, base = total[0], led[0]

        def threshold(value: int | None) -> Threshold | None:
            if value is None:
                return None
            recall = round(led[value] / base, 4) if base else None
            return Threshold(value, total[value], round(rejected[value] / total[value], 4), recall)

        if decided < minimum:
            notes = [f"not enough decisions ({decided} < {minimum})"]
            return Suggestion(category, decided, rejected[0], base, None, None, tuple(notes))
        notes = []
        block = _block_threshold(total, rejected, target_precision, minimum, notes)
        review = _review_threshold(led, target_recall, block, notes)
        return Suggestion(
            category, decided, rejected[0], base, threshold(block), threshold(review), tuple(notes)
        )


def _block_threshold(
    total: list[int], rejected: list[int], target: float, minimum: int, notes: list[str]
) -> int | None:
    """The lowest threshold at which people rejected at least ``target`` of what reaches it,
    if at least ``minimum`` decisions reach it."""
    found = next((t for t in range(101) if total[t] and rejected[t] >= target * total[t]), None)
    if found is None:
        notes.append(f"no threshold reaches precision {target:g}")
        return None
    if total[found] < minimum:
        notes.append(
            f"precision {target:g} is only reached at {found}, by {total[found]} decisions "
            f"(< {minimum})"
        )
        return None
    return found


def _review_threshold(
    led: list[int], target: float, block: int | None, notes: list[str]
) -> int | None:
    """The highest threshold that ``target`` of the recall base still reaches; none when the
    block threshold alone does."""
    if not led[0]:
        notes.append("no rejected asset scored highest in this category")
        return None
    found = max(t for t in range(101) if led[t] >= target * led[0])  # t = 0 always qualifies
    if block is not None and found >= block:
        notes.append(f"the block threshold alone reaches recall {target:g}")
        return None
    return found


def _at_or_above(buckets: list[int]) -> list[int]:
    sums, running = [0] * len(buckets), 0
    for index in range(len(buckets) - 1, -1, -1):
        running += buckets[index]
        sums[index] = running
    return sums


def _decided(db: Database, since: datetime | None) -> Iterator[tuple[dict[str, float], bool]]:
    """(direct scores, rejected?) for each moderated asset whose latest override is final."""
    query = (
        select(AuditEventRow.asset_id, AuditEventRow.to_status, AssetRow.detections)
        .join(AssetRow, AssetRow.id == AuditEventRow.asset_id)
        .where(AuditEventRow.action == "override", AssetRow.moderation_mode.in_(MODERATED))
        .order_by(AuditEventRow.id)
    )
    if since is not None:
        query = query.where(AssetRow.created_at >= since)
    latest: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    with db.session() as session:
        for asset_id, status, detections in session.execute(query):
            latest[asset_id] = (status, detections)
    for status, detections in latest.values():
        direct = direct_scores(detections)
        if direct and status in FINAL:
            yield direct, status == Status.REJECTED


def _check_share(name: str, value: float) -> None:
    if not 0 < value <= 1:
        raise InvalidParameter(f"{name} must be above 0 and at most 1, not {value:g}")


def suggest(
    db: Database,
    target_precision: float,
    since: datetime | None,
    *,
    target_recall: float = 0.95,
    minimum: int = MIN_DECISIONS,
) -> list[Suggestion]:
    """Per top-level category: the lowest block threshold at which at least
    ``target_precision`` of the assets people decided were rejected, and the highest review
    threshold that still reaches ``target_recall`` of the category's rejected assets."""
    _check_share("target_precision", target_precision)
    _check_share("target_recall", target_recall)
    curves = {category: _Curve() for category in taxonomy.ALL_TOP_LEVEL}
    for direct, rejected in _decided(db, since):
        leading = taxonomy.top_level(max(direct, key=direct.__getitem__))
        best: dict[str, float] = {}
        for label, score in direct.items():
            category = taxonomy.top_level(label)
            best[category] = max(best.get(category, 0.0), score)
        for category, score in best.items():
            if category in curves:  # custom labels (taxonomy.CUSTOM) have no thresholds
                curves[category].add(score, rejected, leading == category)
    return [
        curve.suggest(category, target_precision, target_recall, minimum)
        for category, curve in curves.items()
    ]


def suggestions_view(
    found: list[Suggestion],
    *,
    target_precision: float,
    target_recall: float,
    since: datetime | None,
) -> dict[str, Any]:
    """The JSON shape the API and the CLI share."""
    return {
        "target_precision": target_precision,
        "target_recall": target_recall,
        "since": None if since is None else iso(since),
        "min_decisions": MIN_DECISIONS,
        "suggestions": [suggestion.to_dict() for suggestion in found],
    }
