"""Hash lists over HTTP, in process: admin only, an uploaded image or a hex hash, removal by
hash, export; the copies then match on /v1/moderate and the Rekognition-compatible API."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from tests.images import encode
from tests.reposts import copy_of
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Role
from vigil.service.hashlists.pdq import hash_only


@pytest.fixture
def http(lists_vigil: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(lists_vigil, run_worker=False)) as client:
        yield client


def bearer(vigil: Vigil, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(vigil.db, role)}"}


def test_admins_build_a_list_and_copies_are_blocked(lists_vigil: Vigil, http: TestClient) -> None:
    admin = bearer(lists_vigil, Role.ADMIN)
    made = http.post("/v1/lists", json={"name": "hate", "label": "Hate Symbols"}, headers=admin)
    assert made.status_code == 201 and made.json()["distance"] == 31
    photo = encode(data.astronaut())
    added = http.post("/v1/lists/hate/items", files={"file": ("a.jpg", photo)}, headers=admin)
    assert added.status_code == 201 and added.json()["added"] == 1
    other = hash_only(Image.fromarray(data.coffee())).hex
    by_hash = http.post("/v1/lists/hate/items", json={"pdq": other, "note": "x"}, headers=admin)
    assert by_hash.status_code == 201 and by_hash.json()["added"] == 1
    shown = http.get("/v1/lists/hate", headers=admin).json()
    assert shown["items"] == 2 and [i["note"] for i in shown["item_page"]] == ["a.jpg", "x"]

    uploader = bearer(lists_vigil, Role.UPLOADER)
    moderated = http.post(
        "/v1/moderate", files={"file": ("b.jpg", copy_of(data.astronaut()))}, headers=uploader
    ).json()
    assert moderated["decision"]["rule"] == "hashlist.hate.block"
    found = [d for d in moderated["Detections"] if d["Detector"] == "hashlist"]
    assert found[0]["HashList"]["List"] == "hate" and found[0]["Name"] == "Hate Symbols"

    exported = http.get("/v1/lists/hate/export", headers=admin)
    assert exported.text.split()[1] == other
    removed = http.delete(f"/v1/lists/hate/items/{other}", headers=admin)
    assert removed.status_code == 200
    assert http.get("/v1/lists/hate", headers=admin).json()["items"] == 1
    assert http.delete("/v1/lists/hate", headers=admin).json()["items_removed"] == 1


def test_the_rekognition_surface_reports_the_list_label(lists_vigil: Vigil) -> None:
    admin = authenticate(lists_vigil.db, bearer(lists_vigil, Role.ADMIN)["Authorization"])
    lists_vigil.hashlists.create(admin, "known", "block")
    lists_vigil.hashlists.add_hashes(
        admin, "known", [hash_only(Image.fromarray(data.chelsea())).hex]
    )
    body = {"Image": {"Bytes": base64.b64encode(copy_of(data.chelsea())).decode()}}
    answer = lists_vigil.rekognition.detect_moderation_labels(admin, body)
    assert "Known Content" in {label["Name"] for label in answer["ModerationLabels"]}


def test_lists_are_admin_only_and_refusals_are_coded(lists_vigil: Vigil, http: TestClient) -> None:
    admin, reviewer = bearer(lists_vigil, Role.ADMIN), bearer(lists_vigil, Role.REVIEWER)
    assert http.get("/v1/lists", headers=reviewer).json()["error"]["code"] == "Forbidden"
    assert http.get("/v1/lists").status_code == 401
    http.post("/v1/lists", json={"name": "one"}, headers=admin)
    cases = [
        (http.post("/v1/lists", json={"name": "one"}, headers=admin), 409, "HashListExists"),
        (http.get("/v1/lists/nope", headers=admin), 404, "HashListNotFound"),
        (
            http.post("/v1/lists/one/items", json={"pdq": "12"}, headers=admin),
            400,
            "InvalidHash",
        ),
        (
            http.post("/v1/lists/one/items", content=b"junk", headers=admin),
            400,
            "InvalidParameter",
        ),
        (http.delete(f"/v1/lists/one/items/{'a' * 64}", headers=admin), 404, "HashNotInList"),
        (http.delete("/v1/lists/rejected", headers=admin), 409, "HashListProtected"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
