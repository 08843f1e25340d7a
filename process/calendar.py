"""Working calendar: when an SOP step is due, and how much working time it took.

The office configures its calendar in YAML (see definitions/calendar.yaml):
time zone, weekly working hours with a break, shorter Ramadan hours for given
date ranges, and local additions to / removals from the Indonesian public
holidays and cuti bersama that the `holidays` package lists.

All arithmetic happens in wall-clock time of the office's time zone; results
are aware UTC datetimes. A day's working periods are cached, and so are the
holidays of a year, because `due` is called very often.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import yaml

from process.messages import Text
from process.mutu_baku import MutuBaku, Unit
from process.user_yaml import user_yaml

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOLIDAY_CATEGORIES = ("public", "government")  # government = cuti bersama
HOLIDAY_LANGUAGE = "id"

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)


def past_due(due_at, at):
    """Whether a step due at `due_at` is overdue at `at`: only once `at` is past it, so a step done at
    its due moment is on time and not escalated. The one rule for the scheduler, completions,
    monitoring and the pages; takes datetimes, ISO strings of one zone, or SQL columns alike."""
    return due_at < at

# A working period within a day, as offsets from midnight: [start, end).
Period = tuple[timedelta, timedelta]
Week = tuple[tuple[Period, ...], ...]  # indexed by date.weekday()


class CalendarConfigError(ValueError):
    """A calendar configuration that cannot be used: `where` (a key path) and `message` (a `Text` for counting)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


def _hours(mon_thu: tuple[str, str, str], fri: tuple[str, str, str]) -> dict:
    def day(spec: tuple[str, str, str]) -> dict:
        return {"start": spec[0], "end": spec[1], "break": spec[2]}

    return {**{name: day(mon_thu) for name in WEEKDAYS[:4]}, "friday": day(fri)}


# Must equal definitions/calendar.yaml (a test checks it); the arithmetic
# behind the hours is written there.
DEFAULT_CONFIG: dict[str, Any] = {
    "timezone": "Asia/Jakarta",
    # 4 x (8.5 h - 1 h) + (9 h - 1.5 h) = 37.5 h a week
    "hours": _hours(("07:30", "16:00", "12:00-13:00"), ("07:30", "16:30", "11:30-13:00")),
    "ramadan": {
        # 4 x (7 h - 0.5 h) + (7.5 h - 1 h) = 32.5 h a week
        "hours": _hours(("08:00", "15:00", "12:00-12:30"), ("08:00", "15:30", "11:30-12:30")),
        "periods": [
            {"from": date(2026, 2, 18), "to": date(2026, 3, 19)},
            {"from": date(2027, 2, 8), "to": date(2027, 3, 9)},
        ],
    },
    "holidays": {"add": [], "remove": []},
    "counting": {"days": "kerja", "time": "kerja"},
}


@dataclass(frozen=True)
class CountingRule:
    """How standard times are counted.

    days: "kerja" counts working days, "kalender" 24-hour calendar days ("Hari").
    time: "kerja" counts working time, "jam" clock time ("Menit" and "Jam").
    """

    days: str = "kerja"
    time: str = "kerja"

    def __post_init__(self) -> None:
        if self.days not in ("kerja", "kalender"):
            raise CalendarConfigError("counting.days", Text("harus 'kerja' atau 'kalender', bukan %(value)s",
                                                            value=repr(self.days)))
        if self.time not in ("kerja", "jam"):
            raise CalendarConfigError("counting.time", Text("harus 'kerja' atau 'jam', bukan %(value)s",
                                                            value=repr(self.time)))

    @classmethod
    def from_dict(cls, d: Any, key: str = "counting") -> "CountingRule":
        """The rule a `counting` mapping writes; a problem is named by its path under `key`."""
        if not isinstance(d, dict):
            raise CalendarConfigError(key, Text("harus berupa mapping dengan days dan/atau time, bukan %(value)s",
                                                value=repr(d)))
        unknown = sorted(str(k) for k in d if k not in ("days", "time"))
        if unknown:
            raise CalendarConfigError(key, Text("kunci tidak dikenal: %(keys)s; yang dikenal: days, time",
                                                keys=", ".join(unknown)))
        try:
            return cls(**{k: str(v) for k, v in d.items()})
        except CalendarConfigError as err:
            raise CalendarConfigError(f"{key}.{err.where.rsplit('.', 1)[-1]}", err.message) from None


# --- reading the configuration ------------------------------------------------


def _mapping(value: Any, key: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise CalendarConfigError(key, Text("harus berupa mapping, bukan %(value)s", value=repr(value)))
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise CalendarConfigError(key, Text("kunci tidak dikenal: %(keys)s; yang dikenal: %(allowed)s",
                                            keys=", ".join(unknown), allowed=", ".join(sorted(allowed))))
    return value


def _list(value: Any, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CalendarConfigError(key, Text("harus berupa daftar, bukan %(value)s", value=repr(value)))
    return value


def _clock(value: Any, key: str) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        # `end: 16`, or 960 from a mapping read by a YAML reader other than user_yaml (16:00 in base 60).
        raise CalendarConfigError(key, Text("harus jam seperti 07:30, bukan bilangan %(value)s", value=value))
    try:
        parsed = time.fromisoformat(str(value))
    except ValueError:
        raise CalendarConfigError(key, Text("harus jam 'HH:MM', bukan %(value)s", value=repr(value))) from None
    return timedelta(hours=parsed.hour, minutes=parsed.minute)


def _date(value: Any, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalendarConfigError(key, Text("harus tanggal 'YYYY-MM-DD', bukan %(value)s", value=repr(value))) from None


def _day(value: Any, key: str) -> tuple[Period, ...]:
    """One day's hours {start, end, break?} as working periods; None = day off."""
    if value is None:
        return ()
    value = _mapping(value, key, {"start", "end", "break"})
    for required in ("start", "end"):
        if required not in value:
            raise CalendarConfigError(f"{key}.{required}", Text("wajib ada"))
    start, end = _clock(value["start"], f"{key}.start"), _clock(value["end"], f"{key}.end")
    if start >= end:
        raise CalendarConfigError(key, Text("start %(start)s harus sebelum end %(end)s",
                                            start=value["start"], end=value["end"]))
    if value.get("break") is None:
        return ((start, end),)
    parts = str(value["break"]).split("-")
    if len(parts) != 2:
        raise CalendarConfigError(f"{key}.break", Text("harus 'HH:MM-HH:MM', bukan %(value)s",
                                                     value=repr(value["break"])))
    pause, resume = (_clock(p.strip(), f"{key}.break") for p in parts)
    if not start < pause < resume < end:
        raise CalendarConfigError(f"{key}.break", Text("%(pause)s harus di dalam %(start)s-%(end)s", pause=value["break"],
                                                     start=value["start"], end=value["end"]))
    return ((start, pause), (resume, end))


def _week(value: Any, key: str) -> Week:
    value = _mapping(value, key, set(WEEKDAYS))
    week = tuple(_day(value.get(name), f"{key}.{name}") for name in WEEKDAYS)
    if not any(week):
        # Without a working day no due time could ever be found.
        raise CalendarConfigError(key, Text("setidaknya satu hari harus punya jam kerja"))
    return week


def _ramadan(value: Any, key: str) -> tuple[Week | None, tuple[tuple[date, date], ...]]:
    if value is None:
        return None, ()
    value = _mapping(value, key, {"hours", "periods"})
    if "hours" not in value:
        raise CalendarConfigError(f"{key}.hours", Text("wajib ada"))
    periods = []
    for i, item in enumerate(_list(value.get("periods"), f"{key}.periods")):
        item_key = f"{key}.periods[{i}]"
        item = _mapping(item, item_key, {"from", "to"})
        first, last = _date(item.get("from"), f"{item_key}.from"), _date(item.get("to"), f"{item_key}.to")
        if first > last:
            raise CalendarConfigError(item_key, Text("from %(first)s jatuh sesudah to %(last)s", first=first, last=last))
        periods.append((first, last))
    return _week(value["hours"], f"{key}.hours"), tuple(periods)


def _local_holidays(value: Any, key: str) -> tuple[dict[date, str], frozenset[date]]:
    if value is None:
        return {}, frozenset()
    value = _mapping(value, key, {"add", "remove"})
    added = {}
    for i, item in enumerate(_list(value.get("add"), f"{key}.add")):
        item_key = f"{key}.add[{i}]"
        item = _mapping(item, item_key, {"date", "name"})
        if not item.get("name"):
            raise CalendarConfigError(f"{item_key}.name", Text("wajib ada"))
        added[_date(item.get("date"), f"{item_key}.date")] = str(item["name"])
    removed = frozenset(
        _date(d, f"{key}.remove[{i}]") for i, d in enumerate(_list(value.get("remove"), f"{key}.remove"))
    )
    return added, removed


def _zone(value: Any, key: str) -> ZoneInfo:
    try:
        zone = ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarConfigError(key, Text("zona waktu %(value)s tidak dikenal, mis. 'Asia/Jakarta'",
                                            value=repr(value))) from None
    if _changes_its_clocks(zone):
        # Local midnight plus a working offset (`_at`) is only right where a day has 24 hours.
        raise CalendarConfigError(key, Text("zona waktu %(value)s memakai waktu musim panas, yang tidak dapat dihitung "
                                            "sebagai waktu kerja; zona Indonesia (Asia/Jakarta, Asia/Makassar, "
                                            "Asia/Jayapura) tidak memakainya", value=repr(value)))
    return zone


def _changes_its_clocks(zone: ZoneInfo) -> bool:
    """Whether the zone's offset from UTC moves within the years Alur will run in (sampled monthly)."""
    offsets = {datetime(year, month, 15, 12, tzinfo=zone).utcoffset()
               for year in range(2020, 2041) for month in range(1, 13)}
    return len(offsets) > 1


def _since_midnight(local: datetime) -> timedelta:
    """Wall-clock time of day as an offset (same tzinfo: naive subtraction)."""
    return local - local.replace(hour=0, minute=0, second=0, microsecond=0)


# --- the calendar ------------------------------------------------------------


class WorkingCalendar:
    def __init__(self, config: dict[str, Any]):
        """Build from a configuration mapping; prefer from_dict / from_yaml."""
        config = _mapping(config, "calendar", set(DEFAULT_CONFIG))
        # A top-level key left out falls back to the office default.
        config = {**DEFAULT_CONFIG, **config}
        self.tz = _zone(config["timezone"], "timezone")
        self._week = _week(config["hours"], "hours")
        self._ramadan_week, self._ramadan_periods = _ramadan(config["ramadan"], "ramadan")
        self._added, self._removed = _local_holidays(config["holidays"], "holidays")
        self.counting = CountingRule.from_dict(config["counting"])
        self._holidays_by_year: dict[int, dict[date, str]] = {}
        self._periods_by_day: dict[date, tuple[Period, ...]] = {}
        self._running_counts_by_year: dict[int, list[int]] = {}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorkingCalendar":
        return cls(d)

    @classmethod
    def from_yaml(cls, text: str) -> "WorkingCalendar":
        try:
            data = user_yaml(text)  # an unquoted 16:00 is the time written, not the base-60 number 960
        except yaml.YAMLError as error:
            raise CalendarConfigError(Text("YAML kalender tidak dapat dibaca"), str(error)) from None
        return cls({} if data is None else data)

    @classmethod
    def default(cls) -> "WorkingCalendar":
        return cls(DEFAULT_CONFIG)

    # --- days --------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """Name of the holiday (or cuti bersama) on that day, None if there is none."""
        day = self._as_date(day)
        return self._holidays(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return bool(self._periods(self._as_date(day)))

    def working_days_between(self, first: date, last: date) -> int:
        """Working days after `first`, up to and including `last`; 0 if `last` is not after `first`.

        From running counts kept per year: a page words the time left of
        dozens of tasks, each due weeks away, and walked every day between.
        """
        if last <= first:
            return 0
        return (self._working_days_through(last) - self._working_days_through(first)
                + sum(self._working_days_through(date(year, 12, 31)) for year in range(first.year, last.year)))

    def _working_days_through(self, day: date) -> int:
        """Working days from 1 January of `day`'s year up to and including `day`."""
        counts = self._running_counts_by_year.get(day.year)
        if counts is None:
            counts, seen, each = [], 0, date(day.year, 1, 1)
            while each.year == day.year:
                seen += bool(self._periods(each))
                counts.append(seen)
                each += ONE_DAY
            self._running_counts_by_year[day.year] = counts
        return counts[day.timetuple().tm_yday - 1]

    def _holidays(self, year: int) -> dict[date, str]:
        cached = self._holidays_by_year.get(year)
        if cached is None:
            listed = holidays_package.country_holidays(
                "ID", years=year, categories=HOLIDAY_CATEGORIES, language=HOLIDAY_LANGUAGE
            )
            cached = {d: name for d, name in listed.items() if d not in self._removed}
            cached.update((d, name) for d, name in self._added.items() if d.year == year)
            self._holidays_by_year[year] = cached
        return cached

    def _periods(self, day: date) -> tuple[Period, ...]:
        """The working periods of a day; empty on weekends and holidays."""
        cached = self._periods_by_day.get(day)
        if cached is None:
            in_ramadan = any(first <= day <= last for first, last in self._ramadan_periods)
            week = self._ramadan_week if in_ramadan else self._week
            cached = () if self.holiday_name(day) else week[day.weekday()]
            self._periods_by_day[day] = cached
        return cached

    def _next_working_day(self, day: date) -> date:
        while not self._periods(day):
            day += ONE_DAY
        return day

    def _as_date(self, day: date) -> date:
        if isinstance(day, datetime):
            return self._local(day).date() if day.tzinfo else day.date()
        return day

    # --- instants ----------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"datetime {moment} has no time zone: pass an aware datetime")
        return moment.astimezone(self.tz)

    def _at(self, day: date, offset: timedelta) -> datetime:
        """The UTC instant at `offset` after local midnight of `day`."""
        return (datetime.combine(day, time(), self.tz) + offset).astimezone(timezone.utc)

    def _next_working_instant(self, day: date, offset: timedelta) -> tuple[date, timedelta]:
        """The first instant at or after (day, offset) inside a working period."""
        while True:
            for start, end in self._periods(day):
                if offset < end:
                    return day, max(offset, start)
            day, offset = day + ONE_DAY, ZERO

    # --- public arithmetic -------------------------------------------------

    def rule(self, overrides: dict[str, str] | None = None) -> CountingRule:
        """The office's counting rule with a definition's or step's overrides."""
        return replace(self.counting, **overrides) if overrides else self.counting

    def due(self, start: datetime, mutu: MutuBaku, rule: CountingRule | None = None) -> datetime:
        """When a step started at `start` with standard time `mutu` is due (aware UTC).

        `rule` is the definition's (or step's) counting rule, the calendar's
        default if None. An explicit "Kerja"/"Kalender" in the standard time
        itself (mutu.working) wins over the rule.
        """
        local = self._local(start)
        working = self.counts_working_time(mutu, rule)
        if mutu.unit is Unit.HARI:
            if working:
                return self._add_working_days(local, mutu.amount)
            # Wall-clock days in the office's zone (Indonesia has no DST anyway).
            return (local + timedelta(days=mutu.amount)).astimezone(timezone.utc)
        if working:
            return self._add_working_time(local, mutu.clock_delta)
        return start.astimezone(timezone.utc) + mutu.clock_delta

    def step_counts_working_time(self, step) -> bool:
        """`counts_working_time` for a definition's step: its standard time by its counting rule (the
        calendar's, with the definition's and the step's overrides)."""
        return self.counts_working_time(step.mutu_baku, self.rule(step.counting))

    def step_standard(self, step) -> MutuBaku:
        """A definition's step's standard as pages state it: its days counted by its rule ("30 Hari Kerja")."""
        return step.mutu_baku.counted(self.step_counts_working_time(step))

    def counts_working_time(self, mutu: MutuBaku, rule: CountingRule | None = None) -> bool:
        """Whether `due` counts the standard time in working days or working time (True), or in
        calendar days or clock time (False): its own "Kerja"/"Kalender", else the rule."""
        if mutu.working is not None:
            return mutu.working
        rule = rule or self.counting
        return (rule.days if mutu.unit is Unit.HARI else rule.time) == "kerja"

    def _add_working_time(self, local: datetime, amount: timedelta) -> datetime:
        # Time outside the working periods (nights, breaks, holidays) is skipped;
        # a step that ends exactly at closing time is due at closing time.
        day, offset = local.date(), _since_midnight(local)
        while True:
            for start, end in self._periods(day):
                if offset >= end:
                    continue
                offset = max(offset, start)
                if amount <= end - offset:
                    return self._at(day, offset + amount)
                amount -= end - offset
            day, offset = day + ONE_DAY, ZERO

    def _add_working_days(self, local: datetime, count: int) -> datetime:
        # Counting starts at the next working instant (a request filed at night
        # or on a holiday counts from the next opening), and the step is due at
        # the same time of day `count` working days later, kept within that
        # day's hours (e.g. Friday 16:15 + 1 day is Monday 16:00, not 16:15; see _within_hours).
        day, offset = self._next_working_instant(local.date(), _since_midnight(local))
        for _ in range(count):
            day = self._next_working_day(day + ONE_DAY)
        return self._at(day, self._within_hours(day, offset))

    def _within_hours(self, day: date, offset: timedelta) -> timedelta:
        """The time of day moved into the day's working hours: before opening to opening, into a break
        to its end (a Ramadan start at 12:30 lands in a normal day's lunch break), after closing to closing."""
        periods = self._periods(day)
        for start, end in periods:
            if offset <= end:
                return max(offset, start)
        return periods[-1][1]

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from a to b: the overlap with working periods (negative if b < a)."""
        if b < a:
            return -self.working_time_between(b, a)
        first, last = self._local(a), self._local(b)
        total, day = ZERO, first.date()
        while day <= last.date():
            midnight = datetime.combine(day, time(), self.tz)
            low = first - midnight if day == first.date() else ZERO
            high = last - midnight if day == last.date() else ONE_DAY
            for start, end in self._periods(day):
                total += max(ZERO, min(end, high) - max(start, low))
            day += ONE_DAY
        return total
