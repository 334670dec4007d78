"""Every time the JSON API returns is ISO 8601 in UTC with ``+00:00``: never naive, never
``Z`` (docs/api.md#times), on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import astronaut_jpeg, coffee_jpeg
from vigil.app import Vigil
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.core.events import REJECTED
from vigil.service.engine.moderation import ModerationEngine

UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00")
# Any string that starts like a date and a time (dates alone, as stats windows give, are not).
TIME_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Nothing listens here: deliveries are only logged, never sent (no worker runs).
HOOK_URL = "http://127.0.0.1:9/hook"
CANDIDATE = "name: block-all\ncategories:\n  Explicit: {review: 0}\n"


@pytest.fixture
def stack_settings(database_url: str) -> dict[str, Any]:
    return {"database_url": database_url, "webhook_allow_private": True}


@pytest.fixture
def stack_engine(nsfw_engine: ModerationEngine) -> ModerationEngine:
    return nsfw_engine


@pytest.fixture
def stack_keys(stack: Vigil) -> Keys:
    uploader = create_key(stack.db, Role.UPLOADER)
    return Keys(
        create_key(stack.db, Role.ADMIN), uploader, uploader, create_key(stack.db, Role.REVIEWER)
    )


def times_in(body: Any, path: str = "") -> dict[str, Any]:
    """Every value under a time key (``at``, ``*_at``) and every string that looks like a
    time, by its path in ``body``."""
    found: dict[str, Any] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "at" or key.endswith("_at"):
                found[f"{path}.{key}"] = value
            found.update(times_in(value, f"{path}.{key}"))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found.update(times_in(value, f"{path}[{index}]"))
    elif isinstance(body, str) and TIME_LIKE.match(body):
        found[path] = body
    return found


class Calls:
    """Requests to the app, each answer's JSON kept under its method and path."""

    def __init__(self, api: TestClient, keys: Keys) -> None:
        self.api, self.keys = api, keys
        self.bodies: dict[str, Any] = {}

    def __call__(self, method: str, url: str, role: str = "admin", **request: Any) -> Any:
        response = self.api.request(method, url, headers=self.keys.auth(role), **request)
        assert response.status_code < 300, f"{method} {url}: {response.text}"
        self.bodies[f"{method} {url}"] = body = response.json()
        return body


def upload(call: Calls, policy: str, data: bytes) -> str:
    files = {"file": ("photo.jpg", data)}
    return str(call("POST", "/v1/assets", "uploader", files=files, data={"policy": policy})["id"])


def configure(call: Calls) -> None:
    """A webhook (so decisions log deliveries), an alert rule, a preset, a hash list and a new
    policy version with a shadow."""
    call("POST", "/v1/webhooks", json={"url": HOOK_URL, "events": [REJECTED]})
    rule = {"name": "r", "label": "Explicit Nudity", "recipients": ["ops@example.com"]}
    call("POST", "/v1/alerts", json=rule)
    call("PUT", "/v1/upload-presets/strict", json={"policy": "block-all"})
    call("POST", "/v1/lists", json={"name": "known"})
    call("POST", "/v1/lists/known/items", files={"file": ("a.jpg", coffee_jpeg())})
    submitted = call("POST", "/v1/policies?activate=false", content=CANDIDATE)
    call("PUT", "/v1/policies/block-all/shadow", json={"version": submitted["version"]})


def moderate(call: Calls) -> tuple[str, str]:
    """An asset people review and approve, and a rejected asset under appeal."""
    reviewed = upload(call, "review-all", astronaut_jpeg())
    rejected = upload(call, "block-all", astronaut_jpeg())
    call("POST", f"/v1/assets/{rejected}/appeal", "uploader", json={"message": "a museum"})
    item = call("POST", "/v1/review/queues/first_pass/claim", "reviewer")["item"]
    call("GET", "/v1/review/queues/first_pass/items", "reviewer")
    call("GET", f"/v1/review/items/{item['id']}", "reviewer")
    call(
        "POST", f"/v1/review/items/{item['id']}/decision", "reviewer", json={"decision": "approve"}
    )
    return reviewed, rejected


def read_assets(call: Calls, reviewed: str, rejected: str) -> None:
    call("GET", "/v1/assets")
    for asset_id in (reviewed, rejected):
        call("GET", f"/v1/assets/{asset_id}")
        call("GET", f"/v1/assets/{asset_id}/audit")
        call("GET", f"/v1/assets/{asset_id}/explain")
    call("GET", f"/v1/assets/{rejected}/appeals", "uploader")
    call("GET", "/v1/review/queues", "reviewer")
    call("GET", "/v1/audit")
    call("GET", "/v1/stats")
    call("GET", "/v1/users/lockouts")


def read_settings(call: Calls) -> None:
    call("GET", "/v1/webhooks")
    delivery = call("GET", "/v1/webhooks/deliveries")["deliveries"][0]
    call("GET", f"/v1/webhooks/deliveries/{delivery['id']}")
    call("GET", "/v1/alerts")
    call("GET", "/v1/upload-presets")
    call("GET", "/v1/upload-presets/strict")
    call("GET", "/v1/lists")
    call("GET", "/v1/lists/known")
    job = call("GET", "/v1/jobs")["jobs"][0]
    call("GET", f"/v1/jobs/{job['id']}")


def read_policies(call: Calls) -> None:
    call("GET", "/v1/policies")
    call("GET", "/v1/policies/block-all")
    call("GET", "/v1/policies/block-all/versions")
    call("GET", "/v1/policies/block-all/versions/1")
    call("GET", "/v1/policies/block-all/shadow/report")
    # A time given with another offset comes back in UTC.
    since = {"since": "2000-01-01T02:00:00+02:00"}
    report = call("POST", "/v1/policies/block-all/simulate", params=since, content=CANDIDATE)
    assert report["since"] == "2000-01-01T00:00:00+00:00"
    call("GET", "/v1/policies/suggest", params={"since": "2000-01-01"})


# Answers that hold no time, or only times that are null here; every other one must show one.
TIMELESS = {
    "GET /v1/stats",  # whole days (YYYY-MM-DD)
    "POST /v1/lists/known/items",  # counts
    "GET /v1/policies/block-all/shadow/report",
    "GET /v1/users/lockouts",  # seconds left
}


def misformatted(found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        f"{request} {path}": value
        for request, times in found.items()
        for path, value in times.items()
        if value is not None and not (isinstance(value, str) and UTC_TIME.fullmatch(value))
    }


def without_times(found: dict[str, dict[str, Any]]) -> set[str]:
    """Answers with no time in them other than the TIMELESS ones: so that the check above
    cannot pass by finding nothing to check."""
    return {
        request
        for request, times in found.items()
        if request not in TIMELESS and all(value is None for value in times.values())
    }


def test_every_time_the_api_returns_is_utc_with_an_offset(
    api: TestClient, stack_keys: Keys
) -> None:
    call = Calls(api, stack_keys)
    configure(call)
    reviewed, rejected = moderate(call)
    read_assets(call, reviewed, rejected)
    read_settings(call)
    read_policies(call)
    found = {request: times_in(body) for request, body in call.bodies.items()}
    assert misformatted(found) == {}
    assert without_times(found) == set()
