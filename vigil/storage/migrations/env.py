"""Alembic environment: runs migrations against the URL vigil configured.

Migrations run in one transaction that excludes other migrating processes, so servers and
workers that start together on one database take turns: the first applies the migrations, the
others find the schema current. A crash mid-way leaves the previous schema whole.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, engine_from_config, event, pool, text

from vigil.storage.tables import Base

# Any fixed number; PostgreSQL advisory locks are named by integers.
MIGRATION_LOCK_KEY = 7_311_985_201


def _sqlite_engine_with_real_transactions(engine: Engine) -> None:
    """pysqlite does not begin transactions before DDL; take over so that the whole upgrade
    is one ``BEGIN IMMEDIATE`` transaction, which also holds SQLite's write lock."""

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


config = context.config
section = config.get_section(config.config_ini_section, {})
is_sqlite = section.get("sqlalchemy.url", "").startswith("sqlite")
connectable = engine_from_config(
    section,
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
    **({"connect_args": {"timeout": 60}} if is_sqlite else {}),
)
if is_sqlite:
    _sqlite_engine_with_real_transactions(connectable)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()
connectable.dispose()
