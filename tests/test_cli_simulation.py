"""`vigil policy simulate` and `vigil policy suggest` as a real process, on a data directory
whose assets were uploaded in-process through the real detectors (there is no CLI upload)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run
from tests.conftest import Keys
from tests.decided_uploads import upload_and_decide
from vigil import taxonomy
from vigil.app import Vigil

# A candidate for the built-in default that blocks every photo: open_nsfw scores Explicit on all.
BLOCK_EVERYTHING = "name: default\ncategories:\n  Explicit: {block: 0}\n"


@pytest.fixture
def replayed(vigil: Vigil, keys: Keys) -> int:
    return upload_and_decide(vigil, keys)


def json_out(*args: str, cwd: Path) -> dict[str, Any]:
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_simulate_replays_every_moderated_asset(tmp_path: Path, replayed: int) -> None:
    (tmp_path / "candidate.yaml").write_text(BLOCK_EVERYTHING)
    result = run("policy", "simulate", "candidate.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["active"]["name"] == "default"
    assert report["since"] is None
    assert report["total"] == replayed
    assert report["candidate_actions"]["block"] == {"count": replayed, "share": 1.0}
    assert sum(shown["count"] for shown in report["active_actions"].values()) == replayed
    people = report["people"]["candidate"]
    assert (people["decided"], people["agreed"], people["false_positives"]) == (3, 1, 2)
    assert f"Replayed {replayed} assets." in result.stderr

    recent = json_out("policy", "simulate", "candidate.yaml", "--since", "30d", cwd=tmp_path)
    assert recent["total"] == replayed and recent["since"] is not None
    later = json_out("policy", "simulate", "candidate.yaml", "--since", "2999-01-01", cwd=tmp_path)
    assert later["total"] == 0


def test_suggest_reads_peoples_decisions(tmp_path: Path, replayed: int) -> None:
    found = json_out("policy", "suggest", "--target-precision", "0.95", cwd=tmp_path)
    assert (found["target_precision"], found["target_recall"]) == (0.95, 0.95)
    assert found["since"] is None and found["min_decisions"] == 20
    by_category = {entry["category"]: entry for entry in found["suggestions"]}
    assert list(by_category) == list(taxonomy.ALL_TOP_LEVEL)
    explicit = by_category["Explicit"]
    assert (explicit["decided"], explicit["rejected"]) == (3, 1)
    assert (explicit["block"], explicit["review"]) == (None, None)
    assert explicit["notes"] == ["not enough decisions (3 < 20)"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("simulate", "candidate.yaml", "--since", "yesterday"), "since"),
        (("simulate", "candidate.yaml", "--since", "30x"), "since"),
        (("suggest", "--target-precision", "0.95", "--since", "yesterday"), "since"),
        (("suggest", "--target-precision", "1.5"), "target_precision"),
    ],
)
def test_bad_parameters_exit_2_with_invalid_parameter(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    (tmp_path / "candidate.yaml").write_text(BLOCK_EVERYTHING)
    refused = run("policy", *args, cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "InvalidParameter" in refused.stderr and says in refused.stderr
    assert refused.stdout == ""
