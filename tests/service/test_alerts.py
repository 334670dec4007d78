"""Alert rules and alert e-mail, sent through a real SMTP server started by the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.images import coffee_jpeg
from tests.smtp import SmtpServer, smtp_server
from vigil.app import Vigil
from vigil.errors import (
    AlertRuleNotFound,
    EmailDeliveryFailed,
    EmailNotConfigured,
    InvalidParameter,
)
from vigil.queue.jobs import Job, JobQueue, JobState
from vigil.service.core.events import APPROVED, REJECTED, VIDEO_COMPLETED, make_event
from vigil.service.notices.alert_rules import AlertRule
from vigil.service.notices.alerts import JOB_KIND, AlertService

OPS = ("ops@example.com",)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def alerts(vigil: Vigil, smtp: SmtpServer) -> AlertService:
    settings = vigil.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "vigil@example.org"}
    )
    return AlertService(vigil.db, vigil.queue, settings)


def hate_rule(**changes: Any) -> AlertRule:
    fields: dict[str, Any] = {
        "name": "hate symbols",
        "label": "Hate Symbols",
        "recipients": OPS,
        "min_confidence": 90.0,
    }
    return AlertRule(**{**fields, **changes})


def label(name: str, parent: str, level: int, confidence: float) -> dict[str, Any]:
    return {"Name": name, "ParentName": parent, "TaxonomyLevel": level, "Confidence": confidence}


def asset(filename: str = "flyer.jpg", *labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "a1b2c3",
        "filename": filename,
        "status": "rejected",
        "labels": list(labels),
        "decision": {"action": "block", "reason": "Hate Symbols at 96"},
    }


HATEFUL = asset(
    "flyer.jpg",
    label("Nazi Party", "Hate Symbols", 2, 96.0),
    label("Hate Symbols", "", 1, 96.0),
    label("Weapons", "Violence", 2, 97.0),
    label("Extremist", "Hate Symbols", 2, 60.0),  # below the rule's 90
)


def segment(name: str, start: int, confidence: float) -> dict[str, Any]:
    return {"label": name, "start_ms": start, "end_ms": start + 500, "confidence": confidence}


def enqueue(vigil: Vigil, alerts: AlertService, event: dict[str, Any]) -> int:
    with vigil.db.session() as session:
        return alerts.enqueue_alerts(session, event)


def claim(queue: JobQueue) -> list[Job]:
    return queue.claim("test-worker", 10, kinds=[JOB_KIND])


def sent_count(outcome: str) -> float:
    value = REGISTRY.get_sample_value("vigil_alert_emails_total", {"outcome": outcome})
    return value or 0.0


# -- rules -----------------------------------------------------------------------------------


def test_a_rule_is_stored_with_defaults_and_listed_and_removed(alerts: AlertService) -> None:
    created = alerts.create(hate_rule(recipients=(" ops@example.com", "ops@example.com")), "me")
    assert created["id"].startswith("alr_")
    assert created["events"] == [
        "asset.approved",
        "asset.rejected",
        "asset.review_required",
        "asset.decided",
    ]
    assert created["recipients"] == ["ops@example.com"] and created["min_labels"] == 1
    assert created["created_by"] == "me"
    assert [rule["id"] for rule in alerts.all()] == [created["id"]]
    assert alerts.delete(created["id"]) == {"deleted": created["id"]}
    assert alerts.all() == []
    with pytest.raises(AlertRuleNotFound):
        alerts.delete(created["id"])


def test_a_video_rule_listens_to_video_completed(alerts: AlertService) -> None:
    created = alerts.create(hate_rule(label="Weapons", min_segments=5), "me")
    assert created["events"] == ["video.completed"] and created["min_segments"] == 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": "Hate Symbol"}, "did you mean 'Hate Symbols'"),
        ({"recipients": ("ops at example.com",)}, "not an e-mail address"),
        ({"recipients": ()}, "recipient"),
        ({"min_confidence": 120.0}, "between 0 and 100"),
        ({"min_labels": 0}, "min_labels"),
        ({"name": "  "}, "name"),
        ({"events": ("asset.exploded",)}, "unknown event types"),
        ({"min_segments": 5, "events": ("asset.rejected",)}, "only to the video.completed"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(
    alerts: AlertService, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        alerts.create(hate_rule(**changes), "me")
    assert alerts.all() == []


# -- matching and queueing -------------------------------------------------------------------


def test_only_matching_enabled_rules_queue_an_alert(vigil: Vigil, alerts: AlertService) -> None:
    alerts.create(hate_rule(), "me")
    alerts.create(hate_rule(name="rejections only", events=("asset.rejected",)), "me")
    alerts.create(hate_rule(name="off", enabled=False), "me")
    alerts.create(hate_rule(name="two distinct", min_labels=3), "me")  # only 2 at 90+
    alerts.create(hate_rule(name="gambling", label="Gambling"), "me")
    assert enqueue(vigil, alerts, make_event(APPROVED, HATEFUL)) == 1
    assert enqueue(vigil, alerts, make_event(REJECTED, HATEFUL)) == 2
    jobs = claim(vigil.queue)
    assert len(jobs) == 3 and {job.kind for job in jobs} == {JOB_KIND}
    assert {job.payload["event"]["type"] for job in jobs} == {APPROVED, REJECTED}


def test_alerts_are_queued_in_the_callers_transaction(vigil: Vigil, alerts: AlertService) -> None:
    alerts.create(hate_rule(), "me")
    with pytest.raises(RuntimeError), vigil.db.session() as session:
        assert alerts.enqueue_alerts(session, make_event(REJECTED, HATEFUL)) == 1
        raise RuntimeError("the asset change failed")
    assert claim(vigil.queue) == []


# -- sending ---------------------------------------------------------------------------------


def test_an_image_alert_names_the_file_and_the_labels(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    rule = alerts.create(hate_rule(recipients=("ops@example.com", "oncall@example.com")), "me")
    event = make_event(REJECTED, HATEFUL)
    enqueue(vigil, alerts, event)
    (job,) = claim(vigil.queue)
    before = sent_count("sent")
    alerts.send(job)
    assert sent_count("sent") == before + 1
    (mail,) = smtp.received
    assert mail.sender == "vigil@example.org"
    assert mail.recipients == ["ops@example.com", "oncall@example.com"]
    assert mail.subject == "[vigil] 2 moderation labels in flyer.jpg: Nazi Party, Hate Symbols"
    body = mail.body
    for expected in (
        "Asset:    a1b2c3",
        "Status:   rejected",
        "Decision: block",
        f"Alert rule 'hate symbols' ({rule['id']}) fired on asset.rejected",
        "Nazi Party: 96.0",
        "Hate Symbols: 96.0",
        "/v1/assets/a1b2c3",
    ):
        assert expected in body
    assert "Weapons" not in body and "Extremist" not in body


def test_a_video_alert_counts_flagged_segments(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    alerts.create(hate_rule(name="weapons in video", label="Violence", min_segments=5), "me")
    video = asset("clip.mp4", label("Weapons", "Violence", 2, 95.0))
    flagged = [segment("Weapons", i * 1000, 93.0) for i in range(5)]
    flagged += [segment("Blood & Gore", 9000, 91.0), segment("Weapons", 12000, 40.0)]
    assert enqueue(vigil, alerts, make_event(VIDEO_COMPLETED, video, segments=flagged[:4])) == 0
    assert enqueue(vigil, alerts, make_event(VIDEO_COMPLETED, video, segments=flagged)) == 1
    (job,) = claim(vigil.queue)
    alerts.send(job)
    (mail,) = smtp.received
    assert mail.subject == "[vigil] 6 flagged segments in clip.mp4"
    assert "9000-9500 ms: Blood & Gore: 91.0" in mail.body
    assert "12000-12500" not in mail.body  # below the rule's confidence


def test_an_alert_on_the_labels_real_detectors_produced(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    result = vigil.engine.moderate(coffee_jpeg(), vigil.policy())
    labels = [found.to_dict() for found in result.labels]
    explicit = next(found for found in labels if found["Name"] == "Explicit")
    alerts.create(hate_rule(name="any explicit", label="Explicit", min_confidence=0.0), "me")
    enqueue(vigil, alerts, make_event(APPROVED, {**asset("coffee.jpg"), "labels": labels}))
    (job,) = claim(vigil.queue)
    alerts.send(job)
    (mail,) = smtp.received
    assert mail.subject.startswith("[vigil] ") and "in coffee.jpg: " in mail.subject
    assert f"Explicit: {explicit['Confidence']:.1f}" in mail.body


def test_a_refused_e_mail_fails_the_job_and_the_retry_sends_it(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    alerts.create(hate_rule(), "me")
    enqueue(vigil, alerts, make_event(REJECTED, HATEFUL))
    now = [time.time()]
    queue = JobQueue(vigil.db, clock=lambda: now[0])
    smtp.handler.refuse = "451 4.3.0 mailbox busy, try later"
    (job,) = claim(queue)
    failed = sent_count("failed")
    with pytest.raises(EmailDeliveryFailed, match=r"451 4\.3\.0 mailbox busy") as refused:
        alerts.send(job)
    assert sent_count("failed") == failed + 1
    assert queue.fail(job.id, "test-worker", refused.value.message) is JobState.QUEUED
    smtp.handler.refuse = ""
    now[0] += 3600  # past the backoff
    (retry,) = claim(queue)
    assert retry.attempts == 2
    alerts.send(retry)
    assert len(smtp.received) == 1


def test_an_unreachable_server_is_a_delivery_failure(vigil: Vigil, alerts: AlertService) -> None:
    alerts.create(hate_rule(), "me")
    enqueue(vigil, alerts, make_event(REJECTED, HATEFUL))
    (job,) = claim(vigil.queue)
    nowhere = AlertService(
        vigil.db, vigil.queue, alerts.settings.model_copy(update={"smtp_port": 1})
    )
    with pytest.raises(EmailDeliveryFailed, match=r"cannot talk to SMTP server 127\.0\.0\.1:1"):
        nowhere.send(job)


def test_without_an_smtp_host_rules_are_stored_but_sending_explains(vigil: Vigil) -> None:
    unconfigured = vigil.alerts
    rule = unconfigured.create(hate_rule(), "me")
    enqueue(vigil, unconfigured, make_event(REJECTED, HATEFUL))
    (job,) = claim(vigil.queue)
    with pytest.raises(EmailNotConfigured, match="VIGIL_SMTP_HOST is empty"):
        unconfigured.send(job)
    with pytest.raises(EmailNotConfigured, match="VIGIL_SMTP_HOST"):
        unconfigured.test(rule["id"])


def test_an_alert_of_a_removed_rule_is_dropped(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    rule = alerts.create(hate_rule(), "me")
    enqueue(vigil, alerts, make_event(REJECTED, HATEFUL))
    alerts.delete(rule["id"])
    (job,) = claim(vigil.queue)
    alerts.send(job)  # nothing to send, nothing to retry
    assert smtp.received == []


def test_a_test_e_mail_reports_the_servers_answer(alerts: AlertService, smtp: SmtpServer) -> None:
    rule = alerts.create(hate_rule(min_labels=2, enabled=False), "me")
    answer = alerts.test(rule["id"])
    assert answer == {
        "rule_id": rule["id"],
        "recipients": ["ops@example.com"],
        "smtp_reply": "250 2.0.0 queued as test",
    }
    (mail,) = smtp.received
    assert mail.subject.startswith("[vigil] 2 moderation labels in vigil-test-alert.jpg: ")
    assert mail.body.startswith("This is a test of alert rule 'hate symbols'")
    with pytest.raises(AlertRuleNotFound):
        alerts.test("alr_missing")


def test_a_line_break_in_a_filename_cannot_add_mail_headers(
    vigil: Vigil, alerts: AlertService, smtp: SmtpServer
) -> None:
    alerts.create(hate_rule(), "me")
    sneaky = {**HATEFUL, "filename": "a.jpg\r\nBcc: everyone@example.com"}
    enqueue(vigil, alerts, make_event(REJECTED, sneaky))
    (job,) = claim(vigil.queue)
    alerts.send(job)
    (mail,) = smtp.received
    assert mail.message["Bcc"] is None and mail.recipients == ["ops@example.com"]
    assert "a.jpg Bcc: everyone@example.com:" in mail.subject


# Plain-text AUTH on loopback, on purpose: see tests/smtp.py.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_login_is_used_and_a_wrong_password_is_reported(vigil: Vigil) -> None:
    with smtp_server(login=("vigil", "s3cret")) as server:
        settings = vigil.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_username": "vigil"}
        )
        wrong = AlertService(vigil.db, vigil.queue, settings)
        rule = wrong.create(hate_rule(), "me")
        with pytest.raises(EmailDeliveryFailed, match="535"):
            wrong.test(rule["id"])
        right = AlertService(
            vigil.db, vigil.queue, settings.model_copy(update={"smtp_password": "s3cret"})
        )
        assert right.test(rule["id"])["smtp_reply"].startswith("250")
        assert len(server.received) == 1
