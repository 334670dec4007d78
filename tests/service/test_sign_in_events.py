"""Issue 16, item 3 follow-up: sign-in lockouts are counted from the sign_in_events table, so
every process on one database sees them, a restart keeps them and an unlock anywhere lifts
them; every attempt's outcome is a row that admins can list. Each guard below has its own
Database (its own engine and pool), as two `vigil serve` processes would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from tests.conftest import running_vigil
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.errors import SignInLocked, TooManySignIns
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.review.sign_in_guard import SignInGuard, SignInRules
from vigil.settings import Settings
from vigil.storage.db import Database, migrate

RULES = SignInRules(attempts_per_ip=10, window_seconds=60, lockout_failures=2, lockout_seconds=60)
DESK, ATTACKER = "198.51.100.7", "203.0.113.1"
START = 1_800_000_000.0
OpenGuard = Callable[..., SignInGuard]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate(database_url)
    return database_url


@pytest.fixture
def open_guard(migrated: str, clock: Clock) -> Iterator[OpenGuard]:
    """Opens guards on the test's database, each on its own engine (a process's view)."""
    opened: list[Database] = []

    def guard(rules: SignInRules = RULES) -> SignInGuard:
        opened.append(Database(migrated))
        return SignInGuard(rules, opened[-1], clock=clock)

    yield guard
    for db in opened:
        db.dispose()


def fail_until_locked(guard: SignInGuard, address: str = ATTACKER) -> None:
    for _ in range(RULES.lockout_failures):
        guard.admit(address, "alice")
        guard.failed(address, "alice")


def test_a_lockout_is_seen_by_another_process(open_guard: OpenGuard) -> None:
    first, second = open_guard(), open_guard()
    fail_until_locked(first)
    with pytest.raises(SignInLocked) as locked:
        second.admit(ATTACKER, "alice")
    assert locked.value.retry_after == pytest.approx(RULES.lockout_seconds, abs=0.01)
    assert [(e["username"], e["address"]) for e in second.lockouts()] == [("alice", ATTACKER)]
    second.admit(DESK, "alice")  # the pair is locked, not the username


def test_a_lockout_survives_a_restart(migrated: str, clock: Clock) -> None:
    before = Database(migrated)
    fail_until_locked(SignInGuard(RULES, before, clock=clock))
    before.dispose()
    after = Database(migrated)
    try:
        with pytest.raises(SignInLocked):
            SignInGuard(RULES, after, clock=clock).admit(ATTACKER, "alice")
    finally:
        after.dispose()


def test_an_unlock_anywhere_lifts_it_and_starts_the_count_afresh(
    open_guard: OpenGuard, clock: Clock
) -> None:
    first, second = open_guard(), open_guard()
    fail_until_locked(first)
    assert second.unlock("alice", None, "key-admin") == 1
    first.admit(ATTACKER, "alice")
    first.failed(ATTACKER, "alice")  # one failure since the unlock: under the limit
    clock.now += 1
    first.admit(ATTACKER, "alice")
    assert second.unlock("alice", ATTACKER, "key-admin") == 0  # nothing in force


def test_a_success_starts_the_count_afresh_and_a_lockout_ends(
    open_guard: OpenGuard, clock: Clock
) -> None:
    guard = open_guard(SignInRules(attempts_per_ip=100, lockout_failures=2, lockout_seconds=60))
    guard.failed(ATTACKER, "alice")
    guard.succeeded(ATTACKER, "alice")
    guard.failed(ATTACKER, "alice")
    guard.admit(ATTACKER, "alice")
    guard.failed(ATTACKER, "alice")
    with pytest.raises(SignInLocked):
        guard.admit(ATTACKER, "alice")
    clock.now += 61
    guard.admit(ATTACKER, "alice")
    assert guard.lockouts() == []


def test_every_outcome_is_a_row(open_guard: OpenGuard, clock: Clock) -> None:
    guard = open_guard(SignInRules(attempts_per_ip=2, lockout_failures=2, lockout_seconds=300))
    guard.admit(DESK, "alice")
    guard.succeeded(DESK, "alice")
    fail_until_locked(guard, ATTACKER)  # 2 attempts from ATTACKER: the address's limit
    with pytest.raises(TooManySignIns):
        guard.admit(ATTACKER, "alice")
    clock.now += 61  # the address limit's window has passed; the lockout has not
    with pytest.raises(SignInLocked):
        guard.admit(ATTACKER, "alice")
    guard.unlock("alice", None, "key-admin")
    events = open_guard().events()  # newest first, as any process lists them
    assert [(e["outcome"], e["address"], e["actor"]) for e in events] == [
        ("unlocked", None, "key-admin"),
        ("locked", ATTACKER, None),
        ("rate_limited", ATTACKER, None),
        ("failure", ATTACKER, None),
        ("failure", ATTACKER, None),
        ("success", DESK, None),
    ]
    assert events[-1]["at"].timestamp() == pytest.approx(START)
    assert [e["outcome"] for e in guard.events(username="bob")] == []
    assert [e["outcome"] for e in guard.events(address=DESK)] == ["success"]
    assert len(guard.events(limit=2)) == 2


def test_old_events_are_purged(open_guard: OpenGuard, clock: Clock) -> None:
    guard = open_guard()
    guard.failed(ATTACKER, "alice")
    clock.now += 31 * 86400
    guard.succeeded(DESK, "alice")
    assert guard.purge_events() == 1
    assert [e["outcome"] for e in guard.events()] == ["success"]


def test_the_migration_goes_down_and_up(migrated: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(resources.files("vigil.storage.migrations")))
    config.set_main_option("sqlalchemy.url", migrated.replace("%", "%%"))
    command.downgrade(config, "0018")
    assert "sign_in_events" not in _tables(migrated)
    command.upgrade(config, "head")
    assert "sign_in_events" in _tables(migrated)
    assert {"ix_sign_in_events_user_address_at", "ix_sign_in_events_address_at"} <= _indexes(
        migrated
    )


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _indexes(url: str) -> set[str | None]:
    engine = create_engine(url)
    try:
        return {each["name"] for each in inspect(engine).get_indexes("sign_in_events")}
    finally:
        engine.dispose()


# -- over the API and the console, two apps on one database --------------------------------------


PASSWORD = "correct horse battery"


@dataclass
class TwoApps:
    one: TestClient
    other: TestClient
    vigil: Vigil  # the first's services
    admin: dict[str, str]  # an admin key's headers


@pytest.fixture
def two_apps(tmp_path: Path, database_url: str, policy_dir: Path) -> Iterator[TwoApps]:
    """Two vigils (two processes' worth of services) on one database, and alice. The models
    are never loaded: no lifespan runs, and signing in needs none."""
    engine = ModerationEngine(Settings(policy_dir=policy_dir, detectors=["nsfw"]))
    limits = {"database_url": database_url, "login_lockout_failures": 2}
    with (
        running_vigil(tmp_path / "a", engine, policy_dir, **limits) as one,
        running_vigil(tmp_path / "b", engine, policy_dir, **limits) as other,
    ):
        one.users.create("alice", PASSWORD, "reviewer")
        admin = {"Authorization": f"Bearer {create_key(one.db, Role.ADMIN)}"}
        yield TwoApps(TestClient(create_app(one)), TestClient(create_app(other)), one, admin)


def console_sign_in(client: TestClient, password: str) -> int:
    form = client.get("/review/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    fields = {"username": "alice", "password": password, "csrf_token": token}
    return client.post("/review/login", data=fields, follow_redirects=False).status_code


def test_the_console_lockout_holds_across_apps_and_admins_list_the_events(
    two_apps: TwoApps,
) -> None:
    one, other, admin = two_apps.one, two_apps.other, two_apps.admin
    assert [console_sign_in(one, "wrong password!") for _ in range(2)] == [401, 401]
    assert console_sign_in(other, PASSWORD) == 429  # the other process sees the lockout
    assert other.delete("/v1/users/alice/lockout", headers=admin).json()["lifted"] == 1
    assert console_sign_in(one, PASSWORD) == 303

    listed = one.get("/v1/users/sign-ins", params={"username": "alice"}, headers=admin)
    assert listed.status_code == 200
    events = listed.json()["events"]
    assert [e["outcome"] for e in events] == [
        "success",
        "unlocked",
        "locked",
        "failure",
        "failure",
    ]
    assert events[0]["at"].endswith("+00:00") and events[1]["actor"]
    assert one.get("/v1/users/sign-ins", params={"limit": 0}, headers=admin).status_code == 400


@pytest.mark.parametrize("role", [Role.UPLOADER, Role.REVIEWER])
def test_only_admins_list_sign_in_events(two_apps: TwoApps, role: Role) -> None:
    key = create_key(two_apps.vigil.db, role)
    refused = two_apps.one.get("/v1/users/sign-ins", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403
