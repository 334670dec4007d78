"""/v1/webhooks over HTTP: subscriptions, the delivery log, redelivery, and role checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.webhook_receiver import Receiver
from vigil.app import Vigil, build, prepare_storage
from vigil.notify.signing import verify
from vigil.service.core.events import APPROVED, REJECTED, make_event
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.notices.webhooks import JOB_KIND
from vigil.settings import Settings

WORKER = "api-test-worker"


@pytest.fixture
def vigil(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    """The shared fixture's vigil, allowed to send to the loopback receiver."""
    settings = Settings(
        data_dir=tmp_path / "data", policy_dir=policy_dir, webhook_allow_private=True
    )
    prepare_storage(settings)
    running = build(settings, engine)
    yield running
    running.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def publish(vigil: Vigil, event_type: str) -> None:
    asset = {"id": "a1", "status": "rejected", "labels": [], "decision": None}
    with vigil.db.session() as session:
        vigil.webhooks.enqueue_deliveries(session, make_event(event_type, asset))


def deliver_all(vigil: Vigil) -> None:
    """Run every due webhook job once, as a worker would."""
    for job in vigil.queue.claim(WORKER, 50, kinds=[JOB_KIND]):
        try:
            vigil.webhooks.deliver(job)
        except Exception as failure:
            vigil.queue.fail(job.id, WORKER, str(failure))
        else:
            vigil.queue.complete(job.id, WORKER)


def test_subscribe_list_and_remove(client: TestClient, keys: Keys, receiver: Receiver) -> None:
    admin = keys.auth("admin")
    body = {"url": receiver.url, "events": [REJECTED], "description": "bot"}
    created = client.post("/v1/webhooks", json=body, headers=admin)
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["secret"].startswith("whsec_") and webhook["events"] == [REJECTED]
    listed = client.get("/v1/webhooks", headers=admin).json()["webhooks"]
    assert [w["id"] for w in listed] == [webhook["id"]] and "secret" not in listed[0]
    assert client.delete(f"/v1/webhooks/{webhook['id']}", headers=admin).status_code == 204
    again = client.delete(f"/v1/webhooks/{webhook['id']}", headers=admin)
    assert again.status_code == 404 and again.json()["error"]["code"] == "WebhookNotFound"
    assert client.get("/v1/webhooks", headers=admin).json() == {"webhooks": []}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "http://x.test/h", "events": ["asset.deleted"]}, 400, "InvalidParameter"),
        ({"url": "ftp://x.test/h", "events": [REJECTED]}, 422, "UnsafeWebhookTarget"),
        ({"url": "http://x.test/h"}, 400, "InvalidParameter"),
        ({"url": "http://x.test/h", "events": [REJECTED], "secret": "x"}, 400, "InvalidParameter"),
    ],
)
def test_bad_subscriptions_are_refused(
    client: TestClient, keys: Keys, body: dict[str, object], status: int, code: str
) -> None:
    answer = client.post("/v1/webhooks", json=body, headers=keys.auth("admin"))
    assert answer.status_code == status and answer.json()["error"]["code"] == code


def test_unknown_event_types_name_the_known_ones(client: TestClient, keys: Keys) -> None:
    body = {"url": "http://x.test/h", "events": ["asset.deleted"]}
    message = client.post("/v1/webhooks", json=body, headers=keys.auth("admin")).json()
    assert "asset.review_required" in message["error"]["message"]


@pytest.mark.parametrize("role", ["uploader", "reviewer"])
def test_only_admins_may_use_webhooks(client: TestClient, keys: Keys, role: str) -> None:
    headers = keys.auth(role)
    answers = [
        client.post("/v1/webhooks", json={"url": "http://x.test", "events": []}, headers=headers),
        client.get("/v1/webhooks", headers=headers),
        client.delete("/v1/webhooks/wh_1", headers=headers),
        client.get("/v1/webhooks/secret", headers=headers),
        client.get("/v1/webhooks/deliveries", headers=headers),
        client.get("/v1/webhooks/deliveries/dlv_1", headers=headers),
        client.post("/v1/webhooks/deliveries/dlv_1/redeliver", headers=headers),
    ]
    assert {(a.status_code, a.json()["error"]["code"]) for a in answers} == {(403, "Forbidden")}
    assert client.get("/v1/webhooks").status_code == 401


def test_the_delivery_log_and_redelivery(
    client: TestClient, keys: Keys, vigil: Vigil, receiver: Receiver
) -> None:
    admin = keys.auth("admin")
    body = {"url": receiver.url, "events": [REJECTED, APPROVED]}
    secret = client.post("/v1/webhooks", json=body, headers=admin).json()["secret"]
    receiver.answer(500)
    publish(vigil, REJECTED)
    publish(vigil, APPROVED)
    deliver_all(vigil)

    newest_first = client.get("/v1/webhooks/deliveries", headers=admin).json()["deliveries"]
    assert [d["event_type"] for d in newest_first] == [APPROVED, REJECTED]
    failing = client.get("/v1/webhooks/deliveries?status=pending", headers=admin).json()
    (pending,) = failing["deliveries"]
    assert pending["last_status_code"] == 500
    ok = client.get("/v1/webhooks/deliveries?status=succeeded&limit=1", headers=admin).json()
    assert len(ok["deliveries"]) == 1

    redelivered = client.post(f"/v1/webhooks/deliveries/{pending['id']}/redeliver", headers=admin)
    assert redelivered.status_code == 202 and redelivered.json()["job_id"] > 0
    deliver_all(vigil)  # the redelivery; the first job's retry is not due yet
    detail = client.get(f"/v1/webhooks/deliveries/{pending['id']}", headers=admin).json()
    assert detail["status"] == "succeeded" and detail["payload"]["type"] == REJECTED
    assert [a["status_code"] for a in detail["attempts"]] == [500, 200]
    assert all({"at", "status_code", "error", "duration_ms"} <= set(a) for a in detail["attempts"])
    last = receiver.requests[-1]
    assert verify(secret, last.headers["Vigil-Signature"], last.body)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/webhooks/deliveries/dlv_missing", 404, "DeliveryNotFound"),
        ("POST", "/v1/webhooks/deliveries/dlv_missing/redeliver", 404, "DeliveryNotFound"),
        ("GET", "/v1/webhooks/deliveries?status=lost", 400, "InvalidParameter"),
        ("GET", "/v1/webhooks/deliveries?limit=0", 400, "InvalidParameter"),
    ],
)
def test_delivery_log_refusals(
    client: TestClient, keys: Keys, method: str, path: str, status: int, code: str
) -> None:
    answer = client.request(method, path, headers=keys.auth("admin"))
    assert answer.status_code == status and answer.json()["error"]["code"] == code


def test_the_instance_secret_is_stable(client: TestClient, keys: Keys) -> None:
    first = client.get("/v1/webhooks/secret", headers=keys.auth("admin")).json()
    assert first["source"] == "generated" and first["secret"].startswith("whsec_")
    assert client.get("/v1/webhooks/secret", headers=keys.auth("admin")).json() == first
