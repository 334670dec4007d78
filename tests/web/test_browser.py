"""The console in real Chromium: sign in, claim, decide with the keyboard, appeals, claim
expiry, roles, and that quarantined media never reaches an uploader. Screenshots of the main
pages go to tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import Keys
from tests.images import astronaut_jpeg
from tests.web.browser import screenshot_path
from vigil.app import Vigil

SignIn = Callable[[str], Page]


def upload(api: httpx.Client, keys: Keys, policy: str) -> str:
    response = api.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("astronaut.jpg", astronaut_jpeg())},
        data={"policy": policy},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def open_item(page: Page, asset_id: str) -> None:
    """Wait until the item page shows ``asset_id`` and its shortcuts are listening."""
    page.wait_for_selector("body[data-keys=ready]")
    expect(page.locator("#asset-id")).to_have_text(asset_id)


def status(api: httpx.Client, keys: Keys, asset_id: str) -> str:
    return str(api.get(f"/v1/assets/{asset_id}", headers=keys.auth("admin")).json()["status"])


def test_claim_and_decide_with_the_keyboard(
    signed_in: SignIn, api: httpx.Client, keys: Keys
) -> None:
    first, second = upload(api, keys, "review-all"), upload(api, keys, "review-all")
    page = signed_in("alice")
    expect(page.locator('tr[data-queue="first_pass"] .size')).to_have_text("2")
    page.screenshot(path=screenshot_path("queues"), full_page=True)
    page.click('tr[data-queue="first_pass"] button')
    page.wait_for_url(re.compile(r"/review/items/\w+$"))
    open_item(page, first)
    expect(page.locator("#preview")).to_have_attribute("data-state", "blurred")
    expect(page.locator("#rule")).to_have_text("Explicit.review")
    page.screenshot(path=screenshot_path("item-blurred"), full_page=True)
    page.keyboard.press("u")  # unblur: fetched with the CSRF token, and logged
    expect(page.locator("#preview")).to_have_attribute("data-state", "unblurred")
    page.screenshot(path=screenshot_path("item-unblurred"), full_page=True)
    page.keyboard.press("u")
    expect(page.locator("#preview")).to_have_attribute("data-state", "blurred")
    page.keyboard.press("a")  # approve; the next item opens
    expect(page.locator("#done-status")).to_have_text("approved")
    open_item(page, second)
    page.keyboard.press("r")  # no reason picked yet: a hint, nothing sent
    expect(page.locator("#hint")).to_contain_text("Pick a reason")
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("1")
    page.keyboard.press("r")
    expect(page.locator("#done-status")).to_have_text("rejected")
    expect(page.locator("#empty")).to_be_visible()  # back on the queues, nothing left
    assert status(api, keys, first) == "approved"
    assert status(api, keys, second) == "rejected"
    audit = api.get(f"/v1/assets/{first}/audit", headers=keys.auth("admin")).json()["events"]
    assert [event["action"] for event in audit][-2:] == ["unblurred", "override"]
    assert audit[-1]["actor"] == "user:alice"


def test_appeal_flow(signed_in: SignIn, api: httpx.Client, keys: Keys) -> None:
    asset_id = upload(api, keys, "block-all")
    appeal = api.post(
        f"/v1/assets/{asset_id}/appeal",
        headers=keys.auth("uploader"),
        json={"message": "This is a NASA portrait."},
    )
    assert appeal.status_code == 201, appeal.text
    page = signed_in("lena")
    expect(page.locator('tr[data-queue="appeal"] .size')).to_have_text("1")
    page.click('tr[data-queue="appeal"] button')
    open_item(page, asset_id)
    expect(page.locator("#message")).to_contain_text("This is a NASA portrait.")
    page.screenshot(path=screenshot_path("appeal"), full_page=True)
    page.keyboard.press("a")
    expect(page.locator("#done-status")).to_have_text("approved")
    content = api.get(f"/v1/assets/{asset_id}/content", headers=keys.auth("uploader"))
    assert content.status_code == 200 and content.content == astronaut_jpeg()


def test_an_expired_claim_goes_to_someone_else(
    signed_in: SignIn, api: httpx.Client, keys: Keys, vigil: Vigil
) -> None:
    vigil.review.rules = replace(vigil.review.rules, claim_seconds=1.0)
    asset_id = upload(api, keys, "review-all")
    alice = signed_in("alice")
    alice.click('tr[data-queue="first_pass"] button')
    open_item(alice, asset_id)
    lena = signed_in("lena")
    expect(lena.locator('tr[data-queue="first_pass"] .size')).to_have_text("1")
    # Alice's claim is over once the 1-second setting has passed.
    alice.wait_for_timeout(1500)
    vigil.review.rules = replace(
        vigil.review.rules, claim_seconds=600.0
    )  # Lena's claim lasts while she works
    lena.click('tr[data-queue="first_pass"] button')
    open_item(lena, asset_id)
    alice.keyboard.press("a")
    expect(alice.locator("#error-message")).to_contain_text("not claimed by you")
    alice.screenshot(path=screenshot_path("claim-expired"), full_page=True)
    assert status(api, keys, asset_id) == "review"
    lena.keyboard.press("a")
    expect(lena.locator("#done-status")).to_have_text("approved")


def test_a_reviewer_cannot_reach_admin_pages(signed_in: SignIn) -> None:
    page = signed_in("alice")
    expect(page.locator("header")).not_to_contain_text("Audit")
    for path in ("/review/audit", "/review/users"):
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_have_text("Forbidden")
    page.screenshot(path=screenshot_path("reviewer-forbidden"), full_page=True)
    admin = signed_in("ada")
    admin.goto("/review/audit")
    expect(admin.locator("h1")).to_have_text("Audit log")
    admin.screenshot(path=screenshot_path("audit"), full_page=True)


def test_quarantined_content_is_never_served_to_an_uploader(
    signed_in: SignIn, api: httpx.Client, keys: Keys
) -> None:
    asset_id = upload(api, keys, "review-all")
    page = signed_in("alice")
    page.click('tr[data-queue="first_pass"] button')
    open_item(page, asset_id)
    item_url = page.url
    page.keyboard.press("2")
    page.keyboard.press("r")
    expect(page.locator("#done-status")).to_have_text("rejected")
    uploader = keys.auth("uploader")
    content = api.get(f"/v1/assets/{asset_id}/content", headers=uploader)
    assert content.status_code == 403 and content.json()["error"]["code"] == "AssetNotDeliverable"
    for path in (f"{item_url}/preview", f"{item_url}/media"):  # console media needs a person
        response = api.get(path, headers=uploader, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/review/login"


def test_dashboard(signed_in: SignIn, api: httpx.Client, keys: Keys) -> None:
    upload(api, keys, "review-all")
    upload(api, keys, "block-all")
    upload(api, keys, "allow-all")
    page = signed_in("ada")
    page.goto("/review/stats")
    expect(page.locator("#uploads-processed")).to_have_text("3")
    expect(page.locator("#auto-blocked")).to_contain_text("1 (33.3%)")
    expect(page.locator("#chart rect")).to_have_count(3)
    page.screenshot(path=screenshot_path("dashboard"), full_page=True)
    with page.expect_download() as download:
        page.click("#csv")
    text = open(download.value.path()).read()  # noqa: SIM115
    assert text.startswith("date,processed,auto_allowed,auto_blocked,sent_to_review")
