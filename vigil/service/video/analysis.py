"""Moderating a video: sampled frames through the same detectors and policy as images.

Frames go to the detectors in batches. A sampled frame that is nearly identical to the last
analysed one (perceptual hash within a setting's distance) reuses that frame's labels instead
of running the detectors again. The policy then decides once for the whole video, on each
label's highest score over all frames, and the segments of the deciding label are what caused
it. With early stop on, analysis ends at the first frame the policy would block on its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from PIL import Image, ImageFilter

from vigil.detectors.base import Detection
from vigil.labels import ModerationLabel, above, build_labels
from vigil.media.image import DecodedImage
from vigil.media.phash import dhash, distance
from vigil.media.video import Frame, FrameSource, Sampling, VideoMetadata
from vigil.media.video_formats import VideoKind
from vigil.policy.context import PolicyContext
from vigil.policy.model import Policy
from vigil.service.core.budget import NO_DEADLINE, Deadline
from vigil.service.engine.fusion import fuse
from vigil.service.engine.moderation import ModerationEngine, ModerationResult
from vigil.service.video.segments import FrameLabels, Segment, merge_segments
from vigil.settings import Settings

THUMBNAIL_SIDE = 320
THUMBNAIL_BLUR_RADIUS = 8
MAX_THUMBNAILS = 100


@dataclass
class VideoReport:
    """Everything one video's analysis found, and the policy's decision on it."""

    metadata: VideoMetadata
    frames: list[FrameLabels]
    segments: list[Segment]
    result: ModerationResult | None  # None when no frame could be decoded
    frames_decoded: int
    frames_analyzed: int  # frames the detectors ran on (the rest reused a neighbour's labels)
    stopped: str | None  # why decoding ended early, if it did
    early_stop_ms: int | None  # set when analysis stopped at a certain block
    keyframes_only: bool
    thumbnails: dict[int, bytes] = field(default_factory=dict)  # segment start ms -> JPEG

    decoded_until_ms: int = 0  # the last frame decoding reached

    def status_message(self) -> str:
        parts = [
            f"{len(self.frames)} frames sampled, {self.frames_analyzed} analysed, "
            f"{len(self.segments)} segments"
        ]
        if self.stopped:
            parts.append(f"{self.stopped}; the labels cover 0-{self.decoded_until_ms} ms")
        if self.early_stop_ms is not None:
            parts.append(f"stopped early at {self.early_stop_ms} ms: a frame is certainly blocked")
        return "; ".join(parts)


@dataclass
class _Analysis:
    """Running state while frames stream through."""

    frames: list[FrameLabels] = field(default_factory=list)
    best: dict[tuple[str, str], Detection] = field(default_factory=dict)
    flagged_images: dict[int, Image.Image] = field(default_factory=dict)
    last_seen: dict[str, int] = field(default_factory=dict)  # label -> last timestamp
    first_image: Image.Image | None = None
    analysed: int = 0
    last_hash: int | None = None
    last_labels: list[ModerationLabel] = field(default_factory=list)
    last_timestamp: int | None = None
    early_stop_ms: int | None = None


class VideoAnalyzer:
    def __init__(self, engine: ModerationEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def analyze(
        self,
        source: FrameSource,
        kind: VideoKind,
        policy: Policy,
        context: PolicyContext,
        sha256: str,
        deadline: Deadline = NO_DEADLINE,
    ) -> VideoReport:
        """The report of the frames worth analysing; TimeBudgetExceeded once ``deadline``
        passes, checked after each decoded frame and each detector batch."""
        state = _Analysis()
        batch: list[Frame] = []
        for frame in source.frames():
            deadline.check(f"decoding the frame at {frame.timestamp_ms} ms")
            batch.append(frame)
            if len(batch) >= self.settings.video_batch_size:
                deadline.check("running the detectors")
                if self._run(batch, state, policy, context, sha256):
                    break
                batch = []
        else:
            if batch:
                deadline.check("running the detectors")
                self._run(batch, state, policy, context, sha256)
        return self._report(source, kind, state, policy, context, sha256)

    def _run(
        self,
        batch: list[Frame],
        state: _Analysis,
        policy: Policy,
        context: PolicyContext,
        sha256: str,
    ) -> bool:
        """Analyse one batch; True when early stop says to go no further."""
        fresh = self._fresh_frames(batch, state)
        chosen = [self.engine.chosen(policy)] * len(fresh)  # on-demand ones where it needs them
        found = self.engine.detect([_decoded(batch[i]) for i in fresh], chosen=chosen)
        detections = dict(zip(fresh, found, strict=True))
        # --- hash lists (docs/hashlists.md): each analysed frame is matched, with its time
        detections = {i: self._listed(batch[i], found) for i, found in detections.items()}
        # --- end hash lists
        state.analysed += len(fresh)
        for index, frame in enumerate(batch):
            if state.first_image is None:
                state.first_image = frame.image
            if index in detections:
                labels = self._frame_labels(detections[index], state)
                duplicate_of = None
                state.last_labels, state.last_timestamp = labels, frame.timestamp_ms
                if self._certainly_blocked(detections[index], frame, policy, context, sha256):
                    state.early_stop_ms = frame.timestamp_ms
            else:
                labels, duplicate_of = state.last_labels, state.last_timestamp
            state.frames.append(FrameLabels(frame.timestamp_ms, labels, duplicate_of))
            self._keep_segment_start(frame, labels, state)
            if state.early_stop_ms is not None:
                return True
        return False

    def _listed(self, frame: Frame, found: list[Detection]) -> list[Detection]:
        """Hash lists: the frame's detections and its block and review list matches."""
        known = self.engine.known
        if known is None:
            return found
        check = known.check(_decoded(frame), found, frame.timestamp_ms)
        return [*found, *check.matches]

    def _keep_segment_start(
        self, frame: Frame, labels: list[ModerationLabel], state: _Analysis
    ) -> None:
        """Keep a small copy of each frame that starts a segment (a label not seen within the
        segment gap before it), for the segment thumbnails."""
        gap = self.settings.video_segment_gap_ms
        starts = any(
            frame.timestamp_ms - state.last_seen.get(label.name, -gap - 1) > gap for label in labels
        )
        for label in labels:
            state.last_seen[label.name] = frame.timestamp_ms
        if starts and len(state.flagged_images) < MAX_THUMBNAILS:
            small = frame.image.copy()
            small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            state.flagged_images[frame.timestamp_ms] = small

    def _fresh_frames(self, batch: list[Frame], state: _Analysis) -> list[int]:
        """Indexes of the frames that need the detectors: the others look like the last
        analysed frame (scene changes always count as fresh)."""
        fresh: list[int] = []
        limit = self.settings.video_dedupe_distance
        for index, frame in enumerate(batch):
            digest = dhash(frame.image)
            similar = (
                limit >= 0
                and not frame.scene_change
                and state.last_hash is not None
                and distance(digest, state.last_hash) <= limit
            )
            if not similar:
                fresh.append(index)
                state.last_hash = digest
        return fresh

    def _frame_labels(self, detections: list[Detection], state: _Analysis) -> list[ModerationLabel]:
        for found in detections:
            key = (found.detector, found.label)
            held = state.best.get(key)
            if held is None or found.confidence > held.confidence:
                state.best[key] = found
        ran = {detector.name for detector in self.engine.detectors}
        fused = fuse(detections, ran, enabled=self.settings.fusion).detections
        return above(build_labels(fused), self.settings.min_confidence)

    def _certainly_blocked(
        self,
        detections: list[Detection],
        frame: Frame,
        policy: Policy,
        context: PolicyContext,
        sha256: str,
    ) -> bool:
        if not self.settings.video_early_stop:
            return False
        image = _decoded(frame)
        decision = self.engine.decide(image, detections, policy, context, sha256).decision
        return decision.action == "block"

    def _report(
        self,
        source: FrameSource,
        kind: VideoKind,
        state: _Analysis,
        policy: Policy,
        context: PolicyContext,
        sha256: str,
    ) -> VideoReport:
        metadata = source.metadata
        interval = Sampling.from_settings(self.settings).interval_ms
        segments = merge_segments(
            state.frames, interval, self.settings.video_segment_gap_ms, metadata.duration_ms
        )
        result = None
        if state.first_image is not None:
            image = DecodedImage(
                state.first_image, kind.format, kind.mime, metadata.width, metadata.height, 0
            )
            found, chosen = list(state.best.values()), self.engine.chosen(policy)
            result = self.engine.decide(image, found, policy, context, sha256, chosen)
        return VideoReport(
            metadata=metadata,
            frames=state.frames,
            segments=segments,
            result=result,
            frames_decoded=source.progress.frames_decoded,
            frames_analyzed=state.analysed,
            stopped=source.progress.stopped,
            early_stop_ms=state.early_stop_ms,
            keyframes_only=source.progress.keyframes_only,
            thumbnails=_thumbnails(segments, state.flagged_images),
            decoded_until_ms=source.progress.last_timestamp_ms or 0,
        )


def _decoded(frame: Frame) -> DecodedImage:
    image = frame.image
    return DecodedImage(image, "video-frame", "image/x-video-frame", image.width, image.height, 0)


def _thumbnails(segments: Iterable[Segment], images: dict[int, Image.Image]) -> dict[int, bytes]:
    """A blurred JPEG of the first frame of each segment, blurred here so that an unblurred
    frame is never stored for the review console."""
    starts = sorted({segment.start_ms for segment in segments if segment.start_ms in images})
    return {start: blurred_jpeg(images[start]) for start in starts[:MAX_THUMBNAILS]}


def blurred_jpeg(image: Image.Image) -> bytes:
    """``image`` (a kept segment start, already at most THUMBNAIL_SIDE) blurred, as JPEG."""
    blurred = image.filter(ImageFilter.GaussianBlur(THUMBNAIL_BLUR_RADIUS))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=80)
    return out.getvalue()
