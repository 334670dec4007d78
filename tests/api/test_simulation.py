"""Simulation and suggestions over HTTP, on real uploads."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import astronaut_jpeg, coffee_jpeg

REVIEW_EVERYTHING = "name: block-all\ncategories:\n  Explicit: {review: 0}\n"


def upload(client: TestClient, keys: Keys, data: bytes) -> dict[str, Any]:
    response = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("x.jpg", data)},
        data={"policy": "block-all"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def uploaded(client: TestClient, keys: Keys) -> None:
    """Two blocked uploads; people approved the astronaut."""
    astronaut = upload(client, keys, astronaut_jpeg())
    upload(client, keys, coffee_jpeg())
    overridden = client.post(
        f"/v1/assets/{astronaut['id']}/moderation",
        headers=keys.auth("reviewer"),
        json={"status": "approved", "reason": "an astronaut"},
    )
    assert overridden.status_code == 200


@pytest.mark.parametrize(
    ("role", "body"),
    [
        ("reviewer", {"content": REVIEW_EVERYTHING, "headers": {"Content-Type": "text/yaml"}}),
        ("admin", {"json": {"name": "block-all", "categories": {"Explicit": {"review": 0}}}}),
    ],
)
@pytest.mark.usefixtures("uploaded")
def test_simulate_compares_a_candidate_with_the_active_version(
    client: TestClient, keys: Keys, role: str, body: dict[str, Any]
) -> None:
    headers = {**keys.auth(role), **body.pop("headers", {})}
    response = client.post(
        "/v1/policies/block-all/simulate", headers=headers, params={"since": "1h"}, **body
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["active"] == {"name": "block-all", "version": "1"}
    assert report["total"] == 2
    assert report["changed"]["by_transition"] == [{"from": "block", "to": "review", "count": 2}]
    assert report["people"]["active"]["false_positives"] == 1
    assert report["people"]["candidate"]["sent_to_review"] == 1
    # Nothing was stored: the active version is still the only one.
    versions = client.get("/v1/policies/block-all/versions", headers=keys.auth("admin")).json()
    assert len(versions["versions"]) == 1


@pytest.mark.usefixtures("uploaded")
def test_since_limits_the_assets_replayed(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/v1/policies/block-all/simulate",
        headers=keys.auth("reviewer"),
        params={"since": "2999-01-01"},
        content=REVIEW_EVERYTHING,
    )
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("role", "path", "params", "body", "status", "code"),
    [
        ("uploader", "block-all", {}, REVIEW_EVERYTHING, 403, "Forbidden"),
        ("reviewer", "nope", {}, REVIEW_EVERYTHING, 404, "PolicyNotFound"),
        ("reviewer", "block-all", {}, "name: x\ncategories: {Violence: {block: 101}}\n", 400,
         "InvalidPolicy"),
        ("reviewer", "block-all", {"since": "last week"}, REVIEW_EVERYTHING, 400,
         "InvalidParameter"),
    ],
)  # fmt: skip
def test_simulate_refusals(
    client: TestClient,
    keys: Keys,
    role: str,
    path: str,
    params: dict[str, str],
    body: str,
    status: int,
    code: str,
) -> None:
    response = client.post(
        f"/v1/policies/{path}/simulate", headers=keys.auth(role), params=params, content=body
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.usefixtures("uploaded")
def test_suggest_is_not_taken_for_a_policy_name(client: TestClient, keys: Keys) -> None:
    response = client.get(
        "/v1/policies/suggest",
        headers=keys.auth("reviewer"),
        params={"target_precision": 0.9, "since": "30d"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["target_precision"] == 0.9
    explicit = next(s for s in body["suggestions"] if s["category"] == "Explicit")
    assert explicit["decided"] == 1
    assert explicit["notes"] == ["not enough decisions (1 < 20)"]


@pytest.mark.parametrize(
    ("role", "params", "status", "code"),
    [
        ("uploader", {}, 403, "Forbidden"),
        ("admin", {"target_precision": 1.5}, 400, "InvalidParameter"),
        ("admin", {"since": "soon"}, 400, "InvalidParameter"),
    ],
)
def test_suggest_refusals(
    client: TestClient, keys: Keys, role: str, params: dict[str, Any], status: int, code: str
) -> None:
    response = client.get("/v1/policies/suggest", headers=keys.auth(role), params=params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
