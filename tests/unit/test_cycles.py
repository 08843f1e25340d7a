"""Period arithmetic and the configuration of recurring cycles (process/cycles.py)."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from process import cycles
from process.cycles import Cycle, CycleConfigError, Period, parse, parse_period, period_of, periods_between
from process.messages import Text

ROOT = Path(__file__).resolve().parents[2]


def test_months_and_their_labels():
    november = period_of(date(2026, 11, 25))
    assert (november.key, november.label) == ("2026-11", "November 2026")
    assert (november.first_day, november.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert november.next().key == "2026-12" and november.next().next().key == "2027-01"
    assert november.next().next().label == "Januari 2027"
    assert period_of(date(2028, 2, 10)).last_day == date(2028, 2, 29)
    assert period_of(date(2027, 2, 10)).last_day == date(2027, 2, 28)


def test_quarters_and_their_labels():
    q4 = period_of(date(2026, 11, 25), cycles.QUARTERLY)
    assert (q4.key, q4.label, q4.first_day, q4.last_day) == (
        "2026-Q4", "Triwulan IV 2026", date(2026, 10, 1), date(2026, 12, 31))
    assert q4.next().key == "2027-Q1" and q4.next().label == "Triwulan I 2027"
    assert [period_of(date(2026, m, 1), cycles.QUARTERLY).key for m in (1, 3, 4, 6, 7, 9, 10, 12)] == [
        "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3", "2026-Q4", "2026-Q4"]


def test_parsing_a_period():
    assert parse_period("2026-11") == Period(2026, 11)
    assert parse_period("2026-3") == Period(2026, 3)
    assert parse_period(date(2026, 3, 17)) == Period(2026, 3)
    assert parse_period("2026-Q2", cycles.QUARTERLY) == Period(2026, 4, 3)
    assert parse_period("2026-11", cycles.QUARTERLY) == Period(2026, 10, 3)
    for bad in ("2026-13", "2026-00", "November 2026", "2026", "2026-Q5"):
        with pytest.raises(ValueError):
            parse_period(bad)
    with pytest.raises(ValueError):
        parse_period("2026-Q2")  # a quarter on a monthly schedule


def test_periods_between_two_dates():
    assert [p.key for p in periods_between(date(2026, 11, 30), date(2027, 2, 1))] == [
        "2026-11", "2026-12", "2027-01", "2027-02"]
    assert [p.key for p in periods_between(date(2026, 5, 5), date(2026, 5, 6))] == ["2026-05"]
    assert periods_between(date(2026, 5, 6), date(2026, 5, 5)) == []
    assert [p.key for p in periods_between(date(2026, 2, 1), date(2027, 1, 1), cycles.QUARTERLY)] == [
        "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    # Every month of 30 years, once, in order.
    months = periods_between(date(2000, 1, 1), date(2029, 12, 31))
    assert len(months) == 360 and months == sorted(set(months))


def test_due_periods_follow_the_start_and_the_day_of_month():
    cycle = Cycle("monev", start=Period(2026, 11), day=5)
    assert cycle.due_periods(date(2026, 11, 4)) == []
    assert [p.key for p in cycle.due_periods(date(2026, 11, 5))] == ["2026-11"]
    assert [p.key for p in cycle.due_periods(date(2027, 2, 4))] == ["2026-11", "2026-12", "2027-01"]
    assert [p.key for p in cycle.due_periods(date(2027, 2, 5))] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert Cycle("monev", start=Period(2027, 1)).due_periods(date(2026, 12, 31)) == []
    assert Cycle("monev", start=Period(2026, 1), enabled=False).due_periods(date(2026, 6, 1)) == []
    quarterly = Cycle("monev", schedule=cycles.QUARTERLY, start=Period(2026, 4, 3))
    assert [p.key for p in quarterly.due_periods(date(2026, 12, 31))] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert [p.key for p in quarterly.due_periods(date(2026, 9, 30))] == ["2026-Q2", "2026-Q3"]


def test_which_bidang_and_the_title():
    every = Cycle("monev")
    assert every.bidang_codes(["sekretariat", "ikp", "aptika"]) == ["aptika", "ikp"]
    assert Cycle("monev", exclude=()).bidang_codes(["sekretariat", "aptika"]) == ["aptika", "sekretariat"]
    assert Cycle("monev", bidang=("ikp", "baru")).bidang_codes(["aptika", "ikp"]) == ["ikp", "baru"]
    assert every.title_for("Bidang Aplikasi Informatika", Period(2026, 11)) == \
        "Monitoring dan Evaluasi Bidang Aplikasi Informatika — November 2026"
    assert cycles.title("Evaluasi {period}: {bidang}", "Sekretariat", Period(2026, 10, 3)) == \
        "Evaluasi Triwulan IV 2026: Sekretariat"


def test_parsing_the_configuration_with_defaults():
    [cycle] = parse("cycles:\n  - definition: monev_kegiatan_bidang\n    start: 2026-11\n")
    assert cycle == Cycle("monev_kegiatan_bidang", cycles.MONTHLY, Period(2026, 11), 1, cycles.ALL,
                          ("sekretariat",), cycles.DEFAULT_TITLE, True)
    [listed] = parse("cycles:\n  - {definition: x, start: '2026-Q1', schedule: quarterly, day: 10,"
                     " bidang: [aptika, ikp], title: '{period} {bidang}', enabled: false}\n")
    assert (listed.schedule, listed.start, listed.day, listed.bidang, listed.exclude, listed.enabled) == (
        cycles.QUARTERLY, Period(2026, 1, 3), 10, ("aptika", "ikp"), (), False)
    assert parse("") == () and parse("cycles: []") == ()


def test_a_zero_padded_day_is_the_day_written():
    """YAML 1.1 read day: 010 as octal 8, and day: 08 as text that was refused."""
    assert [c.day for c in parse("cycles:\n  - {definition: x, start: 2026-11, day: 08}\n"
                                 "  - {definition: y, start: 2026-11, day: 010}\n")] == [8, 10]


def test_the_shipped_configuration_is_valid():
    [cycle] = parse((ROOT / "definitions" / "cycles.yaml").read_text(encoding="utf-8"))
    assert cycle.definition == "monev_kegiatan_bidang" and cycle.schedule == cycles.MONTHLY
    assert "sekretariat" in cycle.exclude


@pytest.mark.parametrize("text, where", [
    ("- a", "cycles: berkas ini berisi satu kunci"),
    ("cycles: {definition: x}", "cycles: harus berupa daftar"),
    ("cycles: [a]", "cycles[0]: harus berupa mapping"),
    ("cycles:\n  - {start: 2026-11}", "cycles[0].definition: kunci definisi SOP wajib ada"),
    ("cycles:\n  - {definition: x}", "cycles[0].start: periode pertama wajib ada"),
    ("cycles:\n  - {definition: x, start: 2026-Q1}", "cycles[0].start: '2026-Q1' adalah triwulan"),
    ("cycles:\n  - {definition: x, start: 2026-13}", "cycles[0].start: '2026-13' bukan periode (YYYY-MM)"),
    ("cycles:\n  - {definition: x, start: 2026-11, schedule: weekly}", "cycles[0].schedule: 'weekly' bukan"),
    ("cycles:\n  - {definition: x, start: 2026-11, day: 29}", "cycles[0].day: hari dalam bulan"),
    ("cycles:\n  - {definition: x, start: 2026-11, day: 0}", "cycles[0].day"),
    ("cycles:\n  - {definition: x, start: 2026-11, bidang: []}", "cycles[0].bidang: `all` atau daftar"),
    ("cycles:\n  - {definition: x, start: 2026-11, exclude: ikp}", "cycles[0].exclude: daftar kode Bidang"),
    ("cycles:\n  - {definition: x, start: 2026-11, title: 'Monev {bidang}'}", "cycles[0].title: harus memuat"),
    ("cycles:\n  - {definition: x, start: 2026-11, enabled: ya}", "cycles[0].enabled: true atau false"),
    ("cycles:\n  - {definition: x, start: 2026-11, every: month}", "cycles[0]: kunci tidak dikenal: every"),
    ("cycles:\n  - {definition: x, start: 2026-11}\n  - {definition: x, start: 2026-12}",
     "cycles[1].definition: 'x' punya dua jadwal"),
    ("cycles: [", "YAML siklus tidak dapat dibaca"),
    ("cycles: [&a {definition: x, start: 2026-11}, *a]", "YAML siklus tidak dapat dibaca: alias"),
    ("cycles:\n  - {definition: x, start: 2026-13-01}", "YAML siklus tidak dapat dibaca"),
])
def test_configuration_mistakes_name_their_key(text, where):
    """In Indonesian, as the calendar's and the escalation file's: the command line speaks Indonesian,
    and the messages are `Text` (translatable)."""
    with pytest.raises(CycleConfigError, match=re.escape(where)) as raised:
        parse(text)
    assert isinstance(raised.value.args[0], Text)
