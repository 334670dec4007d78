"""Review queues: which assets wait for people, claiming them, deciding them.

First-pass and QA items are derived from assets (status review/pending, or a decision marked
``qa_sample``) when a queue is read: whoever changes an asset raises its ``review_due`` flag in
the same transaction, and the read visits only the flagged assets (``items.sync``). Claims are
a compare-and-set on the item, so two reviewers never hold the same one; an expired claim
counts as open. A verdict goes through ``AssetService.override`` (quarantine or restore,
audit, the ``asset.decided`` event), so the console and the plain API share one path."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.errors import InvalidParameter, ReviewItemNotFound
from vigil.service.assets.service import AssetService
from vigil.service.core.audit import audit_row
from vigil.service.core.enums import parse_enum
from vigil.service.core.status import Status
from vigil.service.core.times import iso
from vigil.service.review.items import (
    claimable,
    decisions,
    held_by,
    not_done,
    not_held,
    now,
    open_numbered,
    sync,
)
from vigil.service.review.people import Reviewer
from vigil.service.review.rows import (
    DISAGREED,
    QUEUE_ROLE,
    TARGET_STATUS,
    ItemState,
    Queue,
    Verdict,
    asset_category,
    audit_reason,
    boxes,
    decision_category,
    evidence_labels,
    evidence_segments,
    item_view,
    machine_action,
)
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow, VideoRow

CLAIM_CANDIDATES = 20
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class ReviewRules:
    """The review settings the queues apply (docs/settings.md, ``VIGIL_REVIEW_*``)."""

    double_categories: list[str]
    claim_seconds: float
    reject_reasons: list[str]
    min_confidence: float  # the weakest box drawn on a preview


@dataclass(frozen=True)
class Evidence:
    """What the console shows beside an item: its regions, every label, a video's segments."""

    item: dict[str, Any]
    boxes: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    is_video: bool
    segments: list[dict[str, Any]]


class ReviewService:
    def __init__(
        self,
        db: Database,
        assets: AssetService,
        rules: ReviewRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.assets = assets
        self.rules = rules
        self.clock = clock

    # -- queues ------------------------------------------------------------------------------

    def queues(self, who: Reviewer) -> list[dict[str, Any]]:
        """Each queue's size (items not done) and the age of its oldest item."""
        self.sync()
        now = datetime.now(UTC)
        with self.db.session() as session:
            rows = session.execute(
                select(ReviewItemRow.queue, func.count(), func.min(ReviewItemRow.created_at))
                .where(not_done())
                .group_by(ReviewItemRow.queue)
            ).all()
        found = {queue: (size, oldest) for queue, size, oldest in rows}
        views = []
        for queue in Queue:
            size, oldest = found.get(queue.value, (0, None))
            views.append(
                {
                    "queue": queue.value,
                    "size": size,
                    "oldest_created_at": iso(oldest) if oldest else None,
                    "oldest_age_seconds": (now - oldest).total_seconds() if oldest else None,
                    "allowed": who.at_least(QUEUE_ROLE[queue]),
                }
            )
        return views

    def items(self, who: Reviewer, queue: str, limit: int = 50) -> list[dict[str, Any]]:
        """Items not done in ``queue``, oldest first."""
        chosen = self._queue(who, queue)
        self.sync()
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(ReviewItemRow)
                    .where(ReviewItemRow.queue == chosen.value, not_done())
                    .order_by(ReviewItemRow.created_at, ReviewItemRow.id)
                    .limit(limit)
                )
            )
            return [item_view(row, []) for row in rows]

    def sync(self) -> int:
        """Derive first-pass and QA items from the assets (see ``review_items.sync``)."""
        return sync(self.db, self.rules.double_categories)

    # -- claiming ----------------------------------------------------------------------------

    def claim_next(
        self, who: Reviewer, queue: str, skip: str | None = None
    ) -> dict[str, Any] | None:
        """The item ``who`` already holds in ``queue``, else the oldest claimable one (claimed
        for REVIEW_CLAIM_SECONDS), else None when the queue is empty. ``skip``: an item ``who``
        holds and passes on; it is released once another is claimed."""
        chosen = self._queue(who, queue)
        self.sync()
        now = self.clock()
        with self.db.session() as session:
            held = session.scalar(
                select(ReviewItemRow.id).where(
                    ReviewItemRow.queue == chosen.value,
                    ReviewItemRow.state == ItemState.CLAIMED.value,
                    ReviewItemRow.claimed_by == who.actor,
                    ReviewItemRow.claim_expires_at >= now,
                    ReviewItemRow.id != (skip or ""),
                )
            )
            # Per candidate, through the decisions' item index: no scan of every decision.
            decided_before = (
                select(ReviewDecisionRow.id)
                .where(
                    ReviewDecisionRow.item_id == ReviewItemRow.id,
                    ReviewDecisionRow.actor == who.actor,
                )
                .exists()
            )
            candidates = list(
                session.scalars(
                    select(ReviewItemRow.id)
                    .where(
                        ReviewItemRow.queue == chosen.value,
                        not_done(),  # implied by claimable(), but it lets the planner use the index
                        claimable(now),
                        # A second review needs a second person.
                        ~decided_before,
                        ReviewItemRow.id != (skip or ""),
                    )
                    .order_by(ReviewItemRow.created_at, ReviewItemRow.id)
                    .limit(CLAIM_CANDIDATES)
                )
            )
        claimed = held
        for item_id in candidates if held is None else []:
            if self._try_claim(item_id, who, now):
                claimed = item_id
                break
        if claimed is None:
            return None
        if skip:
            self._release_quietly(who, skip)
        return self.get(who, claimed)

    def _release_quietly(self, who: Reviewer, item_id: str) -> None:
        with self.db.session() as session:
            self._unclaim(session, who, item_id)

    def _unclaim(self, session: Session, who: Reviewer, item_id: str) -> bool:
        """Put an item ``who`` holds back in its queue; False when ``who`` does not hold it."""
        changed = session.execute(
            update(ReviewItemRow)
            .where(held_by(item_id, who.actor, self.clock()))
            .values(state=ItemState.OPEN.value, claimed_by=None, claim_expires_at=None)
        )
        return bool(changed.rowcount == 1)  # type: ignore[attr-defined]

    def _try_claim(self, item_id: str, who: Reviewer, now: float) -> bool:
        with self.db.session() as session:
            changed = session.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id, claimable(now))
                .values(
                    state=ItemState.CLAIMED.value,
                    claimed_by=who.actor,
                    claim_expires_at=now + self.rules.claim_seconds,
                )
            )
        return bool(changed.rowcount == 1)  # type: ignore[attr-defined]

    def release(self, who: Reviewer, item_id: str) -> dict[str, Any]:
        """Give a claimed item back to its queue."""
        with self.db.session() as session:
            if not self._unclaim(session, who, item_id):
                raise not_held(session, item_id)
        return self.get(who, item_id)

    def get(self, who: Reviewer, item_id: str) -> dict[str, Any]:
        """An item with its asset and the decisions people made on it."""
        with self.db.session() as session:
            row = session.get(ReviewItemRow, item_id)
            if row is None:
                raise ReviewItemNotFound(f"no review item with id {item_id}")
            self._queue(who, row.queue)
            earlier = decisions(session, item_id)
        view = item_view(row, earlier)
        view["asset"] = self.assets.get(row.asset_id, who.principal)
        return view

    def unblur(self, who: Reviewer, item_id: str) -> bytes:
        """A reviewer asked for the unblurred media: logged, then its bytes. The item and its
        asset are read once, in the transaction that writes the log line."""
        with self.db.session() as session:
            item = session.get(ReviewItemRow, item_id)
            if item is None:
                raise ReviewItemNotFound(f"no review item with id {item_id}")
            self._queue(who, item.queue)
            asset = self.assets.visible_in(session, item.asset_id, who.principal)
            status = Status(asset.status)
            reason = f"review item {item_id}"
            session.add(audit_row(asset.id, who.actor, "unblurred", status, status, reason, now()))
        data, _mime = self.assets.row_content(asset, who.principal)
        return data

    # -- deciding ----------------------------------------------------------------------------

    def decide(
        self, who: Reviewer, item_id: str, verdict: str, reason: str = "", note: str = ""
    ) -> dict[str, Any]:
        """Approve, reject or escalate an item ``who`` holds a claim on."""
        chosen = parse_enum(Verdict, verdict, "decision")
        reason, note = reason.strip(), note.strip()[:MAX_MESSAGE]
        if chosen is Verdict.REJECT and reason not in self.rules.reject_reasons:
            known = ", ".join(self.rules.reject_reasons)
            raise InvalidParameter(f"a rejection needs a reason, one of: {known}")
        with self.db.session() as session:
            row = session.get(ReviewItemRow, item_id)
            if row is None:
                raise ReviewItemNotFound(f"no review item with id {item_id}")
            queue = self._queue(who, row.queue)
            if chosen is Verdict.ESCALATE and queue is Queue.ESCALATION:
                raise InvalidParameter("an escalated item is decided by approving or rejecting")
            earlier = decisions(session, item_id)
        if chosen is Verdict.ESCALATE:
            self._escalate(who, row, reason, note)
        elif row.reviews_needed > len(earlier) + 1:
            self._first_of_two(who, row, chosen, reason, note)
        elif earlier and row.reviews_needed > 1 and earlier[-1].decision != chosen.value:
            self._disagree(who, row, chosen, reason, note, earlier[-1])
        else:
            self._apply(who, row, chosen, reason, note)
        return self.get(who, item_id)

    def _apply(
        self, who: Reviewer, row: ReviewItemRow, verdict: Verdict, reason: str, note: str
    ) -> None:
        """Close the item, then change the asset; reopen the claim if the change is refused."""
        self._close(who, row, verdict.value, verdict, reason, note)
        target = TARGET_STATUS[verdict]
        try:
            current = self.assets.get(row.asset_id, who.principal)["status"]
            if current != target:
                self.assets.override(
                    row.asset_id, who.principal, target, audit_reason(verdict, reason, note)
                )
            else:
                self._log(who, row.asset_id, "confirmed", audit_reason(verdict, reason, note))
        except Exception:
            self._reopen(row.id, who)
            raise

    def _first_of_two(
        self, who: Reviewer, row: ReviewItemRow, verdict: Verdict, reason: str, note: str
    ) -> None:
        """The first of two reviews: recorded, and the item goes back for someone else."""
        with self.db.session() as session:
            if not self._unclaim(session, who, row.id):
                raise not_held(session, row.id)
            session.add(self._decision(session, who, row, verdict, reason, note))
        self._log(who, row.asset_id, "first_review", audit_reason(verdict, reason, note))

    def _disagree(
        self,
        who: Reviewer,
        row: ReviewItemRow,
        verdict: Verdict,
        reason: str,
        note: str,
        first: ReviewDecisionRow,
    ) -> None:
        summary = f"reviewers disagreed: {first.actor} {first.decision}, {who.actor} {verdict}"
        self._close(who, row, DISAGREED, verdict, reason, note, disagreed=True)
        self._log(who, row.asset_id, "disagreed", summary)
        self._open_escalation(row.asset_id, who.actor, summary)

    def _escalate(self, who: Reviewer, row: ReviewItemRow, reason: str, note: str) -> None:
        self._close(who, row, Verdict.ESCALATE.value, Verdict.ESCALATE, reason, note)
        self._log(who, row.asset_id, "escalated", audit_reason(Verdict.ESCALATE, reason, note))
        self._open_escalation(row.asset_id, who.actor, note or f"escalated from {row.queue}")

    def _close(
        self,
        who: Reviewer,
        row: ReviewItemRow,
        outcome: str,
        verdict: Verdict,
        reason: str,
        note: str,
        *,
        disagreed: bool = False,
    ) -> None:
        with self.db.session() as session:
            changed = session.execute(
                update(ReviewItemRow)
                .where(held_by(row.id, who.actor, self.clock()))
                .values(state=ItemState.DONE.value, outcome=outcome, decided_at=datetime.now(UTC))
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise not_held(session, row.id)
            session.add(self._decision(session, who, row, verdict, reason, note, disagreed))

    def _reopen(self, item_id: str, who: Reviewer) -> None:
        with self.db.session() as session:
            session.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id)
                .values(state=ItemState.CLAIMED.value, outcome=None, decided_at=None)
            )
            session.query(ReviewDecisionRow).filter(
                ReviewDecisionRow.item_id == item_id, ReviewDecisionRow.actor == who.actor
            ).delete()

    def _decision(
        self,
        session: Session,
        who: Reviewer,
        row: ReviewItemRow,
        verdict: Verdict,
        reason: str,
        note: str,
        disagreed: bool = False,
    ) -> ReviewDecisionRow:
        asset = session.get(AssetRow, row.asset_id)
        assert asset is not None
        return ReviewDecisionRow(
            item_id=row.id,
            asset_id=row.asset_id,
            queue=row.queue,
            actor=who.actor,
            decision=verdict.value,
            reason=reason,
            note=note,
            machine_action=machine_action(asset.decision),
            category=decision_category(verdict, reason, asset_category(asset)),
            disagreed=disagreed,
            created_at=datetime.now(UTC),
        )

    def _log(self, who: Reviewer, asset_id: str, action: str, reason: str) -> None:
        """A step that leaves the asset's status as it is still enters the audit log."""
        with self.db.session() as session:
            asset = session.get(AssetRow, asset_id)
            assert asset is not None
            status = Status(asset.status)
            session.add(audit_row(asset_id, who.actor, action, status, status, reason, now()))

    def _open_escalation(self, asset_id: str, by: str, message: str) -> None:
        open_numbered(self.db, asset_id, Queue.ESCALATION, by, message)

    def evidence(self, who: Reviewer, item_id: str) -> Evidence:
        """The item with what a reviewer weighs: boxes, labels weak ones included, segments."""
        item = self.get(who, item_id)
        with self.db.session() as session:
            row = session.get(AssetRow, item["asset_id"])
            video = session.get(VideoRow, item["asset_id"])
        if row is None:
            raise ReviewItemNotFound(f"the asset of review item {item_id} is gone")
        return Evidence(
            item=item,
            boxes=boxes(row, self.rules.min_confidence),
            labels=evidence_labels(row),
            is_video=row.media_type == "video",
            segments=evidence_segments(video),
        )

    def video_media(self, who: Reviewer, item_id: str) -> tuple[bytes, str]:
        """A video item's bytes for the console's player; images are served only as previews."""
        item = self.get(who, item_id)
        row = self.assets.visible_row(item["asset_id"], who.principal)
        if row.media_type != "video":
            raise InvalidParameter("only a video's media is served here; images use the preview")
        return self.assets.content(item["asset_id"], who.principal)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _queue(who: Reviewer, queue: str) -> Queue:
        chosen = parse_enum(Queue, queue, "queue")
        who.require(QUEUE_ROLE[chosen])
        return chosen
