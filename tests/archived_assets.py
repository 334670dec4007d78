"""Decided assets of a chosen age and media type, for the archive tests.

Uploading a real video is not needed: an image upload whose row says ``media_type='video'``
is what the archive sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from tests.images import coffee_jpeg
from vigil.app import Vigil
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Principal, Role
from vigil.service.assets.uploads import UploadRequest
from vigil.service.policies.presets import UploadOptions
from vigil.settings import Settings
from vigil.storage.blobs import MEDIA_AREAS, BlobStore, LocalBlobStore
from vigil.storage.s3 import S3BlobStore
from vigil.storage.tables import AssetRow

REVIEWER = Principal(key_id="reviewer-key", role=Role.REVIEWER)
ADMIN = Principal(key_id="admin-key", role=Role.ADMIN)


def store_settings(store: BlobStore) -> dict[str, Any]:
    """Settings that open ``store`` again (a fixture's local directory or S3 bucket)."""
    if isinstance(store, S3BlobStore):
        return {
            "blob_url": f"s3://{store.bucket}/{store.prefix}",
            "s3_endpoint_url": store.endpoint_url or "",
        }
    assert isinstance(store, LocalBlobStore)
    return {"blob_dir": store.root}


def settings_for(data_dir: Path, policy_dir: Path, **values: Any) -> Settings:
    return Settings(data_dir=data_dir, policy_dir=policy_dir, **values)


def upload(vigil: Vigil, owner: Principal, *, rejected: bool = False) -> str:
    """An approved upload (moderation none: no detectors), or one block-all rejects."""
    options = UploadOptions(policy="block-all") if rejected else UploadOptions(moderation="none")
    asset = vigil.uploads.upload(coffee_jpeg(), UploadRequest("x.jpg", options), owner)
    assert asset["status"] == ("rejected" if rejected else "approved"), asset["status"]
    return str(asset["id"])


def uploader(vigil: Vigil) -> Principal:
    """An uploader key that may skip moderation (``upload`` uses moderation=none)."""
    issued = vigil.keys.create(ADMIN, "uploader", grants=["skip-moderation"])
    return authenticate(vigil.db, f"Bearer {issued.secret}")


def set_row(vigil: Vigil, asset_id: str, **values: Any) -> None:
    with vigil.db.session() as session:
        session.execute(update(AssetRow).where(AssetRow.id == asset_id).values(**values))


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def decided(
    vigil: Vigil,
    owner: Principal,
    *,
    rejected: bool = False,
    media_type: str = "video",
    age_days: float = 40,
) -> str:
    """A decided asset whose decision is ``age_days`` old."""
    asset_id = upload(vigil, owner, rejected=rejected)
    set_row(vigil, asset_id, media_type=media_type, decided_at=days_ago(age_days))
    return asset_id


def row(vigil: Vigil, asset_id: str) -> AssetRow:
    with vigil.db.session() as session:
        found = session.get(AssetRow, asset_id)
    assert found is not None
    return found


def actions(vigil: Vigil, asset_id: str) -> list[str]:
    return [event["action"] for event in vigil.assets.audit(asset_id, ADMIN)]


def areas_holding(vigil: Vigil, asset_id: str) -> list[str]:
    """The areas that have a copy of the asset's bytes."""
    return [area.value for area in MEDIA_AREAS if vigil.blobs.exists(area, asset_id)]
