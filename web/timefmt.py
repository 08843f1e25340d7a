"""Human wording of durations for pages ("sisa 2 jam 5 menit", "terlambat 1 hari")."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext


def duration_words(minutes: int) -> str:
    days, rest = divmod(abs(int(minutes)), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d hari", "%(n)d hari", days, n=days))
    if hours:
        parts.append(ngettext("%(n)d jam", "%(n)d jam", hours, n=hours))
    if mins or not parts:
        parts.append(ngettext("%(n)d menit", "%(n)d menit", mins, n=mins))
    return " ".join(parts[:2])


def time_left(due_at: str | None, now: datetime) -> str:
    if not due_at:
        return "—"
    minutes = int((datetime.fromisoformat(due_at) - now).total_seconds() // 60)
    if minutes < 0:
        return _("terlambat %(d)s", d=duration_words(minutes))
    return _("sisa %(d)s", d=duration_words(minutes))
