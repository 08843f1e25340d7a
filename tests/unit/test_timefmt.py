"""Time left on the worklist is counted in working time, as the deadlines are."""
from __future__ import annotations

import gettext
from datetime import datetime
from zoneinfo import ZoneInfo

from process.calendar import WorkingCalendar
from web.timefmt import Remaining

WIB = ZoneInfo("Asia/Jakarta")
CALENDAR = WorkingCalendar.default()


def remaining(now: datetime) -> Remaining:
    return Remaining(CALENDAR, now, gettext.NullTranslations())


def test_a_step_due_after_a_long_weekend_has_working_hours_left_not_days():
    # Friday 29 May 2026, 15:50; Monday 1 June is a holiday (Hari Lahir Pancasila).
    friday = datetime(2026, 5, 29, 15, 50, tzinfo=WIB)
    due = datetime(2026, 6, 2, 8, 45, tzinfo=WIB)
    minutes = int(CALENDAR.working_time_between(friday, due).total_seconds() // 60)
    assert 0 < minutes < 8 * 60
    hours, mins = divmod(minutes, 60)
    expected = " ".join(p for p in (f"{hours} jam" if hours else "", f"{mins} menit" if mins else "") if p)
    assert remaining(friday).of(due.isoformat()) == f"sisa {expected}"


def test_a_due_day_two_or_more_working_days_away_is_worded_in_working_days():
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
    assert remaining(monday).of(datetime(2026, 3, 6, 12, 0, tzinfo=WIB).isoformat()) == "sisa 4 hari kerja"
    # Over a weekend: Friday 6 to Tuesday 10 March is two working days on.
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=WIB)
    assert remaining(friday).of(datetime(2026, 3, 10, 9, 0, tzinfo=WIB).isoformat()) == "sisa 2 hari kerja"


def test_lateness_is_counted_the_same_way():
    due = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
    assert remaining(datetime(2026, 3, 2, 10, 30, tzinfo=WIB)).of(due.isoformat()) == "terlambat 1 jam 30 menit"
    assert remaining(datetime(2026, 3, 5, 10, 0, tzinfo=WIB)).of(due.isoformat()) == "terlambat 3 hari kerja"


def test_no_due_time_is_a_dash():
    assert remaining(datetime(2026, 3, 2, 9, 0, tzinfo=WIB)).of(None) == "—"
