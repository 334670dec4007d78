"""Hate symbols drawn as pictures (docs/symbols.md): the swastika and the SS runes
(``Nazi Party``), the white-power Celtic cross and the Wolfsangel (``White Supremacy``).

No neural network and no package weights: regions of ink that stand out from their
surroundings are found with two local thresholds at two scales (``candidates``), each
region's shape is described by numbers that do not change under rotation, mirroring or scale
(``features``), and a small numpy perceptron trained on generated composites
(``model``, ``scripts/symbols_train.py``) names it. A detection carries the symbol's
box, so a reviewer sees where it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vigil.detectors.base import Box, Detection
from vigil.detectors.symbols.candidates import candidates
from vigil.detectors.symbols.features import features
from vigil.detectors.symbols.model import Classifier
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage

NAZI_PARTY = "Nazi Party"
WHITE_SUPREMACY = "White Supremacy"
PARENT = "Hate Symbols"
# What each of the classifier's symbol classes is reported as.
SYMBOL_LABELS: dict[str, str] = {
    "swastika": NAZI_PARTY,
    "sig_runes": NAZI_PARTY,
    "celtic_cross": WHITE_SUPREMACY,
    "wolfsangel": WHITE_SUPREMACY,
}
# The least probability reported for each symbol, chosen on the 876 everyday photos of the
# project's development set (ImageNet samples, not shipped): the Nazi symbols together fire on
# 6 of them, the Celtic cross on 12 and the Wolfsangel on 10. The training script's own
# thresholds (from generated pictures) are lower and are kept as a floor. docs/symbols.md.
MIN_SCORES: dict[str, float] = {
    "swastika": 0.998,
    "sig_runes": 0.98,
    "celtic_cross": 0.99,
    "wolfsangel": 0.995,
}
# Reported unless the ``symbols`` option says otherwise: the Celtic cross and the Wolfsangel
# are opt-in, as they are found less reliably and flag several times more everyday photos.
DEFAULT_SYMBOLS: tuple[str, ...] = ("swastika", "sig_runes")
# The symbols made of two separate shapes, found as pairs of components.
PAIRED = frozenset({"sig_runes"})
WEIGHTS = Path(__file__).parent / "classifier.npz"
# Two detections of one label overlapping this much (intersection over the smaller box) are
# one symbol seen twice (at both scales, or by both thresholds): the stronger is kept.
SAME_SYMBOL_OVERLAP = 0.5
MAX_DETECTIONS = 10


@dataclass(frozen=True)
class Found:
    """One symbol in one image: its class, probability (0-1) and box (fractions)."""

    kind: str
    score: float
    box: Box

    @property
    def label(self) -> str:
        return SYMBOL_LABELS[self.kind]


class SymbolsDetector:
    """Reports ``Nazi Party`` or ``White Supremacy`` once per symbol found, with its box;
    images without one give nothing."""

    name = "symbols"
    labels: tuple[str, ...] = (PARENT, NAZI_PARTY, WHITE_SUPREMACY)
    licence = "Apache-2.0 (vigil's own classifier, trained on generated pictures)"

    def __init__(
        self,
        threads: int = 0,
        min_score: float | None = None,
        symbols: Sequence[str] = DEFAULT_SYMBOLS,
    ) -> None:
        if min_score is not None and (
            isinstance(min_score, bool)
            or not isinstance(min_score, int | float)
            or not 0.0 < min_score <= 1.0
        ):
            raise DetectorFailed(f"min_score must be above 0 and at most 1, not {min_score!r}.")
        # numpy and OpenCV run this detector on the calling thread; ``threads`` is accepted
        # like every detector's and otherwise unused.
        self.threads = threads
        # None: each symbol's own threshold (MIN_SCORES; docs/symbols.md).
        self.min_score = None if min_score is None else float(min_score)
        unknown = sorted(set(symbols) - set(SYMBOL_LABELS))
        if isinstance(symbols, str) or unknown:
            raise DetectorFailed(
                f"symbols must be a list of {', '.join(SYMBOL_LABELS)}, not {symbols!r}."
            )
        self.symbols = frozenset(symbols)
        self.version = f"symbols-1+{_digest(WEIGHTS)}"
        self._model: Classifier | None = None

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            self._model = Classifier.load(WEIGHTS)
        except (OSError, KeyError, ValueError) as exc:
            raise DetectorFailed(f"The symbols classifier {WEIGHTS} cannot be read: {exc}") from exc

    def find(self, image: Image.Image) -> list[Found]:
        """The symbols in ``image``, strongest first, one per place and label."""
        if self._model is None:
            raise DetectorFailed(f"The {self.name} detector was used before load() was called.")
        found, (width, height) = candidates(image)
        if not found:
            return []
        pairs = np.array([c.pair for c in found])
        probabilities = self._model.probabilities(features(found))
        kinds = self._model.classes[1:]
        # The runes are two components and every other symbol one: a candidate may only be
        # what its kind of region can be.
        two = np.array([kind in PAIRED for kind in kinds])
        symbols = probabilities[:, 1:] * (pairs[:, None] == two[None, :])
        symbols = np.where(symbols >= self._cuts(kinds), symbols, 0.0)
        best = symbols.argmax(axis=1)
        hits = [
            Found(kinds[best[i]], float(symbols[i, best[i]]), Box(*found[i].box(width, height)))
            for i in np.flatnonzero(symbols.max(axis=1) > 0)
        ]
        return _one_per_symbol(hits)[:MAX_DETECTIONS]

    def _cuts(self, kinds: tuple[str, ...]) -> np.ndarray:
        """The least probability for each of ``kinds``; 2 (never) for symbols switched off."""
        assert self._model is not None
        cuts = np.maximum(self._model.thresholds, [MIN_SCORES.get(k, 1.0) for k in kinds])
        if self.min_score is not None:
            cuts = np.full(len(kinds), self.min_score)
        off = np.array([kind not in self.symbols for kind in kinds])
        result: np.ndarray = np.where(off, 2.0, cuts)
        return result

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [
            [
                Detection(label=f.label, confidence=100.0 * f.score, detector=self.name, box=f.box)
                for f in self.find(image.pixels)
            ]
            for image in images
        ]


def _one_per_symbol(hits: list[Found]) -> list[Found]:
    """The strongest of every group of same-label detections that overlap."""
    kept: list[Found] = []
    for hit in sorted(hits, key=lambda f: -f.score):
        if all(
            k.label != hit.label or _overlap(k.box, hit.box) < SAME_SYMBOL_OVERLAP for k in kept
        ):
            kept.append(hit)
    return kept


def _overlap(a: Box, b: Box) -> float:
    """The intersection of two boxes over the smaller one's area."""
    width = min(a.left + a.width, b.left + b.width) - max(a.left, b.left)
    height = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / max(1e-12, min(a.width * a.height, b.width * b.height))


def _digest(path: Path) -> str:
    """The weights' first 8 hex digits of SHA-256, so that retrained weights are a new
    version (the duplicate cache then runs the detector again); "missing" if unreadable."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "missing"
