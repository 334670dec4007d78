"""Assets: upload and moderate, read, deliver, override, audit."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update

from vigil.errors import (
    AssetNotDeliverable,
    AssetNotFound,
    InvalidParameter,
    InvalidTransition,
)
from vigil.labels import ModerationLabel, above
from vigil.policy.cloudinary import ModerationPlan, apply_thresholds, parse_moderation
from vigil.policy.explain import explain as explain_decision
from vigil.policy.model import Decision, Policy
from vigil.service.moderation import ModerationEngine, ModerationResult
from vigil.service.policies import PolicyRepository
from vigil.service.principal import Principal, Role, require_role
from vigil.service.shadow import shadow_decision
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

SYSTEM_ACTOR = "system"
MAX_PAGE = 200


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVIEW = "review"


class Mode(StrEnum):
    AUTO = "auto"  # the policy decides
    MANUAL = "manual"  # pending until a person decides
    NONE = "none"  # no moderation: approved as uploaded


STATUS_FOR_ACTION = {"allow": Status.APPROVED, "review": Status.REVIEW, "block": Status.REJECTED}
# A step's status: an asset status, or "aborted" when an earlier step rejected the asset.
ABORTED = "aborted"


E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InvalidParameter(f"unknown {what} '{value}' (known: {known})") from None


def area_for(status: Status) -> Area:
    return Area.QUARANTINE if status is Status.REJECTED else Area.ORIGINALS


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
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.engine = engine
        self.policies = policies

    # -- upload ------------------------------------------------------------------------------

    def upload(
        self,
        data: bytes,
        *,
        filename: str,
        owner: Principal,
        mode: Mode = Mode.AUTO,
        policy_name: str | None = None,
        context: Mapping[str, str] | None = None,
        plan: ModerationPlan | None = None,
        upload_preset: str | None = None,
        tags: Sequence[str] = (),
        notification_url: str | None = None,
    ) -> dict[str, Any]:
        """Moderate and store an upload. Nothing is written for a refused one. ``plan`` (from
        ``moderation_plan``) takes precedence over ``mode``."""
        require_role(owner, Role.ADMIN, Role.UPLOADER)
        plan = plan or parse_moderation(mode.value)
        result: ModerationResult | None = None
        if plan.detects:
            chosen, candidate = self.policies.with_shadow(
                policy_name or self.engine.settings.default_policy
            )
            result = self.engine.moderate(data, apply_thresholds(chosen, plan.thresholds), context)
            image = result.image
            shadow = self._shadow(candidate, plan, result, context)
        else:
            image = self.engine.decode(data)  # intake limits hold even without moderation
            shadow = None
        now = datetime.now(UTC)
        steps = _run_steps(plan, result, now)
        status = _asset_status(steps)
        row = AssetRow(
            id=secrets.token_hex(12),
            owner_key_id=owner.key_id,
            filename=filename[:500],
            format=image.format,
            mime=image.mime,
            size_bytes=len(data),
            width=image.width,
            height=image.height,
            sha256=result.sha256 if result else hashlib.sha256(data).hexdigest(),
            status=status.value,
            moderation_mode=plan.raw,
            moderation_steps=steps,
            storage_area=area_for(status).value,
            labels=[label.to_dict() for label in result.labels] if result else [],
            detections=[found.to_dict() for found in result.detections] if result else [],
            content_types=result.content_types if result else [],
            model_version=result.model_version if result else "",
            decision=result.decision.to_dict() if result else None,
            shadow_decision=shadow.to_dict() if shadow else None,
            upload_preset=upload_preset,
            tags=list(tags),
            notification_url=notification_url,
            created_at=now,
            updated_at=now,
        )
        # Blob first, row second: a crash in between leaves an orphan blob, which the worker
        # sweeps; never a row without its bytes.
        self.blobs.put(area_for(status), row.id, data)
        # The policy's reason when the automatic step settled the status, else the mode.
        decided = result is not None and status is not Status.PENDING
        reason = result.decision.reason if result and decided else f"moderation={plan.raw}"
        with self.db.session() as session:
            session.add(row)
            session.add(_audit(row.id, SYSTEM_ACTOR, "created", None, status, reason, now))
        return self._view(row)

    @staticmethod
    def _shadow(
        candidate: Policy | None,
        plan: ModerationPlan,
        result: ModerationResult,
        context: Mapping[str, str] | None,
    ) -> Decision | None:
        """The shadow version's would-be decision, recorded and never acted on."""
        if candidate is None:
            return None
        candidate = apply_thresholds(candidate, plan.thresholds)
        return shadow_decision(result.labels, candidate, context, result.sha256)

    @staticmethod
    def moderation_plan(moderation: str) -> ModerationPlan:
        """The steps a ``moderation`` field asks for: ``auto``, ``manual``, ``none`` or a
        Cloudinary string (docs/cloudinary.md); InvalidParameter names what is wrong."""
        return parse_moderation(moderation)

    # -- reading -----------------------------------------------------------------------------

    def get(self, asset_id: str, who: Principal) -> dict[str, Any]:
        return self._view(self._visible_row(asset_id, who))

    def list_page(
        self, who: Principal, *, status: str | None, limit: int, cursor: str | None
    ) -> Page:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidParameter(f"limit must be between 1 and {MAX_PAGE}")
        query = select(AssetRow)
        if status is not None:
            query = query.where(AssetRow.status == parse_enum(Status, status, "status").value)
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
        row = self._visible_row(asset_id, who)
        if not who.sees_everything and row.status != Status.APPROVED:
            raise AssetNotDeliverable(
                f"asset {asset_id} is {row.status}; only approved assets are delivered"
            )
        return self.blobs.get(Area(row.storage_area), row.id), row.mime

    def audit(self, asset_id: str, who: Principal) -> list[dict[str, Any]]:
        self._visible_row(asset_id, who)
        with self.db.session() as session:
            events = session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.asset_id == asset_id)
                .order_by(AuditEventRow.id)
            )
            return [_event_view(event) for event in events]

    def explain(self, asset_id: str, who: Principal) -> dict[str, Any]:
        """Why the asset has its status, in words: the machine decision, then people's."""
        asset = self.get(asset_id, who)
        sentences = [f"Asset {asset_id} is {asset['status']}."]
        decision = asset["decision"]
        if decision is None:
            sentences.append(f"It was uploaded with moderation={asset['moderation_mode']}.")
        else:
            sentences.append(explain_decision(decision))
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
        row = self._visible_row(asset_id, who)
        current = Status(row.status)
        if current is target:
            raise InvalidTransition(f"asset {asset_id} is already {target}")
        source, destination = Area(row.storage_area), area_for(target)
        if source is not destination:
            self.blobs.copy(row.id, source, destination)
        now = datetime.now(UTC)
        steps = _settle_manual_step(row.moderation_steps, target, now)
        with self.db.session() as session:
            # Compare-and-set on the status, so two concurrent overrides can't both apply.
            changed = session.execute(
                update(AssetRow)
                .where(AssetRow.id == row.id, AssetRow.status == current.value)
                .values(
                    status=target.value,
                    storage_area=destination.value,
                    moderation_steps=steps,
                    updated_at=now,
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise InvalidTransition(f"asset {asset_id} changed meanwhile; reload and retry")
            session.add(_audit(row.id, who.key_id, "override", current, target, reason, now))
        if source is not destination:
            self.blobs.delete(source, row.id)
        return self.get(asset_id, who)

    # -- helpers -----------------------------------------------------------------------------

    def _visible_row(self, asset_id: str, who: Principal) -> AssetRow:
        with self.db.session() as session:
            row = session.get(AssetRow, asset_id)
        # Another uploader's asset is reported as missing, so ids reveal nothing.
        if row is None or (not who.sees_everything and row.owner_key_id != who.key_id):
            raise AssetNotFound(f"no asset with id {asset_id}")
        return row

    def _view(self, row: AssetRow) -> dict[str, Any]:
        labels = [ModerationLabel.from_dict(item) for item in row.labels]
        return {
            "id": row.id,
            "status": row.status,
            "filename": row.filename,
            "format": row.format,
            "mime": row.mime,
            "size_bytes": row.size_bytes,
            "width": row.width,
            "height": row.height,
            "sha256": row.sha256,
            "moderation_mode": row.moderation_mode,
            "moderation": row.moderation_steps,
            "upload_preset": row.upload_preset,
            "tags": row.tags,
            "notification_url": row.notification_url,
            "labels": [
                label.to_dict() for label in above(labels, self.engine.settings.min_confidence)
            ],
            "content_types": row.content_types,
            "model_version": row.model_version,
            "decision": row.decision,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
        }


def _run_steps(
    plan: ModerationPlan, result: ModerationResult | None, now: datetime
) -> list[dict[str, Any]]:
    """Each step's outcome in order; once a step rejects, the steps after it are aborted."""
    steps: list[dict[str, Any]] = []
    for kind in plan.steps:
        halted = bool(steps) and steps[-1]["status"] in (Status.REJECTED, ABORTED)
        status = ABORTED if halted else _step_status(kind, result)
        step: dict[str, Any] = {"kind": kind, "status": status, "updated_at": _iso(now)}
        if kind == "aws_rek":
            step["thresholds"] = plan.thresholds_view()
        steps.append(step)
    return steps


def _step_status(kind: str, result: ModerationResult | None) -> str:
    if kind == "none":
        return Status.APPROVED.value
    if kind == "manual" or result is None:
        return Status.PENDING.value
    return STATUS_FOR_ACTION[result.decision.action].value


def _asset_status(steps: list[dict[str, Any]]) -> Status:
    """Rejected if any step rejected, else what the last step says (pending for manual)."""
    statuses = [step["status"] for step in steps]
    return Status.REJECTED if Status.REJECTED in statuses else Status(statuses[-1])


def _settle_manual_step(
    steps: list[dict[str, Any]], target: Status, now: datetime
) -> list[dict[str, Any]]:
    """A person's override answers a pending manual step; other steps keep what they said."""
    return [
        {**step, "status": target.value, "updated_at": _iso(now)}
        if step["kind"] == "manual" and step["status"] == Status.PENDING
        else step
        for step in steps
    ]


def _manual_sentence(asset: Mapping[str, Any]) -> list[str]:
    manual = [step for step in asset["moderation"] if step["kind"] == "manual"]
    if asset["moderation_mode"] == Mode.MANUAL:
        return ["Moderation was manual, so the asset waited for a person."]
    if manual and manual[0]["status"] == ABORTED:
        return ["The manual step was aborted because the automatic step rejected the asset."]
    if manual:
        return ["A manual step followed the automatic one, so the asset waited for a person."]
    return []


def _audit(
    asset_id: str,
    actor: str,
    action: str,
    before: Status | None,
    after: Status,
    reason: str,
    when: datetime,
) -> AuditEventRow:
    return AuditEventRow(
        asset_id=asset_id,
        actor=actor,
        action=action,
        from_status=before.value if before else None,
        to_status=after.value,
        reason=reason,
        created_at=when,
    )


def _event_view(event: AuditEventRow) -> dict[str, Any]:
    return {
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "at": _iso(event.created_at),
    }


def _utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything vigil stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat()


def _encode_cursor(row: AssetRow) -> str:
    raw = f"{_iso(row.created_at)}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("cursor is not one this API returned") from None
