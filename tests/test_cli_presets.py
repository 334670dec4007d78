"""`vigil presets ...` as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run


def test_presets_set_show_list_delete(tmp_path: Path) -> None:
    created = run(
        "presets",
        "set",
        "chat",
        "--moderation",
        "manual",
        "--context",
        "audience=adult",
        "--tag",
        "chat",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    options = json.loads(created.stdout)["options"]
    assert options["moderation"] == "manual" and options["context"] == {"audience": "adult"}
    assert [p["name"] for p in json.loads(run("presets", "list", cwd=tmp_path).stdout)] == ["chat"]
    assert json.loads(run("presets", "delete", "chat", cwd=tmp_path).stdout) == {"deleted": "chat"}
    missing = run("presets", "show", "chat", cwd=tmp_path)
    assert missing.returncode == 2 and "PresetNotFound" in missing.stderr
    bad = run("presets", "set", "x", "--context", "nonsense", cwd=tmp_path)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr
