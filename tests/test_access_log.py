"""`vigil serve` keeps query strings out of its access log."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.servers import start_vigil_serve


def test_query_strings_are_redacted_in_the_access_log(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data"), "VIGIL_DETECTORS": "nsfw"}
    server = start_vigil_serve(env)
    try:
        httpx.get(f"{server.url}/healthz?token=s3cret-value", timeout=10)
        httpx.get(f"{server.url}/healthz", timeout=10)
    finally:
        server.stop()
    log = server.output()
    assert "s3cret-value" not in log
    assert '"GET /healthz?[redacted] HTTP/1.1" 200' in log
    assert '"GET /healthz HTTP/1.1" 200' in log
