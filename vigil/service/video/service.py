"""Reading a video asset's moderation: the GetContentModeration-shaped answer and the blurred
thumbnails of its flagged segments."""

from __future__ import annotations

from typing import Any

from vigil.errors import AssetNotFound, NotAVideo
from vigil.service.access.principal import Principal
from vigil.service.assets.service import AssetService
from vigil.service.video.jobs import thumbnail_key
from vigil.service.video.results import PageRequest, moderation_labels
from vigil.service.video.segments import FrameLabels, Segment
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, VideoRow


class VideoService:
    def __init__(self, db: Database, blobs: BlobStore, assets: AssetService) -> None:
        self.db = db
        self.blobs = blobs
        self.assets = assets

    def content_moderation(
        self, asset_id: str, who: Principal, request: PageRequest
    ) -> dict[str, Any]:
        """``GetContentModeration``'s answer for one video asset, one page of labels."""
        request = request.checked()
        asset, video = self._video(asset_id, who)
        frames = [FrameLabels.from_dict(item) for item in video.frame_labels]
        segments = [Segment.from_dict(item) for item in video.segments]
        base = f"/v1/assets/{asset_id}/video/thumbnails"
        labels, token = moderation_labels(frames, segments, request, base)
        answer: dict[str, Any] = {
            "JobId": video.job_id,
            "JobStatus": video.job_status,
            "StatusMessage": video.status_message,
            "VideoMetadata": video.video_metadata,
            "ModerationLabels": labels,
            "ModerationModelVersion": asset.model_version,
            "GetRequestMetadata": {
                "SortBy": request.sort_by,
                "AggregateBy": request.aggregate_by,
            },
            "FramesDecoded": video.frames_decoded,
            "FramesAnalyzed": video.frames_analyzed,
            "DecodedUntilMillis": video.decoded_until_ms,
        }
        if token is not None:
            answer["NextToken"] = token
        return answer

    def thumbnail(self, asset_id: str, index: int, who: Principal) -> bytes:
        """A flagged segment's blurred still (JPEG). Uploaders never see thumbnails: they are
        for the people who review."""
        _, video = self._video(asset_id, who)
        missing = AssetNotFound(f"asset {asset_id} has no thumbnail {index}")
        if not who.sees_everything or not any(t["index"] == index for t in video.thumbnails or []):
            raise missing
        try:
            return self.blobs.get(Area.THUMBNAILS, thumbnail_key(asset_id, index))
        except FileNotFoundError:  # removed with its asset, or never written
            raise missing from None

    def _video(self, asset_id: str, who: Principal) -> tuple[AssetRow, VideoRow]:
        asset = self.assets.visible_row(asset_id, who)
        with self.db.session() as session:
            video = session.get(VideoRow, asset_id)
        if video is None:
            raise NotAVideo(f"asset {asset_id} is an image, not a video")
        return asset, video
