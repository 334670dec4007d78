"""`vigil keys create --aws`, `vigil aws topics ...` and `vigil ingest dead-letters` as real
processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.servers import VIGIL
from vigil.aws.keys import identity
from vigil.service.access.principal import Role
from vigil.storage.db import Database

TOPIC = "arn:aws:sns:eu-west-1:123456789012:done"


def vigil(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIL, *args],
        cwd=cwd,
        env={**os.environ, "VIGIL_DATA_DIR": str(cwd / "data"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_keys_create_aws_prints_the_pair_alone_on_the_last_line(tmp_path: Path) -> None:
    created = vigil("keys", "create", "--role", "uploader", "--aws", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    last = created.stdout.splitlines()[-1]
    assert re.fullmatch(r"VKIA[A-Z2-7]{16} [A-Za-z0-9_-]{40}", last)
    key_id, secret = last.split(" ")
    db = Database(f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    try:
        found = identity(db, key_id)
    finally:
        db.dispose()
    assert (found.secret, found.principal.role) == (secret, Role.UPLOADER)


def test_topics_add_list_remove(tmp_path: Path) -> None:
    private = {"VIGIL_WEBHOOK_ALLOW_PRIVATE": "true"}
    added = vigil("aws", "topics", "add", TOPIC, "http://127.0.0.1:9/sns", cwd=tmp_path, **private)
    assert added.returncode == 0, added.stderr
    listed = vigil("aws", "topics", "list", cwd=tmp_path)
    assert json.loads(listed.stdout) == [{"arn": TOPIC, "url": "http://127.0.0.1:9/sns"}]
    refused = vigil("aws", "topics", "add", TOPIC, "http://127.0.0.1:9/sns", cwd=tmp_path)
    assert refused.returncode == 2 and "UnsafeWebhookTarget" in refused.stderr
    assert vigil("aws", "topics", "remove", TOPIC, cwd=tmp_path).returncode == 0
    assert json.loads(vigil("aws", "topics", "list", cwd=tmp_path).stdout) == []
    assert json.loads(vigil("ingest", "dead-letters", cwd=tmp_path).stdout) == []
