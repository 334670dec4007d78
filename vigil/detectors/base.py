"""The detector interface: loaded once, takes a batch of decoded images, returns detections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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


class Detector(Protocol):
    """What every detector provides. ``load`` is called once before the first ``detect``."""

    name: str
    version: str

    def load(self) -> None: ...

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        """One list of detections per input image, in input order."""
        ...
