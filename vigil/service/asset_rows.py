"""An asset row's states and the pure helpers that move it between them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from vigil.detectors.base import TEXT_LINE, Detection
from vigil.labels import ModerationLabel, above, text_detections
from vigil.policy.cloudinary import ModerationPlan
from vigil.service.moderation import ModerationResult
from vigil.storage.blobs import Area
from vigil.storage.tables import AssetRow, AuditEventRow


class Status(StrEnum):
    PROCESSING = "processing"  # stored, waiting for the detectors
    FAILED = "failed"  # could not be processed (error says why)
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


def area_for(status: Status) -> Area:
    return Area.QUARANTINE if status is Status.REJECTED else Area.ORIGINALS


def run_steps(
    plan: ModerationPlan, result: ModerationResult | None, now: datetime
) -> list[dict[str, Any]]:
    """Each step's outcome in order; once a step rejects, the steps after it are aborted."""
    steps: list[dict[str, Any]] = []
    for kind in plan.steps:
        halted = bool(steps) and steps[-1]["status"] in (Status.REJECTED, ABORTED)
        status = ABORTED if halted else step_status(kind, result)
        step: dict[str, Any] = {"kind": kind, "status": status, "updated_at": iso(now)}
        if kind == "aws_rek":
            step["thresholds"] = plan.thresholds_view()
        steps.append(step)
    return steps


def step_status(kind: str, result: ModerationResult | None) -> str:
    if kind == "none":
        return Status.APPROVED.value
    if kind == "manual" or result is None:
        return Status.PENDING.value
    return STATUS_FOR_ACTION[result.decision.action].value


def asset_status(steps: list[dict[str, Any]]) -> Status:
    """Rejected if any step rejected, else what the last step says (pending for manual)."""
    statuses = [step["status"] for step in steps]
    return Status.REJECTED if Status.REJECTED in statuses else Status(statuses[-1])


def settle_manual_step(
    steps: list[dict[str, Any]], target: Status, now: datetime
) -> list[dict[str, Any]]:
    """A person's override answers a pending manual step; other steps keep what they said."""
    return [
        {**step, "status": target.value, "updated_at": iso(now)}
        if step["kind"] == "manual" and step["status"] == Status.PENDING
        else step
        for step in steps
    ]


def audit_row(
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


def utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything vigil stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return utc(moment).isoformat()


def asset_view(row: AssetRow, min_confidence: float) -> dict[str, Any]:
    """The asset's public JSON shape: API answers and event payloads."""
    labels = [ModerationLabel.from_dict(item) for item in row.labels]
    return {
        "id": row.id,
        "status": row.status,
        "filename": row.filename,
        "media_type": row.media_type or "image",
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
        "labels": [label.to_dict() for label in above(labels, min_confidence)],
        "content_types": row.content_types,
        "text_detections": text_detections(
            Detection.from_dict(item) for item in row.detections if item["Name"] == TEXT_LINE
        ),
        "model_version": row.model_version,
        "decision": row.decision,
        "error": row.error,
        "archived_at": iso(row.archived_at) if row.archived_at else None,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def audit_view(event: AuditEventRow) -> dict[str, Any]:
    """One audit event's public shape (an asset's audit, and the audit log)."""
    return {
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "at": iso(event.created_at),
    }
