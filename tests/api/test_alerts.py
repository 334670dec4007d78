"""Alert rules over HTTP, with test e-mail through a real SMTP server started by the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.smtp import SmtpServer, smtp_server
from vigil.app import Vigil
from vigil.service.notices.alerts import AlertService

RULE = {
    "name": "hate symbols",
    "label": "Hate Symbols",
    "min_confidence": 90,
    "recipients": ["ops@example.com"],
}


@pytest.fixture
def smtp(vigil: Vigil) -> Iterator[SmtpServer]:
    """A mail server, and the running vigil's alerts pointed at it."""
    with smtp_server() as server:
        settings = vigil.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": server.port}
        )
        vigil.alerts = AlertService(vigil.db, vigil.queue, settings)
        yield server


def create(client: TestClient, keys: Keys, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/alerts", headers=keys.auth("admin"), json={**RULE, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_admins_create_list_and_delete_rules(client: TestClient, keys: Keys) -> None:
    rule = create(client, keys)
    assert rule["label"] == "Hate Symbols" and rule["min_labels"] == 1
    assert rule["min_segments"] is None and "asset.rejected" in rule["events"]
    video = create(client, keys, name="weapons", label="Weapons", min_segments=5)
    assert video["events"] == ["video.completed"]
    listed = client.get("/v1/alerts", headers=keys.auth("admin")).json()["alerts"]
    assert [found["id"] for found in listed] == [rule["id"], video["id"]]
    deleted = client.delete(f"/v1/alerts/{rule['id']}", headers=keys.auth("admin"))
    assert deleted.status_code == 204
    again = client.delete(f"/v1/alerts/{rule['id']}", headers=keys.auth("admin"))
    assert again.status_code == 404 and again.json()["error"]["code"] == "AlertRuleNotFound"


def test_only_admins_may_touch_rules(client: TestClient, keys: Keys) -> None:
    for role in ("uploader", "reviewer"):
        response = client.post("/v1/alerts", headers=keys.auth(role), json=RULE)
        assert response.status_code == 403 and response.json()["error"]["code"] == "Forbidden"
        assert client.get("/v1/alerts", headers=keys.auth(role)).status_code == 403
    assert client.get("/v1/alerts").status_code == 401


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": "Nazi Parti"}, "did you mean 'Nazi Party'"),
        ({"recipients": ["ops@"]}, "not an e-mail address"),
        ({"min_confidence": -1}, "between 0 and 100"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_invalid_parameters(
    client: TestClient, keys: Keys, changes: dict[str, Any], message: str
) -> None:
    response = client.post("/v1/alerts", headers=keys.auth("admin"), json={**RULE, **changes})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter" and message in error["message"]


def test_a_test_e_mail_answers_what_the_server_said(
    client: TestClient, keys: Keys, smtp: SmtpServer
) -> None:
    rule = create(client, keys)
    response = client.post(f"/v1/alerts/{rule['id']}/test", headers=keys.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["smtp_reply"] == "250 2.0.0 queued as test"
    (mail,) = smtp.received
    assert mail.subject.startswith("[vigil] 1 moderation label in vigil-test-alert.jpg")
    assert mail.recipients == ["ops@example.com"]


def test_a_refusing_server_is_a_bad_gateway(
    client: TestClient, keys: Keys, smtp: SmtpServer
) -> None:
    rule = create(client, keys)
    smtp.handler.refuse = "554 5.7.1 relay denied"
    response = client.post(f"/v1/alerts/{rule['id']}/test", headers=keys.auth("admin"))
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "EmailDeliveryFailed" and "554 5.7.1 relay denied" in error["message"]


def test_testing_without_smtp_says_how_to_configure_it(client: TestClient, keys: Keys) -> None:
    rule = create(client, keys)
    response = client.post(f"/v1/alerts/{rule['id']}/test", headers=keys.auth("admin"))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "EmailNotConfigured" and "VIGIL_SMTP_HOST" in error["message"]
    missing = client.post("/v1/alerts/alr_nope/test", headers=keys.auth("admin"))
    assert missing.status_code == 404
