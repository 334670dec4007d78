"""Upload presets: stored sets of upload options."""

from __future__ import annotations

from pydantic import MISSING, Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class PresetOptions(ApiModel):
    """The options an upload with this preset takes (what the upload sets itself wins)."""

    moderation: str | MISSING | None = MISSING
    policy: str | MISSING | None = MISSING
    context: dict[str, str] | MISSING = MISSING
    notification_url: str | MISSING | None = Field(
        MISSING, description='"[redacted]" for uploaders, whose notifications may carry a token'
    )
    tags: list[str] | MISSING = MISSING


class Preset(ApiModel):
    name: str
    options: PresetOptions
    updated_by: str | None = Field(description="Null for uploaders")
    updated_at: Timestamp


class PresetList(ApiModel):
    presets: list[Preset]
