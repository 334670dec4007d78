"""`vigil models pull --repo ID --revision REV` and `vigil models embed-prompts NAME` through
the CLI, against the tiny hub on 127.0.0.1 (HF_ENDPOINT points there), and the registered
bundles' pins."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.detectors.conftest import decoded
from tests.detectors.tiny_clip import solid
from tests.service.model_tiny_hub import REPO, REVISION, serve, write_repo
from vigil.cli.main import app
from vigil.detectors import clip_prompts
from vigil.detectors.clip import ClipDetector
from vigil.errors import DetectorFailed
from vigil.service.engine.clip_text import embed_prompts, wanted_prompts
from vigil.service.engine.model_hub import HubSource
from vigil.service.engine.model_pull import REGISTRY

RED, BLUE, GREY = "a red thing", "a blue thing", "a grey thing"
runner = CliRunner()


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The models directory, with HF_ENDPOINT at a tiny hub serving the repository."""
    root = tmp_path / "hub"
    write_repo(root / REPO / REVISION)
    with serve(root) as (address, _):
        monkeypatch.setenv("HF_ENDPOINT", address)
        monkeypatch.setenv("VIGIL_MODELS_DIR", str(tmp_path / "models"))
        monkeypatch.setenv(
            "VIGIL_DETECTOR_OPTIONS", json.dumps({"clip": {"neutral_prompts": [GREY]}})
        )
        yield tmp_path / "models"


def pull_repo(*extra: str) -> str:
    args = ["models", "pull", "mine", "--repo", REPO, "--revision", REVISION, *extra]
    done = runner.invoke(app, [*args, "--timeout", "5"])
    assert done.exit_code == 0, done.output
    return done.output


def scores(models_dir: Path, **labels: str | list[str]) -> dict[str, float]:
    clip = ClipDetector(
        model="mine",
        models_dir=str(models_dir),
        custom_labels=labels,
        neutral_prompts=[GREY],
        logit_scale=20.0,
    )
    clip.load()
    return clip.scores([decoded(solid((20, 20, 230)))])[0]


def test_pull_with_repo_and_revision_records_the_checksums(models_dir: Path) -> None:
    output = pull_repo("--prompt", BLUE)
    assert f"from {REPO} at {REVISION}" in output
    assert "onnx/vision_model.onnx\tsha256 " in output and "recorded at first download" in output
    assert scores(models_dir, Gambling=BLUE)["Gambling"] > 95


def test_repo_without_revision_is_refused(models_dir: Path) -> None:
    done = runner.invoke(app, ["models", "pull", "mine", "--repo", REPO])
    assert done.exit_code == 2 and "--repo needs --revision" in done.output


def test_custom_prompts_added_later_are_embedded_with_the_text_tower(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pull_repo()
    with pytest.raises(DetectorFailed, match="vigil models embed-prompts mine"):
        scores(models_dir, Gambling=BLUE)
    options = {"clip": {"neutral_prompts": [GREY], "custom_labels": {"Gambling": [BLUE]}}}
    monkeypatch.setenv("VIGIL_DETECTOR_OPTIONS", json.dumps(options))
    done = runner.invoke(app, ["models", "embed-prompts", "mine", "--prompt", RED])
    assert done.exit_code == 0, done.output
    assert f"embedded\t{BLUE}" in done.output and f"embedded\t{RED}" in done.output
    assert scores(models_dir, Gambling=BLUE, Weapons=RED)["Gambling"] > 95
    again = runner.invoke(app, ["models", "embed-prompts", "mine"])
    assert "mine: nothing to add" in again.output


def test_a_new_pull_keeps_the_prompts_embedded_before(models_dir: Path) -> None:
    pull_repo()
    embed_prompts(models_dir / "mine", [BLUE])
    pull_repo()
    assert BLUE in json.loads((models_dir / "mine" / "prompts.json").read_text())


def test_embedding_needs_the_text_tower(models_dir: Path) -> None:
    pull_repo()
    (models_dir / "mine" / "text.onnx").unlink()
    with pytest.raises(DetectorFailed, match=r"has no text\.onnx"):
        embed_prompts(models_dir / "mine", [BLUE])
    done = runner.invoke(app, ["models", "embed-prompts", "nope"])
    assert done.exit_code == 2 and "No bundle 'nope'" in done.output


def test_without_the_extra_the_cli_says_what_to_install(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    done = runner.invoke(app, ["models", "pull", "clip-vit-b32"])
    assert done.exit_code == 2 and "pip install 'vigil[clip]'" in done.output
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def test_wanted_prompts_are_the_shipped_custom_and_neutral_ones_once() -> None:
    options = {"custom_labels": {"Knife": "a knife", "Weapons": ["a knife", RED]}}
    found = wanted_prompts({**options, "neutral_prompts": [GREY]}, [BLUE, RED])
    assert found == [*clip_prompts.all_prompts(), "a knife", RED, GREY, BLUE]


def test_list_shows_the_registered_bundles(models_dir: Path) -> None:
    listed = runner.invoke(app, ["models", "list"])
    assert "clip-vit-b32\tavailable: vigil models pull clip-vit-b32" in listed.output


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_hub_bundles_pin_a_commit_and_every_file(name: str) -> None:
    chosen = REGISTRY[name]
    assert isinstance(chosen, HubSource)
    assert re.fullmatch(r"[0-9a-f]{40}", chosen.revision)
    assert set(chosen.sha256) == set(chosen.files())
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in chosen.sha256.values())
