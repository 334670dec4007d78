"""`vigil serve` as a real process, over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.hostile import HOSTILE_CASES
from tests.images import astronaut_jpeg
from tests.servers import VigilServer, start_vigil_serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VigilServer]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path_factory.mktemp("serve") / "data")}
    running = start_vigil_serve(env)
    yield running
    running.stop()


def test_upload_over_http_with_the_printed_admin_key(server: VigilServer) -> None:
    assert server.admin_key.startswith("vgl_")
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    response = httpx.post(
        f"{server.url}/v1/assets",
        headers=headers,
        files={"file": ("astronaut.jpg", astronaut_jpeg())},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["status"] == "approved" and asset["decision"]["policy"] == "default"
    fetched = httpx.get(f"{server.url}/v1/assets/{asset['id']}", headers=headers).json()
    assert fetched["id"] == asset["id"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_hostile_inputs_get_4xx_and_the_server_stays_up(server: VigilServer) -> None:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    for case, data, code in HOSTILE_CASES:
        response = httpx.post(
            f"{server.url}/v1/moderate",
            headers=headers,
            files={"file": (f"{case}.jpg", data)},
            timeout=60,
        )
        assert 400 <= response.status_code < 500, (case, response.text)
        assert response.json()["error"]["code"] == code, case
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert server.process.poll() is None
