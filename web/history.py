"""An activity's history in words: what each event's data says, in the reader's language.

The event log keeps each event's data as JSON for machines (the API gives it
as it is); the activity page says it for people: who a task went from and
to, which level alerted whom, the due time that passed. A step's answers are
shown by their form (`engine.queries`), and an event this does not know by
its data as JSON, so nothing recorded is hidden.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from flask_babel import get_locale
from flask_babel import gettext as _

from process.messages import from_json, is_stored_text
from web.i18n import local_time, say
from web.timefmt import standard_time


def described(kind: str, data: dict[str, Any] | None) -> str:
    """What the event's data says; "" when it says nothing more than its kind."""
    if not data:
        return ""
    words = _WORDS.get(kind)
    try:
        return words(data) if words else _as_json(data)
    except (AttributeError, KeyError, TypeError, ValueError):  # data of another shape: shown as it is
        return _as_json(data)


def _as_json(data: dict[str, Any]) -> str:
    # Letters as they are, not as \u escapes.
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _when(iso: str | None) -> str:
    return local_time(iso)


def _started(data: dict) -> str:
    words = _("%(title)s; SOP %(key)s versi %(version)s", title=data["title"], key=data["definition"],
              version=data["version"])
    return words + (_(", periode %(period)s", period=data["period"]) if data.get("period") else "")


def _moved(data: dict) -> str:
    if data.get("from"):
        return _("dari %(old)s kepada %(new)s", old=data["from"], new=data["to"])
    return _("kepada %(new)s", new=data["to"])


def _overdue(data: dict) -> str:
    return _("batas %(due)s; mutu baku %(standard)s", due=_when(data["due_at"]),
             standard=standard_time(data["mutu_baku"], str(get_locale())))


def _escalated(data: dict) -> str:
    recipients = ", ".join(data["recipients"])
    if not recipients:
        words = _("tingkat %(level)s, tanpa penerima", level=data["level"])
    else:
        words = _("tingkat %(level)s kepada %(who)s", level=data["level"], who=recipients)
    # Nobody active at the level itself: whom it went to instead (escalation.supervisors).
    if data.get("last_resort"):
        return words + _(" (administrator, karena tidak ada pengawas yang aktif)")
    if data.get("fallback_level"):
        return words + _(" (penerima tingkat %(n)s, karena tingkat ini tidak punya penerima aktif)",
                         n=data["fallback_level"])
    return words


def _refused(data: dict) -> str:
    stored = data.get("reason_message")
    reason = say(from_json(stored)) if is_stored_text(stored) else data["reason"]
    return _("versi %(old)s ke versi %(new)s: %(reason)s", old=data["from"], new=data["to"], reason=reason)


_WORDS: dict[str, Callable[[dict], str]] = {
    "started": _started,
    "unclaimed": lambda data: _("dari %(old)s", old=data["from"]),  # given back by the hourly sweep
    "reassigned": _moved,
    "overdue": _overdue,
    "escalated": _escalated,
    "alert_acknowledged": lambda data: _("peringatan %(id)s, tingkat %(level)s", id=data["alert_id"],
                                         level=data["level"]),
    "alerts_cancelled": lambda data: _("peringatan %(ids)s", ids=", ".join(str(i) for i in data["alerts"])),
    "migrated": lambda data: _("versi %(old)s ke versi %(new)s", old=data["from"], new=data["to"]),
    "migration_refused": _refused,
}
