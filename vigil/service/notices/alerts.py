"""Alert e-mail: storing rules, queueing an e-mail when an event matches one, sending it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil import taxonomy
from vigil.errors import AlertRuleNotFound, VigilError
from vigil.metrics import ALERTS_SENT
from vigil.notify.email import Email, SmtpConfig, send_email
from vigil.queue.jobs import Job, JobQueue
from vigil.service.notices.alert_message import body, subject
from vigil.service.notices.alert_rules import AlertRule, Match, check_rule, match
from vigil.settings import Settings
from vigil.storage.db import Database
from vigil.storage.tables import AlertRuleRow

log = logging.getLogger(__name__)

JOB_KIND = "alert_email"
TEST_FILENAME = "vigil-test-alert.jpg"


class AlertService:
    def __init__(self, db: Database, queue: JobQueue, settings: Settings) -> None:
        self.db = db
        self.queue = queue
        self.settings = settings

    # -- rules -------------------------------------------------------------------------------

    def create(self, rule: AlertRule, actor: str) -> dict[str, Any]:
        """Store a new rule (its id is generated); InvalidParameter says what is wrong."""
        rule = check_rule(rule)
        row = AlertRuleRow(
            id=f"alr_{secrets.token_hex(8)}",
            name=rule.name,
            label=rule.label,
            min_confidence=rule.min_confidence,
            min_labels=rule.min_labels,
            min_segments=rule.min_segments,
            events=list(rule.events),
            recipients=list(rule.recipients),
            enabled=rule.enabled,
            created_by=actor,
            created_at=datetime.now(UTC),
        )
        with self.db.session() as session:
            session.add(row)
        return _view(row)

    def all(self) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.created_at))
            return [_view(row) for row in rows]

    def delete(self, rule_id: str) -> dict[str, str]:
        """Remove a rule; alerts it already queued are dropped when their turn comes."""
        with self.db.session() as session:
            row = session.get(AlertRuleRow, rule_id)
            if row is None:
                raise AlertRuleNotFound(f"no alert rule with id {rule_id}")
            session.delete(row)
        return {"deleted": rule_id}

    # -- alerting ----------------------------------------------------------------------------

    def enqueue_alerts(self, session: Session, event: dict[str, Any]) -> int:
        """Queue one e-mail per enabled rule that ``event`` matches, inside the caller's
        transaction, so alerts exist exactly when the change that raised them was committed.
        Returns how many were queued."""
        rows = session.scalars(select(AlertRuleRow).where(AlertRuleRow.enabled.is_(True)))
        queued = 0
        for rule in map(_rule, rows):
            if match(rule, event) is not None:
                self.queue.enqueue(session, JOB_KIND, {"rule_id": rule.id, "event": event})
                queued += 1
        return queued

    def send(self, job: Job) -> None:
        """The ``alert_email`` job: send it, or raise so the queue retries with backoff."""
        rule_id, event = job.payload["rule_id"], job.payload["event"]
        with self.db.session() as session:
            row = session.get(AlertRuleRow, rule_id)
        rule = _rule(row) if row is not None else None
        found = match(rule, event) if rule is not None else None
        if rule is None or found is None:
            log.info(
                "alert rule %s was removed or disabled; alert for %s dropped",
                rule_id,
                event.get("id"),
            )
            return
        self._deliver(rule, event, found)

    def test(self, rule_id: str) -> dict[str, Any]:
        """Send a sample alert for the rule now; the SMTP server's answer, or
        EmailNotConfigured / EmailDeliveryFailed saying why not."""
        with self.db.session() as session:
            row = session.get(AlertRuleRow, rule_id)
        if row is None:
            raise AlertRuleNotFound(f"no alert rule with id {rule_id}")
        rule = _rule(row)
        event = _sample_event(rule)
        # A disabled rule can still be tested: that is how one checks it before enabling it.
        found = match(replace(rule, enabled=True), event) or Match(
            [], [], by_segments=rule.min_segments is not None
        )
        reply = self._deliver(rule, event, found, test=True)
        return {"rule_id": rule.id, "recipients": list(rule.recipients), "smtp_reply": reply}

    def _deliver(
        self, rule: AlertRule, event: dict[str, Any], found: Match, *, test: bool = False
    ) -> str:
        filename = event["data"]["asset"].get("filename") or ""
        email = Email(
            rule.recipients, subject(filename, found), body(rule, event, found, test=test)
        )
        try:
            reply = send_email(SmtpConfig.from_settings(self.settings), email)
        except VigilError:
            ALERTS_SENT.labels(outcome="failed").inc()
            raise
        ALERTS_SENT.labels(outcome="sent").inc()
        return reply


def _rule(row: AlertRuleRow) -> AlertRule:
    return AlertRule(
        id=row.id,
        name=row.name,
        label=row.label,
        min_confidence=row.min_confidence,
        min_labels=row.min_labels,
        min_segments=row.min_segments,
        events=tuple(row.events),
        recipients=tuple(row.recipients),
        enabled=row.enabled,
    )


def _view(row: AlertRuleRow) -> dict[str, Any]:
    return {
        **_rule(row).to_dict(),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


def _sample_event(rule: AlertRule) -> dict[str, Any]:
    """An event the rule fires on: its label and labels under it, or enough segments."""
    confidence = min(100.0, max(95.0, rule.min_confidence))
    names = [rule.label, *(n for n in taxonomy.LABELS if rule.label in taxonomy.ancestors(n))]
    labels = [_sample_label(name, confidence) for name in names[: rule.min_labels]]
    data: dict[str, Any] = {
        "asset": {
            "id": "sample",
            "filename": TEST_FILENAME,
            "status": "rejected",
            "labels": labels,
            "decision": {"action": "block"},
        }
    }
    if rule.min_segments is not None:
        step = 1000
        data["segments"] = [
            {
                "label": rule.label,
                "start_ms": i * step,
                "end_ms": (i + 1) * step,
                "confidence": confidence,
            }
            for i in range(rule.min_segments)
        ]
    return {"id": "evt_test", "type": rule.events[0], "created_at": _now(), "data": data}


def _sample_label(name: str, confidence: float) -> dict[str, Any]:
    known = taxonomy.get(name)
    return {
        "Name": name,
        "ParentName": known.parent,
        "TaxonomyLevel": known.level,
        "Confidence": confidence,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat()
