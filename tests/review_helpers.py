"""Uploads that land in each review queue, through the real detectors and policies."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import astronaut_jpeg
from vigil.app import Vigil
from vigil.service.access.principal import Principal, Role

# Policies that force each route into the queues (open_nsfw always scores "Explicit").
REVIEW_POLICIES = {
    "allow-all": "name: allow-all\ncategories:\n  Explicit: ignore\n",
    "qa-allow": "name: qa-allow\ncategories:\n  Explicit: ignore\nqa_sample: {percent: 100}\n",
    "qa-block": "name: qa-block\ncategories:\n  Explicit: {block: 0}\nqa_sample: {percent: 100}\n",
}


def add_policies(vigil: Vigil) -> None:
    for text in REVIEW_POLICIES.values():
        vigil.policies.submit(text, "test")


def upload(client: TestClient, keys: Keys, policy: str, data: bytes | None = None) -> str:
    """An upload by the uploader key under ``policy``; its asset id."""
    response = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("photo.jpg", data or astronaut_jpeg())},
        data={"policy": policy},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def status_of(vigil: Vigil, asset_id: str) -> str:
    admin = Principal(key_id="test", role=Role.ADMIN)
    return str(vigil.assets.get(asset_id, admin)["status"])
