"""The rekognition detector against botocore's Stubber: the request it sends, how AWS's answer
becomes detections, and AWS's refusals as DetectorFailed."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from botocore.stub import ANY, Stubber
from PIL import Image

from tests.detectors.conftest import decoded
from vigil.detectors.rekognition_cloud import MAX_BYTES, RekognitionDetector, encode_jpeg
from vigil.errors import DetectorFailed
from vigil.labels import build_labels

RESPONSE = {
    "ModerationLabels": [
        {"Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2, "Confidence": 91.5},
        {"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 91.5},
        {"Name": "Some Future Label", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 70.0},
    ],
    "ModerationModelVersion": "7.0",
}


@pytest.fixture
def detector(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RekognitionDetector, Stubber]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    found = RekognitionDetector(region="eu-west-1", min_confidence=60)
    found.load()
    with Stubber(found.client) as stubber:
        yield found, stubber
        stubber.assert_no_pending_responses()


def image() -> Image.Image:
    pixels = np.zeros((120, 160, 3), dtype=np.uint8)
    pixels[:, :, 0] = 200
    return Image.fromarray(pixels)


def test_sends_jpeg_bytes_and_maps_model_7_labels(
    detector: tuple[RekognitionDetector, Stubber],
) -> None:
    found, stubber = detector
    expected = {"Image": {"Bytes": ANY}, "MinConfidence": 60.0}
    stubber.add_response("detect_moderation_labels", RESPONSE, expected)
    [detections] = found.detect([decoded(np.asarray(image()))])
    assert [(d.label, d.confidence, d.detector) for d in detections] == [
        ("Weapons", 91.5, "rekognition"),
        ("Violence", 91.5, "rekognition"),
    ]
    labels = {label.name: label for label in build_labels(detections)}
    assert labels["Weapons"].parent == "Violence"


def test_sends_a_jpeg(detector: tuple[RekognitionDetector, Stubber]) -> None:
    found, stubber = detector
    sent: list[bytes] = []

    def capture(params: dict[str, object], **_: object) -> None:
        sent.append(params["Image"]["Bytes"])  # type: ignore[index]

    found.client.meta.events.register("provide-client-params.rekognition.*", capture)
    stubber.add_response("detect_moderation_labels", {"ModerationLabels": []})
    assert found.detect([decoded(np.asarray(image()))]) == [[]]
    assert sent and sent[0][:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("AccessDeniedException", 400), ("InternalServerError", 500)],
)
def test_aws_refusal_is_detector_failed(
    detector: tuple[RekognitionDetector, Stubber], code: str, status: int
) -> None:
    found, stubber = detector
    stubber.add_client_error("detect_moderation_labels", code, "no", http_status_code=status)
    with pytest.raises(DetectorFailed, match=f"refused DetectModerationLabels: {code}: no"):
        found.detect([decoded(np.asarray(image()))])


def test_no_credentials_is_detector_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    found = RekognitionDetector(region="eu-west-1")
    found.load()
    with pytest.raises(DetectorFailed, match="NoCredentialsError"):
        found.detect([decoded(np.asarray(image()))])


def test_large_image_is_shrunk_under_the_limit() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (800, 800, 3), dtype=np.uint8)
    data = encode_jpeg(Image.fromarray(noise), limit=100_000)
    assert len(data) <= 100_000 < MAX_BYTES


def test_bad_min_confidence_is_refused() -> None:
    with pytest.raises(DetectorFailed, match="min_confidence"):
        RekognitionDetector(min_confidence=120)
