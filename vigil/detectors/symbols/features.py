"""A candidate's shape as numbers that do not change when it is turned or mirrored.

Each mask is scaled into a small square, then resampled on a polar grid around its centroid
out to a fixed multiple of its root-mean-square radius (so that size does not matter). Turning
the shape shifts the grid along the angle axis, so the Fourier transform along the angle
changes only by a phase per angular frequency, common to all radii; a second transform along
the radius keeps how the rings relate (a swastika's hooks put its outer ring out of phase with
its arms), and taking magnitudes drops the common phase. Mirroring swaps radial frequencies +j
and -j, so their sum and absolute difference are kept: the difference says how chiral the shape
is (hooked arms, pinwheels), the sum what it is made of.

All candidates of an image go through the transforms together, as one numpy batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vigil.detectors.symbols.candidates import Candidate
from vigil.detectors.symbols.model import small_matmul

# Side of the square each mask is scaled into, in pixels.
SQUARE = 32
ANGLES = 64
RADII = 16
# The grid reaches this many RMS radii: a swastika's hook tips lie at about 2.1.
REACH = 2.6
MAX_ANGULAR = 12  # angular frequencies 0..12 (a 4-fold shape lives on 0, 4, 8, 12)
MAX_RADIAL = 5  # radial frequencies -5..5
SHAPE_FEATURES = 6
TONE_FEATURES = 4
FEATURES = (MAX_ANGULAR + 1) * (2 * MAX_RADIAL + 1) + SHAPE_FEATURES + TONE_FEATURES


def squares(masks: Sequence[np.ndarray]) -> np.ndarray:
    """(n, SQUARE, SQUARE) float32: each 0/1 mask centred in a square and scaled into it."""
    batch = np.zeros((len(masks), SQUARE, SQUARE), np.float32)
    for i, mask in enumerate(masks):
        h, w = mask.shape
        side = max(h, w)
        square = np.zeros((side, side), np.float32)
        y0, x0 = (side - h) // 2, (side - w) // 2
        square[y0 : y0 + h, x0 : x0 + w] = mask
        shrinking = side > SQUARE
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        batch[i] = cv2.resize(square, (SQUARE, SQUARE), interpolation=interpolation)
    return batch


def features(found: Sequence[Candidate]) -> np.ndarray:
    """(n, FEATURES) float32 features of candidates: their shape's spectrum, a few plain
    measures of shape, its symmetry under turns of 90 and 180 degrees, and its tone."""
    if not found:
        return np.zeros((0, FEATURES), np.float32)
    masks = [c.mask for c in found]
    polar, spread = polar_grids(squares(masks))
    rings = np.abs(_spectra(polar))
    total = rings[:, :1, :1] + 1e-6
    positive = rings[:, :, 1 : MAX_RADIAL + 1]
    negative = rings[:, :, MAX_RADIAL + 1 :]
    parts = [rings[:, :, :1], positive + negative, np.abs(positive - negative)]
    spectral = (np.concatenate(parts, axis=2) / total).reshape(len(masks), -1)
    shape = np.stack(
        [
            np.array([min(m.shape) / max(m.shape) for m in masks], np.float32),
            np.array([m.mean() for m in masks], np.float32),
            spread,
            np.array([c.pair for c in found], np.float32),
            symmetry(polar, ANGLES // 4),
            symmetry(polar, ANGLES // 2),
        ],
        axis=1,
    )
    return np.concatenate([np.sqrt(spectral), shape, tone_features(found)], axis=1)


def symmetry(polar: np.ndarray, shift: int) -> np.ndarray:
    """How much each grid overlaps itself turned by ``shift`` angle steps (1: exactly), as
    the ratio of the minimum to the maximum, summed with each ring weighted by its radius."""
    turned = np.roll(polar, shift, axis=1)
    weight = _RADII_UNIT[None, None, :]
    low = (np.minimum(polar, turned) * weight).sum(axis=(1, 2))
    high = (np.maximum(polar, turned) * weight).sum(axis=(1, 2)) + 1e-6
    overlap: np.ndarray = (low / high).astype(np.float32)
    return overlap


def tone_features(found: Sequence[Candidate]) -> np.ndarray:
    """Contrast with the surroundings, the spreads inside and around (all over 255), and
    the contrast over the spreads (log): high for even ink on an even ground."""
    tone = np.array([c.tone for c in found], np.float32).reshape(-1, 3)
    contrast, inside, ring = tone[:, 0], tone[:, 1], tone[:, 2]
    clarity = np.log1p(contrast / (inside + ring + 2.0))
    return np.stack([contrast / 255, inside / 255, ring / 255, clarity], axis=1)


def _dft_matrices() -> tuple[np.ndarray, np.ndarray]:
    """The two partial DFTs as matrices: angular frequencies 0..MAX_ANGULAR over ANGLES
    samples, and radial frequencies 0, 1..MAX_RADIAL, -1..-MAX_RADIAL over RADII samples.
    As matrix products they cost a fraction of full FFTs of which most is thrown away."""
    a = np.arange(ANGLES)[:, None] * np.arange(MAX_ANGULAR + 1)[None, :]
    angular = np.exp(-2j * np.pi * a / ANGLES).astype(np.complex64)
    radial_frequencies = np.array(
        [0, *range(1, MAX_RADIAL + 1), *range(-1, -MAX_RADIAL - 1, -1)], np.float64
    )
    r = np.arange(RADII)[:, None] * radial_frequencies[None, :]
    radial = np.exp(-2j * np.pi * r / RADII).astype(np.complex64)
    return angular, radial


_ANGULAR, _RADIAL = _dft_matrices()


def _spectra(polar: np.ndarray) -> np.ndarray:
    """(n, MAX_ANGULAR + 1, 2 * MAX_RADIAL + 1) complex spectra of (n, ANGLES, RADII) grids."""
    by_angle = small_matmul(np.swapaxes(polar, 1, 2).astype(np.complex64), _ANGULAR)
    spectra: np.ndarray = small_matmul(np.swapaxes(by_angle, 1, 2), _RADIAL)
    return spectra


def polar_grids(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, ANGLES, RADII) bilinear samples of each square around its centroid, and each
    one's RMS radius as a fraction of the square's side."""
    n = len(batch)
    ys, xs = np.mgrid[0:SQUARE, 0:SQUARE].astype(np.float32)
    mass = batch.sum(axis=(1, 2)) + 1e-6
    cx = (batch * xs).sum(axis=(1, 2)) / mass
    cy = (batch * ys).sum(axis=(1, 2)) / mass
    spread = (batch * ((xs - cx[:, None, None]) ** 2 + (ys - cy[:, None, None]) ** 2)).sum(
        axis=(1, 2)
    ) / mass
    rms = np.sqrt(np.maximum(spread, 0.25))
    # Samples outside a square are clipped onto its zero border.
    r = rms[:, None, None] * _RADII_UNIT[None, None, :]
    map_x = np.clip(cx[:, None, None] + r * _COS[None, :, None] + 1, 0, SQUARE + 1)
    map_y = np.clip(cy[:, None, None] + r * _SIN[None, :, None] + 1, 0, SQUARE + 1)
    padded = np.pad(batch, ((0, 0), (1, 1), (1, 1)))
    polar = np.concatenate(
        [
            _sample(padded[i : i + _CHUNK], map_x[i : i + _CHUNK], map_y[i : i + _CHUNK])
            for i in range(0, n, _CHUNK)
        ]
    )
    return polar, (rms / SQUARE).astype(np.float32)


def _sample(padded: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Bilinear samples of padded squares at (n, ANGLES, RADII) positions. The squares are
    stacked into one tall image so that a single cv2.remap samples all of them."""
    n, stride, _ = padded.shape
    tall = padded.reshape(n * stride, stride)
    offset = (np.arange(n, dtype=np.float32) * stride)[:, None, None]
    polar = cv2.remap(
        tall,
        map_x.reshape(n * ANGLES, RADII).astype(np.float32),
        (map_y + offset).reshape(n * ANGLES, RADII).astype(np.float32),
        cv2.INTER_LINEAR,
    )
    return polar.reshape(n, ANGLES, RADII)


# cv2.remap takes images and maps of fewer than 32767 rows.
_CHUNK = 32767 // ANGLES - 1
_ANGLE_STEPS = 2 * np.pi * np.arange(ANGLES, dtype=np.float32) / ANGLES
_COS, _SIN = np.cos(_ANGLE_STEPS), np.sin(_ANGLE_STEPS)
_RADII_UNIT = (np.arange(RADII, dtype=np.float32) + 0.5) / RADII * REACH
