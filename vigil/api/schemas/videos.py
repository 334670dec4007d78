"""A video's moderation in the shape of Rekognition's ``GetContentModeration`` (the native
``GET /v1/assets/{id}/video`` and the Rekognition-compatible operation share these)."""

from __future__ import annotations

from pydantic import MISSING, Field

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.labels import ContentType, Label


class VideoInfo(ApiModel):
    """Empty until the video's metadata is read."""

    Codec: str | MISSING = MISSING
    DurationMillis: int | MISSING = MISSING
    Format: str | MISSING = MISSING
    FrameRate: float | MISSING = MISSING
    FrameHeight: int | MISSING = MISSING
    FrameWidth: int | MISSING = MISSING
    ColorRange: str | MISSING = MISSING


class LabelEntry(ApiModel):
    """A label at a timestamp; aggregated by segments, a flagged segment with its span."""

    Timestamp: int = Field(description="Milliseconds from the start")
    ModerationLabel: Label
    StartTimestampMillis: int | MISSING = MISSING
    EndTimestampMillis: int | MISSING = MISSING
    DurationMillis: int | MISSING = MISSING
    ContentTypes: list[ContentType]


class NativeLabelEntry(LabelEntry):
    ThumbnailUrl: str | MISSING = Field(
        MISSING, description="A flagged segment's blurred still (reviewers and admins)"
    )


class RequestMetadata(ApiModel):
    SortBy: str
    AggregateBy: str


class VideoModeration(ApiModel):
    """``GET /v1/assets/{id}/video``: one page of a video asset's labels or segments."""

    JobId: str
    JobStatus: str = Field(description="IN_PROGRESS, SUCCEEDED or FAILED")
    StatusMessage: str
    VideoMetadata: VideoInfo
    ModerationLabels: list[NativeLabelEntry]
    ModerationModelVersion: str
    GetRequestMetadata: RequestMetadata
    FramesDecoded: int
    FramesAnalyzed: int
    DecodedUntilMillis: int | None
    NextToken: str | MISSING = Field(MISSING, description="Pass back for the next page")
