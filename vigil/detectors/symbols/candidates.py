"""Where a symbol could be: connected regions of ink that stand out from their surroundings.

A symbol in a meme or a photo is a region of one colour on another, so candidates are the
connected components of two local thresholds (darker and lighter than the neighbourhood's mean)
at two scales: a fine one for symbols down to about 4 % of the picture's short side and a
coarse one for symbols that fill much of it. Most components are dropped by their bounding box
alone (size, squareness, fill), which costs nothing; the two-part SS runes are proposed as pairs
of alike, neighbouring components.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# Short side of the fine level, in pixels. Symbols of 5 % of the short side are 24 px there,
# about the least at which a swastika's hooks are still two pixels apart.
FINE_SIDE = 480
# A small upload is enlarged to FINE_SIDE, but at most this much: a symbol needs about 11
# pixels of its own to be told apart (MIN_SIDE at this scale), and enlarging further only
# adds pixels to search (an 87 px high banner became 1,561 x 480). Down to a short side of
# 240 px nothing changes.
MAX_ENLARGEMENT = 2.0
# The coarse level is the fine one shrunk by this factor: it sees symbols of 1/4 of the
# picture and more, whose strokes are wider than the fine level's neighbourhood.
COARSE_FACTOR = 3
# Neighbourhood (box filter side, pixels at either level) for the local mean, and how much
# darker or lighter than it (grey levels) a pixel must be to count as ink.
BLOCK = 41
OFFSETS = (20, 45)
# Bounding-box limits of a candidate component, in pixels of its level.
MIN_SIDE = 22
MAX_FINE_SIDE = 170
# A 90-degree symmetric shape has a square bounding box at any rotation; perspective and
# shear squeeze it, so down to this ratio of its sides is accepted.
MIN_SQUARENESS = 0.3
MIN_FILL, MAX_FILL = 0.1, 0.85
# Rune halves: each is long and thin, the pair alike in size and side by side.
MIN_RUNE_FILL, MAX_RUNE_FILL = 0.1, 0.75
MAX_RUNE_AREA_RATIO = 1.6
MAX_PAIRS_PER_MAP = 20


@dataclass(frozen=True)
class Candidate:
    """A region to classify: its mask (uint8, 0/1) cut out at ``(x, y)`` of a level whose
    pixels are ``scale`` times the fine level's, whether it is a pair of components, and its
    ``tone``: how far its mean grey lies from a two-pixel ring around it, and the standard
    deviations of grey inside and in the ring (grey levels). A painted or printed symbol is
    an even patch clearly apart from its surroundings; a fragment of texture is neither."""

    mask: np.ndarray
    x: int
    y: int
    scale: float
    pair: bool
    tone: tuple[float, float, float]

    def box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) as fractions of a ``width`` x ``height`` fine level."""
        h, w = self.mask.shape
        s = self.scale
        return (self.x * s / width, self.y * s / height, w * s / width, h * s / height)


def grey_levels(image: Image.Image) -> list[tuple[np.ndarray, float]]:
    """The fine and coarse grey images, each with its pixel size in fine-level pixels."""
    grey = image.convert("L") if image.mode != "L" else image
    # Box-shrink by a whole factor first (Pillow's reduce is the cheapest way down from a
    # megapixel), then a bilinear resize by less than two does not alias.
    whole = min(grey.width, grey.height) // FINE_SIDE
    if whole > 1:
        grey = grey.reduce(whole)
    factor = min(FINE_SIDE / min(grey.width, grey.height), MAX_ENLARGEMENT)
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    fine: np.ndarray = np.asarray(grey, dtype=np.uint8)
    if size != grey.size:
        # Small uploads are enlarged too, so that a 5 % symbol keeps enough pixels.
        fine = cv2.resize(fine, size, interpolation=cv2.INTER_LINEAR)
    coarse_size = (max(1, size[0] // COARSE_FACTOR), max(1, size[1] // COARSE_FACTOR))
    coarse = cv2.resize(fine, coarse_size, interpolation=cv2.INTER_AREA)
    return [(fine, 1.0), (coarse, float(COARSE_FACTOR))]


def ink_maps(grey: np.ndarray) -> list[np.ndarray]:
    """Pixels clearly darker, then clearly lighter, than their neighbourhood (uint8 0/1)."""
    mean = cv2.blur(grey, (BLOCK, BLOCK), borderType=cv2.BORDER_REPLICATE).astype(np.int16)
    signed = grey.astype(np.int16) - mean
    maps = []
    for offset in OFFSETS:
        maps += [(signed < -offset).view(np.uint8), (signed > offset).view(np.uint8)]
    return maps


def candidates(image: Image.Image) -> tuple[list[Candidate], tuple[int, int]]:
    """Every candidate region of ``image`` and the (width, height) of the fine level."""
    levels = grey_levels(image)
    fine = levels[0][0]
    found: list[Candidate] = []
    for grey, scale in levels:
        max_side = MAX_FINE_SIDE if scale == 1.0 else 10**6
        min_side = MIN_SIDE if scale == 1.0 else MAX_FINE_SIDE / scale * 0.75
        maps = ink_maps(grey)
        for polarity in range(2):
            seen = np.zeros((0, 5), np.int64)
            for ink in maps[polarity::2]:
                labels, stats = _label(ink)
                found += _components(grey, labels, stats, seen, scale, min_side, max_side)
                seen = np.concatenate([seen, stats[1:]])
    return found, (fine.shape[1], fine.shape[0])


def _label(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # BBDT: measured 1.7 ms against the default's 2.7 on a 640x480 map of a photo.
    _, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        ink, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    return labels, stats


def _components(
    grey: np.ndarray,
    labels: np.ndarray,
    stats: np.ndarray,
    seen: np.ndarray,
    scale: float,
    min_side: float,
    max_side: float,
) -> list[Candidate]:
    """The single and paired candidates among one map's components; a component whose box
    and area match one of ``seen`` (the same region at the lower threshold) is skipped."""
    w, h, area = (stats[1:, i] for i in range(2, 5))
    side, short = np.maximum(w, h), np.minimum(w, h)
    sized = (side >= 0.8 * min_side) & (side <= max_side)
    fill = area / np.maximum(1, w * h)
    new = np.ones(len(area), bool)
    new[sized] = ~_already_seen(stats[1:][sized], seen)
    single = sized & new & (side >= min_side) & (short >= MIN_SQUARENESS * side)
    single &= (fill >= MIN_FILL) & (fill <= MAX_FILL)
    found = [_cut(grey, labels, stats, [int(i) + 1], scale) for i in np.flatnonzero(single)]
    found += [
        _cut(grey, labels, stats, [i + 1, j + 1], scale)
        for i, j in _rune_pairs(stats[1:], sized, fill, new)
    ]
    return found


def _already_seen(stats: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Which components' boxes lie within a pixel or two of one in ``seen``, with nearly the
    same area: a symbol of strong contrast comes out alike at both thresholds."""
    if len(seen) == 0 or len(stats) == 0:
        return np.zeros(len(stats), bool)
    big = seen[(seen[:, 2] >= 0.8 * MIN_SIDE) | (seen[:, 3] >= 0.8 * MIN_SIDE)]
    if len(big) == 0:
        return np.zeros(len(stats), bool)
    near = (np.abs(stats[:, None, :4] - big[None, :, :4]) <= 2).all(axis=2)
    area = np.abs(stats[:, None, 4] - big[None, :, 4]) <= 0.05 * big[None, :, 4]
    found: np.ndarray = (near & area).any(axis=1)
    return found


def _rune_pairs(
    stats: np.ndarray, sized: np.ndarray, fill: np.ndarray, new: np.ndarray
) -> list[tuple[int, int]]:
    """Pairs of components alike in box and area, side by side: the two runes of the SS
    insignia. Each rune is about as tall as the pair, so the single candidates' minimum side
    nearly applies, and the runes' centres are 0.3-0.7 of a rune's height apart."""
    x, y, w, h, area = (stats[:, i].astype(np.float64) for i in range(5))
    side = np.maximum(w, h)
    keep = np.flatnonzero(
        sized & (side >= 0.8 * MIN_SIDE) & (fill >= MIN_RUNE_FILL) & (fill <= MAX_RUNE_FILL)
    )
    if len(keep) < 2:
        return []
    cx, cy = (x + w / 2)[keep], (y + h / 2)[keep]
    a, kw, kh, f = area[keep], w[keep], h[keep], fill[keep]
    longer = np.maximum(side[keep][:, None], side[keep][None, :])
    near = np.hypot(cx[:, None] - cx[None, :], cy[:, None] - cy[None, :])
    alike = (near >= 0.22 * longer) & (near <= 0.85 * longer)
    alike &= _ratio(a) <= MAX_RUNE_AREA_RATIO
    alike &= _ratio(f) <= MAX_RUNE_AREA_RATIO
    alike &= np.abs(kw[:, None] - kw[None, :]) <= 0.25 * longer
    alike &= np.abs(kh[:, None] - kh[None, :]) <= 0.25 * longer
    # A pair both of whose halves were seen at the lower threshold was proposed there.
    alike &= new[keep][:, None] | new[keep][None, :]
    first, second = np.nonzero(np.triu(alike, k=1))
    order = np.argsort(near[first, second])[:MAX_PAIRS_PER_MAP]
    return [(int(keep[first[k]]), int(keep[second[k]])) for k in order]


def _ratio(values: np.ndarray) -> np.ndarray:
    """The larger over the smaller of every two values (n x n)."""
    high = np.maximum(values[:, None], values[None, :])
    low = np.maximum(1e-6, np.minimum(values[:, None], values[None, :]))
    ratio: np.ndarray = high / low
    return ratio


def _cut(
    grey: np.ndarray, labels: np.ndarray, stats: np.ndarray, ids: list[int], scale: float
) -> Candidate:
    """The components ``ids`` (label numbers) cut out of ``labels`` as one 0/1 mask, with
    the tone of ``grey`` inside it and around it."""
    x0 = min(int(stats[i, 0]) for i in ids)
    y0 = min(int(stats[i, 1]) for i in ids)
    x1 = max(int(stats[i, 0] + stats[i, 2]) for i in ids)
    y1 = max(int(stats[i, 1] + stats[i, 3]) for i in ids)
    window = labels[y0:y1, x0:x1]
    mask = window == ids[0]
    for extra in ids[1:]:
        mask |= window == extra
    ink = mask.view(np.uint8)
    return Candidate(ink, x0, y0, scale, len(ids) > 1, _tone(grey, ink, x0, y0))


def _tone(grey: np.ndarray, ink: np.ndarray, x0: int, y0: int) -> tuple[float, float, float]:
    """Mean grey inside less mean grey in a ring up to RING pixels out, and both spreads."""
    h, w = ink.shape
    gy0, gx0 = max(0, y0 - RING), max(0, x0 - RING)
    gy1, gx1 = min(grey.shape[0], y0 + h + RING), min(grey.shape[1], x0 + w + RING)
    patch = grey[gy0:gy1, gx0:gx1]
    inside = np.zeros(patch.shape, np.uint8)
    inside[y0 - gy0 : y0 - gy0 + h, x0 - gx0 : x0 - gx0 + w] = ink
    ring = cv2.dilate(inside, _RING_KERNEL) - inside
    mean_in, std_in = cv2.meanStdDev(patch, mask=inside)
    mean_ring, std_ring = cv2.meanStdDev(patch, mask=ring)
    return (
        abs(float(mean_in[0, 0]) - float(mean_ring[0, 0])),
        float(std_in[0, 0]),
        float(std_ring[0, 0]),
    )


RING = 2
_RING_KERNEL = np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)
