"""Liveness and readiness."""

from __future__ import annotations

from pydantic import MISSING, Field

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.errors import ErrorDetail


class Health(ApiModel):
    status: str = Field(description='"ok" while the process is up')


class DetectorState(ApiModel):
    name: str
    version: str | None = Field(description="Null until the detector is built")
    state: str = Field(description="loading, loaded or failed")
    error: str | MISSING = Field(MISSING, description="Why a failed detector failed")


class Readiness(ApiModel):
    status: str = Field(description="ready, or degraded when some enabled detector failed")
    detectors: list[DetectorState]


class NotReady(ApiModel):
    """503 while the models load, or when no detector could be loaded."""

    error: ErrorDetail
    detectors: list[DetectorState]
