"""Human wording of time left and time late on pages ("sisa 3 hari kerja", "terlambat 2 jam 5 menit").

A page words many rows, so the request's translations are looked up once by
the caller (`words()`) and handed in: each lookup through Flask-Babel walks
the request context several times.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import get_translations

from process.calendar import WorkingCalendar, past_due
from process.mutu_baku import worded


def standard_time(text: str, language: str, t=None) -> str:
    """A step's standard time worded for a page in `language` (process.mutu_baku.worded): Indonesian
    pages keep the SOP's own notation ("30 Menit"); others say "30 min", "7 working days"."""
    if language == "id":
        return text
    return worded(text, language, t or words())


def words():
    """This request's translations, for the functions below."""
    return get_translations()


class Remaining:
    """Time left until due times, or past them, counted the way each step's deadline is: in working
    time, or for a step counted in calendar days or clock time (`counts_working_time`), by the clock.

    A due day at least two working days away is worded in working days; a
    nearer one in working hours and minutes. Clock time would tell someone
    on a Friday afternoon that a step due Monday morning has "2 days 16
    hours" left, when it has a couple of working hours. By the clock, a due
    day two or more days away is worded in calendar days.
    """

    def __init__(self, calendar: WorkingCalendar, now: datetime, t=None):
        self.calendar, self.now, self.t = calendar, now, t or words()

    def of(self, due_at: str | None, working: bool = True) -> str:
        """`working`: whether the step's standard time counts working time (the deadline's own rule)."""
        if not due_at:
            return "—"
        due = datetime.fromisoformat(due_at)
        start, end = sorted((self.now, due))
        days, minutes = self._working_span(start, end) if working else self._clock_span(start, end)
        if past_due(due, self.now) and days < 2 and minutes == 0:
            # Due at closing time and read that evening or over the weekend: "0 minutes late" reads as on time.
            return self.t.gettext("lewat batas waktu")
        span = self._days_words(days, working) if days >= 2 else self._hours_words(minutes)
        return (self.t.gettext("sisa %(d)s") if not past_due(due, self.now) else self.t.gettext("terlambat %(d)s")) % {"d": span}

    def _working_span(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Working days from `start` to `end`, and under two of them the working minutes."""
        days = self.calendar.working_days_between(self._day_of(start), self._day_of(end))
        return days, 0 if days >= 2 else int(self.calendar.working_time_between(start, end).total_seconds() // 60)

    def _clock_span(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Calendar days from `start` to `end` in the office's time zone, and under two of them the minutes."""
        days = (end.astimezone(self.calendar.tz).date() - start.astimezone(self.calendar.tz).date()).days
        return days, 0 if days >= 2 else int((end - start).total_seconds() // 60)

    def _day_of(self, moment: datetime) -> date:
        """The day `moment` counts in; one before the opening of its day (or on a day off) counts in the
        day before, as no working time of its own day lies behind it. A 30-day step started on Friday
        evening is due at the opening of its 31st working day: 30 days are left, not 31."""
        local = moment.astimezone(self.calendar.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = local.date()
        return day if self.calendar.working_time_between(midnight, local) else day - timedelta(days=1)

    def _days_words(self, days: int, working: bool) -> str:
        if working:
            return self.t.ngettext("%(n)d hari kerja", "%(n)d hari kerja", days) % {"n": days}
        return self.t.ngettext("%(n)d hari kalender", "%(n)d hari kalender", days) % {"n": days}

    def _hours_words(self, minutes: int) -> str:
        hours, mins = divmod(minutes, 60)
        parts = [self.t.ngettext("%(n)d jam", "%(n)d jam", hours) % {"n": hours}] if hours else []
        if mins or not parts:
            parts.append(self.t.ngettext("%(n)d menit", "%(n)d menit", mins) % {"n": mins})
        return " ".join(parts)
