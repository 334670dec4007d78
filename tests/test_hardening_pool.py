"""Issue 16, item 7: 500s after a crash. Retrying in-flight uploads after `vigil serve` was
killed answered 500 after 30-64 s: each replay of an Idempotency-Key held one pooled
connection and waited for a second, so enough concurrent replays emptied the pool and waited
on one another until the pool timeout. Now a request uses one connection, the pool has one
per thread that uses it, and a pool or lock timeout answers 503 ServiceBusy with Retry-After.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from tests.conftest import running_vigil
from tests.hostile import photo_jpeg
from tests.servers import PostgresServer, VigilServer, start_vigil_serve
from vigil.api.app import create_app
from vigil.app import SERVICE_THREADS, Vigil
from vigil.errors import ServiceBusy
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.assets.uploads import INLINE_THREADS
from vigil.service.engine.moderation import ModerationEngine
from vigil.storage.db import Database, PoolLimits, database_refusal

UPLOADS = 200  # as in the report
CLIENTS = 8
LEASE_SECONDS = 3  # the killed server's jobs come back soon after the restart
POOL_TIMEOUT_SECONDS = 30  # the default: a pool stall shows as an answer this slow
PHOTO = photo_jpeg()  # 160 x 120: small, so the test measures the database, not detectors


# -- the reported scenario, on a real server ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    index: int
    status: int
    asset_id: str  # or the error code
    seconds: float


def test_retried_uploads_after_a_crash_get_no_5xx(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(data_dir),
        "VIGIL_DETECTORS": "nsfw",
        "VIGIL_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    database = data_dir / "vigil.db"
    first = start_vigil_serve(env)
    try:
        # Killed when most uploads are stored: some answered, some stored but unanswered.
        answered = asyncio.run(_crash_midway(first, database, stored=UPLOADS * 4 // 5))
    finally:
        first.process.kill()
        first.process.wait(timeout=30)
    second = start_vigil_serve(env, admin_key=first.admin_key)
    try:
        retried = asyncio.run(_upload_all(second))
        _wait_until(lambda: _count(database, "status = 'processing'") == 0, 60)
    finally:
        second.stop()
    assert [a for a in retried if a.status not in (201, 202)] == []
    assert max(a.seconds for a in retried) < POOL_TIMEOUT_SECONDS - 5
    assert all(retried[index].asset_id == asset_id for index, asset_id in answered.items())
    assert _count(database) == UPLOADS  # every retry of a stored upload replayed it


async def _crash_midway(server: VigilServer, database: Path, stored: int) -> dict[int, str]:
    """Upload everything at once, SIGKILL the server once ``stored`` assets are in the
    database; returns the asset ids of the uploads that were answered."""
    clients = _clients(server)
    tasks = [asyncio.create_task(_upload(clients, index)) for index in range(UPLOADS)]
    deadline = time.monotonic() + 90
    while _count(database) < stored:
        assert time.monotonic() < deadline, f"only {_count(database)} uploads were stored"
        await asyncio.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    await _close(clients)
    return {
        answer.index: answer.asset_id
        for answer in outcomes
        if isinstance(answer, Answer) and answer.status in (201, 202)
    }


async def _upload_all(server: VigilServer) -> list[Answer]:
    clients = _clients(server)
    answers = await asyncio.gather(*(_upload(clients, index) for index in range(UPLOADS)))
    await _close(clients)
    return list(answers)


async def _upload(clients: list[httpx.AsyncClient], index: int) -> Answer:
    started = time.monotonic()
    response = await clients[index % CLIENTS].post(
        "/v1/assets",
        files={"file": (f"{index}.jpg", PHOTO, "image/jpeg")},
        headers={"Idempotency-Key": f"upload-{index}"},
    )
    body = response.json()
    found = body["id"] if response.status_code < 300 else body["error"]["code"]
    return Answer(index, response.status_code, found, time.monotonic() - started)


def _clients(server: VigilServer) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=UPLOADS // CLIENTS + 1)
    return [
        httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=90, limits=limits)
        for _ in range(CLIENTS)
    ]


async def _close(clients: list[httpx.AsyncClient]) -> None:
    for client in clients:
        await client.aclose()


def _count(database: Path, where: str = "1 = 1") -> int:
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        found: int = connection.execute(f"SELECT count(*) FROM assets WHERE {where}").fetchone()[0]
    return found


def _wait_until(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the assets were not all decided in time"
        time.sleep(0.2)


# -- pool and lock timeouts, in process --------------------------------------------------------


@pytest.fixture
def tight(tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path) -> Iterator[Vigil]:
    """One connection, short timeouts: a fault the test causes shows within a second."""
    with running_vigil(
        tmp_path,
        nsfw_engine,
        policy_dir,
        db_pool_size=1,
        db_pool_timeout_seconds=0.5,
        db_lock_timeout_seconds=0.2,
    ) as stack:
        yield stack


@pytest.fixture
def api(tight: Vigil) -> Iterator[TestClient]:
    with TestClient(create_app(tight, run_worker=False)) as client:
        client.headers["Authorization"] = f"Bearer {create_key(tight.db, Role.ADMIN)}"
        yield client


def test_a_pool_timeout_answers_503_with_retry_after(tight: Vigil, api: TestClient) -> None:
    with tight.db.engine.connect():  # the pool's only connection, held
        listed = api.get("/v1/assets")  # waits in the route's dependencies
        uploaded = _upload_sync(api)  # waits in the body limit's key check
    _assert_busy(listed)
    _assert_busy(uploaded)
    assert api.get("/v1/assets").status_code == 200  # served again once it is free


def test_a_sqlite_lock_timeout_answers_503(tight: Vigil, api: TestClient) -> None:
    asset_id = _upload_sync(api, "?async=true").json()["id"]
    with _write_lock(tight.settings.data_dir / "vigil.db"):
        uploaded = _upload_sync(api, "?async=true")  # the upload's own transaction
        overridden = api.post(f"/v1/assets/{asset_id}/moderation", json={"status": "approved"})
    _assert_busy(uploaded)
    _assert_busy(overridden)
    assert [asset["id"] for asset in api.get("/v1/assets").json()["assets"]] == [asset_id]


def test_a_replay_needs_one_connection(tight: Vigil, api: TestClient) -> None:
    # With one pooled connection, a replay that read the asset in a second session would wait
    # for itself until the pool timeout.
    key = {"Idempotency-Key": "once"}
    first = _upload_sync(api, "?async=true", key)
    again = _upload_sync(api, "?async=true", key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_the_pool_has_a_connection_per_thread(
    tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path
) -> None:
    with running_vigil(tmp_path, nsfw_engine, policy_dir, http_threads=10) as stack:
        pool = stack.db.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 10 + 1 + INLINE_THREADS + SERVICE_THREADS  # HTTP, worker, others


def test_a_postgresql_lock_timeout_is_service_busy(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("lock_timeout")
    db = Database(url, PoolLimits(size=2, lock_timeout_seconds=0.2))
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE held (id int PRIMARY KEY)"))
            session.execute(text("INSERT INTO held VALUES (1)"))
        with db.session() as holder:
            holder.execute(text("SELECT id FROM held FOR UPDATE"))
            with pytest.raises(OperationalError) as raised, db.session() as waiter:
                waiter.execute(text("UPDATE held SET id = 2"))
        refusal = database_refusal(raised.value)
        assert isinstance(refusal, ServiceBusy)
        assert refusal.retry_after > 0
    finally:
        db.dispose()
        postgres_server.drop_database("lock_timeout")


def _upload_sync(
    api: TestClient, query: str = "", headers: dict[str, str] | None = None
) -> Any:  # TestClient's response
    files = {"file": ("a.jpg", PHOTO, "image/jpeg")}
    return api.post(f"/v1/assets{query}", files=files, headers=headers or {})


def _assert_busy(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert (set(error), error["code"]) == ({"code", "message"}, "ServiceBusy")
    assert answer.headers["Retry-After"] == "2"


@contextmanager
def _write_lock(database: Path) -> Iterator[None]:
    """SQLite's write lock, held by another connection (another process, in production)."""
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
