"""The video analyser on real detectors: near-duplicate frames, early stop, the whole-video
decision, and blurred segment thumbnails."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from tests.conftest import TEST_POLICIES
from tests.videos import clip, write
from vigil.media.video_formats import MP4
from vigil.media.video_open import open_video
from vigil.policy.context import resolve_context
from vigil.policy.loader import PolicyStore, parse_policy
from vigil.policy.model import Policy
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.video.analysis import VideoAnalyzer, VideoReport
from vigil.settings import Settings

STILL = [("coffee", 4)]  # one photo, no camera motion: every sampled frame looks alike
SCENES = [("astronaut", 2), ("colorwheel", 2), ("coffee", 2)]


def analyse(
    tmp_path: Path,
    engine: ModerationEngine,
    scenes: list[tuple[str, float]],
    policy: Policy,
    pan: bool = True,
    **settings: object,
) -> VideoReport:
    chosen = Settings(min_confidence=1, **settings)  # type: ignore[arg-type]
    path = write(tmp_path / "clip.mp4", clip(scenes, pan=pan))
    context = resolve_context(policy, {}, datetime.now(UTC))
    return VideoAnalyzer(engine, chosen).analyze(
        open_video(path, MP4, chosen), MP4, policy, context, "sha"
    )


def default_policy() -> Policy:
    return PolicyStore(None).get("default")


def test_near_identical_frames_reuse_labels(tmp_path: Path, engine: ModerationEngine) -> None:
    report = analyse(tmp_path, engine, STILL, default_policy(), pan=False)
    assert len(report.frames) == 4
    assert report.frames_analyzed == 1
    assert [frame.duplicate_of for frame in report.frames] == [None, 0, 0, 0]
    assert all(frame.labels == report.frames[0].labels for frame in report.frames)
    every = analyse(tmp_path, engine, STILL, default_policy(), pan=False, video_dedupe_distance=-1)
    assert every.frames_analyzed == 4


def test_early_stop_ends_at_the_first_blocked_frame(
    tmp_path: Path, engine: ModerationEngine
) -> None:
    block_all = parse_policy(TEST_POLICIES["block-all"])
    full = analyse(tmp_path, engine, SCENES, block_all, video_batch_size=2)
    stopped = analyse(
        tmp_path, engine, SCENES, block_all, video_batch_size=2, video_early_stop=True
    )
    assert len(full.frames) == 6 and full.early_stop_ms is None
    assert stopped.early_stop_ms == 0 and len(stopped.frames) == 1
    assert "stopped early at 0 ms" in stopped.status_message()
    assert stopped.result is not None and stopped.result.decision.action == "block"


def test_the_decision_judges_each_labels_best_score(
    tmp_path: Path, engine: ModerationEngine
) -> None:
    report = analyse(tmp_path, engine, SCENES, default_policy())
    assert report.result is not None
    best = {label.name: label.confidence for label in report.result.labels}
    for frame in report.frames:
        for label in frame.labels:
            assert label.confidence <= best[label.name] + 1e-6


def test_thumbnails_are_blurred_stills_of_segment_starts(
    tmp_path: Path, engine: ModerationEngine
) -> None:
    report = analyse(tmp_path, engine, SCENES, default_policy())
    starts = {segment.start_ms for segment in report.segments}
    assert report.thumbnails and set(report.thumbnails) <= starts
    thumb = Image.open(io.BytesIO(report.thumbnails[0])).convert("L")
    assert max(thumb.size) == 320
    edges = np.asarray(thumb.filter(ImageFilter.FIND_EDGES), dtype=np.float32)
    assert edges.mean() < 4  # a blurred image has almost no edges left
