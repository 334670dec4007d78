"""Hand geometry for the gesture detector: from MediaPipe's 21 hand landmarks, which fingers are
extended and how clearly the hand shows the middle finger. Pure numpy, no MediaPipe.

Landmarks are in MediaPipe's order: 0 wrist, 1-4 thumb (CMC, MCP, IP, tip), then per finger MCP,
PIP, DIP, tip: 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky. Points are (x, y) or (x, y, z)
in one unit on every axis: MediaPipe's normalised x and y are fractions of the image's width and
height, so scale them to pixels first (``x * width, y * height, z * width``; MediaPipe's z is on
roughly the scale of x).

Nothing here uses the image's axes: a finger's state comes from the angles at its joints and from
its tip's distance to the wrist, so a hand rotated in the image plane, mirrored (a left hand),
or (in 3D) turned towards the camera scores the same. The thresholds are heuristics chosen on
constructed hands (tests/detectors/test_gesture.py), not fitted to labelled photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

WRIST = 0
THUMB = (1, 2, 3, 4)
# MCP, PIP, DIP, tip of each long finger.
FINGERS: dict[str, tuple[int, int, int, int]] = {
    "index": (5, 6, 7, 8),
    "middle": (9, 10, 11, 12),
    "ring": (13, 14, 15, 16),
    "pinky": (17, 18, 19, 20),
}
LANDMARKS = 21

# A finger whose three joints (MCP, PIP, DIP) bend by STRAIGHT_BEND degrees or less in all is
# straight; FOLDED_BEND or more is curled (a loose fist bends each finger by about 200 degrees).
STRAIGHT_BEND = 50.0
FOLDED_BEND = 140.0
# Tip-to-wrist over PIP-to-wrist distance: about 1.35-1.4 for a straight finger, under 1 once
# the tip curls back past the PIP joint.
FOLDED_REACH = 1.0
EXTENDED_REACH = 1.2
# The ring finger is tied to the middle finger's tendons: with the middle finger up, most
# people can only half-fold it. Its "folded" score counts fully from RING_SLACK on.
RING_SLACK = 0.6


def as_points(landmarks: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """A (21, 3) float array from 21 (x, y) or (x, y, z) points (z 0 when absent)."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != LANDMARKS or points.shape[1] not in (2, 3):
        raise ValueError(f"expected 21 landmarks of 2 or 3 coordinates, got shape {points.shape}")
    if points.shape[1] == 2:
        points = np.concatenate([points, np.zeros((LANDMARKS, 1))], axis=1)
    return points


def _angle(first: np.ndarray, second: np.ndarray) -> float:
    """The angle in degrees between two vectors (0 when either is degenerate)."""
    norms = float(np.linalg.norm(first) * np.linalg.norm(second))
    if norms < 1e-12:
        return 0.0
    cosine = float(np.dot(first, second)) / norms
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def _ramp(value: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between."""
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def bend(points: np.ndarray, finger: str) -> float:
    """How far a finger bends, in degrees: the sum of its turns at MCP, PIP and DIP (the MCP turn
    measured from the wrist-to-MCP line, the palm's own axis for that finger)."""
    mcp, pip, dip, tip = (points[i] for i in FINGERS[finger])
    segments = (mcp - points[WRIST], pip - mcp, dip - pip, tip - dip)
    return sum(_angle(a, b) for a, b in pairwise(segments))


def reach(points: np.ndarray, finger: str) -> float:
    """Tip-to-wrist distance over PIP-to-wrist distance."""
    _, pip, _, tip = (points[i] for i in FINGERS[finger])
    near = float(np.linalg.norm(pip - points[WRIST]))
    if near < 1e-12:
        return 0.0
    return float(np.linalg.norm(tip - points[WRIST])) / near


def extension(points: np.ndarray, finger: str) -> float:
    """0 (curled) to 1 (straight): the mean of the joint-angle and the reach evidence, so one
    noisy landmark cannot decide alone."""
    straight = 1.0 - _ramp(bend(points, finger), STRAIGHT_BEND, FOLDED_BEND)
    far = _ramp(reach(points, finger), FOLDED_REACH, EXTENDED_REACH)
    return (straight + far) / 2.0


def extensions(landmarks: Sequence[Sequence[float]] | np.ndarray) -> dict[str, float]:
    """Each long finger's extension, 0 (curled) to 1 (straight)."""
    points = as_points(landmarks)
    return {finger: extension(points, finger) for finger in FINGERS}


def middle_finger_score(landmarks: Sequence[Sequence[float]] | np.ndarray) -> float:
    """0-1: the middle finger extended while index, ring and pinky are folded (the thumb is
    ignored: it is tucked in or held out). The weakest of the four findings bounds the score."""
    points = as_points(landmarks)
    if float(np.linalg.norm(points[FINGERS["middle"][0]] - points[WRIST])) < 1e-9:
        return 0.0  # no palm to measure against: collapsed or missing landmarks
    state = {finger: extension(points, finger) for finger in FINGERS}
    ring_folded = min(1.0, (1.0 - state["ring"]) / RING_SLACK)
    return state["middle"] * min(1.0 - state["index"], ring_folded, 1.0 - state["pinky"])
