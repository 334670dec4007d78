"""StartContentModeration and GetContentModeration on top of vigil's video uploads.

A started job is an ordinary asynchronous video upload of the S3 object (docs/video.md), so
the worker moderates it; its JobId is the video's job id. The ClientRequestToken is kept with
a fingerprint of the request, so a retry gets the same JobId and a reuse with other
parameters is refused, as by Rekognition.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vigil.app import Vigil
from vigil.aws.rekognition_input import (
    S3Location,
    client_request_token,
    job_id,
    job_tag,
    min_confidence,
    page_fields,
    s3_location,
    sns_topic_arn,
)
from vigil.aws.s3_input import S3InputRules, spool_input
from vigil.errors import AssetNotFound, IdempotencyKeyReused, InvalidParameter, JobNotFound
from vigil.labels import above
from vigil.media.video_formats import sniff_video
from vigil.service.access.principal import Principal
from vigil.service.assets.uploads import UploadRequest
from vigil.service.notices.sns import notify_if_done, topic_url
from vigil.service.policies.presets import UploadOptions
from vigil.service.video.results import PageRequest, moderation_labels
from vigil.service.video.segments import FrameLabels, Segment
from vigil.storage.tables import AssetRow, RekognitionJobRow, VideoRow

ENTRY_FIELDS = (
    "Timestamp",
    "ModerationLabel",
    "StartTimestampMillis",
    "EndTimestampMillis",
    "DurationMillis",
    "ContentTypes",
)
METADATA_FIELDS = (
    "Codec",
    "DurationMillis",
    "Format",
    "FrameRate",
    "FrameHeight",
    "FrameWidth",
    "ColorRange",
)
SNIFF_BYTES = 64 * 1024


class RekognitionVideo:
    def __init__(self, vigil: Vigil, s3: Any, inputs: S3InputRules) -> None:
        self.vigil = vigil
        self.s3 = s3
        self.inputs = inputs

    # -- StartContentModeration --------------------------------------------------------------

    def start(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        video = body.get("Video")
        if not isinstance(video, dict) or "S3Object" not in video:
            raise InvalidParameter("Video must have an S3Object (Rekognition reads video from S3)")
        where = s3_location(video["S3Object"], "Video.S3Object")
        floor, token, tag = min_confidence(body), client_request_token(body), job_tag(body)
        arn = sns_topic_arn(body)
        if arn is not None:
            topic_url(self.vigil.db, arn)  # refused now if unregistered, not at completion
        fingerprint = _fingerprint(where, floor, tag, arn)
        if token is not None:
            earlier = self._earlier(who, token, fingerprint)
            if earlier is not None:
                return {"JobId": earlier}
        asset_id = self._submit(who, where, token)
        row = RekognitionJobRow(
            job_id=self._video_job_id(asset_id),
            asset_id=asset_id,
            owner_key_id=who.key_id,
            client_request_token=token,
            request_hash=fingerprint,
            job_tag=tag,
            min_confidence=floor,
            video={"S3Object": where.to_dict()},
            sns_topic_arn=arn,
            created_at=datetime.now(UTC),
        )
        return {"JobId": self._record(who, row)}

    def _submit(self, who: Principal, where: S3Location, token: str | None) -> str:
        source = self._fetch(where)
        try:
            options = UploadOptions(tags=("rekognition",))
            request = UploadRequest(filename=where.url, options=options)
            key = f"rekognition:{token}" if token else None
            outcome = self.vigil.uploads.submit(
                source, request, who, run_async=True, idempotency_key=key
            )
        finally:
            source.close()
        return str(outcome.asset["id"])

    def _fetch(self, where: S3Location) -> BinaryIO:
        source = spool_input(self.s3, self.inputs, where)
        head = source.read(SNIFF_BYTES)
        source.seek(0)
        if sniff_video(head) is None:
            source.close()
            raise InvalidParameter(
                f"{where.url} is not a video vigil can read (MP4, MOV, WebM, MKV, AVI)"
            )
        return source

    def _earlier(self, who: Principal, token: str, fingerprint: str) -> str | None:
        with self.vigil.db.session() as session:
            row = session.scalar(
                select(RekognitionJobRow).where(
                    RekognitionJobRow.owner_key_id == who.key_id,
                    RekognitionJobRow.client_request_token == token,
                )
            )
            if row is None:
                return None
            if row.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    f"ClientRequestToken '{token}' was used for a request with other "
                    "parameters; use a new token for a new job"
                )
            return row.job_id

    def _video_job_id(self, asset_id: str) -> str:
        with self.vigil.db.session() as session:
            video = session.get(VideoRow, asset_id)
            assert video is not None  # submit made a video row: _fetch checked it is one
            return video.job_id

    def _record(self, who: Principal, row: RekognitionJobRow) -> str:
        try:
            with self.vigil.db.session() as session:
                session.add(row)
        except IntegrityError:
            # The same token raced us: the first request's job stands.
            assert row.client_request_token is not None
            earlier = self._earlier(who, row.client_request_token, row.request_hash)
            if earlier is None:
                raise
            return earlier
        # The worker may have finished before this row existed; then nobody notified yet.
        notify_if_done(self.vigil.db, self.vigil.queue, self.vigil.settings, row.job_id)
        return row.job_id

    # -- GetContentModeration ----------------------------------------------------------------

    def get(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        wanted = job_id(body)
        page = PageRequest(**page_fields(body)).checked()
        with self.vigil.db.session() as session:
            video = session.scalar(select(VideoRow).where(VideoRow.job_id == wanted))
            job = session.get(RekognitionJobRow, wanted)
        if video is None:
            raise JobNotFound(f"no content moderation job with JobId {wanted}")
        try:
            asset = self.vigil.assets.visible_row(video.asset_id, who)
        except AssetNotFound as refusal:  # another uploader's job is reported as missing
            raise JobNotFound(f"no content moderation job with JobId {wanted}") from refusal
        floor = job.min_confidence if job is not None else 0.0
        labels, token = self._labels(video, page, floor)
        answer: dict[str, Any] = {
            "JobId": video.job_id,
            "JobStatus": video.job_status,
            "ModerationLabels": labels,
            "ModerationModelVersion": _model_version(asset),
            "GetRequestMetadata": {"SortBy": page.sort_by, "AggregateBy": page.aggregate_by},
        }
        if video.status_message:
            answer["StatusMessage"] = video.status_message
        if video.video_metadata:
            metadata = video.video_metadata
            answer["VideoMetadata"] = {k: metadata[k] for k in METADATA_FIELDS if k in metadata}
        if job is not None:
            answer["Video"] = job.video
            if job.job_tag:
                answer["JobTag"] = job.job_tag
        if token is not None:
            answer["NextToken"] = token
        return answer

    def _labels(
        self, video: VideoRow, page: PageRequest, floor: float
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of labels at or above the job's MinConfidence, in Rekognition's fields
        only (vigil's thumbnail links are for its own API)."""
        frames = [
            replace(frame, labels=above(frame.labels, floor))
            for frame in map(FrameLabels.from_dict, video.frame_labels)
        ]
        segments = [Segment.from_dict(item) for item in video.segments]
        segments = [segment for segment in segments if segment.confidence >= floor]
        entries, token = moderation_labels(frames, segments, page, "")
        return [{k: entry[k] for k in ENTRY_FIELDS if k in entry} for entry in entries], token


def _fingerprint(where: S3Location, floor: float, tag: str | None, arn: str | None) -> str:
    fields = {"video": where.to_dict(), "min_confidence": floor, "job_tag": tag, "topic": arn}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _model_version(asset: AssetRow) -> str:
    return asset.model_version or "pending"
