"""The text gate's quick check (docs/text.md, "The gate"): whether an image has anything shaped
like a line of text at all, in a few milliseconds, before the PP-OCR detection model (tens of
milliseconds) looks at it.

An image without text-like lines (a gradient, a flat colour, a blurred or smooth photo, noise)
is skipped here. The check is one-sided on purpose: it never decides that an image holds text,
and a busy photo always goes on to the model, which rules out most of what the check lets
through. So a line of text can only be lost here in an image with no other sharp structure,
where a line of text stands out most clearly.

The thresholds below were set on benchmarks/text_gate.py's generated images and checked on
everyday photos: the check rules out no image there that the model alone would pass.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# An edge: at least this range of grey levels, in any of R, G, B, within a 3x3 neighbourhood (a
# morphological gradient). Text is drawn to be read: its strokes differ from their background by
# far more, even scaled down to the gate's size; blur, gradients and soft shading by less.
EDGE_LEVELS = 48
# ... and at least this share of the range within 7x7 around it: a sharp edge (a glyph's) has its
# whole step within a pixel or two, a blurred one (out of focus, soft shadows) spreads it wider.
EDGE_SHARPNESS = 0.6
# A part of a line (a letter, or a word whose letters the edges run together): a region of edge
# pixels at least this many pixels high, no higher than a third of the image (like the model's
# rule) and filling at least this share of its box (letters are compact; the outline of an object
# or a long hair is not).
PART_MIN_HEIGHT = 4
PART_MIN_FILL = 0.2
# Parts join into a line when their boxes come within this share of their height side by side.
PART_GAP = 0.6
# A line: at least this many times wider than high, and no higher than this many times its
# tallest part (parts stacked on top of each other, as in foliage or gravel, are not a line).
LINE_RATIO = 2.5
LINE_HEIGHT_SPREAD = 1.5
# A line stands out from its background: in the bands of its own height above and below it, at
# most this share of the pixels are edges (noise and dense texture have edges everywhere).
LINE_MAX_SURROUND = 0.2
# Where more than this share of all pixels are edges (noise, gravel, foliage filling the view),
# no line can stand out from its surroundings but by chance: the level is skipped, before the
# costliest step (thousands of parts to join). Large text there still shows at coarser levels.
MAX_EDGE_SHARE = 0.5
# Beyond this many parts, joining them costs more than it saves: the model decides.
MAX_PARTS = 800
# The check also looks at the image halved and quartered: there the letters of large text, whose
# edges are thin rings around wide strokes, become compact parts.
LEVELS = 3

_KERNEL = np.ones((3, 3), np.uint8)
_WIDE_KERNEL = np.ones((7, 7), np.uint8)


def fit(image: Image.Image, width: int, height: int) -> np.ndarray:
    """The image resized to ``width`` x ``height``, as RGB uint8 (height, width, 3)."""
    factor = min(image.width // width, image.height // height)
    # Box-shrink a large image by a whole factor first: Pillow's reduce averages, as an area
    # resize does, at a fraction of its cost (a filtered resize from 3 MP costs about 10 ms);
    # what remains is less than 2x, where plain bilinear interpolation loses little.
    source = image.reduce(factor) if factor >= 2 else image
    if source.mode != "RGB":
        source = source.convert("RGB")
    return cv2.resize(np.asarray(source), (width, height), interpolation=cv2.INTER_LINEAR)


def may_hold_text(rgb: np.ndarray) -> bool:
    """Whether an RGB uint8 image has edges grouped like a line of text, at any of ``LEVELS``
    scales (coarsest first: it is the cheapest, and finds large text)."""
    pyramid = [rgb]
    for _ in range(LEVELS - 1):
        if min(pyramid[-1].shape[:2]) < 2 * PART_MIN_HEIGHT:
            break
        pyramid.append(cv2.pyrDown(pyramid[-1]))
    levels = reversed(list(enumerate(pyramid)))
    # A coarser level is there for large text only: its parts must be as high as that text
    # (PART_MIN_HEIGHT at full size, doubled per level), not blur or noise that halving sharpens.
    return any(_has_line(edge_mask(view), PART_MIN_HEIGHT << level) for level, view in levels)


def edge_mask(rgb: np.ndarray) -> np.ndarray:
    """1 where an RGB uint8 image has a sharp edge of ``EDGE_LEVELS`` or more, else 0."""
    near = _strongest_range(rgb, _KERNEL)
    strong = cv2.threshold(near, EDGE_LEVELS - 1, 1, cv2.THRESH_BINARY)[1]
    wide = cv2.convertScaleAbs(_strongest_range(rgb, _WIDE_KERNEL), alpha=EDGE_SHARPNESS)
    sharp = cv2.compare(near, wide, cv2.CMP_GE)  # 255 where sharp
    return np.asarray(cv2.bitwise_and(strong, sharp))


def _strongest_range(rgb: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The largest range of R, G or B within ``kernel`` around each pixel."""
    red, green, blue = cv2.split(cv2.morphologyEx(rgb, cv2.MORPH_GRADIENT, kernel))
    return np.asarray(cv2.max(cv2.max(red, green), blue))


def _has_line(mask: np.ndarray, min_height: int) -> bool:
    """Whether the edge regions of ``mask`` include parts at least ``min_height`` high that join
    into a line."""
    edges = cv2.countNonZero(mask)
    if not edges or edges > MAX_EDGE_SHARE * mask.size:
        return False  # a smooth image (the commonest case without text), or edges everywhere
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height = stats[1:, cv2.CC_STAT_HEIGHT]
    width = stats[1:, cv2.CC_STAT_WIDTH]
    fill = stats[1:, cv2.CC_STAT_AREA] >= PART_MIN_FILL * width * height
    sized = (height >= min_height) & (height <= mask.shape[0] / 3)
    parts = stats[1:][fill & sized, :4]
    if len(parts) > MAX_PARTS:
        return True
    return bool(len(parts)) and _joins_into_line(parts, mask)


def _joins_into_line(parts: np.ndarray, mask: np.ndarray) -> bool:
    """Whether boxes (left, top, width, height) of ``mask``'s edges join side by side into a
    line-shaped group that stands out from its surroundings."""
    shape = mask.shape
    canvas = np.zeros(shape, np.uint8)
    for left, top, width, height in parts.tolist():
        pad = int(PART_GAP * height) + 1
        cv2.rectangle(canvas, (left - pad, top), (left + width + pad - 1, top + height - 1), 1, -1)
    count, groups, stats, _ = cv2.connectedComponentsWithStats(canvas, connectivity=4)
    # Each part's group, through its top-left pixel (its box covers it); then the tallest part.
    group = groups[parts[:, 1], parts[:, 0]]
    tallest = np.zeros(count, np.int64)
    np.maximum.at(tallest, group, parts[:, 3])
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    line = (width >= LINE_RATIO * height) & (height <= LINE_HEIGHT_SPREAD * tallest)
    line &= height <= shape[0] / 3
    line[0] = False  # group 0 is the background
    return bool(line.any()) and bool((_surround(mask, stats[line]) <= LINE_MAX_SURROUND).any())


def _surround(mask: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The share of edge pixels in the bands as high as each box just above and below it."""
    sums = cv2.integral(mask)
    left, top, width, height = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    right, bottom = left + width, top + height
    above = np.clip(top - height, 0, None)
    below = np.clip(bottom + height, None, mask.shape[0])
    edges = _box_sum(sums, left, above, right, top) + _box_sum(sums, left, bottom, right, below)
    area = width * (top - above + below - bottom)
    return np.asarray(edges / np.maximum(area, 1))


def _box_sum(
    sums: np.ndarray, left: np.ndarray, top: np.ndarray, right: np.ndarray, bottom: np.ndarray
) -> np.ndarray:
    """The sums of boxes [top, bottom) x [left, right), from the ``cv2.integral`` of a mask."""
    return np.asarray(sums[bottom, right] - sums[top, right] - sums[bottom, left] + sums[top, left])
