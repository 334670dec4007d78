"""Where a scan reads its objects: a local folder or an S3 prefix, listed and read by key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from vigil.errors import InvalidParameter, ObjectUnreadable


class ScanSource(Protocol):
    def keys(self) -> Iterator[str]: ...

    def read(self, key: str) -> bytes: ...

    def name(self, key: str) -> str: ...


@dataclass(frozen=True)
class SourceSpec:
    """A scan's source, small and picklable: each Ray actor opens its own from it."""

    location: str  # a folder, or s3://bucket/prefix
    endpoint_url: str | None = None
    region: str = "us-east-1"

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    def open(self) -> ScanSource:
        if self.is_s3:
            bucket, prefix = split_s3_url(self.location)
            return S3Source(bucket, prefix, self.endpoint_url, self.region)
        return LocalSource(Path(self.location))


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix); the prefix may be empty."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidParameter(f"expected s3://BUCKET[/PREFIX], not {url!r}")
    return parts.netloc, parts.path.lstrip("/")


class LocalSource:
    """Every file under a folder, recursively, in name order; keys are paths."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InvalidParameter(f"{root} is not a folder")
        self.root = root

    def keys(self) -> Iterator[str]:
        return (str(path) for path in sorted(self.root.rglob("*")) if path.is_file())

    def read(self, key: str) -> bytes:
        try:
            return Path(key).read_bytes()
        except OSError as exc:
            raise ObjectUnreadable(f"cannot read {key}: {exc.strerror}") from exc

    def name(self, key: str) -> str:
        return key


class S3Source:
    """Objects under a prefix, read with the operator's own credentials (boto3's default
    chain) and vigil's S3 settings (endpoint, region); never the Rekognition allowlist, which
    guards what API callers may make vigil read, not what its operator may."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str) -> None:
        import boto3

        from vigil.storage.s3 import client_config

        self.bucket, self.prefix = bucket, prefix
        self._client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=client_config(endpoint_url)
        )

    def keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):  # folder markers some tools create
                        yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            # Nothing to scan at all (no such bucket, no ListBucket right): the run stops.
            where = f"s3://{self.bucket}/{self.prefix}"
            raise InvalidParameter(f"cannot list {where}: {exc}") from exc

    def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read()
        except (ClientError, BotoCoreError) as exc:
            raise ObjectUnreadable(f"cannot read {self.name(key)}: {exc}") from exc
        return data

    def name(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
