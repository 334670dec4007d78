"""What the detectors found, in Rekognition's field names: labels, detections, text, content
types, and what fusion changed."""

from __future__ import annotations

from pydantic import MISSING

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.hashlists import HashListMatch


class Label(ApiModel):
    """A taxonomy label with its confidence (0-100), in Rekognition's shape."""

    Name: str
    ParentName: str
    TaxonomyLevel: int
    Confidence: float


class ModerationLabel(Label):
    """One label with its highest confidence, ancestors included, and the detector behind it."""

    Detector: str


class Box(ApiModel):
    """A region as fractions (0-1) of the image's width and height."""

    Left: float
    Top: float
    Width: float
    Height: float


class Detection(ApiModel):
    """What one detector said, before labels were merged."""

    Detector: str
    Name: str
    Confidence: float
    BoundingBox: Box | MISSING = MISSING  # detectors that find regions
    Text: str | MISSING = MISSING  # lines of text read by OCR
    HashList: HashListMatch | MISSING = MISSING  # the hashlist detector's matches


class TextGeometry(ApiModel):
    BoundingBox: Box


class TextDetection(ApiModel):
    """A line of text OCR read, in the shape of Rekognition's ``DetectText``."""

    DetectedText: str
    Type: str
    Confidence: float
    Geometry: TextGeometry | MISSING = MISSING


class ContentType(ApiModel):
    Name: str
    Confidence: float


class FusionAdjustment(ApiModel):
    """A confidence fusion lowered because other detectors did not corroborate it."""

    Detector: str
    Name: str
    Confidence: float
    FusedConfidence: float
    Evidence: float
    CorroboratedBy: list[str]
