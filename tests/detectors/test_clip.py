"""The clip detector on a tiny model the test builds: labels from prompts, custom labels, the
missing-model error, and a run through ModerationEngine next to a bundled detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detectors.conftest import decoded
from tests.detectors.tiny_clip import BLUE, GREY, RED, solid, write_bundle
from vigil import taxonomy
from vigil.detectors.clip import ClipDetector
from vigil.errors import DetectorFailed
from vigil.labels import build_labels
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

CUSTOM = {"Weapons": RED, "Gambling": [BLUE]}


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    write_bundle(tmp_path / "models" / "tiny")
    return tmp_path / "models"


def detector(models_dir: Path, **options: object) -> ClipDetector:
    found = ClipDetector(
        model="tiny", models_dir=str(models_dir), neutral_prompts=[GREY], **options
    )
    found.load()
    return found


def test_red_is_weapons_blue_is_gambling_grey_is_neither(models_dir: Path) -> None:
    clip = detector(models_dir, custom_labels=CUSTOM)
    red, blue, grey = clip.scores(
        [decoded(solid((220, 10, 10))), decoded(solid((10, 10, 220))), decoded(solid((128,) * 3))]
    )
    assert red["Weapons"] > 95 and red["Gambling"] < 5
    assert blue["Gambling"] > 95 and blue["Weapons"] < 5
    assert grey["Weapons"] < 50 and grey["Gambling"] < 50
    # Shipped prompts point along an axis no image reaches: those labels stay low.
    assert red["Pills"] < 5 and grey["Nazi Party"] < 5


def test_detections_carry_taxonomy_names(models_dir: Path) -> None:
    [detections] = detector(models_dir, custom_labels=CUSTOM).detect([decoded(solid((250, 0, 0)))])
    best = max(detections, key=lambda d: d.confidence)
    assert (best.label, best.detector) == ("Weapons", "clip")


def test_a_custom_label_outside_the_taxonomy_goes_under_custom(models_dir: Path) -> None:
    clip = detector(models_dir, custom_labels={"Knife": RED})
    [detections] = clip.detect([decoded(solid((240, 0, 0)))])
    labels = {label.name: label for label in build_labels(detections)}
    assert labels["Knife"].confidence > 95
    assert (labels["Knife"].parent, labels["Knife"].level) == (taxonomy.CUSTOM, 2)


def test_a_prompt_without_an_embedding_is_named(models_dir: Path) -> None:
    with pytest.raises(DetectorFailed, match="no text embedding for 'a photo of a sword'"):
        detector(models_dir, custom_labels={"Weapons": "a photo of a sword"})


def test_missing_model_names_the_folder_and_the_pull_command(tmp_path: Path) -> None:
    clip = ClipDetector(model="clip-vit-b32", models_dir=str(tmp_path))
    with pytest.raises(DetectorFailed) as caught:
        clip.load()
    assert str(tmp_path / "clip-vit-b32") in caught.value.message
    assert "vigil models pull clip-vit-b32" in caught.value.message


def test_models_dir_setting_is_the_default(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(models_dir))
    clip = ClipDetector(model="tiny", neutral_prompts=[GREY], custom_labels=CUSTOM)
    clip.load()
    assert clip.scores([decoded(solid((0, 0, 255)))])[0]["Gambling"] > 95


def test_runs_in_the_engine_next_to_a_bundled_detector(models_dir: Path) -> None:
    options = {"model": "tiny", "models_dir": str(models_dir), "neutral_prompts": [GREY]}
    settings = Settings(
        detectors=["graphic", "clip"],
        detector_options={"clip": {**options, "custom_labels": CUSTOM}},
    )
    engine = ModerationEngine(settings)
    engine.load()
    assert engine.failures == {}
    assert "clip@clip:tiny" in engine.model_version
    [found] = engine.detect([decoded(solid((230, 20, 20)))])
    by_detector = {(d.detector, d.label): d.confidence for d in found}
    assert by_detector[("clip", "Weapons")] > 95
    assert ("graphic", "Graphic Violence") in by_detector


def test_engine_leaves_clip_out_when_its_model_is_missing(tmp_path: Path) -> None:
    settings = Settings(
        detectors=["graphic", "clip"], detector_options={"clip": {"models_dir": str(tmp_path)}}
    )
    engine = ModerationEngine(settings)
    engine.load()
    assert "vigil models pull" in engine.failures["clip"]
    assert [d.name for d in engine.detectors] == ["graphic"]
