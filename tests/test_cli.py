"""The `vigil` command, run as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from tests.images import astronaut_jpeg, chelsea_png


def test_moderate_prints_one_json_object_per_file(tmp_path: Path) -> None:
    (tmp_path / "astronaut.jpg").write_bytes(astronaut_jpeg())
    (tmp_path / "notes.jpg").write_text("not an image")
    result = run("moderate", "astronaut.jpg", "notes.jpg", "--min-confidence", "0", cwd=tmp_path)
    assert result.returncode == 1  # one file was refused
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["file"] == "astronaut.jpg"
    assert {found["Detector"] for found in first["Detections"]} >= {"nsfw", "graphic"}
    assert first["decision"]["action"] == "allow"
    assert second == {
        "file": "notes.jpg",
        "error": {"code": "InvalidImageFormat", "message": second["error"]["message"]},
    }


def test_moderate_table_format(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(chelsea_png())
    result = run("moderate", "cat.png", "--format", "table", "--min-confidence", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ALLOW" in result.stdout and "Explicit" in result.stdout


def test_scan_writes_a_report_and_summarises(tmp_path: Path) -> None:
    photos = tmp_path / "photos" / "nested"
    photos.mkdir(parents=True)
    (photos / "a.jpg").write_bytes(astronaut_jpeg())
    (photos.parent / "b.png").write_bytes(chelsea_png())
    (photos / "empty.gif").write_bytes(b"")
    result = run("scan", "photos", "--report", "out.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) == 3
    assert sum("decision" in record for record in records) == 2
    assert "scanned 3 file(s)" in result.stdout
    assert "refused photos/nested/empty.gif: EmptyFile" in result.stdout


def test_keys_create_prints_the_key_last_and_settings_show_sources(tmp_path: Path) -> None:
    created = run("keys", "create", "--role", "reviewer", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("vgl_")
    refused = run("keys", "create", "--role", "wizard", cwd=tmp_path)
    assert refused.returncode == 2 and "InvalidParameter" in refused.stderr
    (tmp_path / "vigil.toml").write_text("min_confidence = 70\n")
    shown = run("settings", cwd=tmp_path, env={"VIGIL_PORT": "9001"})
    lines = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines() if "│" in line}
    assert "9001" in lines["VIGIL_PORT"] and "env VIGIL_PORT" in lines["VIGIL_PORT"]
    assert "70.0" in lines["VIGIL_MIN_CONFIDENCE"] and "vigil.toml" in lines["VIGIL_MIN_CONFIDENCE"]
    assert "default" in lines["VIGIL_HOST"]
    assert "env VIGIL_DATA_DIR" in lines["VIGIL_DATA_DIR"]
