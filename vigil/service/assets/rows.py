"""An asset row's states and the pure helpers that move it between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.detectors.base import TEXT_LINE, Detection
from vigil.labels import ModerationLabel, above, text_detections
from vigil.policy.cloudinary import ModerationPlan
from vigil.service.core.status import ABORTED, STATUS_FOR_ACTION, Status
from vigil.service.core.times import iso
from vigil.service.engine.moderation import ModerationResult
from vigil.storage.tables import AssetRow


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
