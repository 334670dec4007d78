"""The decoded image every detector receives: decoded once per upload, shared by all."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class DecodedImage:
    """An upload after intake: RGB pixels with EXIF orientation applied, plus what the bytes were.

    ``pixels`` is a fully loaded ``PIL.Image`` in mode ``RGB``; detectors must not modify it.
    A large JPEG is decoded at a reduced scale (``DETECTION_SIDE``), so ``pixels`` may be smaller
    than the upload: detectors report boxes as fractions, never in pixels.
    ``format`` is the sniffed container (``jpeg``, ``png``, ``webp``, ``gif``, ``bmp``, ``tiff``),
    ``mime`` the matching media type, ``width``/``height`` the upload's oriented size in pixels.
    """

    pixels: Image.Image
    format: str
    mime: str
    width: int
    height: int
    size_bytes: int
