"""Real photos and the three real detectors, each model loaded once per test session."""

from __future__ import annotations

import functools

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


@functools.cache
def large_photo() -> np.ndarray:
    """A 2400x1800 photo with some grain, to exercise the shrink-first paths for big uploads."""
    upscaled = Image.fromarray(photo_array("astronaut")).resize(
        (2400, 1800), Image.Resampling.BICUBIC
    )
    grain = np.random.default_rng(7).normal(0.0, 6.0, (1800, 2400, 3))
    return np.clip(np.asarray(upscaled) + grain, 0, 255).astype(np.uint8)


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
    # fp32: these tests hold vigil's preprocessing to the packages' own classifiers; the int8
    # variants are held to fp32 in test_quantize.py.
    detector = NsfwDetector(threads=1, precision="fp32")
    detector.load()
    return detector


@pytest.fixture(scope="session")
def nudity() -> NudityDetector:
    detector = NudityDetector(threads=1)
    detector.load()
    return detector


@pytest.fixture(scope="session")
def graphic() -> GraphicDetector:
    detector = GraphicDetector(threads=1, precision="fp32")
    detector.load()
    return detector
