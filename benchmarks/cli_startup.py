"""How long the `vigil` command takes to start (issue 17, docs/speed.md "CLI start-up").

Prints the median wall time of five runs each (the machines are shared and noisy) of:
- `vigil --help`: typer and the command modules only, no service or detector imports;
- `vigil keys create --role admin`: settings, database and migrations, no detectors;
- `vigil moderate PHOTO`: a generated photo, process start, model load and moderation; and its
  start-up overhead: the wall time less the engine's own time (building and loading the
  detectors the policy needs, then moderating the photo), which `--verbose` logs. Repeated
  runs answer from the policy snapshot the first one stored; the overhead is also measured
  with the snapshot removed before each run, as a first run (or one after any change) reads
  the database.

Every run uses the venv's own `vigil` in a temporary data directory (VIGIL_DATA_DIR); nothing
touches the network. The last line, ``help_s=<x> keys_create_s=<y> moderate_overhead_s=<z>
moderate_overhead_database_s=<w>``, is for scripts.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vigil.service.policies.one_shot_snapshot import FILE_NAME

VIGIL = str(Path(sys.executable).with_name("vigil"))


def photo(path: Path) -> Path:
    """A 640x480 JPEG with smooth gradients and noise, like a photo to a detector."""
    rng = np.random.default_rng(17)
    y, x = np.mgrid[0:480, 0:640]
    base = np.stack([x / 640 * 200, y / 480 * 180, (x + y) / 1120 * 160], axis=-1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return path


def median_s(args: list[str], env: dict[str, str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([VIGIL, *args], cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


ENGINE_TIME = re.compile(r"engine: (?:built|loaded|moderated) .* in ([0-9.]+) s")


def median_overhead_s(
    args: list[str], env: dict[str, str], cwd: Path, runs: int, forget: Path | None = None
) -> float:
    """The median of wall time less the engine's own time, from ``vigil --verbose``;
    ``forget``: a file removed before each run (the policy snapshot)."""
    overheads = []
    for _ in range(runs):
        if forget is not None:
            forget.unlink(missing_ok=True)
        start = time.perf_counter()
        done = subprocess.run(
            [VIGIL, "--verbose", *args], cwd=cwd, env=env, check=True, capture_output=True
        )
        wall = time.perf_counter() - start
        engine = sum(float(m) for m in ENGINE_TIME.findall(done.stderr.decode()))
        overheads.append(wall - engine)
    return statistics.median(overheads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "VIGIL_DATA_DIR": str(folder / "data")}
        # The first run creates the database and the first admin key; it is not measured.
        subprocess.run([VIGIL, "init"], cwd=folder, env=env, check=True, capture_output=True)
        image = photo(folder / "photo.jpg")
        help_s = median_s(["--help"], env, folder, args.runs)
        print(f"vigil --help: {help_s:.2f} s", flush=True)
        keys_s = median_s(["keys", "create", "--role", "admin"], env, folder, args.runs)
        print(f"vigil keys create: {keys_s:.2f} s", flush=True)
        moderate_s = median_s(["moderate", str(image)], env, folder, args.runs)
        print(f"vigil moderate photo.jpg: {moderate_s:.2f} s", flush=True)
        overhead_s = median_overhead_s(["moderate", str(image)], env, folder, args.runs)
        print(f"vigil moderate start-up overhead: {overhead_s:.2f} s", flush=True)
        snapshot = folder / "data" / FILE_NAME
        first_s = median_overhead_s(["moderate", str(image)], env, folder, args.runs, snapshot)
        print(f"  the same, reading the database (no policy snapshot): {first_s:.2f} s")
    print(
        f"help_s={help_s:.2f} keys_create_s={keys_s:.2f} moderate_overhead_s={overhead_s:.2f}"
        f" moderate_overhead_database_s={first_s:.2f}"
    )


if __name__ == "__main__":
    main()
