"""`vigil lists ...` as a real process: create, add, import, export, show, remove, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from skimage import data

from tests.cli_runner import run
from tests.images import encode

ENV = {"VIGIL_DETECTORS": "nsfw"}


def vigil(*args: str, cwd: Path) -> Any:
    done = run("lists", *args, cwd=cwd, env=ENV)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else done.stdout


def test_a_list_from_the_command_line(tmp_path: Path) -> None:
    made = vigil("create", "hate", "--action", "block", "--label", "Hate Symbols", cwd=tmp_path)
    assert (made["name"], made["label"], made["distance"]) == ("hate", "Hate Symbols", 31)
    (tmp_path / "cat.png").write_bytes(encode(data.chelsea(), "PNG"))
    added = vigil("add", "hate", "cat.png", "--note", "seen before", cwd=tmp_path)
    assert added["images"]["added"] == 1
    hashes = [
        bytes(row).hex()
        for row in np.random.default_rng(1).integers(0, 256, (3, 32), dtype=np.uint8)
    ]
    (tmp_path / "partner.txt").write_text("\n".join(hashes) + "\n")
    imported = vigil("import", "hate", "partner.txt", cwd=tmp_path)
    assert imported["added"] == 3
    exported = vigil("export", "hate", cwd=tmp_path)
    assert exported.split()[1:] == hashes
    vigil("export", "hate", "--format", "csv", "--output", "out.csv", cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text().startswith("hash,quality,note,")
    assert vigil("remove", "hate", hashes[0], cwd=tmp_path)["removed"] == hashes[0]
    listed = {view["name"]: view["items"] for view in vigil("list", cwd=tmp_path)}
    assert listed == {"approved": 0, "hate": 3, "rejected": 0}
    assert vigil("rematch", "hate", cwd=tmp_path)["matches"] == []
    assert vigil("delete", "hate", cwd=tmp_path) == {"deleted": "hate", "items_removed": 3}


def test_a_bad_file_names_its_line_and_exits_2(tmp_path: Path) -> None:
    vigil("create", "partner", cwd=tmp_path)
    (tmp_path / "bad.txt").write_text("a" * 64 + "\nnope\n")
    refused = run("lists", "import", "partner", "bad.txt", cwd=tmp_path, env=ENV)
    assert refused.returncode == 2
    assert "InvalidHash" in refused.stderr and "line 2: 'nope'" in refused.stderr
    shown = vigil("show", "partner", cwd=tmp_path)
    assert shown["items"] == 0
