"""Detectors one after another against all at once (``VIGIL_PARALLEL_DETECTORS``), same process.

On generated images (crops, resizes and flips of scikit-image's sample photos, as in
``throughput.py``), batches of 8 go through ``ModerationEngine.detect`` with the detectors the
default policy needs (nsfw, nudity, graphic, gesture), alternating the two engines batch by
batch so that neither gains from a quieter machine. Prints the median milliseconds per image of
each and the ratio.

Run: .venv/bin/python benchmarks/parallel_detectors.py [--images 96] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from quantized import decoded  # this directory's quantized-model benchmark
from throughput import generate

from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

DETECTORS = ["nsfw", "nudity", "graphic", "gesture"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = generate(Path(tempfile.mkdtemp(prefix="vigil-parallel-")), args.images, 5, 2)
    images = [decoded(path) for path in paths]
    engines = {}
    for name, parallel in (("one after another", False), ("all at once", True)):
        engines[name] = ModerationEngine(Settings(detectors=DETECTORS, parallel_detectors=parallel))
        engines[name].load()
        engines[name].detect(images[:8])  # warm-up
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for start in range(0, len(images), 8):
            batch = images[start : start + 8]
            order = list(engines) if (start // 8) % 2 else list(engines)[::-1]
            for name in order:
                began = time.perf_counter()
                engines[name].detect(batch)
                times[name].append((time.perf_counter() - began) * 1000 / len(batch))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:<18} {value:7.2f} ms/image (median of {len(times[name])} batches of 8)")
    print(f"ratio_parallel_speedup={medians['one after another'] / medians['all at once']:.2f}")


if __name__ == "__main__":
    main()
