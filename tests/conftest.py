"""Shared fixtures: a runtime on SQLite and on PostgreSQL, with a clock tests can move.

PostgreSQL comes from ALUR_TEST_POSTGRES_URL. Without it the PostgreSQL cases
are skipped on a developer's machine, and fail under CI (CI=true), where a
missing server is a broken set-up, not a reason to test less.
"""
from __future__ import annotations

import os
from pathlib import Path
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, make_url, text

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


@pytest.fixture
def rt(settings, clock):
    runtime = Runtime(settings, clock=clock)
    bootstrap.init(runtime, demo=True)
    yield runtime
    runtime.dispose()
