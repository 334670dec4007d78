"""Reading objects that callers name by bucket and key (Rekognition's ``S3Object``, S3 event
notifications) from the S3 store vigil is configured with: ``VIGIL_S3_ENDPOINT_URL`` (or AWS)
and the standard AWS credential chain."""

from __future__ import annotations

import logging
import tempfile
from typing import Any, BinaryIO, cast

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from vigil.errors import ImageTooLarge, InvalidS3Object, StorageUnavailable
from vigil.settings import Settings
from vigil.storage.s3 import client_config

# Codes meaning "this object cannot be read by us": gone, never there, or not ours to read.
UNREADABLE = frozenset(
    {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound", "AccessDenied", "403"}
)
SPOOL_BYTES = 8 * 1024 * 1024  # videos larger than this are spooled to a temporary file
log = logging.getLogger(__name__)


def unreadable(bucket: str, key: str) -> InvalidS3Object:
    """The one answer for an object that is missing, forbidden or not allowed as input: a
    caller must not learn which (the server log has S3's own code)."""
    return InvalidS3Object(
        f"Unable to get object metadata from S3: s3://{bucket}/{key}. "
        "Check object key, region and/or access permissions."
    )


def s3_client(settings: Settings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        config=client_config(settings.s3_endpoint_url),
    )


def object_location(bucket: str, key: str, version: str | None) -> dict[str, str]:
    found = {"Bucket": bucket, "Key": key}
    if version:
        found["VersionId"] = version
    return found


def _get(client: Any, bucket: str, key: str, version: str | None) -> dict[str, Any]:
    try:
        return cast(dict[str, Any], client.get_object(**object_location(bucket, key, version)))
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in UNREADABLE:
            log.info("s3://%s/%s cannot be read: %s", bucket, key, code)
            raise unreadable(bucket, key) from error
        raise StorageUnavailable(f"reading s3://{bucket}/{key} failed: {error}") from error
    except BotoCoreError as error:
        raise StorageUnavailable(f"reading s3://{bucket}/{key} failed: {error}") from error


def read_object(client: Any, bucket: str, key: str, version: str | None, limit: int) -> bytes:
    """The object's bytes; ImageTooLarge past ``limit``, InvalidS3Object when unreadable."""
    response = _get(client, bucket, key, version)
    if int(response.get("ContentLength", 0)) > limit:
        response["Body"].close()
        raise ImageTooLarge(f"s3://{bucket}/{key} is larger than the limit of {limit} bytes")
    return cast(bytes, response["Body"].read())


def spool_object(client: Any, bucket: str, key: str, version: str | None) -> BinaryIO:
    """The object in a temporary file (in memory while small), positioned at its start."""
    response = _get(client, bucket, key, version)
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - caller closes
    try:
        for chunk in response["Body"].iter_chunks(1024 * 1024):
            spooled.write(chunk)
    except (BotoCoreError, OSError) as error:
        spooled.close()
        raise StorageUnavailable(f"reading s3://{bucket}/{key} failed: {error}") from error
    spooled.seek(0)
    return cast(BinaryIO, spooled)
