"""Amazon Rekognition's ``DetectModerationLabels`` as a vigil detector (a cloud model next to the
local ones). Each image is sent as JPEG bytes; the returned model-7 labels become detections."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image

from vigil import taxonomy
from vigil.detectors.base import Detection
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

log = logging.getLogger(__name__)

# Rekognition takes at most 5 MB of image bytes in a request and at most 10,000 px per side.
MAX_BYTES = 5 * 1024 * 1024
_MAX_SIDE = 4096
_QUALITIES = (90, 75, 60)


def encode_jpeg(image: Image.Image, limit: int = MAX_BYTES) -> bytes:
    """JPEG bytes of ``image`` under ``limit``: lower quality first, then half the size."""
    current = image
    if max(current.size) > _MAX_SIDE:
        current = current.copy()
        current.thumbnail((_MAX_SIDE, _MAX_SIDE))
    while True:
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            current.save(buffer, format="JPEG", quality=quality)
            if buffer.tell() <= limit:
                return buffer.getvalue()
        current = current.resize((max(1, current.width // 2), max(1, current.height // 2)))


def to_detections(labels: Sequence[dict[str, Any]], detector: str) -> list[Detection]:
    """Rekognition's ``ModerationLabels`` as detections. Names vigil's taxonomy has (all of
    model 7's) keep their name and confidence; any other name (a future model's) is dropped."""
    found: list[Detection] = []
    for label in labels:
        name = str(label.get("Name", ""))
        if not taxonomy.is_label(name):
            log.debug("rekognition label %r is not in vigil's taxonomy; dropped", name)
            continue
        found.append(Detection(name, float(label.get("Confidence", 0.0)), detector))
    return found


def failure_message(exc: Exception) -> str:
    """A clear sentence for what AWS (or the client before it) refused."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, text = error.get("Code", "Unknown"), error.get("Message", "")
        return f"Amazon Rekognition refused DetectModerationLabels: {code}: {text}"
    return f"Amazon Rekognition could not be called: {type(exc).__name__}: {exc}"


class RekognitionDetector:
    """Calls ``DetectModerationLabels`` once per image. Credentials come from boto3's usual chain
    (environment, shared files with ``profile``, instance role); nothing is called at ``load``."""

    name = "rekognition"
    labels: tuple[str, ...] = tuple(taxonomy.LABELS)
    licence = "Amazon Rekognition service (AWS Customer Agreement)"

    def __init__(
        self,
        threads: int = 0,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        min_confidence: float = 50.0,
        timeout: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        if not 0.0 <= min_confidence <= 100.0:
            raise DetectorFailed(f"min_confidence must be 0-100, not {min_confidence}.")
        self.version = f"aws-rekognition-moderation (boto3=={boto3.__version__})"
        self.min_confidence = float(min_confidence)
        self._region, self._endpoint, self._profile = region, endpoint_url, profile
        self._config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        self.client: Any = None

    def load(self) -> None:
        if self.client is not None:
            return
        try:
            session = boto3.Session(profile_name=self._profile, region_name=self._region)
            self.client = session.client(
                "rekognition", endpoint_url=self._endpoint, config=self._config
            )
        except (BotoCoreError, ValueError) as exc:  # unknown profile, no region
            raise DetectorFailed(failure_message(exc)) from exc

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        if self.client is None:
            raise DetectorFailed("The rekognition detector was used before load() was called.")
        return [self._one(image) for image in images]

    def _one(self, image: DecodedImage) -> list[Detection]:
        try:
            response = self.client.detect_moderation_labels(
                Image={"Bytes": encode_jpeg(image.pixels)}, MinConfidence=self.min_confidence
            )
        except (ClientError, BotoCoreError) as exc:
            raise DetectorFailed(failure_message(exc)) from exc
        return to_detections(response.get("ModerationLabels", []), self.name)
