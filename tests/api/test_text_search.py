"""Text read by OCR is stored with the asset and searchable; OCR runs only where the policy
acts on Offensive Text."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from tests.conftest import role_headers
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.service.access.principal import Role

Api = tuple[TestClient, dict[str, str]]


def sign(words: str) -> bytes:
    image = Image.new("RGB", (720, 200), "white")
    ImageDraw.Draw(image).text((30, 70), words, fill="black", font=ImageFont.load_default(size=52))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def api(vigil: Vigil) -> Iterator[Api]:
    headers = role_headers(vigil, Role.ADMIN)["admin"]
    with TestClient(create_app(vigil, run_worker=False)) as client:
        yield client, headers


def upload(api: Api, data: bytes, policy: str) -> dict[str, Any]:
    client, headers = api
    response = client.post(
        "/v1/assets", headers=headers, files={"file": ("sign.png", data)}, data={"policy": policy}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def search(api: Api, text: str) -> list[str]:
    client, headers = api
    response = client.get("/v1/assets", headers=headers, params={"text": text})
    assert response.status_code == 200, response.text
    return [asset["id"] for asset in response.json()["assets"]]


def test_text_read_is_stored_shown_and_searchable(api: Api) -> None:
    drugs = upload(api, sign("BUY WEED NOW"), "strict")
    garden = upload(api, sign("Hello garden club"), "strict")
    lines = [line["DetectedText"] for line in drugs["text_detections"]]
    assert any("WEED" in line for line in lines)
    assert drugs["text_detections"][0]["Type"] == "LINE"
    assert "text@" in drugs["model_version"]
    assert any(label["Name"] == "Drug Sales" for label in drugs["labels"])
    assert search(api, "weed") == [drugs["id"]]  # case-insensitive
    assert search(api, "garden HELLO") == [garden["id"]]  # every word, any order
    assert search(api, "weed garden") == []
    assert search(api, "100%_") == []  # LIKE wildcards are matched literally


def test_ocr_does_not_run_when_the_policy_has_no_text_band(api: Api) -> None:
    # review-all acts on Explicit only (the default policy now reads text: Extremist Text).
    asset = upload(api, sign("BUY WEED NOW"), "review-all")
    assert asset["text_detections"] == []
    assert "text@" not in asset["model_version"]
    assert asset["id"] not in search(api, "weed")


def test_an_empty_search_is_refused_clearly(api: Api) -> None:
    client, headers = api
    response = client.get("/v1/assets", headers=headers, params={"text": "   "})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidParameter"
