"""Everything a running vigil needs, built once from settings and shared by HTTP, CLI, worker."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.service.assets import AssetService
from vigil.service.keys import ensure_admin_key
from vigil.service.moderation import ModerationEngine
from vigil.settings import Settings
from vigil.storage.blobs import LocalBlobStore
from vigil.storage.db import Database, migrate


@dataclass
class Vigil:
    settings: Settings
    db: Database
    blobs: LocalBlobStore
    engine: ModerationEngine
    assets: AssetService

    def close(self) -> None:
        self.db.dispose()


def prepare_storage(settings: Settings) -> str | None:
    """Create the data directory, apply migrations, create the first admin key.
    Returns that key's secret when one was created (shown once), else None."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        return ensure_admin_key(db)
    finally:
        db.dispose()


def build(settings: Settings, engine: ModerationEngine | None = None) -> Vigil:
    """The service objects. Detectors are created but not loaded (``engine.load()``) unless an
    already loaded ``engine`` is passed in."""
    db = Database(settings.resolved_database_url)
    blobs = LocalBlobStore(settings.resolved_blob_dir)
    engine = engine or ModerationEngine(settings)
    return Vigil(settings, db, blobs, engine, AssetService(db, blobs, engine))
