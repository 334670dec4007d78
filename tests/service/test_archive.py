"""Archiving decided originals after an age and restoring them: on SQLite and PostgreSQL, in
the local directory and on S3, with the crash-safe move checked by injected faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.archived_assets import (
    ADMIN,
    REVIEWER,
    actions,
    areas_holding,
    days_ago,
    decided,
    row,
    set_row,
    settings_for,
    store_settings,
    upload,
    uploader,
)
from tests.images import coffee_jpeg
from vigil.app import Vigil, build, prepare_storage
from vigil.errors import (
    AssetArchived,
    AssetNotDeliverable,
    AssetNotFound,
    Forbidden,
    InvalidTransition,
    StorageUnavailable,
)
from vigil.runtime.background import Background
from vigil.runtime.maintenance import sweep_orphan_blobs
from vigil.service.assets.archive import ArchiveService
from vigil.service.assets.service import AssetService
from vigil.service.assets.uploads import UploadRequest
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.policies.presets import UploadOptions
from vigil.settings import Settings
from vigil.storage.blobs import Area, BlobStore

BuildStack = Callable[..., Vigil]


@pytest.fixture
def make_stack(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[BuildStack]:
    """Builds a vigil on the default SQLite database and local directory, with settings."""
    built: list[Vigil] = []

    def make(**values: Any) -> Vigil:
        settings = settings_for(tmp_path / f"data{len(built)}", policy_dir, **values)
        prepare_storage(settings)
        built.append(build(settings, engine))
        return built[-1]

    yield make
    for running in built:
        running.close()


@pytest.fixture
def stack(
    tmp_path: Path,
    database_url: str,
    blob_store: BlobStore,
    engine: ModerationEngine,
    policy_dir: Path,
) -> Iterator[Vigil]:
    """A vigil on each database and each blob store."""
    settings = settings_for(
        tmp_path / "data", policy_dir, database_url=database_url, **store_settings(blob_store)
    )
    prepare_storage(settings)
    running = build(settings, engine)
    yield running
    running.close()


# -- archiving, on every database and store --------------------------------------------------


def test_decided_videos_past_the_age_move_to_the_archive(stack: Vigil) -> None:
    owner = uploader(stack)
    approved = decided(stack, owner)
    rejected = decided(stack, owner, rejected=True)
    young = decided(stack, owner, age_days=1)
    image = decided(stack, owner, media_type="image")
    assert stack.archive.archive_due() == 2
    for asset_id, origin in ((approved, "originals"), (rejected, "quarantine")):
        archived = row(stack, asset_id)
        assert (archived.storage_area, archived.archived_from) == ("archive", origin)
        assert archived.archived_at is not None
        assert areas_holding(stack, asset_id) == ["archive"]
        assert actions(stack, asset_id)[-1] == "archived"
    for asset_id in (young, image):
        assert row(stack, asset_id).storage_area == "originals"
        assert "archived" not in actions(stack, asset_id)
    assert stack.archive.archive_due() == 0  # nothing left that is due


def test_restore_moves_the_bytes_back_where_they_came_from(stack: Vigil) -> None:
    owner = uploader(stack)
    approved, rejected = decided(stack, owner), decided(stack, owner, rejected=True)
    stack.archive.archive_due()
    for asset_id, origin in ((approved, "originals"), (rejected, "quarantine")):
        view = stack.archive.restore(asset_id, REVIEWER)
        assert view["archived_at"] is None
        restored = row(stack, asset_id)
        assert (restored.storage_area, restored.archived_from) == (origin, None)
        assert areas_holding(stack, asset_id) == [origin]
        assert actions(stack, asset_id)[-2:] == ["archived", "restored"]
        data, _mime = stack.assets.content(asset_id, REVIEWER)
        assert data == coffee_jpeg()


# -- what is archived, and when --------------------------------------------------------------


def test_undecided_assets_are_never_archived(make_stack: BuildStack) -> None:
    vigil = make_stack(archive_images=True)
    owner = uploader(vigil)
    undecided = {
        "pending": UploadOptions(moderation="manual"),
        "review": UploadOptions(policy="review-all"),
    }
    for status, options in undecided.items():
        asset = vigil.uploads.upload(coffee_jpeg(), UploadRequest("x.jpg", options), owner)
        assert asset["status"] == status
        set_row(vigil, asset["id"], media_type="video", decided_at=days_ago(400))
    for status in ("processing", "failed"):
        asset_id = upload(vigil, owner)
        set_row(vigil, asset_id, status=status, decided_at=days_ago(400))
    assert vigil.archive.archive_due() == 0


def test_images_are_archived_only_with_archive_images(make_stack: BuildStack) -> None:
    videos_only, everything = make_stack(), make_stack(archive_images=True)
    for vigil, expected in ((videos_only, 0), (everything, 1)):
        decided(vigil, uploader(vigil), media_type="image")
        assert vigil.archive.archive_due() == expected


def test_the_age_is_a_setting_and_zero_turns_archiving_off(make_stack: BuildStack) -> None:
    off, tiny = make_stack(archive_after_days=0), make_stack(archive_after_days=0.5)
    decided(off, uploader(off), age_days=4000)
    assert off.archive.archive_due() == 0
    asset_id = decided(tiny, uploader(tiny), age_days=0.25)
    assert tiny.archive.archive_due() == 0  # six hours old: not yet
    assert tiny.archive.archive_due(datetime.now(UTC) + timedelta(hours=7)) == 1
    assert row(tiny, asset_id).storage_area == "archive"


def test_without_decided_at_the_last_change_counts(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    old, recent = upload(vigil, owner), upload(vigil, owner)
    set_row(vigil, old, media_type="video", decided_at=None, updated_at=days_ago(31))
    set_row(vigil, recent, media_type="video", decided_at=None)
    assert vigil.archive.archive_due() == 1
    assert row(vigil, old).storage_area == "archive"


def test_an_override_is_a_new_decision(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    vigil.assets.override(asset_id, REVIEWER, "rejected", "second look")
    assert vigil.archive.archive_due() == 0
    assert vigil.archive.archive_due(datetime.now(UTC) + timedelta(days=31)) == 1
    assert row(vigil, asset_id).archived_from == "quarantine"


def test_a_pass_archives_at_most_its_batch(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    oldest, newer = decided(vigil, owner, age_days=50), decided(vigil, owner, age_days=40)
    assert vigil.archive.archive_due(limit=1) == 1
    assert row(vigil, oldest).storage_area == "archive"  # oldest decisions go first
    assert row(vigil, newer).storage_area == "originals"


def test_a_restored_asset_stays_restored_for_another_age(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    vigil.archive.archive_due()
    vigil.archive.restore(asset_id, ADMIN)
    assert vigil.archive.archive_due() == 0  # the decision is old, the restore is not
    assert vigil.archive.archive_due(datetime.now(UTC) + timedelta(days=31)) == 1


def test_archive_and_restore_leave_updated_at_alone(make_stack: BuildStack) -> None:
    # updated_at dates the last moderation change: appeals compare against it.
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    before = vigil.assets.get(asset_id, ADMIN)["updated_at"]
    vigil.archive.archive_due()
    assert vigil.assets.get(asset_id, ADMIN)["updated_at"] == before
    assert vigil.archive.restore(asset_id, ADMIN)["updated_at"] == before


def test_the_maintenance_pass_archives(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    Background(vigil).maintenance.run_once()
    assert row(vigil, asset_id).storage_area == "archive"


def test_an_asset_whose_bytes_are_gone_is_skipped(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    lost, kept = decided(vigil, owner, age_days=50), decided(vigil, owner)
    vigil.blobs.delete(Area.ORIGINALS, lost)
    assert vigil.archive.archive_due() == 1
    assert row(vigil, lost).storage_area == "originals"
    assert row(vigil, kept).storage_area == "archive"


# -- while archived ------------------------------------------------------------------------


def test_metadata_stays_queryable_while_archived(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    asset_id = decided(vigil, owner)
    vigil.archive.archive_due()
    view = vigil.assets.get(asset_id, owner)
    assert view["status"] == "approved" and view["archived_at"] is not None
    listed = vigil.assets.list_page(owner, status="approved", limit=10, cursor=None).assets
    assert [asset["id"] for asset in listed] == [asset_id]
    assert vigil.assets.explain(asset_id, REVIEWER)["status"] == "approved"


def test_content_is_refused_while_archived(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    approved, rejected = decided(vigil, owner), decided(vigil, owner, rejected=True)
    vigil.archive.archive_due()
    for who in (owner, REVIEWER):
        with pytest.raises(AssetArchived, match=f"POST /v1/assets/{approved}/restore"):
            vigil.assets.content(approved, who)
    with pytest.raises(AssetNotDeliverable):  # uploaders never get rejected content
        vigil.assets.content(rejected, owner)
    with pytest.raises(AssetArchived):
        vigil.assets.content(rejected, REVIEWER)


def test_an_override_is_refused_while_archived(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    vigil.archive.archive_due()
    with pytest.raises(AssetArchived):
        vigil.assets.override(asset_id, REVIEWER, "rejected", "second look")
    assert row(vigil, asset_id).status == "approved"
    vigil.archive.restore(asset_id, REVIEWER)
    vigil.assets.override(asset_id, REVIEWER, "rejected", "second look")
    assert areas_holding(vigil, asset_id) == ["quarantine"]


def test_restore_refusals(make_stack: BuildStack) -> None:
    vigil = make_stack()
    owner = uploader(vigil)
    asset_id = decided(vigil, owner)
    with pytest.raises(InvalidTransition, match="not archived"):
        vigil.archive.restore(asset_id, REVIEWER)
    vigil.archive.archive_due()
    with pytest.raises(Forbidden):
        vigil.archive.restore(asset_id, owner)
    with pytest.raises(Forbidden):
        vigil.archive.run(REVIEWER)
    with pytest.raises(AssetNotFound):
        vigil.archive.restore("nope", ADMIN)
    assert vigil.archive.run(ADMIN) == {"archived": 0}


# -- crash safety ----------------------------------------------------------------------------


class Faulty:
    """A blob store that fails where told, around a real one."""

    def __init__(
        self, inner: BlobStore, *, copy: Exception | None = None, delete: bool = False
    ) -> None:
        self.inner = inner
        self.copy_fault = copy
        self.delete_fault = delete
        self.after_copy: Callable[[], object] = lambda: None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def copy(self, key: str, source: Area, target: Area) -> None:
        if self.copy_fault is not None:
            raise self.copy_fault
        self.inner.copy(key, source, target)
        self.after_copy()

    def delete(self, area: Area, key: str) -> None:
        if self.delete_fault:
            raise StorageUnavailable("injected: the process died before the delete")
        self.inner.delete(area, key)


def archiver(vigil: Vigil, store: Faulty) -> ArchiveService:
    return ArchiveService(vigil.db, store, vigil.archive.rules)  # type: ignore[arg-type]


def test_a_failed_copy_leaves_the_row_and_the_bytes_alone(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    broken = Faulty(vigil.blobs, copy=StorageUnavailable("injected: S3 is down"))
    with pytest.raises(StorageUnavailable):  # the pass fails; the next one retries
        archiver(vigil, broken).archive_due()
    unchanged = row(vigil, asset_id)
    assert (unchanged.storage_area, unchanged.archived_at) == ("originals", None)
    assert areas_holding(vigil, asset_id) == ["originals"]
    assert "archived" not in actions(vigil, asset_id)
    assert vigil.archive.archive_due() == 1


def test_a_row_that_changed_after_the_copy_keeps_its_bytes(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    racing = Faulty(vigil.blobs)
    # A reviewer's override lands between the archive's copy and its compare-and-set.
    racing.after_copy = lambda: set_row(vigil, asset_id, status="rejected")
    assert archiver(vigil, racing).archive_due() == 0
    assert row(vigil, asset_id).storage_area == "originals"
    assert sorted(areas_holding(vigil, asset_id)) == ["archive", "originals"]
    assert sweep_orphan_blobs(vigil.db, vigil.blobs, grace_seconds=-60) == 1
    assert areas_holding(vigil, asset_id) == ["originals"]  # the stale copy was swept


def test_a_crash_before_the_delete_leaves_a_copy_the_sweep_removes(
    make_stack: BuildStack,
) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    with pytest.raises(StorageUnavailable):
        archiver(vigil, Faulty(vigil.blobs, delete=True)).archive_due()
    assert row(vigil, asset_id).storage_area == "archive"  # committed
    assert sorted(areas_holding(vigil, asset_id)) == ["archive", "originals"]
    assert sweep_orphan_blobs(vigil.db, vigil.blobs, grace_seconds=-60) == 1
    assert areas_holding(vigil, asset_id) == ["archive"]


def test_a_failed_restore_copy_leaves_it_archived(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    vigil.archive.archive_due()
    broken = Faulty(vigil.blobs, copy=StorageUnavailable("injected"))
    with pytest.raises(StorageUnavailable):
        archiver(vigil, broken).restore(asset_id, REVIEWER)
    assert row(vigil, asset_id).storage_area == "archive"
    assert areas_holding(vigil, asset_id) == ["archive"]


def test_an_override_racing_the_archive_is_told_to_retry(make_stack: BuildStack) -> None:
    vigil = make_stack()
    asset_id = decided(vigil, uploader(vigil))
    racing = Faulty(vigil.blobs)
    # The worker archives the asset between the override's copy and its compare-and-set.
    racing.after_copy = vigil.archive.archive_due
    assets = AssetService(vigil.db, racing, vigil.engine, vigil.policies)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition, match="changed meanwhile"):
        assets.override(asset_id, REVIEWER, "rejected", "")
    archived = row(vigil, asset_id)
    assert (archived.status, archived.storage_area) == ("approved", "archive")
    with pytest.raises(AssetArchived):
        assets.override(asset_id, REVIEWER, "rejected", "")


def test_the_default_settings() -> None:
    settings = Settings()
    assert settings.archive_after_days == 30
    assert settings.archive_images is False
    assert settings.s3_archive_storage_class == "GLACIER_IR"
