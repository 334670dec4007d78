"""`vigil serve` as a real process, over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.hostile import HOSTILE_CASES
from tests.images import astronaut_jpeg

VIGIL = str(Path(sys.executable).with_name("vigil"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    admin_key: str
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path_factory.mktemp("serve") / "data")}
    process = subprocess.Popen(
        [VIGIL, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    admin_key = process.stdout.readline().strip()  # the first admin key, printed once
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process)
        yield Server(url, admin_key, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "vigil serve exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError("vigil serve did not become ready in 120 s")


def test_upload_over_http_with_the_printed_admin_key(server: Server) -> None:
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


def test_hostile_inputs_get_4xx_and_the_server_stays_up(server: Server) -> None:
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
