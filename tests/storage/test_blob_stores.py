"""One contract, every blob store: the local directory and S3 (moto's server) behave alike."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import boto3
import pytest

from tests.conftest import S3_TEST_ENV
from tests.servers import free_port
from vigil.app import build
from vigil.errors import InvalidParameter, StorageUnavailable
from vigil.settings import Settings
from vigil.storage.blobs import CHUNK_BYTES, Area, BlobStore, LocalBlobStore
from vigil.storage.open import open_blob_store
from vigil.storage.s3 import MULTIPART_BYTES, S3BlobStore

INVALID_KEYS = ["", "a/b", "a\\b", ".hidden", "..", "../escape"]


class PipeLike(io.RawIOBase):
    """A non-seekable stream that, like a pipe, returns short reads and fails a read of
    "everything" unless at the end, so a store that loads the whole file at once fails."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self._size = len(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            assert self._data.tell() == self._size, "the whole rest of the stream was read"
        return self._data.read(min(size, 100_000) if size >= 0 else -1)


def test_put_then_get_exists_and_delete(blob_store: BlobStore) -> None:
    assert not blob_store.exists(Area.ORIGINALS, "ab12")
    blob_store.put(Area.ORIGINALS, "ab12", b"first")
    blob_store.put(Area.ORIGINALS, "ab12", b"second")  # a put replaces
    assert blob_store.get(Area.ORIGINALS, "ab12") == b"second"
    assert blob_store.exists(Area.ORIGINALS, "ab12")
    assert not blob_store.exists(Area.QUARANTINE, "ab12")  # areas are separate
    blob_store.delete(Area.ORIGINALS, "ab12")
    assert not blob_store.exists(Area.ORIGINALS, "ab12")
    blob_store.delete(Area.ORIGINALS, "ab12")  # deleting what is gone is not an error


def test_copy_leaves_the_source_in_place(blob_store: BlobStore) -> None:
    blob_store.put(Area.ORIGINALS, "cd34", b"\x00bytes\xff")
    blob_store.copy("cd34", Area.ORIGINALS, Area.QUARANTINE)
    assert blob_store.get(Area.QUARANTINE, "cd34") == b"\x00bytes\xff"
    assert blob_store.get(Area.ORIGINALS, "cd34") == b"\x00bytes\xff"


def test_a_missing_blob_is_file_not_found(blob_store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        blob_store.get(Area.ORIGINALS, "nothing")
    with pytest.raises(FileNotFoundError):
        blob_store.copy("nothing", Area.ORIGINALS, Area.QUARANTINE)
    assert not blob_store.exists(Area.QUARANTINE, "nothing")


def test_put_file_streams_in_chunks(blob_store: BlobStore) -> None:
    data = os.urandom(3 * CHUNK_BYTES + 123)
    written = blob_store.put_file(Area.QUARANTINE, "ef56", PipeLike(data))
    assert written == len(data)
    assert blob_store.get(Area.QUARANTINE, "ef56") == data


def test_put_file_of_an_empty_file(blob_store: BlobStore) -> None:
    assert blob_store.put_file(Area.ORIGINALS, "empty", io.BytesIO()) == 0
    assert blob_store.get(Area.ORIGINALS, "empty") == b""


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        blob_store.put(Area.ORIGINALS, key, b"x")
    with pytest.raises(ValueError, match="invalid blob key"):
        blob_store.put_file(Area.ORIGINALS, key, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="invalid blob key"):
        blob_store.get(Area.ORIGINALS, key)
    with pytest.raises(ValueError, match="invalid blob key"):
        blob_store.exists(Area.ORIGINALS, key)
    with pytest.raises(ValueError, match="invalid blob key"):
        blob_store.delete(Area.ORIGINALS, key)


def test_keys_older_than(blob_store: BlobStore) -> None:
    for key in ("old1", "old2"):
        blob_store.put(Area.ORIGINALS, key, b"x")
    blob_store.put(Area.QUARANTINE, "elsewhere", b"x")
    # A negative age puts the cutoff in the future: everything written so far is older.
    assert sorted(blob_store.keys_older_than(Area.ORIGINALS, -60)) == ["old1", "old2"]
    assert list(blob_store.keys_older_than(Area.ORIGINALS, 3600)) == []


# S3 only: what the contract can't see.


def test_s3_layout_is_prefix_area_key(s3_server: str, bucket: str) -> None:
    store = S3BlobStore(bucket, "/tenant/vigil/", endpoint_url=s3_server)
    store.put(Area.QUARANTINE, "ab12", b"x")
    listed = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed["Contents"]] == ["tenant/vigil/quarantine/ab12"]


def test_s3_large_put_file_is_a_multipart_upload(s3_server: str, bucket: str) -> None:
    store = S3BlobStore(bucket, endpoint_url=s3_server)
    data = os.urandom(2 * MULTIPART_BYTES + 5)
    assert store.put_file(Area.ORIGINALS, "big", PipeLike(data)) == len(data)
    head = boto3.client("s3", endpoint_url=s3_server).head_object(
        Bucket=bucket, Key="originals/big"
    )
    assert head["ETag"].strip('"').endswith("-3")  # S3 marks multipart ETags with a part count
    assert store.get(Area.ORIGINALS, "big") == data


def test_unreachable_s3_is_storage_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in S3_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    store = S3BlobStore("bucket", endpoint_url=closed)
    with pytest.raises(StorageUnavailable, match="Could not connect") as raised:
        store.put(Area.ORIGINALS, "ab12", b"x")
    assert closed in raised.value.message
    assert raised.value.status == 503
    with pytest.raises(StorageUnavailable):
        store.get(Area.ORIGINALS, "ab12")
    with pytest.raises(StorageUnavailable):
        list(store.keys_older_than(Area.ORIGINALS, 0))


def test_a_missing_bucket_is_storage_unavailable_not_a_missing_blob(s3_server: str) -> None:
    store = S3BlobStore(f"absent-{uuid.uuid4().hex}", endpoint_url=s3_server)
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.get(Area.ORIGINALS, "ab12")
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.put(Area.ORIGINALS, "ab12", b"x")


# Choosing the store from settings.


def test_an_empty_blob_url_is_the_local_directory(tmp_path: Path) -> None:
    store = open_blob_store(Settings(data_dir=tmp_path))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"


def test_an_s3_blob_url_names_bucket_and_prefix(s3_server: str) -> None:
    settings = Settings(blob_url="s3://media/vigil/prod", s3_endpoint_url=s3_server)
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.endpoint_url) == ("media", "vigil/prod", s3_server)
    on_aws = open_blob_store(Settings(blob_url="s3://media"))
    assert isinstance(on_aws, S3BlobStore)
    assert (on_aws.prefix, on_aws.endpoint_url) == ("", None)


@pytest.mark.parametrize("url", ["s3://", "gs://media", "media", "s3://user@media/x", "s3://m?x=1"])
def test_other_blob_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidParameter, match="VIGIL_BLOB_URL"):
        open_blob_store(Settings(blob_url=url))


def test_the_service_uses_the_configured_store(tmp_path: Path, s3_server: str, bucket: str) -> None:
    settings = Settings(data_dir=tmp_path, blob_url=f"s3://{bucket}", s3_endpoint_url=s3_server)
    running = build(settings)  # detectors created, not loaded: cheap
    try:
        assert isinstance(running.blobs, S3BlobStore)
        assert running.blobs.bucket == bucket
    finally:
        running.close()


def test_a_failed_streamed_upload_is_storage_unavailable(s3_server: str) -> None:
    store = S3BlobStore(f"absent-{uuid.uuid4().hex}", endpoint_url=s3_server)
    for size in (10, MULTIPART_BYTES + 1):  # a single PUT and a multipart upload
        with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
            store.put_file(Area.ORIGINALS, "ab12", io.BytesIO(bytes(size)))
