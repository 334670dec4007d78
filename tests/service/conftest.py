"""Fixtures of the service-layer tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review_helpers import add_policies
from vigil.app import Vigil, build, prepare_storage
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


@pytest.fixture
def on_both(
    tmp_path: Path, database_url: str, engine: ModerationEngine, policy_dir: Path
) -> Iterator[Vigil]:
    """A vigil on SQLite, then PostgreSQL, with the review policies (tests.review_helpers)."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, policy_dir=policy_dir
    )
    prepare_storage(settings)
    running = build(settings, engine)
    add_policies(running)
    yield running
    running.close()
