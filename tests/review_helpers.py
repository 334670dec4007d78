"""Uploads that land in each review queue, through the real detectors and policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


def asset_row(asset_id: str, owner: str, created: datetime, machine_action: str) -> dict[str, Any]:
    """An approved image asset's row, for inserting many at once (the review-at-scale tests)."""
    return {
        "id": asset_id,
        "owner_key_id": owner,
        "format": "jpeg",
        "mime": "image/jpeg",
        "size_bytes": 1,
        "width": 1,
        "height": 1,
        "sha256": asset_id,
        "status": "approved",
        "moderation_mode": "",
        "storage_area": "originals",
        "machine_action": machine_action,
        "created_at": created,
        "updated_at": created,
    }
