"""The gesture detector: the hand geometry on constructed hands, then MediaPipe's real models.

No photo of a hand, let alone of a middle finger, ships in any installed package (the only
"hand" image is matplotlib's 24x24 cursor icon), so the end-to-end tests check what real photos
without hands give, and the geometry is tested on hands built joint by joint below.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
import threading
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from tests.detectors.conftest import decoded, photo_array
from vigil.detectors import gesture_rules
from vigil.detectors.gesture import (
    MISSING,
    GestureDetector,
    hand_box,
    hand_points,
    working_image,
)
from vigil.errors import DetectorFailed

# ---------------------------------------------------------------------------------------------
# Constructed hands: a right hand, palm towards the camera, fingers up (+y), in units of about
# one palm length. Each finger bends at MCP, PIP and DIP by the given degrees, curling towards
# the palm side (-z), as a real finger does.

MCPS = {
    "index": (-0.30, 0.85),
    "middle": (-0.08, 0.90),
    "ring": (0.12, 0.84),
    "pinky": (0.30, 0.74),
}
SEGMENTS = {  # proximal, middle, distal phalanx lengths
    "index": (0.40, 0.24, 0.20),
    "middle": (0.45, 0.28, 0.22),
    "ring": (0.42, 0.26, 0.21),
    "pinky": (0.33, 0.20, 0.19),
}
STRAIGHT = (5.0, 5.0, 3.0)
RELAXED = (15.0, 20.0, 10.0)  # a straight finger as people hold it, not ruler-straight
HALF = (45.0, 70.0, 30.0)  # the ring finger beside a raised middle finger, for many people
FOLDED = (80.0, 100.0, 60.0)
THUMB_OUT = [(-0.22, 0.20, 0.0), (-0.40, 0.38, 0.0), (-0.52, 0.55, 0.0), (-0.62, 0.70, 0.0)]
THUMB_TUCKED = [(-0.20, 0.25, 0.05), (-0.30, 0.45, 0.12), (-0.18, 0.62, 0.18), (-0.02, 0.68, 0.2)]


def build_hand(
    bends: dict[str, tuple[float, float, float]], thumb: list[tuple[float, float, float]]
) -> np.ndarray:
    """21 (x, y, z) landmarks in MediaPipe's order."""
    points = [np.zeros(3), *(np.array(p) for p in thumb)]
    for finger in ("index", "middle", "ring", "pinky"):
        mcp = np.array([*MCPS[finger], 0.0])
        # A straight finger points between its wrist-to-MCP line and the hand's axis (+y).
        along = mcp / np.linalg.norm(mcp) + np.array([0.0, 1.0, 0.0])
        along /= np.linalg.norm(along)
        palm_side = np.array([0.0, 0.0, -1.0])
        joint, total = mcp, 0.0
        points.append(joint)
        for length, angle in zip(SEGMENTS[finger], bends[finger], strict=True):
            total += math.radians(angle)
            joint = joint + length * (math.cos(total) * along + math.sin(total) * palm_side)
            points.append(joint)
    return np.stack(points)


def pose(
    index: tuple[float, float, float],
    middle: tuple[float, float, float],
    ring: tuple[float, float, float],
    pinky: tuple[float, float, float],
    thumb: list[tuple[float, float, float]] = THUMB_TUCKED,
) -> np.ndarray:
    return build_hand({"index": index, "middle": middle, "ring": ring, "pinky": pinky}, thumb)


def place(
    hand: np.ndarray, degrees: float = 0.0, mirror: bool = False, tilt: float = 0.0
) -> np.ndarray:
    """The hand turned ``tilt`` degrees about its own vertical axis (towards or away from the
    camera), rotated ``degrees`` in the image plane, mirrored (a left hand) when asked, then
    scaled and moved to the middle of a unit image, as MediaPipe's normalised coordinates."""
    points = hand.copy()
    t = math.radians(tilt)
    turn = np.array([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]])
    points = points @ turn.T
    a = math.radians(degrees)
    spin = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    points = points @ spin.T
    if mirror:
        points[:, 0] *= -1
    placed: np.ndarray = points * 0.2 + np.array([0.5, 0.5, 0.0])
    return placed


MIDDLE_FINGER = pose(FOLDED, STRAIGHT, FOLDED, FOLDED)
OTHERS = {
    "open hand": pose(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, THUMB_OUT),
    "relaxed open hand": pose(RELAXED, RELAXED, RELAXED, RELAXED, THUMB_OUT),
    "fist": pose(FOLDED, FOLDED, FOLDED, FOLDED),
    "thumbs up": pose(FOLDED, FOLDED, FOLDED, FOLDED, THUMB_OUT),
    "pointing": pose(STRAIGHT, FOLDED, FOLDED, FOLDED),
    "peace sign": pose(STRAIGHT, STRAIGHT, FOLDED, FOLDED),
    "middle and ring": pose(FOLDED, STRAIGHT, STRAIGHT, FOLDED),
    "three fingers": pose(STRAIGHT, STRAIGHT, STRAIGHT, FOLDED),
    "horns": pose(STRAIGHT, FOLDED, FOLDED, STRAIGHT),
    "pinky up": pose(FOLDED, FOLDED, FOLDED, STRAIGHT),
    "half-curled middle": pose(FOLDED, HALF, FOLDED, FOLDED),
}
PLACEMENTS = [
    pytest.param(0.0, False, 0.0, id="upright"),
    pytest.param(90.0, False, 0.0, id="90"),
    pytest.param(180.0, False, 0.0, id="180"),
    pytest.param(-90.0, False, 0.0, id="270"),
    pytest.param(35.0, False, 0.0, id="35"),
    pytest.param(0.0, True, 0.0, id="mirrored"),
    pytest.param(180.0, True, 0.0, id="mirrored-180"),
    pytest.param(20.0, False, 45.0, id="tilted-45"),
]


def test_straight_and_folded_fingers_are_told_apart() -> None:
    open_hand = gesture_rules.extensions(place(OTHERS["open hand"]))
    fist = gesture_rules.extensions(place(OTHERS["fist"]))
    assert all(value > 0.95 for value in open_hand.values())
    assert all(value < 0.05 for value in fist.values())


@pytest.mark.parametrize(("degrees", "mirror", "tilt"), PLACEMENTS)
def test_middle_finger_fires_in_every_rotation(degrees: float, mirror: bool, tilt: float) -> None:
    assert gesture_rules.middle_finger_score(place(MIDDLE_FINGER, degrees, mirror, tilt)) > 0.9


@pytest.mark.parametrize(("degrees", "mirror", "tilt"), PLACEMENTS)
@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_hands_do_not_fire(name: str, degrees: float, mirror: bool, tilt: float) -> None:
    score = gesture_rules.middle_finger_score(place(OTHERS[name], degrees, mirror, tilt))
    assert score < 0.5, name


@pytest.mark.parametrize(
    "hand",
    [
        pytest.param(pose(FOLDED, STRAIGHT, HALF, FOLDED), id="ring half-folded"),
        pytest.param(pose(FOLDED, RELAXED, FOLDED, FOLDED, THUMB_OUT), id="relaxed, thumb out"),
        pytest.param(pose(HALF, RELAXED, HALF, FOLDED), id="loose"),
    ],
)
def test_middle_finger_as_people_hold_it(hand: np.ndarray) -> None:
    for degrees in (0.0, 90.0, 180.0):
        assert gesture_rules.middle_finger_score(place(hand, degrees)) > 0.6


def test_the_score_falls_as_the_middle_finger_curls() -> None:
    scores = [
        gesture_rules.middle_finger_score(
            place(pose(FOLDED, (t * 80.0, t * 100.0, t * 60.0), FOLDED, FOLDED), 90.0)
        )
        for t in np.linspace(0.0, 1.0, 11).tolist()
    ]
    assert scores[0] > 0.9
    assert scores[-1] == 0.0
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(scores))
    assert any(0.1 < score < 0.9 for score in scores)  # a gradual ramp, not a switch


def test_a_flat_projection_without_depth_still_works() -> None:
    """MediaPipe's z is the noisiest coordinate; a hand facing the camera scores right in 2D."""
    flat = place(MIDDLE_FINGER, 60.0)[:, :2]
    assert gesture_rules.middle_finger_score(flat) > 0.9
    for name in ("fist", "peace sign", "pointing", "open hand"):
        assert gesture_rules.middle_finger_score(place(OTHERS[name], 60.0)[:, :2]) < 0.5, name


def test_scale_and_position_do_not_matter() -> None:
    base = gesture_rules.middle_finger_score(place(MIDDLE_FINGER))
    moved = place(MIDDLE_FINGER) * 7.5 + np.array([100.0, -40.0, 3.0])
    assert gesture_rules.middle_finger_score(moved) == pytest.approx(base)


def test_landmarks_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="21 landmarks"):
        gesture_rules.as_points(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="21 landmarks"):
        gesture_rules.as_points(np.zeros((21, 4)))


def test_a_degenerate_hand_scores_zero() -> None:
    assert gesture_rules.middle_finger_score(np.zeros((21, 3))) == 0.0


# ---------------------------------------------------------------------------------------------
# The detector's own plumbing, without running a model.


def test_points_are_scaled_to_one_unit_on_both_axes() -> None:
    """On a 2:1 image a normalised x step is twice as long as the same y step."""
    points = hand_points([(0.5, 0.5, 0.1), (1.0, 0.0, -0.1)], width=200, height=100)
    assert points.tolist() == [[100.0, 50.0, 20.0], [200.0, 0.0, -20.0]]


def test_a_rotated_hand_on_a_wide_image_still_fires() -> None:
    """Landmarks normalised on a 16:9 image (x squeezed), as MediaPipe reports them."""
    width, height = 1600, 900
    pixels = place(MIDDLE_FINGER, 90.0) * np.array([height, height, height])
    normalised = pixels / np.array([width, height, width])
    landmarks = [tuple(row) for row in normalised]
    score = gesture_rules.middle_finger_score(hand_points(landmarks, width, height))
    assert score > 0.9


def test_the_box_surrounds_the_hand_with_a_margin() -> None:
    box = hand_box([(0.2, 0.3, 0.0), (0.4, 0.7, 0.0), (0.3, 0.5, 0.0)])
    assert box.left == pytest.approx(0.18)
    assert box.top == pytest.approx(0.26)
    assert box.width == pytest.approx(0.24)
    assert box.height == pytest.approx(0.48)
    edge = hand_box([(0.0, 0.9, 0.0), (0.1, 1.0, 0.0)])
    assert (edge.left, edge.top, edge.width, edge.height) == pytest.approx((0.0, 0.89, 0.11, 0.11))


def test_big_images_are_shrunk_to_the_working_size_and_left_untouched() -> None:
    image = Image.new("RGB", (3000, 1500), (10, 20, 30))
    pixels = working_image(image, 960)
    assert pixels.shape == (480, 960, 3)
    assert pixels.dtype == np.uint8
    assert pixels.flags["C_CONTIGUOUS"]
    assert image.size == (3000, 1500)
    assert working_image(Image.new("RGB", (300, 200)), 960).shape == (200, 300, 3)


@pytest.mark.parametrize(
    "options",
    [
        {"model_complexity": 2},
        {"max_hands": 0},
        {"min_detection_confidence": 1.5},
        {"min_gesture_score": -0.1},
        {"working_size": 64},
    ],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(DetectorFailed):
        GestureDetector(threads=1, **options)  # type: ignore[arg-type]


def test_without_mediapipe_loading_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing mediapipe, simulated: None in sys.modules makes every import of it fail."""
    for name in [name for name in sys.modules if name.split(".")[0] == "mediapipe"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    detector = GestureDetector(threads=1)  # building it needs no mediapipe
    assert detector.labels == ("Rude Gestures", "Middle Finger")
    with pytest.raises(DetectorFailed) as failure:
        detector.load()
    assert failure.value.message == MISSING
    assert MISSING == (
        "mediapipe 0.10.14 is not installed: pip install 'vigil[gesture]' (docs/gesture.md)"
    )


def test_detect_before_load_is_an_error() -> None:
    with pytest.raises(DetectorFailed, match="before load"):
        GestureDetector(threads=1).detect([decoded(np.zeros((8, 8, 3), dtype=np.uint8))])


# ---------------------------------------------------------------------------------------------
# MediaPipe's real models.


@functools.cache
def loaded(complexity: int) -> GestureDetector:
    detector = GestureDetector(threads=1, model_complexity=complexity)
    detector.load()
    return detector


NO_HANDS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": lambda: photo_array("astronaut"),
    "coffee": lambda: photo_array("coffee"),
    "chelsea": lambda: photo_array("chelsea"),
    "rocket": lambda: photo_array("rocket"),
    "white": lambda: np.full((480, 640, 3), 255, dtype=np.uint8),
    "black": lambda: np.zeros((480, 640, 3), dtype=np.uint8),
    "skin tone": lambda: np.full((400, 400, 3), (224, 172, 140), dtype=np.uint8),
    "noise": lambda: np.random.default_rng(3).integers(0, 256, (512, 512, 3), dtype=np.uint8),
}


@pytest.mark.parametrize("complexity", [0, 1])
def test_real_models_load_and_report_their_version(complexity: int) -> None:
    detector = loaded(complexity)
    assert detector.version == f"mediapipe==0.10.14+hands-{'full' if complexity else 'lite'}"


@pytest.mark.parametrize("complexity", [0, 1])
def test_photos_without_hands_give_no_middle_finger(complexity: int) -> None:
    images = [decoded(make()) for make in NO_HANDS.values()]
    results = loaded(complexity).detect(images)
    assert len(results) == len(images)
    assert results == [[] for _ in images]


def test_a_large_upload_and_odd_sizes_are_handled() -> None:
    big = np.asarray(Image.fromarray(photo_array("astronaut")).resize((4000, 3000)))
    images = [
        decoded(big),
        decoded(np.zeros((1, 1, 3), dtype=np.uint8)),
        decoded(photo_array("chelsea")),
    ]
    before = images[0].pixels.copy()
    assert loaded(0).detect(images) == [[], [], []]
    assert loaded(0).detect([]) == []
    assert np.array_equal(np.asarray(images[0].pixels), np.asarray(before))


def test_detect_from_several_threads_at_once() -> None:
    detector = loaded(0)
    image = decoded(photo_array("coffee"))
    results: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(detector.detect([image]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert results == [[[]]] * 12
