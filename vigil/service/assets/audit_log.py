"""The audit log across assets, filtered by asset, person, action and date."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vigil.errors import InvalidParameter
from vigil.service.core.audit import audit_view
from vigil.service.core.windows import Window
from vigil.storage.db import Database
from vigil.storage.tables import AuditEventRow

MAX_EVENTS = 500


def audit_events(
    db: Database,
    *,
    asset_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    span: Window | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Audit events, newest first."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidParameter(f"limit must be between 1 and {MAX_EVENTS}")
    query = select(AuditEventRow)
    if asset_id:
        query = query.where(AuditEventRow.asset_id == asset_id)
    if actor:
        query = query.where(AuditEventRow.actor == actor)
    if action:
        query = query.where(AuditEventRow.action == action)
    if span is not None:
        query = query.where(
            AuditEventRow.created_at >= span.start, AuditEventRow.created_at < span.end
        )
    query = query.order_by(AuditEventRow.id.desc()).limit(limit)
    with db.session() as session:
        return [
            {"id": row.id, "asset_id": row.asset_id, **audit_view(row)}
            for row in session.scalars(query)
        ]
