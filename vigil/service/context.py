"""Everything a running vigil needs, built once from settings and shared by HTTP, CLI, worker."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.policy.model import Policy
from vigil.policy.sources import policy_sources
from vigil.service.assets import AssetService
from vigil.service.keys import ensure_admin_key
from vigil.service.moderation import ModerationEngine
from vigil.service.policies import PolicyRepository
from vigil.service.presets import PresetRepository
from vigil.settings import Settings
from vigil.storage.blobs import LocalBlobStore
from vigil.storage.db import Database, migrate


@dataclass
class Vigil:
    settings: Settings
    db: Database
    blobs: LocalBlobStore
    engine: ModerationEngine
    policies: PolicyRepository
    presets: PresetRepository
    assets: AssetService

    def policy(self, name: str | None = None) -> Policy:
        """The active version of ``name``, or of the default policy."""
        return self.policies.get(name or self.settings.default_policy)

    def close(self) -> None:
        self.db.dispose()


def prepare_database(settings: Settings) -> None:
    """Create the data directory, apply migrations, import changed policy files as new
    versions, and check that the default policy exists."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        policies = PolicyRepository(db)
        policies.import_files(policy_sources(settings.policy_dir))
        policies.get(settings.default_policy)  # fail at start-up, not on first upload
    finally:
        db.dispose()


def prepare_storage(settings: Settings) -> str | None:
    """``prepare_database``, then create the first admin key. Returns that key's secret when
    one was created (shown once), else None."""
    prepare_database(settings)
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
    policies = PolicyRepository(db)
    assets = AssetService(db, blobs, engine, policies)
    return Vigil(settings, db, blobs, engine, policies, PresetRepository(db, policies), assets)
