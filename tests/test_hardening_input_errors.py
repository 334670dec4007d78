"""Issue 16, item 6: input that used to raise inside vigil (a 500 that also reset the
keep-alive connection) is refused with a 4xx in the documented shape, and an exception no
handler knows answers a 500 body on a connection that stays open."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import Keys
from tests.images import astronaut_jpeg
from tests.servers import free_port
from vigil.api import errors
from vigil.api.last_resort import LastResort
from vigil.app import Vigil
from vigil.errors import CorruptImage
from vigil.service.review.users import UserService
from vigil.storage.tables import AssetRow

BEYOND_64_BITS = "99999999999999999999"
PASSWORD = "correct horse battery"


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body


def test_contexts_are_capped_in_size_and_depth(client: TestClient, keys: Keys) -> None:
    photo = {"file": ("a.jpg", astronaut_jpeg())}
    for context in (
        "[" * 1500 + "]" * 1500,  # under the size cap, past Python's recursion limit
        '{"region": ' * 500 + '"DE"' + "}" * 500,  # over the size cap
        '{"region": {"nested": "DE"}}',
    ):
        answer = client.post(
            "/v1/assets", headers=keys.auth("uploader"), files=photo, data={"context": context}
        )
        refused(answer, 400, "InvalidParameter")
    long_value = client.post(
        "/v1/assets", headers=keys.auth("uploader"), files=photo, data={"surface": "x" * 300}
    )
    refused(long_value, 400, "InvalidParameter")


def test_a_url_urlsplit_cannot_read_is_a_parameter_error(client: TestClient, keys: Keys) -> None:
    for url in ("http://[::1", "http://example.com:99999/"):
        answer = client.post(
            "/v1/assets",
            headers=keys.auth("uploader"),
            files={"file": ("a.jpg", astronaut_jpeg())},
            data={"notification_url": url},
        )
        refused(answer, 400, "InvalidParameter")
    preset = client.put(
        "/v1/upload-presets/hooks",
        headers=keys.auth("admin"),
        json={"notification_url": "http://[::1"},
    )
    refused(preset, 400, "InvalidParameter")


def test_integers_beyond_64_bits_are_refused(client: TestClient, keys: Keys) -> None:
    admin = keys.auth("admin")
    for path in (
        f"/v1/policies/default/versions/{BEYOND_64_BITS}",
        f"/v1/jobs/{BEYOND_64_BITS}",
        f"/v1/assets/abc/video/thumbnails/{BEYOND_64_BITS}",
        f"/v1/policies/default/shadow/report?version={BEYOND_64_BITS}",
        f"/v1/webhooks/deliveries?limit={BEYOND_64_BITS}",
    ):
        refused(client.get(path, headers=admin), 400, "InvalidParameter")
    big = int(BEYOND_64_BITS)
    activate = client.post("/v1/policies/default/activate", headers=admin, json={"version": big})
    refused(activate, 400, "InvalidParameter")
    shadow = client.put("/v1/policies/default/shadow", headers=admin, json={"version": big})
    refused(shadow, 400, "InvalidParameter")
    refused(
        client.post(f"/v1/jobs/{BEYOND_64_BITS}/requeue", headers=admin), 400, "InvalidParameter"
    )


def test_stats_windows_stay_within_the_calendar(client: TestClient, keys: Keys) -> None:
    admin = keys.auth("admin")
    for query in ("until=0001-01-01", "until=9999-12-31", "since=0001-01-01&until=0001-01-02"):
        refused(client.get(f"/v1/stats?{query}", headers=admin), 400, "InvalidParameter")
    assert client.get("/v1/stats?until=2026-01-31", headers=admin).status_code == 200


def test_deeply_nested_policies_are_invalid(client: TestClient, keys: Keys) -> None:
    admin = keys.auth("admin")
    deep_yaml = "name: deep\ncategories: " + "[" * 5000 + "]" * 5000 + "\n"
    yaml_answer = client.post(
        "/v1/policies", headers={**admin, "Content-Type": "application/yaml"}, content=deep_yaml
    )
    refused(yaml_answer, 400, "InvalidPolicy")
    deep_json = '{"name": "deep", "categories": ' + "[" * 5000 + "]" * 5000 + "}"
    json_answer = client.post(
        "/v1/policies", headers={**admin, "Content-Type": "application/json"}, content=deep_json
    )
    refused(json_answer, 400, "InvalidPolicy")
    simulated = client.post(
        "/v1/policies/default/simulate",
        headers={**admin, "Content-Type": "application/json"},
        content=deep_json,
    )
    refused(simulated, 400, "InvalidPolicy")


def test_content_of_a_failed_asset_is_not_deliverable(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    uploaded = client.post(
        "/v1/assets?async=true",
        headers=keys.auth("uploader"),
        files={"file": ("a.jpg", astronaut_jpeg())},
    )
    assert uploaded.status_code == 202, uploaded.text
    asset_id = uploaded.json()["id"]
    with vigil.db.session() as session:
        row = session.get(AssetRow, asset_id)
        assert row is not None
        session.expunge(row)
    vigil.uploads.processor.fail(row, CorruptImage("damaged after upload"))  # removes the bytes
    for role in ("admin", "reviewer", "uploader"):
        answer = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth(role))
        refused(answer, 403, "AssetNotDeliverable")


def test_console_thumbnails_that_do_not_exist_are_not_found(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    vigil.policies.submit("name: review-me\ncategories:\n  Explicit: {review: 0}\n", "test")
    uploaded = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("a.jpg", astronaut_jpeg())},
        data={"policy": "review-me"},
    )
    assert uploaded.json()["status"] == "review", uploaded.text
    queues = client.get("/v1/review/queues", headers=keys.auth("admin")).json()["queues"]
    queue = next(entry["queue"] for entry in queues if entry["size"])
    items = client.get(f"/v1/review/queues/{queue}/items", headers=keys.auth("admin")).json()
    item_id = items["items"][0]["id"]
    UserService(vigil.db, session_hours=1).create("ada", PASSWORD, "admin")
    _sign_in(client, "ada")
    for index, status in (("0", 404), ("7", 404), (BEYOND_64_BITS, 400), ("-1", 400)):
        page = client.get(f"/review/items/{item_id}/thumbnails/{index}")
        assert page.status_code == status, (index, page.text[:200])


def _sign_in(client: TestClient, username: str) -> None:
    form = client.get("/review/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    fields = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    answer = client.post("/review/login", data=fields, follow_redirects=False)
    assert answer.status_code == 303, answer.text


# -- the last resort ---------------------------------------------------------------------------


def _broken_app() -> FastAPI:
    """A tiny app with vigil's error mapping and one route that fails as no handler expects
    (the one fault here that only a deliberately broken route can cause)."""
    app = FastAPI()
    errors.install(app)
    app.add_middleware(LastResort)

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    def fine() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
def broken_server() -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(_broken_app(), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=30)


def test_an_unexpected_error_is_a_500_body_on_a_connection_that_stays_open(
    broken_server: int,
) -> None:
    with socket.create_connection(("127.0.0.1", broken_server), timeout=30) as sock:
        answers = [_get(sock, path) for path in ("/broken", "/fine", "/broken", "/fine")]
    assert [status for status, _ in answers] == [500, 200, 500, 200]
    assert answers[0][1] == {
        "error": {"code": "InternalError", "message": "vigil hit an unexpected error; see its log"}
    }


def _get(sock: socket.socket, path: str) -> tuple[int, Any]:
    """One request on an open keep-alive connection; fails if the server closed it."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    response = http.client.HTTPResponse(sock)
    response.begin()
    assert not response.will_close, "the server closed the keep-alive connection"
    return response.status, json.loads(response.read())


def test_a_notification_url_to_a_private_address_is_refused_at_upload(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    # Refused before anything is stored: an IP literal or localhost needs no DNS to judge.
    for url in ("http://127.0.0.1:9/hook", "http://[::ffff:10.0.0.1]/h", "https://localhost/h"):
        answer = client.post(
            "/v1/assets",
            headers=keys.auth("uploader"),
            files={"file": ("a.jpg", astronaut_jpeg())},
            data={"notification_url": url},
        )
        refused(answer, 422, "UnsafeWebhookTarget")
    with vigil.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AssetRow)) == 0
