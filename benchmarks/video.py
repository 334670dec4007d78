"""Video moderation speed: vigil's default video pipeline against a naive frame loop.

Generates a 720p H.264 clip (2 minutes by default, 30 fps) with PyAV: scenes of 3 to 8
seconds, each one of scikit-image's sample photos slowly panning and zooming, with sensor
noise, so consecutive frames differ as in real footage. Then, in one process, on the same file:

- vigil: `moderate_video_file` with the default settings, policy and all default detectors
  (what the worker runs on an upload, minus storage);
- naive: decode every frame with PyAV and run vigil's `nsfw` detector on each, one by one.

It prints seconds of video processed per wall-clock second for both (median of --runs for
vigil; the naive loop runs once, it is slow), their ratio, and how vigil got there (frames
decoded, sampled, analysed). Two keyframe layouts are measured: one keyframe a second, as
phones record (`--gop 30`, the default), and x264's default of one every 250 frames plus scene
cuts (`--gop 250`), where every frame must be decoded. Last line: `ratio_vs_naive=<x>` for the
first layout.

Run: .venv/bin/python benchmarks/video.py [--seconds 120] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image
from skimage import data

from vigil.detectors.registry import build_detectors, load_all
from vigil.media.image import DecodedImage
from vigil.media.video_formats import MP4
from vigil.policy.loader import PolicyStore
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.video.analysis import VideoReport
from vigil.service.video.files import moderate_video_file
from vigil.settings import Settings

SIZE = (1280, 720)
FPS = 30
PHOTOS = (
    data.astronaut,
    data.chelsea,
    data.coffee,
    data.rocket,
    data.cat,
    data.immunohistochemistry,
    data.colorwheel,
    data.hubble_deep_field,
)


def make_clip(path: Path, seconds: int, gop: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    generator = np.random.default_rng(seed)
    # A few frames of sensor noise, cycled: drawing new noise for every frame is slow.
    noise = [
        generator.integers(-6, 7, size=(SIZE[1], SIZE[0], 3), dtype=np.int16) for _ in range(7)
    ]
    sources = [Image.fromarray(np.asarray(load())).convert("RGB") for load in PHOTOS]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.gop_size = gop
        stream.options = {"preset": "ultrafast", "crf": "26"}
        written = 0
        while written < seconds * FPS:
            count = min(rng.randint(3, 8) * FPS, seconds * FPS - written)
            for frame in _scene(rng.choice(sources), count, noise):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            written += count
        for packet in stream.encode():
            container.mux(packet)


def _scene(photo: Image.Image, count: int, noise: list[np.ndarray]) -> list[np.ndarray]:
    """A slow pan and zoom over one photo, with a little noise on every frame."""
    big = photo.resize((SIZE[0] * 3 // 2, SIZE[1] * 3 // 2))
    frames = []
    for n in range(count):
        t = n / max(count - 1, 1)
        zoom = 1.0 - 0.2 * t
        width, height = int(SIZE[0] * 1.5 * zoom), int(SIZE[1] * 1.5 * zoom)
        left = int((big.width - width) * t)
        top = int((big.height - height) * 0.5)
        view = big.crop((left, top, left + width, top + height)).resize(
            SIZE, Image.Resampling.BILINEAR
        )
        pixels = np.asarray(view, dtype=np.int16)
        pixels = pixels + noise[n % len(noise)]
        frames.append(np.clip(pixels, 0, 255).astype(np.uint8))
    return frames


def run_vigil(path: Path, engine: ModerationEngine, policy: object) -> tuple[float, VideoReport]:
    started = time.perf_counter()
    report = moderate_video_file(path, MP4, engine, policy)  # type: ignore[arg-type]
    return time.perf_counter() - started, report


def run_naive(path: Path) -> tuple[float, int]:
    """Every frame decoded and scored by the nsfw detector, one at a time."""
    (nsfw,) = build_detectors(["nsfw"], 0)
    load_all([nsfw])
    started = time.perf_counter()
    frames = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_image()
            nsfw.detect([DecodedImage(image, "video-frame", "", image.width, image.height, 0)])
            frames += 1
    return time.perf_counter() - started, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    engine = ModerationEngine(settings)
    engine.load()
    policy = PolicyStore(None).get(settings.default_policy)
    folder = Path(tempfile.mkdtemp(prefix="vigil-video-bench-"))
    ratios = {}
    for gop in (30, 250):
        path = folder / f"clip-gop{gop}.mp4"
        started = time.perf_counter()
        make_clip(path, args.seconds, gop)
        print(
            f"clip gop={gop}: {args.seconds} s of {SIZE[0]}x{SIZE[1]} H.264 at {FPS} fps, "
            f"{path.stat().st_size / 1e6:.1f} MB, made in {time.perf_counter() - started:.1f} s"
        )
        runs = [run_vigil(path, engine, policy) for _ in range(args.runs)]
        vigil_s = statistics.median(seconds for seconds, _ in runs)
        report = runs[0][1]
        print(
            f"  vigil: {vigil_s:.2f} s (median of {args.runs}), "
            f"{args.seconds / vigil_s:.1f} s of video per s; keyframes only: "
            f"{report.keyframes_only}; frames decoded {report.frames_decoded}, sampled "
            f"{len(report.frames)}, analysed {report.frames_analyzed}, segments "
            f"{len(report.segments)}"
        )
        naive_s, frames = run_naive(path)
        print(
            f"  naive: {naive_s:.2f} s for {frames} frames, "
            f"{args.seconds / naive_s:.2f} s of video per s"
        )
        ratios[gop] = naive_s / vigil_s
        print(f"  ratio gop={gop}: {ratios[gop]:.1f}")
    print(f"ratio_vs_naive={ratios[30]:.1f}")


if __name__ == "__main__":
    main()
