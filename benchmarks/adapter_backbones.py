"""Which bundled network makes the better adapter backbone: embedding time per image and
held-out accuracy of a "Cat" adapter on scikit-image photos (docs/adapters.md).

Two tasks, each over 5 seeds of random crops, flips and colour changes:
- seen photos: train and test on different variants of the same photos;
- unseen photos: train "Cat" on chelsea against 4 photos, test on skimage's other cat photo
  against 4 photos the head never saw (how far the embedding generalises).
- few-shot textures: grass / gravel / brick / camera from 3 variants each, tested on 9 more.
Also the mean confidence the head gives the unseen cats (the margin left above 50%).
Prints one line per backbone; never passes or fails on the figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.adapter_images import photo, variant
from vigil.detectors.embedding import BACKBONES, Backbone
from vigil.service.engine import adapter_training as training

SEEDS = 5
PER_PHOTO = 12
TRAIN_OTHERS = ("astronaut", "rocket", "camera", "coins")
TEST_OTHERS = ("coffee", "hubble_deep_field", "immunohistochemistry", "moon")


def images(names: tuple[str, ...], count: int, seed: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [variant(photo(name), rng) for name in names for _ in range(count)]


def accuracy(
    model: Backbone,
    train: tuple[list[Image.Image], list[Image.Image]],
    test: tuple[list[Image.Image], list[Image.Image]],
) -> tuple[float, float]:
    """Share of test images right at 50%, and the mean confidence on the test positives."""
    x = model.embed([*train[0], *train[1]])
    y = np.array([[1.0]] * len(train[0]) + [[0.0]] * len(train[1]), dtype=np.float32)
    head = training.fit(x, y, ["Cat"])
    scores = head.probabilities(model.embed([*test[0], *test[1]]))[:, 0]
    truth = np.array([True] * len(test[0]) + [False] * len(test[1]))
    return float(((scores >= training.THRESHOLD) == truth).mean()), float(scores[truth].mean())


def textures(model: Backbone, seed: int) -> float:
    """Few-shot, four classes one-vs-rest: share of test images whose best label is right."""
    names = ("grass", "gravel", "brick", "camera")
    rng = np.random.default_rng(seed)
    shots = {n: [variant(photo(n), rng) for _ in range(12)] for n in names}
    x = model.embed([image for n in names for image in shots[n][:3]])
    y = np.repeat(np.eye(len(names), dtype=np.float32), 3, axis=0)
    head = training.fit(x, y, names)
    best = head.probabilities(model.embed([i for n in names for i in shots[n][3:]])).argmax(1)
    return float((best == np.repeat(np.arange(len(names)), 9)).mean())


def main() -> None:
    for name in BACKBONES:
        model = Backbone(name, threads=0)
        model.load()
        batch = images(("chelsea",), 16, 99)
        model.embed(batch)
        start = time.perf_counter()
        model.embed(batch)
        per_image = (time.perf_counter() - start) / len(batch) * 1000
        seen, unseen, margin, few = [], [], [], []
        for seed in range(SEEDS):
            cats = images(("chelsea", "cat"), PER_PHOTO, seed)
            others = images(TRAIN_OTHERS, PER_PHOTO // 2, seed + 100)
            seen.append(accuracy(model, (cats[::2], others[::2]), (cats[1::2], others[1::2]))[0])
            right, confidence = accuracy(
                model,
                (images(("chelsea",), 4, seed), images(TRAIN_OTHERS, 2, seed + 1)),
                (images(("cat",), PER_PHOTO, seed + 2), images(TEST_OTHERS, 3, seed + 3)),
            )
            unseen.append(right)
            margin.append(confidence)
            few.append(textures(model, seed))
        print(
            f"{name}: {per_image:.1f} ms/image (batch 16); accuracy: seen photos "
            f"{np.mean(seen):.3f}, unseen photos {np.mean(unseen):.3f} (confidence on unseen "
            f"cats {100 * np.mean(margin):.1f}), few-shot textures {np.mean(few):.3f}; "
            f"mean of {SEEDS} seeds"
        )


if __name__ == "__main__":
    main()
