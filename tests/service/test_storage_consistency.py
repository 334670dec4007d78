"""A crash between writing bytes and committing the row leaves nothing the worker can't clean."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.images import coffee_jpeg
from vigil.app import Vigil
from vigil.runtime.background import Background
from vigil.runtime.maintenance_thread import MaintenanceThread
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Principal, Role
from vigil.service.assets.uploads import UploadRequest
from vigil.storage.blobs import Area
from vigil.storage.tables import AssetRow


def age(vigil: Vigil, area: Area, key: str, seconds: float) -> None:
    path = vigil.blobs.root / area.value / key[:2] / key
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_failed_commit_leaves_no_row_and_no_blob(vigil: Vigil) -> None:
    # A real failure at commit time: the key was deleted between authentication and the
    # insert, so the foreign key refuses the row after the blob was written.
    ghost = Principal(key_id="deleted-key", role=Role.UPLOADER)
    with pytest.raises(IntegrityError):
        vigil.uploads.upload(coffee_jpeg(), UploadRequest("a.jpg"), ghost)
    with vigil.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AssetRow)) == 0
    assert list(vigil.blobs.keys_older_than(Area.ORIGINALS, -1e9)) == []


def test_the_worker_sweeps_blobs_a_crash_left_without_a_row(vigil: Vigil) -> None:
    # A process killed between writing the bytes and committing the row leaves this behind.
    vigil.blobs.put(Area.ORIGINALS, "0badc0ffee", coffee_jpeg())
    owner = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}")
    kept = vigil.uploads.upload(coffee_jpeg(), UploadRequest("b.jpg"), owner)
    for key in ("0badc0ffee", kept["id"]):
        age(vigil, Area.ORIGINALS, key, 3600)
    worker = MaintenanceThread(vigil.db, vigil.blobs, interval=60, orphan_grace=600)
    assert worker.run_once() == 1
    assert not vigil.blobs.exists(Area.ORIGINALS, "0badc0ffee")
    assert vigil.blobs.exists(Area.ORIGINALS, kept["id"])


def test_young_orphans_are_left_alone(vigil: Vigil) -> None:
    vigil.blobs.put(Area.QUARANTINE, "f00d", b"in flight")
    assert MaintenanceThread(vigil.db, vigil.blobs, interval=60, orphan_grace=600).run_once() == 0
    assert vigil.blobs.exists(Area.QUARANTINE, "f00d")


def test_worker_thread_starts_and_stops(vigil: Vigil) -> None:
    vigil.blobs.put(Area.ORIGINALS, "beef", b"orphan")
    age(vigil, Area.ORIGINALS, "beef", 3600)
    worker = MaintenanceThread(vigil.db, vigil.blobs, interval=0.05, orphan_grace=600)
    worker.start()
    deadline = time.time() + 10
    while vigil.blobs.exists(Area.ORIGINALS, "beef") and time.time() < deadline:
        time.sleep(0.05)
    worker.stop()
    assert not vigil.blobs.exists(Area.ORIGINALS, "beef")


def test_maintenance_sweeps_temp_files_an_interrupted_write_left(vigil: Vigil) -> None:
    # A write killed before its rename leaves its temp file; a write going on now is young.
    tmp = vigil.blobs.root / "tmp"
    stale, fresh = tmp / "tmpkilled", tmp / "tmpwriting"
    stale.write_bytes(b"half a photo")
    fresh.write_bytes(b"being written")
    then = time.time() - 2 * 3600
    os.utime(stale, (then, then))
    Background(vigil).maintenance.run_once()
    assert not stale.exists()
    assert fresh.exists()
