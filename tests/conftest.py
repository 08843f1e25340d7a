"""Shared fixtures: a runtime on SQLite and on PostgreSQL, with a clock tests can move.

PostgreSQL comes from ALUR_TEST_POSTGRES_URL. Without it the PostgreSQL cases
are skipped on a developer's machine, and fail under CI (CI=true), where a
missing server is a broken set-up, not a reason to test less.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, make_url, text
from werkzeug.security import generate_password_hash

from engine import bootstrap
from engine.clock import ManualClock
from engine.config import Settings
from engine.runtime import Runtime

IN_CI = os.environ.get("CI", "").lower() == "true"
# The shipped recurring schedule would start instances whenever a test's
# scheduler pass lands in a new month; tests that want cycles pass their own.
os.environ.setdefault("ALUR_CYCLES_FILE", "off")


def _worker_database(url: str | None) -> str | None:
    """Each pytest-xdist worker gets its own PostgreSQL database, made on first use.

    Tests reset the public schema of the database they use, so two workers
    sharing one would wipe each other's data mid-test.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # the server is missing: tests report it through require_service
        return url
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(os.environ.get("ALUR_TEST_POSTGRES_URL"))
# Monday 2 March 2026, 09:00 in Salatiga (WIB): an ordinary working morning.
MONDAY_MORNING = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def require_service(name: str, available: bool, how: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required under CI: {how}")
    pytest.skip(f"{name} not available: {how}")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def fresh_database(kind: str, directory: Path) -> str:
    """An empty database of the kind: a new SQLite file, or the worker's PostgreSQL reset."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'alur.db'}"
    require_service("PostgreSQL", bool(POSTGRES_URL), "set ALUR_TEST_POSTGRES_URL")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    return fresh_database(request.param, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_MORNING)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings.from_env(database_url=database_url, data_dir=tmp_path / "data")


def cheap_password_hash(password: str, *_args, **_kwargs) -> str:
    """Scrypt costs 0.1 s to make a hash and as much to check one; signing in takes the same path with this."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


class DemoDatabases:
    """What `bootstrap.init(demo=True)` leaves, prepared once per worker and copied for each test.

    Preparing (the migrations, deploying the SOP, the demo office) takes 0.5 s, and most tests begin
    with it; a copy takes milliseconds on SQLite and 0.15 s on PostgreSQL (CREATE DATABASE ... TEMPLATE).
    A copy is made only for the settings, clock reading and password hashing it was prepared with.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.prepared: dict[tuple, str] = {}

    def runtime(self, settings: Settings, clock) -> Runtime:
        kind = make_url(settings.database_url).get_backend_name()
        key = (repr(replace(settings, database_url=kind, data_dir=Path())), clock.now(),
               bootstrap.generate_password_hash)
        if key not in self.prepared:
            self.prepared[key] = self._prepare(settings, clock, kind, len(self.prepared))
        copy = _copy_sqlite if kind == "sqlite" else _copy_postgres
        copy(self.prepared[key], settings.database_url)
        return Runtime(settings, clock=clock)

    def _prepare(self, settings: Settings, clock, kind: str, number: int) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{self.directory / f'demo{number}.db'}"
        else:
            url = make_url(settings.database_url)
            url = url.set(database=f"{url.database}_demo{number}").render_as_string(hide_password=False)
            _admin(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"')
        runtime = Runtime(replace(settings, database_url=url, data_dir=self.directory / f"data{number}"),
                          clock=type(clock)(clock.now()))
        bootstrap.init(runtime, demo=True)
        runtime.dispose()
        return url


def _copy_sqlite(prepared: str, target: str) -> None:
    shutil.copyfile(make_url(prepared).database, make_url(target).database)


def _copy_postgres(prepared: str, target: str) -> None:
    _admin(target, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
           f'CREATE DATABASE "{{name}}" TEMPLATE "{make_url(prepared).database}"')


def _admin(url: str, *statements: str) -> None:
    """Statements about the database of `url`, run from the server's maintenance database."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement.format(name=name)))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def demo_databases(tmp_path_factory) -> DemoDatabases:
    return DemoDatabases(tmp_path_factory.mktemp("demo-databases"))


@pytest.fixture
def rt(settings, clock, demo_databases):
    runtime = demo_databases.runtime(settings, clock)
    yield runtime
    runtime.dispose()
