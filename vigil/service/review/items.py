"""Review items in the database: deriving first-pass and QA items from assets, numbering
appeal and escalation items, and the claim conditions every compare-and-set uses."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.errors import ClaimNotHeld, InvalidParameter, ReviewItemClosed, ReviewItemNotFound
from vigil.service.core.status import Status
from vigil.service.review.rows import SUPERSEDED, ItemState, Queue, asset_category
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow

WAITING = (Status.REVIEW.value, Status.PENDING.value)
DERIVED = (Queue.FIRST_PASS.value, Queue.QA.value)


def now() -> datetime:
    return datetime.now(UTC)


def sync(db: Database, double_categories: list[str]) -> int:
    """Open first-pass and QA items for assets that need them (status review or pending, or
    a decision marked ``qa_sample``); close first-pass items whose asset was decided some
    other way. Returns how many items were opened."""
    has_item = exists().where(
        ReviewItemRow.asset_id == AssetRow.id, ReviewItemRow.queue.in_(DERIVED)
    )
    sampled = AssetRow.decision["qa_sample"].as_boolean().is_(True)
    with db.session() as session:
        rows = list(
            session.scalars(
                select(AssetRow).where(
                    or_(AssetRow.status.in_(WAITING), sampled),
                    AssetRow.status.notin_((Status.PROCESSING.value, Status.FAILED.value)),
                    ~has_item,
                )
            )
        )
        _close_superseded(session)
    return sum(_open_derived(db, row, double_categories) for row in rows)


def _open_derived(db: Database, row: AssetRow, double_categories: list[str]) -> bool:
    queue = Queue.QA if (row.decision or {}).get("qa_sample") else Queue.FIRST_PASS
    item = new_item(row.id, queue, 0, row.updated_at)
    if queue is Queue.FIRST_PASS and asset_category(row) in double_categories:
        item.reviews_needed = 2
    try:
        with db.session() as session:
            session.add(item)
    except IntegrityError:
        return False  # another process opened it first
    return True


def _close_superseded(session: Session) -> None:
    waiting = select(AssetRow.id).where(AssetRow.status.in_(WAITING))
    session.execute(
        update(ReviewItemRow)
        .where(
            ReviewItemRow.queue == Queue.FIRST_PASS.value,
            ReviewItemRow.state != ItemState.DONE.value,
            ReviewItemRow.asset_id.notin_(waiting),
        )
        .values(state=ItemState.DONE.value, outcome=SUPERSEDED, decided_at=now())
    )


def new_item(asset_id: str, queue: Queue, number: int, created: datetime) -> ReviewItemRow:
    return ReviewItemRow(
        id=secrets.token_hex(8),
        asset_id=asset_id,
        queue=queue.value,
        round=number,
        state=ItemState.OPEN.value,
        reviews_needed=1,
        opened_by="system",
        message="",
        created_at=created,
    )


def open_numbered(
    db: Database, asset_id: str, queue: Queue, by: str, message: str
) -> ReviewItemRow:
    """A new appeal or escalation item, numbered after the asset's earlier ones."""
    for _ in range(5):  # a concurrent insert took the number: count again
        with db.session() as session:
            taken = session.scalar(
                select(func.count())
                .select_from(ReviewItemRow)
                .where(ReviewItemRow.asset_id == asset_id, ReviewItemRow.queue == queue.value)
            )
        item = new_item(asset_id, queue, int(taken or 0), now())
        item.opened_by, item.message = by, message
        try:
            with db.session() as session:
                session.add(item)
            return item
        except IntegrityError:
            continue
    raise InvalidParameter(f"could not open a {queue.value} item for {asset_id}; retry")


def claimable(moment: float) -> Any:
    """Open, or claimed by someone whose claim has run out."""
    return or_(
        ReviewItemRow.state == ItemState.OPEN.value,
        and_(
            ReviewItemRow.state == ItemState.CLAIMED.value,
            ReviewItemRow.claim_expires_at < moment,
        ),
    )


def held_by(item_id: str, actor: str, moment: float) -> Any:
    """The item, claimed by ``actor`` with time left on the claim."""
    return and_(
        ReviewItemRow.id == item_id,
        ReviewItemRow.state == ItemState.CLAIMED.value,
        ReviewItemRow.claimed_by == actor,
        ReviewItemRow.claim_expires_at >= moment,
    )


def not_held(session: Session, item_id: str) -> Exception:
    """Why a compare-and-set on a claim found nothing to change."""
    row = session.get(ReviewItemRow, item_id)
    if row is None:
        return ReviewItemNotFound(f"no review item with id {item_id}")
    if row.state == ItemState.DONE:
        return ReviewItemClosed(f"review item {item_id} is already decided")
    return ClaimNotHeld(
        f"review item {item_id} is not claimed by you (the claim may have expired); "
        "claim it again from its queue"
    )


def decisions(session: Session, item_id: str) -> list[ReviewDecisionRow]:
    return list(
        session.scalars(
            select(ReviewDecisionRow)
            .where(ReviewDecisionRow.item_id == item_id)
            .order_by(ReviewDecisionRow.id)
        )
    )
