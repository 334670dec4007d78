"""Animated GIF and WebP as videos: every frame, with the timing the file declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from vigil.errors import CorruptVideo
from vigil.media.video import (
    DecodeProgress,
    Frame,
    FrameSelector,
    Sampling,
    VideoLimits,
    VideoMetadata,
    analysis_size,
    check_limits,
)

# Browsers show frames that declare 0-10 ms for 100 ms; so do we, for their timestamps.
_MIN_FRAME_MS = 20
_DEFAULT_FRAME_MS = 100


class AnimationSource:
    """Frames of an animated GIF or WebP through Pillow."""

    def __init__(self, path: Path, format_name: str, limits: VideoLimits, sampling: Sampling):
        self.path = path
        self.sampling = sampling
        self.progress = DecodeProgress()
        try:
            with Image.open(path) as opened:
                durations = [_frame_ms(frame) for frame in ImageSequence.Iterator(opened)]
                width, height = opened.size
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
            with Image.open(self.path) as opened:
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


def _frame_ms(frame: Image.Image) -> int:
    declared = int(frame.info.get("duration") or 0)
    return declared if declared >= _MIN_FRAME_MS else _DEFAULT_FRAME_MS
