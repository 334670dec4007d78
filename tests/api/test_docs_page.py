"""/docs is served whole by vigil (issue 16): every script, stylesheet and icon it names is
same-origin and answers, so the page works without internet."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

# What each kind of file the page names must be served as, for the browser to use it.
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def page_urls(html: str) -> list[str]:
    """The src of every <script> and the href of every <link> on the page."""
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    links = re.findall(r'<link[^>]*\shref="([^"]+)"', html)
    return [*scripts, *links]


def test_docs_names_only_same_origin_files_that_answer(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = page_urls(page.text)
    assert len(urls) == 3  # Swagger UI's script, its stylesheet and the icon
    for url in urls:
        # A path on this host: neither a scheme nor a protocol-relative "//host/...".
        assert url.startswith("/") and not url.startswith("//"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        kind = next(kind for suffix, kind in CONTENT_TYPES.items() if url.endswith(suffix))
        assert kind in answer.headers["content-type"], (url, answer.headers["content-type"])


def test_the_openapi_document_is_there_and_redoc_is_off(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404
    assert "/docs" not in client.get("/openapi.json").json()["paths"]
