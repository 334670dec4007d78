"""Re-scanning stored assets with the detectors enabled now, written as the worker writes.

An asset whose stored model version is the one its policy's detectors would give now is
skipped, so a rerun (or a batch retried after a worker died) changes nothing. The write is a
compare-and-set on the model version and status read, so two re-scans of one asset never both
win, and each write leaves an audit event saying why (``rescan: detectors ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from vigil.errors import ObjectUnreadable, VigilError
from vigil.service.core.machine_days import forget_day
from vigil.service.core.status import WAITING, Status, area_for
from vigil.storage.blobs import Area
from vigil.storage.tables import AssetRow, AuditEventRow

if TYPE_CHECKING:
    from vigil.app import Vigil
    from vigil.media.image import DecodedImage
    from vigil.service.assets.processing import PolicyChoice
    from vigil.service.engine.moderation import ModerationResult
    from vigil.settings import Settings
    from vigil.storage.db import Database

# Statuses a machine decision stands behind; processing and failed assets are the worker's.
DECIDED = (Status.APPROVED, Status.REJECTED, Status.REVIEW, Status.PENDING)
RESCANNED = "rescanned"  # the audit action


def candidates(db: Database, since: datetime) -> list[str]:
    """Decided, unarchived image assets uploaded since ``since``, oldest first."""
    query = (
        select(AssetRow.id)
        .where(
            AssetRow.created_at >= since,
            AssetRow.media_type == "image",
            AssetRow.status.in_([status.value for status in DECIDED]),
            AssetRow.archived_at.is_(None),
        )
        .order_by(AssetRow.created_at, AssetRow.id)
    )
    with db.session() as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class RescanPlan:
    """Picklable for Ray: the driver's settings, with the detectors to run."""

    settings: Settings

    @property
    def reason(self) -> str:
        return f"rescan: detectors {','.join(self.settings.detectors)}"

    def start(self) -> RescanWorker:
        return RescanWorker(self)


@dataclass
class _Item:
    row: AssetRow
    image: DecodedImage
    choice: PolicyChoice
    chosen: frozenset[str]
    version: str


class RescanWorker:
    """One process's services and loaded detectors; ``run`` re-decides a batch of assets."""

    def __init__(self, plan: RescanPlan) -> None:
        from vigil.app import build

        self.plan = plan
        self.vigil: Vigil = build(plan.settings)
        self.vigil.engine.load()

    def close(self) -> None:
        self.vigil.close()

    def run(self, ids: list[str]) -> list[dict[str, Any]]:
        """One line per asset: rescanned (with the old and new action), skipped, or its error."""
        lines: dict[str, dict[str, Any]] = {}
        work: list[_Item] = []
        for row in self._rows(ids):
            try:
                item = self._prepare(row)
            except VigilError as refusal:
                lines[row.id] = {"asset_id": row.id, **refusal.to_dict()}
                continue
            if item is None:
                lines[row.id] = {"asset_id": row.id, "skipped": "current model version"}
            else:
                work.append(item)
        for item, result in zip(work, self._decide(work), strict=True):
            lines[item.row.id] = self._store(item, result)
        return [lines.get(asset_id, {"asset_id": asset_id, "skipped": "gone"}) for asset_id in ids]

    def _rows(self, ids: list[str]) -> list[AssetRow]:
        with self.vigil.db.session() as session:
            return list(session.scalars(select(AssetRow).where(AssetRow.id.in_(ids))))

    def _prepare(self, row: AssetRow) -> _Item | None:
        """The asset's policy choice and image; None when it already has this model version."""
        processor, engine = self.vigil.processor, self.vigil.engine
        # The upload's context is not stored with the asset: its policy judges without it.
        policy = (row.decision or {}).get("policy") or self.vigil.settings.default_policy
        choice = processor.policy_choice(row, {"policy": policy})
        chosen = engine.chosen(choice.policy, choice.shadow)
        version = engine.version_of(chosen)
        if row.model_version == version:
            return None
        image = engine.decode(self._bytes(row))
        return _Item(row, image, choice, chosen, version)

    def _bytes(self, row: AssetRow) -> bytes:
        try:
            return self.vigil.blobs.get(Area(row.storage_area), row.id)
        except FileNotFoundError as gone:
            raise ObjectUnreadable(f"asset {row.id} has no stored bytes") from gone

    def _decide(self, work: list[_Item]) -> list[ModerationResult]:
        """Detections through the worker's cache: what the stored detections already hold at
        the same detector versions is lent, only the new detectors run."""
        if not work:
            return []
        engine = self.vigil.engine
        found = self.vigil.processor.cache.detect(
            engine,
            [item.image for item in work],
            [item.row.sha256 for item in work],
            [item.chosen for item in work],
            [item.row.owner_key_id for item in work],
        )
        return [
            engine.decide(
                item.image,
                detections,
                item.choice.policy,
                item.choice.resolved,
                item.row.sha256,
                item.chosen,
            )
            for item, detections in zip(work, found, strict=True)
        ]

    def _store(self, item: _Item, result: ModerationResult) -> dict[str, Any]:
        from vigil.service.assets.processing import _decided_values
        from vigil.service.assets.rows import asset_status, run_steps

        row, now = item.row, datetime.now(UTC)
        before = Status(row.status)
        steps = run_steps(item.choice.plan, result, now)
        after = asset_status(steps)
        if self._decided_by_person(row.id):
            # A person's decision stands: the new labels and machine decision are kept beside it.
            steps, after = row.moderation_steps, before
        values = _decided_values(result, steps, after, now)
        if before in WAITING:  # its open first-pass item may be superseded (review.items.sync)
            values["review_due"] = True
        reason = f"{self.plan.reason} ({row.model_version} -> {item.version}): "
        won = self._write(row, after, values, reason + result.decision.reason, now)
        line: dict[str, Any] = {"asset_id": row.id, "from": before.value, "to": after.value}
        return {**line, "model_version": item.version} if won else {**line, "skipped": "raced"}

    def _decided_by_person(self, asset_id: str) -> bool:
        query = select(AuditEventRow.id).where(
            AuditEventRow.asset_id == asset_id,
            AuditEventRow.actor != "system",
            AuditEventRow.from_status != AuditEventRow.to_status,
        )
        with self.vigil.db.session() as session:
            return session.scalars(query.limit(1)).first() is not None

    def _write(
        self, row: AssetRow, after: Status, values: dict[str, Any], reason: str, now: datetime
    ) -> bool:
        """Move the blob where the status wants it, then compare-and-set the row."""
        from vigil.service.assets.rows import asset_view
        from vigil.service.core.audit import audit_row
        from vigil.service.core.events import EVENT_FOR_STATUS

        before = Status(row.status)
        source, target = Area(row.storage_area), area_for(after)
        if source is not target:
            self.vigil.blobs.copy(row.id, source, target)
        with self.vigil.db.session() as session:
            changed = session.execute(
                update(AssetRow)
                .where(
                    AssetRow.id == row.id,
                    AssetRow.status == row.status,
                    AssetRow.model_version == row.model_version,
                )
                .values(storage_area=target.value, **values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return False  # another re-scan (or a person) changed it first
            forget_day(session, row.created_at)  # the dashboard's kept counts of its day
            session.add(audit_row(row.id, "system", RESCANNED, before, after, reason, now))
            if after is not before and after.value in EVENT_FOR_STATUS:
                fresh = session.get(AssetRow, row.id)
                assert fresh is not None
                view = asset_view(fresh, self.vigil.settings.min_confidence)
                self.vigil.events.publish(session, EVENT_FOR_STATUS[after.value], view)
        if source is not target:
            self.vigil.blobs.delete(source, row.id)
        return True
