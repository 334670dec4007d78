"""A perceptual hash (dHash) for spotting near-identical video frames cheaply."""

from __future__ import annotations

import numpy as np
from PIL import Image

HASH_BITS = 64


def dhash(image: Image.Image) -> int:
    """64 bits: whether each pixel of a 9x8 grey thumbnail is brighter than its right
    neighbour. Small shifts, re-encoding and scaling change few bits; a new scene changes many."""
    small = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.BILINEAR), np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def distance(first: int, second: int) -> int:
    """How many of the 64 bits differ."""
    return (first ^ second).bit_count()
