"""`vigil keys ...` as real processes; a revoke made by another process (the CLI) refused by a
running app on its next request; durations; and migration 0017 both ways."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

from tests.cli_runner import run
from tests.conftest import running_vigil
from tests.servers import VIGIL
from vigil.api.app import create_app
from vigil.app import Vigil
from vigil.aws.keys import identity
from vigil.errors import InvalidParameter, Unauthorized, UnrecognizedClient
from vigil.service.access.keys import authenticate, parse_duration
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.db import SCHEMA_HEAD, Database, migrate, schema_version
from vigil.storage.tables import ApiKeyRow


def keys(*args: str, cwd: Path, **env: str) -> Any:
    return run("keys", *args, cwd=cwd, env=env)


def last_line(done: Any) -> str:
    assert done.returncode == 0, done.stderr
    line: str = done.stdout.strip().splitlines()[-1]
    return line


def listed(cwd: Path) -> dict[str, dict[str, Any]]:
    done = keys("list", "--format", "json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert isinstance(entries, list)
    return {entry["id"]: entry for entry in entries}


def database(cwd: Path) -> Database:
    return Database(f"sqlite:///{cwd / 'data' / 'vigil.db'}")


def key_id_of(cwd: Path, secret: str) -> str:
    db = database(cwd)
    try:
        return authenticate(db, f"Bearer {secret}").key_id
    finally:
        db.dispose()


def test_list_in_both_formats(tmp_path: Path) -> None:
    secret = last_line(
        keys("create", "--role", "uploader", "--name", "shop", "--expires-in", "30d", cwd=tmp_path)
    )
    pair = last_line(keys("create", "--role", "reviewer", "--aws", cwd=tmp_path)).split(" ")
    key_id = key_id_of(tmp_path, secret)
    found = listed(tmp_path)
    shop = found[key_id]
    assert (shop["kind"], shop["name"], shop["role"], shop["status"]) == (
        "api",
        "shop",
        "uploader",
        "active",
    )
    assert shop["last_used_at"] is not None  # key_id_of authenticated with it
    expires = datetime.fromisoformat(shop["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    aws = [entry for entry in found.values() if entry["kind"] == "aws"]
    assert [p["access_key_id"] for p in aws[0]["access_keys"]] == [pair[0]]
    assert secret not in json.dumps(found) and pair[1] not in json.dumps(found)
    table = keys("list", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    for text in (key_id, "shop", "uploader", pair[0], "reviewer", "aws", "Last used"):
        assert text in table.stdout
    refused = keys("create", "--role", "uploader", "--expires-in", "soon", cwd=tmp_path)
    assert refused.returncode == 2 and "InvalidParameter" in refused.stderr


def test_rotate_grant_revoke_and_events(tmp_path: Path) -> None:
    old = last_line(keys("create", "--role", "uploader", cwd=tmp_path))
    key_id = key_id_of(tmp_path, old)
    rotated = keys("rotate", key_id, cwd=tmp_path)
    new = last_line(rotated)
    assert new.startswith("vgl_") and new != old and "the old secret works until" in rotated.stderr
    assert key_id_of(tmp_path, old) == key_id_of(tmp_path, new) == key_id  # the overlap
    now = last_line(keys("rotate", key_id, "--overlap-hours", "0", cwd=tmp_path))
    db = database(tmp_path)
    try:
        with pytest.raises(Unauthorized) as refused:  # no overlap: no old secret kept at all
            authenticate(db, f"Bearer {new}")
        assert refused.value.code == "Unauthorized"
        assert authenticate(db, f"Bearer {now}").key_id == key_id
    finally:
        db.dispose()
    granted = json.loads(keys("grant", key_id, "skip-moderation", cwd=tmp_path).stdout)
    assert granted["grants"] == ["skip-moderation"]
    shown = json.loads(keys("show", key_id, cwd=tmp_path).stdout)
    assert shown["grants"] == ["skip-moderation"]
    taken = json.loads(keys("revoke-grant", key_id, "skip-moderation", cwd=tmp_path).stdout)
    assert taken["grants"] == []
    revoked = json.loads(keys("revoke", key_id, cwd=tmp_path).stdout)
    assert revoked["status"] == "revoked"
    again = keys("rotate", key_id, cwd=tmp_path)
    assert again.returncode == 2 and "KeyRevoked" in again.stderr
    missing = keys("revoke", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "KeyNotFound" in missing.stderr
    events = json.loads(keys("events", key_id, cwd=tmp_path).stdout)
    assert [e["action"] for e in events] == [
        "create",
        "rotate",
        "rotate",
        "grant",
        "revoke-grant",
        "revoke",
    ]
    assert {e["actor"] for e in events} == {"cli"}


def test_an_aws_pair_is_rotated_and_revoked_from_the_cli(tmp_path: Path) -> None:
    old_id, _old_secret = last_line(
        keys("create", "--role", "uploader", "--aws", cwd=tmp_path)
    ).split()
    new_id, new_secret = last_line(keys("rotate", old_id, cwd=tmp_path)).split()
    assert re.fullmatch(r"VKIA[A-Z2-7]{16}", new_id) and new_id != old_id
    db = database(tmp_path)
    try:
        assert identity(db, new_id).secret == new_secret
        identity(db, old_id)  # still works: the overlap
        assert keys("revoke", new_id, cwd=tmp_path).returncode == 0  # by access key id
        for access_key_id in (old_id, new_id):
            with pytest.raises(UnrecognizedClient):
                identity(db, access_key_id)
    finally:
        db.dispose()


@pytest.fixture
def served(tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    """A vigil on tmp_path/data, the data directory the CLI runs use."""
    with running_vigil(tmp_path, nsfw_engine, policy_dir) as running:
        yield running


def test_a_revoke_from_another_process_is_refused_on_the_next_request(
    tmp_path: Path, served: Vigil, policy_dir: Path
) -> None:
    secret = last_line(keys("create", "--role", "uploader", cwd=tmp_path))
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(served, run_worker=False)) as http:
        assert http.get("/v1/assets", headers=headers).status_code == 200
        key_id = authenticate(served.db, headers["Authorization"]).key_id
        done = subprocess.run(  # a process of its own, whatever `run` does
            [VIGIL, "keys", "revoke", key_id],
            cwd=tmp_path,
            env={
                **os.environ,
                "VIGIL_DATA_DIR": str(tmp_path / "data"),
                "VIGIL_POLICY_DIR": str(policy_dir),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        refused = http.get("/v1/assets", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "Unauthorized"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), (" 90m", timedelta(minutes=90))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration("2w") == timedelta(weeks=2)


@pytest.mark.parametrize("text", ["", "30", "d", "0h", "-1d", "1.5d", "3y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_duration(text)


def test_migration_0017_downgrades_and_upgrades_again(database_url: str) -> None:
    migrate(database_url)
    engine = sa.create_engine(database_url)
    past = datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as connection:
        for key_id, expires in (("gone", past), ("live", None)):
            connection.execute(
                sa.text(
                    "INSERT INTO api_keys (id, key_hash, role, name, created_at, expires_at, "
                    "grants) VALUES (:id, :hash, 'uploader', '', :now, :expires, '[]')"
                ),
                {"id": key_id, "hash": key_id * 4, "now": past, "expires": expires},
            )
        connection.execute(
            sa.text(
                "INSERT INTO aws_access_keys (access_key_id, secret, api_key_id, created_at, "
                "expires_at) VALUES ('VKIAOLD', 's', 'live', :now, :now)"
            ),
            {"now": past},
        )
    config = Config()
    config.set_main_option("script_location", str(resources.files("vigil.storage.migrations")))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.downgrade(config, "0016")
    found = sa.inspect(engine)
    assert "api_key_events" not in found.get_table_names()
    assert "grants" not in {column["name"] for column in found.get_columns("api_keys")}
    with engine.connect() as connection:
        revoked = dict(connection.execute(sa.text("SELECT id, revoked_at FROM api_keys")).all())
        pairs = connection.execute(sa.text("SELECT count(*) FROM aws_access_keys")).scalar()
    engine.dispose()
    assert revoked["gone"] is not None and revoked["live"] is None  # expired keys stay refused
    assert pairs == 0  # a rotated-away pair must not work again without its expiry
    migrate(database_url)
    assert schema_version(database_url) == SCHEMA_HEAD
    db = Database(database_url)
    try:
        with db.session() as session:
            live = session.get(ApiKeyRow, "live")
            assert live is not None and live.grants == [] and live.expires_at is None
    finally:
        db.dispose()
