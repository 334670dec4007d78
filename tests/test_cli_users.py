"""`vigil users ...` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.servers import VIGIL
from vigil.service.review.sign_in_guard import SignInGuard, SignInRules
from vigil.storage.db import Database


def users(*args: str, cwd: Path, password: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIL, "users", *args],
        cwd=cwd,
        env={**os.environ, "VIGIL_DATA_DIR": str(cwd / "data")},
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_list_disable(tmp_path: Path) -> None:
    created = users(
        "create",
        "alice",
        "--role",
        "lead",
        "--password-stdin",
        cwd=tmp_path,
        password="correct horse battery",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["role"] == "lead"
    assert "password" not in created.stdout
    twice = users("create", "alice", "--password-stdin", cwd=tmp_path, password="0123456789ab")
    assert twice.returncode == 2 and "UserExists" in twice.stderr
    short = users("create", "bob", "--password-stdin", cwd=tmp_path, password="short")
    assert short.returncode == 2 and "InvalidParameter" in short.stderr
    disabled = users("disable", "alice", cwd=tmp_path)
    assert json.loads(disabled.stdout)["disabled"] is True
    listed = json.loads(users("list", cwd=tmp_path).stdout)
    assert [(user["username"], user["disabled"]) for user in listed] == [("alice", True)]
    missing = users("disable", "nobody", cwd=tmp_path)
    assert missing.returncode == 2 and "UserNotFound" in missing.stderr


def test_sign_ins_lists_the_events_newest_first(tmp_path: Path) -> None:
    assert users("list", cwd=tmp_path).returncode == 0  # creates and migrates the database
    db = Database(f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    try:
        guard = SignInGuard(SignInRules(), db)
        guard.failed("203.0.113.1", "alice")
        guard.succeeded("198.51.100.7", "bob")
    finally:
        db.dispose()
    listed = users("sign-ins", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(e["username"], e["outcome"]) for e in json.loads(listed.stdout)] == [
        ("bob", "success"),
        ("alice", "failure"),
    ]
    alice = json.loads(users("sign-ins", "--username", "alice", cwd=tmp_path).stdout)
    assert [e["address"] for e in alice] == ["203.0.113.1"]
    assert alice[0]["at"].endswith("+00:00")
