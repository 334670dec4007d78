"""Objects that stand for moderation labels (guns, pill bottles, beer, slot machines, swimwear),
found by an ImageNet-1k classifier: Google's EfficientNet-Lite, converted to ONNX on first use.

A label's confidence is the summed softmax probability of its ImageNet classes
(``imagenet_labels.LABEL_CLASSES``), x100. docs/objects.md has the mapping, the measured false
alarms and recall, and why some classes (missile, cleaver, eggnog...) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from vigil.detectors.base import Detection
from vigil.detectors.objects import efficientnet as effnet
from vigil.detectors.objects.imagenet import LABEL_CLASSES, NAMES
from vigil.detectors.onnx import create_session, normalise, package_version, require
from vigil.detectors.quantize import (
    calibration_table,
    check_precision,
    quantized_model,
    with_precision,
)
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

DEFAULT_VARIANT = "lite0"
# lite0 runs int8 unless asked otherwise (docs/objects.md#speed-and-int8: the default policy's
# band is the same on every photo and label, about twice as fast); the larger variants have no
# calibration table and run fp32.
DEFAULT_PRECISION = {"lite0": "int8"}
# Below this confidence a label is left out of an image's detections (see docs/objects.md).
DEFAULT_FLOOR = 1.0
# Change when LABEL_CLASSES changes: it is part of the detector's version.
MAPPING = "labels-1"

# EfficientNet's evaluation crop: the centre square, size / (size + 32) of the short side.
_CROP_PADDING = 32
_REDUCING_GAP = 3.0


def preprocess(image: Image.Image, size: int) -> np.ndarray:
    """(3, size, size) float32 RGB 0-255 (the graph normalises): the centre crop EfficientNet
    was evaluated with, resized bicubically."""
    side = min(image.width, image.height) * size / (size + _CROP_PADDING)
    left, top = (image.width - side) / 2, (image.height - side) / 2
    # reducing_gap box-shrinks a large upload first: the same pixels within a grey level or
    # two, a fraction of the time at 12 MP.
    resized = image.resize(
        (size, size),
        resample=Image.Resampling.BICUBIC,
        box=(left, top, left + side, top + side),
        reducing_gap=_REDUCING_GAP,
    )
    return np.asarray(resized, dtype=np.float32).transpose(2, 0, 1)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True), dtype=np.float32)


def label_confidences(probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """Each label's confidence (0-100) for each row of ImageNet probabilities."""
    return {
        label: 100.0 * probabilities[:, list(classes)].sum(axis=1)
        for label, classes in LABEL_CLASSES.items()
    }


class ObjectsDetector:
    """Reports each mapped label whose confidence reaches ``floor`` (1.0 by default)."""

    name = "objects"
    labels: tuple[str, ...] = tuple(LABEL_CLASSES)
    licence = "Apache-2.0 (EfficientNet-Lite weights and architecture)"

    def __init__(
        self,
        threads: int = 0,
        variant: str = DEFAULT_VARIANT,
        precision: str | None = None,
        floor: float = DEFAULT_FLOOR,
    ) -> None:
        if variant not in effnet.VARIANTS:
            known = ", ".join(effnet.VARIANTS)
            raise DetectorFailed(
                f"Detector 'objects': variant must be one of {known}, not {variant!r}."
            )
        self.variant = effnet.VARIANTS[variant]
        precision = precision or DEFAULT_PRECISION.get(variant, "fp32")
        self.precision = check_precision(precision, self.name)
        self.floor = float(floor)
        self.threads = threads
        distribution = self.variant.package.replace("_", "-")
        package = f"{distribution}=={package_version(distribution)}"
        self.version = with_precision(f"{package}+{effnet.RECIPE}+{MAPPING}", self.precision)
        self._session: ort.InferenceSession | None = None

    def model_path(self) -> Path:
        """The ONNX file this variant and precision run, converted (and quantized) on first use."""
        if self.precision == "int8":
            # The table first: a variant without one fails before any conversion work.
            table = calibration_table(f"{self.name}-{self.variant.name}")
            return quantized_model(effnet.converted_model(self.variant), table)
        return effnet.converted_model(self.variant)

    def load(self) -> None:
        if self._session is None:
            self._session = create_session(self.model_path(), self.threads)

    def run(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """Logits (n, 1000) and pooled embeddings (n, 1280), from one run over the batch."""
        session = require(self._session, self.name)
        if not images:
            return np.zeros((0, 1000), np.float32), np.zeros((0, effnet.EMBEDDING_SIZE), np.float32)
        batch = np.stack([preprocess(image, self.variant.size) for image in images])
        try:
            logits, embedding = session.run(
                [effnet.LOGITS, effnet.EMBEDDING], {effnet.INPUT: batch}
            )
        except Exception as exc:  # onnxruntime's errors have no useful common base class
            raise DetectorFailed(
                f"The {self.name} detector failed during inference: {exc}"
            ) from exc
        return np.asarray(logits, np.float32), np.asarray(embedding, np.float32)

    def probabilities(self, images: Sequence[DecodedImage]) -> np.ndarray:
        """(n, 1000) ImageNet class probabilities."""
        logits, _ = self.run([image.pixels for image in images])
        return softmax(logits)

    def top_classes(
        self, images: Sequence[DecodedImage], k: int = 5
    ) -> list[list[tuple[str, float]]]:
        """Each image's ``k`` most probable ImageNet classes as (name, probability 0-1)."""
        return [
            [(NAMES[i], float(row[i])) for i in np.argsort(-row)[:k]]
            for row in self.probabilities(images)
        ]

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """One L2-normalised 1280-d row per image (the pooled features before the classifier),
        as the adapter backbones give (vigil/detectors/embedding.py)."""
        _, embedding = self.run(images)
        return normalise(embedding)

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        confidences = label_confidences(self.probabilities(images))
        return [
            [
                Detection(label=label, confidence=float(values[row]), detector=self.name)
                for label, values in confidences.items()
                if values[row] >= self.floor
            ]
            for row in range(len(images))
        ]
