"""Recurring cycles: which reporting periods a schedule has, and what their instances are called.

The office writes its schedules in YAML (definitions/cycles.yaml):

    cycles:
      - definition: monev_kegiatan_bidang   # the SOP (definition key)
        schedule: monthly                   # monthly (default) | quarterly
        start: "2026-12"                    # the first period: "YYYY-MM", or "YYYY-Qn" when quarterly
        day: 1                              # day of the period's first month to start on (1-28, default 1)
        bidang: all                         # all (default) | a list of Bidang codes
        exclude: [sekretariat]              # with `all`: left out (default [sekretariat])
        title: "Monitoring dan Evaluasi {bidang} — {period}"
        enabled: true

A period is a month ("2026-11", "November 2026") or a quarter ("2026-Q4",
"Triwulan IV 2026"). A period is *due* on a date once that date is on or after
the period's start day (its first month's `day`). Titles and period labels are
stored data of the office and are always in Bahasa Indonesia.

Pure: text in, values out; nothing here touches the database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from process.messages import Text
from process.numbers import whole_number
from process.user_yaml import user_yaml

MONTHLY, QUARTERLY = "monthly", "quarterly"
SCHEDULES = (MONTHLY, QUARTERLY)
ALL = "all"
DEFAULT_EXCLUDE = ("sekretariat",)
DEFAULT_TITLE = "Monitoring dan Evaluasi {bidang} — {period}"
MAX_DAY = 28  # a day every month has
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
QUARTERS = ("I", "II", "III", "IV")
KEYS = {"definition", "schedule", "start", "day", "bidang", "exclude", "title", "enabled"}

_MONTH_KEY = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-[Qq]([1-4])$")


class CycleConfigError(ValueError):
    """A cycles configuration that cannot be used; the message (a `Text`) names the key."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: a month, or a quarter (`months` = 3)."""
    year: int
    month: int            # its first month
    months: int = 1

    @property
    def key(self) -> str:
        if self.months == 3:
            return f"{self.year:04d}-Q{(self.month - 1) // 3 + 1}"
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        if self.months == 3:
            return f"Triwulan {QUARTERS[(self.month - 1) // 3]} {self.year}"
        return f"{MONTHS[self.month - 1]} {self.year}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day.toordinal() - 1)

    def start_day(self, day: int) -> date:
        """The date this period's instance is due to start."""
        return date(self.year, self.month, day)

    def next(self) -> "Period":
        index = self.year * 12 + self.month - 1 + self.months
        return Period(index // 12, index % 12 + 1, self.months)


def period_of(day: date, schedule: str = MONTHLY) -> Period:
    """The period of a schedule that holds `day`."""
    if schedule == QUARTERLY:
        return Period(day.year, (day.month - 1) // 3 * 3 + 1, 3)
    return Period(day.year, day.month, 1)


def parse_period(text: Any, schedule: str = MONTHLY) -> Period:
    """"2026-11" or, for a quarterly schedule, "2026-Q4" (a month, or a date, is read as its period)."""
    if isinstance(text, date):
        return period_of(text, schedule)
    value = str(text).strip()
    match = _QUARTER_KEY.match(value)
    if match:
        if schedule != QUARTERLY:
            raise ValueError(Text("%(value)s adalah triwulan; jadwal bulanan memakai YYYY-MM", value=repr(value)))
        return Period(int(match[1]), (int(match[2]) - 1) * 3 + 1, 3)
    match = _MONTH_KEY.match(value)
    if not match or not 1 <= int(match[2]) <= 12:
        if schedule == QUARTERLY:
            raise ValueError(Text("%(value)s bukan periode (YYYY-MM atau YYYY-Qn)", value=repr(value)))
        raise ValueError(Text("%(value)s bukan periode (YYYY-MM)", value=repr(value)))
    return period_of(date(int(match[1]), int(match[2]), 1), schedule)


def periods_between(first: date, last: date, schedule: str = MONTHLY) -> list[Period]:
    """The periods holding any day from `first` to `last` (both included), in order."""
    if last < first:
        return []
    found, period, end = [], period_of(first, schedule), period_of(last, schedule)
    while period <= end:
        found.append(period)
        period = period.next()
    return found


@dataclass(frozen=True)
class Cycle:
    definition: str
    schedule: str = MONTHLY
    start: Period = Period(2026, 1)
    day: int = 1
    bidang: tuple[str, ...] | str = ALL     # ALL, or the codes
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    title: str = DEFAULT_TITLE
    enabled: bool = True

    def due_periods(self, today: date) -> list[Period]:
        """Every period from the start whose start day is on or before `today`, oldest first."""
        if not self.enabled:
            return []
        periods = periods_between(self.start.first_day, today, self.schedule)
        return [p for p in periods if p >= self.start and p.start_day(self.day) <= today]

    def bidang_codes(self, known: list[str]) -> list[str]:
        """The Bidang this cycle starts for, given the office's Bidang codes (a listed unknown code stays in)."""
        if self.bidang == ALL:
            return [code for code in sorted(known) if code not in self.exclude]
        return [code for code in self.bidang if code not in self.exclude]

    def title_for(self, bidang_name: str, period: Period) -> str:
        return title(self.title, bidang_name, period)


def title(template: str, bidang_name: str, period: Period) -> str:
    """An instance's title: the template with {bidang} (its name) and {period} (its label)."""
    return template.replace("{bidang}", bidang_name).replace("{period}", period.label).strip()


def parse(text: str | None) -> tuple[Cycle, ...]:
    """The cycles of a YAML text; an empty text or file has none."""
    try:
        data = user_yaml(text or "") or {}
    except yaml.YAMLError as err:  # also a value such as the date 2026-13-01
        raise CycleConfigError(Text("YAML siklus tidak dapat dibaca: %(reason)s", reason=str(err))) from None
    if not isinstance(data, dict) or set(data) - {"cycles"}:
        raise CycleConfigError(Text("cycles: berkas ini berisi satu kunci, `cycles`, berupa daftar"))
    items = data.get("cycles") or []
    if not isinstance(items, list):
        raise CycleConfigError(Text("cycles: harus berupa daftar"))
    cycles = [_cycle(item, f"cycles[{n}]") for n, item in enumerate(items)]
    seen: set[str] = set()
    for n, cycle in enumerate(cycles):
        if cycle.definition in seen:
            raise CycleConfigError(Text("%(key)s: %(definition)s punya dua jadwal", key=f"cycles[{n}].definition",
                                        definition=repr(cycle.definition)))
        seen.add(cycle.definition)
    return tuple(cycles)


def _cycle(item: Any, where: str) -> Cycle:
    if not isinstance(item, dict):
        raise CycleConfigError(Text("%(key)s: harus berupa mapping, bukan %(value)s", key=where, value=repr(item)))
    unknown = set(item) - KEYS
    if unknown:
        raise CycleConfigError(Text("%(key)s: kunci tidak dikenal: %(keys)s; yang dikenal: %(allowed)s", key=where,
                                    keys=", ".join(sorted(map(str, unknown))), allowed=", ".join(sorted(KEYS))))
    definition = item.get("definition")
    if not isinstance(definition, str) or not definition.strip():
        raise CycleConfigError(Text("%(key)s: kunci definisi SOP wajib ada", key=f"{where}.definition"))
    schedule = item.get("schedule", MONTHLY)
    if schedule not in SCHEDULES:
        raise CycleConfigError(Text("%(key)s: %(value)s bukan salah satu dari %(allowed)s", key=f"{where}.schedule",
                                    value=repr(schedule), allowed=", ".join(SCHEDULES)))
    if "start" not in item:
        raise CycleConfigError(Text("%(key)s: periode pertama wajib ada (YYYY-MM)", key=f"{where}.start"))
    try:
        start = parse_period(item["start"], schedule)
    except ValueError as err:
        raise CycleConfigError(Text("%(key)s: %(reason)s", key=f"{where}.start", reason=err.args[0])) from None
    day = item.get("day", 1)
    if isinstance(day, str):  # day: 08, zero-padded, which user_yaml keeps as written
        day = whole_number(day)
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= MAX_DAY:
        raise CycleConfigError(Text("%(key)s: hari dalam bulan, dari 1 sampai %(last)s", key=f"{where}.day",
                                    last=MAX_DAY))
    bidang = item.get("bidang", ALL)
    if bidang != ALL:
        if not isinstance(bidang, list) or not bidang or not all(isinstance(b, str) and b.strip() for b in bidang):
            raise CycleConfigError(Text("%(key)s: `all` atau daftar kode Bidang", key=f"{where}.bidang"))
        bidang = tuple(b.strip() for b in bidang)
    exclude = item.get("exclude", list(DEFAULT_EXCLUDE) if bidang == ALL else [])
    if not isinstance(exclude, list) or not all(isinstance(b, str) for b in exclude):
        raise CycleConfigError(Text("%(key)s: daftar kode Bidang", key=f"{where}.exclude"))
    template = item.get("title", DEFAULT_TITLE)
    if not isinstance(template, str) or "{bidang}" not in template or "{period}" not in template:
        raise CycleConfigError(Text("%(key)s: harus memuat {bidang} dan {period}", key=f"{where}.title"))
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise CycleConfigError(Text("%(key)s: true atau false", key=f"{where}.enabled"))
    return Cycle(definition.strip(), schedule, start, day, bidang, tuple(exclude), template, enabled)
