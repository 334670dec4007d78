"""Engine, sessions and migrations for the metadata database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from vigil.errors import DatabaseUnavailable, ServiceBusy, VigilError

# PostgreSQL connections a pool keeps while idle (SQLAlchemy's default); the rest of its size
# opens on demand and closes on return, so the server does not hold a large pool's connections
# for an idle process. SQLite keeps them all: they are cheap, and reopening one costs pragmas.
PG_KEPT_OPEN = 5
BUSY_RETRY_AFTER_SECONDS = 2  # a pool or lock wait past its timeout passes within seconds
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout


@dataclass(frozen=True)
class PoolLimits:
    """Connections one engine opens at most, how long a thread waits for a free one, and how
    long a statement waits for a lock (defaults: SQLAlchemy's pool, SQLite's old timeout)."""

    size: int = 15
    timeout_seconds: float = 30.0
    lock_timeout_seconds: float = 30.0


def make_engine(url: str, limits: PoolLimits | None = None) -> Engine:
    limits = limits or PoolLimits()
    if url.startswith("sqlite"):
        # Threads of one process share the engine; WAL lets readers run beside the writer.
        connect = {"check_same_thread": False, "timeout": limits.lock_timeout_seconds}
        engine = create_engine(
            url,
            connect_args=connect,
            pool_size=limits.size,
            max_overflow=0,
            pool_timeout=limits.timeout_seconds,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kept = min(PG_KEPT_OPEN, limits.size)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args=_postgres_options(url, limits) if url.startswith("postgresql") else {},
        pool_size=kept,
        max_overflow=limits.size - kept,
        pool_timeout=limits.timeout_seconds,
    )


def _postgres_options(url: str, limits: PoolLimits) -> dict[str, str]:
    """lock_timeout for every session, so a statement stuck behind a row lock gives its
    connection back with an error instead of holding it for as long as the lock lasts."""
    given = make_url(url).query.get("options", "")
    ours = f"-c lock_timeout={max(1, round(limits.lock_timeout_seconds * 1000))}"
    return {"options": f"{given} {ours}".strip() if isinstance(given, str) else ours}


def database_refusal(exc: SQLAlchemyError) -> VigilError:
    """The refusal for a database error: ServiceBusy (with Retry-After) when the database is
    up but no connection or lock came free in time, DatabaseUnavailable otherwise."""
    if is_busy(exc):
        return ServiceBusy(
            "the database is busy; retry in a few seconds",
            retry_after=BUSY_RETRY_AFTER_SECONDS,
        )
    return DatabaseUnavailable("the database could not be reached; retry in a few seconds")


def is_busy(exc: BaseException) -> bool:
    """A pool timeout, SQLite's "database is locked", or PostgreSQL's lock_timeout."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.orig
    if isinstance(cause, sqlite3.OperationalError):
        name = getattr(cause, "sqlite_errorname", None) or ""
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "is locked" in str(cause)
    return getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The newest migration's revision (a test checks it is Alembic's head). A database already there
# is left alone without importing Alembic, which costs a CLI command half a second.
SCHEMA_HEAD = "0019"


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (alembic upgrade head)."""
    if schema_version(url) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("vigil.storage.migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def schema_version(url: str) -> str | None:
    """The revision the database at ``url`` is at; None for a new or unreadable one."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


class Database:
    """A session factory bound to one engine."""

    def __init__(self, url: str, limits: PoolLimits | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, limits)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
