"""Animated GIF and WebP as videos: every frame, with the timing the file declares."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageSequence

from vigil.errors import CorruptVideo, VideoTooLarge, VigilError
from vigil.media.video import (
    DecodeProgress,
    Frame,
    FrameSelector,
    Sampling,
    VideoInput,
    VideoLimits,
    VideoMetadata,
    analysis_size,
    check_limits,
    rewound,
)

# Browsers show frames that declare 0-10 ms for 100 ms; so do we, for their timestamps.
_MIN_FRAME_MS = 20
_DEFAULT_FRAME_MS = 100
# Pillow composites every frame onto the full logical screen, whatever size the frame itself
# declares, so reading an animation costs the screen's pixels times its frames: a 9 KB GIF
# with a 9000x9000 screen and hundreds of 1x1 frames kept a worker busy for over a minute.
MAX_FRAMES = 10_000
MAX_COMPOSITED_PIXELS = 1_000_000_000


class AnimationSource:
    """Frames of an animated GIF or WebP through Pillow."""

    def __init__(self, path: VideoInput, format_name: str, limits: VideoLimits, sampling: Sampling):
        self.path = path
        self.sampling = sampling
        self.progress = DecodeProgress()
        try:
            with Image.open(rewound(path)) as opened:
                width, height = opened.size
                # n_frames walks the frame headers only: checked before any frame is read.
                check_canvas(width, height, int(getattr(opened, "n_frames", 1)), limits)
                durations = [_frame_ms(frame) for frame in ImageSequence.Iterator(opened)]
        except VigilError:
            raise
        except Exception as error:
            raise CorruptVideo(f"The animation could not be read: {error}") from None
        total = sum(durations)
        self._durations = durations
        self.metadata = VideoMetadata(
            codec=format_name,
            duration_ms=total,
            format=format_name,
            frame_rate=len(durations) * 1000 / total if total else 0.0,
            width=width,
            height=height,
        )
        check_limits(self.metadata, limits)

    def frames(self) -> Iterator[Frame]:
        selector = FrameSelector(self.sampling)
        size = analysis_size(self.metadata.width, self.metadata.height)
        timestamp = 0
        try:
            with Image.open(rewound(self.path)) as opened:
                for frame, duration in zip(
                    ImageSequence.Iterator(opened), self._durations, strict=False
                ):
                    rgb = frame.convert("RGB").resize(size, Image.Resampling.BILINEAR)
                    self.progress.frames_decoded += 1
                    self.progress.last_timestamp_ms = timestamp
                    luma = np.asarray(rgb.convert("L").resize((80, 45)))
                    chosen, scene = selector.choose(timestamp, luma)
                    if chosen:
                        yield Frame(timestamp, rgb, scene)
                    timestamp += duration
        except (OSError, ValueError) as error:
            self.progress.stopped = f"decoding stopped: {error}"


def check_canvas(width: int, height: int, frames: int, limits: VideoLimits) -> None:
    """VideoTooLarge for a logical screen, frame count or composited total over the limits."""
    if max(width, height) > limits.max_side:
        raise VideoTooLarge(
            f"The animation's screen is {width}x{height}; the limit is {limits.max_side} "
            "pixels a side."
        )
    if frames > MAX_FRAMES:
        raise VideoTooLarge(f"The animation has {frames} frames; the limit is {MAX_FRAMES}.")
    if width * height * frames > MAX_COMPOSITED_PIXELS:
        raise VideoTooLarge(
            f"The animation's {frames} frames on a {width}x{height} screen are "
            f"{width * height * frames} pixels to composite; the limit is "
            f"{MAX_COMPOSITED_PIXELS}."
        )


def _frame_ms(frame: Image.Image) -> int:
    declared = int(frame.info.get("duration") or 0)
    return declared if declared >= _MIN_FRAME_MS else _DEFAULT_FRAME_MS
