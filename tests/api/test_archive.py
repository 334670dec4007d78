"""The archive over HTTP: run a pass, read an archived asset's metadata, restore it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.api_helpers import upload
from tests.archived_assets import days_ago, row, set_row
from tests.conftest import Keys, grant_skip_moderation
from tests.images import coffee_jpeg
from vigil.app import Vigil


def error_code(response: Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def archived_video(client: TestClient, keys: Keys, vigil: Vigil, **form: str) -> str:
    """An uploader's video (an image whose row says video) decided 40 days ago, archived by
    an admin's ``POST /v1/archive/run``."""
    grant_skip_moderation(vigil, keys.uploader)  # moderation=none needs it (docs/keys.md)
    asset = upload(client, keys, coffee_jpeg(), moderation="none", **form).json()
    set_row(vigil, asset["id"], media_type="video", decided_at=days_ago(40))
    ran = client.post("/v1/archive/run", headers=keys.auth("admin"))
    assert ran.status_code == 200 and ran.json() == {"archived": 1}, ran.text
    return str(asset["id"])


def test_running_the_archive_needs_an_admin(client: TestClient, keys: Keys) -> None:
    for role in ("reviewer", "uploader"):
        refused = client.post("/v1/archive/run", headers=keys.auth(role))
        assert refused.status_code == 403 and error_code(refused) == "Forbidden"
    assert client.post("/v1/archive/run", headers=keys.auth("admin")).json() == {"archived": 0}


def test_an_archived_asset_is_listed_read_and_audited(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset_id = archived_video(client, keys, vigil)
    mine = keys.auth("uploader")
    asset = client.get(f"/v1/assets/{asset_id}", headers=mine).json()
    assert asset["status"] == "approved" and asset["archived_at"] is not None
    listed = client.get("/v1/assets", headers=mine).json()["assets"]
    assert [item["id"] for item in listed] == [asset_id]
    events = client.get(f"/v1/assets/{asset_id}/audit", headers=mine).json()["events"]
    assert events[-1]["action"] == "archived" and events[-1]["actor"] == "system"


def test_content_answers_409_until_restored(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    asset_id = archived_video(client, keys, vigil)
    for role in ("uploader", "reviewer"):
        refused = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth(role))
        assert refused.status_code == 409 and error_code(refused) == "AssetArchived"
        assert f"POST /v1/assets/{asset_id}/restore" in refused.json()["error"]["message"]
    restored = client.post(f"/v1/assets/{asset_id}/restore", headers=keys.auth("reviewer"))
    assert restored.status_code == 200, restored.text
    assert restored.json()["archived_at"] is None
    content = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth("uploader"))
    assert content.status_code == 200 and content.content == coffee_jpeg()


def test_an_override_answers_409_while_archived(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset_id = archived_video(client, keys, vigil)
    override = {"status": "rejected", "reason": "second look"}
    path = f"/v1/assets/{asset_id}/moderation"
    refused = client.post(path, headers=keys.auth("reviewer"), json=override)
    assert refused.status_code == 409 and error_code(refused) == "AssetArchived"
    client.post(f"/v1/assets/{asset_id}/restore", headers=keys.auth("admin"))
    decided = client.post(path, headers=keys.auth("reviewer"), json=override)
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    assert row(vigil, asset_id).storage_area == "quarantine"


def test_restore_refusals(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    asset_id = archived_video(client, keys, vigil)
    path = f"/v1/assets/{asset_id}/restore"
    forbidden = client.post(path, headers=keys.auth("uploader"))
    assert forbidden.status_code == 403 and error_code(forbidden) == "Forbidden"
    assert client.post(path, headers=keys.auth("admin")).status_code == 200
    again = client.post(path, headers=keys.auth("admin"))
    assert again.status_code == 409 and error_code(again) == "InvalidTransition"
    missing = client.post("/v1/assets/nope/restore", headers=keys.auth("admin"))
    assert missing.status_code == 404 and error_code(missing) == "AssetNotFound"
