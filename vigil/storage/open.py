"""Pick the blob store the settings name (its own module: it imports every store)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from vigil.errors import InvalidParameter
from vigil.settings import Settings
from vigil.storage.archive_class import archive_storage_class
from vigil.storage.blobs import BlobStore, LocalBlobStore

# Bucket names: letters, digits, dots, dashes (and underscores, which some servers allow).
BUCKET = re.compile(r"[A-Za-z0-9._-]+")


def open_blob_store(settings: Settings) -> BlobStore:
    """The local directory when ``blob_url`` is empty, else the S3 bucket it names."""
    url = settings.blob_url.strip()
    # Checked for the local directory too: a value that would break S3 is refused at start-up.
    archive_class = archive_storage_class(settings.s3_archive_storage_class)
    if not url:
        return LocalBlobStore(settings.resolved_blob_dir)
    parts = urlsplit(url)
    bucket_ok = BUCKET.fullmatch(parts.netloc) is not None
    if parts.scheme != "s3" or not bucket_ok or parts.query or parts.fragment:
        raise InvalidParameter(
            f"VIGIL_BLOB_URL must be empty (local directory) or s3://bucket[/prefix], not {url!r}"
        )
    from vigil.storage.s3 import S3BlobStore  # boto3: only for an S3 store

    return S3BlobStore(
        parts.netloc,
        parts.path.strip("/"),
        endpoint_url=settings.s3_endpoint_url.strip() or None,
        region=settings.s3_region,
        archive_class=archive_class,
    )
