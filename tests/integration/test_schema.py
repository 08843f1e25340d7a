"""The tables engine/db.py declares are the ones the Alembic migrations make, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine import schema
from engine.config import Settings
from engine.db import Base
from engine.runtime import Runtime


def test_the_migrations_make_the_declared_tables(database_url, tmp_path):
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    try:
        schema.upgrade(rt.engine)
        with rt.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        rt.dispose()


def test_migration_0010_goes_down_and_up(database_url, tmp_path):
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    config = schema.alembic_config(database_url)
    try:
        schema.upgrade(rt.engine)
        command.downgrade(config, "0009")
        assert "start_key" not in inspect(rt.engine).get_table_names()
        schema.upgrade(rt.engine)
        unique = inspect(rt.engine).get_unique_constraints("start_key")
        assert [c["column_names"] for c in unique] == [["login", "key"]]
    finally:
        rt.dispose()
