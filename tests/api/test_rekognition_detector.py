"""The rekognition detector end to end against a real Rekognition-compatible endpoint: another
vigil's `POST /`, over HTTP, signed with an AWS key pair that vigil issued."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.images import astronaut_jpeg
from tests.live_app import live_app
from vigil.app import Vigil
from vigil.aws.keys import create_aws_key
from vigil.detectors.rekognition_cloud import RekognitionDetector
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage
from vigil.service.access.principal import Role


def astronaut() -> DecodedImage:
    with Image.open(io.BytesIO(astronaut_jpeg())) as opened:
        pixels = opened.convert("RGB")
    return DecodedImage(pixels, "jpeg", "image/jpeg", pixels.width, pixels.height, 0)


def test_labels_from_another_vigil(vigil: Vigil, monkeypatch: pytest.MonkeyPatch) -> None:
    pair = create_aws_key(vigil.db, Role.UPLOADER)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", pair.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", pair.secret_access_key)
    with live_app(vigil) as url:
        remote = RekognitionDetector(
            region="us-east-1", endpoint_url=url, min_confidence=0, max_attempts=1
        )
        remote.load()
        [found] = remote.detect([astronaut()])
        # open_nsfw scores Explicit for every image, however low: it comes back over the wire.
        assert "Explicit" in {d.label for d in found}
        assert all(d.detector == "rekognition" and 0 <= d.confidence <= 100 for d in found)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
        wrong = RekognitionDetector(region="us-east-1", endpoint_url=url, max_attempts=1)
        wrong.load()
        with pytest.raises(DetectorFailed, match="refused DetectModerationLabels"):
            wrong.detect([astronaut()])
    assert np.isfinite([d.confidence for d in found]).all()
