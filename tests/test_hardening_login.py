"""Issue 16, item 3: console sign-in has per-address limits, a lockout per username and
address that admins can lift, a cap on passwords hashed at once, and audit events.

Over a real `vigil serve` that trusts 127.0.0.1 as a proxy, so each test names its own
client address in X-Forwarded-For; a peer on 127.0.0.2 is no proxy, and its header is not
believed."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import VIGIL, VigilServer, start_vigil_serve
from vigil.errors import SignInBusy, SignInLocked, TooManySignIns
from vigil.service.access.client_ip import ProxyTrust
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.review.sign_in_guard import SignInGuard, SignInRules
from vigil.storage.db import Database, migrate

PASSWORD = "correct horse battery"
ATTEMPTS_PER_IP = 6
LOCKOUT_FAILURES = 3


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_DATA_DIR": str(tmp_path_factory.mktemp("login") / "data"),
        "VIGIL_DETECTORS": "nsfw",
        "VIGIL_LOGIN_ATTEMPTS_PER_IP": str(ATTEMPTS_PER_IP),
        "VIGIL_LOGIN_LOCKOUT_FAILURES": str(LOCKOUT_FAILURES),
        "VIGIL_LOGIN_LOCKOUT_SECONDS": "120",
        "VIGIL_TRUSTED_PROXIES": "127.0.0.1",
    }


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[VigilServer]:
    running = start_vigil_serve(env)
    for name in ("alice", "bob"):
        subprocess.run(
            [VIGIL, "users", "create", name, "--password-stdin"],
            input=PASSWORD + "\n",
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    yield running
    running.stop()


def sign_in(
    server: VigilServer, username: str, password: str, client: str | None, via: str = "127.0.0.1"
) -> httpx.Response:
    """One sign-in through the form, from the socket address ``via``, forwarded for ``client``."""
    transport = httpx.HTTPTransport(local_address=via)
    forwarded = {"X-Forwarded-For": client} if client else {}
    with httpx.Client(base_url=server.url, transport=transport, headers=forwarded) as browser:
        form = browser.get("/review/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        fields = {"username": username, "password": password, "csrf_token": token.group(1)}
        return browser.post("/review/login", data=fields, follow_redirects=False)


def test_a_lockout_holds_for_that_address_only_until_an_admin_lifts_it(
    server: VigilServer, env: dict[str, str]
) -> None:
    attacker, desk = "203.0.113.1", "198.51.100.7"
    for _ in range(LOCKOUT_FAILURES):
        assert sign_in(server, "alice", "wrong password!", attacker).status_code == 401
    locked = sign_in(server, "alice", PASSWORD, attacker)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 120
    assert "too many failed sign-ins" in locked.text
    # The reviewer at her own desk is not locked out by failures from elsewhere.
    assert sign_in(server, "alice", PASSWORD, desk).status_code == 303

    listed = httpx.get(f"{server.url}/v1/users/lockouts", headers=server.headers).json()
    assert {"username": "alice", "address": attacker} in [
        {key: entry[key] for key in ("username", "address")} for entry in listed["lockouts"]
    ]
    uploader = {"Authorization": f"Bearer {_uploader_key(env)}"}
    refused = httpx.delete(f"{server.url}/v1/users/alice/lockout", headers=uploader)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "Forbidden")

    lifted = httpx.delete(f"{server.url}/v1/users/alice/lockout", headers=server.headers)
    assert lifted.json() == {"username": "alice", "address": None, "lifted": 1}
    assert sign_in(server, "alice", PASSWORD, attacker).status_code == 303


def test_attempts_per_address_are_limited(server: VigilServer) -> None:
    flooder = "203.0.113.2"
    # Different usernames each time: the address limit, not a lockout, must stop them.
    for attempt in range(ATTEMPTS_PER_IP):
        assert sign_in(server, f"nobody{attempt}", "guess guess", flooder).status_code == 401
    limited = sign_in(server, "bob", PASSWORD, flooder)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many sign-in attempts from your address" in limited.text
    assert sign_in(server, "bob", PASSWORD, "203.0.113.3").status_code == 303


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(server: VigilServer) -> None:
    """127.0.0.2 is not a trusted proxy: a new X-Forwarded-For each time does not help it."""
    for attempt in range(ATTEMPTS_PER_IP):
        spoofed = f"192.0.2.{attempt + 1}"
        answer = sign_in(server, f"nobody{attempt}", "guess guess", spoofed, via="127.0.0.2")
        assert answer.status_code == 401
    limited = sign_in(server, "bob", PASSWORD, "192.0.2.200", via="127.0.0.2")
    assert limited.status_code == 429


def _uploader_key(env: dict[str, str]) -> str:
    db = Database(f"sqlite:///{Path(env['VIGIL_DATA_DIR']) / 'vigil.db'}")
    try:
        return create_key(db, Role.UPLOADER, "login test")
    finally:
        db.dispose()


# -- the pieces, without a server --------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database: the guard counts lockouts from its sign_in_events."""
    url = f"sqlite:///{tmp_path / 'guard.db'}"
    migrate(url)
    database = Database(url)
    yield database
    database.dispose()


def test_client_address_comes_from_trusted_proxies_only() -> None:
    trust = ProxyTrust.parse(["10.0.0.0/8", "127.0.0.1"])
    assert trust.client("203.0.113.5", "1.2.3.4") == "203.0.113.5"  # not a proxy: header ignored
    assert trust.client("127.0.0.1", "1.2.3.4") == "1.2.3.4"
    # A client's own forged entries sit left of what our proxies appended: skipped.
    assert trust.client("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.9") == "1.2.3.4"
    assert trust.client("127.0.0.1", "not-an-address") == "127.0.0.1"
    assert ProxyTrust.parse([]).client("127.0.0.1", "1.2.3.4") == "127.0.0.1"


def test_hashing_is_capped(db: Database) -> None:
    guard = SignInGuard(SignInRules(max_concurrent_hashes=1, hash_wait_seconds=0.05), db)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with guard.hashing():
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(SignInBusy) as busy, guard.hashing():
            pass
        assert busy.value.status == 503 and busy.value.retry_after >= 1
    finally:
        release.set()
        holder.join()
    with guard.hashing():  # free again
        pass


def test_limits_lockouts_and_their_lifting_are_audited(
    caplog: pytest.LogCaptureFixture, db: Database
) -> None:
    now = [1000.0]
    guard = SignInGuard(
        SignInRules(attempts_per_ip=10, lockout_failures=2, lockout_seconds=60),
        db,
        clock=lambda: now[0],
    )
    with caplog.at_level(logging.INFO, logger="vigil.audit"):
        for _ in range(2):
            guard.admit("198.51.100.1", "alice")
            guard.failed("198.51.100.1", "alice")
        with pytest.raises(SignInLocked):
            guard.admit("198.51.100.1", "alice")
        assert guard.unlock("alice", "198.51.100.1", "key-1") == 1
        guard.admit("198.51.100.1", "alice")
        guard.succeeded("198.51.100.1", "alice")
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vigil.audit"]
    assert [event["action"] for event in events] == [
        "sign_in_failed",
        "sign_in_failed",
        "sign_in_lockout",
        "sign_in_locked",
        "sign_in_unlock",
        "sign_in",
    ]
    assert events[2]["actor"] == "user:alice" and events[2]["address"] == "198.51.100.1"
    assert events[4]["actor"] == "key-1"


def test_a_lockout_ends_by_itself(db: Database) -> None:
    now = [0.0]
    guard = SignInGuard(
        SignInRules(attempts_per_ip=100, lockout_failures=1, lockout_seconds=30),
        db,
        clock=lambda: now[0],
    )
    guard.failed("198.51.100.1", "alice")
    with pytest.raises(SignInLocked) as locked:
        guard.admit("198.51.100.1", "alice")
    assert locked.value.retry_after == pytest.approx(30)
    now[0] = 31.0
    guard.admit("198.51.100.1", "alice")


def test_the_address_limit_is_a_sliding_window(db: Database) -> None:
    now = [0.0]
    guard = SignInGuard(SignInRules(attempts_per_ip=2, window_seconds=10), db, clock=lambda: now[0])
    guard.admit("198.51.100.1", "a")
    now[0] = 4.0
    guard.admit("198.51.100.1", "b")
    with pytest.raises(TooManySignIns) as limited:
        guard.admit("198.51.100.1", "c")
    assert limited.value.retry_after == pytest.approx(6)
    now[0] = 10.5
    guard.admit("198.51.100.1", "c")
