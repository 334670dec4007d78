"""A blob store in an S3 bucket (AWS or any S3-compatible server: MinIO, Ceph, ...)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vigil.errors import StorageUnavailable
from vigil.storage.archive_class import DEFAULT_ARCHIVE_CLASS, archive_storage_class
from vigil.storage.blobs import CHUNK_BYTES, Area, check_key

# Error codes S3 and compatible servers use for "no such object" (HEAD has no body, so 404).
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# Parts of a streamed upload; each part is buffered in memory, at most this many at a time.
MULTIPART_BYTES = 8 * CHUNK_BYTES
# One ranged GET of ``open_for_read``: what a reader holds in memory whatever the object's
# size; larger ranges mean fewer requests (each costs a round trip) for the same bytes.
READ_RANGE_BYTES = 4 * CHUNK_BYTES
UPLOAD_THREADS = 4


class S3BlobStore:
    """Objects at ``<prefix>/<area>/<key>`` in one bucket. Credentials come from the standard
    AWS chain (environment, shared files, instance or container roles)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        archive_class: str = DEFAULT_ARCHIVE_CLASS,
        read_range_bytes: int = READ_RANGE_BYTES,
    ) -> None:
        self.bucket = bucket
        self.read_range_bytes = read_range_bytes
        self.archive_class = archive_storage_class(archive_class)
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self._client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=client_config(endpoint_url)
        )
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_BYTES,
            multipart_chunksize=MULTIPART_BYTES,
            max_concurrency=UPLOAD_THREADS,
        )

    def _folder(self, area: Area) -> str:
        folder = f"{Area(area).value}/"
        return f"{self.prefix}/{folder}" if self.prefix else folder

    def _name(self, area: Area, key: str) -> str:
        return self._folder(area) + check_key(key)

    def _class_of(self, area: Area) -> dict[str, str]:
        """Objects in the archive area are written in the cold class; elsewhere the bucket's
        default (STANDARD on AWS, which is also what a copy gets without the header)."""
        return {"StorageClass": self.archive_class} if area is Area.ARCHIVE else {}

    def put(self, area: Area, key: str, data: bytes) -> None:
        name = self._name(area, key)
        with self._errors("put", name):
            self._client.put_object(Bucket=self.bucket, Key=name, Body=data, **self._class_of(area))

    def put_file(self, area: Area, key: str, source: BinaryIO) -> int:
        # S3 makes an object visible only once its upload completes, so this is atomic too.
        name = self._name(area, key)
        counted = _CountingReader(source)
        with self._errors("put", name):
            self._client.upload_fileobj(
                counted,
                self.bucket,
                name,
                ExtraArgs=self._class_of(area) or None,
                Config=self._transfer,
            )
        return counted.count

    def get(self, area: Area, key: str) -> bytes:
        name = self._name(area, key)
        with self._errors("get", name, missing=FileNotFoundError):
            response = self._client.get_object(Bucket=self.bucket, Key=name)
            return cast(bytes, response["Body"].read())

    @contextmanager
    def open_for_read(self, area: Area, key: str) -> Iterator[Path | BinaryIO]:
        """A seekable reader that fetches ``read_range_bytes`` at a time with ranged GETs:
        memory stays flat whatever the object's size, and a decoder that seeks (an MP4 whose
        index is at the end) fetches only what it reads."""
        name = self._name(area, key)
        with self._errors("head", name, missing=FileNotFoundError):
            size = int(self._client.head_object(Bucket=self.bucket, Key=name)["ContentLength"])
        raw = RangedReader(self, name, size)
        with io.BufferedReader(raw, buffer_size=self.read_range_bytes) as reader:
            yield cast(BinaryIO, reader)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Bytes ``start`` to ``start + length`` (fewer at the end) of the object ``name``."""
        byte_range = f"bytes={start}-{start + length - 1}"
        with self._errors("get", name, missing=FileNotFoundError):
            response = self._client.get_object(Bucket=self.bucket, Key=name, Range=byte_range)
            return cast(bytes, response["Body"].read())

    def exists(self, area: Area, key: str) -> bool:
        name = self._name(area, key)
        try:
            with self._errors("head", name, missing=FileNotFoundError):
                self._client.head_object(Bucket=self.bucket, Key=name)
        except FileNotFoundError:
            return False
        return True

    def copy(self, key: str, source: Area, target: Area) -> None:
        """Server side: the bytes never pass through vigil. The copy takes the target area's
        storage class, so moving into the archive is what makes an object cold."""
        origin, name = self._name(source, key), self._name(target, key)
        with self._errors("copy", origin, missing=FileNotFoundError):
            self._client.copy_object(
                Bucket=self.bucket,
                Key=name,
                CopySource={"Bucket": self.bucket, "Key": origin},
                **self._class_of(target),
            )

    def delete(self, area: Area, key: str) -> None:
        name = self._name(area, key)
        with self._errors("delete", name):  # deleting a missing object succeeds, as locally
            self._client.delete_object(Bucket=self.bucket, Key=name)

    def keys_older_than(self, area: Area, seconds: float) -> Iterator[str]:
        cutoff = time.time() - seconds
        folder = self._folder(area)
        pages = self._client.get_paginator("list_objects_v2")
        with self._errors("list", folder):
            for page in pages.paginate(Bucket=self.bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    key = cast(str, item["Key"])[len(folder) :]
                    # Deeper names are not vigil's: its keys never contain a slash.
                    if "/" not in key and item["LastModified"].timestamp() < cutoff:
                        yield key

    def sweep_temporary(self) -> int:
        """Nothing vigil can see: an object appears only once its upload completes. Parts of an
        interrupted multipart upload are the bucket's lifecycle rule's to remove
        (docs/storage.md)."""
        return 0

    @contextmanager
    def _errors(
        self, action: str, name: str, *, missing: type[Exception] | None = None
    ) -> Iterator[None]:
        """botocore errors become StorageUnavailable; a missing object becomes ``missing``
        when given (callers treat it like a missing local file)."""
        location = f"s3://{self.bucket}/{name}"
        try:
            yield
        except ClientError as error:
            if missing is not None and _error_code(error) in MISSING_CODES:
                raise missing(f"no blob at {location}") from error
            raise StorageUnavailable(self._explain(action, location, error)) from error
        except (BotoCoreError, Boto3Error) as error:  # Boto3Error: failed managed transfers
            raise StorageUnavailable(self._explain(action, location, error)) from error

    def _explain(self, action: str, location: str, error: Exception) -> str:
        endpoint = self.endpoint_url or "AWS S3"
        return f"blob store unavailable: {action} {location} at {endpoint} failed: {error}"


def client_config(endpoint_url: str | None) -> Config:
    """botocore settings for every S3 client vigil makes (blobs, Rekognition S3 objects, SQS
    ingest reads)."""
    # Short connect timeout and few retries: a request waits on this, and a dead store should
    # fail it within seconds rather than minutes.
    options: dict[str, Any] = {
        "connect_timeout": 5,
        "read_timeout": 60,
        "retries": {"mode": "standard", "max_attempts": 3},
    }
    if endpoint_url:
        # Many S3-compatible servers reject the CRC checksums botocore now adds by default.
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return Config(**options)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _CountingReader:
    """Counts the bytes read. Only ``read`` is offered, so boto3 streams the source part by
    part instead of seeking around in it, and each byte is counted once.

    Reads are filled to the size asked for: boto3 takes a short read for the end of the file
    and then reads "the rest" in one call, which from a pipe could be everything."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        wanted = size if size >= 0 else None
        parts: list[bytes] = []
        got = 0
        while wanted is None or got < wanted:
            ask = CHUNK_BYTES if wanted is None else min(CHUNK_BYTES, wanted - got)
            chunk = self._source.read(ask)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        self.count += got
        return b"".join(parts)


class RangedReader(io.RawIOBase):
    """An S3 object as a seekable raw file: each read is one ranged GET of at most the store's
    ``read_range_bytes`` (a ``BufferedReader`` above it turns small reads into full ranges)."""

    def __init__(self, store: S3BlobStore, name: str, size: int) -> None:
        self._store = store
        self._name = name
        self.size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._store.read_range_bytes, self.size - self._position)
        if wanted <= 0:
            return 0
        data = self._store.read_range(self._name, self._position, wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
