"""/v1/keys over HTTP with a real database and app: list, create, revoke (seen at once by a
second app on the same database), rotate with its overlap, expiry, grants, AWS key pairs
signed with botocore, and the key audit (docs/keys.md)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from tests.conftest import running_vigil
from tests.images import coffee_jpeg
from vigil.api.app import create_app
from vigil.app import Vigil, build
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.tables import ApiKeyRow, AssetRow, AwsAccessKeyRow


@pytest.fixture
def stack_engine(nsfw_engine: ModerationEngine) -> ModerationEngine:
    return nsfw_engine


@pytest.fixture
def http(api: TestClient) -> TestClient:
    return api


@pytest.fixture
def admin(stack: Vigil) -> dict[str, str]:
    return bearer(create_key(stack.db, Role.ADMIN))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def code(response: Response) -> str:
    found: str = response.json()["error"]["code"]
    return found


def created(http: TestClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = http.post("/v1/keys", headers=admin, json={"role": "uploader", **body})
    assert answer.status_code == 201, answer.text
    issued: dict[str, Any] = answer.json()
    return issued


def set_key(stack: Vigil, key_id: str, **values: Any) -> None:
    with stack.db.session() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(**values))


def actions(http: TestClient, admin: dict[str, str], key_id: str) -> list[str]:
    events = http.get(f"/v1/keys/{key_id}/events", headers=admin).json()["events"]
    return [event["action"] for event in events]


def ago(hours: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def upload(http: TestClient, headers: dict[str, str], **form: str) -> Response:
    files = {"file": ("coffee.jpg", coffee_jpeg())}
    return http.post("/v1/assets", headers=headers, files=files, data=form)


# -- who may ----------------------------------------------------------------------------------


def test_only_admins_manage_keys(http: TestClient, stack: Vigil, admin: dict[str, str]) -> None:
    target = created(http, admin)["key"]["id"]
    for role in (Role.UPLOADER, Role.REVIEWER):
        who = bearer(create_key(stack.db, role))
        for method, path in (
            ("GET", "/v1/keys"),
            ("POST", "/v1/keys"),
            ("GET", f"/v1/keys/{target}"),
            ("DELETE", f"/v1/keys/{target}"),
            ("POST", f"/v1/keys/{target}/rotate"),
            ("PUT", f"/v1/keys/{target}/grants/skip-moderation"),
            ("GET", f"/v1/keys/{target}/events"),
        ):
            body = {"role": "admin"} if path == "/v1/keys" and method == "POST" else None
            refused = http.request(method, path, headers=who, json=body)
            assert (refused.status_code, code(refused)) == (403, "Forbidden"), (method, path)
    assert code(http.get("/v1/keys")) == "Unauthorized"
    assert http.get(f"/v1/keys/{target}", headers=admin).json()["status"] == "active"


# -- create and list ---------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_lists_every_key(
    http: TestClient, admin: dict[str, str]
) -> None:
    issued = created(http, admin, name="shop front", expires_in="30d", grants=["skip-moderation"])
    key, secret = issued["key"], issued["secret"]
    assert secret.startswith("vgl_") and issued["access_key_id"] is None
    assert (key["kind"], key["name"], key["role"], key["status"]) == (
        "api",
        "shop front",
        "uploader",
        "active",
    )
    assert key["grants"] == ["skip-moderation"] and key["last_used_at"] is None
    expires = datetime.fromisoformat(key["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert key["created_at"].endswith("+00:00")
    assert http.get("/v1/assets", headers=bearer(secret)).status_code == 200
    listed = http.get("/v1/keys", headers=admin)
    assert listed.status_code == 200 and secret not in listed.text
    mine = {entry["id"]: entry for entry in listed.json()["keys"]}[key["id"]]
    assert mine["last_used_at"] is not None  # the request above used it
    assert set(mine) >= {"id", "name", "role", "created_at", "expires_at", "last_used_at"}


def test_bad_create_requests_are_refused(http: TestClient, admin: dict[str, str]) -> None:
    past = ago().isoformat()
    for body, expected in (
        ({"role": "wizard"}, "InvalidParameter"),
        ({"role": "uploader", "grants": ["fly"]}, "InvalidParameter"),
        ({"role": "uploader", "expires_in": "soon"}, "InvalidParameter"),
        ({"role": "uploader", "expires_in": "0d"}, "InvalidParameter"),
        ({"role": "uploader", "expires_at": past}, "InvalidParameter"),
        ({"role": "uploader", "expires_in": "1d", "expires_at": past}, "InvalidParameter"),
        ({"role": "uploader", "secret": "mine"}, "InvalidParameter"),
    ):
        refused = http.post("/v1/keys", headers=admin, json=body)
        assert (refused.status_code, code(refused)) == (400, expected), body
    missing = http.delete("/v1/keys/nope", headers=admin)
    assert (missing.status_code, code(missing)) == (404, "KeyNotFound")


# -- revoke ------------------------------------------------------------------------------------


def test_a_revoke_is_refused_at_once_by_another_app_on_the_same_database(
    http: TestClient, stack: Vigil, admin: dict[str, str], nsfw_engine: ModerationEngine
) -> None:
    issued = created(http, admin)
    key_id, secret = issued["key"]["id"], issued["secret"]
    other = build(stack.settings, nsfw_engine)  # a second process's services, own engine pool
    try:
        with TestClient(create_app(other, run_worker=False)) as second:
            assert second.get("/v1/assets", headers=bearer(secret)).status_code == 200
            revoked = http.delete(f"/v1/keys/{key_id}", headers=admin)
            assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
            refused = second.get("/v1/assets", headers=bearer(secret))
            assert (refused.status_code, code(refused)) == (401, "Unauthorized")
            posted = upload(second, bearer(secret))  # the body-limit gate checks it too
            assert (posted.status_code, code(posted)) == (401, "Unauthorized")
    finally:
        other.close()
    again = http.delete(f"/v1/keys/{key_id}", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    for path in (f"/v1/keys/{key_id}/rotate", f"/v1/keys/{key_id}/grants/skip-moderation"):
        method = "POST" if path.endswith("rotate") else "PUT"
        conflict = http.request(method, path, headers=admin)
        assert (conflict.status_code, code(conflict)) == (409, "KeyRevoked")
    assert actions(http, admin, key_id) == ["create", "revoke"]  # revoking twice is one event


# -- rotate ------------------------------------------------------------------------------------


def test_rotation_keeps_the_old_secret_for_the_overlap_then_refuses_it(
    http: TestClient, stack: Vigil, admin: dict[str, str]
) -> None:
    issued = created(http, admin, name="rotating")
    key_id, old = issued["key"]["id"], issued["secret"]
    rotated = http.post(f"/v1/keys/{key_id}/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["key"]["id"] == key_id
    until = datetime.fromisoformat(rotated.json()["key"]["previous_secret_valid_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    for secret in (old, new):  # both work during the overlap (the default, 24 hours)
        assert http.get("/v1/assets", headers=bearer(secret)).status_code == 200
    assert new not in http.get("/v1/keys", headers=admin).text
    set_key(stack, key_id, previous_expires_at=ago())  # the overlap is over
    refused = http.get("/v1/assets", headers=bearer(old))
    assert (refused.status_code, code(refused)) == (401, "KeyRotated")
    assert "replaced by a rotation" in refused.json()["error"]["message"]
    assert http.get("/v1/assets", headers=bearer(new)).status_code == 200
    listed = http.get(f"/v1/keys/{key_id}", headers=admin).json()
    assert listed["previous_secret_valid_until"] is None


def test_a_rotation_without_overlap_refuses_the_old_secret_now(
    http: TestClient, admin: dict[str, str]
) -> None:
    issued = created(http, admin)
    key_id, old = issued["key"]["id"], issued["secret"]
    rotated = http.post(f"/v1/keys/{key_id}/rotate", headers=admin, json={"overlap_hours": 0})
    new = rotated.json()["secret"]
    assert code(http.get("/v1/assets", headers=bearer(old))) == "Unauthorized"
    assert http.get("/v1/assets", headers=bearer(new)).status_code == 200
    # A second rotation inside an overlap ends the first old secret's at once.
    newer = http.post(f"/v1/keys/{key_id}/rotate", headers=admin).json()["secret"]
    newest = http.post(f"/v1/keys/{key_id}/rotate", headers=admin).json()["secret"]
    assert code(http.get("/v1/assets", headers=bearer(new))) == "Unauthorized"
    for secret in (newer, newest):
        assert http.get("/v1/assets", headers=bearer(secret)).status_code == 200


def test_the_overlap_setting_sets_the_default_window(
    tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path
) -> None:
    with (
        running_vigil(tmp_path, nsfw_engine, policy_dir, key_rotation_overlap_hours=0.5) as v,
        TestClient(create_app(v, run_worker=False)) as http,
    ):
        admin = bearer(create_key(v.db, Role.ADMIN))
        key_id = created(http, admin)["key"]["id"]
        key = http.post(f"/v1/keys/{key_id}/rotate", headers=admin).json()["key"]
    until = datetime.fromisoformat(key["previous_secret_valid_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(minutes=1)


# -- expiry ------------------------------------------------------------------------------------


def test_an_expired_key_is_refused_with_its_own_code(
    http: TestClient, stack: Vigil, admin: dict[str, str]
) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    issued = created(http, admin, expires_at=soon)
    key_id, secret = issued["key"]["id"], issued["secret"]
    assert http.get("/v1/assets", headers=bearer(secret)).status_code == 200
    set_key(stack, key_id, expires_at=ago())
    refused = http.get("/v1/assets", headers=bearer(secret))
    assert (refused.status_code, code(refused)) == (401, "KeyExpired")
    assert f"API key {key_id} expired at" in refused.json()["error"]["message"]
    posted = upload(http, bearer(secret))  # refused before its body is read, too
    assert (posted.status_code, code(posted)) == (401, "KeyExpired")
    assert http.get(f"/v1/keys/{key_id}", headers=admin).json()["status"] == "expired"
    stale = http.post(f"/v1/keys/{key_id}/rotate", headers=admin)
    assert (stale.status_code, code(stale)) == (400, "InvalidParameter")
    renewed = http.post(f"/v1/keys/{key_id}/rotate", headers=admin, json={"expires_in": "7d"})
    assert renewed.json()["key"]["status"] == "active"
    assert http.get("/v1/assets", headers=bearer(renewed.json()["secret"])).status_code == 200


# -- the skip-moderation grant ----------------------------------------------------------------


def test_moderation_none_needs_the_grant(
    http: TestClient, stack: Vigil, admin: dict[str, str]
) -> None:
    issued = created(http, admin)
    key_id, uploader = issued["key"]["id"], bearer(issued["secret"])
    refused = upload(http, uploader, moderation="none")
    assert (refused.status_code, code(refused)) == (403, "SkipModerationNotGranted")
    assert f"vigil keys grant {key_id} skip-moderation" in refused.json()["error"]["message"]
    with stack.db.session() as session:
        assert session.scalars(select(AssetRow)).first() is None  # nothing was stored
    assert upload(http, uploader, moderation="manual").status_code == 201  # others unaffected
    granted = http.put(f"/v1/keys/{key_id}/grants/skip-moderation", headers=admin)
    assert granted.json()["grants"] == ["skip-moderation"]
    allowed = upload(http, uploader, moderation="none")
    assert allowed.status_code == 201 and allowed.json()["status"] == "approved"
    taken = http.delete(f"/v1/keys/{key_id}/grants/skip-moderation", headers=admin)
    assert taken.json()["grants"] == []
    assert code(upload(http, uploader, moderation="none")) == "SkipModerationNotGranted"
    assert upload(http, admin, moderation="none").status_code == 201  # admins hold every grant
    unknown = http.put(f"/v1/keys/{key_id}/grants/fly", headers=admin)
    assert (unknown.status_code, code(unknown)) == (400, "InvalidParameter")
    assert actions(http, admin, key_id) == ["create", "grant", "revoke-grant"]


def test_a_preset_with_moderation_none_needs_the_grant_too(
    http: TestClient, admin: dict[str, str]
) -> None:
    saved = http.put("/v1/upload-presets/raw", headers=admin, json={"moderation": "none"})
    assert saved.status_code == 200, saved.text
    uploader = bearer(created(http, admin)["secret"])
    refused = upload(http, uploader, upload_preset="raw")
    assert code(refused) == "SkipModerationNotGranted"
    skipper = bearer(created(http, admin, grants=["skip-moderation"])["secret"])
    assert upload(http, skipper, upload_preset="raw").status_code == 201


def test_the_old_behaviour_setting_lets_any_uploader_skip(
    tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path
) -> None:
    with (
        running_vigil(
            tmp_path, nsfw_engine, policy_dir, moderation_none_any_uploader=True
        ) as running,
        TestClient(create_app(running, run_worker=False)) as http,
    ):
        uploader = bearer(create_key(running.db, Role.UPLOADER))
        assert upload(http, uploader, moderation="none").status_code == 201


# -- AWS key pairs -----------------------------------------------------------------------------


def rekognition(http: TestClient, access_key_id: str, secret: str) -> Response:
    """DetectModerationLabels signed by botocore with the pair, sent through the test app."""
    body = json.dumps({"Image": {"Bytes": base64.b64encode(coffee_jpeg()).decode()}}).encode()
    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "RekognitionService.DetectModerationLabels",
        },
    )
    SigV4Auth(Credentials(access_key_id, secret), "rekognition", "us-east-1").add_auth(request)
    return http.post("/", content=body, headers=dict(request.headers.items()))


def aws_type(response: Response) -> str:
    kind: str = response.json()["__type"]
    return kind


def test_aws_pairs_are_listed_rotated_and_revoked(
    http: TestClient, stack: Vigil, admin: dict[str, str]
) -> None:
    issued = created(http, admin, kind="aws", name="lambda")
    key, old = issued["key"], (issued["access_key_id"], issued["secret"])
    assert key["kind"] == "aws" and [p["access_key_id"] for p in key["access_keys"]] == [old[0]]
    assert rekognition(http, *old).status_code == 200
    listed = http.get("/v1/keys", headers=admin).json()["keys"]
    assert [entry["kind"] for entry in listed if entry["id"] == key["id"]] == ["aws"]
    # Rotating (named by its access key id) adds a pair; the old one works for the overlap.
    rotated = http.post(f"/v1/keys/{old[0]}/rotate", headers=admin).json()
    new = (rotated["access_key_id"], rotated["secret"])
    assert rotated["key"]["id"] == key["id"] and new[0] != old[0]
    pairs = {p["access_key_id"]: p["expires_at"] for p in rotated["key"]["access_keys"]}
    assert pairs[new[0]] is None and pairs[old[0]] is not None
    assert rekognition(http, *old).status_code == 200
    assert rekognition(http, *new).status_code == 200
    with stack.db.session() as session:
        session.execute(
            update(AwsAccessKeyRow)
            .where(AwsAccessKeyRow.access_key_id == old[0])
            .values(expires_at=ago())
        )
    assert aws_type(rekognition(http, *old)) == "UnrecognizedClientException"
    assert rekognition(http, *new).status_code == 200
    set_key(stack, key["id"], expires_at=ago())
    assert aws_type(rekognition(http, *new)) == "AccessDeniedException"
    set_key(stack, key["id"], expires_at=None)
    assert http.delete(f"/v1/keys/{key['id']}", headers=admin).status_code == 200
    refused = rekognition(http, *new)
    assert (refused.status_code, aws_type(refused)) == (400, "UnrecognizedClientException")


# -- audit -------------------------------------------------------------------------------------


def test_every_change_is_audited_with_its_actor(
    http: TestClient, stack: Vigil, admin: dict[str, str]
) -> None:
    key_id = created(http, admin, expires_in="2w")["key"]["id"]
    http.put(f"/v1/keys/{key_id}/grants/skip-moderation", headers=admin)
    http.put(f"/v1/keys/{key_id}/grants/skip-moderation", headers=admin)  # no change
    http.post(f"/v1/keys/{key_id}/rotate", headers=admin, json={"overlap_hours": 2})
    http.delete(f"/v1/keys/{key_id}", headers=admin)
    events = http.get(f"/v1/keys/{key_id}/events", headers=admin).json()["events"]
    assert [e["action"] for e in events] == ["create", "grant", "rotate", "revoke"]
    admin_id = authenticate(stack.db, admin["Authorization"]).key_id
    assert {e["actor"] for e in events} == {admin_id}
    assert "kind=api role=uploader" in events[0]["detail"]
    assert events[1]["detail"] == "skip-moderation"
    assert "old secret valid until" in events[2]["detail"]
    assert all(e["at"].endswith("+00:00") for e in events)
