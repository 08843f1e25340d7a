"""Working calendar: due times and working time spent.

Unless a test says otherwise it uses the default office calendar
(definitions/calendar.yaml): Asia/Jakarta, Mon-Thu 07:30-16:00 with a
12:00-13:00 break, Fri 07:30-16:30 with an 11:30-13:00 break, Ramadan hours
18 Feb - 19 Mar 2026, working days and working time.

What `holidays` 0.109 lists for Indonesia in March/April 2026
(categories public + government, language id):
    2026-03-18 Wed  Cuti Bersama Hari Suci Nyepi
    2026-03-19 Thu  Hari Suci Nyepi
    2026-03-20 Fri  Cuti Bersama Hari Raya Idul Fitri
    2026-03-21 Sat  Hari Raya Idul Fitri
    2026-03-22 Sun  Hari kedua dari Hari Raya Idul Fitri
    2026-03-23 Mon  Cuti Bersama Hari Raya Idul Fitri
    2026-03-24 Tue  Cuti Bersama Hari Raya Idul Fitri
    2026-04-03 Fri  Wafat Yesus Kristus
    2026-04-05 Sun  Kebangkitan Yesus Kristus
Note 18 March: a cuti bersama the day *before* Nyepi, so the whole stretch
18-24 March 2026 is off.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from process import calendar as calendar_module
from process.calendar import DEFAULT_CONFIG, CalendarConfigError, CountingRule, WorkingCalendar
from process.mutu_baku import MutuBaku, Unit
from process.user_yaml import user_yaml

WIB = ZoneInfo("Asia/Jakarta")
CALENDAR_YAML = Path(__file__).resolve().parents[2] / "definitions" / "calendar.yaml"

MINUTES_30 = MutuBaku(30, Unit.MENIT)
WORKING = CountingRule()
CLOCK = CountingRule(days="kalender", time="jam")


def wib(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.default()


def with_config(**changes) -> WorkingCalendar:
    return WorkingCalendar.from_dict({**DEFAULT_CONFIG, **changes})


# --- configuration -----------------------------------------------------------


def test_default_config_is_the_yaml_file():
    assert user_yaml(CALENDAR_YAML.read_text()) == DEFAULT_CONFIG
    from_file = WorkingCalendar.from_yaml(CALENDAR_YAML.read_text())
    assert from_file.due(wib(2026, 3, 16, 10), MutuBaku(7, Unit.HARI)) == wib(2026, 4, 1, 10)


def test_times_written_without_quotes_are_the_times_written():
    """An administrator's unquoted `end: 16:00` was read as the number 960 and refused."""
    unquoted = CALENDAR_YAML.read_text().replace('"', "")
    assert "end: 16:00, break: 12:00-13:00}" in unquoted
    assert user_yaml(unquoted) == DEFAULT_CONFIG
    from_file = WorkingCalendar.from_yaml(unquoted)
    assert from_file.due(wib(2026, 4, 6, 15), MutuBaku(2, Unit.JAM)) == wib(2026, 4, 7, 8, 30)


def test_default_week_is_37_5_hours_and_ramadan_week_32_5(cal):
    # 6-10 April 2026: no holidays; 2-6 March 2026: Ramadan, no holidays.
    assert cal.working_time_between(wib(2026, 4, 6), wib(2026, 4, 11)) == timedelta(hours=37.5)
    assert cal.working_time_between(wib(2026, 3, 2), wib(2026, 3, 7)) == timedelta(hours=32.5)


def test_missing_top_level_keys_fall_back_to_default():
    cal = WorkingCalendar.from_yaml("counting: {days: kalender}")
    assert cal.counting == CountingRule(days="kalender", time="kerja")
    assert cal.tz == WIB
    assert WorkingCalendar.from_yaml("").counting == CountingRule()


@pytest.mark.parametrize(
    "text, key",
    [
        ("hours: {monday: {start: '07:30', end: 960}}", "hours.monday.end: .*bilangan 960"),
        ("hours: {monday: {start: 07:30, end: 16:70}}", "hours.monday.end: .*'16:70'"),
        ("hours: {monday: {start: '7h30', end: '16:00'}}", "hours.monday.start"),
        ("hours: {monday: {start: '16:00', end: '07:30'}}", "hours.monday"),
        ("hours: {monday: {end: '16:00'}}", "hours.monday.start"),
        ("hours: {monday: {start: '07:30', end: '16:00', break: '12:00'}}", "hours.monday.break"),
        ("hours: {monday: {start: '07:30', end: '16:00', break: '17:00-18:00'}}", "hours.monday.break"),
        ("hours: {mon: {start: '07:30', end: '16:00'}}", "hours: kunci tidak dikenal"),
        ("hours: {saturday: null}", "hours: setidaknya satu hari"),
        ("timezone: Asia/Bandung", "timezone"),
        ("timezone: Europe/Amsterdam", "timezone: zona waktu 'Europe/Amsterdam' memakai waktu musim panas"),
        ("ramadan: {hours: {}}", "ramadan.hours"),
        ("ramadan: {periods: []}", "ramadan.hours"),
        ("ramadan: {hours: {monday: {start: '08:00', end: '15:00'}}, periods: [{from: 2026-03-19, to: 2026-02-18}]}",
         r"ramadan.periods\[0\]"),
        ("holidays: {add: [{date: '2026-13-01', name: X}]}", r"holidays.add\[0\].date"),
        ("holidays: {add: [{date: 2026-13-01, name: X}]}", "YAML kalender tidak dapat dibaca: '2026-13-01' .*month"),
        ("holidays: {add: [{date: 2026-04-22}]}", r"holidays.add\[0\].name"),
        ("holidays: {remove: [yesterday]}", r"holidays.remove\[0\]"),
        ("counting: {days: kerja, time: menit}", "counting.time"),
        ("countng: {days: kerja}", "calendar: kunci tidak dikenal"),
        ("- just a list", "calendar: harus berupa mapping"),
        ("hours: {monday: [", "YAML kalender tidak dapat dibaca"),
    ],
)
def test_bad_config_names_the_key(text, key):
    with pytest.raises(CalendarConfigError, match=key):
        WorkingCalendar.from_yaml(text)


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC"])
def test_zones_without_daylight_saving_time_are_taken(zone):
    assert str(WorkingCalendar.from_yaml(f"timezone: {zone}").tz) == zone


def test_counting_rule_values():
    assert CountingRule() == CountingRule(days="kerja", time="kerja")
    with pytest.raises(ValueError, match="counting.days"):
        CountingRule(days="working")


# --- holidays ----------------------------------------------------------------


def test_holidays_and_cuti_bersama_from_package(cal):
    assert cal.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"
    assert cal.holiday_name(date(2026, 3, 23)) == "Cuti Bersama Hari Raya Idul Fitri"
    assert cal.holiday_name(date(2026, 3, 17)) is None
    assert not cal.is_working_day(date(2026, 3, 23))  # cuti bersama
    assert not cal.is_working_day(date(2026, 4, 4))  # Saturday
    assert cal.is_working_day(date(2026, 3, 25))


def test_local_additions_and_removals():
    cal = with_config(holidays={
        "add": [
            {"date": "2026-04-22", "name": "Hari Jadi Kota"},  # regional holiday
            {"date": date(2026, 8, 18), "name": "Dispensasi Bupati"},  # extra day off
        ],
        "remove": ["2026-12-24"],  # correction: the office works on this cuti bersama
    })
    assert cal.holiday_name(date(2026, 4, 22)) == "Hari Jadi Kota"
    assert not cal.is_working_day(date(2026, 8, 18))
    assert cal.holiday_name(date(2026, 12, 24)) is None
    assert cal.is_working_day(date(2026, 12, 24))
    assert WorkingCalendar.default().holiday_name(date(2026, 12, 24)) == "Cuti Bersama Hari Raya Natal"


def test_holidays_are_built_once_per_year(monkeypatch):
    calls = []
    original = calendar_module.holidays_package.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs["years"])
        return original(*args, **kwargs)

    monkeypatch.setattr(calendar_module.holidays_package, "country_holidays", counting)
    cal = WorkingCalendar.default()
    for _ in range(200):
        cal.due(wib(2026, 3, 16, 10), MutuBaku(7, Unit.HARI))
        cal.due(wib(2026, 12, 30, 10), MutuBaku(5, Unit.HARI))
    assert sorted(calls) == [2026, 2027]


# --- working time (Menit / Jam) ---------------------------------------------


def test_working_time_within_the_day(cal):
    assert cal.due(wib(2026, 4, 7, 9), MINUTES_30) == wib(2026, 4, 7, 9, 30)
    assert cal.due(wib(2026, 4, 7, 9), MutuBaku(2, Unit.JAM)) == wib(2026, 4, 7, 11)


def test_result_is_utc_and_start_may_be_in_any_zone(cal):
    due = cal.due(datetime(2026, 4, 7, 2, 0, tzinfo=timezone.utc), MINUTES_30)  # 09:00 WIB
    assert due.tzinfo == timezone.utc
    assert due == wib(2026, 4, 7, 9, 30)


def test_naive_start_is_refused(cal):
    with pytest.raises(ValueError, match="time zone"):
        cal.due(datetime(2026, 4, 7, 9), MINUTES_30)


def test_break_is_skipped(cal):
    assert cal.due(wib(2026, 4, 7, 11, 45), MINUTES_30) == wib(2026, 4, 7, 13, 15)
    # Friday's break starts at 11:30.
    assert cal.due(wib(2026, 4, 10, 11, 15), MINUTES_30) == wib(2026, 4, 10, 13, 15)
    # Started during the break: counting begins when work resumes.
    assert cal.due(wib(2026, 4, 7, 12, 10), MINUTES_30) == wib(2026, 4, 7, 13, 30)


def test_ending_exactly_at_closing_time(cal):
    assert cal.due(wib(2026, 4, 9, 15, 30), MINUTES_30) == wib(2026, 4, 9, 16, 0)


def test_start_outside_hours_counts_from_next_opening(cal):
    assert cal.due(wib(2026, 4, 7, 6, 0), MINUTES_30) == wib(2026, 4, 7, 8, 0)
    assert cal.due(wib(2026, 4, 7, 20, 0), MINUTES_30) == wib(2026, 4, 8, 8, 0)
    assert cal.due(wib(2026, 4, 11, 10, 0), MINUTES_30) == wib(2026, 4, 13, 8, 0)  # Saturday


def test_thursday_1550_carries_over_to_friday(cal):
    # Thursday ends at 16:00: 10 minutes on Thursday, 20 on Friday from 07:30.
    assert cal.due(wib(2026, 4, 9, 15, 50), MINUTES_30) == wib(2026, 4, 10, 7, 50)


def test_friday_1550_stays_on_friday_with_default_hours(cal):
    # The default Friday ends at 16:30, so the "due Monday" does not apply.
    assert cal.due(wib(2026, 4, 10, 15, 50), MINUTES_30) == wib(2026, 4, 10, 16, 20)


def test_friday_1550_is_due_monday_when_friday_ends_at_1600():
    # The case literally, with a calendar whose Friday ends at 16:00.
    hours = dict(DEFAULT_CONFIG["hours"], friday={"start": "07:30", "end": "16:00", "break": "11:30-13:00"})
    cal = with_config(hours=hours)
    assert cal.due(wib(2026, 4, 10, 15, 50), MINUTES_30) == wib(2026, 4, 13, 7, 50)


def test_friday_1620_is_due_monday(cal):
    # 10 minutes on Friday, 20 minutes on Monday from 07:30.
    assert cal.due(wib(2026, 4, 10, 16, 20), MINUTES_30) == wib(2026, 4, 13, 7, 50)


def test_friday_before_a_holiday_monday(cal):
    # Monday 17 August 2026 is Independence Day.
    assert cal.holiday_name(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    assert cal.due(wib(2026, 8, 14, 16, 20), MINUTES_30) == wib(2026, 8, 18, 7, 50)


def test_ramadan_hours(cal):
    # Monday 2 March 2026 is in Ramadan: work ends at 15:00 and starts at 08:00.
    assert cal.due(wib(2026, 3, 2, 14, 50), MINUTES_30) == wib(2026, 3, 3, 8, 20)
    # Ramadan break 12:00-12:30.
    assert cal.due(wib(2026, 3, 2, 11, 50), MINUTES_30) == wib(2026, 3, 2, 12, 50)
    # The same start outside Ramadan stays on the day.
    assert cal.due(wib(2026, 4, 6, 14, 50), MINUTES_30) == wib(2026, 4, 6, 15, 20)


def test_no_ramadan_hours_when_switched_off():
    cal = with_config(ramadan=None)
    assert cal.due(wib(2026, 3, 2, 14, 50), MINUTES_30) == wib(2026, 3, 2, 15, 20)


def test_clock_time(cal):
    assert cal.due(wib(2026, 4, 10, 16, 20), MINUTES_30, CLOCK) == wib(2026, 4, 10, 16, 50)
    assert cal.due(wib(2026, 4, 11, 23, 0), MutuBaku(2, Unit.JAM), CLOCK) == wib(2026, 4, 12, 1, 0)


# --- working days (Hari) ----------------------------------------------------


def test_seven_working_days_over_nyepi_and_lebaran(cal):
    # Monday 16 March 10:00: 17 Mar is day 1, 18-24 Mar are off, 25 Mar is
    # day 2, ... Wednesday 1 April is day 7.
    assert cal.due(wib(2026, 3, 16, 10), MutuBaku(7, Unit.HARI)) == wib(2026, 4, 1, 10)


def test_one_day_step_started_the_day_before_the_holidays(cal):
    # Tuesday 17 March, the last working day before 18-24 March.
    assert cal.due(wib(2026, 3, 17, 9), MutuBaku(1, Unit.HARI)) == wib(2026, 3, 25, 9)


def test_one_day_step_started_on_a_cuti_bersama(cal):
    # Wednesday 18 March is itself off: counting starts Wednesday 25 March 07:30.
    assert cal.due(wib(2026, 3, 18, 9), MutuBaku(1, Unit.HARI)) == wib(2026, 3, 26, 7, 30)


def test_working_days_started_after_hours(cal):
    # Thursday 17:00 counts from Friday 07:30.
    assert cal.due(wib(2026, 4, 9, 17), MutuBaku(1, Unit.HARI)) == wib(2026, 4, 13, 7, 30)


def test_working_days_due_time_kept_within_the_day(cal):
    # Friday 16:15 is within Friday's hours but after Monday's 16:00 close.
    assert cal.due(wib(2026, 4, 10, 16, 15), MutuBaku(1, Unit.HARI)) == wib(2026, 4, 13, 16, 0)
    # Friday 13 Feb 07:45 + 1 day: 16-17 Feb are Imlek, Wednesday 18 Feb is in
    # Ramadan and opens at 08:00.
    assert cal.due(wib(2026, 2, 13, 7, 45), MutuBaku(1, Unit.HARI)) == wib(2026, 2, 18, 8, 0)


def test_calendar_days(cal):
    three_days = MutuBaku(3, Unit.HARI)
    assert cal.due(wib(2026, 3, 17, 9), three_days, CLOCK) == wib(2026, 3, 20, 9)
    assert cal.due(wib(2026, 4, 10, 10), three_days, CountingRule(days="kalender")) == wib(2026, 4, 13, 10)


def test_explicit_kerja_or_kalender_in_the_standard_time_wins(cal):
    assert cal.due(wib(2026, 3, 17, 9), MutuBaku(1, Unit.HARI, working=False)) == wib(2026, 3, 18, 9)
    assert cal.due(wib(2026, 3, 17, 9), MutuBaku(1, Unit.HARI, working=True), CLOCK) == wib(2026, 3, 25, 9)
    assert cal.due(wib(2026, 4, 10, 16, 20), MutuBaku(30, Unit.MENIT, working=False)) == wib(2026, 4, 10, 16, 50)


def test_default_rule_comes_from_the_config():
    cal = with_config(counting={"days": "kalender", "time": "jam"})
    assert cal.due(wib(2026, 3, 17, 9), MutuBaku(1, Unit.HARI)) == wib(2026, 3, 18, 9)
    assert cal.due(wib(2026, 4, 10, 16, 20), MINUTES_30) == wib(2026, 4, 10, 16, 50)


# --- working time spent ------------------------------------------------------


def test_working_time_between(cal):
    assert cal.working_time_between(wib(2026, 4, 10, 16, 20), wib(2026, 4, 13, 7, 50)) == timedelta(minutes=30)
    assert cal.working_time_between(wib(2026, 4, 7, 11, 45), wib(2026, 4, 7, 13, 15)) == timedelta(minutes=30)
    assert cal.working_time_between(wib(2026, 4, 7), wib(2026, 4, 8)) == timedelta(hours=7.5)
    assert cal.working_time_between(wib(2026, 3, 19, 9), wib(2026, 3, 19, 15)) == timedelta(0)  # Nyepi
    assert cal.working_time_between(wib(2026, 4, 7, 10), wib(2026, 4, 7, 9)) == -timedelta(hours=1)


def test_working_days_between_counts_the_days_after_the_first_up_to_the_last(cal):
    # 17 March 2026 (Tue) to 25 March (Wed): 18–24 March are off (Nyepi, Idul Fitri), so only the 25th counts.
    assert cal.working_days_between(date(2026, 3, 17), date(2026, 3, 25)) == 1
    assert cal.working_days_between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert cal.working_days_between(date(2026, 3, 25), date(2026, 3, 17)) == 0


def test_working_days_between_agrees_with_a_walk_over_the_days_across_years(cal):
    def walked(first, last):
        return sum(cal.is_working_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))

    days = [date(2025, 12, 20) + timedelta(days=n * 17) for n in range(50)]  # into 2028, a leap year
    for first in days[::7]:
        for last in days:
            assert cal.working_days_between(first, last) == walked(first, last), (first, last)


def test_working_time_between_inverts_due(cal):
    for start in (wib(2026, 3, 17, 14, 55), wib(2026, 4, 10, 16, 20), wib(2026, 8, 14, 11, 40)):
        for mutu in (MINUTES_30, MutuBaku(3, Unit.JAM), MutuBaku(600, Unit.MENIT)):
            due = cal.due(start, mutu, WORKING)
            assert cal.working_time_between(start, due) == mutu.clock_delta


def test_whether_a_standard_time_counts_working_time_follows_its_own_words_then_the_rule(cal):
    office, calendar_days, clock = CountingRule(), CountingRule(days="kalender"), CountingRule(time="jam")
    counts = cal.counts_working_time
    assert counts(MutuBaku.parse("3 Hari"), office) and counts(MutuBaku.parse("30 Menit"), office)
    assert not counts(MutuBaku.parse("3 Hari"), calendar_days) and counts(MutuBaku.parse("2 Jam"), calendar_days)
    assert not counts(MutuBaku.parse("2 Jam"), clock) and counts(MutuBaku.parse("3 Hari"), clock)
    assert counts(MutuBaku.parse("3 Hari Kerja"), calendar_days)
    assert not counts(MutuBaku.parse("3 Hari Kalender"), office)
