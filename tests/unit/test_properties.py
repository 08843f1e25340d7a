"""Property tests (hypothesis) of the mutu baku notation and the working-day calendar.

Example-based tests of both are in test_mutu_baku.py and test_calendar.py;
these check laws over many generated inputs: the notation reads back what it
writes and refuses everything else with its own error, and a deadline is
never on a weekend or holiday, outside working hours, earlier than a later
start's, or different from adding working time in two parts. The calendar
is the office's default (the `holidays` package's Indonesian public holidays
and cuti bersama, Ramadan hours) over 2025-2028. And what the definition
editor and the SOP header form write into a definition's YAML reads back as
it was saved, cleaned by the same rule as an imported SOP.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.definitions import clean_header, replace_sop_section
from engine.editor import compose_yaml, steps_model
from process.calendar import CountingRule, WorkingCalendar
from process.user_yaml import user_yaml
from process.mutu_baku import MAX_AMOUNT, MutuBaku, MutuBakuError, Unit
from process.plain_text import printable

EXAMPLES = 150
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
CALENDAR = WorkingCalendar.default()
WORKING = CountingRule(days="kerja", time="kerja")

units = st.sampled_from(list(Unit))
workings = st.sampled_from([None, True, False])


@st.composite
def mutu_bakus(draw, unit=units, working=workings, largest: int | None = None):
    chosen = draw(unit)
    amount = draw(st.integers(1, largest or MAX_AMOUNT[chosen]))
    return MutuBaku(amount, chosen, draw(working))


@st.composite
def spellings(draw, mutu: MutuBaku) -> str:
    """The same standard time as an SOP writer might type it: any case, any spacing."""
    def cased(word: str) -> str:
        return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)
    space = st.sampled_from(["", " ", "  ", "\t"])
    text = f"{draw(space)}{mutu.amount}{draw(space)}{cased(mutu.unit.value)}"
    if mutu.working is not None:
        text += draw(st.sampled_from([" ", "  "])) + cased("Kerja" if mutu.working else "Kalender")
    return text + draw(space)


# Moments from 2025 to 2028, to the minute, as UTC.
starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 30),
                      timezones=st.just(timezone.utc)).map(lambda m: m.replace(second=0, microsecond=0))


# -- mutu baku ----------------------------------------------------------------------------

@PROPERTY
@given(mutu_bakus())
def test_the_notation_reads_back_what_it_writes(mutu):
    assert MutuBaku.parse(str(mutu)) == mutu
    assert MutuBaku.from_iso(mutu.to_iso()) == MutuBaku(mutu.amount, mutu.unit)  # ISO cannot say kerja
    assert mutu.clock_delta == timedelta(minutes=mutu.minutes) > timedelta(0)


@PROPERTY
@given(st.data())
def test_any_case_and_spacing_reads_the_same(data):
    mutu = data.draw(mutu_bakus())
    assert MutuBaku.parse(data.draw(spellings(mutu))) == mutu


@PROPERTY
@given(st.text(max_size=40) | st.from_regex(r"\s*-?\d{1,25}\s*[A-Za-z]{0,12}(\s+[A-Za-z]{0,9})?\s*", fullmatch=True))
def test_any_text_is_read_or_refused_with_a_mutu_baku_error(text):
    try:
        mutu = MutuBaku.parse(text)
    except MutuBakuError as err:
        assert str(err)
    else:
        assert 1 <= mutu.amount <= MAX_AMOUNT[mutu.unit]
        assert MutuBaku.parse(str(mutu)) == mutu


@PROPERTY
@given(st.text(max_size=30) | st.from_regex(r"P(\d{1,25}D)?(T(\d{1,25}H)?(\d{1,25}M)?)?", fullmatch=True))
def test_any_duration_is_read_or_refused_with_a_mutu_baku_error(iso):
    try:
        mutu = MutuBaku.from_iso(iso)
    except MutuBakuError as err:
        assert str(err)
    else:
        assert MutuBaku.from_iso(mutu.to_iso()) == mutu


@PROPERTY
@given(units, st.integers(1, 10**30))
def test_longer_than_ten_years_is_refused(unit, extra):
    too_long = MAX_AMOUNT[unit] + extra
    for read in (lambda: MutuBaku.parse(f"{too_long} {unit.value}"),
                 lambda: MutuBaku.from_iso(MutuBaku(too_long, unit).to_iso())):
        with pytest.raises(MutuBakuError, match="lebih dari sepuluh tahun"):
            read()


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(starts, mutu_bakus(unit=st.just(Unit.HARI), working=st.just(True), largest=MAX_AMOUNT[Unit.HARI]))
def test_even_the_longest_standard_time_has_a_deadline(start, mutu):
    due = CALENDAR.due(start, mutu)
    assert due > start


# -- the working-day calendar -------------------------------------------------------------

def inside_working_hours(moment: datetime) -> bool:
    """On a working day, within (or at the edge of) one of its working periods."""
    local = moment.astimezone(CALENDAR.tz)
    since_midnight = local - datetime.combine(local.date(), time(), CALENDAR.tz)
    return any(start <= since_midnight <= end for start, end in CALENDAR._periods(local.date()))


@PROPERTY
@given(starts, mutu_bakus(working=st.just(None), largest=400))
def test_a_deadline_in_working_time_is_never_on_a_weekend_holiday_or_outside_hours(start, mutu):
    due = CALENDAR.due(start, mutu, WORKING)
    assert due > start
    assert CALENDAR.is_working_day(due), (start, mutu, due)
    assert CALENDAR.holiday_name(due) is None
    assert due.astimezone(CALENDAR.tz).weekday() < 5
    assert inside_working_hours(due), (start, mutu, due)


@PROPERTY
@given(starts, st.integers(1, 3000), st.integers(1, 3000))
def test_working_time_added_in_two_parts_equals_adding_the_sum(start, first, second):
    def plus(moment, minutes):
        return CALENDAR.due(moment, MutuBaku(minutes, Unit.MENIT), WORKING)
    assert plus(plus(start, first), second) == plus(start, first + second)


@PROPERTY
@given(starts, st.integers(1, 5000))
def test_the_working_time_until_the_deadline_is_the_standard_time(start, minutes):
    due = CALENDAR.due(start, MutuBaku(minutes, Unit.MENIT), WORKING)
    assert CALENDAR.working_time_between(start, due) == timedelta(minutes=minutes)
    assert CALENDAR.working_time_between(due, start) == -timedelta(minutes=minutes)


@PROPERTY
@given(starts, st.integers(1, 60), st.integers(1, 60))
def test_working_days_added_in_two_parts_land_on_the_same_day_or_the_next_working_day(start, first, second):
    """Not always the same instant: a deadline at closing time starts the next count the next morning."""
    def plus(moment, days):
        return CALENDAR.due(moment, MutuBaku(days, Unit.HARI), WORKING)
    chained, direct = plus(plus(start, first), second), plus(start, first + second)
    assert chained >= direct
    days_between = CALENDAR.working_time_between(direct, chained)
    assert days_between <= timedelta(hours=9), (start, first, second, direct, chained)
    if chained.astimezone(CALENDAR.tz).date() != direct.astimezone(CALENDAR.tz).date():
        # The direct deadline was at the day's closing time.
        assert not inside_working_hours(direct + timedelta(minutes=1)), (start, first, second, direct, chained)


@PROPERTY
@given(starts, st.integers(1, 60))
def test_n_working_days_later_is_n_working_days_later(start, days):
    due = CALENDAR.due(start, MutuBaku(days, Unit.HARI), WORKING)
    assert CALENDAR.is_working_day(due) and inside_working_hours(due)
    counted, day = 0, start.astimezone(CALENDAR.tz).date()
    while day < due.astimezone(CALENDAR.tz).date():
        day += timedelta(days=1)
        counted += CALENDAR.is_working_day(day)
    # One more when the start itself is after hours or on a day off (counting begins at the next opening).
    assert counted in (days, days + 1), (start, days, due)


@PROPERTY
@given(starts, starts, mutu_bakus(largest=200), st.sampled_from([WORKING, CountingRule("kalender", "jam")]))
def test_a_later_start_is_never_due_earlier(a, b, mutu, rule):
    early, late = min(a, b), max(a, b)
    assert CALENDAR.due(early, mutu, rule) <= CALENDAR.due(late, mutu, rule)


@PROPERTY
@given(starts, mutu_bakus(working=st.just(False), largest=400))
def test_calendar_days_and_clock_time_ignore_the_calendar(start, mutu):
    due = CALENDAR.due(start, mutu, WORKING)  # "Kalender" in the text wins over the rule
    assert due - start == (timedelta(days=mutu.amount) if mutu.unit is Unit.HARI else mutu.clock_delta)


# -- text typed into the definition editor and the SOP header form ------------------------------------

# Any text, and more often what is pasted or sent rather than typed: a bell, a terminal escape, NEL and
# the other line breaks, a byte-order mark, a lone carriage return, a non-breaking space, NUL.
typed = st.text(st.characters(exclude_categories=("Cs",))
                | st.sampled_from("\x07\x1b[31m\x85\u2028\u2029\ufeff\r\n\t\xa0\x00\x9b\x7f\ufffe\ud800 "),
                min_size=1, max_size=16)


@PROPERTY
@given(typed, typed, typed)
def test_steps_from_the_editor_read_back_as_saved(kelengkapan, output, label):
    """The side panel's text reads back from the YAML as it was saved: "a\x85b" read back "a b", and a
    bell or a terminal escape was kept for the task page. Cleaned as an imported SOP's cells are."""
    texts = {"kelengkapan": kelengkapan, "output": output}
    assume(all(printable(t) for t in (kelengkapan, output, label)))  # an emptied text is left out
    steps = {"1": {**texts, "form": [{"name": "catatan", "label": label, "type": "text"}]}}
    saved = steps_model(compose_yaml("", steps))
    assert saved == printable(steps)


@PROPERTY
@given(typed, typed)
def test_a_header_from_the_form_reads_back_as_saved(nomor, item):
    header = clean_header({"nomor": nomor, "dasar_hukum": [item], "disahkan_oleh": {"nama": nomor}})
    assert (user_yaml(replace_sop_section("", header)) or {}).get("sop", {}) == header
    assert printable(header) == header  # nothing the import would have left out
