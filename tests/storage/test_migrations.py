"""Every Alembic migration runs on both supported databases, from empty to head."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from importlib import resources

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from vigil.storage.db import SCHEMA_HEAD, migrate, schema_version
from vigil.storage.tables import Base


def columns_of(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            table: {column["name"] for column in found.get_columns(table)}
            for table in found.get_table_names()
        }
    finally:
        engine.dispose()


def tables_of(url: str) -> set[str]:
    return set(columns_of(url))


def test_migrations_create_every_table(database_url: str) -> None:
    migrate(database_url)
    expected = set(Base.metadata.tables) | {"alembic_version"}
    assert expected <= tables_of(database_url)


def test_migrated_tables_have_every_mapped_column(database_url: str) -> None:
    migrate(database_url)
    found = columns_of(database_url)
    missing = {
        f"{name}.{column.name}"
        for name, table in Base.metadata.tables.items()
        for column in table.columns
        if column.name not in found.get(name, set())
    }
    assert missing == set()


def test_migrating_twice_changes_nothing(database_url: str) -> None:
    migrate(database_url)
    before = tables_of(database_url)
    migrate(database_url)
    assert tables_of(database_url) == before


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    """Several servers and workers starting at once on one empty database all succeed.
    Processes, as in production: Alembic keeps its context in module globals."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=spawn) as pool:
        outcomes = list(pool.map(migrate, [database_url] * 4))
    assert outcomes == [None] * 4
    assert set(Base.metadata.tables) <= tables_of(database_url)


def test_the_schema_head_constant_is_alembics_head(database_url: str) -> None:
    script = ScriptDirectory.from_config(_config())
    assert script.get_heads() == [SCHEMA_HEAD]  # one head, and db.py knows it
    migrate(database_url)
    assert schema_version(database_url) == SCHEMA_HEAD


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("vigil.storage.migrations")))
    return config
