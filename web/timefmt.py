"""Human wording of durations for pages ("sisa 2 jam 5 menit", "terlambat 1 hari").

A page words a duration for each of its rows, so the request's translations
are looked up once by the caller (`words()`) and handed in: each lookup
through Flask-Babel walks the request context several times.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import get_translations


def words():
    """This request's translations, for the functions below."""
    return get_translations()


def duration_words(minutes: int, t=None) -> str:
    t = t or words()
    days, rest = divmod(abs(int(minutes)), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(t.ngettext("%(n)d hari", "%(n)d hari", days) % {"n": days})
    if hours:
        parts.append(t.ngettext("%(n)d jam", "%(n)d jam", hours) % {"n": hours})
    if mins or not parts:
        parts.append(t.ngettext("%(n)d menit", "%(n)d menit", mins) % {"n": mins})
    return " ".join(parts[:2])


def time_left(due_at: str | None, now: datetime, t=None) -> str:
    if not due_at:
        return "—"
    t = t or words()
    minutes = int((datetime.fromisoformat(due_at) - now).total_seconds() // 60)
    if minutes < 0:
        return t.gettext("terlambat %(d)s") % {"d": duration_words(minutes, t)}
    return t.gettext("sisa %(d)s") % {"d": duration_words(minutes, t)}
