"""When PostgreSQL restarts, vigil's Database recovers by itself: no new engine, no restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.servers import PostgresServer, ServerUnavailable, start_postgres
from vigil.storage.db import Database, migrate
from vigil.storage.tables import ApiKeyRow


@pytest.fixture
def database() -> Iterator[tuple[PostgresServer, Database]]:
    """A migrated Database on a cluster of its own, so restarting it disturbs no other test."""
    try:
        server = start_postgres()
    except ServerUnavailable as error:
        pytest.fail(f"cannot start the test PostgreSQL server: {error}", pytrace=False)
    try:
        migrate(server.url)
        db = Database(server.url)
        yield server, db
        db.dispose()
    finally:
        server.stop()


def insert_key(db: Database, number: int) -> None:
    with db.session() as session:
        session.add(
            ApiKeyRow(id=f"k{number}", key_hash=f"h{number}", role="admin", created_at=now())
        )


def add_key(db: Database, number: int) -> int:
    """Insert one row in one session, count the rows in another; returns the count."""
    insert_key(db, number)
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ApiKeyRow)) or 0


def now() -> datetime:
    return datetime.now(UTC)


def test_sessions_after_a_restart_succeed(database: tuple[PostgresServer, Database]) -> None:
    server, db = database
    for number in range(10):
        if number == 5:
            # Every pooled connection is now dead; pre-ping must notice and reconnect.
            server.restart()
        assert add_key(db, number) == number + 1


def test_only_the_session_cut_by_the_restart_fails(
    database: tuple[PostgresServer, Database],
) -> None:
    server, db = database
    add_key(db, 0)
    with pytest.raises(OperationalError), db.session() as session:
        session.execute(select(1))
        server.restart()
        session.add(ApiKeyRow(id="lost", key_hash="lost", role="admin", created_at=now()))
    assert add_key(db, 1) == 2  # the cut session's row was never committed


def test_work_in_flight_resumes_after_the_restart(
    database: tuple[PostgresServer, Database],
) -> None:
    server, db = database
    done: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        number = 0
        while not stop.is_set():
            try:
                insert_key(db, number)
                done.append(number)
            except OperationalError as error:  # only while the server is down
                failures.append(error)
                time.sleep(0.05)
            number += 1

    worker = threading.Thread(target=work)
    worker.start()
    try:
        wait_for(lambda: len(done) >= 20)
        server.restart()
        restarted_at = len(done)
        wait_for(lambda: len(done) >= restarted_at + 20)
    finally:
        stop.set()
        worker.join(timeout=30)
    with db.session() as session:
        stored = set(session.scalars(select(ApiKeyRow.id)))
    # A commit cut by the restart may have landed or not; a reported success must have.
    assert {f"k{number}" for number in done} <= stored
    assert all(isinstance(error, OperationalError) for error in failures)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
