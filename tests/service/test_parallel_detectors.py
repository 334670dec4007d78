"""Detectors of a batch run at the same time by default; results and failures are the same as
one after another."""

from __future__ import annotations

import pytest
from PIL import Image
from skimage import data

from vigil.detectors.base import Detection
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

DETECTORS = ["nsfw", "nudity", "graphic", "gesture"]


def images() -> list[DecodedImage]:
    found = []
    for name in ("astronaut", "coffee", "chelsea"):
        pixels = Image.fromarray(getattr(data, name)()).convert("RGB")
        found.append(DecodedImage(pixels, "png", "image/png", pixels.width, pixels.height, 0))
    return found


def engine(parallel: bool) -> ModerationEngine:
    built = ModerationEngine(Settings(detectors=DETECTORS, parallel_detectors=parallel))
    built.load()
    return built


def shape(found: list[list[Detection]]) -> list[list[tuple[str, str, float]]]:
    return [[(d.detector, d.label, round(d.confidence, 3)) for d in one] for one in found]


def test_parallel_and_sequential_runs_give_the_same_detections_in_the_same_order() -> None:
    batch = images()
    together, in_turn = engine(True).detect(batch), engine(False).detect(batch)
    assert shape(together) == shape(in_turn)
    order = [d.detector for d in together[0]]
    assert order == sorted(order, key=DETECTORS.index)  # detector order, not finishing order


def test_a_detector_failing_on_its_thread_fails_the_batch_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = engine(True)
    graphic = next(d for d in running.detectors if d.name == "graphic")

    def broken(_images: object) -> list[list[Detection]]:  # a fault we cannot otherwise cause
        raise DetectorFailed("The graphic detector failed during inference: out of memory")

    monkeypatch.setattr(graphic, "detect", broken)
    with pytest.raises(DetectorFailed, match="out of memory"):
        running.detect(images())
    monkeypatch.undo()
    assert len(running.detect(images())) == 3  # the engine keeps serving
