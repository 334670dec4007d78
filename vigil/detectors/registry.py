"""The built-in detectors by name, and building the enabled ones from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vigil.detectors.base import Detector
from vigil.detectors.graphic import GraphicDetector
from vigil.detectors.nsfw import NsfwDetector
from vigil.detectors.nudity import NudityDetector
from vigil.errors import InvalidParameter

# Name (as used in the VIGIL_DETECTORS setting) -> factory taking onnxruntime's thread count.
BUILTIN: dict[str, Callable[[int], Detector]] = {
    "nsfw": lambda threads: NsfwDetector(threads=threads),
    "nudity": lambda threads: NudityDetector(threads=threads),
    "graphic": lambda threads: GraphicDetector(threads=threads),
}


def build_detectors(names: Sequence[str], threads: int) -> list[Detector]:
    """The detectors called ``names``, in that order, not yet loaded."""
    unknown = [name for name in names if name not in BUILTIN]
    if unknown:
        raise InvalidParameter(
            f"Unknown detector {', '.join(map(repr, unknown))}; "
            f"known detectors are: {', '.join(BUILTIN)}."
        )
    return [BUILTIN[name](threads) for name in names]


def load_all(detectors: Sequence[Detector]) -> None:
    """Load every detector's model, once, before the first image arrives."""
    for detector in detectors:
        detector.load()
