"""The tables engine/db.py declares are the ones the Alembic migrations make, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from engine import schema, services
from engine.config import Settings
from engine.db import Base
from engine.errors import InvalidData
from engine.runtime import Runtime
from tests.integration.sop import STEP_DATA, open_task
from web.cli import main
from web.serve import check_before_serving


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
        assert not {"start_key", "retry_key"} & set(inspect(rt.engine).get_table_names())
        command.upgrade(config, "0010")
        # Read on new connections: a pooled SQLite connection's cached PRAGMA statement read the table
        # made again as the one dropped before it (no unique key).
        rt.engine.dispose()
        unique = inspect(rt.engine).get_unique_constraints("start_key")
        assert [c["column_names"] for c in unique] == [["login", "key"]]
    finally:
        rt.dispose()


def test_migration_0011_keeps_the_start_keys_both_ways(rt, database_url):
    """0011 makes `start_key` every command's `retry_key`: a start's key kept before the upgrade still
    answers that start sent again after it; going down, the starts' keys are kept, the completions' not."""
    config = schema.alembic_config(database_url)
    first = services.start_once(rt, "monev_kegiatan_bidang", "aptika", "Layanan email", "aptika.implementasi",
                                retry_key="kunci-1")
    task = open_task(rt, first.instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1], retry_key="kunci-2")
    command.downgrade(config, "0010")
    with rt.engine.connect() as connection:
        kept = connection.execute(text("SELECT key, instance_id FROM start_key")).all()
    assert kept == [("kunci-1", first.instance_id)]
    command.upgrade(config, "0011")
    rt.engine.dispose()  # as above: new connections read the tables made again
    assert "start_key" not in inspect(rt.engine).get_table_names()
    unique = inspect(rt.engine).get_unique_constraints("retry_key")
    assert [(c["name"], c["column_names"]) for c in unique] == [("uq_retry_key", ["login", "key"])]
    again = services.start_once(rt, "monev_kegiatan_bidang", "aptika", "Layanan email", "aptika.implementasi",
                                retry_key="kunci-1")
    assert again == services.Started(first.instance_id, again=True)


def test_alur_init_indexes_the_retry_keys_by_time_and_migration_0012_goes_down_and_up(database_url, tmp_path,
                                                                                       monkeypatch):
    """The hourly purge deletes keys by `created_at`, which had no index (see the purge's plan test)."""
    monkeypatch.setenv("ALUR_DATABASE_URL", database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(tmp_path / "data"))
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    config = schema.alembic_config(database_url)

    def indexed() -> list[list[str]]:
        rt.engine.dispose()  # as above: new connections read the table as it is now
        return [i["column_names"] for i in inspect(rt.engine).get_indexes("retry_key")
                if i["name"] == "ix_retry_key_created_at"]
    try:
        assert indexed() == [["created_at"]]
        command.downgrade(config, "0011")
        assert indexed() == []
        command.upgrade(config, "0012")
        assert indexed() == [["created_at"]]
    finally:
        rt.dispose()


def test_a_database_a_newer_alur_upgraded_is_refused_by_init_and_serve_saying_so(database_url, tmp_path,
                                                                                  monkeypatch):
    """Code put back to an older Alur after an upgrade: `alur init` said "CommandError: Can't locate
    revision identified by '0011'", and `alur serve` told the operator to run that `alur init`; `alur scheduler` ran on it."""
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    try:
        schema.upgrade(rt.engine)
        with rt.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        says = (f"basis data ini skema 9999, lebih baru dari Alur ini (skema {schema.head_revision(rt.engine)}): "
                "jalankan versi Alur yang meningkatkannya, atau pulihkan dengan Alur ini cadangan yang dibuat "
                "sebelum peningkatan")
        monkeypatch.setenv("ALUR_DATABASE_URL", database_url)
        monkeypatch.setenv("ALUR_DATA_DIR", str(tmp_path / "data"))
        result = CliRunner().invoke(main, ["init"])
        assert (result.exit_code, result.output) == (1, f"galat: {says}\n")
        with pytest.raises(InvalidData) as refused:
            check_before_serving(rt.settings)
        assert str(refused.value) == says
        monkeypatch.setenv("ALUR_CYCLES_FILE", "off")  # the scheduler ran on, firing timers with the older code
        for run in (["--once"], ["--interval", "0.1"]):  # a scheduler that waits for a first `alur init` too
            result = CliRunner().invoke(main, ["scheduler", *run])
            assert (result.exit_code, result.output) == (1, f"galat: {says}\n")
    finally:
        rt.dispose()


def test_a_database_not_yet_upgraded_is_refused_by_serve_and_the_scheduler_alike(database_url, tmp_path,
                                                                                   monkeypatch):
    """After `git pull`, before `alur init`: `alur serve` refused the older database, but `alur scheduler`
    ran on it, firing timers with code that may expect tables not made yet."""
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    try:
        schema.upgrade(rt.engine)
        command.downgrade(schema.alembic_config(database_url), "-1")
        with rt.engine.connect() as connection:
            older = schema.current_revision(connection)
        says = (f"basis data ALUR_DATABASE_URL belum disiapkan atau skemanya bukan skema Alur ini ({older}, "
                f"seharusnya {schema.head_revision(rt.engine)}): jalankan `alur init` dahulu")
        with pytest.raises(InvalidData) as refused:
            check_before_serving(rt.settings)
        assert str(refused.value) == says
        monkeypatch.setenv("ALUR_DATABASE_URL", database_url)
        monkeypatch.setenv("ALUR_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("ALUR_CYCLES_FILE", "off")
        for run in (["--once"], ["--interval", "0.1"]):  # a scheduler that waits for a first `alur init` too
            result = CliRunner().invoke(main, ["scheduler", *run])
            assert (result.exit_code, result.output) == (1, f"galat: {says}\n")
    finally:
        rt.dispose()
