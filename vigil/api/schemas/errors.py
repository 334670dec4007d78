"""The shape of every refusal: ``{"error": {"code", "message"}}`` (docs/errors.md)."""

from __future__ import annotations

from vigil.api.schemas.base import ApiModel


class ErrorDetail(ApiModel):
    code: str
    message: str


class ErrorBody(ApiModel):
    error: ErrorDetail
