"""The small classifier that names a candidate's shape: a two-hidden-layer perceptron in numpy.

Its weights (about 30 KB) are trained by ``scripts/symbols_train.py`` on candidates that the
detector's own candidate search finds in composites from ``scripts/symbols_generate.py``
(recipe a), and stored in ``vigil/detectors/symbols/classifier.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# OpenBLAS spreads a matrix product over threads above about 260,000 multiply-adds; for
# products this small the hand-off costs far more than it saves (measured: 6 ms against 0.2
# for 200 candidates on a busy two-core machine), so products are taken in blocks of rows
# below that size, which it runs on the calling thread.
BLOCK_WORK = 200_000


def small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a 2-D or stacked ``a``, in row blocks small enough for one thread."""
    rows = a.reshape(-1, a.shape[-1])
    step = max(1, BLOCK_WORK // max(1, a.shape[-1] * b.shape[-1]))
    product = np.concatenate([rows[i : i + step] @ b for i in range(0, len(rows), step)])
    result: np.ndarray = product.reshape(*a.shape[:-1], b.shape[-1])
    return result


# The classes in output order; "other" is everything that is not a symbol.
CLASSES: tuple[str, ...] = ("other", "swastika", "sig_runes", "celtic_cross", "wolfsangel")


@dataclass(frozen=True)
class Classifier:
    """Standardises features with ``mean`` and ``scale``, then ReLU layers and a softmax.
    ``thresholds`` holds, per symbol class (every class but "other"), the least probability
    that counts as a detection, chosen by the training script."""

    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    classes: tuple[str, ...] = CLASSES
    thresholds: np.ndarray = field(default_factory=lambda: np.full(len(CLASSES) - 1, 0.5))

    def hidden(self, features: np.ndarray) -> list[np.ndarray]:
        """The activations of every layer, input (standardised) first, logits last."""
        x = (features - self.mean) / self.scale
        layers = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = small_matmul(x, w) + b
            if i < len(self.weights) - 1:
                x = np.maximum(x, 0.0)
            layers.append(x)
        return layers

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, classes) softmax rows for (n, FEATURES) features."""
        logits = self.hidden(features)[-1]
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "mean": self.mean,
            "scale": self.scale,
            "thresholds": self.thresholds,
        }
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        np.savez_compressed(path, classes=np.array(self.classes), **arrays)

    @classmethod
    def load(cls, path: Path) -> Classifier:
        with np.load(path, allow_pickle=False) as data:
            count = sum(1 for key in data.files if key.startswith("w"))
            return cls(
                mean=data["mean"].astype(np.float32),
                scale=data["scale"].astype(np.float32),
                weights=tuple(data[f"w{i}"].astype(np.float32) for i in range(count)),
                biases=tuple(data[f"b{i}"].astype(np.float32) for i in range(count)),
                classes=tuple(str(c) for c in data["classes"]),
                thresholds=data["thresholds"].astype(np.float32),
            )
