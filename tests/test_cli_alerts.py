"""`vigil alerts ...` as a real process, mailing a real local SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from tests.smtp import smtp_server


def test_alerts_add_list_test_remove(tmp_path: Path) -> None:
    added = run(
        "alerts",
        "add",
        "--name",
        "hate",
        "--label",
        "Hate Symbols",
        "--min-confidence",
        "90",
        "--to",
        "ops@example.com",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    assert rule["min_confidence"] == 90 and rule["recipients"] == ["ops@example.com"]
    listed = json.loads(run("alerts", "list", cwd=tmp_path).stdout)
    assert [found["id"] for found in listed] == [rule["id"]]

    unconfigured = run("alerts", "test", rule["id"], cwd=tmp_path)
    assert unconfigured.returncode == 2
    assert "EmailNotConfigured" in unconfigured.stderr
    assert "VIGIL_SMTP_HOST" in unconfigured.stderr
    with smtp_server() as server:
        env = {"VIGIL_SMTP_HOST": "127.0.0.1", "VIGIL_SMTP_PORT": str(server.port)}
        tested = run("alerts", "test", rule["id"], cwd=tmp_path, env=env)
        assert tested.returncode == 0, tested.stderr
        assert json.loads(tested.stdout)["smtp_reply"].startswith("250")
        (mail,) = server.received
        assert "vigil-test-alert.jpg" in mail.subject

    removed = run("alerts", "remove", rule["id"], cwd=tmp_path)
    assert json.loads(removed.stdout) == {"deleted": rule["id"]}
    bad = run(
        "alerts", "add", "--name", "x", "--label", "Hate Symbol", "--to", "a@b.c", cwd=tmp_path
    )
    assert bad.returncode == 2 and "did you mean 'Hate Symbols'" in bad.stderr


def test_a_video_rule_from_the_command_line(tmp_path: Path) -> None:
    added = run(
        "alerts",
        "add",
        "--name",
        "weapons in video",
        "--label",
        "Weapons",
        "--min-confidence",
        "80",
        "--min-segments",
        "5",
        "--to",
        "ops@example.com",
        "--to",
        "oncall@example.com",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    assert rule["min_segments"] == 5 and rule["events"] == ["video.completed"]
    assert rule["recipients"] == ["ops@example.com", "oncall@example.com"]
