"""`vigil detectors`, run as a real process, with the built-ins and an installed plugin."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from tests.detectors.plugins import install_plugins
from tests.images import coffee_jpeg


def test_lists_the_builtins_without_loading_them(tmp_path: Path) -> None:
    result = run("detectors", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = {info["name"]: info for info in json.loads(result.stdout)}
    # The default set is enabled; the opt-in built-ins (clip, rekognition, ...) are listed too.
    assert {"nsfw", "nudity", "graphic", "clip", "rekognition"} <= set(listed)
    assert {name for name, info in listed.items() if info["enabled"]} == {
        "nsfw",
        "nudity",
        "graphic",
        "objects",
        "symbols",
        "gesture",
        "text",
    }
    assert listed["nudity"]["version"] == "nudenet==3.4.2"
    assert [name for name, info in listed.items() if info["on_demand"]] == ["gesture", "text"]
    assert listed["nudity"]["licence"].startswith("AGPL-3.0")
    assert "Exposed Female Nipple" in listed["nudity"]["labels"]
    assert listed["graphic"]["labels"] == ["Graphic Violence", "Explicit"]
    assert all(info["state"] == "not loaded" for info in listed.values())


def test_a_plugin_that_fails_to_load_is_reported(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(install_plugins(tmp_path)), "VIGIL_DETECTORS": "nsfw,broken"}
    result = run("detectors", "--load", "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 1  # an enabled detector failed
    listed = {info["name"]: info for info in json.loads(result.stdout)}
    assert listed["nsfw"]["state"] == "loaded"
    assert listed["broken"]["state"] == "failed"
    assert "missing-weights.onnx" in listed["broken"]["error"]
    assert listed["echo"]["enabled"] is False and listed["echo"]["state"] == "loaded"
    assert not listed["nudity"]["enabled"]
    table = run("detectors", cwd=tmp_path, env=env)
    assert "echo==1.0" in table.stdout and "AGPL-3.0" in table.stdout


def test_moderation_goes_on_without_the_failed_detector(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(install_plugins(tmp_path)), "VIGIL_DETECTORS": "nsfw,broken"}
    (tmp_path / "coffee.jpg").write_bytes(coffee_jpeg())
    result = run("moderate", "coffee.jpg", "--min-confidence", "0", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "detector broken is left out" in result.stderr
    assert "missing-weights.onnx" in result.stderr
    record = json.loads(result.stdout)
    assert {found["Detector"] for found in record["Detections"]} == {"nsfw"}
