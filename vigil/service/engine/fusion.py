"""Detectors corroborating one another before labels are built (docs/detectors.md#fusion).

Regions and whole-image views check each other, where each misfires on ordinary photos:

- a NudeNet region (``nudity``) under ``Explicit`` is weighed against the whole-image
  classifiers (``nsfw``, ``graphic``): a "genitalia" box on a matchstick is not backed by them;
- the whole-image ``Explicit`` of ``graphic`` and ``nsfw`` is weighed against NudeNet's exposed
  regions: a bikini, a miniskirt or a pink hog is not backed by any.

A confidence ``c`` backed by evidence ``e`` (the strongest raw ``Explicit`` score of the
detectors that check it, 0 for one that ran and found nothing) becomes
``c * (FLOOR + (1 - FLOOR) * min(1, e / c))``: unchanged when they agree, at worst
``FLOOR * c`` when they see nothing. So fusion can move a block to review, but a raw 84 or more
never drops below the default policy's review band of 50. Raw detections are kept as they are;
only labels use the fused confidences, and each adjustment is reported (``Fusion`` in answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vigil import taxonomy
from vigil.detectors.base import Detection

# The share of a confidence kept when no other detector backs it.
FLOOR = 0.6
FAMILY = "Explicit"
# Who is corroborated, by whom.
CORROBORATED_BY: dict[str, frozenset[str]] = {
    "nudity": frozenset({"nsfw", "graphic"}),
    "graphic": frozenset({"nudity"}),
    "nsfw": frozenset({"nudity"}),
}


@dataclass(frozen=True)
class Adjustment:
    """One detection whose confidence fusion lowered, and what it was weighed against."""

    detection: Detection
    fused: float
    evidence: float
    by: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "Detector": self.detection.detector,
            "Name": self.detection.label,
            "Confidence": round(self.detection.confidence, 3),
            "FusedConfidence": round(self.fused, 3),
            "Evidence": round(self.evidence, 3),
            "CorroboratedBy": list(self.by),
        }


@dataclass(frozen=True)
class Fused:
    detections: list[Detection]  # what labels are built from
    adjustments: list[Adjustment]


def fuse(
    detections: Sequence[Detection], ran: Iterable[str] = (), *, enabled: bool = True
) -> Fused:
    """The detections with uncorroborated ``Explicit`` confidences lowered. ``ran`` names the
    detectors that looked at the image (one that found nothing reports nothing, and its
    silence is evidence); ``enabled`` off (the ``VIGIL_FUSION`` setting) changes nothing."""
    if not enabled:
        return Fused(list(detections), [])
    best = {name: 0.0 for name in ran} | _strongest_explicit(detections)
    out: list[Detection] = []
    adjustments: list[Adjustment] = []
    for found in detections:
        adjusted = _adjust(found, best)
        if adjusted is None:
            out.append(found)
            continue
        out.append(replace(found, confidence=adjusted.fused))
        adjustments.append(adjusted)
    return Fused(out, adjustments)


def corroborated(confidence: float, evidence: float) -> float:
    """``confidence`` weighed by how far ``evidence`` (0-100) backs it."""
    if confidence <= 0.0:
        return confidence
    backing = min(1.0, evidence / confidence)
    return confidence * (FLOOR + (1.0 - FLOOR) * backing)


def _adjust(found: Detection, best: dict[str, float]) -> Adjustment | None:
    judges = CORROBORATED_BY.get(found.detector)
    if judges is None or not _is_explicit(found.label):
        return None
    present = tuple(sorted(judge for judge in judges if judge in best))
    if not present:
        return None  # nobody else looked: nothing to weigh it against
    evidence = max(best[judge] for judge in present)
    fused = corroborated(found.confidence, evidence)
    if fused >= found.confidence:
        return None
    return Adjustment(found, fused, evidence, present)


def _strongest_explicit(detections: Sequence[Detection]) -> dict[str, float]:
    """Each detector's strongest ``Explicit``-family confidence in this image."""
    best: dict[str, float] = {}
    for found in detections:
        if _is_explicit(found.label):
            best[found.detector] = max(best.get(found.detector, 0.0), found.confidence)
    return best


def _is_explicit(label: str) -> bool:
    return taxonomy.is_label(label) and taxonomy.top_level(label) == FAMILY


def describe(adjustments: Sequence[Mapping[str, Any]]) -> str:
    """Stored adjustments (``Adjustment.to_dict``) in words, for ``explain``."""
    return " ".join(
        f"Fusion lowered {item['Detector']}'s {item['Name']} from {item['Confidence']:.1f} to "
        f"{item['FusedConfidence']:.1f}: {' and '.join(item['CorroboratedBy'])} saw "
        f"{item['Evidence']:.1f} of Explicit."
        for item in adjustments
    )
