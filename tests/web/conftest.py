"""People for the console tests, and a signed-in test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import Keys
from tests.live_app import live_app
from tests.review_helpers import add_policies
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS
from vigil.app import Vigil
from vigil.service.review.users import UserService

PASSWORD = "correct horse battery"
PEOPLE = {"alice": "reviewer", "lena": "lead", "ada": "admin"}


@pytest.fixture
def people(vigil: Vigil) -> dict[str, str]:
    users = UserService(vigil.db, session_hours=1)
    for username, role in PEOPLE.items():
        users.create(username, PASSWORD, role)
    add_policies(vigil)
    return PEOPLE


def sign_in(client: TestClient, username: str) -> str:
    """Sign ``client`` in as ``username``; the session's CSRF token."""
    form = client.get("/review/login").text
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert login_token is not None
    response = client.post(
        "/review/login",
        data={"username": username, "password": PASSWORD, "csrf_token": login_token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/review").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium for the session (Debian's package, not a downloaded one)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(vigil: Vigil, people: dict[str, str]) -> Iterator[str]:
    with live_app(vigil) as url:
        yield url


@pytest.fixture
def api(live: str, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live, timeout=60) as client:
        yield client


@pytest.fixture
def signed_in(browser: Browser, live: str) -> Iterator[Callable[[str], Page]]:
    """Opens a fresh browser context signed in as a username, on the queues page; closes
    them all after the test."""
    contexts: list[BrowserContext] = []

    def open_as(username: str) -> Page:
        context = browser.new_context(base_url=live, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto("/review")  # redirected to the sign-in form
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url("**/review")
        return page

    yield open_as
    for context in contexts:
        context.close()
