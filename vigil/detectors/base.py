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


# The label of a line of text read from an image (the text detector, docs/text.md). It is not a
# moderation label: such detections carry the line in ``text``, are stored with the asset for
# search and shown as ``TextDetections``, and never become ``ModerationLabels``.
TEXT_LINE = "vigil:text-line"


@dataclass(frozen=True)
class Detection:
    """One taxonomy label a detector scored for one image. ``confidence`` is 0-100.
    ``text`` is the words behind a label read by OCR (or the whole line, for ``TEXT_LINE``)."""

    label: str
    confidence: float
    detector: str
    box: Box | None = None
    text: str | None = None

    @property
    def is_text_line(self) -> bool:
        return self.label == TEXT_LINE

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
        if self.text is not None:
            shown["Text"] = self.text
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detection:
        box = data.get("BoundingBox")
        return cls(
            label=data["Name"],
            confidence=float(data["Confidence"]),
            detector=data["Detector"],
            box=Box(box["Left"], box["Top"], box["Width"], box["Height"]) if box else None,
            text=data.get("Text"),
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
