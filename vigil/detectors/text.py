"""Offensive text in images: lines read with RapidOCR (PP-OCR models shipped in its wheel),
matched against term lists (docs/text.md).

OCR is slow, so a gate decides first whether an image is likely to hold text at all; only then
does the full OCR run. The gate has two stages: a quick check for edges grouped like lines of
text (``text_gate``, a few ms), then, for images it cannot rule out, a pass of the
text-detection model at low resolution.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_det.main import TextDetector as RapidTextDetector
from rapidocr.ch_ppocr_det.utils import DBPostProcess

from vigil import taxonomy
from vigil.detectors import providers
from vigil.detectors.base import TEXT_LINE, Box, Detection
from vigil.detectors.onnx import create_session, package_model, package_version, require
from vigil.detectors.quantize import (
    calibration_table,
    check_precision,
    quantized_model,
    with_precision,
)
from vigil.detectors.text_gate import fit, may_hold_text
from vigil.detectors.text_terms import (
    CATEGORY_LABELS,
    Term,
    compile_terms,
    find_terms,
    load_term_lists,
)
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

PACKAGE = "rapidocr"
DET_MODEL = "models/PP-OCRv6_det_small.onnx"
REC_MODEL = "models/PP-OCRv6_rec_small.onnx"
CLS_MODEL = "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx"

# How lines are found behind the gate: in the boxes of the gate's own text map. Part of the
# version, so the duplicate cache never reuses results read the older way (a second pass).
READING = "gate-map"
# The gate model's default precision (docs/text.md, "Speed").
DEFAULT_PRECISION = "int8"
# A match that took leetspeak or repeated letters is less certain than the plain word.
FUZZY_SCALE = 0.85
# The gate counts pixels of the low-resolution text map at or above this probability, in
# regions that look like lines of text: at least this many times wider than high, at most a
# third of the map high, and sharp (glyph edges: a mean absolute Laplacian of the grey levels
# of at least GATE_MIN_EDGE). At low resolution the model also lights up smooth things (a cup,
# a blurred face, a gradient) as blobs; the shape and edge rules skip most of those
# (benchmarks/text_gate.py).
GATE_PIXEL_PROBABILITY = 0.5
GATE_LINE_RATIO = 1.5
GATE_MIN_EDGE = 8.0
# The gate's resolution grows with large images (``gate_scale``), up to this longest side.
GATE_MAX_SIDE = 768
# PP-OCR's detector normalisation: (pixel / 255 - 0.5) / 0.5, on BGR input.
_DET_MEAN, _DET_STD = 0.5, 0.5


@dataclass(frozen=True)
class TextLine:
    """One line of text OCR read: the words, OCR's confidence 0-1, where it is."""

    text: str
    score: float
    box: Box


@dataclass(frozen=True)
class TextOptions:
    """The detector's options (docs/text.md, "Options"), checked."""

    gate: bool = True
    # The quick check before the gate's model (vigil.detectors.text_gate).
    gate_quick: bool = True
    gate_side: int = 640
    gate_scale: float = 0.4
    # Whether the gate enlarges an image smaller than ``gate_side``. Off: a small image is seen
    # at its own size, where its text is as large as it will ever be to a reader, for a
    # fraction of the model's time (docs/text.md, "Speed").
    gate_enlarge: bool = False
    gate_min_pixels: int = 32
    min_line_score: float = 0.5
    # Larger images are scaled down before OCR. PP-OCR's detector finds small text worse at
    # full resolution (22 px text on a 2000 px photo: found at 1280, missed at 2000) and is
    # three times slower there.
    max_side: int = 1280
    upside_down: bool = False
    # The gate's model (whose text map also gives the line boxes): int8 or fp32.
    precision: str = DEFAULT_PRECISION

    def __post_init__(self) -> None:
        flags = (self.gate, self.gate_quick, self.gate_enlarge, self.upside_down)
        if not all(isinstance(flag, bool) for flag in flags):
            raise DetectorFailed(
                "The text detector's gate, gate_quick, gate_enlarge and upside_down must be "
                "true/false."
            )
        _check_int("gate_side", self.gate_side, 64, 2048)
        _check_int("gate_min_pixels", self.gate_min_pixels, 1, 1_000_000)
        _check_int("max_side", self.max_side, 64, 8192)
        _check_fraction("min_line_score", self.min_line_score)
        _check_fraction("gate_scale", self.gate_scale)
        check_precision(self.precision, "text")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DetectorFailed(f"The text detector's {name} must be a whole number {low}-{high}.")


def _check_fraction(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DetectorFailed(f"The text detector's {name} must be a number from 0 to 1.")


class TextDetector:
    """Reads the lines of text in an image (``TEXT_LINE`` detections, for search) and reports
    each term-list match under its ``Offensive Text`` label."""

    name = "text"
    labels: tuple[str, ...] = (taxonomy.TEXT_TOP, *CATEGORY_LABELS.values())
    licence = "Apache-2.0 (PP-OCR models, RapidOCR)"
    # The engine calls it only for images whose policy acts on one of its labels.
    on_demand: bool = True

    def __init__(
        self,
        threads: int = 0,
        terms_dir: str | None = None,
        extra_terms: Mapping[str, Sequence[str]] | None = None,
        **options: Any,
    ) -> None:
        try:
            self.options = TextOptions(**options)
        except TypeError as exc:
            raise DetectorFailed(f"Unknown text detector option: {exc}") from exc
        # The precision the gate runs at: fp32 off the CPU, whatever the option says.
        self.precision = check_precision(self.options.precision, self.name)
        version = f"rapidocr=={package_version(PACKAGE)}+{READING}"
        self.version = with_precision(version, self.precision)
        self.threads = threads
        self.terms: list[Term] = compile_terms(load_term_lists(terms_dir, extra_terms))
        self._engine: RapidOCR | None = None
        self._gate: ort.InferenceSession | None = None
        # RapidOCR's own post-processing of a text map into line boxes, with its defaults.
        self._boxes = DBPostProcess(
            thresh=0.3, box_thresh=0.5, max_candidates=1000, unclip_ratio=1.6, use_dilation=True
        )

    def load(self) -> None:
        if self._engine is not None:
            return
        det = package_model(PACKAGE, DET_MODEL)
        self._engine = _build_engine(det, self.threads, self.options)
        self._gate = create_session(self.gate_model(det), self.threads, name="the text gate model")
        # Loads the recogniser now, not on the first upload, the way uploads will use it: behind
        # the gate only the recogniser runs, so RapidOCR's own detection model stays unloaded.
        sample = _sample_image()
        text_map = self.text_map(det_batch(self.gate_view(sample))) if self.options.gate else None
        self.read_lines(sample, text_map)

    def gate_model(self, det: Path) -> Path:
        """The detection model the gate runs: the packaged one, or its int8 variant."""
        if self.precision == "fp32":
            return det
        return quantized_model(det, calibration_table("text-det"))

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [self.detect_one(image.pixels) for image in images]

    def detect_one(self, image: Image.Image) -> list[Detection]:
        """The text lines and term matches of one RGB image (none when the gate says no text).
        Behind the gate, the lines are read in the boxes of the gate's own text map: the
        detection model runs once per image, not again at a higher resolution."""
        if not self.options.gate:
            return self.detections(self.read_lines(image))
        text_map = self.gate(image)
        if text_map is None:
            return []
        return self.detections(self.read_lines(image, text_map))

    def likely_text(self, image: Image.Image) -> bool:
        """Whether the gate lets the image through to recognition."""
        return self.gate(image) is not None

    def gate(self, image: Image.Image) -> np.ndarray | None:
        """The gate: the quick check, then whether the model's text map of the ``gate_view``
        has enough text-like pixels. Returns that map when it has, else ``None``."""
        view = self.gate_view(image)
        if self.options.gate_quick and not may_hold_text(view):
            return None
        batch = det_batch(view)
        text_map = self.text_map(batch)
        if line_pixels(text_map, edges(batch)) < self.options.gate_min_pixels:
            return None
        return text_map

    def gate_side_for(self, image: Image.Image) -> int:
        """The gate's longest side: ``gate_side``, or ``gate_scale`` of a larger image's, so
        that small text on a large upload stays visible; never over ``GATE_MAX_SIDE``, nor
        over the image's own unless ``gate_enlarge``."""
        longest = max(image.width, image.height)
        scaled = min(GATE_MAX_SIDE, round(longest * self.options.gate_scale))
        side = max(self.options.gate_side, scaled)
        return side if self.options.gate_enlarge else min(side, longest)

    def gate_view(self, image: Image.Image) -> np.ndarray:
        """The image as both stages of the gate see it: RGB uint8, fitted inside
        ``gate_side_for`` (each side a multiple of 32, as the model needs)."""
        return fit(image, *det_size(image, self.gate_side_for(image)))

    def text_map(self, batch: np.ndarray) -> np.ndarray:
        """The detection model's text-probability map (2-D) of a ``det_batch``."""
        session = require(self._gate, self.name)
        try:
            output = session.run(None, {session.get_inputs()[0].name: batch})[0]
        except Exception as exc:  # onnxruntime's errors have no useful common base class
            raise DetectorFailed(f"The text detector's gate failed: {exc}") from exc
        text_map: np.ndarray = np.asarray(output)[0, 0]
        return text_map

    def read_lines(self, image: Image.Image, text_map: np.ndarray | None = None) -> list[TextLine]:
        """Every line read with at least ``min_line_score``: in the boxes of ``text_map`` (the
        gate's), or with RapidOCR's own detection pass when there is none."""
        engine = _require_engine(self._engine)
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        try:
            if text_map is None:
                return _lines(engine(bgr), image.width, image.height)
            return self._read_boxes(engine, bgr, text_map)
        except Exception as exc:  # RapidOCR raises its own assorted errors
            raise DetectorFailed(f"The text detector's OCR failed: {exc}") from exc

    def _read_boxes(
        self, engine: RapidOCR, bgr: np.ndarray, text_map: np.ndarray
    ) -> list[TextLine]:
        """The lines in the boxes DB post-processing finds in ``text_map``, scaled to ``bgr``."""
        height, width = bgr.shape[:2]
        boxes, _ = self._boxes(text_map[np.newaxis, np.newaxis], (height, width))
        if len(boxes) == 0:
            return []
        boxes = RapidTextDetector.sorted_boxes(boxes)
        crops = engine.crop_text_regions(bgr, boxes)
        if self.options.upside_down:
            crops, _ = engine.cls_and_rotate(crops)
        read = engine.recognize_txt(crops)
        return [
            TextLine(str(text).strip(), float(score), _box(np.asarray(points), width, height))
            for points, text, score in zip(boxes, read.txts or (), read.scores, strict=False)
            if float(score) >= self.options.min_line_score and str(text).strip()
        ]

    def detections(self, lines: Sequence[TextLine]) -> list[Detection]:
        """A ``TEXT_LINE`` per line, then a detection per term matched in it."""
        found: list[Detection] = []
        for line in lines:
            confidence = 100.0 * line.score
            found.append(Detection(TEXT_LINE, confidence, self.name, line.box, line.text))
            for match in find_terms(line.text, self.terms):
                scaled = confidence if match.exact else confidence * FUZZY_SCALE
                found.append(Detection(match.label, scaled, self.name, line.box, match.text))
        return found


def _build_engine(det: Path, threads: int, options: TextOptions) -> RapidOCR:
    """A RapidOCR engine on the shipped models, quiet, with ``threads`` intra-op threads, on
    the active providers as far as RapidOCR takes them (``engine_providers``)."""
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    params: dict[str, Any] = {
        **engine_providers(providers.active()),
        "Global.log_level": "error",
        "Global.text_score": float(options.min_line_score),
        "Global.max_side_len": options.max_side,
        "Global.use_cls": options.upside_down,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads if threads > 0 else -1,
        "Det.model_path": str(det),
        "Rec.model_path": str(package_model(PACKAGE, REC_MODEL)),
        "Cls.model_path": str(package_model(PACKAGE, CLS_MODEL)),
    }
    try:
        return RapidOCR(params=params)
    except Exception as exc:  # a bad install shows up as anything from omegaconf or onnxruntime
        raise DetectorFailed(f"Could not start RapidOCR: {exc}") from exc


# RapidOCR builds its own sessions (the recogniser's) and takes providers only as these
# switches; it keeps the CPU provider last itself. Others (TensorRT, OpenVINO) leave it on
# the CPU, while the gate's model, a vigil session, runs on them.
_RAPIDOCR_SWITCHES = {
    "CUDAExecutionProvider": "use_cuda",
    "DmlExecutionProvider": "use_dml",
    "CANNExecutionProvider": "use_cann",
    "CoreMLExecutionProvider": "use_coreml",
}


def engine_providers(chosen: Sequence[str]) -> dict[str, bool]:
    """RapidOCR's engine settings for the ``chosen`` providers: each switch it has, on or off."""
    prefix = "EngineConfig.onnxruntime."
    return {prefix + switch: name in chosen for name, switch in _RAPIDOCR_SWITCHES.items()}


def edges(batch: np.ndarray) -> np.ndarray:
    """The absolute Laplacian of the grey levels (0-255) of a ``det_input`` image."""
    grey = batch[0].mean(axis=0) * (255 * _DET_STD) + 255 * _DET_MEAN
    return np.asarray(np.abs(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F)))


def line_pixels(text_map: np.ndarray, sharpness: np.ndarray) -> int:
    """The pixels of a text-probability map in regions that look like lines of text, given
    the ``edges`` of the image it was computed from (the same size)."""
    mask = (text_map >= GATE_PIXEL_PROBABILITY).astype(np.uint8)
    count, regions, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    area = stats[:, 4]
    edge = np.bincount(regions.ravel(), weights=sharpness.ravel(), minlength=count)
    sharp = edge / np.maximum(area, 1) >= GATE_MIN_EDGE
    wide = stats[:, 2] >= GATE_LINE_RATIO * stats[:, 3]
    low = stats[:, 3] <= text_map.shape[0] / 3
    lines = (wide & low & sharp)[1:]  # region 0 is the background
    return int(area[1:][lines].sum())


def _require_engine(engine: RapidOCR | None) -> RapidOCR:
    if engine is None:
        raise DetectorFailed("The text detector was used before load() was called.")
    return engine


def det_size(image: Image.Image, side: int) -> tuple[int, int]:
    """The width and height of ``image`` fitted inside ``side``, each a multiple of 32."""
    scale = side / max(image.width, image.height)
    width = max(32, round(image.width * scale / 32) * 32)
    height = max(32, round(image.height * scale / 32) * 32)
    return width, height


def det_batch(view: np.ndarray) -> np.ndarray:
    """An RGB uint8 image as the detection model takes it: normalised, BGR, NCHW float32."""
    # (pixel - 127.5) / 127.5 is PP-OCR's (pixel / 255 - 0.5) / 0.5, in one pass.
    scale, mean = 1 / (255 * _DET_STD), 255 * _DET_MEAN
    size = (view.shape[1], view.shape[0])
    batch = cv2.dnn.blobFromImage(view, scale, size, (mean, mean, mean), swapRB=True)
    return np.asarray(batch, dtype=np.float32)


def det_input(image: Image.Image, side: int) -> np.ndarray:
    """The image fitted inside ``side`` (each side a multiple of 32), normalised, BGR NCHW."""
    return det_batch(fit(image, *det_size(image, side)))


def _lines(result: Any, width: int, height: int) -> list[TextLine]:
    """RapidOCR's output as lines (it returns an empty output without ``boxes`` for none)."""
    boxes, txts, scores = (getattr(result, key, None) for key in ("boxes", "txts", "scores"))
    if boxes is None or txts is None or scores is None:
        return []
    return [
        TextLine(str(text).strip(), float(score), _box(np.asarray(points), width, height))
        for points, text, score in zip(boxes, txts, scores, strict=True)
        if str(text).strip()
    ]


def _box(points: np.ndarray, width: int, height: int) -> Box:
    """The axis-aligned box around a line's four corners, as fractions of the image."""
    left, top = np.clip(points.min(axis=0), 0, [width, height])
    right, bottom = np.clip(points.max(axis=0), 0, [width, height])
    return Box(
        float(left) / width,
        float(top) / height,
        float(right - left) / width,
        float(bottom - top) / height,
    )


def _sample_image() -> Image.Image:
    """A word on white, read once at load time so both models are loaded and exercised."""
    image = Image.new("RGB", (200, 64), "white")
    ImageDraw.Draw(image).text((12, 12), "vigil", fill="black", font=ImageFont.load_default(32))
    return image
