"""Marking ingested objects in their bucket: the decision as an object tag, and rejected
objects moved to the quarantine location. Failures are StorageUnavailable, so the message
that named the object is received again and the step retried."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from vigil.aws.s3_events import S3ObjectEvent
from vigil.aws.s3_objects import object_location
from vigil.errors import StorageUnavailable

MAX_TAGS = 10  # S3's limit per object


def tag_object(s3: Any, event: S3ObjectEvent, tags: Mapping[str, str]) -> None:
    """Set ``tags`` on the object, keeping its other tags (replaced ones are updated)."""
    where = object_location(event.bucket, event.key, event.version_id)
    with _storage(f"tagging {event.url}"):
        current = s3.get_object_tagging(**where).get("TagSet", [])
        merged = {tag["Key"]: tag["Value"] for tag in current if tag["Key"] not in tags}
        merged.update(tags)
        tag_set = [{"Key": key, "Value": value} for key, value in merged.items()][-MAX_TAGS:]
        s3.put_object_tagging(**where, Tagging={"TagSet": tag_set})


def move_object(s3: Any, event: S3ObjectEvent, bucket: str, key: str) -> str:
    """Copy the object (with its tags) to ``bucket``/``key``, then delete the original."""
    source = object_location(event.bucket, event.key, event.version_id)
    with _storage(f"moving {event.url} to s3://{bucket}/{key}"):
        s3.copy_object(Bucket=bucket, Key=key, CopySource=source, TaggingDirective="COPY")
        # Without VersionId: a versioned bucket gets a delete marker, so no older version
        # of the key becomes the current one in the rejected object's place.
        s3.delete_object(Bucket=event.bucket, Key=event.key)
    return f"s3://{bucket}/{key}"


@contextmanager
def _storage(action: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise StorageUnavailable(f"{action} failed: {error}") from error
