"""Int8 against fp32 for the bundled models: label agreement and speed, in one run.

On generated test images (crops, resizes and flips of scikit-image's sample photos, as in
``throughput.py``), each packaged detector runs at both precisions. For every image and every
label a detector reports, the label's highest confidence is placed in the default policy's band
(allow, review, block) for it; agreement is the share of (image, label) pairs whose band is the
same at both precisions. It also prints the largest and median confidence differences and
milliseconds per image (median of batches of 8).

``--write-calibration`` first records each model's activation ranges on a separate set of
generated images (another seed) into vigil/detectors/calibration/<detector>.json, the tables
the int8 variants are built from (vigil/detectors/quantize.py).

Run: .venv/bin/python benchmarks/quantized.py [--images 240] [--write-calibration]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from throughput import generate  # this directory's throughput benchmark

from vigil import taxonomy
from vigil.detectors import graphic, nsfw, nudity
from vigil.detectors.base import Detection, Detector
from vigil.detectors.onnx import package_model
from vigil.detectors.quantize import cache_dir, write_table
from vigil.media.image import DecodedImage
from vigil.policy.loader import PolicyStore
from vigil.policy.model import Band, Policy

CALIBRATION = Path(__file__).resolve().parents[1] / "vigil" / "detectors" / "calibration"
MODULES = {"nsfw": nsfw, "nudity": nudity, "graphic": graphic}
BUILDERS = {
    "nsfw": nsfw.NsfwDetector,
    "nudity": nudity.NudityDetector,
    "graphic": graphic.GraphicDetector,
}


def decoded(path: Path) -> DecodedImage:
    with Image.open(path) as opened:
        pixels = opened.convert("RGB")
    return DecodedImage(pixels, "jpeg", "image/jpeg", pixels.width, pixels.height, 0)


def write_calibration(name: str, images: Sequence[DecodedImage]) -> None:
    module = MODULES[name]
    batches = [np.asarray(module.preprocess(image.pixels))[None] for image in images]
    table = CALIBRATION / f"{name}.json"
    write_table(package_model(module.PACKAGE, module.MODEL_FILE), batches, table)
    print(f"{name}: calibration table written to {table} ({table.stat().st_size} bytes)")


def band(policy: Policy, label: str) -> Band | None:
    for name in (label, *taxonomy.ancestors(label)):
        if name in policy.bands:
            return policy.bands[name]
    return None


def strongest(found: list[Detection]) -> dict[str, float]:
    best: dict[str, float] = {}
    for detection in found:
        best[detection.label] = max(best.get(detection.label, 0.0), detection.confidence)
    return best


def run(detector: Detector, images: Sequence[DecodedImage]) -> tuple[list[dict[str, float]], float]:
    """Each image's strongest confidence per label, and the median ms per image (batches of 8)."""
    detector.load()
    detector.detect(images[:8])  # warm-up
    found: list[dict[str, float]] = []
    timings: list[float] = []
    for start in range(0, len(images), 8):
        batch = images[start : start + 8]
        began = time.perf_counter()
        results = detector.detect(batch)
        timings.append((time.perf_counter() - began) * 1000 / len(batch))
        found.extend(strongest(result) for result in results)
    return found, statistics.median(timings)


def compare(name: str, images: Sequence[DecodedImage], policy: Policy) -> None:
    full, full_ms = run(BUILDERS[name](precision="fp32"), images)
    small, small_ms = run(BUILDERS[name](precision="int8"), images)
    same = total = 0
    differences: list[float] = []
    for one, other in zip(full, small, strict=True):
        for label in set(one) | set(other):
            governing = band(policy, label)
            a, b = one.get(label, 0.0), other.get(label, 0.0)
            differences.append(abs(a - b))
            if governing is not None:
                total += 1
                same += governing.action_for(a) == governing.action_for(b)
    agreement = 100.0 * same / total if total else 100.0
    print(
        f"{name:<8} fp32 {full_ms:6.2f} ms/img  int8 {small_ms:6.2f} ms/img  "
        f"speed-up {full_ms / small_ms:4.2f}x  band agreement {agreement:6.2f}% of {total} "
        f"(image, label) pairs  confidence diff median {statistics.median(differences):.3f} "
        f"max {max(differences):.2f} points"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--calibration-images", type=int, default=64)
    parser.add_argument("--write-calibration", action="store_true")
    parser.add_argument("--detectors", default="nsfw,nudity,graphic")
    args = parser.parse_args()
    names = args.detectors.split(",")
    folder = Path(tempfile.mkdtemp(prefix="vigil-quantized-"))
    if args.write_calibration:
        paths = generate(folder / "calibration", args.calibration_images, seed=11, min_distance=2)
        for name in names:
            write_calibration(name, [decoded(path) for path in paths])
    paths = generate(folder / "test", args.images, seed=5, min_distance=2)
    images = [decoded(path) for path in paths]
    print(f"{len(images)} test images; int8 models cached in {cache_dir()}")
    policy = PolicyStore().get("default")
    for name in names:
        compare(name, images, policy)


if __name__ == "__main__":
    main()
