"""Audit events: the row a state change writes, and its public shape."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from vigil.service.core.status import Status
from vigil.service.core.times import iso
from vigil.storage.tables import AuditEventRow


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


# Sign-ins, lockouts and their lifting concern no asset, and an audit_events row must name
# one (asset_id is a required foreign key): they are rows of sign_in_events instead
# (service.review.sign_in_guard), and lines of this logger, one JSON object a line, which
# `vigil serve` sends to standard error (docs/review.md#sign-in-limits).
security_log = logging.getLogger("vigil.audit")


def security_event(action: str, actor: str, **details: str | int | float | None) -> None:
    """One audit event that concerns no asset: ``action`` done by (or to) ``actor``."""
    record = {"at": iso(datetime.now(UTC)), "action": action, "actor": actor, **details}
    security_log.info(json.dumps(record, sort_keys=True))
