"""The Rekognition-compatible endpoint's answers: one output shape per operation, as AWS
documents them, and AWS's error shape (docs/rekognition.md). The route sends these as AWS
JSON 1.1 exactly as the operations build them; the models document them."""

from __future__ import annotations

from pydantic import MISSING, ConfigDict, Field

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.labels import ContentType, Label
from vigil.api.schemas.videos import LabelEntry, RequestMetadata, VideoInfo


class DetectModerationLabelsOutput(ApiModel):
    """``RekognitionService.DetectModerationLabels``."""

    ModerationLabels: list[Label]
    ModerationModelVersion: str
    ContentTypes: list[ContentType]


class StartContentModerationOutput(ApiModel):
    """``RekognitionService.StartContentModeration``."""

    JobId: str


class S3Location(ApiModel):
    Bucket: str
    Name: str
    Version: str | MISSING = MISSING


class VideoSource(ApiModel):
    S3Object: S3Location


class GetContentModerationOutput(ApiModel):
    """``RekognitionService.GetContentModeration``."""

    JobId: str
    JobStatus: str = Field(description="IN_PROGRESS, SUCCEEDED or FAILED")
    ModerationLabels: list[LabelEntry]
    ModerationModelVersion: str
    GetRequestMetadata: RequestMetadata
    StatusMessage: str | MISSING = MISSING
    VideoMetadata: VideoInfo | MISSING = MISSING
    Video: VideoSource | MISSING = MISSING
    JobTag: str | MISSING = MISSING
    NextToken: str | MISSING = MISSING


# What POST / answers, depending on the operation X-Amz-Target names.
RekognitionOutput = (
    DetectModerationLabelsOutput | StartContentModerationOutput | GetContentModerationOutput
)


class AwsError(ApiModel):
    """A refusal in AWS's JSON error shape, which boto3 turns into its modeled exceptions."""

    # "__type" is no valid field name: the field keeps its JSON name through its alias.
    model_config = ConfigDict(serialize_by_alias=True)

    type_: str = Field(alias="__type", description="e.g. InvalidParameterException")
    message: str
