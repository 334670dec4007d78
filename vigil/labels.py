"""Turning detections into Rekognition-style ModerationLabels, ancestors included."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil import taxonomy
from vigil.detectors.base import Detection


@dataclass(frozen=True)
class ModerationLabel:
    name: str
    parent: str
    level: int
    confidence: float
    detector: str
    # The highest score a detector gave this label itself (None when it is only an ancestor of
    # scored labels). The policy judges direct scores, so a child's own band or `ignore` is not
    # undone by the copy of its confidence that its ancestors carry.
    direct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "ParentName": self.parent,
            "TaxonomyLevel": self.level,
            "Confidence": round(self.confidence, 3),
            "Detector": self.detector,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModerationLabel:
        return cls(
            name=data["Name"],
            parent=data["ParentName"],
            level=data["TaxonomyLevel"],
            confidence=float(data["Confidence"]),
            detector=data["Detector"],
        )


def build_labels(detections: Iterable[Detection]) -> list[ModerationLabel]:
    """One label per taxonomy name with its highest confidence, ancestors added.

    An ancestor gets the highest of its descendants' confidences and any score a detector gave
    it directly, so a parent is never reported below one of its children.
    """
    best: dict[str, Detection] = {}
    direct: dict[str, float] = {}
    for detection in detections:
        direct[detection.label] = max(direct.get(detection.label, 0.0), detection.confidence)
        for name in (detection.label, *taxonomy.ancestors(detection.label)):
            held = best.get(name)
            if held is None or detection.confidence > held.confidence:
                best[name] = Detection(name, detection.confidence, detection.detector)
    labels = [
        ModerationLabel(
            name=name,
            parent=taxonomy.get(name).parent,
            level=taxonomy.get(name).level,
            confidence=min(100.0, max(0.0, held.confidence)),
            detector=held.detector,
            direct=direct.get(name),
        )
        for name, held in best.items()
    ]
    labels.sort(key=lambda label: (-label.confidence, label.level, label.name))
    return labels


def above(labels: Sequence[ModerationLabel], min_confidence: float) -> list[ModerationLabel]:
    """The labels at or above ``min_confidence``."""
    return [label for label in labels if label.confidence >= min_confidence]
