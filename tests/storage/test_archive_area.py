"""The archive area in every blob store: a separate directory locally, a cold storage class on
S3 whose objects read back at once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import pytest

from vigil.errors import InvalidParameter
from vigil.settings import Settings
from vigil.storage.archive_class import archive_storage_class
from vigil.storage.blobs import Area, BlobStore, LocalBlobStore
from vigil.storage.open import open_blob_store
from vigil.storage.s3 import S3BlobStore


def test_a_blob_moves_into_the_archive_and_back(blob_store: BlobStore) -> None:
    blob_store.put(Area.ORIGINALS, "ab12", b"\x00video\xff")
    blob_store.copy("ab12", Area.ORIGINALS, Area.ARCHIVE)
    blob_store.delete(Area.ORIGINALS, "ab12")
    assert blob_store.get(Area.ARCHIVE, "ab12") == b"\x00video\xff"  # readable at once
    assert not blob_store.exists(Area.ORIGINALS, "ab12")
    assert list(blob_store.keys_older_than(Area.ARCHIVE, -60)) == ["ab12"]
    blob_store.copy("ab12", Area.ARCHIVE, Area.QUARANTINE)
    blob_store.delete(Area.ARCHIVE, "ab12")
    assert blob_store.get(Area.QUARANTINE, "ab12") == b"\x00video\xff"
    assert not blob_store.exists(Area.ARCHIVE, "ab12")


def test_the_local_archive_is_its_own_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put(Area.ORIGINALS, "cd34", b"x")
    store.copy("cd34", Area.ORIGINALS, Area.ARCHIVE)
    assert (tmp_path / "archive" / "cd" / "cd34").read_bytes() == b"x"


# S3: the storage class, which the contract can't see.


def storage_class(s3_server: str, bucket: str, key: str) -> str:
    head: dict[str, Any] = boto3.client("s3", endpoint_url=s3_server).head_object(
        Bucket=bucket, Key=key
    )
    return str(head.get("StorageClass", "STANDARD"))  # S3 leaves STANDARD out


def test_s3_archived_objects_are_cold_and_readable(s3_server: str, bucket: str) -> None:
    store = S3BlobStore(bucket, "vigil", endpoint_url=s3_server)
    store.put(Area.ORIGINALS, "ab12", b"bytes")
    assert storage_class(s3_server, bucket, "vigil/originals/ab12") == "STANDARD"
    store.copy("ab12", Area.ORIGINALS, Area.ARCHIVE)
    assert storage_class(s3_server, bucket, "vigil/archive/ab12") == "GLACIER_IR"
    assert store.get(Area.ARCHIVE, "ab12") == b"bytes"
    store.copy("ab12", Area.ARCHIVE, Area.ORIGINALS)  # a restore: warm again
    assert storage_class(s3_server, bucket, "vigil/originals/ab12") == "STANDARD"


def test_s3_writes_into_the_archive_are_cold_too(s3_server: str, bucket: str) -> None:
    store = S3BlobStore(bucket, endpoint_url=s3_server, archive_class="standard_ia")
    store.put(Area.ARCHIVE, "put", b"x")
    store.put_file(Area.ARCHIVE, "streamed", io.BytesIO(b"y"))
    for key in ("archive/put", "archive/streamed"):
        assert storage_class(s3_server, bucket, key) == "STANDARD_IA"


def test_the_archive_class_comes_from_settings(s3_server: str) -> None:
    settings = Settings(
        blob_url="s3://media", s3_endpoint_url=s3_server, s3_archive_storage_class="onezone_ia"
    )
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert store.archive_class == "ONEZONE_IA"
    default = open_blob_store(Settings(blob_url="s3://media", s3_endpoint_url=s3_server))
    assert isinstance(default, S3BlobStore)
    assert default.archive_class == "GLACIER_IR"


@pytest.mark.parametrize("name", ["GLACIER", "deep_archive"])
def test_classes_that_need_a_restore_request_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameter, match="restored for hours") as refused:
        archive_storage_class(name)
    assert "GLACIER_IR" in refused.value.message
    # At start-up, whichever store is configured: the value is wrong either way.
    with pytest.raises(InvalidParameter, match="VIGIL_S3_ARCHIVE_STORAGE_CLASS"):
        open_blob_store(Settings(s3_archive_storage_class=name))


def test_an_unknown_class_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="must be one of"):
        archive_storage_class("FROZEN")
