"""Decoding every frame skips frames nothing refers to (B-frames): fewer frames decoded, the
same samples and scene changes, give or take a frame."""

from __future__ import annotations

from pathlib import Path

from tests.videos import clip, write
from vigil.media.video import Frame, PyAVSource, Sampling, VideoLimits

LIMITS = VideoLimits(max_duration_s=600, max_side=4096)
ONE_A_SECOND = Sampling(interval_ms=1000, scene_threshold=20)
SCENES = [("astronaut", 3), ("coffee", 3), ("chelsea", 3)]
# Keyframes far apart, so every frame is decoded; B-frames that are never references.
SPARSE_KEYS = {"gop": 250}
B_FRAMES = {"x264-params": "bframes=3:b-pyramid=none:scenecut=0"}
# Reference frames come every 4th frame: a sample or a scene cut is seen up to 3 frames late,
# and a late scene sample moves the next due time too.
REFERENCE_GAP_MS = 4 * 1000 / 15


def samples(path: Path, sampling: Sampling = ONE_A_SECOND) -> tuple[PyAVSource, list[Frame]]:
    source = PyAVSource(path, "mp4", LIMITS, sampling)
    return source, list(source.frames())


def test_non_reference_frames_are_not_decoded(tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.mp4", clip(SCENES, **SPARSE_KEYS))  # type: ignore[arg-type]
    with_b = write(
        tmp_path / "b.mp4",
        clip(SCENES, **SPARSE_KEYS, options=B_FRAMES),  # type: ignore[arg-type]
    )
    full, expected = samples(plain)
    skipping, got = samples(with_b)
    assert not skipping.progress.keyframes_only
    assert full.progress.frames_decoded == 135
    assert skipping.progress.frames_decoded < 0.5 * 135
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert abs(mine.timestamp_ms - theirs.timestamp_ms) <= 2 * REFERENCE_GAP_MS
        assert mine.scene_change == theirs.scene_change


def test_sampling_every_frame_decodes_every_frame(tmp_path: Path) -> None:
    with_b = write(
        tmp_path / "b.mp4",
        clip(SCENES, **SPARSE_KEYS, options=B_FRAMES),  # type: ignore[arg-type]
    )
    source, got = samples(with_b, Sampling(interval_ms=50, scene_threshold=20))
    assert source.progress.frames_decoded == 135
    assert len(got) == 135
