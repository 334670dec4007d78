"""Shadow mode: a candidate version decides beside the active one and is never acted on."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import chelsea_png, coffee_jpeg

LENIENT = "name: house\ncategories:\n  Explicit: {block: 99}\n"
STRICT = "name: house\ncontext:\n  region: {default: US}\ncategories:\n  Explicit: {block: 0}\n"


def submit(client: TestClient, keys: Keys, text: str, activate: str) -> int:
    response = client.post(
        "/v1/policies",
        headers={**keys.auth("admin"), "Content-Type": "application/yaml"},
        content=text,
        params={"activate": activate},
    )
    version: int = response.json()["version"]
    return version


def upload(client: TestClient, keys: Keys, data: bytes) -> dict[str, object]:
    body: dict[str, object] = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("x.jpg", data)},
        data={"policy": "house"},
    ).json()
    return body


def test_shadow_decisions_are_recorded_reported_and_never_acted_on(
    client: TestClient, keys: Keys
) -> None:
    submit(client, keys, LENIENT, "true")
    candidate = submit(client, keys, STRICT, "false")
    started = client.put(
        "/v1/policies/house/shadow", headers=keys.auth("admin"), json={"version": candidate}
    )
    assert started.json()["shadow_version"] == candidate

    first = upload(client, keys, coffee_jpeg())
    second = upload(client, keys, chelsea_png())
    assert first["status"] == second["status"] == "approved"  # the active version decides

    report = client.get("/v1/policies/house/shadow/report", headers=keys.auth("reviewer")).json()
    (version,) = report["versions"]
    assert version["shadow_version"] == str(candidate)
    assert (version["evaluated"], version["differ"]) == (2, 2)
    assert version["changes"] == {"allow->block": 2}
    assert {example["asset_id"] for example in version["examples"]} == {first["id"], second["id"]}

    stopped = client.put("/v1/policies/house/shadow", headers=keys.auth("admin"), json={})
    assert stopped.json()["shadow_version"] is None
    upload(client, keys, coffee_jpeg())
    again = client.get("/v1/policies/house/shadow/report", headers=keys.auth("admin")).json()
    assert again["versions"][0]["evaluated"] == 2


def test_shadow_rules(client: TestClient, keys: Keys) -> None:
    active = submit(client, keys, LENIENT, "true")
    same = client.put(
        "/v1/policies/house/shadow", headers=keys.auth("admin"), json={"version": active}
    )
    assert same.status_code == 409 and same.json()["error"]["code"] == "InvalidTransition"
    missing = client.put(
        "/v1/policies/house/shadow", headers=keys.auth("admin"), json={"version": 9}
    )
    assert missing.status_code == 404
    forbidden = client.put(
        "/v1/policies/house/shadow", headers=keys.auth("reviewer"), json={"version": 1}
    )
    assert forbidden.status_code == 403
