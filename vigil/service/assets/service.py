"""Assets: upload and moderate, read, deliver, override, audit."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from vigil.errors import (
    AssetNotDeliverable,
    AssetNotFound,
    InvalidParameter,
    InvalidTransition,
)
from vigil.policy.explain import explain as explain_decision
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.assets.archive import refuse_if_archived
from vigil.service.assets.rows import asset_view, settle_manual_step
from vigil.service.core.audit import audit_row, audit_view
from vigil.service.core.enums import parse_enum
from vigil.service.core.events import DECIDED, EventPublisher
from vigil.service.core.status import ABORTED, WAITING, Mode, Status, area_for
from vigil.service.core.times import iso
from vigil.service.engine.fusion import describe
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.policies.repository import PolicyRepository
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

SYSTEM_ACTOR = "system"
MAX_PAGE = 200
MAX_SEARCH = 200  # characters of a text search


@dataclass(frozen=True)
class Page:
    assets: list[dict[str, Any]]
    next_cursor: str | None


class AssetService:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        engine: ModerationEngine,
        policies: PolicyRepository,
        events: EventPublisher | None = None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.engine = engine
        self.policies = policies
        self.events = events or EventPublisher()

    # -- reading -----------------------------------------------------------------------------

    def get(self, asset_id: str, who: Principal) -> dict[str, Any]:
        return self._view(self.visible_row(asset_id, who))

    def list_page(
        self,
        who: Principal,
        *,
        status: str | None,
        limit: int,
        cursor: str | None,
        text: str | None = None,
    ) -> Page:
        """Newest first. ``text``: only assets in whose OCR-read text every word of it
        appears (case-insensitive substrings; docs/text.md#search)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidParameter(f"limit must be between 1 and {MAX_PAGE}")
        query = select(AssetRow)
        if status is not None:
            query = query.where(AssetRow.status == parse_enum(Status, status, "status").value)
        for word in _search_words(text):
            query = query.where(func.lower(AssetRow.text).contains(word, autoescape=True))
        if not who.sees_everything:
            query = query.where(AssetRow.owner_key_id == who.key_id)
        if cursor:
            created, last_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    AssetRow.created_at < created,
                    and_(AssetRow.created_at == created, AssetRow.id < last_id),
                )
            )
        query = query.order_by(AssetRow.created_at.desc(), AssetRow.id.desc()).limit(limit + 1)
        with self.db.session() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1]) if more else None
        return Page([self._view(row) for row in rows], next_cursor)

    def content(self, asset_id: str, who: Principal) -> tuple[bytes, str]:
        """The bytes and media type; uploaders get only approved assets."""
        return self.row_content(self.visible_row(asset_id, who), who)

    def row_content(self, row: AssetRow, who: Principal) -> tuple[bytes, str]:
        """``content`` of a row the caller has read already (with ``visible_in``)."""
        asset_id = row.id
        if not who.sees_everything and row.status != Status.APPROVED:
            raise AssetNotDeliverable(
                f"asset {asset_id} is {row.status}; only approved assets are delivered"
            )
        refuse_if_archived(row)  # after the status check: uploaders learn nothing more
        if row.status == Status.FAILED:  # processing removed the bytes of a failed upload
            raise AssetNotDeliverable(f"asset {asset_id} failed; its bytes were removed")
        try:
            return self.blobs.get(Area(row.storage_area), row.id), row.mime
        except FileNotFoundError:
            raise AssetNotDeliverable(f"the bytes of asset {asset_id} are gone") from None

    def audit(self, asset_id: str, who: Principal) -> list[dict[str, Any]]:
        self.visible_row(asset_id, who)
        with self.db.session() as session:
            events = session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.asset_id == asset_id)
                .order_by(AuditEventRow.id)
            )
            return [audit_view(event) for event in events]

    def explain(self, asset_id: str, who: Principal) -> dict[str, Any]:
        """Why the asset has its status, in words: the machine decision, then people's."""
        asset = self.get(asset_id, who)
        sentences = [f"Asset {asset_id} is {asset['status']}."]
        decision = asset["decision"]
        if decision is None:
            sentences.append(f"It was uploaded with moderation={asset['moderation_mode']}.")
        else:
            sentences.append(explain_decision(decision))
            if decision.get("fusion"):
                sentences.append(describe(decision["fusion"]))
            sentences.extend(_manual_sentence(asset))
        for event in self.audit(asset_id, who):
            if event["action"] == "override":
                why = f": {event['reason']}" if event["reason"] else ""
                sentences.append(
                    f"On {event['at']} key {event['actor']} changed it from "
                    f"{event['from_status']} to {event['to_status']}{why}."
                )
        return {
            "id": asset_id,
            "status": asset["status"],
            "decision": decision,
            "explanation": " ".join(sentences),
        }

    # -- human override ----------------------------------------------------------------------

    def override(self, asset_id: str, who: Principal, status: str, reason: str) -> dict[str, Any]:
        """A person's decision. Approving restores from quarantine; rejecting quarantines and
        stops delivery as soon as the row changes."""
        require_role(who, Role.ADMIN, Role.REVIEWER)
        target = parse_enum(Status, status, "status")
        if target not in (Status.APPROVED, Status.REJECTED):
            raise InvalidParameter("status must be 'approved' or 'rejected'")
        row = self.visible_row(asset_id, who)
        refuse_if_archived(row)  # a decision on unseen bytes: restore, look, then decide
        current = Status(row.status)
        if current is target:
            raise InvalidTransition(f"asset {asset_id} is already {target}")
        source, destination = Area(row.storage_area), area_for(target)
        if source is not destination:
            self.blobs.copy(row.id, source, destination)
        now = datetime.now(UTC)
        steps = settle_manual_step(row.moderation_steps, target, now)
        with self.db.session() as session:
            # Compare-and-set on the status, so two concurrent overrides can't both apply.
            changed = session.execute(
                update(AssetRow)
                .where(
                    AssetRow.id == row.id,
                    AssetRow.status == current.value,
                    AssetRow.storage_area == source.value,  # not archived meanwhile
                )
                .values(
                    status=target.value,
                    storage_area=destination.value,
                    moderation_steps=steps,
                    updated_at=now,
                    decided_at=now,  # a person's decision restarts the archive's clock
                    # Its first-pass item, if open, is superseded (review.items.sync).
                    **({"review_due": True} if current in WAITING else {}),
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise InvalidTransition(f"asset {asset_id} changed meanwhile; reload and retry")
            session.add(audit_row(row.id, who.key_id, "override", current, target, reason, now))
            fresh = session.get(AssetRow, row.id)
            assert fresh is not None
            self.events.publish(session, DECIDED, self._view(fresh), actor=who.key_id)
        if source is not destination:
            self.blobs.delete(source, row.id)
        return self.get(asset_id, who)

    # -- helpers -----------------------------------------------------------------------------

    def visible_row(self, asset_id: str, who: Principal) -> AssetRow:
        with self.db.session() as session:
            return self.visible_in(session, asset_id, who)

    @staticmethod
    def visible_in(session: Session, asset_id: str, who: Principal) -> AssetRow:
        """``visible_row`` inside the caller's transaction."""
        row = session.get(AssetRow, asset_id)
        # Another uploader's asset is reported as missing, so ids reveal nothing.
        if row is None or (not who.sees_everything and row.owner_key_id != who.key_id):
            raise AssetNotFound(f"no asset with id {asset_id}")
        return row

    def _view(self, row: AssetRow) -> dict[str, Any]:
        return asset_view(row, self.engine.settings.min_confidence)


def _manual_sentence(asset: Mapping[str, Any]) -> list[str]:
    manual = [step for step in asset["moderation"] if step["kind"] == "manual"]
    if asset["moderation_mode"] == Mode.MANUAL:
        return ["Moderation was manual, so the asset waited for a person."]
    if manual and manual[0]["status"] == ABORTED:
        return ["The manual step was aborted because the automatic step rejected the asset."]
    if manual:
        return ["A manual step followed the automatic one, so the asset waited for a person."]
    return []


def _encode_cursor(row: AssetRow) -> str:
    raw = f"{iso(row.created_at)}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("cursor is not one this API returned") from None


def _search_words(text: str | None) -> list[str]:
    if text is None:
        return []
    words = text.lower().split()
    if not words or len(text) > MAX_SEARCH:
        raise InvalidParameter(f"text must have 1 to {MAX_SEARCH} characters and a word")
    return words
