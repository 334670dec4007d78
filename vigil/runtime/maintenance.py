"""Housekeeping the background worker runs: removing blobs no asset row points to."""

from __future__ import annotations

import logging

from sqlalchemy import select

from vigil.storage.blobs import MEDIA_AREAS, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow

log = logging.getLogger(__name__)


def sweep_orphan_blobs(db: Database, blobs: BlobStore, grace_seconds: float) -> int:
    """Delete blobs older than the grace period whose asset row is missing or points at the
    other area (left by a crash between writing a blob and committing its row, or between
    the copy and the delete of a move). Returns how many were removed."""
    removed = 0
    for area in MEDIA_AREAS:
        candidates = list(blobs.keys_older_than(area, grace_seconds))
        if not candidates:
            continue
        with db.session() as session:
            kept = set(
                session.scalars(
                    select(AssetRow.id).where(
                        AssetRow.id.in_(candidates), AssetRow.storage_area == area.value
                    )
                )
            )
        for key in candidates:
            if key not in kept:
                blobs.delete(area, key)
                removed += 1
    if removed:
        log.info("removed %d orphan blob(s)", removed)
    return removed
