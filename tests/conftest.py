"""Shared fixtures: a runtime on SQLite and on PostgreSQL, with a clock tests can move.

PostgreSQL comes from ALUR_TEST_POSTGRES_URL. Without it the PostgreSQL cases
are skipped on a developer's machine, and fail under CI (CI=true), where a
missing server is a broken set-up, not a reason to test less.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from engine import bootstrap
from engine.clock import ManualClock
from engine.config import Settings
from engine.runtime import Runtime

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("ALUR_TEST_POSTGRES_URL")
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'alur.db'}"
    require_service("PostgreSQL", bool(POSTGRES_URL), "set ALUR_TEST_POSTGRES_URL")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


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
