"""/docs in real Chromium with every request beyond this machine refused (issue 16): the
page must render the API's operations from vigil's own files alone."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.web.browser import screenshot_path

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def offline(browser: Browser, live: str) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A browser context that can reach only loopback, and the URLs it refused."""
    refused: list[str] = []
    context = browser.new_context(base_url=live, viewport={"width": 1280, "height": 900})

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    yield context, refused
    context.close()


def test_docs_render_without_internet(offline: tuple[BrowserContext, list[str]]) -> None:
    context, refused = offline
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/assets").first).to_be_visible()
    assert operations.count() > 20
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    page.screenshot(path=screenshot_path("api-docs"))
    assert refused == []
