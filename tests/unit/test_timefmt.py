"""Time left on the worklist is counted in working time, as the deadlines are."""
from __future__ import annotations

import gettext
from datetime import datetime
from zoneinfo import ZoneInfo

from process.calendar import WorkingCalendar
from process.mutu_baku import MutuBaku
from web.timefmt import Remaining, standard_time

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


def test_a_step_started_after_closing_has_its_standard_time_left_not_a_day_more():
    """A 30-day step started on Friday evening counts from Monday's opening and is due at the opening
    of its 31st working day: Monday to the 30th working day are left, not 31 days."""
    friday_evening = datetime(2026, 11, 27, 17, 28, tzinfo=WIB)
    due = CALENDAR.due(friday_evening, MutuBaku.parse("30 Hari"))
    assert remaining(friday_evening).of(due.isoformat()) == "sisa 30 hari kerja"
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=WIB)  # a cycle's start on the 1st may be a weekend
    assert remaining(saturday).of(CALENDAR.due(saturday, MutuBaku.parse("30 Hari")).isoformat()) \
        == "sisa 30 hari kerja"
    # Due at Tuesday's opening, seen on Friday evening: one working day (Monday) is left.
    tuesday_opening = datetime(2026, 4, 21, 7, 30, tzinfo=WIB)
    assert remaining(datetime(2026, 4, 17, 17, 0, tzinfo=WIB)).of(tuesday_opening.isoformat()) \
        == "sisa 7 jam 30 menit"


def test_lateness_is_counted_the_same_way():
    due = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
    assert remaining(datetime(2026, 3, 2, 10, 30, tzinfo=WIB)).of(due.isoformat()) == "terlambat 1 jam 30 menit"
    assert remaining(datetime(2026, 3, 5, 10, 0, tzinfo=WIB)).of(due.isoformat()) == "terlambat 3 hari kerja"


def test_no_due_time_is_a_dash():
    assert remaining(datetime(2026, 3, 2, 9, 0, tzinfo=WIB)).of(None) == "—"


def english():
    """The English catalogue as the app compiles it."""
    import io
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalogue = read_po(f)
    mo = io.BytesIO()
    write_mo(mo, catalogue)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


def test_a_standard_time_is_worded_for_the_page_and_kept_as_the_sop_writes_it_in_indonesian():
    en = english()
    worded = {text: standard_time(text, "en", en) for text in (
        "30 Menit", "2 Jam", "1 Hari", "30 Hari", "1 Hari Kerja", "7 Hari Kerja", "7 hari kalender")}
    assert worded == {"30 Menit": "30 min", "2 Jam": "2 h", "1 Hari": "1 day", "30 Hari": "30 days",
                      "1 Hari Kerja": "1 working day", "7 Hari Kerja": "7 working days",
                      "7 hari kalender": "7 calendar days"}
    assert standard_time("7 Hari Kerja", "id", en) == "7 Hari Kerja"
    assert standard_time("2 Jam Kerja", "en", en) == "2 Jam Kerja"  # no wording for it: as the SOP writes it
    assert standard_time("sebentar", "en", en) == "sebentar"


def test_a_step_due_at_closing_time_read_that_evening_or_over_the_weekend_is_past_its_deadline():
    """Late by no working time yet, it read "terlambat 0 menit" beside its overdue badge: as if on time."""
    due_friday_closing = datetime(2026, 4, 10, 16, 30, tzinfo=WIB).isoformat()
    for now in (datetime(2026, 4, 10, 19, 0, tzinfo=WIB), datetime(2026, 4, 12, 10, 0, tzinfo=WIB),
                datetime(2026, 4, 13, 7, 0, tzinfo=WIB)):
        assert remaining(now).of(due_friday_closing) == "lewat batas waktu"
    assert remaining(datetime(2026, 4, 13, 8, 0, tzinfo=WIB)).of(due_friday_closing) == "terlambat 30 menit"
    saturday = datetime(2026, 4, 11, 9, 0, tzinfo=WIB)
    assert Remaining(CALENDAR, saturday, english()).of(due_friday_closing) == "past its deadline"


def test_a_step_counted_in_calendar_days_or_clock_time_has_clock_time_left():
    """A "Hari Kalender" step due Sunday 10:00 read "sisa 0 menit" on Saturday: no working time
    lies before it, yet it is not due for another day."""
    saturday = datetime(2026, 4, 11, 9, 0, tzinfo=WIB)
    due_sunday = CALENDAR.due(datetime(2026, 4, 10, 10, 0, tzinfo=WIB), MutuBaku.parse("2 Hari Kalender"))
    assert due_sunday == datetime(2026, 4, 12, 10, 0, tzinfo=WIB)
    assert remaining(saturday).of(due_sunday.isoformat(), working=False) == "sisa 25 jam"
    friday = datetime(2026, 4, 10, 10, 0, tzinfo=WIB)
    assert remaining(friday).of(due_sunday.isoformat(), working=False) == "sisa 2 hari kalender"
    assert remaining(datetime(2026, 4, 12, 9, 59, 30, tzinfo=WIB)).of(due_sunday.isoformat(), working=False) \
        == "sisa 0 menit"
    # Late the same way: by the clock, on Sunday afternoon as on any other day.
    assert remaining(datetime(2026, 4, 12, 15, 45, tzinfo=WIB)).of(due_sunday.isoformat(), working=False) \
        == "terlambat 5 jam 45 menit"
    assert remaining(datetime(2026, 4, 15, 8, 0, tzinfo=WIB)).of(due_sunday.isoformat(), working=False) \
        == "terlambat 3 hari kalender"
    assert Remaining(CALENDAR, friday, english()).of(due_sunday.isoformat(), working=False) \
        == "2 calendar days left"
    # Counted in working time (the default), the same due time is a working moment away.
    assert remaining(saturday).of(due_sunday.isoformat()) == "sisa 0 menit"

