"""Alert e-mail rules."""

from __future__ import annotations

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class AlertRule(ApiModel):
    id: str
    name: str
    label: str
    min_confidence: float
    min_labels: int
    min_segments: int | None
    events: list[str]
    recipients: list[str]
    enabled: bool
    created_by: str
    created_at: Timestamp


class AlertRuleList(ApiModel):
    alerts: list[AlertRule]


class AlertTest(ApiModel):
    """A sample alert sent now: the SMTP server's answer."""

    rule_id: str
    recipients: list[str]
    smtp_reply: str
