"""Every hostile input gets its 4xx code, nothing is written, and the server keeps serving."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.hostile import HOSTILE_CASES
from tests.images import coffee_jpeg
from vigil.app import Vigil
from vigil.settings import Settings
from vigil.storage.blobs import Area

# Cases over the default byte limit are refused before intake; the last test covers that path.
SMALL_CASES = [case for case in HOSTILE_CASES if len(case[1]) <= Settings().max_upload_bytes]


@pytest.mark.parametrize(("case", "data", "code"), SMALL_CASES, ids=[c[0] for c in SMALL_CASES])
def test_hostile_upload_is_refused_and_leaves_nothing(
    client: TestClient, keys: Keys, vigil: Vigil, case: str, data: bytes, code: str
) -> None:
    response = client.post(
        "/v1/assets", headers=keys.auth("uploader"), files={"file": (f"{case}.jpg", data)}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert client.get("/v1/assets", headers=keys.auth("admin")).json()["assets"] == []
    for area in Area:
        assert list(vigil.blobs.keys_older_than(area, -1e9)) == []
    assert client.get("/healthz").status_code == 200


def test_upload_over_the_byte_limit(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    vigil.settings.max_upload_bytes = 1000
    response = client.post(
        "/v1/moderate", headers=keys.auth("uploader"), files={"file": ("a.jpg", coffee_jpeg())}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "ImageTooLarge"
