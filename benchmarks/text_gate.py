"""What the text detector's gate costs in recall and saves in time (docs/text.md, "The gate").

Generates --text images with text (1-3 lines, 14-72 px, varied colours and positions, on
scikit-image photos and plain or gradient backgrounds; about half carry a phrase from the
shipped term lists) and --plain images without text (photos, crops, noise, gradients, blurred
photos). First times the gate alone on each image two ways, in alternating order: as it was
before the quick check (the detection model on every image, Pillow preprocessing: "before")
and as it is (the quick check, then the model where the check cannot rule text out: "after").
Then runs the real detector on all of them with the gate on and off, in this process, and
prints images/s and the median time per image both ways, the share of text images the gate
passes, term-match recall with and without the gate and the difference (what the gate costs),
and the share of no-text images it skips.

With --photos (default /work/shared/dev-images/everyday, skipped with a note when absent), also
times both gates on those everyday photos (JPEG/PNG, decoded as intake does) and prints the
median time and the share each lets through to OCR: most such photos have no text, some do.

Run: .venv/bin/python benchmarks/text_gate.py [--text 120] [--plain 60] [--seed 7] [--threads 2]
     [--photos DIR] [--photo-limit N] [--precision int8|fp32]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data

from vigil.detectors.base import TEXT_LINE, Detection
from vigil.detectors.quantize import PRECISIONS
from vigil.detectors.text import DEFAULT_PRECISION, TextDetector, TextOptions, edges, line_pixels
from vigil.media.image import DecodedImage
from vigil.media.intake import ImageLimits, decode_image

PHOTOS = Path("/work/shared/dev-images/everyday")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}

# Photos without visible text (astronaut and rocket carry lettering, so they are only used as
# backgrounds for text).
PLAIN_PHOTOS = (
    "coffee",
    "chelsea",
    "cat",
    "horse",
    "camera",
    "moon",
    "gravel",
    "grass",
    "brick",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
    "colorwheel",
    "cell",
)
BACKGROUND_PHOTOS = (*PLAIN_PHOTOS[:6], "astronaut", "rocket")
INNOCENT = (
    "glass class assignment",
    "Happy birthday Sam",
    "SALE 50% OFF",
    "Open every day 9-5",
    "Grand opening this Friday",
    "Meet the team",
    "Lost cat, please call",
    "Keep calm and carry on",
    "Fresh coffee",
    "Monday again",
    "www.example.com",
    "Summer 2024",
)
TERMS = (
    ("weed for sale", "Drug Sales"),
    ("w33d f0r sale", "Drug Sales"),
    ("buy xanax", "Drug Sales"),
    ("cocaine", "Drug Sales"),
    ("420 friendly", "Drug Sales"),
    ("DM for menu", "Drug Sales"),
    ("fuck this", "Profanity"),
    ("bullshit", "Profanity"),
    ("you piece of shit", "Profanity"),
    ("sh1t happens", "Profanity"),
    ("SIEG HEIL", "Extremist Text"),
    ("white power", "Extremist Text"),
    ("blood and soil", "Extremist Text"),
    ("1488", "Extremist Text"),
    ("faggot", "Hate Speech"),
    ("go home wetback", "Hate Speech"),
)


@dataclass(frozen=True)
class Sample:
    image: Image.Image
    has_text: bool
    label: str | None  # the label a term in it should produce


def photo(name: str) -> Image.Image:
    pixels: np.ndarray = getattr(data, name)()
    return Image.fromarray(pixels).convert("RGB")


# The widths of generated images (--widths).
WIDTHS = [360, 2000]


def resized(image: Image.Image, rng: random.Random) -> Image.Image:
    width = rng.randint(*WIDTHS)
    height = max(200, round(image.height * width / image.width * rng.uniform(0.8, 1.2)))
    return image.resize((width, height), Image.Resampling.BICUBIC)


def gradient(width: int, height: int, rng: random.Random) -> Image.Image:
    start = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    end = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, width, dtype=np.float32)[np.newaxis, :, np.newaxis]
    row = start + (end - start) * ramp
    return Image.fromarray(np.repeat(row, height, axis=0).astype(np.uint8))


def noise(width: int, height: int, rng: random.Random) -> Image.Image:
    generator = np.random.default_rng(rng.randint(0, 2**31))
    pixels = generator.normal(128, rng.uniform(10, 60), (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def background(rng: random.Random) -> Image.Image:
    kind = rng.random()
    if kind < 0.6:
        return resized(photo(rng.choice(BACKGROUND_PHOTOS)), rng)
    width = rng.randint(max(400, WIDTHS[0]), WIDTHS[1])
    height = rng.randint(300, max(300, WIDTHS[1] * 3 // 4))
    if kind < 0.8:
        return gradient(width, height, rng)
    return Image.new("RGB", (width, height), tuple(rng.randint(0, 255) for _ in range(3)))


def draw_line(image: Image.Image, text: str, y: int, rng: random.Random) -> int:
    """Draws ``text`` at height ``y`` (a random size, colour, x); returns the y below it."""
    size = rng.randint(14, 72)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image)
    while draw.textlength(text, font=font) > image.width - 16 and size > 14:
        size = max(14, size - 6)
        font = ImageFont.load_default(size=size)
    width = int(draw.textlength(text, font=font))
    x = rng.randint(8, max(8, image.width - width - 8))
    region = image.crop((x, y, x + width, y + size)).convert("L")
    light = np.asarray(region).mean() > 128 if region.width and region.height else True
    fill = (20, 20, 20) if light else (240, 240, 240)
    if rng.random() < 0.3:
        fill = (rng.randint(150, 255), rng.randint(0, 80), rng.randint(0, 80))
    stroke = 2 if rng.random() < 0.35 else 0
    outline = (0, 0, 0) if sum(fill) > 380 else (255, 255, 255)
    draw.text((x, y), text, fill=fill, font=font, stroke_width=stroke, stroke_fill=outline)
    return y + int(size * 1.4) + stroke * 2


def text_sample(rng: random.Random, with_term: bool) -> Sample:
    image = background(rng)
    lines = [rng.choice(INNOCENT) for _ in range(rng.randint(1, 3))]
    label = None
    if with_term:
        phrase, label = rng.choice(TERMS)
        lines[rng.randrange(len(lines))] = phrase
    y = rng.randint(8, max(8, image.height // 2))
    for line in lines:
        if y > image.height - 30:
            break
        y = draw_line(image, line, y, rng)
    return Sample(image, True, label)


def plain_sample(index: int, rng: random.Random) -> Sample:
    kind = index % 5
    width, height = rng.randint(360, 1000), rng.randint(300, 800)
    if kind == 0:
        image = resized(photo(PLAIN_PHOTOS[index // 5 % len(PLAIN_PHOTOS)]), rng)
    elif kind == 1:
        source = photo(rng.choice(PLAIN_PHOTOS))
        w, h = source.width // 2, source.height // 2
        left, top = rng.randint(0, source.width - w), rng.randint(0, source.height - h)
        image = source.crop((left, top, left + w, top + h)).resize((width, height))
    elif kind == 2:
        image = noise(width, height, rng)
    elif kind == 3:
        image = gradient(width, height, rng)
    else:
        blurred = photo(rng.choice(PLAIN_PHOTOS)).filter(ImageFilter.GaussianBlur(3))
        image = resized(blurred, rng)
    return Sample(image, False, None)


def samples(text: int, plain: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    made = [text_sample(rng, with_term=i % 2 == 0) for i in range(text)]
    return made + [plain_sample(i, rng) for i in range(plain)]


@dataclass
class Run:
    times: list[float]
    results: list[list[Detection]]


def run_both(detector: TextDetector, items: list[Sample]) -> tuple[Run, Run]:
    """Each image with the gate on and off, in alternating order (so that neither way gains
    from a warmer cache or loses to a busier machine)."""
    gated, ungated = Run([], []), Run([], [])
    ways: list[tuple[Callable[[Image.Image], list[Detection]], Run]] = [
        (detector.detect_one, gated),
        (lambda image: detector.detections(detector.read_lines(image)), ungated),
    ]
    for index, item in enumerate(items):
        for detect, outcome in ways if index % 2 else ways[::-1]:
            start = time.perf_counter()
            outcome.results.append(detect(item.image))
            outcome.times.append(time.perf_counter() - start)
    return gated, ungated


def show_misses(items: list[Sample], outcome: Run) -> None:
    for sample, found in zip(items, outcome.results, strict=True):
        if sample.label and not any(d.label == sample.label for d in found):
            lines = [d.text for d in found if d.label == TEXT_LINE]
            print(f"missed {sample.label}: read {lines}")


def share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def term_recall(items: list[Sample], outcome: Run) -> float:
    wanted = [(s, r) for s, r in zip(items, outcome.results, strict=True) if s.label]
    hits = sum(any(d.label == s.label for d in r) for s, r in wanted)
    return share(hits, len(wanted))


def median_ms(times: list[float]) -> float:
    return 1000 * statistics.median(times) if times else 0.0


def gate_before(detector: TextDetector, image: Image.Image) -> bool:
    """The gate as it was before the quick check: the model on every image, fed by a Pillow
    resize and NumPy normalisation (about 8 ms of CPU more than ``det_input`` now)."""
    side = detector.gate_side_for(image)
    scale = side / max(image.width, image.height)
    width = max(32, round(image.width * scale / 32) * 32)
    height = max(32, round(image.height * scale / 32) * 32)
    factor = max(image.width, image.height) // (2 * side)
    source = image.reduce(factor) if factor > 1 else image
    small = source.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.float32)[:, :, ::-1] / 255.0
    batch = np.ascontiguousarray(((pixels - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis])
    session = detector._gate
    assert session is not None
    text_map = session.run(None, {session.get_inputs()[0].name: batch})[0][0, 0]
    return line_pixels(text_map, edges(batch)) >= detector.options.gate_min_pixels


@dataclass
class GateRuns:
    """The gate alone, before and after, on each image: seconds and decisions."""

    before: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)
    passed_before: list[bool] = field(default_factory=list)
    passed: list[bool] = field(default_factory=list)


def time_gates(detector: TextDetector, images: list[Image.Image]) -> GateRuns:
    """Both gates on each image, in alternating order (as ``run_both``)."""
    runs = GateRuns()
    ways: list[tuple[Callable[[TextDetector, Image.Image], bool], list[float], list[bool]]] = [
        (gate_before, runs.before, runs.passed_before),
        (TextDetector.likely_text, runs.after, runs.passed),
    ]
    for index, image in enumerate(images):
        for gate, times, passed in ways if index % 2 else ways[::-1]:
            start = time.perf_counter()
            passed.append(gate(detector, image))
            times.append(time.perf_counter() - start)
    return runs


def report_gates(items: list[Sample], runs: GateRuns) -> None:
    text = [i for i, s in enumerate(items) if s.has_text]
    plain = [i for i, s in enumerate(items) if not s.has_text]
    for name, times, passed in (
        ("before", runs.before, runs.passed_before),
        ("after ", runs.after, runs.passed),
    ):
        print(
            f"the gate alone, {name}: median ms/image:"
            f" no text {median_ms(pick(times, plain)):6.1f},"
            f" text {median_ms(pick(times, text)):6.1f}; passes"
            f" {share(sum(pick(passed, text)), len(text)):.3f} of text images,"
            f" {share(sum(pick(passed, plain)), len(plain)):.3f} of no-text images"
        )


def pick(values: list[Any], indexes: list[int]) -> list[Any]:
    return [values[i] for i in indexes]


def report(items: list[Sample], gated: Run, ungated: Run) -> None:
    text = [i for i, s in enumerate(items) if s.has_text]
    plain = [i for i, s in enumerate(items) if not s.has_text]
    read = sum(any(d.label == TEXT_LINE for d in ungated.results[i]) for i in text)
    on, off = term_recall(items, gated), term_recall(items, ungated)
    print(f"OCR (no gate) read text in {share(read, len(text)):.3f} of the text images")
    for name, outcome in (("gate on ", gated), ("gate off", ungated)):
        rate = len(items) / sum(outcome.times)
        print(
            f"{name}: {rate:6.2f} images/s; median ms/image: all {median_ms(outcome.times):6.1f},"
            f" text {median_ms(pick(outcome.times, text)):6.1f},"
            f" no text {median_ms(pick(outcome.times, plain)):6.1f}"
        )
    passed = [any(d.label == TEXT_LINE for d in gated.results[i]) for i in text]
    print(f"gate on: OCR ran and read text in {share(sum(passed), len(text)):.3f} of text images")
    print(f"term-match recall: gate on {on:.3f}, gate off {off:.3f}")
    print(f"gate_recall_cost={off - on:.3f}")


def photos(folder: Path, limit: int) -> list[Image.Image]:
    """The photos in ``folder`` as the detectors get them (intake's decoding; ``limit`` 0: all)."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    limits = ImageLimits(max_bytes=50 << 20, max_pixels=50_000_000, max_side=16384, min_side=1)
    decoded: list[DecodedImage] = [decode_image(p.read_bytes(), limits) for p in paths]
    return [d.pixels for d in decoded[: limit or None]]


def report_photos(folder: Path, detector: TextDetector, limit: int) -> None:
    if not folder.is_dir():
        print(f"everyday photos: {folder} not found; skipped")
        return
    images = photos(folder, limit)
    runs = time_gates(detector, images)
    print(f"everyday photos: {len(images)} from {folder}")
    for name, times, passed in (
        ("before", runs.before, runs.passed_before),
        ("after ", runs.after, runs.passed),
    ):
        print(
            f"  the gate alone, {name}: median {median_ms(times):6.1f} ms/photo,"
            f" passes {share(sum(passed), len(passed)):.3f} of them"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--text", type=int, default=120)
    parser.add_argument("--plain", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="a folder of photos")
    parser.add_argument("--photo-limit", type=int, default=0, help="at most this many (0: all)")
    parser.add_argument("--misses", action="store_true", help="print the term images missed")
    parser.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION)
    parser.add_argument("--gate-side", type=int, default=TextOptions.gate_side)
    parser.add_argument("--gate-scale", type=float, default=TextOptions.gate_scale)
    parser.add_argument(
        "--gate-enlarge", action=argparse.BooleanOptionalAction, default=TextOptions.gate_enlarge
    )
    parser.add_argument("--widths", default="360,2000", help="generated images' widths: MIN,MAX")
    args = parser.parse_args()
    WIDTHS[:] = [int(part) for part in args.widths.split(",")]
    items = samples(args.text, args.plain, args.seed)
    detector = TextDetector(
        threads=args.threads,
        precision=args.precision,
        gate_side=args.gate_side,
        gate_scale=args.gate_scale,
        gate_enlarge=args.gate_enlarge,
    )
    detector.load()
    with_terms = sum(bool(s.label) for s in items)
    text = sum(s.has_text for s in items)
    print(f"images: {text} with text ({with_terms} with a term), {len(items) - text} without")
    gate_before(detector, items[0].image)  # warm-up: the gate's session has not run yet
    report_gates(items, time_gates(detector, [item.image for item in items]))
    detector.detect_one(items[0].image)  # warm-up
    gated, ungated = run_both(detector, items)
    if args.misses:
        show_misses(items, ungated)
    report(items, gated, ungated)
    report_photos(args.photos, detector, args.photo_limit)


if __name__ == "__main__":
    main()
