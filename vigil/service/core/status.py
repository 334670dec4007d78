"""An asset's status and moderation mode, shared by every feature that moves assets."""

from __future__ import annotations

from enum import StrEnum

from vigil.storage.blobs import Area


class Status(StrEnum):
    PROCESSING = "processing"  # stored, waiting for the detectors
    FAILED = "failed"  # could not be processed (error says why)
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVIEW = "review"


# The statuses a person's decision settles: their assets wait in the first-pass queue.
WAITING = (Status.REVIEW, Status.PENDING)


class Mode(StrEnum):
    AUTO = "auto"  # the policy decides
    MANUAL = "manual"  # pending until a person decides
    NONE = "none"  # no moderation: approved as uploaded


STATUS_FOR_ACTION = {"allow": Status.APPROVED, "review": Status.REVIEW, "block": Status.REJECTED}
# A step's status: an asset status, or "aborted" when an earlier step rejected the asset.
ABORTED = "aborted"


def area_for(status: Status) -> Area:
    return Area.QUARANTINE if status is Status.REJECTED else Area.ORIGINALS
