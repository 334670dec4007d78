"""Composite images for the ``symbols`` detector: hate symbols drawn over varied backgrounds.

Two recipes that share no drawing code, so that figures measured on one say something about
pictures the detector was not trained on (docs/symbols.md):

- ``a`` (training and tuning): symbols built from mitred polygons and filled with OpenCV
  (half of them with rounded corners), placed by a rotation with mild shear, squeeze and tilt,
  over generated textures (flat, gradients, smoothed noise, stripes) and one half of
  scikit-image's sample photos, with ordinary graphics (plus signs, windows, letters...) as
  distractors, light noise and blur; no compression.
- ``b`` (held out): symbols stroked with Pillow's ``ImageDraw`` (round joins, other
  proportions, outlines, stickers and flags), placed by a stronger perspective warp, over
  other generated textures (plasma, radial gradients, weaves, grain) and the other half of
  the sample photos, with meme captions in a TrueType font, heavier blur and JPEG compression.

``ordinary_graphic`` draws whole pictures of everyday graphics (window grids, tiles, plus signs,
crossed lines, grids, Greek-key bands, letters, chess boards, crosshairs...) for counting false
alarms, and ``clutter`` pictures like the busy parts of photos (gravel, grass, twigs, fur,
camouflage, text) that training uses as negatives. scikit-image (a test dependency) supplies
photos when it is installed; without it the backgrounds are all generated.

    python scripts/symbols_generate.py --recipe b --count 40 --out /tmp/symbols-b
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vigil.detectors.symbols.detector import SYMBOL_LABELS

# Classes as the detector reports them, by symbol kind.
KIND_LABELS: dict[str, str] = SYMBOL_LABELS
KINDS: tuple[str, ...] = tuple(KIND_LABELS)

# scikit-image sample photos, split between the recipes so that the held-out one sees others.
PHOTOS_A = ("astronaut", "camera", "chelsea", "coffee", "coins", "brick", "grass", "moon", "page")
PHOTOS_B = (
    "rocket",
    "cat",
    "clock",
    "gravel",
    "immunohistochemistry",
    "retina",
    "hubble_deep_field",
)

Point = tuple[float, float]
Rgb = tuple[int, int, int]


@dataclass
class Shape:
    """A symbol in unit coordinates (about [-1, 1] on both axes): thick polylines and rings."""

    strokes: list[tuple[list[Point], float]] = field(default_factory=list)
    rings: list[tuple[Point, float, float]] = field(default_factory=list)  # centre, radius, width
    discs: list[tuple[Point, float]] = field(default_factory=list)  # centre, radius
    polygons: list[list[Point]] = field(default_factory=list)  # filled

    def mirrored(self) -> Shape:
        return Shape(
            [([(-x, y) for x, y in line], w) for line, w in self.strokes],
            [((-c[0], c[1]), r, w) for c, r, w in self.rings],
            [((-c[0], c[1]), r) for c, r in self.discs],
            [[(-x, y) for x, y in polygon] for polygon in self.polygons],
        )

    def extent(self) -> float:
        """The largest |coordinate| the drawing reaches, strokes' half-widths included."""
        reach = [abs(v) + w / 2 for line, w in self.strokes for p in line for v in p]
        reach += [abs(v) + r + w / 2 for c, r, w in self.rings for v in c]
        reach += [abs(v) + r for c, r in self.discs for v in c]
        reach += [abs(v) for polygon in self.polygons for p in polygon for v in p]
        return max(reach, default=1.0)


Box = tuple[float, float, float, float]


@dataclass
class Placed:
    """Where a symbol landed in a composite: its box in pixels (left, top, width, height),
    and within that box the pixels it inked and the ones its filled shape covers (they differ
    for outlines)."""

    kind: str
    box: Box
    ink: np.ndarray = field(repr=False)
    filled: np.ndarray = field(repr=False)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Composite:
    image: np.ndarray  # RGB uint8
    symbols: list[Placed]
    recipe: str


# --- symbol geometry -------------------------------------------------------------------------


def _rotate(points: Sequence[Point], degrees: float) -> list[Point]:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return [(x * c - y * s, x * s + y * c) for x, y in points]


def swastika(rng: np.random.Generator, recipe: str) -> Shape:
    """Two perpendicular 'Z' polylines (hook, arm, arm, hook); hooks of any length and bend."""
    width = rng.uniform(0.08, 0.38) if recipe == "a" else rng.uniform(0.1, 0.34)
    hook = rng.uniform(0.35, 1.0) if recipe == "a" else rng.uniform(0.45, 1.0)
    bend = 90.0 if rng.random() < 0.7 else rng.uniform(55.0, 125.0)
    tip = _rotate([(0.0, hook)], -bend)[0]
    first = [(tip[0], 1.0 + tip[1]), (0.0, 1.0), (0.0, -1.0), (-tip[0], -1.0 - tip[1])]
    shape = Shape(strokes=[(first, width), (_rotate(first, 90.0), width)])
    if rng.random() < 0.1:  # the dots of the Hindu swastika, one in each quadrant
        radius = width * 0.8
        for qx, qy in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
            shape.discs.append(((0.5 * qx, 0.5 * qy), radius))
    return shape.mirrored() if rng.random() < 0.5 else shape


def sig_runes(rng: np.random.Generator, recipe: str) -> Shape:
    """Two lightning-bolt runes side by side (the SS insignia), each a four-point zigzag."""
    half = rng.uniform(0.2, 0.45) if recipe == "a" else rng.uniform(0.22, 0.42)
    drop = rng.uniform(0.0, 0.45) if recipe == "a" else rng.uniform(0.0, 0.4)
    width = rng.uniform(0.1, 0.32) if recipe == "a" else rng.uniform(0.13, 0.3)
    rune = [(half, 1.0), (-half, drop / 2), (half, -drop / 2), (-half, -1.0)]
    step = 2 * half + width + rng.uniform(0.05, 0.45)
    strokes = [([(x + dx, y) for x, y in rune], width) for dx in (-step / 2, step / 2)]
    return Shape(strokes=strokes)


def celtic_cross(rng: np.random.Generator, recipe: str) -> Shape:
    """A square cross through (or up to) a ring: the white-power Celtic cross and sun cross."""
    radius = rng.uniform(0.42, 0.75) if recipe == "a" else rng.uniform(0.45, 0.72)
    ring = rng.uniform(0.06, 0.22) if recipe == "a" else rng.uniform(0.09, 0.2)
    arm = rng.uniform(radius + ring / 2, 1.0)
    width = (
        rng.uniform(max(ring, 0.12), 0.4) if recipe == "a" else rng.uniform(max(ring, 0.14), 0.36)
    )
    strokes = [([(-arm, 0.0), (arm, 0.0)], width), ([(0.0, -arm), (0.0, arm)], width)]
    return Shape(strokes=strokes, rings=[((0.0, 0.0), radius, ring)])


def wolfsangel(rng: np.random.Generator, recipe: str) -> Shape:
    """A bar with hooks at both ends pointing opposite ways, and a crossbar (upright or the
    Z-with-a-bar form)."""
    width = rng.uniform(0.1, 0.28) if recipe == "a" else rng.uniform(0.13, 0.24)
    hook = rng.uniform(0.3, 0.7) if recipe == "a" else rng.uniform(0.35, 0.65)
    bend = rng.uniform(40.0, 95.0)  # angle between the bar and its hook
    tip = _rotate([(0.0, -hook)], bend)[0]
    line = [(tip[0], 1.0 + tip[1]), (0.0, 1.0), (0.0, -1.0), (-tip[0], -1.0 - tip[1])]
    cross = rng.uniform(0.3, 0.6)
    angle = 90.0 if rng.random() < 0.6 else bend
    bar = _rotate([(0.0, -cross), (0.0, cross)], angle)
    return Shape(strokes=[(line, width), (bar, width)])


SYMBOLS: dict[str, Callable[[np.random.Generator, str], Shape]] = {
    "swastika": swastika,
    "sig_runes": sig_runes,
    "celtic_cross": celtic_cross,
    "wolfsangel": wolfsangel,
}


# --- ordinary graphics (distractors and false-alarm pictures) --------------------------------


def _plus(rng: np.random.Generator) -> Shape:
    width = rng.uniform(0.08, 0.6)
    return Shape(strokes=[([(-1.0, 0.0), (1.0, 0.0)], width), ([(0.0, -1.0), (0.0, 1.0)], width)])


def _cross_x(rng: np.random.Generator) -> Shape:
    return Shape(strokes=_rotate_strokes(_plus(rng).strokes, rng.uniform(20.0, 70.0)))


def _rotate_strokes(
    strokes: list[tuple[list[Point], float]], degrees: float
) -> list[tuple[list[Point], float]]:
    return [(_rotate(line, degrees), w) for line, w in strokes]


def _window(rng: np.random.Generator) -> Shape:
    """A frame with mullions: 2x2 (the shape of a swastika's bounding square) up to 3x4 panes."""
    width = rng.uniform(0.05, 0.2)
    cols, rows = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    aspect = rng.uniform(0.7, 1.0)
    strokes: list[tuple[list[Point], float]] = []
    for i in range(cols + 1):
        x = -aspect + 2 * aspect * i / cols
        strokes.append(([(x, -1.0), (x, 1.0)], width))
    for j in range(rows + 1):
        y = -1.0 + 2 * j / rows
        strokes.append(([(-aspect, y), (aspect, y)], width))
    return Shape(strokes=strokes)


def _grid(rng: np.random.Generator) -> Shape:
    """A hash sign or noughts-and-crosses grid: lines crossing without a frame."""
    width = rng.uniform(0.06, 0.2)
    at = rng.uniform(0.25, 0.45)
    strokes = [([(-1.0, y), (1.0, y)], width) for y in (-at, at)]
    strokes += [([(x, -1.0), (x, 1.0)], width) for x in (-at, at)]
    return Shape(strokes=strokes)


def _meander(rng: np.random.Generator) -> Shape:
    """A Greek-key band: the same hook repeated along a line."""
    width = rng.uniform(0.05, 0.1)
    units = int(rng.integers(1, 4))
    points: list[Point] = []
    size = 2.0 / units
    for u in range(units):
        x0 = -1.0 + u * size
        unit = [(0, -0.5), (0, 0.5), (0.75, 0.5), (0.75, -0.25), (0.35, -0.25), (0.35, 0.15)]
        points += [(x0 + size * px, size * py) for px, py in unit]
    return Shape(strokes=[(points, width * size)])


def _spiral_key(rng: np.random.Generator) -> Shape:
    """One square spiral, the unit of many meanders."""
    width = rng.uniform(0.08, 0.16)
    points = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-0.6, 1.0), (-0.6, -0.4), (0.4, -0.4)]
    points += [(0.4, 0.4), (-0.1, 0.4)]
    return Shape(strokes=[(points, width)])


def _letter(rng: np.random.Generator) -> Shape:
    """Block letters built from strokes: H, N, Z, S-like zigzags, L, T, E, F, 4."""
    width = rng.uniform(0.14, 0.3)
    glyphs: dict[str, list[list[Point]]] = {
        "H": [[(-0.6, -1), (-0.6, 1)], [(0.6, -1), (0.6, 1)], [(-0.6, 0), (0.6, 0)]],
        "N": [[(-0.6, -1), (-0.6, 1), (0.6, -1), (0.6, 1)]],
        "Z": [[(-0.6, 1), (0.6, 1), (-0.6, -1), (0.6, -1)]],
        "S": [[(0.6, 1), (-0.6, 1), (-0.6, 0), (0.6, 0), (0.6, -1), (-0.6, -1)]],
        "L": [[(-0.5, 1), (-0.5, -1), (0.6, -1)]],
        "T": [[(-0.7, 1), (0.7, 1)], [(0, 1), (0, -1)]],
        "E": [[(0.6, 1), (-0.6, 1), (-0.6, -1), (0.6, -1)], [(-0.6, 0), (0.4, 0)]],
        "F": [[(0.6, 1), (-0.6, 1), (-0.6, -1)], [(-0.6, 0), (0.4, 0)]],
        "4": [[(0.3, -1), (0.3, 1), (-0.6, -0.2), (0.7, -0.2)]],
        "X": [[(-0.6, -1), (0.6, 1)], [(-0.6, 1), (0.6, -1)]],
    }
    name = str(rng.choice(sorted(glyphs)))
    strokes = [([(float(x), float(y)) for x, y in line], width) for line in glyphs[name]]
    if rng.random() < 0.4:  # a doubled letter: NN, ZZ, SS... as rune-pair look-alikes
        strokes = [
            ([(x * 0.5 + dx, y) for x, y in line], w * 0.7)
            for dx in (-0.55, 0.55)
            for line, w in strokes
        ]
    return Shape(strokes=strokes)


def _crosshair(rng: np.random.Generator) -> Shape:
    """Rings with a thin cross (a reticle or target) or a thin-armed sun cross."""
    width = rng.uniform(0.03, 0.09)
    gap = rng.uniform(0.0, 0.3)
    strokes = []
    for sign in (-1.0, 1.0):
        strokes.append(([(sign * gap, 0.0), (sign * 1.0, 0.0)], width))
        strokes.append(([(0.0, sign * gap), (0.0, sign * 1.0)], width))
    radii = rng.uniform(0.3, 0.8, size=int(rng.integers(1, 3)))
    return Shape(strokes=strokes, rings=[((0.0, 0.0), float(r), width * 1.2) for r in radii])


def _wheel(rng: np.random.Generator) -> Shape:
    spokes = int(rng.integers(3, 9))
    width = rng.uniform(0.06, 0.16)
    strokes = [
        ([(0.0, 0.0), _rotate([(0.0, 0.85)], 360.0 * i / spokes)[0]], width) for i in range(spokes)
    ]
    return Shape(strokes=strokes, rings=[((0.0, 0.0), 0.85, width * 1.5)])


def _christian_cross(rng: np.random.Generator) -> Shape:
    """A Latin cross, sometimes with a Celtic ring (the long shaft tells it from the square
    white-power cross)."""
    width = rng.uniform(0.12, 0.28)
    strokes = [([(0.0, -1.0), (0.0, 0.8)], width), ([(-0.5, 0.35), (0.5, 0.35)], width)]
    rings = [((0.0, 0.35), 0.32, width * 0.6)] if rng.random() < 0.5 else []
    return Shape(strokes=strokes, rings=rings)


def _pinwheel(rng: np.random.Generator) -> Shape:
    """Four triangular blades turning the same way (a toy windmill, a 'loading' icon): 4-fold
    and chiral like a swastika, but without its hooked arms."""
    reach = rng.uniform(0.4, 0.9)
    blade = [(0.0, 0.0), (0.0, 1.0), (reach, reach * rng.uniform(0.2, 1.0))]
    return Shape(polygons=[_rotate(blade, 90.0 * i) for i in range(4)])


def _arrows(rng: np.random.Generator) -> Shape:
    """Four arrows out of a centre (a move icon), or a single bent arrow."""
    width = rng.uniform(0.08, 0.2)
    strokes = []
    for i in range(4 if rng.random() < 0.5 else 1):
        strokes.append((_rotate([(0.0, 0.0), (0.0, 1.0)], 90.0 * i), width))
        strokes.append((_rotate([(-0.3, 0.7), (0.0, 1.0), (0.3, 0.7)], 90.0 * i), width))
    return Shape(strokes=strokes)


def _step_cross(rng: np.random.Generator) -> Shape:
    """A stepped or hooked-free cross: the outline of a plus with squared arm ends (Swiss
    cross with serifs, a cross potent)."""
    width = rng.uniform(0.15, 0.3)
    cap = rng.uniform(0.3, 0.7)
    strokes = [([(-1.0, 0.0), (1.0, 0.0)], width), ([(0.0, -1.0), (0.0, 1.0)], width)]
    for i in range(4):
        strokes.append((_rotate([(-cap, 1.0), (cap, 1.0)], 90.0 * i), width))
    return Shape(strokes=strokes)


DISTRACTORS: dict[str, Callable[[np.random.Generator], Shape]] = {
    "plus": _plus,
    "x": _cross_x,
    "window": _window,
    "grid": _grid,
    "meander": _meander,
    "spiral_key": _spiral_key,
    "letter": _letter,
    "crosshair": _crosshair,
    "wheel": _wheel,
    "christian_cross": _christian_cross,
    "pinwheel": _pinwheel,
    "arrows": _arrows,
    "step_cross": _step_cross,
}


# --- rendering a shape into a square mask ----------------------------------------------------


def _offset_lines(points: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """The polyline offset by ``half`` to its left and right, with mitred joins."""
    directions = np.diff(points, axis=0)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True) + 1e-12
    normals = np.stack([-directions[:, 1], directions[:, 0]], axis=1)
    sides = []
    for sign in (1.0, -1.0):
        vertices = [points[0] + sign * half * normals[0]]
        for i in range(1, len(points) - 1):
            bisector = normals[i - 1] + normals[i]
            cos_half = float(np.dot(bisector / (np.linalg.norm(bisector) + 1e-12), normals[i]))
            # Mitres on sharp turns are capped at 3 half-widths, as drawing programs do.
            length = half / max(cos_half, 1 / 3)
            unit = bisector / (np.linalg.norm(bisector) + 1e-12)
            vertices.append(points[i] + sign * length * unit)
        vertices.append(points[-1] + sign * half * normals[-1])
        sides.append(np.array(vertices))
    return sides[0], sides[1]


def render_polygons(shape: Shape, size: int) -> np.ndarray:
    """Recipe a: the shape filled with OpenCV as mitred polygons, float32 0-1, ``size`` square,
    the shape's extent fitted to 80 % of it."""
    scale = 0.4 * size / shape.extent()
    centre = size / 2
    mask = np.zeros((size, size), np.uint8)
    shift = 4  # sub-pixel vertex precision for cv2's fill functions

    def to_px(p: np.ndarray) -> np.ndarray:
        return np.round((p * scale * [1, -1] + centre) * (1 << shift)).astype(np.int32)

    for line, width in shape.strokes:
        points = np.asarray(line, np.float64)
        left, right = _offset_lines(points, width / 2)
        for i in range(len(points) - 1):
            quad = np.array([left[i], left[i + 1], right[i + 1], right[i]])
            cv2.fillPoly(mask, [to_px(quad)], 255, cv2.LINE_AA, shift)
    for (cx, cy), radius, width in shape.rings:
        centre_px = tuple(int(v) for v in to_px(np.array([cx, cy])))
        axes = int(radius * scale * (1 << shift))
        thickness = max(1, round(width * scale))
        cv2.circle(mask, centre_px, axes, 255, thickness, cv2.LINE_AA, shift)
    for (cx, cy), radius in shape.discs:
        centre_px = tuple(int(v) for v in to_px(np.array([cx, cy])))
        cv2.circle(mask, centre_px, int(radius * scale * (1 << shift)), 255, -1, cv2.LINE_AA, shift)
    for polygon in shape.polygons:
        cv2.fillPoly(mask, [to_px(np.asarray(polygon, np.float64))], 255, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def render_strokes(shape: Shape, size: int) -> np.ndarray:
    """Recipe b: the shape stroked with Pillow (round joins, flat ends), drawn at twice the
    size and box-filtered down, float32 0-1."""
    big = 2 * size
    scale = 0.4 * big / shape.extent()
    centre = big / 2

    def to_px(p: Point) -> tuple[float, float]:
        return (centre + p[0] * scale, centre - p[1] * scale)

    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    for line, width in shape.strokes:
        draw.line(
            [to_px(p) for p in line], fill=255, width=max(1, round(width * scale)), joint="curve"
        )
    for c, radius, width in shape.rings:
        x, y = to_px(c)
        r = radius * scale
        w = max(1, round(width * scale))
        draw.ellipse(
            (x - r - w / 2, y - r - w / 2, x + r + w / 2, y + r + w / 2), outline=255, width=w
        )
    for c, radius in shape.discs:
        x, y = to_px(c)
        r = radius * scale
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    for polygon in shape.polygons:
        draw.polygon([to_px(p) for p in polygon], fill=255)
    small = canvas.reduce(2)
    return np.asarray(small, np.float32) / 255.0


def _rounded(mask: np.ndarray, radius: float) -> np.ndarray:
    """Corners rounded (a blur, then a threshold at one half): brush or marker strokes."""
    soft = cv2.GaussianBlur(mask, (0, 0), radius)
    rounded: np.ndarray = np.clip((soft - 0.5) * 4 + 0.5, 0.0, 1.0)
    return rounded


def outline(mask: np.ndarray, thickness: int) -> np.ndarray:
    """The shape drawn as an outline only: the mask less its erosion."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * thickness + 1, 2 * thickness + 1))
    eroded = cv2.erode(mask, kernel)
    return np.clip(mask - eroded, 0.0, 1.0)


# --- backgrounds -----------------------------------------------------------------------------


@functools.cache
def _photo(name: str) -> np.ndarray | None:
    try:
        from skimage import data
    except ImportError:
        return None
    pixels = np.asarray(getattr(data, name)())
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3].astype(np.uint8))


def _photo_background(
    rng: np.random.Generator, names: Sequence[str], size: tuple[int, int]
) -> np.ndarray | None:
    photo = _photo(str(rng.choice(list(names))))
    if photo is None:
        return None
    h, w = photo.shape[:2]
    crop = rng.uniform(0.5, 1.0)
    ch, cw = max(32, int(h * crop)), max(32, int(w * crop))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    part = photo[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        part = part[:, ::-1]
    return cv2.resize(part, size, interpolation=cv2.INTER_LINEAR)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian noise in float32 (float64 noise for a megapixel took 60 ms)."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def _texture_a(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Flat colour, linear gradients, smoothed noise or stripes."""
    w, h = size
    kind = int(rng.integers(0, 4))
    if kind == 0:
        image = np.ones((h, w, 3)) * _random_colour(rng)
    elif kind == 1:
        t = np.linspace(0, 1, w)[None, :, None] * np.ones((h, 1, 1))
        if rng.random() < 0.5:
            t = np.linspace(0, 1, h)[:, None, None] * np.ones((1, w, 1))
        image = (1 - t) * _random_colour(rng) + t * _random_colour(rng)
    elif kind == 2:
        small = rng.uniform(0, 255, (int(rng.integers(2, 12)), int(rng.integers(2, 12)), 3))
        image = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)
    else:
        period = rng.uniform(8, 60)
        xs = np.arange(w)[None, :] * np.ones((h, 1))
        stripes = (np.sin(xs / period * 2 * np.pi) > 0)[:, :, None]
        image = np.where(stripes, _random_colour(rng), _random_colour(rng))
    noise = _noise(rng, (h, w, 3), rng.uniform(0, 12))
    textured: np.ndarray = np.clip(image + noise, 0, 255).astype(np.uint8)
    return textured


def _texture_b(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Multi-octave 'plasma', radial gradients, checked fabric or paper-like grain."""
    w, h = size
    kind = int(rng.integers(0, 4))
    if kind == 0:
        image = np.zeros((h, w, 3))
        for octave in (3, 7, 17, 41):
            small = rng.uniform(-1, 1, (octave, octave, 3))
            image += cv2.resize(small, size, interpolation=cv2.INTER_CUBIC) * (60 / octave**0.5)
        image += _random_colour(rng)
    elif kind == 1:
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        t = np.clip(np.hypot(xx - cx, yy - cy) / max(w, h), 0, 1)[:, :, None]
        image = (1 - t) * _random_colour(rng) + t * _random_colour(rng)
    elif kind == 2:
        period = int(rng.integers(6, 30))
        yy, xx = np.mgrid[0:h, 0:w]
        weave = ((xx // period + yy // period) % 2)[:, :, None] * rng.uniform(10, 40)
        image = _random_colour(rng) + weave
    else:
        grain = cv2.GaussianBlur(_noise(rng, (h, w), 25.0), (0, 0), 1.5)[:, :, None]
        image = np.ones((h, w, 3)) * _random_colour(rng) + grain
    return np.clip(image, 0, 255).astype(np.uint8)


def background(rng: np.random.Generator, recipe: str, size: tuple[int, int]) -> np.ndarray:
    if rng.random() < 0.5:
        photo = _photo_background(rng, PHOTOS_A if recipe == "a" else PHOTOS_B, size)
        if photo is not None:
            return photo
    return _texture_a(rng, size) if recipe == "a" else _texture_b(rng, size)


# --- placing a symbol ------------------------------------------------------------------------


def _contrasting_colour(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    """A colour whose brightness differs by at least 60 grey levels from the region's mean
    and, four times in five, by at least 35 from nine in ten of its pixels: a symbol that a
    person sees at once. The fifth keeps harder cases (a symbol as bright as part of a
    striped or busy background)."""
    luma = under.reshape(-1, 3) @ np.array([0.299, 0.587, 0.114])
    mean = float(luma.mean())
    strict = rng.random() < 0.8
    for _ in range(30):
        colour = _random_colour(rng)
        if rng.random() < 0.4:  # black, white, red: the colours of flags and memes
            colour = np.array(
                [[0, 0, 0], [255, 255, 255], [200, 20, 20]][int(rng.integers(3))], np.float64
            )
        level = float(colour @ [0.299, 0.587, 0.114])
        apart = np.mean(np.abs(luma - level) >= 35) >= 0.9 if strict else True
        if abs(level - mean) >= 60 and apart:
            return colour
    return np.zeros(3) if mean > 127 else np.full(3, 255.0)


def _homography(
    rng: np.random.Generator, recipe: str, canvas: int, side: float, centre: Point
) -> np.ndarray:
    """Canvas -> image: scale to ``side`` pixels, any rotation, shear (a) or a perspective
    tilt (b), then move to ``centre``."""
    s = side / canvas
    a = math.radians(rng.uniform(0, 360))
    to_origin = np.array([[1, 0, -canvas / 2], [0, 1, -canvas / 2], [0, 0, 1]], np.float64)
    rotate = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    distort = np.eye(3)
    if recipe == "a":
        distort[0, 1] = rng.uniform(-0.12, 0.12)
        distort[1, 1] = rng.uniform(0.85, 1.15)
        distort[2, 0] = rng.uniform(-0.3, 0.3) / canvas  # a mild tilt; b tilts up to 0.7
        distort[2, 1] = rng.uniform(-0.3, 0.3) / canvas
    else:
        distort[2, 0] = rng.uniform(-0.7, 0.7) / canvas
        distort[2, 1] = rng.uniform(-0.7, 0.7) / canvas
        distort[0, 1] = rng.uniform(-0.2, 0.2)
    scale = np.diag([s, s, 1.0])
    move = np.array([[1, 0, centre[0]], [0, 1, centre[1]], [0, 0, 1]], np.float64)
    matrix: np.ndarray = move @ scale @ distort @ rotate @ to_origin
    return matrix


def _warp(mask: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The canvas warped into a picture of ``size``; only the part it covers is computed."""
    # Blur before shrinking so that the warp does not alias thin strokes.
    shrink = 1.0 / max(1e-6, math.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
    if shrink > 1.5:
        mask = cv2.GaussianBlur(mask, (0, 0), 0.4 * shrink)
    h, w = mask.shape
    corners = cv2.perspectiveTransform(
        np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64), matrix
    )[0]
    x0, y0 = (max(0, int(v) - 2) for v in corners.min(axis=0))
    x1 = min(size[0], int(corners[:, 0].max()) + 3)
    y1 = min(size[1], int(corners[:, 1].max()) + 3)
    out = np.zeros((size[1], size[0]), np.float32)
    if x1 <= x0 or y1 <= y0:
        return out
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    out[y0:y1, x0:x1] = cv2.warpPerspective(
        mask,
        shift @ matrix,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return out


def _blend(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if len(rows) == 0:
        return
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    a = alpha[window][:, :, None]
    image[window] = image[window] * (1 - a) + colour * a


def _placed_box(alpha: np.ndarray) -> Box | None:
    ys, xs = np.nonzero(alpha > 0.5)
    if len(xs) == 0:
        return None
    return (
        float(xs.min()),
        float(ys.min()),
        float(xs.max() - xs.min() + 1),
        float(ys.max() - ys.min() + 1),
    )


@dataclass
class Drawn:
    """What ``_draw_shape`` put down: the box and the inked and filled pixels inside it."""

    box: Box
    ink: np.ndarray
    filled: np.ndarray


def _draw_shape(
    rng: np.random.Generator,
    image: np.ndarray,
    shape: Shape,
    recipe: str,
    side: float,
    centre: Point,
    style: str,
) -> Drawn | None:
    """Draw ``shape`` into ``image`` (float64 RGB) in ``style``."""
    canvas = 160
    render = render_polygons if recipe == "a" else render_strokes
    solid = render(shape, canvas)
    if recipe == "a" and rng.random() < 0.5:
        solid = _rounded(solid, rng.uniform(1.5, 5.0))
    mask = outline(solid, int(rng.integers(3, 8))) if style == "outline" else solid
    h, w = image.shape[:2]
    matrix = _homography(rng, recipe, canvas, side / 0.8, centre)
    alpha = _warp(mask, matrix, (w, h))
    box = _placed_box(alpha)
    if box is None:
        return None
    if style in ("sticker", "flag"):
        _draw_backing(rng, image, mask, matrix, style)
        colour = np.zeros(3)
    else:
        x, y, bw, bh = (int(v) for v in box)
        colour = _contrasting_colour(rng, image[y : y + bh, x : x + bw])
    if style == "partial":
        # A disc across part of the symbol: occlusion by another object.
        occluder = np.zeros((h, w), np.float32)
        left, top, width, height = box
        ox, oy = left + rng.uniform(0, width), top + rng.uniform(0, height)
        cv2.circle(occluder, (int(ox), int(oy)), max(1, int(0.15 * max(width, height))), 1.0, -1)
        alpha = alpha * (1 - occluder)
    _blend(image, alpha, colour)
    x, y, bw, bh = (int(v) for v in box)
    window = (slice(y, y + bh), slice(x, x + bw))
    filled = _warp(solid, matrix, (w, h)) if style == "outline" else alpha
    return Drawn(box, alpha[window] > 0.5, filled[window] > 0.5)


def _draw_backing(
    rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, matrix: np.ndarray, style: str
) -> None:
    """A white patch behind the symbol: a sticker's border, or a flag's disc on red."""
    h, w = image.shape[:2]
    canvas = mask.shape[0]
    if style == "sticker":
        patch = cv2.dilate(mask, np.ones((25, 25), np.uint8))
    else:
        patch = cv2.circle(
            np.zeros_like(mask), (canvas // 2, canvas // 2), int(canvas * 0.47), 1.0, -1
        )
        _blend(image, _warp(np.ones_like(mask), matrix, (w, h)), np.array([200.0, 20.0, 25.0]))
    _blend(image, _warp(patch, matrix, (w, h)), np.full(3, 255.0))


# --- composites ------------------------------------------------------------------------------


def _image_size(rng: np.random.Generator) -> tuple[int, int]:
    short = int(rng.integers(360, 900))
    aspect = rng.uniform(1.0, 1.8)
    long = int(short * aspect)
    return (long, short) if rng.random() < 0.6 else (short, long)


def _free_spot(
    rng: np.random.Generator, size: tuple[int, int], side: float, taken: list[Box]
) -> Point | None:
    w, h = size
    reach = side * 0.75
    for _ in range(30):
        cx = rng.uniform(reach, max(reach + 1, w - reach))
        cy = rng.uniform(reach, max(reach + 1, h - reach))
        if all(
            abs(cx - (x + bw / 2)) > (bw / 2 + reach) or abs(cy - (y + bh / 2)) > (bh / 2 + reach)
            for x, y, bw, bh in taken
        ):
            return (cx, cy)
    return None


def _styles(recipe: str) -> tuple[list[str], list[float]]:
    if recipe == "a":
        return ["fill", "outline", "partial"], [0.8, 0.1, 0.1]
    return ["fill", "outline", "sticker", "flag", "partial"], [0.55, 0.15, 0.1, 0.1, 0.1]


def composite(
    rng: np.random.Generator,
    recipe: str,
    kinds: Sequence[str] | None = None,
    distractors: int | None = None,
    busy: bool = False,
) -> Composite:
    """One picture with 0-2 symbols (``busy``: 0-3, for training) and 0-3 ordinary graphics
    (``busy``: 1-5). ``kinds`` forces the symbols (an empty list: none); symbols span 4.5-60 %
    of the short side."""
    size = _image_size(rng)
    image = background(rng, recipe, size).astype(np.float64)
    short = min(size)
    if kinds is None:
        counts, weights = (
            ([0, 1, 2, 3], [0.1, 0.3, 0.35, 0.25]) if busy else ([0, 1, 2], [0.2, 0.6, 0.2])
        )
        count = int(rng.choice(counts, p=weights))
        kinds = [str(k) for k in rng.choice(list(KINDS), size=count, p=[0.4, 0.2, 0.2, 0.2])]
    if distractors is None:
        distractors = int(rng.integers(1, 6)) if busy else int(rng.integers(0, 4))
    placed: list[Placed] = []
    taken: list[Box] = []
    styles, weights = _styles(recipe)
    for kind in kinds:
        side = short * math.exp(rng.uniform(math.log(0.045), math.log(0.6)))
        spot = _free_spot(rng, size, side, taken)
        if spot is None:
            continue
        style = str(rng.choice(styles, p=weights))
        drawn = _draw_shape(rng, image, SYMBOLS[kind](rng, recipe), recipe, side, spot, style)
        if drawn is not None:
            placed.append(Placed(kind, drawn.box, drawn.ink, drawn.filled))
            taken.append(drawn.box)
    for _ in range(distractors):
        side = short * math.exp(rng.uniform(math.log(0.05), math.log(0.5)))
        spot = _free_spot(rng, size, side, taken)
        if spot is None:
            continue
        shape = DISTRACTORS[str(rng.choice(sorted(DISTRACTORS)))](rng)
        drawn = _draw_shape(rng, image, shape, recipe, side, spot, "fill")
        if drawn is not None:
            taken.append(drawn.box)
    pixels = np.clip(image, 0, 255).astype(np.uint8)
    pixels = _finish_a(rng, pixels) if recipe == "a" else _finish_b(rng, pixels)
    return Composite(pixels, placed, recipe)


def _finish_a(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    if rng.random() < 0.4:
        pixels = cv2.GaussianBlur(pixels, (0, 0), rng.uniform(0.4, 1.4))
    noise = _noise(rng, pixels.shape, rng.uniform(0, 6))
    noisy: np.ndarray = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    return noisy


def _finish_b(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    if rng.random() < 0.6:
        pixels = _caption(rng, pixels)
    if rng.random() < 0.4:
        pixels = cv2.GaussianBlur(pixels, (0, 0), rng.uniform(0.5, 1.6))
    if rng.random() < 0.7:
        pixels = _jpeg(pixels, int(rng.integers(25, 85)))
    return pixels


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB")).copy()


FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
)
CAPTIONS = (
    "WHEN YOU SEE IT",
    "BOSS LEVEL",
    "NO ZZZ TONIGHT",
    "MONDAY MOOD",
    "PASS THE SALSA",
    "KEEP CALM 44",
    "HHH",
    "EXPRESS 4x4",
    "NN ZZ SS",
    "LOL",
    "THIS IS FINE",
    "ZIGZAG",
)


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    files = [f for f in FONT_FILES if Path(f).is_file()]
    if files:
        return ImageFont.truetype(str(rng.choice(files)), size)
    return ImageFont.load_default(size)


def _caption(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    """Meme text: white letters with a black outline at the top and/or bottom."""
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    h = image.height
    size = int(h * rng.uniform(0.05, 0.12))
    font = _font(rng, size)
    for y in (int(h * 0.03), int(h * 0.97) - size):
        if rng.random() < 0.6:
            text = str(rng.choice(CAPTIONS))
            draw.text(
                (int(rng.uniform(0.02, 0.3) * image.width), y),
                text,
                font=font,
                fill=(255, 255, 255),
                stroke_width=max(1, size // 15),
                stroke_fill=(0, 0, 0),
            )
    return np.asarray(image).copy()


# --- clutter: pictures like the busy parts of photos, for training negatives ----------------

CLUTTER = ("pebbles", "grass", "branches", "fur", "camouflage", "script")


def clutter(rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """A picture of natural-looking clutter (gravel, grass, twigs, fur, mottled patches,
    text in several scripts), RGB uint8: the shapes that everyday photos break into when
    thresholded, which the classifier must learn to call "other"."""
    w, h = int(rng.integers(480, 1000)), int(rng.integers(400, 800))
    kind = kind or str(rng.choice(CLUTTER))
    base = background(rng, "a", (w, h)) if rng.random() < 0.3 else None
    image = (
        Image.fromarray(base)
        if base is not None
        else Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
    )
    draw = ImageDraw.Draw(image)
    painters: dict[str, Callable[[np.random.Generator, ImageDraw.ImageDraw, int, int], None]] = {
        "pebbles": _pebbles,
        "grass": _grass,
        "branches": _branches,
        "fur": _fur,
        "camouflage": _camouflage_marks,
        "script": _script,
    }
    painters[kind](rng, draw, w, h)
    pixels = np.asarray(image).copy()
    if kind == "camouflage":
        pixels = _camouflage(rng, pixels)
    if rng.random() < 0.5:
        pixels = cv2.GaussianBlur(pixels, (0, 0), rng.uniform(0.5, 1.5))
    return _jpeg(pixels, int(rng.integers(50, 95))) if rng.random() < 0.5 else pixels


def _colour_near(rng: np.random.Generator, centre: np.ndarray, spread: float) -> Rgb:
    c = np.clip(centre + rng.normal(0, spread, 3), 0, 255).astype(int)
    return (int(c[0]), int(c[1]), int(c[2]))


def _pebbles(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    centre = rng.uniform(60, 200, 3)
    size = rng.uniform(8, 60)
    for _ in range(int(w * h / size**2 * 1.5)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a, b = size * rng.uniform(0.4, 1.0), size * rng.uniform(0.3, 0.8)
        points = [
            (
                x + a * math.cos(t) * rng.uniform(0.8, 1.1),
                y + b * math.sin(t) * rng.uniform(0.8, 1.1),
            )
            for t in np.linspace(0, 2 * math.pi, int(rng.integers(5, 12)), endpoint=False)
        ]
        draw.polygon(points, fill=_colour_near(rng, centre, 50))


def _grass(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    centre = np.array([60.0, 140.0, 50.0]) if rng.random() < 0.7 else rng.uniform(40, 200, 3)
    for _ in range(int(rng.integers(150, 600))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        length = rng.uniform(20, 150)
        lean, bend = rng.uniform(-0.6, 0.6), rng.uniform(-0.02, 0.02)
        points = []
        for t in np.linspace(0, 1, 6):
            points.append((x + length * (lean * t + bend * 30 * t * t), y - length * t))
        draw.line(points, fill=_colour_near(rng, centre, 45), width=int(rng.integers(2, 9)))


def _branches(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    colour = rng.uniform(30, 180, 3)
    for _ in range(int(rng.integers(20, 80))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * math.pi)
        width = int(rng.integers(2, 12))
        for _ in range(int(rng.integers(2, 6))):
            length = rng.uniform(20, 160)
            nx, ny = x + length * math.cos(angle), y + length * math.sin(angle)
            draw.line((x, y, nx, ny), fill=_colour_near(rng, colour, 30), width=width)
            x, y = nx, ny
            angle += rng.uniform(-0.9, 0.9)
            width = max(1, width - int(rng.integers(0, 3)))


def _fur(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    colour = rng.uniform(20, 230, 3)
    flow = rng.uniform(0, 2 * math.pi)
    for _ in range(int(w * h / 60)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a = flow + 0.6 * math.sin(x / 90) + rng.normal(0, 0.3)
        length = rng.uniform(5, 25)
        draw.line(
            (x, y, x + length * math.cos(a), y + length * math.sin(a)),
            fill=_colour_near(rng, colour, 40),
            width=int(rng.integers(1, 4)),
        )


def _camouflage_marks(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    """Nothing drawn: the mottled pattern is made from thresholded noise afterwards."""


def _camouflage(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    out = pixels.astype(np.float32)
    for _ in range(int(rng.integers(2, 5))):
        cells = int(rng.integers(6, 40))
        noise = cv2.resize(
            rng.uniform(0, 1, (cells, cells)).astype(np.float32),
            (w, h),
            interpolation=cv2.INTER_CUBIC,
        )
        patch = (noise > rng.uniform(0.45, 0.7))[:, :, None]
        out = np.where(patch, _random_colour(rng), out)
    result: np.ndarray = out.astype(np.uint8)
    return result


SCRIPT_TEXT = (
    "The quick brown fox jumps over the lazy dog 0123456789",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία ΣΣ ΖΖ ΝΝ",  # noqa: RUF001 - Greek on purpose
    "Съешь же ещё этих мягких французских булок ЖЖ ИИ",
    "HHH NNN ZZZ SSS 444 777 LLL TTT +++ ### %%% &&& §§ ¥¥ ££ €€",
    "ⅡⅢ ∑∑ ∫∫ ≈≈ ⊕⊗ ⊞⊠ ±± ×× ÷÷ √√ ∞∞ ≠≠ ♠♣♥♦ ☺☻ ♪♫ ☼ ►◄ ▲▼ ■□ ●○",  # noqa: RUF001
)


def _script(rng: np.random.Generator, draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    size = int(rng.integers(18, 120))
    font = _font(rng, size)
    ink = tuple(int(v) for v in rng.integers(0, 256, 3))
    y = int(rng.integers(0, size))
    while y < h - size // 2:
        text = str(rng.choice(SCRIPT_TEXT))
        start = int(rng.integers(0, len(text) // 2))
        draw.text(
            (int(rng.integers(-w // 4, w // 4)), y),
            text[start:],
            font=font,
            fill=(ink[0], ink[1], ink[2]),
        )
        y += int(size * rng.uniform(1.1, 2.0))


# --- ordinary graphics, whole pictures -------------------------------------------------------

GRAPHICS = (
    "window_grid",
    "tiles",
    "plus_signs",
    "crossed_lines",
    "grid",
    "greek_key",
    "letters",
    "chess_board",
    "crosshair",
    "icons",
)


def ordinary_graphic(rng: np.random.Generator, kind: str) -> np.ndarray:
    """A whole picture of an everyday graphic of ``kind`` (see ``GRAPHICS``), RGB uint8."""
    w, h = int(rng.integers(500, 1100)), int(rng.integers(400, 900))
    ink, paper = _ink_and_paper(rng)
    image = Image.new("RGB", (w, h), paper)
    painter: dict[str, Callable[[np.random.Generator, Image.Image, Rgb], None]] = {
        "window_grid": _paint_windows,
        "tiles": _paint_tiles,
        "plus_signs": _paint_plus_signs,
        "crossed_lines": _paint_crossed_lines,
        "grid": _paint_grid,
        "greek_key": _paint_greek_key,
        "letters": _paint_letters,
        "chess_board": _paint_chess,
        "crosshair": _paint_crosshairs,
        "icons": _paint_icons,
    }
    painter[kind](rng, image, ink)
    pixels = np.asarray(image).copy()
    if rng.random() < 0.5:
        pixels = _jpeg(pixels, int(rng.integers(40, 90)))
    return pixels


def _ink_and_paper(rng: np.random.Generator) -> tuple[Rgb, Rgb]:
    a = tuple(int(v) for v in rng.integers(0, 90, 3))
    b = tuple(int(v) for v in rng.integers(160, 256, 3))
    ink, paper = (a, b) if rng.random() < 0.7 else (b, a)
    return (ink[0], ink[1], ink[2]), (paper[0], paper[1], paper[2])


def _paint_windows(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """A facade: rows of windows, each a frame with a cross of mullions."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    cell = int(rng.integers(40, 160))
    bar = max(2, int(cell * rng.uniform(0.04, 0.15)))
    for y in range(cell // 4, h - cell, int(cell * 1.4)):
        for x in range(cell // 4, w - cell, int(cell * 1.3)):
            draw.rectangle((x, y, x + cell, y + cell), outline=ink, width=bar)
            draw.line((x + cell // 2, y, x + cell // 2, y + cell), fill=ink, width=bar)
            draw.line((x, y + cell // 2, x + cell, y + cell // 2), fill=ink, width=bar)


def _paint_tiles(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """Tiles with grout lines, offset every other row like bricks half the time."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    cell = int(rng.integers(20, 120))
    grout = max(1, int(cell * rng.uniform(0.03, 0.12)))
    offset = rng.random() < 0.5
    for row, y in enumerate(range(0, h, cell)):
        draw.line((0, y, w, y), fill=ink, width=grout)
        shift = cell // 2 if offset and row % 2 else 0
        for x in range(-shift, w, cell):
            draw.line((x, y, x, y + cell), fill=ink, width=grout)


def _paint_plus_signs(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    for _ in range(int(rng.integers(3, 20))):
        s = int(rng.integers(15, 150))
        t = max(2, int(s * rng.uniform(0.1, 0.4)))
        x, y = int(rng.integers(s, max(s + 1, w - s))), int(rng.integers(s, max(s + 1, h - s)))
        draw.rectangle((x - s, y - t // 2, x + s, y + t // 2), fill=ink)
        draw.rectangle((x - t // 2, y - s, x + t // 2, y + s), fill=ink)


def _paint_crossed_lines(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    for _ in range(int(rng.integers(4, 30))):
        points = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(2)]
        draw.line(points, fill=ink, width=int(rng.integers(2, 14)))


def _paint_grid(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """Graph paper, or a few hash signs."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    if rng.random() < 0.5:
        step = int(rng.integers(12, 60))
        width = int(rng.integers(1, 4))
        for x in range(0, w, step):
            draw.line((x, 0, x, h), fill=ink, width=width)
        for y in range(0, h, step):
            draw.line((0, y, w, y), fill=ink, width=width)
        return
    font = _font(rng, int(rng.integers(40, 200)))
    for _ in range(int(rng.integers(1, 6))):
        draw.text(
            (int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))), "#", font=font, fill=ink
        )


def _paint_greek_key(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """Bands of the meander pattern along the picture, as on pottery and borders."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    unit = int(rng.integers(16, 70))
    width = max(2, unit // int(rng.integers(5, 9)))
    for y0 in range(unit, h - unit, int(unit * rng.uniform(1.6, 4.0))):
        for x0 in range(0, w, unit):
            u = unit
            points = [
                (x0, y0 + u),
                (x0, y0),
                (x0 + 0.75 * u, y0),
                (x0 + 0.75 * u, y0 + 0.7 * u),
                (x0 + 0.35 * u, y0 + 0.7 * u),
                (x0 + 0.35 * u, y0 + 0.35 * u),
            ]
            draw.line(points, fill=ink, width=width, joint="curve")
            draw.line((x0, y0 + u, x0 + u, y0 + u), fill=ink, width=width)


def _paint_letters(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """Lines of capitals and digits, with H, N, Z, S, 4 and doubled letters."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    size = int(rng.integers(24, 160))
    font = _font(rng, size)
    words = (
        "HH",
        "NN",
        "ZZ",
        "SS",
        "HOTEL",
        "4 x 4",
        "BUZZ",
        "KISS",
        "ZONE",
        "H&M",
        "LIZZ",
        "FIZZ",
        "EXIT",
        "TEXT",
        "HELLO",
        "BOSS",
    )
    y = int(rng.integers(0, size))
    while y < h - size:
        line = " ".join(str(rng.choice(words)) for _ in range(int(rng.integers(1, 5))))
        draw.text((int(rng.integers(0, max(1, w // 4))), y), line, font=font, fill=ink)
        y += int(size * rng.uniform(1.1, 1.8))


def _paint_chess(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    cell = int(rng.integers(20, 110))
    for row in range(h // cell + 1):
        for col in range(w // cell + 1):
            if (row + col) % 2:
                draw.rectangle(
                    (col * cell, row * cell, (col + 1) * cell - 1, (row + 1) * cell - 1), fill=ink
                )


def _paint_crosshairs(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """Targets, reticles and circled plus signs (Earth symbols, 'add' buttons)."""
    draw, w, h = ImageDraw.Draw(image), image.width, image.height
    for _ in range(int(rng.integers(1, 8))):
        r = int(rng.integers(15, max(16, min(w, h) // 3)))
        x, y = int(rng.integers(r, max(r + 1, w - r))), int(rng.integers(r, max(r + 1, h - r)))
        # Thin lines: a ring crossed by a bar as thick as itself is the sun cross itself.
        width = max(1, int(r * rng.uniform(0.02, 0.08)))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=ink, width=width)
        reach = r * rng.uniform(0.6, 1.3)
        draw.line((x - reach, y, x + reach, y), fill=ink, width=width)
        draw.line((x, y - reach, x, y + reach), fill=ink, width=width)


def _paint_icons(rng: np.random.Generator, image: Image.Image, ink: Rgb) -> None:
    """A sheet of the distractor shapes (pinwheels, wheels, arrows, crosses, keys...)."""
    w, h = image.width, image.height
    pixels = np.asarray(image).astype(np.float64)
    cell = int(rng.integers(60, 200))
    for y in range(cell // 2, h - cell // 2, cell):
        for x in range(cell // 2, w - cell // 2, cell):
            shape = DISTRACTORS[str(rng.choice(sorted(DISTRACTORS)))](rng)
            mask = render_polygons(shape, 96)
            matrix = _homography(rng, "a", 96, cell * 0.8 / 0.8, (float(x), float(y)))
            _blend(pixels, _warp(mask, matrix, (w, h)), np.array(ink, np.float64))
    image.paste(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))


# --- command line ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=("a", "b", "graphics"), default="a")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    index: list[dict[str, object]] = []
    for i in range(args.count):
        name = f"{args.recipe}-{i:04d}.png"
        if args.recipe == "graphics":
            kind = GRAPHICS[i % len(GRAPHICS)]
            Image.fromarray(ordinary_graphic(rng, kind)).save(args.out / name)
            index.append({"file": name, "graphic": kind, "symbols": []})
            continue
        made = composite(rng, args.recipe)
        Image.fromarray(made.image).save(args.out / name)
        index.append(
            {
                "file": name,
                "symbols": [{"kind": p.kind, "label": p.label, "box": p.box} for p in made.symbols],
            }
        )
    (args.out / "index.json").write_text(json.dumps(index, indent=1))
    print(f"wrote {args.count} pictures and index.json to {args.out}")


if __name__ == "__main__":
    main()
