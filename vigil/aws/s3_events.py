"""S3 event notifications as SQS delivers them: sent straight from S3, or wrapped in an SNS
envelope (S3 -> SNS -> SQS fan-out). Only object creations are moderated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from vigil.errors import InvalidParameter


@dataclass(frozen=True)
class S3ObjectEvent:
    bucket: str
    key: str  # decoded: S3 sends keys URL-encoded, with '+' for spaces
    version_id: str | None
    etag: str
    sequencer: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def identity(self) -> str:
        """What tells this write of the object apart from another write of the same key."""
        return self.version_id or self.etag or self.sequencer


def object_events(body: str) -> list[S3ObjectEvent]:
    """The created objects a message tells of; [] for S3's test event and other events.
    InvalidParameter when the message is not an S3 event notification at all."""
    document = _json(body)
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        document = _json(document["Message"])  # SNS: the S3 event is the message inside
    if document.get("Event") == "s3:TestEvent":
        return []
    records = document.get("Records")
    if not isinstance(records, list):
        raise InvalidParameter("the message is not an S3 event notification (no Records)")
    return [_event(record) for record in records if _is_creation(record)]


def _json(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        raise InvalidParameter("the message body is not JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter("the message body is not a JSON object")
    return parsed


def _is_creation(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and record.get("eventSource") == "aws:s3"
        and str(record.get("eventName", "")).startswith("ObjectCreated:")
    )


def _event(record: dict[str, Any]) -> S3ObjectEvent:
    try:
        s3 = record["s3"]
        bucket, found = str(s3["bucket"]["name"]), s3["object"]
        key = unquote_plus(str(found["key"]))
    except (KeyError, TypeError):
        missing = "an S3 event record has no s3.bucket.name or s3.object.key"
        raise InvalidParameter(missing) from None
    return S3ObjectEvent(
        bucket=bucket,
        key=key,
        version_id=found.get("versionId") or None,
        etag=str(found.get("eTag", "")),
        sequencer=str(found.get("sequencer", "")),
    )
