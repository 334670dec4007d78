"""Real photos and the three real detectors, each model loaded once per test session."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vigil.detectors.graphic import GraphicDetector
from vigil.detectors.nsfw import NsfwDetector
from vigil.detectors.nudity import NudityDetector
from vigil.media.image import DecodedImage

# scikit-image bundles these four photos (no download): all safe for work.
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket")


def photo_array(name: str) -> np.ndarray:
    """An RGB uint8 (height, width, 3) array of a bundled sample photo."""
    pixels: np.ndarray = getattr(data, name)()
    return pixels


def decoded(pixels: np.ndarray) -> DecodedImage:
    """An RGB array wrapped as intake would hand it to the detectors."""
    image = Image.fromarray(pixels).convert("RGB")
    return DecodedImage(
        pixels=image,
        format="png",
        mime="image/png",
        width=image.width,
        height=image.height,
        size_bytes=pixels.nbytes,
    )


@pytest.fixture(scope="session")
def photos() -> dict[str, DecodedImage]:
    return {name: decoded(photo_array(name)) for name in PHOTO_NAMES}


@pytest.fixture(scope="session")
def nsfw() -> NsfwDetector:
    detector = NsfwDetector(threads=1)
    detector.load()
    return detector


@pytest.fixture(scope="session")
def nudity() -> NudityDetector:
    detector = NudityDetector(threads=1)
    detector.load()
    return detector


@pytest.fixture(scope="session")
def graphic() -> GraphicDetector:
    detector = GraphicDetector(threads=1)
    detector.load()
    return detector
