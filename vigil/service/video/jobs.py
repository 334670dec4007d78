"""The handler of ``moderate_video`` jobs: analyse a stored video, decide it, tell the world.

Like image jobs it is idempotent: the asset is decided with a compare-and-set on
``processing``, and the video's results, its ``video.completed`` event and the asset's own
event are written in that same transaction, so a redelivered job finds the work done. A video
that can't be read fails its job with a message (``JobStatus: FAILED``), never the worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.errors import CorruptVideo, StorageUnavailable, VigilError
from vigil.media.video import VideoInput
from vigil.media.video_formats import VideoKind
from vigil.media.video_open import open_video
from vigil.queue.jobs import Job
from vigil.queue.worker import one_at_a_time
from vigil.service.assets.processing import AssetProcessor, PolicyChoice, gave_up
from vigil.service.assets.rows import asset_view
from vigil.service.core.budget import Deadline
from vigil.service.core.events import VIDEO_COMPLETED, EventPublisher
from vigil.service.core.status import Status
from vigil.service.video.analysis import VideoAnalyzer, VideoReport
from vigil.settings import Settings
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, VideoRow

log = logging.getLogger(__name__)

MODERATE_VIDEO = "moderate_video"  # the job kind

SUCCEEDED, FAILED, IN_PROGRESS = "SUCCEEDED", "FAILED", "IN_PROGRESS"


class VideoProcessor:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        processor: AssetProcessor,
        events: EventPublisher,
        settings: Settings,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.processor = processor
        self.events = events
        self.settings = settings
        self.analyzer = VideoAnalyzer(processor.engine, settings)

    def process(self, jobs: Sequence[Job]) -> list[BaseException | None]:
        return one_at_a_time(self.handle)(jobs)

    def handle(self, job: Job) -> None:
        asset_id = str(job.payload["asset_id"])
        with self.db.session() as session:
            row = session.get(AssetRow, asset_id)
        if row is None or row.status != Status.PROCESSING:
            return  # decided by an earlier delivery
        kind = VideoKind(row.format, row.mime)
        started = time.monotonic()  # the budget counts reading from the blob store too
        # Decoded where it lies (a local file) or through ranged reads (S3): never copied
        # whole to disk or memory first, so a worker's footprint does not grow with the video.
        with self.blobs.open_for_read(Area(row.storage_area), row.id) as source:
            try:
                choice = self.processor.policy_choice(row, job.payload)
                report = self._analyze(source, kind, row, choice, started)
            except StorageUnavailable:
                raise  # the store failed mid-read, not the video: the job is tried again
            except VigilError as refusal:
                self.processor.fail(row, refusal, also=self._failed(row, refusal))
                return
        assert report.result is not None
        thumbnails = self._store_thumbnails(row.id, report)
        written = self._succeeded(row, report, thumbnails)
        self.processor.record(row, choice, report.result, also=written)

    def abandon(self, job: Job, error: str) -> None:
        """The job failed its last attempt with an unexpected error (``error``, kept in the
        job): the asset and its video job fail with InternalError, never left in progress."""
        row = self.processor.processing_row(job)
        if row is not None:
            refusal = gave_up(job)
            self.processor.fail(row, refusal, also=self._failed(row, refusal))

    def _analyze(
        self, path: VideoInput, kind: VideoKind, row: AssetRow, choice: PolicyChoice, started: float
    ) -> VideoReport:
        source = open_video(path, kind, self.settings)
        deadline = Deadline(self._budget(source.metadata.duration_ms), started)
        report = self.analyzer.analyze(
            source, kind, choice.policy, choice.resolved, row.sha256, deadline
        )
        if report.result is None:
            reason = report.stopped or "the video has no frames"
            raise CorruptVideo(f"No frame of the video could be decoded ({reason}).")
        return report

    def _budget(self, duration_ms: int) -> float:
        factor = self.settings.video_budget_factor
        return factor * duration_ms / 1000 + self.settings.video_budget_seconds

    def _store_thumbnails(self, asset_id: str, report: VideoReport) -> list[dict[str, Any]]:
        stored = []
        for index, (start, jpeg) in enumerate(sorted(report.thumbnails.items())):
            self.blobs.put(Area.THUMBNAILS, thumbnail_key(asset_id, index), jpeg)
            stored.append({"index": index, "timestamp_ms": start})
        return stored

    def _succeeded(
        self, row: AssetRow, report: VideoReport, thumbnails: list[dict[str, Any]]
    ) -> Callable[[Session], None]:
        index_at = {item["timestamp_ms"]: item["index"] for item in thumbnails}
        segments = [
            _with_thumbnail(segment.to_dict(), index_at.get(segment.start_ms))
            for segment in report.segments
        ]

        def write(session: Session) -> None:
            video = session.get(VideoRow, row.id)
            assert video is not None
            video.job_status = SUCCEEDED
            video.status_message = report.status_message()
            video.video_metadata = report.metadata.to_dict()
            video.frame_labels = [frame.to_dict() for frame in report.frames]
            video.segments = segments
            video.frames_decoded = report.frames_decoded
            video.frames_analyzed = report.frames_analyzed
            video.decoded_until_ms = report.decoded_until_ms if report.stopped else None
            video.thumbnails = thumbnails
            video.completed_at = datetime.now(UTC)
            self._publish_completed(session, row.id, video, report.segments)

        return write

    def _failed(self, row: AssetRow, refusal: VigilError) -> Callable[[Session], None]:
        def write(session: Session) -> None:
            video = session.get(VideoRow, row.id)
            assert video is not None
            video.job_status = FAILED
            video.status_message = refusal.message
            video.completed_at = datetime.now(UTC)
            self._publish_completed(session, row.id, video, [])

        return write

    def _publish_completed(
        self, session: Session, asset_id: str, video: VideoRow, segments: Sequence[Any]
    ) -> None:
        session.flush()
        fresh = session.get(AssetRow, asset_id)
        assert fresh is not None
        counts: dict[str, int] = {}
        for frame in video.frame_labels:
            for label in frame["Labels"]:
                counts[label["Name"]] = counts.get(label["Name"], 0) + 1
        self.events.publish(
            session,
            VIDEO_COMPLETED,
            asset_view(fresh, self.settings.min_confidence),
            job_id=video.job_id,
            job_status=video.job_status,
            status_message=video.status_message,
            label_counts=counts,
            segments=[segment.alert_view() for segment in segments],
        )


def new_video_row(asset: AssetRow, *, analysed: bool) -> VideoRow:
    """The video's row as uploaded: in progress, or done at once when nothing will analyse
    it (``moderation=none``)."""
    return VideoRow(
        asset_id=asset.id,
        job_id=f"vid-{asset.id}",
        job_status=IN_PROGRESS if analysed else SUCCEEDED,
        status_message="" if analysed else "not analysed: moderation=none",
        video_metadata={},
        frame_labels=[],
        segments=[],
        frames_decoded=0,
        frames_analyzed=0,
        thumbnails=[],
        created_at=asset.created_at,
        completed_at=None if analysed else asset.created_at,
    )


def thumbnail_key(asset_id: str, index: int) -> str:
    return f"{asset_id}-{index}"


def _with_thumbnail(segment: dict[str, Any], index: int | None) -> dict[str, Any]:
    return {**segment, "Thumbnail": index} if index is not None else segment
