"""The detector interface: loaded once, takes a batch of decoded images, returns detections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.media.image import DecodedImage


@dataclass(frozen=True)
class Box:
    """A region, as fractions of the image's width and height (Rekognition's BoundingBox)."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Detection:
    """One taxonomy label a detector scored for one image. ``confidence`` is 0-100."""

    label: str
    confidence: float
    detector: str
    box: Box | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public shape (an entry of ``Detections``), also how detections are stored."""
        shown: dict[str, Any] = {
            "Detector": self.detector,
            "Name": self.label,
            "Confidence": round(self.confidence, 3),
        }
        if self.box is not None:
            shown["BoundingBox"] = {
                "Left": round(self.box.left, 4),
                "Top": round(self.box.top, 4),
                "Width": round(self.box.width, 4),
                "Height": round(self.box.height, 4),
            }
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detection:
        box = data.get("BoundingBox")
        return cls(
            label=data["Name"],
            confidence=float(data["Confidence"]),
            detector=data["Detector"],
            box=Box(box["Left"], box["Top"], box["Width"], box["Height"]) if box else None,
        )


class Detector(Protocol):
    """What every detector provides. ``load`` is called once before the first ``detect``.

    ``labels`` are the taxonomy names it can report and ``licence`` the licence of its
    weights; both are shown by `vigil detectors`. Plugins are registered in the
    ``vigil.detectors`` entry-point group (docs/detectors.md).
    """

    name: str
    version: str
    labels: tuple[str, ...]
    licence: str

    def load(self) -> None: ...

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        """One list of detections per input image, in input order."""
        ...
