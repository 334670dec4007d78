"""Video intake: container sniffing, metadata, limits, frame sampling and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.images import astronaut_jpeg, chelsea_png
from tests.videos import (
    animation,
    clip,
    empty_mp4,
    encode_clip,
    scene_frames,
    truncated,
    unknown_codec_mkv,
    write,
)
from vigil.errors import CorruptVideo, UnsupportedVideo, VideoTooLarge
from vigil.media.sniff import image_kind
from vigil.media.video import PyAVSource, Sampling, VideoLimits
from vigil.media.video_formats import (
    ANIMATED_GIF,
    ANIMATED_WEBP,
    AVI,
    MKV,
    MOV,
    MP4,
    WEBM,
    VideoKind,
    animated_kind,
    sniff_video,
)
from vigil.media.video_open import open_video
from vigil.settings import Settings

LIMITS = VideoLimits(max_duration_s=600, max_side=4096)
ONE_A_SECOND = Sampling(interval_ms=1000, scene_threshold=20)
SMALL = [("astronaut", 2), ("coffee", 2), ("chelsea", 2)]


def frames_of(path: Path, fmt: str = "mp4", sampling: Sampling = ONE_A_SECOND) -> PyAVSource:
    return PyAVSource(path, fmt, LIMITS, sampling)


@pytest.mark.parametrize(
    ("container", "codec", "expected"),
    [
        ("mp4", "libx264", MP4),
        ("mov", "libx264", MOV),
        ("webm", "libvpx", WEBM),
        ("matroska", "libx264", MKV),
        ("avi", "mpeg4", AVI),
    ],
)
def test_containers_are_told_apart_by_their_bytes(
    tmp_path: Path, container: str, codec: str, expected: VideoKind
) -> None:
    payload = encode_clip(scene_frames(SMALL, (160, 120), 10), fmt=container, codec=codec, fps=10)
    assert sniff_video(payload[:4096]) == expected
    source = frames_of(write(tmp_path / "clip", payload), expected.format)
    assert [frame.timestamp_ms for frame in source.frames()][:6] == [
        0,
        1000,
        2000,
        3000,
        4000,
        5000,
    ]


def test_images_are_not_videos() -> None:
    for image in (astronaut_jpeg(), chelsea_png()):
        assert sniff_video(image[:4096]) is None


def test_animated_gif_and_webp_are_videos_and_still_ones_are_not() -> None:
    for fmt, expected in (("GIF", ANIMATED_GIF), ("WEBP", ANIMATED_WEBP)):
        moving = animation(fmt)
        kind = image_kind(moving)
        assert kind is not None
        assert animated_kind(moving, kind) == expected
        still = animation(fmt, names=("coffee",))
        assert animated_kind(still, kind) is None


def test_metadata_in_rekognitions_shape(tmp_path: Path) -> None:
    source = frames_of(write(tmp_path / "clip.mp4", clip(SMALL, size=(320, 240), fps=15)))
    assert source.metadata.to_dict() == {
        "Codec": "h264",
        "DurationMillis": 6000,
        "Format": "mp4",
        "FrameRate": 15.0,
        "FrameHeight": 240,
        "FrameWidth": 320,
    }


def test_dense_keyframes_are_decoded_alone_and_sample_like_full_decoding(tmp_path: Path) -> None:
    dense = frames_of(write(tmp_path / "dense.mp4", clip(SMALL, gop=15)))
    sparse = frames_of(write(tmp_path / "sparse.mp4", clip(SMALL, gop=300)))
    assert dense.progress.keyframes_only and not sparse.progress.keyframes_only
    dense_times = [frame.timestamp_ms for frame in dense.frames()]
    sparse_times = [frame.timestamp_ms for frame in sparse.frames()]
    assert dense_times == [0, 1000, 2000, 3000, 4000, 5000]
    assert set(dense_times) <= set(sparse_times)
    assert dense.progress.frames_decoded == 6  # keyframes only
    assert sparse.progress.frames_decoded == 90  # every frame


def test_a_scene_cut_between_samples_is_sampled_too(tmp_path: Path) -> None:
    cut_mid_interval = [("astronaut", 1.5), ("coffee", 1.5)]
    source = frames_of(write(tmp_path / "cut.mp4", clip(cut_mid_interval, gop=300)))
    frames = list(source.frames())
    times = [frame.timestamp_ms for frame in frames]
    assert times[:2] == [0, 1000]
    cut = [frame.timestamp_ms for frame in frames if frame.scene_change]
    assert cut == [1467]  # frame 22 of 15 fps: the first frame of the second photo
    assert 1467 in times


def test_camera_motion_is_not_a_scene_change(tmp_path: Path) -> None:
    panning = frames_of(write(tmp_path / "pan.mp4", clip([("astronaut", 4)], gop=300)))
    assert not any(frame.scene_change for frame in panning.frames())


def test_sampling_rate_is_a_setting(tmp_path: Path) -> None:
    path = write(tmp_path / "clip.mp4", clip(SMALL, gop=300))
    twice = Sampling(interval_ms=500, scene_threshold=255)
    times = [frame.timestamp_ms for frame in frames_of(path, sampling=twice).frames()]
    assert len(times) == 12


def test_frames_are_scaled_for_the_detectors(tmp_path: Path) -> None:
    path = write(tmp_path / "big.mp4", clip([("coffee", 1)], size=(1280, 720)))
    (first,) = list(frames_of(path).frames())
    assert first.image.size == (640, 360)
    assert first.image.mode == "RGB"


def test_limits_are_checked_before_decoding(tmp_path: Path) -> None:
    path = write(tmp_path / "clip.mp4", clip(SMALL, size=(320, 240)))
    with pytest.raises(VideoTooLarge, match="lasts 6 s; the limit is 5 s"):
        PyAVSource(path, "mp4", VideoLimits(max_duration_s=5, max_side=4096), ONE_A_SECOND)
    with pytest.raises(VideoTooLarge, match="320x240"):
        PyAVSource(path, "mp4", VideoLimits(max_duration_s=60, max_side=300), ONE_A_SECOND)


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        (lambda: truncated(clip(SMALL), 0.5), CorruptVideo, "could not be read as a video"),
        (unknown_codec_mkv, UnsupportedVideo, "codec"),
        (empty_mp4, UnsupportedVideo, "no video stream"),
        (lambda: b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100, CorruptVideo, "could not be read"),
    ],
    ids=["truncated-mp4", "unknown-codec", "no-frames", "header-only"],
)
def test_broken_videos_are_refused_clearly(
    tmp_path: Path, payload: object, error: type[Exception], message: str
) -> None:
    path = write(tmp_path / "bad", payload())  # type: ignore[operator]
    with pytest.raises(error, match=message):
        source = PyAVSource(path, "mp4", LIMITS, ONE_A_SECOND)
        list(source.frames())


def test_a_truncated_stream_reports_what_it_saw_and_where_it_stopped(tmp_path: Path) -> None:
    whole = encode_clip(scene_frames(SMALL * 2, (320, 240), 15), fmt="matroska")
    source = frames_of(write(tmp_path / "cut.mkv", truncated(whole, 0.5)), "mkv")
    times = [frame.timestamp_ms for frame in source.frames()]
    assert times and times[-1] < 12_000
    assert source.progress.stopped is not None
    assert "ends early" in source.progress.stopped


def test_animated_frames_keep_their_timing(tmp_path: Path) -> None:
    path = write(tmp_path / "a.gif", animation("GIF", ("astronaut", "coffee", "chelsea"), 700))
    no_scene_cuts = Settings(video_scene_threshold=255)
    source = open_video(path, ANIMATED_GIF, no_scene_cuts)
    assert source.metadata.duration_ms == 2100
    assert [frame.timestamp_ms for frame in source.frames()] == [0, 1400]  # one a second
    every_cut = open_video(path, ANIMATED_GIF, Settings())
    assert [frame.timestamp_ms for frame in every_cut.frames()] == [0, 700, 1400]
