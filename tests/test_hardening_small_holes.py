"""Issue 16, item 8 (the pieces done so far): console and content responses carry headers
that stop framing, sniffing and caching; the data directory and database are private; only
an asset's owner appeals it."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.review_helpers import add_policies, upload
from vigil.app import Vigil, prepare_database
from vigil.settings import Settings

BLOCK_ALL = "name: block-all\ncategories:\n  Explicit: {block: 0}\n"


def test_console_pages_may_not_be_framed_sniffed_or_cached(client: TestClient) -> None:
    for path in ("/review/login", "/review"):  # a page, and the redirect to it
        answer = client.get(path, follow_redirects=False)
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Cache-Control"] == "no-store", path
    assert "X-Frame-Options" not in client.get("/healthz").headers  # the API is not a page


def test_an_assets_content_is_never_run_as_a_page(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    add_policies(vigil)
    asset_id = upload(client, keys, "allow-all")
    answer = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth("uploader"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_data_directory_and_database_are_private(tmp_path: Path, policy_dir: Path) -> None:
    data = tmp_path / "fresh" / "data"
    prepare_database(Settings(data_dir=data, policy_dir=policy_dir))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "vigil.db").stat().st_mode) == 0o600


def test_only_the_owner_appeals(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    vigil.policies.submit(BLOCK_ALL, "test")
    asset_id = upload(client, keys, "block-all")
    url, body = f"/v1/assets/{asset_id}/appeal", {"message": "a museum photo"}
    for role in ("reviewer", "admin"):
        answer = client.post(url, headers=keys.auth(role), json=body)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "Forbidden"
        assert "only the uploader" in answer.json()["error"]["message"]
    owned = client.post(url, headers=keys.auth("uploader"), json=body)
    assert owned.status_code == 201, owned.text  # the refused attempts used nothing up
