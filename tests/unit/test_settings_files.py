"""ALUR_CALENDAR_FILE and ALUR_ESCALATION_FILE: a file named that is not there stops the start, naming it.

Without the variable, a definitions folder without calendar.yaml or escalation.yaml gets the built-in
defaults (the shipped files). But a file an administrator named and misspelt was skipped without a
word, and the office ran on the built-in calendar (no local holidays) and escalation (mail to
localhost:25) while believing its own were in force; ALUR_LOGO_FILE already refuses such a name.
"""
from __future__ import annotations

import pytest

from engine import config
from engine.config import Settings, SettingError
from engine.escalation_config import EscalationConfig, EscalationConfigError
from engine.runtime import _load_calendar, load_escalation
from process.calendar import CalendarConfigError, WorkingCalendar


def settings(tmp_path, **files) -> Settings:
    return Settings(database_url="sqlite://", data_dir=tmp_path, definitions_dir=tmp_path, **files)


def test_a_named_escalation_file_that_is_not_there_is_refused_by_name(tmp_path):
    missing = tmp_path / "escalaton.yaml"
    with pytest.raises(EscalationConfigError, match="escalaton.yaml"):
        load_escalation(settings(tmp_path, escalation_file=missing))


def test_a_named_calendar_file_that_is_not_there_is_refused_by_name(tmp_path):
    missing = tmp_path / "kalender.yaml"
    with pytest.raises(CalendarConfigError, match="kalender.yaml"):
        _load_calendar(settings(tmp_path, calendar_file=missing))


def test_without_the_variables_a_definitions_folder_without_the_files_gets_the_defaults(tmp_path):
    assert load_escalation(settings(tmp_path)) == EscalationConfig()
    assert isinstance(_load_calendar(settings(tmp_path)), WorkingCalendar)


# ALUR_DEFINITIONS_DIR and ALUR_DATA_DIR were used as typed: a relative one was read from the working
# directory (`/` under systemd) and named relative in messages, and a misspelt definitions folder
# silently meant the default calendar and escalation and no cycles.
def test_relative_folders_are_read_from_the_working_directory_and_kept_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sop").mkdir()
    monkeypatch.setenv("ALUR_DEFINITIONS_DIR", "sop")
    monkeypatch.setenv("ALUR_DATA_DIR", "data")
    monkeypatch.delenv("ALUR_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    assert settings.definitions_dir == tmp_path / "sop"
    assert settings.data_dir == tmp_path / "data"  # made by the commands that write there
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'alur.db'}"


def test_a_definitions_folder_that_is_not_there_is_refused_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALUR_DEFINITIONS_DIR", "definitons")
    with pytest.raises(SettingError, match=f"ALUR_DEFINITIONS_DIR: folder {tmp_path / 'definitons'} tidak ada"):
        Settings.from_env()


def test_installed_from_a_wheel_the_data_folder_must_be_named(tmp_path, monkeypatch):
    """A wheel has no var/ of its own: the default would have put the database in site-packages."""
    monkeypatch.setattr(config, "SOURCE_TREE", False)
    monkeypatch.delenv("ALUR_DATA_DIR", raising=False)
    with pytest.raises(SettingError, match="ALUR_DATA_DIR"):
        Settings.from_env()
    monkeypatch.setenv("ALUR_DATA_DIR", str(tmp_path))
    assert Settings.from_env().data_dir == tmp_path
