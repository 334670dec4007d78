"""Test videos made with PyAV from scikit-image's sample photos, and broken ones.

A clip is a sequence of scenes; each scene shows one photo panning slowly, so sampled frames
within a scene look alike (the near-duplicate skipping sees them) and scene cuts are real.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image
from skimage import data

PHOTOS = {
    "astronaut": data.astronaut,
    "chelsea": data.chelsea,
    "coffee": data.coffee,
    "rocket": data.rocket,
    "colorwheel": data.colorwheel,
    "cat": data.cat,
}


def photo(name: str) -> Image.Image:
    pixels = PHOTOS[name]()
    return Image.fromarray(np.asarray(pixels)).convert("RGB")


def scene_frames(
    scenes: Sequence[tuple[str, float]], size: tuple[int, int], fps: int, pan: bool = True
) -> list[Image.Image]:
    """Frames for (photo name, seconds) scenes, each photo panning left to right (or still)."""
    width, height = size
    frames: list[Image.Image] = []
    for name, seconds in scenes:
        source = photo(name).resize((width * 5 // 4, height * 5 // 4))
        count = max(1, round(seconds * fps))
        for n in range(count):
            left = round(n * (source.width - width) / count) if pan else 0
            frames.append(source.crop((left, 0, left + width, height)))
    return frames


def encode_clip(
    frames: Sequence[Image.Image],
    fmt: str = "mp4",
    codec: str = "libx264",
    fps: int = 15,
    gop: int | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    """The frames encoded into a container (``mp4``, ``mov``, ``webm``, ``matroska``, ``avi``)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        stream.gop_size = gop or fps
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", **(options or {})}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def clip(
    scenes: Sequence[tuple[str, float]] = (("astronaut", 2), ("colorwheel", 2), ("coffee", 2)),
    size: tuple[int, int] = (320, 240),
    fps: int = 15,
    pan: bool = True,
    **encode_options: object,
) -> bytes:
    frames = scene_frames(scenes, size, fps, pan)
    return encode_clip(frames, fps=fps, **encode_options)  # type: ignore[arg-type]


def animation(
    fmt: str, names: Sequence[str] = ("astronaut", "colorwheel"), frame_ms: int = 500
) -> bytes:
    """An animated GIF or WebP: one frame per photo."""
    frames = [photo(name).resize((160, 160)) for name in names]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return out.getvalue()


def truncated(video: bytes, keep: float = 0.5) -> bytes:
    return video[: int(len(video) * keep)]


def unknown_codec_mkv() -> bytes:
    """A Matroska file whose video track names a codec no decoder knows."""
    mkv = encode_clip(scene_frames([("coffee", 1)], (160, 120), 10), fmt="matroska", fps=10)
    codec_id = b"V_MPEG4/ISO/AVC"
    assert codec_id in mkv
    return mkv.replace(codec_id, b"V_VIGIL/NOWHERE")


def empty_mp4() -> bytes:
    """An MP4 whose header was written and no frame ever followed (zero duration)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        container.start_encoding()
    return out.getvalue()


def write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


def mp4_box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body
