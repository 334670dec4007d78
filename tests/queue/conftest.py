"""A migrated database and a queue with a hand-driven clock, for each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vigil.queue.jobs import JobQueue, RetryPolicy
from vigil.storage.db import Database, migrate


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    migrate(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(db: Database, clock: ManualClock) -> JobQueue:
    retry = RetryPolicy(max_attempts=3, backoff_seconds=10, backoff_max_seconds=60)
    return JobQueue(db, lease_seconds=30, retry=retry, clock=clock)
