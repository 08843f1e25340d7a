"""Fixtures for tests that run real server and scheduler processes: PostgreSQL, real mail, the real clock.

Import them into a test module (`from tests.integration.real_office import ...`).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import bootstrap
from engine.clock import Clock
from engine.config import Settings
from engine.escalation_config import EscalationConfig
from engine.runtime import Runtime
from tests.conftest import fresh_database
from tests.integration.timer_helpers import SmtpSink, free_port


@pytest.fixture
def database_url(tmp_path):
    # PostgreSQL only: on SQLite writers queue behind one lock, there is no race to test.
    return fresh_database("postgresql", tmp_path)


@pytest.fixture
def smtp():
    with SmtpSink(free_port()) as sink:
        yield sink


@pytest.fixture
def escalation_file(tmp_path, smtp) -> Path:
    path = tmp_path / "escalation.yaml"
    path.write_text(
        "smtp:\n  host: 127.0.0.1\n  port: %d\n  from: \"Alur <alur@dinas.test>\"\n  timeout_seconds: 5\n"
        "retry:\n  first_delay_seconds: 1\n  max_delay_seconds: 2\n" % smtp.controller.port)
    return path


@pytest.fixture
def rt(database_url, tmp_path, escalation_file):
    """On the real clock, like the server and scheduler processes."""
    settings = Settings.from_env(database_url=database_url, data_dir=tmp_path / "data",
                                 escalation_file=escalation_file)
    runtime = Runtime(settings, clock=Clock(),
                      escalation=EscalationConfig.from_yaml(escalation_file.read_text()))
    bootstrap.init(runtime, demo=True)
    yield runtime
    runtime.dispose()
