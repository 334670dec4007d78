"""Assets: the stored upload, its moderation steps, pages of assets, the explanation, and
the answer of ``POST /v1/moderate`` (which stores nothing)."""

from __future__ import annotations

from pydantic import MISSING, Field

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.decisions import Decision
from vigil.api.schemas.labels import (
    ContentType,
    Detection,
    FusionAdjustment,
    ModerationLabel,
    TextDetection,
)
from vigil.service.core.times import Timestamp


class ModerationStep(ApiModel):
    """One step of the upload's ``moderation`` (auto, aws_rek, manual, none) and its outcome."""

    kind: str
    status: str
    updated_at: Timestamp
    # aws_rek steps: each category's threshold, or "ignore".
    thresholds: dict[str, float | str] | MISSING = MISSING


class AssetError(ApiModel):
    """Why processing failed, for an asset whose status is ``failed``."""

    code: str
    message: str


class Asset(ApiModel):
    """An asset as API answers and event payloads show it (docs/api.md#the-asset)."""

    id: str
    status: str
    filename: str
    media_type: str = Field(description="image or video")
    format: str
    mime: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    moderation_mode: str
    moderation: list[ModerationStep]
    upload_preset: str | None
    tags: list[str]
    notification_url: str | None
    labels: list[ModerationLabel]
    content_types: list[ContentType]
    text_detections: list[TextDetection]
    model_version: str
    decision: Decision | None
    error: AssetError | None
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class UploadedAsset(Asset):
    status_url: str = Field(description="Where to poll the asset while it is processing")


class AssetPage(ApiModel):
    assets: list[Asset]
    next_cursor: str | None = Field(description="Pass back as cursor for the next page")


class Explanation(ApiModel):
    id: str
    status: str
    decision: Decision | None
    explanation: str = Field(description="Why the asset has its status, in words")


class ModerationResult(ApiModel):
    """``POST /v1/moderate``: what the detectors found and what the policy decided."""

    file: str
    ModerationLabels: list[ModerationLabel]
    Detections: list[Detection]
    TextDetections: list[TextDetection]
    ModerationModelVersion: str
    ContentTypes: list[ContentType]
    Fusion: list[FusionAdjustment]
    decision: Decision
