"""The console in-process: sign-in, CSRF, roles, blurred previews, deciding by form."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import Keys
from tests.review_helpers import status_of, upload
from tests.web.conftest import PASSWORD, sign_in
from vigil.app import Vigil


def test_pages_need_a_sign_in(client: TestClient, people: dict[str, str]) -> None:
    for path in ("/review", "/review/stats", "/review/audit", "/review/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/review/login"


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(
    client: TestClient, people: dict[str, str]
) -> None:
    form = client.get("/review/login")
    token = form.cookies.get("vigil_login_csrf")
    response = client.post(
        "/review/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/review" in cookie
    page = client.get("/review")
    assert page.status_code == 200 and "alice (reviewer)" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/review/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_wrong_password_and_missing_login_csrf(client: TestClient, people: dict[str, str]) -> None:
    token = client.get("/review/login").cookies.get("vigil_login_csrf")
    wrong = client.post(
        "/review/login", data={"username": "alice", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    forged = client.post(
        "/review/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 403


def test_posts_without_the_csrf_token_are_refused(
    client: TestClient, keys: Keys, people: dict[str, str]
) -> None:
    upload(client, keys, "review-all")
    sign_in(client, "alice")
    response = client.post("/review/queues/first_pass/next", data={"csrf_token": "forged"})
    assert response.status_code == 403 and "CsrfTokenInvalid" in response.text


def test_reviewers_cannot_reach_admin_pages(client: TestClient, people: dict[str, str]) -> None:
    sign_in(client, "alice")
    for path in ("/review/audit", "/review/users"):
        response = client.get(path)
        assert response.status_code == 403 and "Forbidden" in response.text
    assert client.get("/review/stats").status_code == 200
    sign_in(client, "ada")
    assert client.get("/review/audit").status_code == 200
    assert client.get("/review/users").status_code == 200


def claim_first(client: TestClient, keys: Keys) -> tuple[str, str, str]:
    """Upload one asset for review, sign alice in and claim it: (asset id, CSRF token, the
    item's URL)."""
    asset_id = upload(client, keys, "review-all")
    csrf = sign_in(client, "alice")
    item_url = client.post(
        "/review/queues/first_pass/next", data={"csrf_token": csrf}, follow_redirects=False
    ).headers["location"]
    return asset_id, csrf, str(item_url)


def test_the_preview_is_blurred_on_the_server_and_unblurring_is_logged(
    client: TestClient, keys: Keys, people: dict[str, str], vigil: Vigil
) -> None:
    asset_id, csrf, item_url = claim_first(client, keys)
    page = client.get(item_url).text
    assert f"{item_url}/preview" in page and f"/v1/assets/{asset_id}/content" not in page
    blurred = Image.open(io.BytesIO(client.get(f"{item_url}/preview").content))
    refused = client.post(f"{item_url}/unblur")
    assert refused.status_code == 403
    sharp = client.post(f"{item_url}/unblur", headers={"X-CSRF-Token": csrf})
    assert sharp.status_code == 200 and sharp.headers["cache-control"] == "private, no-store"
    assert _detail(blurred) < _detail(Image.open(io.BytesIO(sharp.content))) / 3
    gray = Image.open(io.BytesIO(client.get(f"{item_url}/preview?gray=true").content))
    channels = np.asarray(gray.convert("RGB"))
    assert (channels[..., 0] == channels[..., 1]).all()
    audit = client.get(f"/v1/assets/{asset_id}/audit", headers=keys.auth("admin")).json()
    assert audit["events"][-1]["action"] == "unblurred"
    assert audit["events"][-1]["actor"] == "user:alice"


def test_deciding_by_form_changes_the_asset(
    client: TestClient, keys: Keys, people: dict[str, str], vigil: Vigil
) -> None:
    asset_id, csrf, item_url = claim_first(client, keys)
    done = client.post(
        f"{item_url}/decide",
        data={"csrf_token": csrf, "decision": "reject", "reason": "nudity", "note": ""},
    )
    assert done.status_code == 200 and 'id="done-status">rejected' in done.text
    assert status_of(vigil, asset_id) == "rejected"


def _detail(image: Image.Image) -> float:
    """Mean absolute difference between neighbouring pixels: low for a blurred image."""
    pixels = np.asarray(image.convert("L"), dtype=float)
    return float(np.abs(np.diff(pixels, axis=1)).mean())
