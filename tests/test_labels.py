from __future__ import annotations

from vigil.detectors.base import Detection
from vigil.labels import above, build_labels


def test_ancestors_take_the_highest_descendant() -> None:
    labels = build_labels(
        [
            Detection("Exposed Female Nipple", 91.0, "nudity"),
            Detection("Exposed Buttocks or Anus", 60.0, "nudity"),
            Detection("Explicit", 40.0, "nsfw"),
        ]
    )
    by_name = {label.name: label for label in labels}
    assert by_name["Explicit Nudity"].confidence == 91.0
    assert by_name["Explicit"].confidence == 91.0
    assert by_name["Explicit"].detector == "nudity"
    assert by_name["Explicit Nudity"].level == 2
    assert by_name["Explicit Nudity"].parent == "Explicit"
    assert labels[0].name == "Explicit"  # sorted by confidence, then level


def test_a_direct_parent_score_above_its_children_wins() -> None:
    labels = build_labels(
        [Detection("Graphic Violence", 80.0, "graphic"), Detection("Blood & Gore", 30.0, "x")]
    )
    by_name = {label.name: label for label in labels}
    assert by_name["Violence"].confidence == 80.0
    assert by_name["Graphic Violence"].confidence == 80.0
    assert by_name["Blood & Gore"].confidence == 30.0


def test_repeated_detections_keep_the_maximum_and_filter_by_floor() -> None:
    labels = build_labels(
        [
            Detection("Exposed Male Nipple", 55.0, "nudity"),
            Detection("Exposed Male Nipple", 75.0, "nudity"),
        ]
    )
    by_name = {label.name: label for label in labels}
    assert by_name["Exposed Male Nipple"].confidence == 75.0
    assert above(labels, 80.0) == []
    assert len(above(labels, 75.0)) == 3
    assert by_name["Exposed Male Nipple"].to_dict() == {
        "Name": "Exposed Male Nipple",
        "ParentName": "Non-Explicit Nudity",
        "TaxonomyLevel": 3,
        "Confidence": 75.0,
        "Detector": "nudity",
    }
