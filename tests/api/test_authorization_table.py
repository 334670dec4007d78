"""Every route x every principal, against one declared table (tests/authorization_table.py).

The routes are read from the application itself (``app.routes``, walked into each included
router; FastAPI's own /docs, /redoc and /openapi.json left out), and ``POST /`` counts once
per Rekognition operation that ``X-Amz-Target`` can name. A route served but not declared
fails, and so does a declared route no longer served. Each route is then called, for real,
by each principal, and only the authorization outcome is checked: a denial is 401/403 (a
redirect to the sign-in page for console pages, AWS's denial types for ``POST /``); an
allowed call is anything else, a 404 or 422 included, which shows it got past the check.
Path parameters name real resources (uploader A's approved asset, a review item, a preset,
a hash list, a spare key), so another uploader's 404 on A's asset is tenant isolation, not
a typo.

The table holds TABLE_SIZE (routes x principals) checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Route

from tests.authorization_table import PRINCIPALS, TABLE, TABLE_SIZE, Outcome
from tests.conftest import running_vigil
from tests.images import astronaut_jpeg
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.aws.keys import AwsKeyPair, create_aws_key
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Principal, Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.web.session import SESSION_COOKIE

PASSWORD = "correct horse battery"
PEOPLE = {"alice": "reviewer", "ada": "admin", "victor": "reviewer"}  # victor: a path value
AWS_TARGET = "RekognitionService."
AWS_JSON = "application/x-amz-json-1.1"
# AWS's answers to a caller it does not know or will not serve (docs/rekognition.md).
AWS_DENIALS = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "MissingAuthenticationTokenException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
    }
)
PDQ = "f" * 64


@dataclass(frozen=True)
class Probe:
    """What a route is sent besides its credentials: a body its schema accepts, so that a
    refusal can only come from the authorization check, never from the body's validation."""

    json: Any = None
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] | None = None
    content: bytes | None = None
    fresh_session: bool = False  # the call ends the console session: sign in anew for it
    sign_in: bool = False  # the call is the console's sign-in form, sent with valid credentials
    path: dict[str, str] = field(default_factory=dict)  # parameter -> World.path_values key


PROBES: dict[str, Probe] = {
    "POST /v1/moderate": Probe(files={"file": ("empty.jpg", b"")}),
    "POST /v1/assets": Probe(files={"file": ("empty.jpg", b"")}),
    # Already approved: allowed callers get 409, so the asset stays as the fixture made it.
    "POST /v1/assets/{asset_id}/moderation": Probe(json={"status": "approved"}),
    "POST /v1/assets/{asset_id}/appeal": Probe(json={"message": "authorization probe"}),
    "POST /v1/policies": Probe(content=b"name: [not a policy"),
    "POST /v1/policies/{name}/simulate": Probe(content=b"{}"),
    "POST /v1/policies/{name}/activate": Probe(json={"version": 1}),
    "PUT /v1/policies/{name}/shadow": Probe(json={"version": None}),
    "PUT /v1/upload-presets/{name}": Probe(json={"policy": "review-all"}),
    "POST /v1/alerts": Probe(
        json={"name": "probe", "label": "Explicit", "recipients": ["probe@example.com"]}
    ),
    "POST /v1/webhooks": Probe(json={"url": "http://127.0.0.1:9/", "events": ["asset.rejected"]}),
    "POST /v1/lists": Probe(json={"name": "probe-list"}),
    "POST /v1/lists/{name}/items": Probe(json={"pdq": PDQ}),
    "POST /v1/review/items/{item_id}/decision": Probe(json={"decision": "escalate"}),
    "POST /v1/keys": Probe(json={"role": "uploader", "name": "probe"}),
    "POST /v1/keys/{key_id}/rotate": Probe(json={}),
    "GET /v1/keys/{key_id}/signing-secret": Probe(path={"key_id": "own_key_id"}),
    "POST /review/login": Probe(sign_in=True),
    "POST /review/logout": Probe(fresh_session=True),
    "POST /review/items/{item_id}/decide": Probe(data={"decision": "escalate"}),
    "POST /review/users": Probe(data={"username": "probe", "password": PASSWORD, "role": "lead"}),
    "POST /review/users/{username}/disabled": Probe(data={"disabled": "false"}),
    "POST / DetectModerationLabels": Probe(json={}),
    "POST / StartContentModeration": Probe(json={}),
    "POST / GetContentModeration": Probe(json={}),
}


@dataclass
class World:
    vigil: Vigil
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]  # Bearer keys by principal
    aws: dict[str, AwsKeyPair]  # access key pairs by principal
    sessions: dict[str, tuple[str, str]]  # console (cookie, CSRF token) by principal
    path_values: dict[str, str]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, nsfw_engine: ModerationEngine, policy_dir: Path
) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("authorization")
    with (
        running_vigil(directory, nsfw_engine, policy_dir) as vigil,
        TestClient(create_app(vigil, run_worker=False)) as client,
    ):
        tokens = {
            "uploader_a": create_key(vigil.db, Role.UPLOADER),
            "uploader_b": create_key(vigil.db, Role.UPLOADER),
            "reviewer": create_key(vigil.db, Role.REVIEWER),
            "admin": create_key(vigil.db, Role.ADMIN),
            "bad_key": "vk_not_a_real_key_0123456789",
        }
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        spare_key = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}")
        for username, role in PEOPLE.items():
            vigil.users.create(username, PASSWORD, role)
        asset = uploaded(client, tokens["uploader_a"])  # approved below: its owner sees it all
        vigil.assets.override(asset, Principal(key_id="test", role=Role.ADMIN), "approved", "")
        waiting = uploaded(client, tokens["uploader_a"])  # stays in the first-pass queue
        items = client.get("/v1/review/queues/first_pass/items", headers=admin).json()["items"]
        item = next(found["id"] for found in items if found["asset_id"] == waiting)
        assert client.put(
            "/v1/upload-presets/probe-preset", headers=admin, json={"policy": "review-all"}
        ).is_success
        assert client.post("/v1/lists", headers=admin, json={"name": "probe-list-a"}).is_success
        client.cookies.clear()
        yield World(
            vigil=vigil,
            app=client.app,  # type: ignore[arg-type]
            client=client,
            tokens=tokens,
            aws={
                "aws_uploader": create_aws_key(vigil.db, Role.UPLOADER),
                "aws_reviewer": create_aws_key(vigil.db, Role.REVIEWER),
            },
            sessions={
                "console_reviewer": sign_in(client, "alice"),
                "console_admin": sign_in(client, "ada"),
            },
            path_values={
                "asset_id": asset,
                "item_id": item,
                "index": "0",
                "version": "1",
                "job_id": "1",
                "rule_id": "no-such-rule",
                "delivery_id": "no-such-delivery",
                "webhook_id": "no-such-webhook",
                "queue": "first_pass",
                "key_id": spare_key.key_id,  # admins may revoke it: no principal's key
                "own_key_id": authenticate(vigil.db, f"Bearer {tokens['uploader_a']}").key_id,
                "grant": "skip-moderation",
                "pdq": PDQ,
                "username": "victor",
                "/v1/policies/{name}": "review-all",
                "/v1/upload-presets/{name}": "probe-preset",
                "/v1/lists/{name}": "probe-list-a",
            },
        )


def uploaded(client: TestClient, token: str) -> str:
    response = client.post(
        "/v1/assets",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("photo.jpg", astronaut_jpeg())},
        data={"policy": "review-all"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def sign_in(client: TestClient, username: str) -> tuple[str, str]:
    """A new console session of ``username``: its cookie and CSRF token. The client's own
    cookie jar is left empty: each probe sends exactly the cookies its principal holds."""
    client.cookies.clear()
    form = client.get("/review/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/review/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review").text)
    assert csrf is not None
    client.cookies.clear()
    return cookie, csrf.group(1)


# -- the app's routes --------------------------------------------------------------------------


def served_routes(app: FastAPI, vigil: Vigil) -> set[str]:
    """``"METHOD /path"`` of every route, and ``"POST / Operation"`` per Rekognition
    operation; FastAPI's documentation pages are not the application's."""
    documentation = {app.openapi_url, app.docs_url, app.redoc_url}
    documentation.add(app.swagger_ui_oauth2_redirect_url)
    found: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, Route) or context.path in documentation:
            continue  # mounts (static files) and the docs
        methods = (context.methods or set()) - {"HEAD"}
        found.update(f"{method} {context.path}" for method in methods)
    found.update(f"POST / {operation}" for operation in vigil.rekognition.operations)
    return found


def test_every_served_route_is_declared_and_every_declared_route_served(world: World) -> None:
    served = served_routes(world.app, world.vigil)
    undeclared = sorted(served - TABLE.keys())
    stale = sorted(TABLE.keys() - served)
    assert not undeclared, f"routes missing from tests/authorization_table.py: {undeclared}"
    assert not stale, f"tests/authorization_table.py declares routes not served: {stale}"


def test_the_table_size_is_routes_times_principals() -> None:
    assert len(TABLE) * len(PRINCIPALS) == TABLE_SIZE
    assert all(set(outcomes) == set(PRINCIPALS) for outcomes in TABLE.values())


# -- one route, every principal ----------------------------------------------------------------


@pytest.mark.parametrize("route", sorted(TABLE))
def test_route_authorization(world: World, route: str) -> None:
    if route not in served_routes(world.app, world.vigil):
        pytest.fail(f"{route} is declared in tests/authorization_table.py but not served")
    wrong = []
    for principal in PRINCIPALS:
        expected = TABLE[route][principal]
        response = call(world, route, principal)
        if not matches(expected, response):
            wrong.append(
                f"{principal}: expected {expected}, got {response.status_code} "
                f"{response.headers.get('location', '')}{response.text[:200]}"
            )
    assert not wrong, f"{route}:\n" + "\n".join(wrong)


def matches(expected: Outcome, response: Response) -> bool:
    refused = denied(response)
    if response.status_code >= 500:  # neither allowed nor denied: something broke
        return False
    if expected is Outcome.DENY:
        return refused
    if expected is Outcome.HIDDEN:
        return refused or response.status_code == 404
    if expected is Outcome.SEE:
        return not refused and response.status_code != 404
    return not refused


def denied(response: Response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (302, 303, 307) and response.headers.get("location") == (
        "/review/login"
    ):
        # A console page sends a stranger to the sign-in form; a sign-out goes there too,
        # ending the session it had.
        return f"{SESSION_COOKIE}=" not in response.headers.get("set-cookie", "")
    if response.headers.get("content-type", "").startswith(AWS_JSON):
        answer = response.json()
        return isinstance(answer, dict) and answer.get("__type") in AWS_DENIALS
    return False


def call(world: World, route: str, principal: str) -> Response:
    method, path, *operation = route.split(" ")
    probe = PROBES.get(route, Probe())
    values = {name: world.path_values[key] for name, key in probe.path.items()}
    url = fill(path, {**world.path_values, **values})
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    data = dict(probe.data)
    content = probe.content
    if probe.json is not None:
        content = json.dumps(probe.json).encode()
        headers["Content-Type"] = AWS_JSON if operation else "application/json"
    if operation:
        headers["X-Amz-Target"] = AWS_TARGET + operation[0]
    if principal in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[principal]}"
    elif principal in world.sessions:
        person = "alice" if principal == "console_reviewer" else "ada"
        cookie, csrf = (
            sign_in(world.client, person) if probe.fresh_session else (world.sessions[principal])
        )
        cookies[SESSION_COOKIE] = cookie
        headers["X-CSRF-Token"] = csrf
        if path.startswith("/review") and method == "POST":
            data["csrf_token"] = csrf
    elif principal in world.aws:
        headers.update(signed(world.aws[principal], method, url, headers, content or b""))
    if probe.sign_in:
        cookies.update(login_form(world.client, data))
    world.client.cookies.clear()
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return world.client.request(
        method,
        url,
        headers=headers,
        content=content,
        data=data or None,
        files=probe.files,
        follow_redirects=False,
    )


def login_form(client: TestClient, data: dict[str, str]) -> dict[str, str]:
    """Fill ``data`` with valid credentials and the sign-in form's token; its cookie."""
    client.cookies.clear()
    form = client.get("/review/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data.update(username="alice", password=PASSWORD, csrf_token=token.group(1))
    return dict(client.cookies.items())


def fill(path: str, values: Mapping[str, str]) -> str:
    """``path`` with each parameter's value: by the path up to it (``/v1/lists/{name}``),
    else by its name."""

    def value(found: re.Match[str]) -> str:
        parameter = found.group(1)
        chosen = values.get(path[: found.end()]) or values.get(parameter)
        assert chosen is not None, f"no value for {{{parameter}}} of {path}: add one to World"
        return chosen

    return re.sub(r"\{(\w+)\}", value, path)


def signed(
    pair: AwsKeyPair, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> dict[str, str]:
    """Signature Version 4 headers for the request, as botocore signs them."""
    request = AWSRequest(method=method, url=f"http://testserver{url}", data=body, headers=headers)
    SigV4Auth(
        Credentials(pair.access_key_id, pair.secret_access_key), "rekognition", "us-east-1"
    ).add_auth(request)
    return dict(request.headers.items())
