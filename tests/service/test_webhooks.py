"""Webhook deliveries end to end against a real HTTP receiver: signing, subscriptions by
event type, retries with backoff on the job queue, the dead end, redelivery, the SSRF guard."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.webhook_receiver import Receiver
from vigil.app import Vigil, build, prepare_storage
from vigil.errors import Forbidden, InvalidParameter, InvalidTransition, UnsafeWebhookTarget
from vigil.notify.signing import verify
from vigil.queue.jobs import JobQueue, JobState
from vigil.service.access.principal import Principal, Role
from vigil.service.core.events import APPROVED, DECIDED, REJECTED, make_event
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.notices.webhooks import JOB_KIND, DeliveryFailed, WebhookService
from vigil.settings import Settings

ADMIN = Principal(key_id="test-admin", role=Role.ADMIN)
WORKER = "test-worker"
MAX_ATTEMPTS = 3


class Clock:
    """The job queue's clock, moved by hand so backoff needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Hooks:
    vigil: Vigil
    service: WebhookService
    queue: JobQueue
    clock: Clock

    def publish(self, event_type: str, notification_url: str | None = None) -> dict[str, Any]:
        event = make_event(event_type, asset(notification_url))
        with self.vigil.db.session() as session:
            self.service.enqueue_deliveries(session, event)
        return event

    def run_once(self) -> JobState | None:
        """Claim one due webhook job and run it the way a worker does."""
        (job,) = self.queue.claim(WORKER, 1, kinds=[JOB_KIND])
        try:
            self.service.deliver(job)
        except DeliveryFailed as failure:
            return self.queue.fail(job.id, WORKER, str(failure))
        self.queue.complete(job.id, WORKER)
        return JobState.DONE

    def after_backoff(self) -> None:
        assert self.queue.claim(WORKER, 1, kinds=[JOB_KIND]) == []  # not due yet
        self.clock.now += self.queue.retry.backoff_max_seconds + 1


def asset(notification_url: str | None = None) -> dict[str, Any]:
    """An asset as its JSON view shows it, with labels and the decision's policy version."""
    return {
        "id": "a1b2c3",
        "status": "rejected",
        "filename": "beach.jpg",
        "labels": [{"Name": "Explicit Nudity", "ParentName": "", "Confidence": 97.5}],
        "decision": {"action": "block", "policy": "default", "policy_version": 3},
        "notification_url": notification_url,
    }


def webhook_settings(data_dir: Path, policy_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "policy_dir": policy_dir,
        "webhook_allow_private": True,  # the receiver listens on loopback
        "webhook_max_attempts": MAX_ATTEMPTS,
        "webhook_timeout_seconds": 5.0,
        **overrides,
    }
    return Settings(**values)


def open_hooks(settings: Settings, engine: ModerationEngine) -> Hooks:
    prepare_storage(settings)
    running = build(settings, engine)
    clock = Clock()
    queue = JobQueue(running.db, clock=clock)
    return Hooks(running, WebhookService(running.db, queue, settings), queue, clock)


@pytest.fixture
def hooks(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[Hooks]:
    opened = open_hooks(webhook_settings(tmp_path / "data", policy_dir), engine)
    yield opened
    opened.vigil.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def failures(reason: str) -> float:
    value = REGISTRY.get_sample_value("vigil_webhook_failures_total", {"reason": reason})
    return value or 0.0


def test_a_delivery_is_signed_and_carries_the_event(hooks: Hooks, receiver: Receiver) -> None:
    created = hooks.service.create(ADMIN, receiver.url, [REJECTED], "moderation bot")
    event = hooks.publish(REJECTED)
    assert hooks.run_once() is JobState.DONE
    (request,) = receiver.requests
    assert request.path == "/hooks/vigil"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Vigil-Event"] == REJECTED
    assert json.loads(request.body) == event
    assert json.loads(request.body)["data"]["asset"]["decision"]["policy_version"] == 3
    signature = request.headers["Vigil-Signature"]
    assert verify(created["secret"], signature, request.body)
    assert not verify("whsec_wrong", signature, request.body)
    assert not verify(created["secret"], signature, request.body.replace(b"block", b"allow"))
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert not verify(created["secret"], signature, request.body, now=timestamp + 301)
    delivery = hooks.service.delivery(ADMIN, request.headers["Vigil-Delivery"])
    assert delivery["status"] == "succeeded" and delivery["last_status_code"] == 200
    assert delivery["subscription_id"] == created["id"] and delivery["payload"] == event
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 200 and attempt["error"] == ""
    assert attempt["duration_ms"] >= 0 and attempt["at"]


def test_subscriptions_receive_only_their_event_types(hooks: Hooks, receiver: Receiver) -> None:
    hooks.service.create(ADMIN, receiver.url + "/rejected", [REJECTED])
    hooks.service.create(ADMIN, receiver.url + "/any", [APPROVED, REJECTED, DECIDED])
    hooks.publish(APPROVED)
    hooks.publish(DECIDED)
    assert [d["url"] for d in hooks.service.deliveries(ADMIN)] == [receiver.url + "/any"] * 2
    hooks.publish(REJECTED)
    assert len(hooks.service.deliveries(ADMIN)) == 4


def test_a_notification_url_gets_every_event_signed_with_the_instance_secret_if_shared(
    hooks: Hooks, receiver: Receiver, tmp_path: Path, policy_dir: Path
) -> None:
    # The old signing (VIGIL_WEBHOOK_SHARED_NOTIFICATION_SECRET); per-key signing is
    # tests/api/test_notification_signing.py, whose uploads have a real owner.
    shared = webhook_settings(
        tmp_path / "data", policy_dir, webhook_shared_notification_secret=True
    )
    hooks.service = WebhookService(hooks.vigil.db, hooks.queue, shared)
    hooks.service.create(ADMIN, receiver.url + "/subscribed", [REJECTED])
    for event_type in (APPROVED, DECIDED):
        hooks.publish(event_type, notification_url=receiver.url + "/mine")
    assert hooks.run_once() is JobState.DONE
    assert hooks.run_once() is JobState.DONE
    assert [r.path for r in receiver.requests] == ["/hooks/vigil/mine"] * 2
    secret = hooks.service.secret(ADMIN)
    assert secret["source"] == "generated"
    for request in receiver.requests:
        assert verify(secret["secret"], request.headers["Vigil-Signature"], request.body)
    assert all(d["subscription_id"] is None for d in hooks.service.deliveries(ADMIN))


def test_a_notification_url_of_an_asset_without_an_owner_is_not_signed_with_a_shared_secret(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.publish(REJECTED, notification_url=receiver.url)  # its asset is not in the database
    assert hooks.run_once() is JobState.DONE
    assert receiver.requests == []
    (delivery,) = hooks.service.deliveries(ADMIN, status="failed")
    assert "no longer exists" in delivery["last_error"]


def test_failed_attempts_retry_with_backoff_until_one_succeeds(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.service.create(ADMIN, receiver.url, [REJECTED])
    hooks.publish(REJECTED)
    receiver.answer(500, 503)
    before = failures("status")
    assert hooks.run_once() is JobState.QUEUED
    (pending,) = hooks.service.deliveries(ADMIN, status="pending")
    assert pending["last_status_code"] == 500 and pending["last_error"] == "HTTP 500"
    hooks.after_backoff()
    assert hooks.run_once() is JobState.QUEUED
    hooks.after_backoff()
    assert hooks.run_once() is JobState.DONE
    assert failures("status") == before + 2
    delivery = hooks.service.delivery(ADMIN, pending["id"])
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    # Every retry is the same delivery, signed anew.
    assert {r.headers["Vigil-Delivery"] for r in receiver.requests} == {pending["id"]}


def test_a_delivery_fails_for_good_after_its_last_attempt_and_can_be_redelivered(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.service.create(ADMIN, receiver.url, [REJECTED])
    hooks.publish(REJECTED)
    receiver.answer(500, 502, 404)
    states = []
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            hooks.after_backoff()
        states.append(hooks.run_once())
    assert states == [JobState.QUEUED, JobState.QUEUED, JobState.DEAD]
    (failed,) = hooks.service.deliveries(ADMIN, status="failed")
    delivery = hooks.service.delivery(ADMIN, failed["id"])
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 502, 404]
    assert hooks.queue.list_jobs(state="dead", kind=JOB_KIND)[0]["attempts"] == MAX_ATTEMPTS

    redelivered = hooks.service.redeliver(ADMIN, failed["id"])
    assert redelivered["delivery"]["status"] == "pending"
    assert hooks.run_once() is JobState.DONE
    first, last = receiver.requests[0], receiver.requests[-1]
    assert last.body == first.body and last.headers["Vigil-Delivery"] == failed["id"]
    after = hooks.service.delivery(ADMIN, failed["id"])
    assert after["status"] == "succeeded" and after["attempt_count"] == MAX_ATTEMPTS + 1


def test_a_network_error_is_logged_and_retried(hooks: Hooks) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hooks.service.create(ADMIN, f"http://127.0.0.1:{port}/hook", [REJECTED])
    hooks.publish(REJECTED)
    before = failures("network")
    assert hooks.run_once() is JobState.QUEUED
    assert failures("network") == before + 1
    (delivery,) = hooks.service.deliveries(ADMIN)
    attempt = hooks.service.delivery(ADMIN, delivery["id"])["attempts"][0]
    assert attempt["status_code"] is None and "ConnectionRefusedError" in attempt["error"]


def test_a_redirect_is_not_followed(hooks: Hooks, receiver: Receiver) -> None:
    hooks.service.create(ADMIN, receiver.url, [REJECTED])
    hooks.publish(REJECTED)
    receiver.answer(302)
    assert hooks.run_once() is JobState.QUEUED
    assert [r.path for r in receiver.requests] == ["/hooks/vigil"]  # never /elsewhere
    (delivery,) = hooks.service.deliveries(ADMIN)
    assert delivery["last_status_code"] == 302 and delivery["status"] == "pending"


def test_loopback_targets_are_refused_by_default(
    hooks: Hooks, receiver: Receiver, tmp_path: Path, policy_dir: Path
) -> None:
    strict = webhook_settings(tmp_path / "data", policy_dir, webhook_allow_private=False)
    guarded = WebhookService(hooks.vigil.db, hooks.queue, strict)
    for url in (receiver.url, "http://localhost:9/hook", "http://[::1]/hook"):
        with pytest.raises(UnsafeWebhookTarget):
            guarded.create(ADMIN, url, [REJECTED])
    assert guarded.subscriptions(ADMIN) == []


def test_a_target_is_checked_again_at_delivery(
    hooks: Hooks, receiver: Receiver, tmp_path: Path, policy_dir: Path
) -> None:
    # Registered while allowed (as a host whose DNS later points inside would be), then
    # delivered by a process that refuses loopback: nothing may reach the receiver.
    hooks.service.create(ADMIN, receiver.url, [REJECTED])
    strict = webhook_settings(
        tmp_path / "data",
        policy_dir,
        webhook_allow_private=False,
        # The event's asset is not in the database: only the old shared secret signs it.
        webhook_shared_notification_secret=True,
    )
    hooks.service = WebhookService(hooks.vigil.db, hooks.queue, strict)
    hooks.publish(REJECTED, notification_url=receiver.url + "/per-upload")
    before = failures("unsafe_target")
    # A refused target is final on the first attempt: no retries to spend on it.
    assert [hooks.run_once(), hooks.run_once()] == [JobState.DONE] * 2
    assert receiver.requests == []
    assert failures("unsafe_target") == before + 2
    for delivery in hooks.service.deliveries(ADMIN):
        assert delivery["status"] == "failed"
        (attempt,) = hooks.service.delivery(ADMIN, delivery["id"])["attempts"]
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("not sent:") and "127.0.0.1" in attempt["error"]


def test_unknown_event_types_are_refused_with_the_known_ones(
    hooks: Hooks, receiver: Receiver
) -> None:
    with pytest.raises(InvalidParameter, match=r"asset\.rejected.*video\.completed"):
        hooks.service.create(ADMIN, receiver.url, ["asset.deleted"])
    with pytest.raises(InvalidParameter, match="at least one"):
        hooks.service.create(ADMIN, receiver.url, [])


def test_a_removed_subscription_gets_nothing_more(hooks: Hooks, receiver: Receiver) -> None:
    created = hooks.service.create(ADMIN, receiver.url, [REJECTED])
    hooks.publish(REJECTED)
    hooks.service.remove(ADMIN, created["id"])
    assert hooks.service.subscriptions(ADMIN) == []
    assert hooks.run_once() is JobState.DONE
    assert receiver.requests == []
    (delivery,) = hooks.service.deliveries(ADMIN, status="failed")
    assert "removed" in delivery["last_error"]
    with pytest.raises(InvalidTransition):
        hooks.service.redeliver(ADMIN, delivery["id"])
    hooks.publish(REJECTED)
    assert len(hooks.service.deliveries(ADMIN)) == 1


def test_the_instance_secret_is_generated_once_unless_set(
    hooks: Hooks, tmp_path: Path, policy_dir: Path
) -> None:
    first = hooks.service.secret(ADMIN)["secret"]
    other_process = WebhookService(hooks.vigil.db, hooks.queue, hooks.service.settings)
    assert other_process.instance_secret() == first
    configured = webhook_settings(tmp_path / "data", policy_dir, webhook_secret="s3cret")
    assert WebhookService(hooks.vigil.db, hooks.queue, configured).secret(ADMIN) == {
        "secret": "s3cret",
        "source": "setting",
    }


def test_only_admins_manage_webhooks(hooks: Hooks, receiver: Receiver) -> None:
    for role in (Role.UPLOADER, Role.REVIEWER):
        who = Principal(key_id="someone", role=role)
        with pytest.raises(Forbidden, match="admin role"):
            hooks.service.create(who, receiver.url, [REJECTED])
        with pytest.raises(Forbidden, match="admin role"):
            hooks.service.deliveries(who)


def test_retry_redelivery_and_the_secret_on_each_database(
    database_url: str,
    tmp_path: Path,
    engine: ModerationEngine,
    policy_dir: Path,
    receiver: Receiver,
) -> None:
    # The event's asset is not in the database: only the old shared secret can sign it.
    settings = webhook_settings(
        tmp_path / "data",
        policy_dir,
        database_url=database_url,
        webhook_shared_notification_secret=True,
    )
    hooks = open_hooks(settings, engine)
    try:
        created = hooks.service.create(ADMIN, receiver.url, [REJECTED])
        hooks.publish(REJECTED, notification_url=receiver.url + "/mine")
        receiver.answer(500)
        assert sorted(str(hooks.run_once()) for _ in range(2)) == ["done", "queued"]
        hooks.after_backoff()
        assert hooks.run_once() is JobState.DONE
        (redone,) = hooks.service.deliveries(ADMIN, status="succeeded", limit=1)
        hooks.service.redeliver(ADMIN, redone["id"])
        assert hooks.run_once() is JobState.DONE
        by_path = {r.path: r for r in receiver.requests}
        mine, subscribed = by_path["/hooks/vigil/mine"], by_path["/hooks/vigil"]
        instance = hooks.service.instance_secret()
        assert verify(instance, mine.headers["Vigil-Signature"], mine.body)
        assert verify(created["secret"], subscribed.headers["Vigil-Signature"], subscribed.body)
        assert len(receiver.requests) == 4
    finally:
        hooks.vigil.close()
