"""The symbols detector on pictures drawn here, with code of their own (not the training
generator's): symbols at several turns, colours and sizes must be found where they are, and
everyday graphics and photos must give nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.detectors.conftest import decoded, photo_array
from vigil.detectors.base import Box
from vigil.detectors.symbols.candidates import grey_levels
from vigil.detectors.symbols.detector import NAZI_PARTY, WHITE_SUPREMACY, SymbolsDetector
from vigil.errors import DetectorFailed

Point = tuple[float, float]
Rgb = tuple[int, int, int]
WIDTH, HEIGHT = 900, 640


@pytest.fixture(scope="module")
def symbols() -> SymbolsDetector:
    detector = SymbolsDetector()
    detector.load()
    return detector


@pytest.fixture(scope="module")
def all_symbols() -> SymbolsDetector:
    """With the opt-in White Supremacy symbols switched on too."""
    detector = SymbolsDetector(symbols=["swastika", "sig_runes", "celtic_cross", "wolfsangel"])
    detector.load()
    return detector


def _place(points: list[Point], centre: Point, size: float, degrees: float) -> list[Point]:
    """Unit coordinates (the symbol spans -1..1) turned, scaled to ``size`` pixels, moved."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    half = size / 2
    return [
        (centre[0] + half * (x * c - y * s), centre[1] + half * (x * s + y * c)) for x, y in points
    ]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def swastika(arm: float = 0.22, mirrored: bool = False) -> list[list[Point]]:
    """Two bars and four hooks as rectangles (a swastika with hooks to the corners)."""
    t = arm / 2
    parts = [_rect(-t, -1, t, 1), _rect(-1, -t, 1, t)]
    hook = _rect(-t, -1, 1, -1 + arm)  # the upper arm's hook, turning right
    for quarter in range(4):
        parts.append(_place(hook, (0.0, 0.0), 2.0, 90.0 * quarter))
    if mirrored:
        parts = [[(-x, y) for x, y in part] for part in parts]
    return parts


def draw(
    background: Image.Image,
    parts: list[list[Point]],
    centre: Point,
    size: float,
    degrees: float,
    colour: Rgb,
) -> Image.Image:
    picture = background.copy()
    pen = ImageDraw.Draw(picture)
    for part in parts:
        pen.polygon(_place(part, centre, size, degrees), fill=colour)
    return picture


def flat(colour: Rgb) -> Image.Image:
    return Image.new("RGB", (WIDTH, HEIGHT), colour)


def gradient() -> Image.Image:
    ramp = np.linspace(40, 220, WIDTH, dtype=np.float64)[None, :, None]
    pixels = np.broadcast_to(ramp * np.array([0.6, 0.8, 1.0]), (HEIGHT, WIDTH, 3))
    return Image.fromarray(pixels.astype(np.uint8))


def photo(name: str) -> Image.Image:
    return Image.fromarray(photo_array(name)).resize((WIDTH, HEIGHT))


def assert_found_at(found: list[Box], centre: Point, size: float) -> None:
    """Some box has its centre within a third of the symbol's size of the drawn centre and a
    side between half and twice the drawn one."""
    near = [
        box
        for box in found
        if math.dist(
            ((box.left + box.width / 2) * WIDTH, (box.top + box.height / 2) * HEIGHT), centre
        )
        < size / 3
        and size / 2 < max(box.width * WIDTH, box.height * HEIGHT) < 2 * size
    ]
    assert near, f"no box near {centre} (size {size:.0f} px) among {found}"


def boxes(detector: SymbolsDetector, picture: Image.Image, label: str) -> list[Box]:
    found = detector.detect([decoded(np.asarray(picture))])[0]
    return [d.box for d in found if d.label == label and d.box is not None]


SWASTIKAS = [
    # (degrees, mirrored, colour, background, size as a fraction of the short side)
    (0.0, False, (0, 0, 0), "white", 0.3),
    (45.0, False, (0, 0, 0), "red flag", 0.25),
    (17.0, True, (255, 255, 255), "dark blue", 0.12),
    (-30.0, False, (250, 220, 30), "coffee", 0.25),
    (100.0, True, (20, 20, 20), "gradient", 0.06),
    (63.0, False, (200, 0, 0), "white", 0.065),
]


def background(name: str) -> Image.Image:
    if name == "white":
        return flat((255, 255, 255))
    if name == "dark blue":
        return flat((20, 30, 90))
    if name == "gradient":
        return gradient()
    if name == "red flag":
        picture = flat((200, 20, 25))
        ImageDraw.Draw(picture).ellipse((WIDTH / 2 - 200, 120, WIDTH / 2 + 200, 520), "white")
        return picture
    return photo(name)


@pytest.mark.parametrize(("degrees", "mirrored", "colour", "ground", "fraction"), SWASTIKAS)
def test_finds_a_swastika_where_it_is(
    symbols: SymbolsDetector,
    degrees: float,
    mirrored: bool,
    colour: Rgb,
    ground: str,
    fraction: float,
) -> None:
    size = fraction * HEIGHT
    centre = (WIDTH / 2, HEIGHT / 2) if ground == "red flag" else (0.3 * WIDTH, 0.6 * HEIGHT)
    picture = draw(background(ground), swastika(mirrored=mirrored), centre, size, degrees, colour)
    assert_found_at(boxes(symbols, picture, NAZI_PARTY), centre, size)


def test_a_small_banner_is_enlarged_at_most_twice(symbols: SymbolsDetector) -> None:
    """A 420 x 150 banner is searched at 840 x 300 (MAX_ENLARGEMENT), not at 1,344 x 480, and
    a swastika 36 px high in it is still found where it is."""
    banner = Image.new("RGB", (420, 150), (250, 250, 245))
    picture = draw(banner, swastika(), (300.0, 75.0), 36.0, 20.0, (10, 10, 10))
    (fine, scale), _ = grey_levels(picture)
    assert (fine.shape, scale) == ((300, 840), 1.0)
    centres = [
        ((box.left + box.width / 2) * 420, (box.top + box.height / 2) * 150)
        for box in boxes(symbols, picture, NAZI_PARTY)
    ]
    assert any(math.dist(centre, (300.0, 75.0)) < 12 for centre in centres), centres


def sig_runes(
    picture: Image.Image, centre: Point, size: float, degrees: float, colour: Rgb
) -> Image.Image:
    """The SS insignia: two zigzag strokes side by side, drawn as thick lines."""
    rune = [(0.25, -1.0), (-0.3, 0.05), (0.3, -0.05), (-0.25, 1.0)]
    pen = ImageDraw.Draw(picture)
    for dx in (-0.42, 0.42):
        line = _place([(x + dx, y) for x, y in rune], centre, size, degrees)
        pen.line(line, fill=colour, width=round(0.1 * size))
    return picture


@pytest.mark.parametrize(
    ("degrees", "colour", "ground"),
    [
        (0.0, (0, 0, 0), (255, 255, 255)),
        (-20.0, (255, 255, 255), (10, 10, 10)),
        (70.0, (230, 230, 230), (120, 30, 30)),
    ],
)
def test_finds_the_ss_runes(
    symbols: SymbolsDetector, degrees: float, colour: Rgb, ground: Rgb
) -> None:
    size, centre = 0.3 * HEIGHT, (0.6 * WIDTH, 0.45 * HEIGHT)
    picture = sig_runes(flat(ground), centre, size, degrees, colour)
    assert_found_at(boxes(symbols, picture, NAZI_PARTY), centre, size)


def celtic_cross() -> Image.Image:
    """A square cross with thick arms through a ring, as in white-power logos."""
    size, centre = 0.35 * HEIGHT, (0.5 * WIDTH, 0.5 * HEIGHT)
    picture = flat((255, 255, 255))
    pen = ImageDraw.Draw(picture)
    r, ring, arm = 0.6 * size / 2, round(0.1 * size), round(0.2 * size)
    pen.ellipse(
        (centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r), outline="black", width=ring
    )
    half = size / 2
    pen.line((centre[0] - half, centre[1], centre[0] + half, centre[1]), "black", arm)
    pen.line((centre[0], centre[1] - half, centre[0], centre[1] + half), "black", arm)
    return picture


def test_finds_a_celtic_cross_when_asked(all_symbols: SymbolsDetector) -> None:
    found = boxes(all_symbols, celtic_cross(), WHITE_SUPREMACY)
    assert_found_at(found, (0.5 * WIDTH, 0.5 * HEIGHT), 0.35 * HEIGHT)


def test_white_supremacy_symbols_are_opt_in(symbols: SymbolsDetector) -> None:
    assert symbols.detect([decoded(np.asarray(celtic_cross()))]) == [[]]


def test_finds_a_wolfsangel_when_asked(all_symbols: SymbolsDetector) -> None:
    size, centre = 0.4 * HEIGHT, (0.4 * WIDTH, 0.5 * HEIGHT)
    hooked = [(0.45, -0.75), (0.0, -1.0), (0.0, 1.0), (-0.45, 0.75)]
    picture = flat((240, 240, 235))
    pen = ImageDraw.Draw(picture)
    width = round(0.09 * size)
    pen.line(_place(hooked, centre, size, 30.0), "black", width)
    pen.line(_place([(-0.45, 0.0), (0.45, 0.0)], centre, size, 30.0), "black", width)
    assert_found_at(boxes(all_symbols, picture, WHITE_SUPREMACY), centre, size)


def window_grid() -> Image.Image:
    picture = flat((190, 180, 170))
    pen = ImageDraw.Draw(picture)
    for top in range(40, HEIGHT - 120, 150):
        for left in range(40, WIDTH - 120, 140):
            pen.rectangle((left, top, left + 110, top + 110), outline=(40, 30, 30), width=8)
            pen.line((left + 55, top, left + 55, top + 110), (40, 30, 30), 8)
            pen.line((left, top + 55, left + 110, top + 55), (40, 30, 30), 8)
    return picture


def plus_signs() -> Image.Image:
    picture = flat((250, 250, 250))
    pen = ImageDraw.Draw(picture)
    for i, (x, y) in enumerate([(120, 120), (400, 200), (700, 150), (250, 450), (600, 480)]):
        half, bar = 30 + 20 * i, 10 + 5 * i
        pen.rectangle((x - half, y - bar, x + half, y + bar), (200, 0, 0))
        pen.rectangle((x - bar, y - half, x + bar, y + half), (200, 0, 0))
    return picture


def tiles() -> Image.Image:
    picture = flat((230, 230, 220))
    pen = ImageDraw.Draw(picture)
    for y in range(0, HEIGHT, 60):
        pen.line((0, y, WIDTH, y), (90, 90, 90), 4)
        for x in range(30 if y % 120 else 0, WIDTH, 60):
            pen.line((x, y, x, y + 60), (90, 90, 90), 4)
    return picture


def chess_board() -> Image.Image:
    picture = flat((240, 220, 180))
    pen = ImageDraw.Draw(picture)
    for row in range(HEIGHT // 80 + 1):
        for col in range(WIDTH // 80 + 1):
            if (row + col) % 2:
                pen.rectangle((col * 80, row * 80, col * 80 + 79, row * 80 + 79), (60, 40, 20))
    return picture


@pytest.mark.parametrize("make", [window_grid, plus_signs, tiles, chess_board])
def test_ordinary_graphics_give_nothing(all_symbols: SymbolsDetector, make: object) -> None:
    assert callable(make)
    picture = make()
    assert all_symbols.detect([decoded(np.asarray(picture))]) == [[]]


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "camera"])
def test_photos_give_nothing(all_symbols: SymbolsDetector, name: str) -> None:
    pixels = photo_array(name)
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=2)
    assert all_symbols.detect([decoded(pixels)]) == [[]]


def test_detections_carry_label_box_and_confidence(symbols: SymbolsDetector) -> None:
    size, centre = 0.3 * HEIGHT, (WIDTH / 2, HEIGHT / 2)
    picture = draw(flat((255, 255, 255)), swastika(), centre, size, 45.0, (0, 0, 0))
    [found] = symbols.detect([decoded(np.asarray(picture)), decoded(np.asarray(flat((9, 9, 9))))])[
        :1
    ]
    assert len(found) == 1
    detection = found[0]
    assert (detection.label, detection.detector) == (NAZI_PARTY, "symbols")
    assert 0 <= detection.confidence <= 100
    assert detection.box is not None
    assert detection.to_dict()["BoundingBox"]["Width"] > 0


def test_one_result_per_image_in_order(symbols: SymbolsDetector) -> None:
    size, centre = 0.3 * HEIGHT, (WIDTH / 2, HEIGHT / 2)
    marked = draw(flat((255, 255, 255)), swastika(), centre, size, 10.0, (0, 0, 0))
    results = symbols.detect(
        [decoded(np.asarray(flat((255, 255, 255)))), decoded(np.asarray(marked))]
    )
    assert [len(r) for r in results] == [0, 1]


def test_must_be_loaded_first() -> None:
    with pytest.raises(DetectorFailed, match="before load"):
        SymbolsDetector().detect([decoded(np.zeros((100, 100, 3), np.uint8))])


def test_version_names_the_weights_and_options_are_checked() -> None:
    assert SymbolsDetector().version.startswith("symbols-1+")
    with pytest.raises(DetectorFailed, match="min_score"):
        SymbolsDetector(min_score=0)
    with pytest.raises(DetectorFailed, match="symbols must be"):
        SymbolsDetector(symbols=["swastika", "totenkopf"])
