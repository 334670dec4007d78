"""Upload presets: stored options, chosen per upload, overridden by what the upload says."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import coffee_jpeg


def put(client: TestClient, keys: Keys, name: str, role: str = "admin", **body: object) -> object:
    return client.put(f"/v1/upload-presets/{name}", headers=keys.auth(role), json=body)


def upload(client: TestClient, keys: Keys, **form: str) -> dict[str, object]:
    body: dict[str, object] = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("c.jpg", coffee_jpeg())},
        data=form,
    ).json()
    return body


def test_a_preset_supplies_defaults_and_the_upload_overrides_them(
    client: TestClient, keys: Keys
) -> None:
    stored = client.put(
        "/v1/upload-presets/kids-chat",
        headers=keys.auth("admin"),
        json={
            "moderation": "auto|manual",
            "policy": "block-all",
            "notification_url": "https://example.test/hook",
            "tags": ["kids", "chat", "kids"],
        },
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["options"]["tags"] == ["kids", "chat"]

    asset = upload(client, keys, upload_preset="kids-chat")
    assert asset["status"] == "rejected"  # block-all rejects; the manual step is aborted
    assert [step["kind"] for step in asset["moderation"]] == ["auto", "manual"]  # type: ignore[index]
    assert asset["moderation"][1]["status"] == "aborted"  # type: ignore[index]
    assert asset["upload_preset"] == "kids-chat"
    assert asset["tags"] == ["kids", "chat"]
    assert asset["notification_url"] == "https://example.test/hook"

    child = client.put(
        "/v1/upload-presets/kids",
        headers=keys.auth("admin"),
        json={"policy": "default", "context": {"audience": "under_13"}},
    )
    assert child.status_code == 200
    decided = upload(client, keys, upload_preset="kids")["decision"]
    assert decided["context"]["audience"] == "under_13"  # type: ignore[index]
    teen = upload(client, keys, upload_preset="kids", audience="13_17")["decision"]
    assert teen["context"]["audience"] == "13_17"  # type: ignore[index]

    overridden = upload(
        client, keys, upload_preset="kids-chat", policy="default", moderation="auto", tags="x"
    )
    assert overridden["status"] == "approved"
    assert overridden["tags"] == ["x"]
    assert overridden["decision"]["policy"] == "default"  # type: ignore[index]


def test_preset_crud_and_refusals(client: TestClient, keys: Keys) -> None:
    assert put(client, keys, "p", moderation="aws_rek:explicit_nudity:0.5").status_code == 200  # type: ignore[attr-defined]
    listed = client.get("/v1/upload-presets", headers=keys.auth("uploader")).json()
    assert [preset["name"] for preset in listed["presets"]] == ["p"]
    cases = [
        ({"moderation": "aws_rek:explicit_nuditty:0.5"}, 400, "InvalidParameter"),
        ({"policy": "nope"}, 404, "PolicyNotFound"),
        ({"context": {"planet": "mars"}}, 400, "InvalidParameter"),
        ({"notification_url": "ftp://x"}, 400, "InvalidParameter"),
        ({"colour": "red"}, 400, "InvalidParameter"),
    ]
    for body, status, code in cases:
        response = put(client, keys, "bad", **body)
        assert response.status_code == status, body  # type: ignore[attr-defined]
        assert response.json()["error"]["code"] == code, body  # type: ignore[attr-defined]
    assert put(client, keys, "p", role="uploader").status_code == 403  # type: ignore[attr-defined]
    missing = upload(client, keys, upload_preset="ghost")
    assert missing["error"]["code"] == "PresetNotFound"  # type: ignore[index]
    deleted = client.delete("/v1/upload-presets/p", headers=keys.auth("admin"))
    assert deleted.status_code == 204
    gone = client.get("/v1/upload-presets/p", headers=keys.auth("admin"))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "PresetNotFound"


def test_uploaders_see_presets_without_their_notification_url_or_author(
    client: TestClient, keys: Keys
) -> None:
    client.put(
        "/v1/upload-presets/hooked",
        headers=keys.auth("admin"),
        json={"notification_url": "https://example.test/hook?token=receiver-secret"},
    )
    as_uploader = client.get("/v1/upload-presets/hooked", headers=keys.auth("uploader")).json()
    assert as_uploader["options"]["notification_url"] == "[redacted]"
    assert as_uploader["updated_by"] is None
    listed = client.get("/v1/upload-presets", headers=keys.auth("uploader")).json()["presets"]
    assert "receiver-secret" not in str(listed)
    for role in ("reviewer", "admin"):
        full = client.get("/v1/upload-presets/hooked", headers=keys.auth(role)).json()
        assert full["options"]["notification_url"].endswith("token=receiver-secret")
        assert full["updated_by"]
