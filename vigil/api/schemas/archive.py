"""The archive: a pass's count (a restore answers with the asset)."""

from __future__ import annotations

from pydantic import Field

from vigil.api.schemas.base import ApiModel


class ArchiveRun(ApiModel):
    archived: int = Field(description="How many assets' bytes moved to the archive")
