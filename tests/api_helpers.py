"""Requests to the HTTP API that many test modules make."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Keys


def upload(
    client: TestClient, keys: Keys, data: bytes, role: str = "uploader", **form: str
) -> Response:
    """``data`` uploaded to ``/v1/assets`` with ``role``'s key and ``form`` fields."""
    return client.post(
        "/v1/assets", headers=keys.auth(role), files={"file": ("photo.jpg", data)}, data=form
    )


def error_code(response: Response) -> str:
    """The stable error code of an error answer."""
    code: str = response.json()["error"]["code"]
    return code
