"""Audit events: an asset's state changes, and the audit log across assets."""

from __future__ import annotations

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class AuditEvent(ApiModel):
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str
    at: Timestamp


class AssetAudit(ApiModel):
    """Every state change of one asset, oldest first."""

    events: list[AuditEvent]


class AuditLogEvent(AuditEvent):
    id: int
    asset_id: str


class AuditLog(ApiModel):
    """The audit log across assets, newest first."""

    events: list[AuditLogEvent]
