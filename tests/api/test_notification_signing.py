"""An upload's notification_url deliveries are signed with the uploading key's own secret,
over the URL too (v2): a real receiver verifies them with that key's secret, not another
key's, and not at another URL. The old shared-secret signing comes back with a setting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cli_runner import run
from tests.conftest import running_vigil
from tests.images import coffee_jpeg
from tests.queue_helpers import drain
from tests.webhook_receiver import Received, Receiver
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.notify.signing import verify
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine


@dataclass(frozen=True)
class Holder:
    """A key as its holder uses it: its id, and the header that authenticates with it."""

    key_id: str
    headers: dict[str, str]


def holder(vigil: Vigil, role: Role) -> Holder:
    token = create_key(vigil.db, role)
    header = f"Bearer {token}"
    return Holder(authenticate(vigil.db, header).key_id, {"Authorization": header})


def notified(vigil: Vigil, api: TestClient, uploader: Holder, url: str) -> dict[str, Any]:
    """Upload an image naming ``url``, and run the worker until its delivery was sent."""
    response = api.post(
        "/v1/assets",
        headers=uploader.headers,
        files={"file": ("coffee.jpg", coffee_jpeg())},
        data={"policy": "default", "notification_url": url},
    )
    assert response.status_code == 201, response.text
    drain(vigil)
    body: dict[str, Any] = response.json()
    return body


def signing_secret(api: TestClient, reader: Holder, key_id: str) -> str:
    answer = api.get(f"/v1/keys/{key_id}/signing-secret", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["key_id"] == key_id
    secret: str = answer.json()["secret"]
    return secret


def signed(request: Received) -> str:
    return request.headers["Vigil-Signature"]


@pytest.fixture
def stack(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    with running_vigil(tmp_path, engine, policy_dir, webhook_allow_private=True) as running:
        yield running


def test_a_delivery_verifies_with_the_uploading_keys_secret_only(stack: Vigil) -> None:
    first, second = holder(stack, Role.UPLOADER), holder(stack, Role.UPLOADER)
    admin = holder(stack, Role.ADMIN)
    with Receiver() as receiver, TestClient(create_app(stack, run_worker=False)) as api:
        asset = notified(stack, api, first, receiver.url)
        own = signing_secret(api, first, first.key_id)
        other = signing_secret(api, second, second.key_id)
        assert signing_secret(api, admin, first.key_id) == own
        refused = api.get(f"/v1/keys/{first.key_id}/signing-secret", headers=second.headers)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "Forbidden"
    (request,) = receiver.requests
    assert json.loads(request.body)["data"]["asset"]["id"] == asset["id"]
    assert signed(request).split(",")[1].startswith("v2=")
    assert verify(own, signed(request), request.body, url=receiver.url)
    assert not verify(other, signed(request), request.body, url=receiver.url)
    # The URL is under the signature: the same request does not verify for another URL.
    assert not verify(own, signed(request), request.body, url=receiver.url + "/elsewhere")
    assert not verify(own, signed(request), request.body)  # nor as a v1 signature


def test_keys_have_different_secrets_and_the_cli_reads_them(stack: Vigil, tmp_path: Path) -> None:
    first, second = holder(stack, Role.UPLOADER), holder(stack, Role.UPLOADER)
    admin = holder(stack, Role.ADMIN)
    with TestClient(create_app(stack, run_worker=False)) as api:
        secrets = [signing_secret(api, admin, key.key_id) for key in (first, second, admin)]
        missing = api.get("/v1/keys/nope/signing-secret", headers=admin.headers)
    assert len(set(secrets)) == 3 and all(secret.startswith("whsec_") for secret in secrets)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "KeyNotFound"
    printed = run("keys", "signing-secret", first.key_id, cwd=tmp_path)  # the same database
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[-1] == secrets[0]


def test_the_shared_secret_setting_signs_as_before(
    tmp_path: Path, engine: ModerationEngine, policy_dir: Path
) -> None:
    with running_vigil(
        tmp_path,
        engine,
        policy_dir,
        webhook_allow_private=True,
        webhook_shared_notification_secret=True,
    ) as running:
        uploader, admin = holder(running, Role.UPLOADER), holder(running, Role.ADMIN)
        with Receiver() as receiver, TestClient(create_app(running, run_worker=False)) as api:
            notified(running, api, uploader, receiver.url)
            shared = api.get("/v1/webhooks/secret", headers=admin.headers).json()["secret"]
    (request,) = receiver.requests
    assert verify(shared, signed(request), request.body)
