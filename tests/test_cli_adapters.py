"""`vigil adapters train|list|delete` and `vigil moderate --adapter`, as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.adapter_images import photo, variant, write_manifest
from tests.cli_runner import run
from tests.images import coffee_jpeg


def test_train_list_moderate_and_delete(tmp_path: Path) -> None:
    write_manifest(tmp_path / "set")
    trained = run("adapters", "train", "set/manifest.jsonl", "--name", "cats", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    row = next(line for line in trained.stdout.splitlines() if "Cat" in line and "│" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[0] == "Cat" and len(cells) == 7  # label, precision, recall, TP, FP, FN, TN
    assert sum(int(cell) for cell in cells[3:]) == 12  # the held-out quarter of 48 images
    assert "saved adapter cats v1" in trained.stderr
    assert (tmp_path / "data" / "adapters" / "cats" / "v1" / "head.npz").is_file()

    listed = run("adapters", "list", "--format", "json", cwd=tmp_path)
    (entry,) = json.loads(listed.stdout)
    assert (entry["name"], entry["versions"], entry["labels"]) == ("cats", ["v1"], ["Cat"])

    variant(photo("chelsea"), np.random.default_rng(99)).save(tmp_path / "cat.jpg")
    (tmp_path / "coffee.jpg").write_bytes(coffee_jpeg())
    moderated = run("moderate", "cat.jpg", "coffee.jpg", "--adapter", "cats", cwd=tmp_path)
    assert moderated.returncode == 0, moderated.stderr
    cat, cup = (json.loads(line) for line in moderated.stdout.splitlines())
    assert {"Cat", "Custom"} <= {label["Name"] for label in cat["ModerationLabels"]}
    assert "Cat" not in {label["Name"] for label in cup["ModerationLabels"]}

    unknown = run("moderate", "cat.jpg", "--adapter", "dogs", cwd=tmp_path)
    assert unknown.returncode == 2 and "AdapterNotFound" in unknown.stderr

    deleted = run("adapters", "delete", "cats", cwd=tmp_path)
    assert json.loads(deleted.stdout) == {"deleted": "cats", "versions": ["v1"]}
    assert json.loads(run("adapters", "list", "--format", "json", cwd=tmp_path).stdout) == []
