from __future__ import annotations

from pathlib import Path

import pytest

from tests.images import astronaut_jpeg, coffee_jpeg
from vigil.app import prepare_database
from vigil.errors import EmptyFile, InvalidParameter, NotReady, PolicyNotFound
from vigil.policy.loader import PolicyStore
from vigil.service.engine.moderation import ModerationEngine, ModerationResult
from vigil.settings import Settings

DEFAULT = PolicyStore().get("default")


def test_detectors_can_be_switched_off() -> None:
    engine = ModerationEngine(Settings(detectors="nsfw"))  # type: ignore[arg-type]
    assert [detector.name for detector in engine.detectors] == ["nsfw"]
    with pytest.raises(NotReady):
        engine.moderate(coffee_jpeg(), DEFAULT)
    engine.load()
    result = engine.moderate(coffee_jpeg(), DEFAULT)
    assert {found.detector for found in result.detections} == {"nsfw"}
    assert "nudity" not in result.model_version


def test_unknown_detector_or_policy_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="known detectors"):
        ModerationEngine(Settings(detectors=["nsfw", "psychic"]))
    with pytest.raises(PolicyNotFound):
        prepare_database(Settings(data_dir=tmp_path, default_policy="missing"))


def test_a_batch_keeps_order_and_refusals_in_place(engine: ModerationEngine) -> None:
    outcomes = engine.moderate_batch([astronaut_jpeg(), b"", coffee_jpeg()], DEFAULT)
    first, refused, third = outcomes
    assert isinstance(refused, EmptyFile)
    assert isinstance(first, ModerationResult) and isinstance(third, ModerationResult)
    alone = engine.moderate(astronaut_jpeg(), DEFAULT)
    assert [(lab.name, round(lab.confidence, 2)) for lab in first.labels] == [
        (lab.name, round(lab.confidence, 2)) for lab in alone.labels
    ]
    assert (first.image.width, third.image.width) == (512, 600)


def test_stored_detections_rebuild_the_same_labels_and_decision(engine: ModerationEngine) -> None:
    from vigil.detectors.base import Detection
    from vigil.labels import build_labels
    from vigil.policy.evaluate import evaluate
    from vigil.service.engine.fusion import fuse

    result = engine.moderate(astronaut_jpeg(), DEFAULT)
    stored = [Detection.from_dict(found.to_dict()) for found in result.detections]
    ran = {detector.name for detector in engine.detectors}
    rebuilt = build_labels(fuse(stored, ran).detections)
    assert [(lab.name, round(lab.confidence, 2)) for lab in rebuilt] == [
        (lab.name, round(lab.confidence, 2)) for lab in result.labels
    ]
    assert evaluate(rebuilt, DEFAULT).action == result.decision.action
