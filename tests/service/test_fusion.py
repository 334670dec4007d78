"""Fusion: detectors corroborating one another before labels are built."""

from __future__ import annotations

import pytest

from vigil.detectors.base import Box, Detection
from vigil.labels import build_labels
from vigil.service.engine.fusion import FLOOR, corroborated, describe, fuse

BOX = Box(0.1, 0.1, 0.2, 0.2)


def region(label: str, confidence: float) -> Detection:
    return Detection(label, confidence, "nudity", BOX)


def whole(detector: str, confidence: float, label: str = "Explicit") -> Detection:
    return Detection(label, confidence, detector)


def confidence_of(detections: list[Detection], detector: str, label: str) -> float:
    (found,) = [d for d in detections if d.detector == detector and d.label == label]
    return found.confidence


def test_an_uncorroborated_region_is_lowered_and_reported() -> None:
    # The matchstick: NudeNet sees genitalia, the whole-image classifiers see nothing.
    raw = [region("Exposed Male Genitalia", 61.6), whole("nsfw", 2.0), whole("graphic", 1.0)]
    fused = fuse(raw, ("nsfw", "nudity", "graphic"))
    lowered = confidence_of(fused.detections, "nudity", "Exposed Male Genitalia")
    assert lowered == pytest.approx(corroborated(61.6, 2.0))
    assert lowered < 50.0  # under the default policy's Explicit review band
    (adjustment,) = fused.adjustments
    shown = adjustment.to_dict()
    assert shown["Confidence"] == 61.6 and shown["CorroboratedBy"] == ["graphic", "nsfw"]
    assert "Fusion lowered nudity's Exposed Male Genitalia from 61.6" in describe([shown])
    labels = {label.name: label.confidence for label in build_labels(fused.detections)}
    assert labels["Exposed Male Genitalia"] == pytest.approx(lowered)


ALL = ("nsfw", "nudity", "graphic")


def test_agreement_leaves_confidences_unchanged() -> None:
    raw = [region("Exposed Female Nipple", 90.0), whole("nsfw", 90.0), whole("graphic", 85.0)]
    fused = fuse(raw, ALL)
    assert fused.detections == raw and fused.adjustments == []


def test_whole_image_explicit_needs_an_exposed_region() -> None:
    # A pink hog: both whole-image classifiers say Explicit, NudeNet found nothing exposed.
    raw = [whole("nsfw", 85.4), whole("graphic", 58.1)]
    fused = fuse(raw, ALL)
    assert confidence_of(fused.detections, "nsfw", "Explicit") == pytest.approx(FLOOR * 85.4)
    assert confidence_of(fused.detections, "graphic", "Explicit") == pytest.approx(FLOOR * 58.1)
    strongest = max(label.confidence for label in build_labels(fused.detections))
    assert 50.0 <= strongest < 85.0  # the default policy's review band, not its block
    backed = fuse([*raw, region("Exposed Female Nipple", 90.0)], ALL)
    assert confidence_of(backed.detections, "nsfw", "Explicit") == pytest.approx(85.4)


def test_nobody_to_ask_means_no_change() -> None:
    # NudeNet not enabled: the whole-image scores have nothing to be weighed against.
    raw = [whole("nsfw", 97.0), whole("graphic", 80.0)]
    assert fuse(raw, ("nsfw", "graphic")).detections == raw
    alone = [region("Exposed Buttocks or Anus", 70.0)]  # nobody else looked
    assert fuse(alone, ("nudity",)).detections == alone


def test_other_labels_are_never_touched() -> None:
    raw = [
        whole("graphic", 88.0, "Graphic Violence"),  # not in the Explicit family
        Detection("Female Swimwear or Underwear", 70.0, "nudity", BOX),
    ]
    assert fuse(raw, ALL).detections == raw


def test_the_floor_bounds_what_fusion_can_take() -> None:
    assert corroborated(90.0, 0.0) == pytest.approx(FLOOR * 90.0)
    assert corroborated(84.0, 0.0) >= 50.0  # a strong single hit still reaches review
    assert corroborated(40.0, 60.0) == 40.0
    assert corroborated(0.0, 0.0) == 0.0


def test_switched_off_it_changes_nothing() -> None:
    raw = [region("Exposed Male Genitalia", 61.6), whole("nsfw", 2.0)]
    fused = fuse(raw, ALL, enabled=False)
    assert fused.detections == raw and fused.adjustments == []
