"""Decisions reach the outside world: an upload's notification_url and subscriptions get
signed webhooks, and alert rules send e-mail, all through the worker as in production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import role_headers
from tests.images import encode
from tests.queue_helpers import drain
from tests.smtp import SmtpServer, smtp_server
from tests.videos import photo
from tests.webhook_receiver import Receiver
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.notify.signing import verify
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


@pytest.fixture(scope="module")
def unfused(policy_dir: Path) -> ModerationEngine:
    """Fusion off: the colour wheel's NudeNet false positive (Explicit, unbacked by the
    whole-image classifiers) is these tests' Explicit trigger."""
    loaded = ModerationEngine(Settings(policy_dir=policy_dir, fusion=False))
    loaded.load()
    return loaded


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def stack_settings(smtp: SmtpServer) -> dict[str, Any]:
    return {"webhook_allow_private": True, "smtp_host": "127.0.0.1", "smtp_port": smtp.port}


@pytest.fixture
def stack_engine(unfused: ModerationEngine) -> ModerationEngine:
    return unfused


def test_an_upload_notifies_its_url_and_the_subscribers_and_alerts_by_email(
    stack: Vigil, smtp: SmtpServer
) -> None:
    auth = role_headers(stack, Role.ADMIN, Role.UPLOADER)
    with (
        Receiver() as own_url,
        Receiver() as subscriber,
        TestClient(create_app(stack, run_worker=False)) as api,
    ):
        hook = {"url": subscriber.url, "events": ["asset.rejected"]}
        subscription = api.post("/v1/webhooks", headers=auth["admin"], json=hook).json()
        rule = {
            "name": "any explicit",
            "label": "Explicit",
            "min_confidence": 0,
            "recipients": ["ops@example.com"],
        }
        assert api.post("/v1/alerts", headers=auth["admin"], json=rule).status_code == 201
        response = api.post(
            "/v1/assets",
            headers=auth["uploader"],
            files={"file": ("beach.jpg", encode(photo("colorwheel")))},
            data={"policy": "block-all", "notification_url": own_url.url},
        )
        assert response.status_code == 201 and response.json()["status"] == "rejected"
        drain(stack)  # the deliveries and the e-mail the decision queued
        uploader = authenticate(stack.db, auth["uploader"]["Authorization"]).key_id
        own_secret = api.get(f"/v1/keys/{uploader}/signing-secret", headers=auth["uploader"])
    (to_url,) = own_url.requests
    (to_subscriber,) = subscriber.requests
    # The upload's own URL: the uploading key's secret, over the URL (v2); a subscription:
    # its own secret (v1).
    signed = (
        (to_url, own_secret.json()["secret"], own_url.url),
        (to_subscriber, subscription["secret"], None),
    )
    for request, secret, url in signed:
        event = json.loads(request.body)
        assert event["type"] == "asset.rejected"
        assert event["data"]["asset"]["id"] == response.json()["id"]
        assert verify(secret, request.headers["Vigil-Signature"], request.body, url=url)
    (mail,) = smtp.received
    assert "beach.jpg" in mail.subject
