"""Choosing the frame source for a video file by its sniffed kind."""

from __future__ import annotations

from vigil.media.animation import AnimationSource
from vigil.media.video import FrameSource, PyAVSource, Sampling, VideoInput, VideoLimits
from vigil.media.video_formats import ANIMATED_GIF, ANIMATED_WEBP, VideoKind
from vigil.settings import Settings


def open_video(path: VideoInput, kind: VideoKind, settings: Settings) -> FrameSource:
    """Metadata read and limits checked; frames come when asked for. Refusals are
    CorruptVideo, UnsupportedVideo or VideoTooLarge with a message that says why."""
    limits, sampling = VideoLimits.from_settings(settings), Sampling.from_settings(settings)
    if kind in (ANIMATED_GIF, ANIMATED_WEBP):
        return AnimationSource(path, kind.format, limits, sampling)
    return PyAVSource(path, kind.format, limits, sampling)
