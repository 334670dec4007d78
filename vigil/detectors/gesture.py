"""The middle finger, from MediaPipe Hands' 21 landmarks per hand (docs/gesture.md).

MediaPipe finds the hands (palm detection, then the hand-landmark model); the geometry in
``gesture_rules`` decides whether a hand shows the middle finger. MediaPipe is an optional extra
(``vigil[gesture]``): it is imported in ``load``, so vigil imports and lists this detector
without it, and only loading it fails.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigil.detectors import gesture_rules
from vigil.detectors.base import Box, Detection
from vigil.detectors.native_stderr import quiet_native_start
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

LABEL = "Middle Finger"
PARENT = "Rude Gestures"
MEDIAPIPE_VERSION = "0.10.14"
MISSING = (
    f"mediapipe {MEDIAPIPE_VERSION} is not installed: pip install 'vigil[gesture]' "
    "(docs/gesture.md)"
)
# The hand models inside the mediapipe wheel; 0.10.14 is the last release that ships them.
MODEL_FILES = {
    0: (
        "modules/palm_detection/palm_detection_lite.tflite",
        "modules/hand_landmark/hand_landmark_lite.tflite",
    ),
    1: (
        "modules/palm_detection/palm_detection_full.tflite",
        "modules/hand_landmark/hand_landmark_full.tflite",
    ),
}
# The box around a hand's landmarks is widened by this fraction of its size on every side, as
# the landmarks stop at the fingertips' and the wrist's centres.
BOX_MARGIN = 0.1


def working_image(image: Image.Image, working_size: int) -> np.ndarray:
    """The RGB pixels as a contiguous uint8 array, shrunk so the longest side is at most
    ``working_size`` (the palm detector looks at 192x192 anyway; this bounds the copy and
    conversion cost of big uploads). The caller's image is not modified."""
    longest = max(image.width, image.height)
    if longest > working_size:
        scale = working_size / longest
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, resample=Image.Resampling.BILINEAR, reducing_gap=2.0)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def hand_points(
    landmarks: Sequence[tuple[float, float, float]], width: int, height: int
) -> np.ndarray:
    """MediaPipe's normalised landmarks in one unit on every axis (pixels of the working image):
    x is a fraction of the width, y of the height, and z is on the scale of x."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 3)
    return points * np.array([width, height, width], dtype=np.float64)


def hand_box(landmarks: Sequence[tuple[float, float, float]]) -> Box:
    """The landmarks' bounding box plus ``BOX_MARGIN`` on each side, clipped to the image, as
    fractions of its width and height."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 3)
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    pad = (high - low) * BOX_MARGIN
    low, high = np.clip(low - pad, 0.0, 1.0), np.clip(high + pad, 0.0, 1.0)
    return Box(
        left=float(low[0]),
        top=float(low[1]),
        width=float(high[0] - low[0]),
        height=float(high[1] - low[1]),
    )


def _installed_version() -> str | None:
    """mediapipe's version without importing it (its import takes most of a second)."""
    try:
        return importlib.metadata.version("mediapipe")
    except importlib.metadata.PackageNotFoundError:
        return None


class GestureDetector:
    """Reports ``Middle Finger`` once per hand that shows it, with the hand's box; hands that do
    not show it, and images without hands, give nothing."""

    name = "gesture"
    labels: tuple[str, ...] = (PARENT, LABEL)
    licence = "Apache-2.0"
    # Runs only for uploads whose policy acts on Rude Gestures (docs/detectors.md#on-demand).
    on_demand = True

    def __init__(
        self,
        threads: int = 0,
        max_hands: int = 4,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        # 1 (full) by default: measured with benchmarks/gesture.py on 640x480 images, full
        # costs 8.5 ms per image without hands against lite's 7.1 (15 against 11 ms with one),
        # little beside the default detectors' ~40 ms, for MediaPipe's more accurate models,
        # whose palm detector also proposed fewer false hands (docs/gesture.md).
        model_complexity: int = 1,
        working_size: int = 960,
        min_gesture_score: float = 0.5,
    ) -> None:
        if isinstance(max_hands, bool) or not isinstance(max_hands, int) or max_hands < 1:
            raise DetectorFailed(
                f"max_hands must be a whole number of at least 1, not {max_hands!r}."
            )
        if isinstance(model_complexity, bool) or model_complexity not in MODEL_FILES:
            raise DetectorFailed(
                f"model_complexity must be 0 (lite) or 1 (full), not {model_complexity!r}."
            )
        for option, value in (
            ("min_detection_confidence", min_detection_confidence),
            ("min_presence_confidence", min_presence_confidence),
            ("min_gesture_score", min_gesture_score),
        ):
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise DetectorFailed(f"{option} must be between 0 and 1, not {value!r}.")
        if not isinstance(working_size, int) or working_size < 192:
            raise DetectorFailed(f"working_size must be at least 192 pixels, not {working_size!r}.")
        # MediaPipe's Python solutions API takes no thread count: its TFLite models run on the
        # XNNPACK delegate with the settings baked into the packaged graph, which cannot be
        # changed from here (measured: CPU time equals wall time, one core per image).
        # ``threads`` is accepted like every detector's and otherwise unused.
        self.threads = threads
        self.max_hands = max_hands
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_presence_confidence = float(min_presence_confidence)
        self.model_complexity = model_complexity
        self.working_size = working_size
        self.min_gesture_score = float(min_gesture_score)
        installed = _installed_version()
        model = "full" if model_complexity else "lite"
        self.version = (
            f"mediapipe=={installed}+hands-{model}" if installed else "mediapipe (not installed)"
        )
        self._hands: Any = None
        # One MediaPipe graph per detector; its process() must not run on two threads at once.
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._hands is not None:
            return
        try:
            from mediapipe.python.solutions import (
                hands as mp_hands,
            )
        except ImportError as exc:
            raise DetectorFailed(MISSING) from exc
        self._check_models()
        try:
            with quiet_native_start():  # MediaPipe's start-up lines (docs/cli.md, --verbose)
                self._hands = mp_hands.Hands(
                    static_image_mode=True,
                    max_num_hands=self.max_hands,
                    model_complexity=self.model_complexity,
                    min_detection_confidence=self.min_detection_confidence,
                    min_tracking_confidence=self.min_presence_confidence,
                )
                # The graph's threads print when it first runs: run it here, held back too.
                self._hands.process(np.zeros((64, 64, 3), np.uint8))
        except Exception as exc:  # MediaPipe raises RuntimeError and others for a bad graph
            raise DetectorFailed(f"MediaPipe Hands could not be started: {exc}") from exc

    def _check_models(self) -> None:
        spec = importlib.util.find_spec("mediapipe")
        roots = list(spec.submodule_search_locations or []) if spec else []
        missing = [
            relative
            for relative in MODEL_FILES[self.model_complexity]
            if not any((Path(root) / relative).is_file() for root in roots)
        ]
        if missing:
            raise DetectorFailed(
                f"mediapipe {_installed_version()} lacks the hand models {', '.join(missing)}; "
                f"only mediapipe {MEDIAPIPE_VERSION} ships them: pip install 'vigil[gesture]' "
                "(docs/gesture.md)"
            )

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        if self._hands is None:
            raise DetectorFailed(f"The {self.name} detector was used before load() was called.")
        return [self._detect_one(image) for image in images]

    def _detect_one(self, image: DecodedImage) -> list[Detection]:
        pixels = working_image(image.pixels, self.working_size)
        height, width = pixels.shape[:2]
        try:
            with self._lock:
                result = self._hands.process(pixels)
        except Exception as exc:  # MediaPipe raises RuntimeError from its graph
            raise DetectorFailed(
                f"The {self.name} detector failed during inference: {exc}"
            ) from exc
        found: list[Detection] = []
        hands = result.multi_hand_landmarks or []
        handedness = result.multi_handedness or []
        for index, hand in enumerate(hands):
            landmarks = [(point.x, point.y, point.z) for point in hand.landmark]
            score = gesture_rules.middle_finger_score(hand_points(landmarks, width, height))
            if score < self.min_gesture_score:
                continue
            # The handedness classifier's score: how sure the landmark model is of this hand
            # (the solutions API does not expose the palm detector's own score).
            sure = handedness[index].classification[0].score if index < len(handedness) else 1.0
            found.append(
                Detection(
                    label=LABEL,
                    confidence=100.0 * float(sure) * score,
                    detector=self.name,
                    box=hand_box(landmarks),
                )
            )
        return found
