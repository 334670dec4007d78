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
    it directly, so a parent is never reported below one of its children. Lines of text read
    by OCR (``TEXT_LINE``) are not labels and are left out.
    """
    best: dict[str, Detection] = {}
    direct: dict[str, float] = {}
    for detection in detections:
        if detection.is_text_line:
            continue
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


def text_detections(detections: Iterable[Detection]) -> list[dict[str, Any]]:
    """The lines of text OCR read (docs/text.md), in Rekognition ``DetectText``'s shape:
    ``DetectedText``, ``Type`` ``LINE``, ``Confidence`` and ``Geometry.BoundingBox``."""
    shown: list[dict[str, Any]] = []
    for found in detections:
        if not found.is_text_line:
            continue
        line: dict[str, Any] = {
            "DetectedText": found.text or "",
            "Type": "LINE",
            "Confidence": round(found.confidence, 3),
        }
        if found.box is not None:
            line["Geometry"] = {"BoundingBox": found.to_dict()["BoundingBox"]}
        shown.append(line)
    return shown


def read_text(detections: Iterable[Detection]) -> str:
    """Every line OCR read, one per line: the asset's searchable ``text`` column."""
    return "\n".join(found.text or "" for found in detections if found.is_text_line)
