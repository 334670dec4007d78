"""An upload's content without the flat margins that reposts add around it: the bars of a
screenshot, the grey or black frame of a phone capture, a meme's caption bar.

PDQ hashes the whole picture, so a bar or frame moves a copy 80-120 bits from its original,
far past any match distance. The pipeline therefore also matches the picture with such margins
cut away (docs/hashlists.md, "What PDQ catches"). A margin row or column is one whose pixels
nearly all share one colour: a caption's few dark glyph pixels leave its rows flat enough,
while the rows of a photo are not.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Margins are found on the picture shrunk by a whole factor to about this longest side: a row
# there averages several of the upload's, which also blurs JPEG noise.
SCAN_SIDE = 512
# A margin starts with an edge row that is nearly one colour: at least EDGE_SHARE of its pixels
# within TOLERANCE grey levels (in every channel) of its median colour. It goes on inward while
# at least MARGIN_SHARE of a row's pixels keep that colour: a caption's line of text, narrow
# glyphs on the bar, leaves 70-95 % of its row on the bar's colour; a photo's row rarely has
# most of its pixels on one exact colour.
EDGE_SHARE = 0.85
MARGIN_SHARE = 0.6
TOLERANCE = 12
# Each side keeps at least this share of the picture, so a mostly flat image (a logo on white)
# is not cut down to a sliver whose hash means little.
MIN_KEPT = 0.5
# Rows looked at per step while following a margin inward.
CHUNK_ROWS = 16
# A margin can be bands of several colours (a screenshot's title bar above its background).
BANDS = 3
# Cuts smaller than this share of a side are not worth another hash: the whole picture's
# hash already matches through them.
MIN_CUT = 0.03


def without_margins(image: Image.Image) -> Image.Image | None:
    """``image`` with its flat margins cut away, or ``None`` when it has none worth cutting."""
    small = image if image.mode == "RGB" else image.convert("RGB")
    factor = max(small.size) // SCAN_SIDE
    if factor >= 2:
        small = small.reduce(factor)  # a box filter, at a fraction of a resize's cost
    pixels = np.asarray(small)
    edges = (pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1])
    if not any(_flat(edge) for edge in edges):  # most photos: nothing more to do
        return None
    pixels = pixels.astype(np.int16)
    top, bottom = _span(pixels)
    left, right = _span(pixels.transpose(1, 0, 2))
    height, width = pixels.shape[:2]
    cut = (top + (height - bottom)) / height, (left + (width - right)) / width
    if max(cut) < MIN_CUT:
        return None
    scale_x, scale_y = image.width / width, image.height / height
    # One scan pixel inward on each cut side: the boundary row blends margin and picture.
    box = (
        round((left + (left > 0)) * scale_x),
        round((top + (top > 0)) * scale_y),
        round((right - (right < width)) * scale_x),
        round((bottom - (bottom < height)) * scale_y),
    )
    return image.crop(box)


def _flat(row: np.ndarray) -> bool:
    """Whether a (w, 3) row is nearly one colour (its median's)."""
    values = row.astype(np.int16)
    close = (np.abs(values - np.median(values, axis=0)) <= TOLERANCE).all(axis=1)
    return bool(close.mean() >= EDGE_SHARE)


def _margin(rows: np.ndarray) -> int:
    """How many of ``rows`` (an (n, w, 3) array, the edge first) are margin."""
    if len(rows) == 0 or not _flat(rows[0]):
        return 0
    edge = np.median(rows[0], axis=0)
    # Margins are thin: look a chunk of rows at a time and stop at the first that is not one.
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        on_colour = (np.abs(chunk - edge) <= TOLERANCE).all(axis=2).mean(axis=1)
        off = np.flatnonzero(on_colour < MARGIN_SHARE)
        if len(off):
            return start + int(off[0])
    return len(rows)


def _span(pixels: np.ndarray) -> tuple[int, int]:
    """The first and one-past-last row of an (h, w, 3) array kept once the margins at both
    ends are cut, keeping at least ``MIN_KEPT`` of the rows."""
    count = len(pixels)
    most = int(count * (1 - MIN_KEPT))
    start, end = 0, count
    for _ in range(BANDS):
        # Only as many rows as may still be cut are looked at.
        room = most - start - (count - end)
        start += _margin(pixels[start : start + room])
        room = most - start - (count - end)
        end -= _margin(pixels[max(start, end - room) : end][::-1])
    return start, end
