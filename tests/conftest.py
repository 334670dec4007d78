"""Shared fixtures: one loaded ModerationEngine (real models) and a fresh vigil per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vigil.api.app import create_app
from vigil.service.context import Vigil, build, prepare_storage
from vigil.service.keys import create_key
from vigil.service.moderation import ModerationEngine
from vigil.service.principal import Role
from vigil.settings import Settings

# Test-only policies that force each outcome on any photo, so quarantine and review paths run
# through the real detectors: open_nsfw always reports an "Explicit" score, however low.
TEST_POLICIES = {
    "block-all": "name: block-all\ncategories:\n  Explicit: {block: 0}\n",
    "review-all": "name: review-all\ncategories:\n  Explicit: {review: 0}\n",
}


@pytest.fixture(scope="session")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("policies")
    for name, text in TEST_POLICIES.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


@pytest.fixture(scope="session")
def engine(policy_dir: Path) -> ModerationEngine:
    loaded = ModerationEngine(Settings(policy_dir=policy_dir))
    loaded.load()
    return loaded


@pytest.fixture
def vigil(tmp_path: Path, engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    settings = Settings(data_dir=tmp_path / "data", policy_dir=policy_dir)
    prepare_storage(settings)
    running = build(settings, engine)
    yield running
    running.close()


@dataclass
class Keys:
    admin: str
    uploader: str
    other_uploader: str
    reviewer: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def keys(vigil: Vigil) -> Keys:
    return Keys(
        admin=create_key(vigil.db, Role.ADMIN),
        uploader=create_key(vigil.db, Role.UPLOADER),
        other_uploader=create_key(vigil.db, Role.UPLOADER),
        reviewer=create_key(vigil.db, Role.REVIEWER),
    )


@pytest.fixture
def client(vigil: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(vigil, run_worker=False)) as test_client:
        yield test_client
