"""The native HTTP API in-process, with the real detectors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api_helpers import error_code, upload
from tests.conftest import Keys, grant_skip_moderation
from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg
from vigil.app import Vigil
from vigil.storage.blobs import Area


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert {d["name"] for d in ready["detectors"]} == {
        "nsfw",
        "nudity",
        "graphic",
        "objects",
        "symbols",
        "gesture",
        "text",
    }


def test_requests_without_a_valid_key_are_refused(client: TestClient) -> None:
    assert error_code(client.get("/v1/assets")) == "Unauthorized"
    response = client.get("/v1/assets", headers={"Authorization": "Bearer vgl_nope"})
    assert response.status_code == 401 and error_code(response) == "Unauthorized"


def test_moderate_returns_labels_and_decision_and_stores_nothing(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    response = client.post(
        "/v1/moderate",
        headers=keys.auth("uploader"),
        files={"file": ("astronaut.jpg", astronaut_jpeg())},
        data={"min_confidence": "0"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["file"] == "astronaut.jpg"
    assert set(body) >= {"ModerationLabels", "ModerationModelVersion", "ContentTypes", "decision"}
    detectors = {found["Detector"] for found in body["Detections"]}
    assert {"nsfw", "graphic"} <= detectors  # both always score; min_confidence 0 shows them
    for found in body["Detections"]:
        if found["Detector"] == "nudity":
            assert set(found["BoundingBox"]) == {"Left", "Top", "Width", "Height"}
    explicit = next(lab for lab in body["ModerationLabels"] if lab["Name"] == "Explicit")
    assert explicit["TaxonomyLevel"] == 1 and explicit["ParentName"] == ""
    assert 0 <= explicit["Confidence"] < 20  # a safe photo
    assert body["decision"]["action"] == "allow"
    assert body["decision"]["policy"] == "default"
    assert client.get("/v1/assets", headers=keys.auth("admin")).json()["assets"] == []


def test_safe_upload_is_approved_and_delivered(client: TestClient, keys: Keys) -> None:
    data = chelsea_png()
    asset = upload(client, keys, data).json()
    assert asset["status"] == "approved"
    assert asset["format"] == "png" and asset["mime"] == "image/png"
    assert asset["decision"]["action"] == "allow"
    content = client.get(f"/v1/assets/{asset['id']}/content", headers=keys.auth("uploader"))
    assert content.status_code == 200 and content.content == data
    assert content.headers["content-type"] == "image/png"


def test_rejected_upload_is_quarantined_and_never_served_to_uploaders(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    data = astronaut_jpeg()
    asset = upload(client, keys, data, policy="block-all").json()
    assert asset["status"] == "rejected"
    assert asset["decision"]["rule"] == "Explicit.block"
    assert vigil.blobs.exists(Area.QUARANTINE, asset["id"])
    assert not vigil.blobs.exists(Area.ORIGINALS, asset["id"])
    refused = client.get(f"/v1/assets/{asset['id']}/content", headers=keys.auth("uploader"))
    assert refused.status_code == 403 and error_code(refused) == "AssetNotDeliverable"
    as_reviewer = client.get(f"/v1/assets/{asset['id']}/content", headers=keys.auth("reviewer"))
    assert as_reviewer.content == data


def test_override_restores_and_quarantines_with_an_audit_trail(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset_id = upload(client, keys, astronaut_jpeg(), policy="block-all").json()["id"]
    path = f"/v1/assets/{asset_id}"

    approved = client.post(
        f"{path}/moderation",
        headers=keys.auth("reviewer"),
        json={"status": "approved", "reason": "a false positive"},
    )
    assert approved.json()["status"] == "approved"
    assert vigil.blobs.exists(Area.ORIGINALS, asset_id)
    assert not vigil.blobs.exists(Area.QUARANTINE, asset_id)
    assert client.get(f"{path}/content", headers=keys.auth("uploader")).status_code == 200

    rejected = client.post(
        f"{path}/moderation", headers=keys.auth("admin"), json={"status": "rejected"}
    )
    assert rejected.json()["status"] == "rejected"
    stopped = client.get(f"{path}/content", headers=keys.auth("uploader"))
    assert stopped.status_code == 403  # delivery stops with the override
    assert vigil.blobs.exists(Area.QUARANTINE, asset_id)

    events = client.get(f"{path}/audit", headers=keys.auth("uploader")).json()["events"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("created", None, "processing"),
        ("moderated", "processing", "rejected"),
        ("override", "rejected", "approved"),
        # People's decisions feed the built-in hash lists (docs/hashlists.md).
        ("hashlist_added", "approved", "approved"),
        ("override", "approved", "rejected"),
        ("hashlist_added", "rejected", "rejected"),
    ]
    assert events[2]["reason"] == "a false positive" and events[1]["actor"] == "system"
    assert events[1]["actor"] != events[2]["actor"]


def test_override_rules(client: TestClient, keys: Keys) -> None:
    asset_id = upload(client, keys, coffee_jpeg()).json()["id"]
    path = f"/v1/assets/{asset_id}/moderation"
    forbidden = client.post(path, headers=keys.auth("uploader"), json={"status": "rejected"})
    assert forbidden.status_code == 403 and error_code(forbidden) == "Forbidden"
    same = client.post(path, headers=keys.auth("reviewer"), json={"status": "approved"})
    assert same.status_code == 409 and error_code(same) == "InvalidTransition"
    bad = client.post(path, headers=keys.auth("reviewer"), json={"status": "maybe"})
    assert bad.status_code == 400 and error_code(bad) == "InvalidParameter"


def test_moderation_modes(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    grant_skip_moderation(vigil, keys.uploader)  # moderation=none needs it (docs/keys.md)
    manual = upload(client, keys, coffee_jpeg(), moderation="manual").json()
    assert manual["status"] == "pending" and manual["decision"]["action"] == "allow"
    refused = client.get(f"/v1/assets/{manual['id']}/content", headers=keys.auth("uploader"))
    assert refused.status_code == 403
    unmoderated = upload(client, keys, coffee_jpeg(), moderation="none").json()
    assert unmoderated["status"] == "approved"
    assert unmoderated["labels"] == [] and unmoderated["decision"] is None
    review = upload(client, keys, coffee_jpeg(), policy="review-all").json()
    assert review["status"] == "review"
    bad_mode = upload(client, keys, coffee_jpeg(), moderation="sometimes")
    assert bad_mode.status_code == 400 and error_code(bad_mode) == "InvalidParameter"
    bad_policy = upload(client, keys, coffee_jpeg(), policy="nope")
    assert bad_policy.status_code == 404 and error_code(bad_policy) == "PolicyNotFound"


def test_uploaders_see_only_their_own_assets(client: TestClient, keys: Keys) -> None:
    mine = upload(client, keys, coffee_jpeg()).json()["id"]
    theirs = upload(client, keys, coffee_jpeg(), role="other_uploader").json()["id"]
    missing = client.get(f"/v1/assets/{theirs}", headers=keys.auth("uploader"))
    assert missing.status_code == 404 and error_code(missing) == "AssetNotFound"
    content = client.get(f"/v1/assets/{theirs}/content", headers=keys.auth("uploader"))
    assert content.status_code == 404
    listed = client.get("/v1/assets", headers=keys.auth("uploader")).json()["assets"]
    assert [asset["id"] for asset in listed] == [mine]
    everyone = client.get("/v1/assets", headers=keys.auth("reviewer")).json()["assets"]
    assert {asset["id"] for asset in everyone} == {mine, theirs}


def test_listing_is_newest_first_filtered_and_paginated(client: TestClient, keys: Keys) -> None:
    ids = [upload(client, keys, coffee_jpeg()).json()["id"] for _ in range(3)]
    rejected = upload(client, keys, coffee_jpeg(), policy="block-all").json()["id"]
    headers = keys.auth("uploader")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", "status": "approved", **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/assets", headers=headers, params=params).json()
        seen += [asset["id"] for asset in page["assets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    only_rejected = client.get("/v1/assets", headers=headers, params={"status": "rejected"})
    assert [asset["id"] for asset in only_rejected.json()["assets"]] == [rejected]
    bad = client.get("/v1/assets", headers=headers, params={"status": "lost"})
    assert error_code(bad) == "InvalidParameter"
    bad_cursor = client.get("/v1/assets", headers=headers, params={"cursor": "!!"})
    assert error_code(bad_cursor) == "InvalidParameter"
