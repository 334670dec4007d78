"""Third-party detector plugins for tests: a tiny installed distribution (a ``.dist-info``
folder with ``entry_points.txt``) and its module, written to a folder put on ``sys.path``."""

from __future__ import annotations

from pathlib import Path

MODULE = "vigil_test_plugins"

SOURCE = '''
from pathlib import Path

from vigil.detectors.base import Detection

WEIGHTS = Path(__file__).with_name("missing-weights.onnx")


class BrokenDetector:
    """Its weights file was never installed: load() fails, as a half-installed plugin would."""

    name = "broken"
    labels = ("Weapons",)
    licence = "CC0-1.0"

    def __init__(self, threads: int = 0) -> None:
        self.version = "broken==1.0"

    def load(self) -> None:
        WEIGHTS.read_bytes()

    def detect(self, images):
        return [[] for _ in images]


class EchoDetector:
    """Scores every image for Gambling at the confidence its options give."""

    name = "echo"
    labels = ("Gambling",)
    licence = "MIT"

    def __init__(self, threads: int = 0, confidence: float = 42.0) -> None:
        self.version = "echo==1.0"
        self.confidence = confidence

    def load(self) -> None:
        pass

    def detect(self, images):
        return [[Detection("Gambling", self.confidence, self.name)] for _ in images]
'''

ENTRY_POINTS = f"""[vigil.detectors]
broken = {MODULE}:BrokenDetector
echo = {MODULE}:EchoDetector
"""


def install_plugins(root: Path) -> Path:
    """Write the plugin distribution under ``root``; put the returned folder on the path."""
    site = root / "site"
    info = site / "vigil_test_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: vigil-test-plugins\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / f"{MODULE}.py").write_text(SOURCE)
    return site
