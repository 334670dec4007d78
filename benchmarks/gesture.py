"""Milliseconds per image for the gesture detector, lite (model_complexity 0) against full (1).

The images are ``--images`` 640x480 crops, flips and rescales of scikit-image's sample photos
(no hands in them). With no hand found only MediaPipe's palm detector runs ("palm only"). No
photo with a hand is available offline, so a second pass forces the hand-landmark model to run:
``min_detection_confidence`` 0.05 makes the palm detector propose its best hand-like region in
most images, ``max_hands`` 1 keeps it to one, and ``min_presence_confidence`` 0 and
``min_gesture_score`` 0 report it whatever it is ("palm + one landmark run"). Each figure is
the median over the images of one ``detect`` call on one image, after a warm-up.

Run: .venv/bin/python benchmarks/gesture.py [--images 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests.detectors.conftest import decoded
from vigil.detectors.gesture import GestureDetector
from vigil.media.image import DecodedImage

SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")
SIZE = (640, 480)


def generate(count: int, seed: int = 11) -> list[DecodedImage]:
    """``count`` distinct 640x480 RGB images cut from the sample photos."""
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in SOURCES]
    images: list[DecodedImage] = []
    for index in range(count):
        photo = photos[index % len(photos)]
        scale = float(rng.uniform(0.5, 1.0))
        width, height = round(photo.width * scale), round(photo.height * scale)
        left = int(rng.integers(0, photo.width - width + 1))
        top = int(rng.integers(0, photo.height - height + 1))
        crop = photo.crop((left, top, left + width, top + height)).resize(SIZE)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        images.append(decoded(np.asarray(crop)))
    return images


def timed(detector: GestureDetector, images: list[DecodedImage]) -> list[tuple[float, int]]:
    """(milliseconds, hands reported) for each image, one detect call each."""
    detector.detect(images[:3])  # warm-up: the graph starts on its first image
    found: list[tuple[float, int]] = []
    for image in images:
        start = time.perf_counter()
        hands = detector.detect([image])[0]
        found.append((1000 * (time.perf_counter() - start), len(hands)))
    return found


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ms" if values else "     -   "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    args = parser.parse_args()
    images = generate(args.images)
    print(f"{len(images)} images of {SIZE[0]}x{SIZE[1]}, {os.cpu_count()} CPUs")
    for complexity in (0, 1):
        model = "full" if complexity else "lite"
        detector = GestureDetector(threads=1, model_complexity=complexity)
        detector.load()
        plain = [ms for ms, _ in timed(detector, images)]
        forced = GestureDetector(
            threads=1,
            model_complexity=complexity,
            max_hands=1,
            min_detection_confidence=0.05,
            min_presence_confidence=0.0,
            min_gesture_score=0.0,
        )
        forced.load()
        with_hand = [ms for ms, hands in timed(forced, images) if hands]
        print(
            f"model_complexity={complexity} ({model}): palm only {median(plain)}; "
            f"palm + one landmark run {median(with_hand)} ({len(with_hand)} images)"
        )


if __name__ == "__main__":
    main()
