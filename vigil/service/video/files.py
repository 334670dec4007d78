"""Moderating a video file in this process, without storing anything (`vigil moderate`,
`vigil scan`): the same analysis the worker runs on uploads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.errors import CorruptVideo
from vigil.labels import above
from vigil.media.video_formats import VideoKind, video_kind
from vigil.policy.context import resolve_context

# PyAV (a tenth of a second to import) only once a file is a video: `vigil moderate` and
# `vigil scan` ask every file ``video_kind_of`` first, and most are images.
if TYPE_CHECKING:
    from vigil.policy.model import Policy
    from vigil.service.engine.moderation import ModerationEngine
    from vigil.service.video.analysis import VideoReport

HEAD_BYTES = 64 * 1024


def video_kind_of(path: Path) -> VideoKind | None:
    """The file's video kind, or None when it is not a video (an image, or anything else)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    return video_kind(head, path.read_bytes)


def moderate_video_file(
    path: Path,
    kind: VideoKind,
    engine: ModerationEngine,
    policy: Policy,
    context: Mapping[str, str] | None = None,
    min_confidence: float | None = None,
) -> VideoReport:
    """``min_confidence`` (default: the setting) is the floor for per-frame labels and so
    for segments."""
    from vigil.media.video_open import open_video
    from vigil.service.video.analysis import VideoAnalyzer

    resolved = resolve_context(policy, context or {}, datetime.now(UTC))
    settings = engine.settings
    if min_confidence is not None:
        settings = settings.model_copy(update={"min_confidence": min_confidence})
    source = open_video(path, kind, settings)
    report = VideoAnalyzer(engine, settings).analyze(
        source, kind, policy, resolved, "file:" + str(path)
    )
    if report.result is None:
        raise CorruptVideo(f"No frame of the video could be decoded ({report.stopped}).")
    return report


def report_dict(report: VideoReport, min_confidence: float) -> dict[str, Any]:
    """The JSON shape `vigil moderate` prints for a video."""
    assert report.result is not None
    return {
        "VideoMetadata": report.metadata.to_dict(),
        "ModerationLabels": [
            label.to_dict() for label in above(report.result.labels, min_confidence)
        ],
        "Segments": [
            segment.to_dict() for segment in report.segments if segment.confidence >= min_confidence
        ],
        "ModerationModelVersion": report.result.model_version,
        "StatusMessage": report.status_message(),
        "FramesDecoded": report.frames_decoded,
        "FramesAnalyzed": report.frames_analyzed,
        "decision": report.result.decision.to_dict(),
    }
