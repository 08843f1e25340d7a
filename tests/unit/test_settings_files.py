"""ALUR_CALENDAR_FILE and ALUR_ESCALATION_FILE: a file named that is not there stops the start, naming it.

Without the variable, a definitions folder without calendar.yaml or escalation.yaml gets the built-in
defaults (the shipped files). But a file an administrator named and misspelt was skipped without a
word, and the office ran on the built-in calendar (no local holidays) and escalation (mail to
localhost:25) while believing its own were in force; ALUR_LOGO_FILE already refuses such a name.
"""
from __future__ import annotations

import pytest

from engine.config import Settings
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
