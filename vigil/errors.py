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


class CorruptVideo(VigilError):
    code, status = "CorruptVideo", 422


class UnsupportedVideo(VigilError):
    code, status = "UnsupportedVideo", 415


class VideoTooLarge(VigilError):
    """Over the byte, duration or resolution limit for videos."""

    code, status = "VideoTooLarge", 413


class NotAVideo(VigilError):
    code, status = "NotAVideo", 404


class InvalidPaginationToken(VigilError):
    code, status = "InvalidPaginationToken", 400


class InvalidParameter(VigilError):
    code, status = "InvalidParameter", 400


class InvalidPolicy(VigilError):
    code, status = "InvalidPolicy", 400


class InvalidManifest(VigilError):
    """An evaluation manifest that cannot be read, lacks its columns or names no known label."""

    code, status = "InvalidManifest", 400


class PolicyNotFound(VigilError):
    code, status = "PolicyNotFound", 404


class InvalidPreset(VigilError):
    """An upload preset whose options its policy would refuse at every upload (a context key
    or value the policy does not take), refused when it is saved."""

    code, status = "InvalidPreset", 400


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


class ProviderUnavailable(VigilError):
    """VIGIL_EXECUTION_PROVIDERS names a provider the installed onnxruntime lacks (refused at
    start-up, before any model loads; docs/gpu.md)."""

    code, status = "ProviderUnavailable", 500


class AssetNotDeliverable(VigilError):
    code, status = "AssetNotDeliverable", 403


class PresetNotFound(VigilError):
    code, status = "PresetNotFound", 404


class StorageUnavailable(VigilError):
    code, status = "StorageUnavailable", 503


class DatabaseUnavailable(VigilError):
    code, status = "DatabaseUnavailable", 503


class ServiceBusy(VigilError):
    """The database is up but every pooled connection, or a lock a write needs, stayed busy
    past its timeout (VIGIL_DB_POOL_TIMEOUT_SECONDS, VIGIL_DB_LOCK_TIMEOUT_SECONDS);
    ``retry_after`` is the Retry-After header's seconds."""

    code, status = "ServiceBusy", 503

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


class InvalidCredentials(VigilError):
    code, status = "InvalidCredentials", 401


class TooManySignIns(VigilError):
    """Console sign-in attempts from one client address over VIGIL_LOGIN_ATTEMPTS_PER_IP per
    VIGIL_LOGIN_WINDOW_SECONDS, or a username locked for this address after repeated failures
    (``SignInLocked``); ``retry_after`` says when to try again (the Retry-After header)."""

    code, status = "TooManySignIns", 429

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SignInLocked(TooManySignIns):
    code = "SignInLocked"


class SignInBusy(TooManySignIns):
    """Every password-hashing slot (VIGIL_LOGIN_MAX_CONCURRENT_HASHES) stayed busy."""

    code, status = "SignInBusy", 503


class CsrfTokenInvalid(VigilError):
    code, status = "CsrfTokenInvalid", 403


class UserExists(VigilError):
    code, status = "UserExists", 409


class UserNotFound(VigilError):
    code, status = "UserNotFound", 404


class ReviewItemNotFound(VigilError):
    code, status = "ReviewItemNotFound", 404


class ClaimNotHeld(VigilError):
    code, status = "ClaimNotHeld", 409


class ReviewItemClosed(VigilError):
    code, status = "ReviewItemClosed", 409


class AppealNotAllowed(VigilError):
    code, status = "AppealNotAllowed", 409


class AssetArchived(VigilError):
    code, status = "AssetArchived", 409


class InvalidSignature(VigilError):
    """An AWS Signature Version 4 that is malformed, expired or does not match."""

    code, status = "InvalidSignature", 400


class MissingAuthenticationToken(VigilError):
    code, status = "MissingAuthenticationToken", 400


class UnrecognizedClient(VigilError):
    """An AWS access key id vigil never issued, or one whose API key was revoked."""

    code, status = "UnrecognizedClient", 400


class UnknownOperation(VigilError):
    code, status = "UnknownOperation", 400


class InvalidS3Object(VigilError):
    code, status = "InvalidS3Object", 400


class AdapterNotFound(VigilError):
    code, status = "AdapterNotFound", 404


class ModelDownloadFailed(VigilError):
    """`vigil models pull` could not fetch a file (no internet, a blocked or missing URL)."""

    code, status = "ModelDownloadFailed", 502


class ModelChecksumMismatch(VigilError):
    """A downloaded model file's sha256 is not the one vigil's registry pins."""

    code, status = "ModelChecksumMismatch", 502


class RequestTooLarge(VigilError):
    """A request body over its route's limit, refused before or while it streams in."""

    code, status = "RequestTooLarge", 413


class TimeBudgetExceeded(VigilError):
    """A job ran past its time budget (VIGIL_IMAGE_BUDGET_SECONDS, or for a video twice its
    duration plus VIGIL_VIDEO_BUDGET_SECONDS); its asset fails and the worker goes on."""

    code, status = "TimeBudgetExceeded", 422


class PortInUse(VigilError):
    """`vigil serve`: the address and port to listen on are taken (checked before starting)."""

    code, status = "PortInUse", 409


# --- hash lists (docs/hashlists.md) ---------------------------------------------------------


class InvalidHash(VigilError):
    """Not a PDQ hash (64 hexadecimal characters), or a malformed line of a hash-list file."""

    code, status = "InvalidHash", 400


class LowQualityHash(VigilError):
    """An image too flat or blank for its PDQ hash to mean anything (below the quality floor)."""

    code, status = "LowQualityHash", 422


class HashListNotFound(VigilError):
    code, status = "HashListNotFound", 404


class HashListExists(VigilError):
    code, status = "HashListExists", 409


class HashNotInList(VigilError):
    code, status = "HashNotInList", 404


class HashListProtected(VigilError):
    """The built-in ``rejected`` and ``approved`` lists can be emptied but not deleted."""

    code, status = "HashListProtected", 409


# --- end hash lists -------------------------------------------------------------------------


# --- keys (docs/keys.md) --------------------------------------------------------------------


class KeyExpired(Unauthorized):
    """An API key (or the API key behind an AWS access key pair) past its ``expires_at``."""

    code = "KeyExpired"


class KeyRotated(Unauthorized):
    """A key's old secret after its rotation overlap window (VIGIL_KEY_ROTATION_OVERLAP_HOURS)."""

    code = "KeyRotated"


class KeyNotFound(VigilError):
    code, status = "KeyNotFound", 404


class KeyRevoked(VigilError):
    """A revoked key cannot be rotated or given grants: create a new one."""

    code, status = "KeyRevoked", 409


class SkipModerationNotGranted(Forbidden):
    """``moderation=none`` from a key without the ``skip-moderation`` grant."""

    code = "SkipModerationNotGranted"


# --- end keys -------------------------------------------------------------------------------


# --- backfill (docs/scale-out.md#backfill-and-re-scan) ----------------------------------------


class ObjectUnreadable(VigilError):
    """`vigil scan`: one object of the source could not be read; it is reported and skipped."""

    code, status = "ObjectUnreadable", 502


class RayUnavailable(VigilError):
    """`--ray`: the optional ``vigil[ray]`` extra is not installed, or no cluster answered."""

    code, status = "RayUnavailable", 503


# --- end backfill -----------------------------------------------------------------------------
