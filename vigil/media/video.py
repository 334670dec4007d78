"""Reading videos: metadata, limits, and the frames worth analysing.

A video is never decoded whole into memory. Frames are sampled at a fixed rate (one a second
by default) plus every scene change, and the rest are only looked at, cheaply, to notice scene
changes. When the file's keyframes are at least as frequent as the sampling rate (phones write
one a second; encoders add one at each scene cut), only keyframes are decoded at all, which
skips most of the decoding work; otherwise every frame that others refer to is decoded (frames
nothing refers to, most B-frames, are skipped) and most are dropped at once.

Decoding errors part-way do not lose what was seen: the source records where it stopped and
why, and the frames before that are analysed as usual.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import av
import numpy as np
from PIL import Image

from vigil.errors import CorruptVideo, UnsupportedVideo, VideoTooLarge
from vigil.settings import Settings

# Frames handed to the detectors are scaled so their longest side is at most this: every
# bundled detector works at 320 px or less, and smaller frames convert and resize faster.
ANALYSIS_SIDE = 640
# Scene changes are judged on luma subsampled to roughly this many pixels across.
_SCENE_PROBE_WIDTH = 80
# Non-reference frames are skipped when decoding every frame only if samples are at least this
# many frames apart (x264's default puts up to 3 B-frames in a row).
NONREF_MIN_FRAMES_PER_SAMPLE = 8

# Where a video is read from: a file's path, or a seekable file object (a blob in S3 read
# with ranged requests, vigil.storage), so the bytes are never copied first.
VideoInput = Path | BinaryIO


def rewound(source: VideoInput) -> str | BinaryIO:
    """What a reader opens: the path, or the file object back at its start (sources read
    the file more than once: the header and packet index, then the frames)."""
    if isinstance(source, Path):
        return str(source)
    source.seek(0)
    return source


@dataclass(frozen=True)
class VideoLimits:
    max_duration_s: float
    max_side: int

    @classmethod
    def from_settings(cls, settings: Settings) -> VideoLimits:
        return cls(settings.video_max_duration_seconds, settings.video_max_side)


@dataclass(frozen=True)
class Sampling:
    interval_ms: int  # one frame per interval, besides scene changes
    scene_threshold: float  # share of the luma histogram that changed, 0-100

    @classmethod
    def from_settings(cls, settings: Settings) -> Sampling:
        fps = settings.video_sample_fps
        return cls(max(1, round(1000 / fps)), settings.video_scene_threshold)


@dataclass(frozen=True)
class VideoMetadata:
    codec: str
    duration_ms: int
    format: str
    frame_rate: float
    width: int
    height: int
    color_range: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Rekognition's ``VideoMetadata`` shape."""
        shape: dict[str, Any] = {
            "Codec": self.codec,
            "DurationMillis": self.duration_ms,
            "Format": self.format,
            "FrameRate": round(self.frame_rate, 3),
            "FrameHeight": self.height,
            "FrameWidth": self.width,
        }
        if self.color_range:
            shape["ColorRange"] = self.color_range
        return shape


@dataclass(frozen=True)
class Frame:
    """A sampled frame: RGB pixels (longest side at most ANALYSIS_SIDE) and when it shows."""

    timestamp_ms: int
    image: Image.Image
    scene_change: bool


@dataclass
class DecodeProgress:
    """How far decoding got; ``stopped`` says why it ended early, if it did."""

    frames_decoded: int = 0
    last_timestamp_ms: int | None = None
    stopped: str | None = None
    keyframes_only: bool = False


class FrameSource(Protocol):
    metadata: VideoMetadata
    progress: DecodeProgress

    def frames(self) -> Iterator[Frame]: ...


@dataclass
class FrameSelector:
    """Which decoded frames to analyse: one per interval, and every scene change.

    A scene change is judged on the luma histogram (how much of it moved, 0-100), which camera
    motion within a shot barely changes and a cut to another shot changes a lot; comparing
    pixels instead would take every pan for a cut.
    """

    sampling: Sampling
    next_due_ms: int = 0
    previous: np.ndarray[Any, np.dtype[np.float64]] | None = field(default=None)

    def choose(self, timestamp_ms: int, luma: np.ndarray[Any, Any]) -> tuple[bool, bool]:
        """(analyse this frame, it starts a new scene)."""
        counts, _ = np.histogram(luma, bins=32, range=(0, 256))
        histogram = counts / max(int(counts.sum()), 1)
        scene = (
            self.previous is not None
            and 50 * float(np.abs(histogram - self.previous).sum()) >= self.sampling.scene_threshold
        )
        self.previous = histogram
        if timestamp_ms >= self.next_due_ms or scene:
            self.next_due_ms = timestamp_ms + self.sampling.interval_ms
            return True, scene
        return False, False


def analysis_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, ANALYSIS_SIDE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


class PyAVSource:
    """Container formats through PyAV (FFmpeg's demuxers and decoders)."""

    def __init__(
        self, path: VideoInput, format_name: str, limits: VideoLimits, sampling: Sampling
    ) -> None:
        self.path = path
        self.sampling = sampling
        self.progress = DecodeProgress()
        with _opened(path) as container:
            stream = _video_stream(container)
            self.metadata = _metadata(container, stream, format_name)
            check_limits(self.metadata, limits)
            keyframes = _keyframe_times(container, stream)
        self.progress.keyframes_only = _keyframes_suffice(
            keyframes, self.metadata.duration_ms, sampling.interval_ms
        )

    def frames(self) -> Iterator[Frame]:
        selector = FrameSelector(self.sampling)
        size = analysis_size(self.metadata.width, self.metadata.height)
        with _opened(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for frame in self._decoded(container, stream):
                    timestamp = _timestamp_ms(frame)
                    if timestamp is None:
                        continue
                    self.progress.frames_decoded += 1
                    self.progress.last_timestamp_ms = timestamp
                    chosen, scene = selector.choose(timestamp, _luma(frame))
                    if chosen:
                        image = frame.reformat(width=size[0], height=size[1], format="rgb24")
                        yield Frame(timestamp, image.to_image(), scene)
            except av.FFmpegError as error:
                self.progress.stopped = f"decoding stopped: {_describe(error)}"
        self._note_early_end()

    def _decoded(self, container: Any, stream: Any) -> Iterator[Any]:
        if not self.progress.keyframes_only:
            if _nonref_skippable(self.metadata, self.sampling):
                # Frames no other frame refers to (most B-frames) are not needed to decode the
                # rest: skipping them about halves decoding with x264's default layout, and
                # moves a sample by a frame or two at most.
                stream.codec_context.skip_frame = "NONREF"
            yield from container.decode(stream)
            return
        for packet in container.demux(stream):
            if packet.is_keyframe or packet.size == 0:  # the empty packet flushes the decoder
                yield from packet.decode()

    def _note_early_end(self) -> None:
        """A file that ends before its declared duration (truncated) says so."""
        if self.progress.stopped or self.progress.last_timestamp_ms is None:
            return
        slack = max(2 * self.sampling.interval_ms, 2000)
        if self.progress.last_timestamp_ms + slack < self.metadata.duration_ms:
            self.progress.stopped = (
                f"the file ends early: frames stop at {self.progress.last_timestamp_ms} ms "
                f"of the declared {self.metadata.duration_ms} ms (truncated upload?)"
            )


@contextmanager
def _opened(path: VideoInput) -> Iterator[Any]:
    """``av.open`` with FFmpeg's failures turned into refusals a person understands."""
    try:
        # Tags are text for people, never decisions: bytes that are not UTF-8 (a WebM
        # written in Latin-1) are replaced rather than failing the whole video.
        container = av.open(rewound(path), mode="r", metadata_errors="replace")
    except av.FFmpegError as error:
        raise CorruptVideo(
            f"The file could not be read as a video ({_describe(error)}); it may be "
            "damaged or truncated."
        ) from None
    try:
        yield container
    finally:
        container.close()


def _video_stream(container: Any) -> Any:
    if not container.streams.video:
        raise UnsupportedVideo("The file has no video stream (audio only, or not a video).")
    stream = container.streams.video[0]
    codec = stream.codec_context
    if codec is None or not codec.name or codec.name == "none":
        raise UnsupportedVideo("The video's codec is not one this service can decode.")
    return stream


def _metadata(container: Any, stream: Any, format_name: str) -> VideoMetadata:
    codec = stream.codec_context
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    else:
        seconds = 0.0
    rate = stream.average_rate or stream.guessed_rate or Fraction(0)
    color_range = {1: "LIMITED", 2: "FULL"}.get(int(getattr(codec, "color_range", 0) or 0))
    return VideoMetadata(
        codec=codec.name,
        duration_ms=max(0, round(seconds * 1000)),
        format=format_name,
        frame_rate=float(rate),
        width=int(codec.width or 0),
        height=int(codec.height or 0),
        color_range=color_range,
    )


def check_limits(metadata: VideoMetadata, limits: VideoLimits) -> None:
    if metadata.width <= 0 or metadata.height <= 0:
        raise CorruptVideo("The video declares no frame size; it is damaged or not a video.")
    if metadata.duration_ms <= 0:
        raise CorruptVideo("The video has zero duration: there is nothing to moderate.")
    if metadata.duration_ms > limits.max_duration_s * 1000:
        raise VideoTooLarge(
            f"The video lasts {metadata.duration_ms / 1000:.0f} s; the limit is "
            f"{limits.max_duration_s:.0f} s."
        )
    if max(metadata.width, metadata.height) > limits.max_side:
        raise VideoTooLarge(
            f"The video is {metadata.width}x{metadata.height}; the longest side may be at most "
            f"{limits.max_side} pixels."
        )


def _keyframe_times(container: Any, stream: Any) -> list[int]:
    """Keyframe timestamps from the packets alone (no decoding: cheap)."""
    times: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.pts is not None:
                times.append(round(float(packet.pts * packet.time_base) * 1000))
    except av.FFmpegError:
        pass  # a damaged tail: decoding will say where it stops
    return times


def _keyframes_suffice(keyframes: list[int], duration_ms: int, interval_ms: int) -> bool:
    """Keyframes alone serve the sampling rate when no gap between them (or to the end) is
    longer than the sampling interval, with a little slack for rounding."""
    if len(keyframes) < 2:
        return False
    points = [*sorted(set(keyframes)), duration_ms]
    longest = max(later - earlier for earlier, later in itertools.pairwise(points))
    return longest <= interval_ms * 1.1


def _nonref_skippable(metadata: VideoMetadata, sampling: Sampling) -> bool:
    """Skipping non-reference frames leaves gaps of a few frames: fine while a sample is due
    only every several frames, not when sampling (nearly) every frame."""
    frame_ms = 1000 / metadata.frame_rate if metadata.frame_rate > 0 else math.inf
    return sampling.interval_ms >= NONREF_MIN_FRAMES_PER_SAMPLE * frame_ms


def _timestamp_ms(frame: Any) -> int | None:
    if frame.time is None:
        return None
    seconds = float(frame.time)
    return round(seconds * 1000) if math.isfinite(seconds) else None


def _luma(frame: Any) -> np.ndarray[Any, Any]:
    """A small luma image for scene-change tests: sliced out of the Y plane where the pixel
    format has one (no conversion), converted otherwise."""
    step = max(1, frame.width // _SCENE_PROBE_WIDTH)
    if frame.format.name.startswith(("yuv", "yuvj", "nv12")):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height : step, : frame.width : step]
    small = frame.reformat(
        width=max(1, frame.width // step), height=max(1, frame.height // step), format="gray"
    )
    return np.asarray(small.to_ndarray())


def _describe(error: Exception) -> str:
    """FFmpeg's reason without the file's path, which means nothing to the user."""
    reason = getattr(error, "strerror", None) or str(error).strip() or type(error).__name__
    return str(reason).split("; last error log:")[0][:300]
