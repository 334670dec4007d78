"""The one exception type every refusal uses: a stable code, a message, an HTTP status."""

from __future__ import annotations


class VigilError(Exception):
    """A refusal a person should understand. ``code`` is stable and documented in docs/errors.md."""

    code: str = "InternalError"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidImageFormat(VigilError):
    code, status = "InvalidImageFormat", 415


class CorruptImage(VigilError):
    code, status = "CorruptImage", 422


class ImageTooLarge(VigilError):
    code, status = "ImageTooLarge", 413


class ImageTooSmall(VigilError):
    code, status = "ImageTooSmall", 422


class EmptyFile(VigilError):
    code, status = "EmptyFile", 400


class PolyglotFile(VigilError):
    code, status = "PolyglotFile", 415


class InvalidParameter(VigilError):
    code, status = "InvalidParameter", 400


class InvalidPolicy(VigilError):
    code, status = "InvalidPolicy", 400


class PolicyNotFound(VigilError):
    code, status = "PolicyNotFound", 404


class AssetNotFound(VigilError):
    code, status = "AssetNotFound", 404


class InvalidTransition(VigilError):
    code, status = "InvalidTransition", 409


class Unauthorized(VigilError):
    code, status = "Unauthorized", 401


class Forbidden(VigilError):
    code, status = "Forbidden", 403


class NotReady(VigilError):
    code, status = "NotReady", 503


class DetectorFailed(VigilError):
    code, status = "DetectorFailed", 500


class AssetNotDeliverable(VigilError):
    code, status = "AssetNotDeliverable", 403


class PresetNotFound(VigilError):
    code, status = "PresetNotFound", 404


class StorageUnavailable(VigilError):
    code, status = "StorageUnavailable", 503


class DatabaseUnavailable(VigilError):
    code, status = "DatabaseUnavailable", 503


class IdempotencyKeyReused(VigilError):
    code, status = "IdempotencyKeyReused", 422


class JobNotFound(VigilError):
    code, status = "JobNotFound", 404


class WebhookNotFound(VigilError):
    code, status = "WebhookNotFound", 404


class DeliveryNotFound(VigilError):
    code, status = "DeliveryNotFound", 404


class UnsafeWebhookTarget(VigilError):
    code, status = "UnsafeWebhookTarget", 422


class AlertRuleNotFound(VigilError):
    code, status = "AlertRuleNotFound", 404


class EmailNotConfigured(VigilError):
    code, status = "EmailNotConfigured", 503


class EmailDeliveryFailed(VigilError):
    code, status = "EmailDeliveryFailed", 502
