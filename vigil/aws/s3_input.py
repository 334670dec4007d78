"""Which S3 objects a Rekognition caller may have vigil read (``Image.S3Object``,
``Video.S3Object``).

vigil reads them with its own S3 credentials, which reach more than any one caller should:
its own blob bucket above all, where every tenant's uploads are kept. So a caller names only
objects under the buckets and prefixes the operator allowed (``VIGIL_REKOGNITION_S3_INPUTS``;
empty: S3 input is off), never vigil's own blob area, and every object it may not read answers
exactly as a missing one does (``InvalidS3ObjectException``), so the refusal tells nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from botocore.exceptions import NoCredentialsError

from vigil.aws.rekognition_input import S3Location
from vigil.aws.s3_objects import read_object, spool_object, unreadable
from vigil.errors import StorageUnavailable
from vigil.settings import Settings

ANY_BUCKET = "*"  # the allowlist entry that restores reading any bucket (docs/upgrading.md)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class S3Area:
    """A bucket, or the keys under one folder of it (``prefix`` ends in ``/``; "" = all)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, entry: str) -> S3Area:
        bucket, _, prefix = entry.strip().removeprefix("s3://").partition("/")
        prefix = prefix.strip("/")
        return cls(bucket.lower(), f"{prefix}/" if prefix else "")

    def holds(self, bucket: str, key: str) -> bool:
        return bucket.lower() == self.bucket and key.startswith(self.prefix)


@dataclass(frozen=True)
class S3InputRules:
    allowed: tuple[S3Area, ...] = ()
    any_bucket: bool = False
    own: S3Area | None = None  # vigil's blob area: refused whatever the allowlist says

    @classmethod
    def from_settings(cls, settings: Settings) -> S3InputRules:
        entries = [entry for entry in settings.rekognition_s3_inputs if entry.strip()]
        allowed = tuple(S3Area.parse(entry) for entry in entries if entry.strip() != ANY_BUCKET)
        return cls(allowed, any(e.strip() == ANY_BUCKET for e in entries), _own_area(settings))

    def permits(self, bucket: str, key: str) -> bool:
        if not _plain_key(key):
            return False
        if self.own is not None and self.own.holds(bucket, key):
            return False
        return self.any_bucket or any(area.holds(bucket, key) for area in self.allowed)


def _own_area(settings: Settings) -> S3Area | None:
    url = settings.blob_url.strip()
    if not url.startswith("s3://"):
        return None
    parts = urlsplit(url)
    return S3Area.parse(f"{parts.netloc}/{parts.path}")


def _plain_key(key: str) -> bool:
    """No empty, ``.`` or ``..`` segment: some S3-compatible servers resolve them, which would
    let ``photos/../vigil/...`` pass a prefix check and land elsewhere."""
    return all(segment not in ("", ".", "..") for segment in key.split("/"))


def read_input(client: Any, rules: S3InputRules, where: S3Location, limit: int) -> bytes:
    """An image the caller named; InvalidS3Object when it may not or cannot be read."""
    _check(rules, where)
    with _unconfigured_as_unreadable(where):
        return read_object(client, where.bucket, where.name, where.version, limit)


def spool_input(client: Any, rules: S3InputRules, where: S3Location) -> BinaryIO:
    """A video the caller named, spooled; refused as ``read_input`` refuses."""
    _check(rules, where)
    with _unconfigured_as_unreadable(where):
        return spool_object(client, where.bucket, where.name, where.version)


def _check(rules: S3InputRules, where: S3Location) -> None:
    if not rules.permits(where.bucket, where.name):
        log.info("%s is not an allowed Rekognition input (VIGIL_REKOGNITION_S3_INPUTS)", where.url)
        raise unreadable(where.bucket, where.name)


@contextmanager
def _unconfigured_as_unreadable(where: S3Location) -> Iterator[None]:
    """No S3 credentials at all is the operator's problem, not a 500 for the caller: it
    answers as any unreadable object does, and the server log says what is missing."""
    try:
        yield
    except StorageUnavailable as error:
        if not isinstance(error.__cause__, NoCredentialsError):
            raise
        log.warning("reading %s: no S3 credentials are configured", where.url)
        raise unreadable(where.bucket, where.name) from None
