"""Monitoring and evaluation figures, the recapitulation, and the archive search.

The SOP's warnings (*Peringatan*) are what this answers: overlapping
programmes across Bidang, report data that is hard to recapitulate, progress
and history that are hard to track, and slow decisions for want of current
figures.

What is counted, precisely:

- The *period* is a range of office-local dates (both ends included) on the
  instance's `created_at`; an optional Bidang narrows it. Only instances of one
  SOP (definition key) are counted, since step numbers are that SOP's.
- *Overdue now*: an open step whose due time has passed by the runtime's clock
  (or that the scheduler already marked overdue).
- A completed step is *on time* when `completed_at <= due_at`. Steps without a
  due time count as done but are left out of the on-time rate.
- *Time taken* is measured by the rule that judges the step on time (`StepTime`):
  working time (`calendar.working_time_between(created_at, completed_at)`), or
  for a step counted in calendar days or clock time, by the clock; in minutes.
  Each completion by the counting rule of the version it ran under.
  The *median* is `statistics.median`; the *90th percentile* is the
  nearest-rank value: the ceil(0.9 n)-th smallest.
- A step's *standard* in minutes is the median of the time (measured so) each
  completion was allowed (`created_at` to `due_at`): that way the calendar and
  the counting rule (working or calendar days) are taken into account. The heat
  map compares the median time taken against it: green within, amber up to 2x,
  red beyond.
- *Worst cases* of a step: its five completions that took the most time
  (ties: lower instance id first).
- *Sent back* at verification: completions of the verification step with
  `terverifikasi` false.
- *Problems*: completions of the problem step with `ada_kendala` true, with
  the analysis and solution of the steps after it and the documents uploaded
  at those steps.
- Those steps are found per version by their forms (`process.monev`), not by
  number: a version may renumber them. An event counts when its step is that
  step in some version of the SOP and its data holds the step's field, so an
  instance's events count at the numbers of the version it ran them under,
  also after it moved to a newer version.
- *Possible overlaps*: two instances of different Bidang (created in the
  period) whose normalised titles share at least one word and have a token
  Jaccard index >= 0.5 or a difflib ratio >= 0.8, or whose planned dates (the
  plan step's tanggal_mulai..tanggal_selesai, both included; `process.monev`)
  intersect.
- *Trend*: completed steps by the office-local month of completion.

Counts and grouping run in SQL; percentiles, working time and the title
comparison in Python, on rows fetched by a fixed number of queries (no query
per row).
"""
from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import and_, case, distinct, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from engine import accounts, escalation
from engine.db import Bidang, DefinitionVersion, Document, Event, Instance, TaskRow, User
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.events import log
from engine.permissions import is_admin
from engine.runtime import Runtime
from engine.services import iso, user
from process import monev
from process.calendar import past_due
from process.definition import Definition, Step
from process.messages import Text

OFFICE_WIDE = ("kadis", "sekretaris", "pemilik_proses")
MONITORING_ROLES = ("kepala",) + OFFICE_WIDE

JACCARD_THRESHOLD = 0.5
RATIO_THRESHOLD = 0.8
OVERLAP_LIST_LIMIT = 100
WORST_CASES = 5
# The longest period the figures cover: the trend has a point per month, and a period of a thousand
# years made the evaluation report's PDF take more than a minute and a half of a worker's time.
MAX_PERIOD_YEARS = 10
# Words that say nothing about what an activity is about.
STOPWORDS = frozenset("""
    dan di ke dari untuk yang pada dengan atau dalam bagi oleh serta se tentang terhadap secara
    kegiatan layanan program bidang tahun bulan periode
""".split())
_WORD = re.compile(r"[0-9a-z]+")


# -- the period and who may look ------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What one request looks at: a period, optionally one Bidang, one SOP."""
    start: date
    end: date
    bidang: str | None
    key: str
    version_ids: tuple[int, ...]
    definition: Definition
    tz: Any
    # The monitored steps of each version (process.monev), in version order.
    roles: tuple[monev.Roles, ...] = ()
    # Every step any version had, by its diagram element, as the newest version having it names it.
    # Versions may renumber steps; a step keeps its element (migration relies on it), so figures
    # count a step by its element under the newest number (`number_of`).
    by_element: dict[str, Step] = field(default_factory=dict)
    # Each version's definition by its id: a step is measured by the version it ran under (`StepTime`).
    by_version: dict[int, Definition] = field(default_factory=dict)

    def number_of(self, element_id: str, number: int) -> int:
        """The number a step run as `number` of its version has in the newest version having it."""
        step = self.by_element.get(element_id)
        return step.number if step is not None else number

    def steps_of(self, role: str) -> list[int]:
        """The numbers `role` ("verify", "problem", ...) has in the versions of the SOP."""
        return sorted({getattr(r, role) for r in self.roles} - {None})

    @property
    def problem_steps(self) -> list[int]:
        return sorted({n for r in self.roles for n in r.problem_steps})

    @property
    def problem_documents(self) -> list[str]:
        return sorted({name for r in self.roles for name in r.problem_documents})

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), self.tz).astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(), self.tz).astimezone(timezone.utc)

    def instance_filter(self, with_bidang: bool = True) -> list:
        clauses = [Instance.created_at >= self.start_utc, Instance.created_at < self.end_utc,
                   Instance.definition_version_id.in_(self.version_ids)]
        if with_bidang and self.bidang:
            clauses.append(Instance.bidang_code == self.bidang)
        return clauses


def default_period(rt: Runtime) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    today = rt.now().astimezone(rt.calendar.tz).date()
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def may_monitor(account: User) -> bool:
    return bool(account.role_names & set(MONITORING_ROLES))


def monitored_bidang(rt: Runtime, account: User, bidang: str | None) -> str | None:
    """The Bidang a viewer looks at: any for those who may open every Bidang's activities (the
    office-wide roles, and a kepala an escalation rule names `within: office`), a kepala only their own."""
    if not may_monitor(account):
        raise Forbidden(Text("Anda tidak berwenang melihat monitoring dan evaluasi"))
    if escalation.sees_every_bidang(rt, account):
        return bidang or None
    if bidang and bidang != account.bidang_code:  # a kepala, the one monitoring role left
        raise Forbidden(Text("Anda hanya dapat melihat monitoring bidang Anda sendiri"))
    return account.bidang_code


def _scope(rt: Runtime, session: Session, login: str, start: date | None, end: date | None,
           bidang: str | None, key: str | None) -> tuple[Scope, User]:
    account = user(session, login)
    bidang = monitored_bidang(rt, account, bidang)
    if bidang and session.get(Bidang, bidang) is None:
        raise NotFound(Text("bidang %(bidang)r tidak dikenal", bidang=bidang))
    default_start, default_end = default_period(rt)
    start, end = start or default_start, end or default_end
    check_order(start, end)
    if (end - start).days > MAX_PERIOD_YEARS * 366:
        too_long = Text("periode paling lama %(years)d tahun", years=MAX_PERIOD_YEARS)
        raise InvalidData(too_long, {"sampai": too_long})
    versions = _versions(session, key)
    definitions = [rt.definition(v)[0] for v in versions]
    by_element = {s.element_id: s for d in definitions for s in d.steps}  # the newest version having it wins
    return Scope(start, end, bidang, versions[-1].key, tuple(v.id for v in versions), definitions[-1],
                 rt.calendar.tz, tuple(monev.roles(d) for d in definitions), by_element,
                 {v.id: d for v, d in zip(versions, definitions)}), account


def check_order(start: date | None, end: date | None) -> None:
    """A period (or the search's range) that starts after it ends is refused at its start."""
    if start and end and start > end:
        raise InvalidData(Text("tanggal awal periode setelah tanggal akhir"), {"dari": Text("setelah tanggal akhir")})


def _versions(session: Session, key: str | None) -> list[DefinitionVersion]:
    if not key:
        key = session.scalars(select(DefinitionVersion.key).order_by(DefinitionVersion.key).limit(1)).first()
        if key is None:
            raise NotFound(Text("belum ada definisi SOP yang di-deploy"))
    versions = list(session.scalars(select(DefinitionVersion).where(DefinitionVersion.key == key)
                                    .order_by(DefinitionVersion.version)))
    if not versions:
        raise NotFound(Text("definisi %(key)r belum di-deploy", key=key))
    return versions


def sop_choices(session: Session) -> list[dict[str, str]]:
    """Every deployed SOP by key, named as its newest version names it: what the filters offer."""
    names: dict[str, str] = {}
    for key, name in session.execute(select(DefinitionVersion.key, DefinitionVersion.name)
                                     .order_by(DefinitionVersion.key, DefinitionVersion.version)):
        names[key] = name
    return [{"key": key, "name": name} for key, name in names.items()]


def bidang_names(session: Session) -> dict[str, str]:
    """Each Bidang's name by its code, in the order of the names (as every page lists the Bidang)."""
    return {b["code"]: b["name"] for b in accounts.bidang_list(session)}


def by_name(codes, names: dict[str, str]) -> list[str]:
    """`codes` in the order of `bidang_names`; a code without a Bidang row last."""
    place = {code: i for i, code in enumerate(names)}
    return sorted(codes, key=lambda c: (place.get(c, len(place)), c))


def bidang_choices(names: dict[str, str], account: User, every_bidang: bool) -> list[dict[str, str]]:
    """The Bidang the filters offer a viewer: every one to those who see every Bidang, else their own."""
    return [{"code": c, "name": n} for c, n in names.items() if every_bidang or c == account.bidang_code]


def filter_choices(rt: Runtime, login: str) -> dict[str, list[dict[str, str]]]:
    """What the filters offer when no figures could be read (a period running backwards): the
    Bidang the viewer may look at and every deployed SOP."""
    with rt.uow() as session:
        account = user(session, login)
        monitored_bidang(rt, account, None)
        return {"bidang_choices": bidang_choices(bidang_names(session), account,
                                                 escalation.sees_every_bidang(rt, account)),
                "sop_choices": sop_choices(session)}


# -- working time, fast ---------------------------------------------------------

class WorkTime:
    """`calendar.working_time_between`, with whole days between the ends summed once.

    The calendar walks every day of an interval; a 30-working-day step would
    walk some forty days for each of thousands of rows. Here the partial first
    and last days go to the calendar, and the days between come from prefix
    sums of each day's working time. The result is the same timedelta.
    """

    def __init__(self, calendar):
        self.calendar, self.tz = calendar, calendar.tz
        self._origin: date | None = None
        self._prefix: list[timedelta] = []  # _prefix[i]: working time of days origin .. origin+i-1

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.tz)

    def _day(self, day: date) -> timedelta:
        return self.calendar.working_time_between(self._midnight(day), self._midnight(day + timedelta(days=1)))

    def _cumulative(self, day: date) -> timedelta:
        """Working time of the days from the origin up to (not including) `day`."""
        if self._origin is None or day < self._origin:
            self._origin, self._prefix = day, [timedelta(0)]
        index = (day - self._origin).days
        while len(self._prefix) <= index:
            self._prefix.append(self._prefix[-1] + self._day(self._origin + timedelta(days=len(self._prefix) - 1)))
        return self._prefix[index]

    def between(self, a: datetime, b: datetime) -> timedelta:
        if b < a:
            return -self.between(b, a)
        first, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        if (last - first).days < 2:
            return self.calendar.working_time_between(a, b)
        head = self.calendar.working_time_between(a, self._midnight(first + timedelta(days=1)))
        tail = self.calendar.working_time_between(self._midnight(last), b)
        # Origin first: both prefix lookups must use the same origin.
        self._cumulative(first + timedelta(days=1))
        return head + self._cumulative(last) - self._cumulative(first + timedelta(days=1)) + tail

    def minutes(self, a: datetime, b: datetime) -> float:
        return self.between(a, b) / timedelta(minutes=1)


class StepTime:
    """Time taken at a step in minutes, measured by the rule that judged it on time: the counting rule
    (`counts_working_time`) of its standard in the version it ran under. Working time, or by the clock for a
    step counted in calendar days or clock time. It keeps the rules it measured each step by, for the
    words its figures are written in (`counts_working_time`, `one_rule`)."""

    def __init__(self, calendar, scope: Scope):
        self.work = WorkTime(calendar)
        self.newest = {e: calendar.step_counts_working_time(s) for e, s in scope.by_element.items()}
        self.ran_under = {(version, s.element_id): calendar.step_counts_working_time(s)
                          for version, definition in scope.by_version.items() for s in definition.steps}
        self.measured: dict[str, set[bool]] = defaultdict(set)

    def counts_working_time(self, element: str, version: int | None = None) -> bool:
        """How `version` counts the step. Without one (a figure over several completions): the rule they
        were all measured by, else as the newest version having the step counts it."""
        working = self.ran_under.get((version, element))
        if working is not None:
            return working
        measured = self.measured.get(element, ())
        return next(iter(measured)) if len(measured) == 1 else self.newest.get(element, True)

    def one_rule(self, element: str) -> bool:
        """Whether the step's completions were all measured by one rule (else its figures mix the two)."""
        return len(self.measured.get(element, ())) <= 1

    def minutes(self, version: int, element: str, a: datetime, b: datetime) -> float:
        working = self.counts_working_time(element, version)
        self.measured[element].add(working)
        return self.work.minutes(a, b) if working else (b - a) / timedelta(minutes=1)


# -- small statistics -------------------------------------------------------------

def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank: the ceil(q n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def shown_rate(value: float) -> float:
    """A rate to be written to a tenth of a percent: kept off 0% and 100% unless it is exactly that."""
    if 0 < value < 0.001:
        return 0.001
    if 0.999 < value < 1:
        return 0.999
    return value


def heat_level(median_minutes: float | None, standard_minutes: float | None) -> str:
    if median_minutes is None or not standard_minutes:
        return "none"
    ratio = median_minutes / standard_minutes
    return "green" if ratio <= 1 else "amber" if ratio <= 2 else "red"


# -- titles -------------------------------------------------------------------------

def title_tokens(title: str) -> frozenset[str]:
    """Lower-case words of a title without stop words and bare numbers."""
    return frozenset(w for w in _WORD.findall((title or "").lower())
                     if w not in STOPWORDS and not w.isdigit())


def normalised_title(title: str) -> str:
    return " ".join(w for w in _WORD.findall((title or "").lower()) if w not in STOPWORDS and not w.isdigit())


def title_similarity(a: str, b: str) -> tuple[float, float]:
    """(token Jaccard index, difflib ratio of the normalised titles)."""
    ta, tb = title_tokens(a), title_tokens(b)
    jaccard = len(ta & tb) / len(ta | tb) if ta | tb else 0.0
    return jaccard, SequenceMatcher(None, normalised_title(a), normalised_title(b)).ratio()


def similar_titles(a: str, b: str) -> tuple[bool, float]:
    """Whether two titles look alike by the rule in the module text, and the better score."""
    if not title_tokens(a) & title_tokens(b):
        return False, 0.0
    jaccard, ratio = title_similarity(a, b)
    return jaccard >= JACCARD_THRESHOLD or ratio >= RATIO_THRESHOLD, max(jaccard, ratio)


# -- the figures ----------------------------------------------------------------------

def figures(rt: Runtime, login: str, start: date | None = None, end: date | None = None,
            bidang: str | None = None, key: str | None = None) -> dict[str, Any]:
    """Everything the monitoring page shows, for one period (and Bidang) the viewer may see."""
    now = rt.now()
    with rt.uow() as session:
        scope, account = _scope(rt, session, login, start, end, bidang, key)
        every_bidang = escalation.sees_every_bidang(rt, account)
        names = bidang_names(session)
        sops = sop_choices(session)
        where = scope.instance_filter()
        overdue_now = or_(TaskRow.overdue.is_(True), past_due(TaskRow.due_at, now))

        states = session.execute(
            select(Instance.bidang_code, Instance.state, func.count())
            .where(*where).group_by(Instance.bidang_code, Instance.state)).all()
        at_step = session.execute(
            select(TaskRow.instance_bidang, TaskRow.element_id, TaskRow.step, func.count(distinct(TaskRow.instance_id)),
                   func.count(distinct(case((overdue_now, TaskRow.instance_id)))))
            .join(Instance, Instance.id == TaskRow.instance_id)
            .where(TaskRow.state == "open", *where)
            .group_by(TaskRow.instance_bidang, TaskRow.element_id, TaskRow.step)).all()
        overdue_instances = dict(session.execute(
            select(Instance.bidang_code, func.count(distinct(Instance.id)))
            .join(TaskRow, TaskRow.instance_id == Instance.id)
            .where(TaskRow.state == "open", overdue_now, *where).group_by(Instance.bidang_code)).all())
        on_time_sql = and_(TaskRow.due_at.is_not(None), ~past_due(TaskRow.due_at, TaskRow.completed_at))
        done_counts = session.execute(
            select(TaskRow.element_id, TaskRow.step, TaskRow.instance_bidang, func.count(),
                   func.count(TaskRow.due_at), func.sum(case((on_time_sql, 1), else_=0)))
            .join(Instance, Instance.id == TaskRow.instance_id)
            .where(TaskRow.state == "completed", *where)
            .group_by(TaskRow.element_id, TaskRow.step, TaskRow.instance_bidang)).all()
        completed = session.execute(
            select(TaskRow.instance_id, TaskRow.definition_version_id, TaskRow.element_id, TaskRow.step, TaskRow.name,
                   TaskRow.instance_bidang, TaskRow.created_at, TaskRow.due_at, TaskRow.completed_at,
                   TaskRow.completed_by, Instance.title)
            .join(Instance, Instance.id == TaskRow.instance_id)
            .where(TaskRow.state == "completed", TaskRow.completed_at.is_not(None), *where)).all()
        verification = _verification(session, scope, where)
        problems = _problems(session, scope, where)
        overlaps = _overlaps(session, scope)
        started = session.execute(select(Instance.created_at, Instance.completed_at).where(*where)).all()

    took = StepTime(rt.calendar, scope)
    definition = scope.definition
    # Steps are counted by their diagram element (versions may renumber them) and shown under the
    # newest version's number; a step a newer version removed keeps its last number and name.
    step_names = {e: s.name for e, s in scope.by_element.items()}
    # Each step's standard as the SOP states it, its days counted by the step's rule ("30 Hari Kerja").
    stated = {e: str(rt.calendar.step_standard(s)) for e, s in scope.by_element.items()}
    diagram = {s.element_id for s in definition.steps}

    # Activities by state per Bidang.
    by_bidang: dict[str, dict[str, Any]] = {}

    def bidang_row(code: str) -> dict[str, Any]:
        return by_bidang.setdefault(code, {"bidang": code, "name": names.get(code, code), "total": 0,
                                           "running": 0, "completed": 0, "other": 0, "overdue": 0,
                                           "at_step": {}, "overdue_at_step": {}, "at_removed_step": []})
    for code, state, count in states:
        row = bidang_row(code)
        row["total"] += count
        row[state if state in ("running", "completed") else "other"] += count
    removed_at: dict[tuple[str, str], dict[str, Any]] = {}
    for code, element, step, count, late in at_step:
        number = scope.number_of(element, step)
        row = bidang_row(code)
        if element not in diagram:
            # An older version's step the newest one removed (its activities stay on their version):
            # its own chip, so it is never added to the newest version's step of the same number.
            chip = removed_at.get((code, element))
            if chip is None:
                chip = removed_at[(code, element)] = {"step": number, "name": step_names.get(element, ""),
                                                      "element_id": element, "count": 0, "overdue": 0}
                row["at_removed_step"].append(chip)
            chip["count"] += count
            chip["overdue"] += late
            continue
        row["at_step"][number] = row["at_step"].get(number, 0) + count
        row["overdue_at_step"][number] = row["overdue_at_step"].get(number, 0) + late
    for row in by_bidang.values():
        row["at_removed_step"].sort(key=lambda c: (c["step"], c["element_id"]))
    for code, count in overdue_instances.items():
        bidang_row(code)["overdue"] = count

    # Counts per step and per step x Bidang (SQL), timings (Python).
    numbers: dict[str, int] = {}  # element -> the number it is shown under
    counts: dict[tuple[str, str], tuple[int, int, int]] = {}
    for element, step, code, done, with_due, on_time in done_counts:
        numbers[element] = scope.number_of(element, step)
        d, w, o = counts.get((element, code), (0, 0, 0))
        counts[(element, code)] = (d + done, w + with_due, o + int(on_time or 0))
    taken: dict[str, list[float]] = defaultdict(list)
    taken_bidang: dict[tuple[str, str], list[float]] = defaultdict(list)
    allowed: dict[str, list[float]] = defaultdict(list)
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    trend: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # done, with due, on time, started, finished
    for r in completed:
        element = r.element_id
        numbers[element] = scope.number_of(element, r.step)
        step_names.setdefault(element, r.name)
        version = r.definition_version_id  # the version the step ran under measures it
        minutes = took.minutes(version, element, r.created_at, r.completed_at)
        taken[element].append(minutes)
        taken_bidang[(element, r.instance_bidang)].append(minutes)
        late = r.due_at is not None and past_due(r.due_at, r.completed_at)
        if r.due_at is not None:
            allowed[element].append(took.minutes(version, element, r.created_at, r.due_at))
        cases[element].append({
            "instance_id": r.instance_id, "title": r.title, "bidang": r.instance_bidang,
            "performer": r.completed_by, "minutes": minutes, "working_time": took.counts_working_time(element, version),
            "created_at": iso(r.created_at),
            "completed_at": iso(r.completed_at), "due_at": iso(r.due_at), "late": late,
            "late_minutes": took.minutes(version, element, r.due_at, r.completed_at) if late else 0.0,
        })
        month = trend[_month(r.completed_at, scope.tz)]
        month[0] += 1
        if r.due_at is not None:
            month[1] += 1
            month[2] += not late
    for created_at, completed_at in started:
        trend[_month(created_at, scope.tz)][3] += 1
        if completed_at is not None:
            trend[_month(completed_at, scope.tz)][4] += 1

    open_now: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, element, step, count, late in at_step:
        numbers[element] = scope.number_of(element, step)
        open_now[element][0] += count
        open_now[element][1] += late
    numbers.update({s.element_id: s.number for s in definition.steps})

    # The newest version's steps in their order; a removed step after the step that took its number.
    all_steps = sorted(numbers, key=lambda e: (numbers[e], e not in diagram, e))
    bidang_codes = by_name({c for _, c in counts} | set(by_bidang) | ({scope.bidang} if scope.bidang else set()),
                           names)
    steps = []
    heatmap = {}
    for element in all_steps:
        done = with_due = on_time = 0
        per_bidang = {}
        for code in bidang_codes:
            d, w, o = counts.get((element, code), (0, 0, 0))
            done, with_due, on_time = done + d, with_due + w, on_time + o
            values = taken_bidang.get((element, code), [])
            per_bidang[code] = {"done": d, "with_due": w, "on_time": o, "on_time_rate": rate(o, w),
                                "median_minutes": median(values), "p90_minutes": percentile(values, 0.9)}
        values = taken.get(element, [])
        standard = median(allowed.get(element, []))
        worst = sorted(cases.get(element, []), key=lambda c: (-c["minutes"], c["instance_id"]))[:WORST_CASES]
        entry = {
            "step": numbers[element], "name": step_names.get(element, ""), "element_id": element,
            "removed": element not in diagram,  # an earlier version's step: its number may be a newer step's
            "mutu_baku": stated.get(element, ""), "done": done, "with_due": with_due, "on_time": on_time,
            "on_time_rate": rate(on_time, with_due), "median_minutes": median(values),
            "p90_minutes": percentile(values, 0.9), "standard_minutes": standard,
            # How its times are written (`StepTime`): its completions are measured each by its own version,
            # which may count the step otherwise (`one_rule`).
            "working_time": took.counts_working_time(element), "one_rule": took.one_rule(element),
            "open_now": open_now[element][0], "overdue_now": open_now[element][1],
            "level": heat_level(median(values), standard), "worst": worst, "by_bidang": per_bidang,
        }
        steps.append(entry)
        if element in diagram:  # the heat map is drawn on the newest version's diagram
            heatmap[element] = {**{k: entry[k] for k in (
                "step", "open_now", "overdue_now", "on_time_rate", "median_minutes", "standard_minutes",
                "level", "done", "working_time")}, "standard": entry["mutu_baku"]}

    bidang_on_time = []
    for code in bidang_codes:
        d = sum(counts.get((s, code), (0, 0, 0))[0] for s in all_steps)
        w = sum(counts.get((s, code), (0, 0, 0))[1] for s in all_steps)
        o = sum(counts.get((s, code), (0, 0, 0))[2] for s in all_steps)
        bidang_on_time.append({"bidang": code, "name": names.get(code, code), "done": d, "with_due": w,
                               "on_time": o, "on_time_rate": rate(o, w)})

    # The period's activities are followed to their end: a month after the period in which some of
    # their steps were finished is shown too, so the trend adds up to the step table.
    last = max([scope.end.strftime("%Y-%m"), *trend])
    months = []
    for month in _months(scope.start, date(int(last[:4]), int(last[5:]), 1)):
        done, with_due, on_time, began, finished = trend.get(month, [0, 0, 0, 0, 0])
        months.append({"month": month, "done": done, "with_due": with_due, "on_time": on_time,
                       "on_time_rate": rate(on_time, with_due), "started": began, "completed": finished})

    for row in verification:
        row["name"] = names.get(row["bidang"], row["bidang"])
    return {
        "period": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "bidang": scope.bidang, "now": iso(now),
        "bidang_choices": bidang_choices(names, account, every_bidang),
        "sop": {"key": scope.key, "name": definition.name}, "sop_choices": sops,
        "by_bidang": [by_bidang[c] for c in by_name(by_bidang, names)],
        "totals": {k: sum(r[k] for r in by_bidang.values())
                   for k in ("total", "running", "completed", "other", "overdue")},
        "steps": steps, "bidang_on_time": bidang_on_time, "bidang_codes": bidang_codes,
        "bidang_names": names,
        "verification": verification, "problems": problems, "overlaps": overlaps,
        "trend": months, "heatmap": heatmap, "roles": _roles_shown(scope.roles[-1]),
    }


def _roles_shown(roles: monev.Roles) -> dict[str, Any]:
    """The newest version's monitored steps, for the headings ("Hasil verifikasi (langkah 5)")."""
    return {"verify": roles.verify, "problem": roles.problem, "problem_steps": monev.steps_text(roles.problem_steps)}


def _month(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _verification(session: Session, scope: Scope, where: list) -> list[dict[str, Any]]:
    """Verification outcomes per Bidang: how often results were sent back."""
    verified = Event.data[monev.VERIFIED].as_boolean()
    rejected = verified == false()
    rows = session.execute(
        select(Instance.bidang_code, func.count(), func.sum(case((rejected, 1), else_=0)),
               func.count(distinct(case((rejected, Event.instance_id)))),
               func.count(distinct(Event.instance_id)))
        .join(Instance, Instance.id == Event.instance_id)
        .where(Event.kind == "step_completed", Event.step.in_(scope.steps_of("verify")), verified.is_not(None),
               *where)
        .group_by(Instance.bidang_code).order_by(Instance.bidang_code)).all()
    return [{"bidang": code, "decisions": total, "sent_back": int(back or 0), "verified": total - int(back or 0),
             "sent_back_rate": rate(int(back or 0), total), "instances_sent_back": instances_back,
             "instances": instances} for code, total, back, instances_back, instances in rows]


def _problems(session: Session, scope: Scope, where: list) -> list[dict[str, Any]]:
    """Problems raised at the problem step, with what the analysis and report steps made of them.

    The steps' events are told apart by what their data holds (`process.monev`).
    """
    flagged = select(Event.instance_id).join(Instance, Instance.id == Event.instance_id).where(
        Event.kind == "step_completed", Event.step.in_(scope.steps_of("problem")),
        Event.data[monev.HAS_PROBLEM].as_boolean() == true(), *where)
    events = session.execute(
        select(Event.instance_id, Event.step, Event.at, Event.actor, Event.data, Instance.title,
               Instance.bidang_code, Instance.state)
        .join(Instance, Instance.id == Event.instance_id)
        .where(Event.kind == "step_completed", Event.step.in_(scope.problem_steps),
               Event.instance_id.in_(flagged))
        .order_by(Event.id)).all()
    docs = session.execute(
        select(Document.id, Document.instance_id, Document.filename, Document.field, TaskRow.step)
        .join(TaskRow, TaskRow.id == Document.task_id)
        .where(Document.instance_id.in_(flagged), TaskRow.step.in_(scope.problem_steps),
               Document.field.in_(scope.problem_documents))
        .order_by(Document.id)).all()
    found: dict[int, dict[str, Any]] = {}
    for e in events:
        data = e.data or {}
        if monev.HAS_PROBLEM in data:
            if not monev.is_problem(data):
                continue
            found[e.instance_id] = {
                "instance_id": e.instance_id, "title": e.title, "bidang": e.bidang_code, "state": e.state,
                "raised_at": iso(e.at), "raised_by": e.actor, "uraian_kendala": data.get(monev.PROBLEM_TEXT, ""),
                "analisa_permasalahan": None, "solusi": None, "analysed_by": None, "analysed_at": None,
                "reported_at": None, "reported_by": None, "documents": [],
            }
        elif e.instance_id in found:
            problem = found[e.instance_id]
            if monev.is_analysis(data):
                problem.update(analisa_permasalahan=data.get(monev.ANALYSIS), solusi=data.get(monev.SOLUTION),
                               analysed_by=e.actor, analysed_at=iso(e.at))
            if monev.is_report(data):
                problem.update(reported_by=e.actor, reported_at=iso(e.at))
    for d in docs:
        if d.instance_id in found:
            found[d.instance_id]["documents"].append(
                {"id": d.id, "filename": d.filename, "field": d.field, "step": d.step})
    return sorted(found.values(), key=lambda p: (p["raised_at"], p["instance_id"]))


def _overlaps(session: Session, scope: Scope) -> dict[str, Any]:
    """Activities of different Bidang that look alike or are planned for the same days.

    Bounded work whatever the data: titles are compared once per pair of
    distinct normalised titles (found through the words they share), date
    overlaps are counted with sorted lists, and only the first pairs of each
    kind are listed.
    """
    where = scope.instance_filter(with_bidang=False)
    activities = {r.id: {"id": r.id, "bidang": r.bidang_code, "title": r.title, "start": None, "end": None}
                  for r in session.execute(select(Instance.id, Instance.bidang_code, Instance.title).where(*where))}
    plans = session.execute(
        select(Event.instance_id, Event.data[monev.PLANNED_START].as_string(),
               Event.data[monev.PLANNED_END].as_string())
        .join(Instance, Instance.id == Event.instance_id)
        .where(Event.kind == "step_completed", Event.step.in_(scope.steps_of("plan")), *where)
        .order_by(Event.id)).all()
    for instance_id, first, last in plans:  # the latest plan wins
        try:
            first, last = date.fromisoformat(first), date.fromisoformat(last)
        except (TypeError, ValueError):
            continue
        activities[instance_id]["start"], activities[instance_id]["end"] = min(first, last), max(first, last)
    focus = scope.bidang

    def counted(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return a["bidang"] != b["bidang"] and (focus is None or focus in (a["bidang"], b["bidang"]))

    def dates_overlap(a: dict[str, Any], b: dict[str, Any]) -> int:
        if not (a["start"] and b["start"]) or a["start"] > b["end"] or b["start"] > a["end"]:
            return 0
        return (min(a["end"], b["end"]) - max(a["start"], b["start"])).days + 1

    def listed(a: dict[str, Any], b: dict[str, Any], similarity: float | None, days: int) -> dict[str, Any]:
        a, b = sorted((a, b), key=lambda x: x["id"])
        return {"a": _activity(a), "b": _activity(b), "similar_title": similarity is not None,
                "similarity": similarity or 0.0, "dates_overlap": days > 0, "overlap_days": days}

    # Alike titles: group by normalised title, compare the distinct titles that share a word.
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for activity in sorted(activities.values(), key=lambda a: a["id"]):
        groups[normalised_title(activity["title"])].append(activity)
    by_word: dict[str, list[str]] = defaultdict(list)
    for norm in groups:
        for word in set(norm.split()):
            by_word[word].append(norm)
    alike: dict[tuple[str, str], float] = {(norm, norm): 1.0 for norm in groups if norm}
    for norms in by_word.values():
        for i, x in enumerate(norms):
            for y in norms[i + 1:]:
                key = (min(x, y), max(x, y))
                if key not in alike:
                    similar, score = similar_titles(x, y)
                    alike[key] = score if similar else -1.0
    similar_pairs, similar_count, both_count = [], 0, 0
    for (x, y), score in sorted(alike.items(), key=lambda item: (-item[1], item[0])):
        if score < 0:
            continue
        for a in groups[x]:
            for b in groups[y]:
                if (x == y and a["id"] >= b["id"]) or not counted(a, b):
                    continue
                similar_count += 1
                days = dates_overlap(a, b)
                both_count += days > 0
                if len(similar_pairs) < OVERLAP_LIST_LIMIT:
                    similar_pairs.append(listed(a, b, score, days))

    # Planned dates: count overlapping pairs with sorted lists; list the first ones by a sweep.
    planned = sorted((a for a in activities.values() if a["start"]), key=lambda a: (a["start"], a["id"]))
    date_count = _cross_overlaps(planned, focus)
    date_pairs: list[dict[str, Any]] = []
    active: list[dict[str, Any]] = []
    similar_keys = {(p["a"]["id"], p["b"]["id"]) for p in similar_pairs}
    for activity in planned:
        if len(date_pairs) >= OVERLAP_LIST_LIMIT:
            break
        active = [x for x in active if x["end"] >= activity["start"]]
        for other in active:
            key = (min(other["id"], activity["id"]), max(other["id"], activity["id"]))
            if counted(other, activity) and key not in similar_keys and len(date_pairs) < OVERLAP_LIST_LIMIT \
                    and not _titles_alike(other, activity, alike):
                date_pairs.append(listed(other, activity, None, dates_overlap(other, activity)))
        active.append(activity)

    return {
        "pairs": similar_pairs + date_pairs,
        "count": similar_count + date_count - both_count,
        "similar_titles": similar_count, "dates_overlap": date_count, "both": both_count,
        "jaccard_threshold": JACCARD_THRESHOLD, "ratio_threshold": RATIO_THRESHOLD,
        # Where the planned dates are read, as the newest version numbers it (None: no step asks).
        "plan_step": scope.roles[-1].plan if scope.roles else None,
    }


def _titles_alike(a: dict[str, Any], b: dict[str, Any], alike: dict[tuple[str, str], float]) -> bool:
    x, y = normalised_title(a["title"]), normalised_title(b["title"])
    return alike.get((min(x, y), max(x, y)), -1.0) >= 0


def _cross_overlaps(planned: list[dict[str, Any]], focus: str | None) -> int:
    """Pairs of different Bidang whose planned dates intersect (with `focus`: pairs involving that Bidang).

    For one interval, the intervals meeting it are those starting on or before
    its end, less those ending before its start.
    """
    def meeting(items: list[dict[str, Any]]) -> dict[int, int]:
        starts = sorted(a["start"] for a in items)
        ends = sorted(a["end"] for a in items)
        return {a["id"]: bisect_right(starts, a["end"]) - bisect_left(ends, a["start"]) - 1 for a in items}

    everyone = meeting(planned)
    same: dict[int, int] = {}
    by_bidang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for activity in planned:
        by_bidang[activity["bidang"]].append(activity)
    for items in by_bidang.values():
        same.update(meeting(items))
    if focus is not None:
        return sum(everyone[a["id"]] - same[a["id"]] for a in by_bidang.get(focus, []))
    return sum(everyone[i] - same[i] for i in everyone) // 2


def _activity(a: dict[str, Any]) -> dict[str, Any]:
    return {**a, "start": _iso_date(a["start"]), "end": _iso_date(a["end"])}


def _iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def diagram(rt: Runtime, login: str, key: str | None = None) -> str:
    """The newest diagram of the SOP, for the heat map."""
    with rt.uow() as session:
        if not may_monitor(user(session, login)):
            raise Forbidden(Text("Anda tidak berwenang melihat monitoring dan evaluasi"))
        return rt.definition(_versions(session, key)[-1])[0].bpmn_xml


# -- the recapitulation ---------------------------------------------------------

def recap(rt: Runtime, login: str, start: date | None = None, end: date | None = None,
          bidang: str | None = None, key: str | None = None) -> dict[str, Any]:
    """One row per activity with every step's dates, performer, time taken and on-time flag.

    A step done more than once (sent back at verification) shows its first
    start, its last completion and performer, the time of all passes added up
    (measured as the figures measure it: `StepTime`), and is on time only if every pass was. An open step shows its
    start; it is not on time once overdue. Plus a summary per Bidang, whose
    step counts (every completion, as on the dashboard) match the figures.
    """
    now = rt.now()
    with rt.uow() as session:
        scope, _account = _scope(rt, session, login, start, end, bidang, key)
        names = bidang_names(session)
        where = scope.instance_filter()
        instances = session.execute(
            select(Instance.id, Instance.bidang_code, Instance.title, Instance.period, Instance.state,
                   Instance.created_at, Instance.completed_at, Instance.created_by, Instance.archived_at)
            .where(*where).order_by(Instance.created_at, Instance.id)).all()
        tasks = session.execute(
            select(TaskRow.instance_id, TaskRow.definition_version_id, TaskRow.element_id, TaskRow.step, TaskRow.state,
                   TaskRow.created_at, TaskRow.due_at, TaskRow.completed_at, TaskRow.completed_by, TaskRow.assignee,
                   TaskRow.overdue)
            .join(Instance, Instance.id == TaskRow.instance_id)
            .where(TaskRow.state != "cancelled", *where).order_by(TaskRow.created_at)).all()
        rejected = and_(Event.step.in_(scope.steps_of("verify")),
                        Event.data[monev.VERIFIED].as_boolean() == false())
        problem = and_(Event.step.in_(scope.steps_of("problem")),
                       Event.data[monev.HAS_PROBLEM].as_boolean() == true())
        decisions = session.execute(
            select(Event.instance_id, func.sum(case((rejected, 1), else_=0)), func.sum(case((problem, 1), else_=0)))
            .join(Instance, Instance.id == Event.instance_id)
            .where(Event.kind == "step_completed", Event.step.in_(scope.steps_of("verify") + scope.steps_of("problem")),
                   or_(rejected, problem), *where)
            .group_by(Event.instance_id)).all()

    took = StepTime(rt.calendar, scope)
    sent_back = {i: (int(b or 0), int(p or 0)) for i, b, p in decisions}
    per_instance: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    current: dict[int, list[int]] = defaultdict(list)
    removed: dict[int, list[int]] = defaultdict(list)
    done: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # completions, with a due time, on time
    overdue_now: set[int] = set()
    columns = {s.element_id for s in scope.definition.steps}
    for t in tasks:
        # Each step in the newest version's column for it (versions may renumber steps); a step a
        # newer version removed has no column, and counts only in the activity's totals.
        number = scope.number_of(t.element_id, t.step) if t.element_id in columns else None
        cell = per_instance[t.instance_id].get(number)
        if cell is None:
            cell = per_instance[t.instance_id][number] = {
                "start": t.created_at, "end": None, "performer": None, "minutes": 0.0, "on_time": True,
                "passes": 0, "open": False}
        cell["passes"] += 1
        if t.state == "open":
            cell["open"] = True
            cell["end"] = None
            cell["performer"] = t.assignee
            late = t.overdue or (t.due_at is not None and past_due(t.due_at, now))
            cell["on_time"] = False if late else (None if cell["on_time"] else False)
            if late:  # overdue now; an earlier late pass leaves the cell not on time, not the activity overdue
                overdue_now.add(t.instance_id)
            # A removed step's number may be a newer step's too: listed apart, as an earlier version's.
            (current if number is not None else removed)[t.instance_id].append(scope.number_of(t.element_id, t.step))
        else:
            cell["end"], cell["performer"] = t.completed_at, t.completed_by
            cell["minutes"] += took.minutes(t.definition_version_id, t.element_id, t.created_at, t.completed_at)
            counter = done[t.instance_id]
            counter[0] += 1
            if t.due_at is not None:
                counter[1] += 1
                late = past_due(t.due_at, t.completed_at)
                counter[2] += not late
                if late:
                    cell["on_time"] = False
    # Each column's minutes in the words of the rule they were measured by (known once measured).
    steps = [{"number": s.number, "name": s.name, "mutu_baku": str(rt.calendar.step_standard(s)),
              "working_time": took.counts_working_time(s.element_id), "one_rule": took.one_rule(s.element_id)}
             for s in sorted(scope.definition.steps, key=lambda s: s.number)]
    rows = []
    for number, inst in enumerate(instances, 1):
        cells = per_instance.get(inst.id, {})
        overdue = inst.id in overdue_now
        back, problems = sent_back.get(inst.id, (0, 0))
        rows.append({
            "no": number, "id": inst.id, "bidang": inst.bidang_code, "bidang_name": names.get(inst.bidang_code, ""),
            "title": inst.title, "period": inst.period, "state": inst.state, "created_at": inst.created_at,
            "completed_at": inst.completed_at, "created_by": inst.created_by, "archived_at": inst.archived_at,
            "current_steps": sorted(current.get(inst.id, [])), "removed_steps": sorted(removed.get(inst.id, [])),
            "overdue": overdue, "sent_back": back,
            "problems": problems, "steps": {n: c for n, c in cells.items() if n is not None},
            "steps_done": done[inst.id][0],
            "steps_with_due": done[inst.id][1], "steps_on_time": done[inst.id][2],
        })
    summary = []
    for code in by_name({r["bidang"] for r in rows} | ({scope.bidang} if scope.bidang else set()), names):
        mine = [r for r in rows if r["bidang"] == code]
        on_time = sum(r["steps_on_time"] for r in mine)
        summary.append({
            "bidang": code, "name": names.get(code, code), "activities": len(mine),
            "completed": sum(r["state"] == "completed" for r in mine),
            "running": sum(r["state"] == "running" for r in mine),
            "overdue": sum(r["overdue"] for r in mine), "steps_done": sum(r["steps_done"] for r in mine),
            "steps_on_time": on_time, "on_time_rate": rate(on_time, sum(r["steps_with_due"] for r in mine)),
            "sent_back": sum(r["sent_back"] for r in mine), "problems": sum(r["problems"] for r in mine),
        })
    return {"period": {"start": scope.start, "end": scope.end}, "bidang": scope.bidang,
            "sop": {"key": scope.key, "name": scope.definition.name, "nomor": scope.definition.header.get("nomor")},
            "steps": steps, "rows": rows, "summary": summary, "generated_at": now, "tz": scope.tz}


# -- the archive and its search ---------------------------------------------------

SEARCH_STATES = ("running", "completed")
ARCHIVED_CHOICES = ("tidak", "ya", "semua")  # hide archived (default), only archived, both


def search(rt: Runtime, login: str, *, bidang: str | None = None, period: str | None = None,
           title: str | None = None, state: str | None = None, step: int | None = None,
           performer: str | None = None, overdue: bool | None = None, archived: str = "tidak",
           start: date | None = None, end: date | None = None, sop: str | None = None,
           page: int = 1, per_page: int = 25) -> dict[str, Any]:
    """Instances the viewer may see, filtered, newest first, one page at a time.

    `sop` is a definition's key (any of its versions); a step number means that SOP's step."""
    if archived not in ARCHIVED_CHOICES:
        raise InvalidData(Text("pilihan arsip tidak dikenal"), {"arsip": Text("tidak dikenal")})
    if state and state not in SEARCH_STATES:
        raise InvalidData(Text("status tidak dikenal"), {"status": Text("tidak dikenal")})
    check_order(start, end)
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    now = rt.now()
    tz = rt.calendar.tz
    with rt.uow() as session:
        account = user(session, login)
        clauses = []
        if not escalation.sees_every_bidang(rt, account):
            if bidang and bidang != account.bidang_code:
                raise Forbidden(Text("Anda hanya dapat mencari kegiatan bidang Anda sendiri"))
            clauses.append(Instance.bidang_code == account.bidang_code)
        if bidang:
            clauses.append(Instance.bidang_code == bidang)
        if period:
            clauses.append(func.lower(Instance.period).like(_contains(period), escape="\\"))
        if title:
            clauses.append(func.lower(Instance.title).like(_contains(title), escape="\\"))
        if state:
            clauses.append(Instance.state == state)
        if start:
            clauses.append(Instance.created_at >= datetime.combine(start, time(), tz).astimezone(timezone.utc))
        if end:
            clauses.append(Instance.created_at < datetime.combine(end + timedelta(days=1), time(), tz)
                           .astimezone(timezone.utc))
        if archived == "tidak":
            clauses.append(Instance.archived_at.is_(None))
        elif archived == "ya":
            clauses.append(Instance.archived_at.is_not(None))
        if sop:
            clauses.append(Instance.definition_version_id.in_(
                select(DefinitionVersion.id).where(DefinitionVersion.key == sop)))
        if step is not None:
            clauses.append(Instance.id.in_(select(TaskRow.instance_id).where(
                TaskRow.state == "open", _at_step(rt, session, sop, step))))
        if performer:
            clauses.append(Instance.id.in_(select(TaskRow.instance_id).where(TaskRow.completed_by == performer,
                                                                             TaskRow.state == "completed")))
        if overdue is not None:
            late = exists().where(TaskRow.instance_id == Instance.id, TaskRow.state == "open",
                                  or_(TaskRow.overdue.is_(True), past_due(TaskRow.due_at, now)))
            clauses.append(late if overdue else ~late)
        total = session.scalar(select(func.count()).select_from(Instance).where(*clauses))
        found = session.execute(
            select(Instance.id, Instance.title, Instance.bidang_code, Instance.period, Instance.state,
                   Instance.created_at, Instance.completed_at, Instance.archived_at)
            .where(*clauses).order_by(Instance.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
        ids = [r.id for r in found]
        open_steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for t in session.execute(select(TaskRow.instance_id, TaskRow.step, TaskRow.name, TaskRow.due_at,
                                            TaskRow.overdue, TaskRow.assignee)
                                     .where(TaskRow.instance_id.in_(ids), TaskRow.state == "open")
                                     .order_by(TaskRow.step)):
                open_steps[t.instance_id].append({
                    "step": t.step, "name": t.name, "due_at": iso(t.due_at), "assignee": t.assignee,
                    "overdue": bool(t.overdue or (t.due_at is not None and past_due(t.due_at, now)))})
    rows = [{"id": r.id, "title": r.title, "bidang": r.bidang_code, "period": r.period, "state": r.state,
             "created_at": iso(r.created_at), "completed_at": iso(r.completed_at), "archived_at": iso(r.archived_at),
             "current_steps": open_steps.get(r.id, []),
             "overdue": any(s["overdue"] for s in open_steps.get(r.id, []))} for r in found]
    return {"rows": rows, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, math.ceil(total / per_page)), "may_archive": is_admin(account)}


def _at_step(rt: Runtime, session: Session, sop: str | None, number: int):
    """An open task at step `number` as the newest version of the SOP (`sop`, or the only one deployed)
    numbers it, as the search offers its steps: by the step's element, since an activity still on an
    older version may know the same step by another number. A number the newest version lacks, or
    with several SOPs and none chosen, is matched as it is."""
    sops = [choice["key"] for choice in sop_choices(session)]
    key = sop or (sops[0] if len(sops) == 1 else None)
    if key in sops:
        step = next((s for s in rt.definition(_versions(session, key)[-1])[0].steps if s.number == number), None)
        if step is not None:
            return TaskRow.element_id == step.element_id
    return TaskRow.step == number


def _contains(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def archive(rt: Runtime, instance_id: int, login: str) -> None:
    """Hide a finished instance from the default lists. Nothing is deleted; it stays searchable."""
    _set_archived(rt, instance_id, login, archived=True)


def unarchive(rt: Runtime, instance_id: int, login: str) -> None:
    _set_archived(rt, instance_id, login, archived=False)


def _set_archived(rt: Runtime, instance_id: int, login: str, archived: bool) -> None:
    with rt.uow() as session:
        if not is_admin(user(session, login)):
            raise Forbidden(Text("hanya administrator yang dapat mengarsipkan kegiatan"))
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(Text("kegiatan %(instance_id)s tidak ditemukan", instance_id=instance_id))
        if archived and instance.state == "running":
            raise Conflict(Text("kegiatan yang masih berjalan tidak dapat diarsipkan"))
        if (instance.archived_at is not None) == archived:
            return
        now = rt.now()
        instance.archived_at = now if archived else None
        log(session, instance.id, now, "archived" if archived else "unarchived", login)
        session.commit()


def search_choices(rt: Runtime, key: str | None) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """What the search form offers, read in one transaction: every deployed SOP, and the steps (newest
    version) of the SOP `key`, or of the only one deployed. A step number belongs to an SOP: with
    several deployed and none chosen there is no step to offer."""
    with rt.uow() as session:
        sops = sop_choices(session)
        key = key or (sops[0]["key"] if len(sops) == 1 else None)
        try:
            version = _versions(session, key)[-1] if key else None
        except NotFound:
            version = None
        if version is None:
            return sops, []
        definition = rt.definition(version)[0]
    return sops, [{"number": s.number, "name": s.name} for s in sorted(definition.steps, key=lambda s: s.number)]
