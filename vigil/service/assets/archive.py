"""Archive: originals of decided assets move to cold storage after an age, and back on demand.

Only the bytes move; the row (labels, decision, audit) stays where it is, so an archived asset
is listed, read and audited like any other. ``updated_at`` is left alone: it dates the last
moderation change (appeals compare against it, and it stands in for a missing ``decided_at``).

Each move is crash-safe the way every move in vigil is: copy the blob, compare-and-set the
row, then delete the old copy. A crash before the commit leaves the row on the old, still
present copy; after it, a stale copy that the orphan sweep removes (its row points at another
area).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, update

from vigil.errors import AssetArchived, AssetNotFound, InvalidTransition
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.assets.rows import asset_view
from vigil.service.core.audit import audit_row
from vigil.service.core.status import Status, area_for
from vigil.service.core.times import iso
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

log = logging.getLogger(__name__)

# One maintenance pass archives at most this many assets, so a first run on a large backlog
# doesn't hold the worker for hours; the next pass takes the next batch.
BATCH = 500
ARCHIVED, RESTORED = "archived", "restored"  # audit actions
SYSTEM_ACTOR = "system"
DECIDED = (Status.APPROVED.value, Status.REJECTED.value)
# Where a decided asset's bytes can be before archiving (never ARCHIVE itself).
LIVE_AREAS = (Area.ORIGINALS.value, Area.QUARANTINE.value)


def refuse_if_archived(row: AssetRow) -> None:
    """Reading or moving the bytes of an archived asset needs a restore first."""
    if row.storage_area == Area.ARCHIVE.value:
        since = f" since {iso(row.archived_at)}" if row.archived_at else ""
        raise AssetArchived(
            f"asset {row.id} is archived{since}; restore it first: "
            f"POST /v1/assets/{row.id}/restore (reviewer or admin)"
        )


@dataclass(frozen=True)
class _Move:
    """One move of an asset's bytes and what the row becomes when it commits."""

    row: AssetRow
    source: Area
    target: Area
    values: dict[str, Any]
    audit: AuditEventRow


@dataclass(frozen=True)
class ArchiveRules:
    """When originals move to the archive (``VIGIL_ARCHIVE_*``), and the labels' floor."""

    after_days: float
    images: bool
    min_confidence: float


class ArchiveService:
    def __init__(self, db: Database, blobs: BlobStore, rules: ArchiveRules) -> None:
        self.db = db
        self.blobs = blobs
        self.rules = rules

    # -- archiving ---------------------------------------------------------------------------

    def archive_due(self, now: datetime | None = None, *, limit: int = BATCH) -> int:
        """Move the originals of assets decided longer ago than ``archive_after_days`` into the
        archive area (at most ``limit``); returns how many moved. 0 days disables it."""
        days = self.rules.after_days
        if days <= 0:
            return 0
        now = now or datetime.now(UTC)
        moved = 0
        for row in self._due(now - timedelta(days=days), limit):
            try:
                moved += self._apply(self._archive_move(row, now, days))
            except FileNotFoundError:  # the bytes are gone: nothing to archive, keep going
                log.warning(
                    "asset %s: no blob in %s (lost, or moved by another worker); not archived",
                    row.id,
                    row.storage_area,
                )
        if moved:
            log.info("archived %d asset(s)", moved)
        return moved

    def run(self, who: Principal) -> dict[str, int]:
        """``archive_due`` now, on an admin's request (HTTP, CLI)."""
        require_role(who, Role.ADMIN)
        return {"archived": self.archive_due()}

    def _due(self, cutoff: datetime, limit: int) -> list[AssetRow]:
        decided = func.coalesce(AssetRow.decided_at, AssetRow.updated_at)
        query = (
            select(AssetRow)
            .where(
                AssetRow.status.in_(DECIDED),
                AssetRow.storage_area.in_(LIVE_AREAS),
                decided < cutoff,
                ~_restored_since(cutoff),
            )
            .order_by(decided, AssetRow.id)
            .limit(limit)
        )
        if not self.rules.images:
            query = query.where(AssetRow.media_type == "video")
        with self.db.session() as session:
            return list(session.scalars(query))

    def _archive_move(self, row: AssetRow, now: datetime, days: float) -> _Move:
        source = Area(row.storage_area)
        status = Status(row.status)
        reason = f"decided more than {days:g} day(s) ago; moved from {source.value}"
        return _Move(
            row=row,
            source=source,
            target=Area.ARCHIVE,
            values={"archived_at": now, "archived_from": source.value},
            audit=audit_row(row.id, SYSTEM_ACTOR, ARCHIVED, status, status, reason, now),
        )

    # -- restoring ---------------------------------------------------------------------------

    def restore(self, asset_id: str, who: Principal) -> dict[str, Any]:
        """Move an archived asset's bytes back where its status wants them; returns the asset.
        The age counts again from the restore, so the next pass doesn't re-archive it."""
        require_role(who, Role.ADMIN, Role.REVIEWER)
        row = self._row(asset_id)
        if row.storage_area != Area.ARCHIVE.value:
            raise InvalidTransition(f"asset {asset_id} is not archived")
        now = datetime.now(UTC)
        status = Status(row.status)
        # archived_from is where it was; area_for is a fallback for a row that lacks it.
        target = Area(row.archived_from) if row.archived_from else area_for(status)
        reason = f"moved back to {target.value}"
        move = _Move(
            row=row,
            source=Area.ARCHIVE,
            target=target,
            values={"archived_at": None, "archived_from": None},
            audit=audit_row(row.id, who.key_id, RESTORED, status, status, reason, now),
        )
        if not self._apply(move):
            raise InvalidTransition(f"asset {asset_id} changed meanwhile; reload and retry")
        return asset_view(self._row(asset_id), self.rules.min_confidence)

    # -- the move both directions share ------------------------------------------------------

    def _apply(self, move: _Move) -> int:
        """Copy, compare-and-set, delete: returns 1 if the row moved, 0 if it changed
        meanwhile (then the new copy is left for the orphan sweep, never deleted here: a
        concurrent winner may point at the very same key)."""
        row = move.row
        self.blobs.copy(row.id, move.source, move.target)
        with self.db.session() as session:
            changed = session.execute(
                update(AssetRow)
                .where(
                    AssetRow.id == row.id,
                    AssetRow.status == row.status,
                    AssetRow.storage_area == move.source.value,
                )
                .values(storage_area=move.target.value, **move.values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            session.add(move.audit)
        self.blobs.delete(move.source, row.id)
        return 1

    def _row(self, asset_id: str) -> AssetRow:
        with self.db.session() as session:
            row = session.get(AssetRow, asset_id)
        if row is None:
            raise AssetNotFound(f"no asset with id {asset_id}")
        return row


def _restored_since(cutoff: datetime) -> ColumnElement[bool]:
    """The asset was restored after ``cutoff``: it stays restored for a whole age."""
    return exists().where(
        and_(
            AuditEventRow.asset_id == AssetRow.id,
            AuditEventRow.action == RESTORED,
            AuditEventRow.created_at >= cutoff,
        )
    )
