"""Video moderation speed: vigil's default video pipeline against a naive frame loop.

Generates a 720p H.264 clip (2 minutes by default, 30 fps) with PyAV: scenes of 3 to 8
seconds, each one of scikit-image's sample photos slowly panning and zooming, with sensor
noise, so consecutive frames differ as in real footage. Then, on the same file:

- naive: decode every frame with PyAV and run vigil's `nsfw` detector on each, one by one
  (once: it is slow);
- in-process: `moderate_video_file` with the default settings, policy and all default
  detectors (what the worker runs on an upload, minus HTTP and storage), median of --runs;
- serve: `vigil serve` on 127.0.0.1 with local blob storage; each run uploads the clip over
  HTTP with `?wait=` and times upload to decision (the worker decodes the stored blob where it
  lies), median of --runs.

Three encodings are measured: `gop30`, one keyframe a second as phones record; `gop250`,
x264's default spacing of one keyframe every 250 frames with the `ultrafast` preset (which
turns off scene-cut keyframes and B-frames), where every frame must be decoded; and `x264`,
x264's default frame layout (keyframes every 250 frames and at scene cuts, up to 3 B-frames in
a row; the `veryfast` preset, whose layout is the default's). Each prints `ratio_vs_naive`
(naive seconds / vigil seconds) in-process and through serve.

Peak memory: the serve process's peak RSS (VmHWM, reset through /proc/<pid>/clear_refs
before each video) is printed for the clip and for the same clip repeated --repeat times
(a longer, larger file), then likewise for this process; the two should match.

Last line: `ratio_vs_naive=<x>` for gop30, in-process (as before).

Run: .venv/bin/python benchmarks/video.py [--seconds 120] [--runs 3] [--repeat 4] [--no-serve]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import httpx
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests.servers import VigilServer, start_vigil_serve

SIZE = (1280, 720)
FPS = 30
# name: (keyframe spacing in frames, x264 preset)
LAYOUTS = {"gop30": (30, "ultrafast"), "gop250": (250, "ultrafast"), "x264": (250, "veryfast")}
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


def make_clip(path: Path, seconds: int, gop: int, preset: str = "ultrafast", seed: int = 7) -> None:
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
        stream.options = {"preset": preset, "crf": "26"}
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


def remux(source: Path, target: Path, repeat: int = 1, tag: str = "") -> Path:
    """``source`` played ``repeat`` times into ``target`` without re-encoding (a longer file in
    seconds); ``tag`` (a title) makes the bytes differ, so no upload is taken for another."""
    with av.open(str(source)) as given, av.open(str(target), mode="w") as out:
        stream_in = given.streams.video[0]
        stream = out.add_stream_from_template(stream_in)
        out.metadata["title"] = tag
        packets = [packet for packet in given.demux(stream_in) if packet.size]
        times = sorted(packet.pts for packet in packets)
        frame = min(later - earlier for earlier, later in itertools.pairwise(times))
        # Past every pts and dts of a turn: B-frames start dts below 0 and after pts.
        span = times[-1] - min(packet.dts for packet in packets) + frame
        for turn in range(repeat):
            for packet in packets:
                packet.stream = stream
                packet.pts += span if turn else 0
                packet.dts += span if turn else 0
                out.mux(packet)
    return target


def upload_and_wait(server: VigilServer, path: Path) -> dict[str, object]:
    """One video over HTTP, answered once the worker decided it; its video result."""
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=900) as client:
        with path.open("rb") as body:
            answer = client.post("/v1/assets", params={"wait": 600}, files={"file": body})
        if answer.status_code != 201:
            raise RuntimeError(f"upload not decided in time: {answer.status_code} {answer.text}")
        result: dict[str, object] = client.get(f"/v1/assets/{answer.json()['id']}/video").json()
    if result["JobStatus"] != "SUCCEEDED":
        raise RuntimeError(f"video job failed: {result['StatusMessage']}")
    return result


def run_serve(server: VigilServer, path: Path, runs: int) -> float:
    """Median seconds from upload to decision; a distinct file each run."""
    copies = [remux(path, path.with_name(f"{path.stem}-{n}.mp4"), tag=str(n)) for n in range(runs)]
    times = []
    for copy in copies:
        started = time.perf_counter()
        result = upload_and_wait(server, copy)
        times.append(time.perf_counter() - started)
    print(f"    serve: {result['StatusMessage']}")
    return statistics.median(times)


def reset_peak_rss(pid: int) -> None:
    """Linux resets a process's VmHWM (peak RSS) to its current RSS on ``5`` here."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_check(
    server: VigilServer, path: Path, repeat: int, in_process: Callable[[Path], object]
) -> None:
    """Peak RSS for the clip and for a ``repeat`` times longer one: flat means the video is
    never held whole (by the job, the blob store or the decoder)."""
    longer = remux(path, path.with_name(f"{path.stem}-x{repeat}.mp4"), repeat, tag="long")
    clips = [path, longer]
    served = peaks(server.process.pid, lambda clip: upload_and_wait(server, clip), clips)
    here = peaks(os.getpid(), in_process, clips)
    for name, found in (("serve", served), ("in-process", here)):
        described = (
            f"{mb:.0f} MB for a {clip.stat().st_size / 1e6:.1f} MB video"
            for clip, mb in zip(clips, found, strict=True)
        )
        print(f"peak RSS {name}: " + ", ".join(described))


def peaks(pid: int, work: Callable[[Path], object], clips: list[Path]) -> list[float]:
    """The process's peak RSS in MB while ``work`` runs on each clip, the peak reset before."""
    found = []
    for clip in clips:
        reset_peak_rss(pid)
        work(clip)
        found.append(peak_rss_mb(pid))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=4, help="length factor of the RSS check")
    parser.add_argument("--no-serve", action="store_true", help="in-process only")
    args = parser.parse_args()
    settings = Settings()
    engine = ModerationEngine(settings)
    engine.load()
    policy = PolicyStore(None).get(settings.default_policy)
    folder = Path(tempfile.mkdtemp(prefix="vigil-video-bench-"))
    clips = {name: folder / f"clip-{name}.mp4" for name in LAYOUTS}
    naive, local = {}, {}
    for name, path in clips.items():
        make(path, args.seconds, name)
        local[name] = in_process(path, engine, policy, args)
        naive[name], frames = run_naive(path)
        print(f"  naive: {naive[name]:.2f} s for {frames} frames")
    served = {} if args.no_serve else serve_all(clips, folder, args, engine, policy)
    for name in clips:
        print(f"{name}: ratio_vs_naive in-process={naive[name] / local[name]:.1f}", end="")
        print(f", serve={naive[name] / served[name]:.1f}" if name in served else "")
    print(f"ratio_vs_naive={naive['gop30'] / local['gop30']:.1f}")


def make(path: Path, seconds: int, name: str) -> None:
    started = time.perf_counter()
    make_clip(path, seconds, *LAYOUTS[name])
    print(
        f"clip {name}: {seconds} s of {SIZE[0]}x{SIZE[1]} H.264 at {FPS} fps, "
        f"{path.stat().st_size / 1e6:.1f} MB, made in {time.perf_counter() - started:.1f} s"
    )


def in_process(
    path: Path, engine: ModerationEngine, policy: object, args: argparse.Namespace
) -> float:
    runs = [run_vigil(path, engine, policy) for _ in range(args.runs)]
    seconds = statistics.median(taken for taken, _ in runs)
    report = runs[0][1]
    print(
        f"  in-process: {seconds:.2f} s (median of {args.runs}), "
        f"{args.seconds / seconds:.1f} s of video per s; keyframes only: "
        f"{report.keyframes_only}; frames decoded {report.frames_decoded}, sampled "
        f"{len(report.frames)}, analysed {report.frames_analyzed}, segments "
        f"{len(report.segments)}"
    )
    return seconds


def serve_all(
    clips: dict[str, Path],
    folder: Path,
    args: argparse.Namespace,
    engine: ModerationEngine,
    policy: object,
) -> dict[str, float]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(folder / "data"), "VIGIL_WORKER_POLL_SECONDS": "0.1"}
    server = start_vigil_serve(env)
    try:
        upload_and_wait(server, remux(clips["gop30"], folder / "warm.mp4", tag="warm"))
        served = {}
        for name, path in clips.items():
            served[name] = run_serve(server, path, args.runs)
            print(
                f"  serve {name}: {served[name]:.2f} s upload to decision (median of {args.runs})"
            )
        rss_check(server, clips["x264"], args.repeat, lambda clip: run_vigil(clip, engine, policy))
        return served
    finally:
        server.stop()


if __name__ == "__main__":
    main()
