"""Inputs benchmarks/fuzz.py found answering 5xx, kept so that they stay 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.hostile import nested_json
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role


@pytest.fixture
def http(lists_vigil: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(lists_vigil, run_worker=False)) as client:
        yield client


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_to_list_items_is_refused(
    lists_vigil: Vigil, http: TestClient, depth: int
) -> None:
    # fuzz seed 16, requests #4844 and #3292: json.loads raised RecursionError, a 500.
    admin = {"Authorization": f"Bearer {create_key(lists_vigil.db, Role.ADMIN)}"}
    made = http.post("/v1/lists", json={"name": "deep", "label": "Hate Symbols"}, headers=admin)
    assert made.status_code == 201
    answer = http.post(
        "/v1/lists/deep/items",
        content=nested_json(depth),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidParameter"
