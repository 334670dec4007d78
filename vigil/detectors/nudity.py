"""NudeNet 320n (a YOLOv8-style detector from the ``nudenet`` package): body parts with boxes.

Licence note: nudenet's metadata says MIT but the LICENSE file it ships is AGPL-3.0, so this
detector can be switched off with the ``VIGIL_DETECTORS`` setting (see docs/detectors.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vigil.detectors.base import Box, Detection
from vigil.detectors.onnx import PackagedModel, package_version
from vigil.detectors.quantize import with_precision
from vigil.media.image import DecodedImage

PACKAGE = "nudenet"
MODEL_FILE = "320n.onnx"
# fp32 or int8: see docs/speed.md#quantized-models for the measured agreement.
DEFAULT_PRECISION = "fp32"
INPUT_SIZE = 320
IOU_THRESHOLD = 0.45

# The model's 18 output classes, in output-channel order (nudenet's ``__labels``).
CLASSES: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

# NudeNet class -> taxonomy label; None means found but not reported. Covered buttocks or anus
# are clothed (not "Partially Exposed Buttocks"), and faces, feet, armpits and bellies are
# ordinary body parts that the taxonomy has no label for.
LABELS: dict[str, str | None] = {
    "FEMALE_GENITALIA_EXPOSED": "Exposed Female Genitalia",
    "MALE_GENITALIA_EXPOSED": "Exposed Male Genitalia",
    "BUTTOCKS_EXPOSED": "Exposed Buttocks or Anus",
    "ANUS_EXPOSED": "Exposed Buttocks or Anus",
    "FEMALE_BREAST_EXPOSED": "Exposed Female Nipple",
    "MALE_BREAST_EXPOSED": "Exposed Male Nipple",
    "FEMALE_BREAST_COVERED": "Female Swimwear or Underwear",
    "FEMALE_GENITALIA_COVERED": "Female Swimwear or Underwear",
    "BUTTOCKS_COVERED": None,
    "ANUS_COVERED": None,
    "FACE_FEMALE": None,
    "FACE_MALE": None,
    "FEET_EXPOSED": None,
    "FEET_COVERED": None,
    "ARMPITS_EXPOSED": None,
    "ARMPITS_COVERED": None,
    "BELLY_EXPOSED": None,
    "BELLY_COVERED": None,
}


@dataclass(frozen=True)
class RawDetection:
    """One NudeNet finding before mapping: its class name, score 0-1 and box."""

    class_name: str
    score: float
    box: Box


def preprocess(image: Image.Image) -> np.ndarray:
    """NudeNet's input: the image padded with black at the bottom or right to a square, resized
    to 320x320 (bilinear, no antialiasing, as its reference does with OpenCV), RGB, 0-1, CHW.

    An affine transform with bilinear sampling reads the same source points as that resize and
    treats everything beyond the image as black, so the padded copy is never built: on a 12 MP
    upload this takes 3 ms where padding plus an antialiased resize takes about 50 ms.
    """
    scale = max(image.width, image.height) / INPUT_SIZE
    square = image.transform(
        (INPUT_SIZE, INPUT_SIZE),
        Image.Transform.AFFINE,
        (scale, 0.0, 0.0, 0.0, scale, 0.0),
        resample=Image.Resampling.BILINEAR,
    )
    _blend_padding_edge(image, square, scale)
    return np.asarray(square, dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)


def _blend_padding_edge(image: Image.Image, square: Image.Image, scale: float) -> None:
    """Redraw the output rows (or columns) that sample between the last image row and the
    padding: the transform draws them black or as the last row, the padded resize the model
    expects blends the two. Only a two-pixel strip of the image is copied for it.
    """
    width, height = image.size
    if width == height:
        return
    short = min(width, height)
    centres = (np.arange(INPUT_SIZE) + 0.5) * scale
    span = np.flatnonzero((centres > short - 0.5) & (centres < short + 0.5))
    if span.size == 0:
        return
    first, count, offset = int(span[0]), int(span.size), float(span[0]) * scale - (short - 1)
    if height < width:  # padding at the bottom: last row, then one black row
        strip = image.crop((0, height - 1, width, height + 1))
        size, data, at = (INPUT_SIZE, count), (scale, 0.0, 0.0, 0.0, scale, offset), (0, first)
    else:  # padding at the right: last column, then one black column
        strip = image.crop((width - 1, 0, width + 1, height))
        size, data, at = (count, INPUT_SIZE), (scale, 0.0, offset, 0.0, scale, 0.0), (first, 0)
    edge = strip.transform(size, Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)
    square.paste(edge, at)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression over (x1, y1, x2, y2) rows: indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    sides = np.clip(boxes[:, 2:4] - boxes[:, 0:2], 0.0, None)
    areas = sides[:, 0] * sides[:, 1]
    kept: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        kept.append(best)
        left = np.maximum(boxes[best, 0], boxes[rest, 0])
        top = np.maximum(boxes[best, 1], boxes[rest, 1])
        right = np.minimum(boxes[best, 2], boxes[rest, 2])
        bottom = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        union = areas[best] + areas[rest] - overlap
        iou = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
        order = rest[iou <= iou_threshold]
    return kept


def postprocess(
    output: np.ndarray, width: int, height: int, score_threshold: float
) -> list[RawDetection]:
    """One image's (22, N) output: cx, cy, w, h in model pixels, then 18 class scores."""
    rows = output.T
    class_scores = rows[:, 4:]
    classes = class_scores.argmax(axis=1)
    scores = class_scores.max(axis=1)
    keep = scores >= score_threshold
    rows, classes, scores = rows[keep], classes[keep], scores[keep]
    corners = _fractions(rows[:, :4], width, height)
    # Class-agnostic, like NudeNet's reference: one region gets one class, so the same breast
    # is never reported both exposed and covered.
    return [
        RawDetection(CLASSES[int(classes[i])], float(scores[i]), _box(corners[i]))
        for i in nms(corners, scores, IOU_THRESHOLD)
    ]


def _fractions(cxcywh: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre boxes in model pixels -> (x1, y1, x2, y2) fractions of the image, clipped to it."""
    half = cxcywh[:, 2:4] / 2
    corners = np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1)
    # One model pixel is max(width, height) / 320 image pixels on both axes.
    side = max(width, height) / INPUT_SIZE
    corners *= np.array([side / width, side / height] * 2, dtype=np.float32)
    clipped: np.ndarray = np.clip(corners, 0.0, 1.0)
    return clipped


def _box(corners: np.ndarray) -> Box:
    x1, y1, x2, y2 = (float(v) for v in corners)
    return Box(left=x1, top=y1, width=x2 - x1, height=y2 - y1)


class NudityDetector:
    """Exposed and covered body parts, one detection per instance found."""

    name = "nudity"
    labels: tuple[str, ...] = tuple(dict.fromkeys(label for label in LABELS.values() if label))
    # The package's metadata says MIT; the LICENSE file it ships is AGPL-3.0 (docs/detectors.md).
    licence = "AGPL-3.0 (nudenet's LICENSE file)"

    def __init__(
        self, threads: int = 0, score_threshold: float = 0.2, precision: str = DEFAULT_PRECISION
    ) -> None:
        self._model = PackagedModel(PACKAGE, MODEL_FILE, self.name, threads, precision)
        self.version = with_precision(
            f"nudenet=={package_version('nudenet')}", self._model.precision
        )
        self.score_threshold = score_threshold

    def load(self) -> None:
        self._model.load()

    def detect_raw(self, images: Sequence[DecodedImage]) -> list[list[RawDetection]]:
        """Every class NudeNet finds (faces and feet too), from one run over the batch."""
        if not images:
            return []
        batch = np.stack([preprocess(image.pixels) for image in images])
        outputs = self._model.run(batch)
        return [
            postprocess(output, image.pixels.width, image.pixels.height, self.score_threshold)
            for output, image in zip(outputs, images, strict=True)
        ]

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [_mapped(found, self.name) for found in self.detect_raw(images)]


def _mapped(found: list[RawDetection], detector: str) -> list[Detection]:
    """The raw findings that have a taxonomy label, as detections (confidence 0-100)."""
    detections: list[Detection] = []
    for raw in found:
        label = LABELS[raw.class_name]
        if label is not None:
            detections.append(Detection(label, 100.0 * raw.score, detector, raw.box))
    return detections
