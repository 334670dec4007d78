"""Review items in the database: deriving first-pass and QA items from assets, numbering
appeal and escalation items, and the claim conditions every compare-and-set uses."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.errors import ClaimNotHeld, InvalidParameter, ReviewItemClosed, ReviewItemNotFound
from vigil.service.core.status import WAITING as WAITING_STATUSES
from vigil.service.core.status import Status
from vigil.service.review.rows import SUPERSEDED, ItemState, Queue, asset_category
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, ReviewDecisionRow, ReviewItemRow

WAITING = tuple(status.value for status in WAITING_STATUSES)
DERIVED = (Queue.FIRST_PASS.value, Queue.QA.value)
UNDERIVED = (Status.PROCESSING.value, Status.FAILED.value)  # no item, even when sampled
# The most due assets one sync visits: a re-scan that flags many spreads over several reads.
SYNC_BATCH = 500


def now() -> datetime:
    return datetime.now(UTC)


def sync(db: Database, double_categories: list[str]) -> int:
    """Let the queues follow the assets whose status or decision changed (``review_due``,
    raised in the same transaction as the change): open first-pass and QA items for those
    that need one (status review or pending, or a QA-sampled decision); close first-pass
    items whose asset was decided some other way. Visits only the flagged assets, through
    their index. Returns how many items were opened."""
    with db.session() as session:
        # ``true()`` compiles to a literal, as ix_assets_review_due's predicate needs.
        flagged = select(AssetRow).where(AssetRow.review_due == true())
        due = list(session.scalars(flagged.limit(SYNC_BATCH)))
    return sum(_follow(db, row, double_categories) for row in due)


def _follow(db: Database, row: AssetRow, double_categories: list[str]) -> bool:
    opened = _needs_item(row) and _open_derived(db, row, double_categories)
    with db.session() as session:
        if row.status not in WAITING:
            _close_superseded(session, row.id)
        # Compare-and-set on updated_at: a change since this read keeps the flag raised.
        session.execute(
            update(AssetRow)
            .where(AssetRow.id == row.id, AssetRow.updated_at == row.updated_at)
            .values(review_due=False)
        )
    return opened


def _needs_item(row: AssetRow) -> bool:
    return row.status in WAITING or (row.qa_sample and row.status not in UNDERIVED)


def _open_derived(db: Database, row: AssetRow, double_categories: list[str]) -> bool:
    """An asset gets one derived item in its life, as before: a decided first-pass item is
    not reopened by a later change."""
    queue = Queue.QA if row.qa_sample else Queue.FIRST_PASS
    item = new_item(row.id, queue, 0, row.updated_at)
    if queue is Queue.FIRST_PASS and asset_category(row) in double_categories:
        item.reviews_needed = 2
    try:
        with db.session() as session:
            if session.scalar(_derived_of(row.id)) is not None:
                return False
            session.add(item)
    except IntegrityError:
        return False  # another process opened it first
    return True


def _derived_of(asset_id: str) -> Any:
    return (
        select(ReviewItemRow.id)
        .where(ReviewItemRow.asset_id == asset_id, ReviewItemRow.queue.in_(DERIVED))
        .limit(1)
    )


def _close_superseded(session: Session, asset_id: str) -> None:
    session.execute(
        update(ReviewItemRow)
        .where(
            ReviewItemRow.asset_id == asset_id,
            ReviewItemRow.queue == Queue.FIRST_PASS.value,
            ReviewItemRow.state != ItemState.DONE.value,
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


def not_done() -> Any:
    """Items still in their queue. A literal, not a bound parameter, so SQLite and
    PostgreSQL match it to ``ix_review_items_waiting``'s predicate and use that index."""
    return ReviewItemRow.state != literal_column("'done'")


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
