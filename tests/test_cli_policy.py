"""`vigil policy ...` as a real process: versions persist and `vigil moderate` uses them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from tests.images import coffee_jpeg


def test_apply_rollback_and_moderate_with_the_active_version(tmp_path: Path) -> None:
    (tmp_path / "house.yaml").write_text("name: house\ncategories:\n  Explicit: {block: 0}\n")
    applied = run("policy", "apply", "house.yaml", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["version"] == 1
    (tmp_path / "c.jpg").write_bytes(coffee_jpeg())
    blocked = json.loads(run("moderate", "c.jpg", "--policy", "house", cwd=tmp_path).stdout)
    assert blocked["decision"]["action"] == "block"
    assert blocked["decision"]["policy_version"] == "1"

    (tmp_path / "house.yaml").write_text("name: house\ncategories:\n  Explicit: {block: 99}\n")
    assert json.loads(run("policy", "apply", "house.yaml", cwd=tmp_path).stdout)["version"] == 2
    allowed = json.loads(run("moderate", "c.jpg", "--policy", "house", cwd=tmp_path).stdout)
    assert allowed["decision"]["action"] == "allow"

    rolled = json.loads(run("policy", "rollback", "house", cwd=tmp_path).stdout)
    assert rolled["active_version"] == 1
    listed = json.loads(run("policy", "versions", "house", cwd=tmp_path).stdout)
    assert [(v["version"], v["active"]) for v in listed] == [(1, True), (2, False)]


def test_an_invalid_file_is_refused_with_its_code(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\ncategories:\n  Violence: {block: 101}\n")
    refused = run("policy", "apply", "bad.yaml", cwd=tmp_path)
    assert refused.returncode == 2
    assert "InvalidPolicy" in refused.stderr and "from 0 to 100" in refused.stderr


def test_moderate_with_context(tmp_path: Path) -> None:
    (tmp_path / "c.jpg").write_bytes(coffee_jpeg())
    child = run("moderate", "c.jpg", "--context", "audience=under_13", cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout)["decision"]["context"]["audience"] == "under_13"
    bad = run("moderate", "c.jpg", "--context", "planet=mars", cwd=tmp_path)
    assert bad.returncode == 2 and "InvalidParameter" in bad.stderr


def test_shadow_from_the_cli(tmp_path: Path) -> None:
    (tmp_path / "house.yaml").write_text("name: house\ncategories:\n  Explicit: {block: 99}\n")
    run("policy", "apply", "house.yaml", cwd=tmp_path)
    (tmp_path / "house.yaml").write_text("name: house\ncategories:\n  Explicit: {block: 0}\n")
    run("policy", "apply", "house.yaml", "--no-activate", cwd=tmp_path)
    started = run("policy", "shadow", "house", "2", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["shadow_version"] == 2
    neither = run("policy", "shadow", "house", cwd=tmp_path)
    assert neither.returncode == 2 and "InvalidParameter" in neither.stderr
    stopped = run("policy", "shadow", "house", "--stop", cwd=tmp_path)
    assert json.loads(stopped.stdout)["shadow_version"] is None
    report = json.loads(run("policy", "shadow-report", "house", cwd=tmp_path).stdout)
    assert report == {"policy": "house", "versions": []}
