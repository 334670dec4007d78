"""A custom adapter's detector: a small one-vs-rest logistic head on a backbone's embeddings.

Trained by `vigil adapters train` (vigil/service/engine/adapter_training.py) and stored as
``head.npz``; it reports every one of its labels for every image, low scores too (the policy
and ``min_confidence`` filter later), as detector ``adapter:NAME``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vigil.detectors.base import Detection
from vigil.detectors.embedding import Backbone
from vigil.media.image import DecodedImage

PREFIX = "adapter:"


@dataclass(frozen=True)
class Head:
    """Standardisation (``mean``, ``scale``) then one logistic unit per label."""

    labels: tuple[str, ...]
    weights: np.ndarray  # (dimensions, labels)
    bias: np.ndarray  # (labels,)
    mean: np.ndarray  # (dimensions,)
    scale: np.ndarray  # (dimensions,)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """P(label) in 0-1, one row per embedding, one column per label."""
        logits = ((embeddings - self.mean) / self.scale) @ self.weights + self.bias
        result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        return result

    def save(self, path: Path) -> None:
        np.savez(
            path,
            labels=np.array(self.labels, dtype=np.str_),
            weights=self.weights,
            bias=self.bias,
            mean=self.mean,
            scale=self.scale,
        )

    @classmethod
    def read(cls, path: Path) -> Head:
        with np.load(path, allow_pickle=False) as stored:
            return cls(
                labels=tuple(str(label) for label in stored["labels"]),
                weights=stored["weights"],
                bias=stored["bias"],
                mean=stored["mean"],
                scale=stored["scale"],
            )


class AdapterDetector:
    """Scores every image for each of the adapter's labels."""

    licence = "the adapter's own training data; backbone: see docs/adapters.md"

    def __init__(self, adapter: str, version: str, head: Head, backbone: Backbone) -> None:
        self.name = f"{PREFIX}{adapter}"
        self.version = f"{version}+{backbone.spec.name}"
        self.labels = head.labels
        self.head = head
        self.backbone = backbone

    def load(self) -> None:
        self.backbone.load()

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        if not images:
            return []
        scores = self.head.probabilities(self.backbone.embed([image.pixels for image in images]))
        return [
            [
                Detection(label, 100.0 * float(p), self.name)
                for label, p in zip(self.labels, row, strict=True)
            ]
            for row in scores
        ]
