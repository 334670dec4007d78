"""Training an adapter: read a Rekognition-style manifest, embed, split, fit a head, measure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigil import taxonomy
from vigil.detectors.adapter import Head
from vigil.detectors.embedding import Backbone
from vigil.errors import InvalidManifest, VigilError
from vigil.media.intake import ImageLimits, decode_image

GROUND_TRUTH = "content-moderation-groundtruth"
STEPS = 400
LEARNING_RATE = 0.5
L2 = 1e-3
THRESHOLD = 0.5


@dataclass(frozen=True)
class Example:
    path: Path
    labels: tuple[str, ...]  # empty: safe


def read_manifest(manifest: Path) -> list[Example]:
    """Every line of a JSON Lines manifest; paths are relative to the manifest's folder."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidManifest(f"Cannot read manifest {manifest}: {exc.strerror}") from None
    examples = [
        _example(line, number, manifest.parent)
        for number, line in enumerate(lines, 1)
        if line.strip()
    ]
    labels = {label for example in examples for label in example.labels}
    if not labels:
        raise InvalidManifest(f"Manifest {manifest} names no label: nothing to train.")
    return examples


def _example(line: str, number: int, folder: Path) -> Example:
    try:
        entry = json.loads(line)
        ref = entry["source-ref"]
        found = entry[GROUND_TRUTH]["ModerationLabels"]
        labels = tuple(sorted({str(item["Name"]) for item in found}))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InvalidManifest(
            f"Manifest line {number}: expected "
            f'{{"source-ref": ..., "{GROUND_TRUTH}": {{"ModerationLabels": [{{"Name": ...}}]}}}}'
            f" ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(ref, str) or ref.startswith("s3://"):
        raise InvalidManifest(
            f"Manifest line {number}: source-ref {ref!r} must be a local path (s3:// is not "
            "supported: copy the images beside the manifest)."
        )
    for label in labels:
        check_label(label, number)
    return Example(folder / ref, labels)


def check_label(label: str, number: int) -> None:
    """A taxonomy name, or a custom name that cannot be mistaken for one."""
    if taxonomy.is_label(label):
        return
    clash = next((n for n in taxonomy.LABELS if n.lower() == label.lower()), None)
    if not label.strip() or label == taxonomy.CUSTOM or clash:
        hint = f" (did you mean {clash!r}?)" if clash else ""
        raise InvalidManifest(f"Manifest line {number}: label {label!r} is not allowed{hint}.")


def split(examples: Sequence[Example], share: float, seed: int) -> tuple[list[int], list[int]]:
    """Train and test indices: ``share`` of each label combination held out, by a seeded shuffle."""
    if not 0.0 < share < 1.0:
        raise InvalidManifest(f"test split must be between 0 and 1, not {share}")
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, example in enumerate(examples):
        groups.setdefault(example.labels, []).append(index)
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    for members in groups.values():
        order = [members[i] for i in rng.permutation(len(members))]
        held = round(len(order) * share) if len(order) > 1 else 0
        test.extend(order[:held])
        train.extend(order[held:])
    return sorted(train), sorted(test)


def embed(backbone: Backbone, examples: Sequence[Example], limits: ImageLimits) -> np.ndarray:
    """The backbone's embedding of each example, decoded as uploads are (limits included)."""
    rows: list[np.ndarray] = []
    for start in range(0, len(examples), 16):
        chunk = examples[start : start + 16]
        rows.append(backbone.embed([_decode(example.path, limits) for example in chunk]))
    return np.concatenate(rows)


def _decode(path: Path, limits: ImageLimits) -> Image.Image:
    try:
        return decode_image(path.read_bytes(), limits).pixels
    except OSError as exc:
        raise InvalidManifest(f"Cannot read image {path}: {exc.strerror}") from None
    except VigilError as exc:
        raise InvalidManifest(f"Image {path} was refused: {exc.message}") from None


def targets(examples: Sequence[Example], labels: Sequence[str]) -> np.ndarray:
    """A 0/1 matrix: one row per example, one column per label."""
    return np.array(
        [[1.0 if label in example.labels else 0.0 for label in labels] for example in examples],
        dtype=np.float32,
    ).reshape(len(examples), len(labels))


def fit(features: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> Head:
    """One-vs-rest logistic regression by full-batch gradient descent, L2, classes balanced."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = (features - mean) / scale
    positives = y.mean(axis=0).clip(1e-3, 1 - 1e-3)
    # Each class counts half: a rare label is not drowned by the safe examples.
    sample = np.where(y > 0, 0.5 / positives, 0.5 / (1 - positives)) / len(x)
    weights = np.zeros((x.shape[1], y.shape[1]), dtype=np.float64)
    bias = np.zeros(y.shape[1], dtype=np.float64)
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ weights + bias, -60.0, 60.0)))
        error = (p - y) * sample
        weights -= LEARNING_RATE * (x.T @ error + L2 * weights)
        bias -= LEARNING_RATE * error.sum(axis=0)
    return Head(tuple(labels), weights.astype(np.float32), bias.astype(np.float32), mean, scale)


def confusion(head: Head, features: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per label on the held-out examples: TP, FP, FN, TN, precision and recall (at 50%)."""
    predicted = head.probabilities(features) >= THRESHOLD if len(features) else np.zeros_like(y)
    truth = y > 0
    result: dict[str, dict[str, Any]] = {}
    for column, label in enumerate(head.labels):
        said, real = predicted[:, column], truth[:, column]
        tp, fp = int((said & real).sum()), int((said & ~real).sum())
        fn, tn = int((~said & real).sum()), int((~said & ~real).sum())
        result[label] = {
            "TP": tp,
            "FP": fp,
            "FN": fn,
            "TN": tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        }
    return result
