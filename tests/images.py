"""Real photos for tests, from scikit-image's bundled sample data, encoded as upload bytes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage import data


def encode(pixels: np.ndarray | Image.Image, fmt: str = "JPEG") -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def astronaut_jpeg() -> bytes:
    return encode(data.astronaut())


def chelsea_png() -> bytes:
    return encode(data.chelsea(), "PNG")


def coffee_jpeg() -> bytes:
    return encode(data.coffee())
