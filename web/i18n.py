"""Language: Indonesian by default, English per user, in requests."""
from __future__ import annotations

import json
from functools import lru_cache
from datetime import date, datetime
from decimal import Decimal

from babel import dates
from babel.numbers import format_decimal, get_decimal_symbol
from flask import g, session
from flask_babel import format_date, get_locale, get_timezone, get_translations, gettext
from flask_login import current_user

from process import changes
from process.messages import Text, from_json, speak
from process.numbers import parse_number
from web import timefmt
from web.catalogues import LANGUAGES, compile_catalogs  # noqa: F401 (used by the app factory and auth)


def select_locale() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.language
    principal = g.get("api_principal")  # an API call with a token speaks its owner's language
    if principal is not None:
        return principal.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return "id"  # staff work in Bahasa Indonesia whatever their browser says


def say(message):
    """An engine message in the signed-in user's language (see `process.messages.speak`)."""
    return speak(message, get_translations())


def sentence(message) -> str:
    """An engine message shown alone as a sentence (an alert at the top of a page): its first letter a
    capital. The messages are lower case, as they also follow a field's name ("Kode: wajib diisi"); one
    that starts with a value (a login: "aptika.teknis bukan anggota …") keeps it as it is."""
    text = say(message)
    opening = get_translations().gettext(message.template) if isinstance(message, Text) else text
    return text[:1].upper() + text[1:] if opening[:1].isalpha() else text


def problem_message(problem: dict) -> str:
    """A draft's problem (engine.editor) in the reader's language, where the validator's message is
    translatable (a problem stored before messages were, keeps its text)."""
    return say(from_json(problem)) if problem.get("template") else problem["message"]


# Names of the fields the engine refuses, as the forms label them; a field not
# listed (a step's own form field, say) is shown by its name.
FIELD_LABELS = {
    "login": Text("Nama pengguna"), "name": Text("Nama"), "password": Text("Kata sandi"),
    "email": Text("Surel"), "roles": Text("Peran"), "bidang": Text("Bidang"), "code": Text("Kode"),
    "language": Text("Bahasa"), "key": Text("Kunci definisi"), "bpmn": Text("Berkas BPMN"),
    "yaml": Text("Berkas YAML"), "source": Text("Berkas SOP"), "answers": Text("Jawaban"),
    "steps": Text("Langkah"), "step": Text("Langkah"), "sort": Text("Urutan"), "dari": Text("Dari tanggal"),
    "sampai": Text("Sampai tanggal"), "status": Text("Status"), "arsip": Text("Arsip"),
    "assignee": Text("Pemegang tugas"), "data": Text("Isian"), "active": Text("Aktif"),
}


def field_label(field: str) -> str:
    label = FIELD_LABELS.get(field)
    return say(label) if label else field


def form_value(value, kind: str) -> str:
    """A step's stored answer as people write it in their language: 1.000,5; Ya; 10 Mar 2026."""
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        # Every digit kept: a draft's number is typed back into its field.
        language = str(get_locale())
        text = format_decimal(value, locale=language, decimal_quantization=False)
        if get_decimal_symbol(language) in text and not _reads_back(text, value, language):
            text += "0"
        return text
    if kind == "boolean" and isinstance(value, bool):
        return gettext("Ya") if value else gettext("Tidak")
    if kind == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "d MMM yyyy")
        except ValueError:
            return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def local_time(moment: datetime | str | None, fmt: str = "d MMM yyyy HH:mm") -> str:
    """A moment (or its ISO text) as people read it, in the office's time zone; one without a zone is UTC.

    The worklist page calls this once per row, and shows the same due times
    again at each reload: a moment is worded once per format, zone and
    language (Babel's wording of one costs 20 µs; Flask-Babel's wrapper
    around it looked the request's zone and locale up again at each call).
    """
    if not moment:
        return "—"
    return _worded(moment, fmt, get_timezone(), get_locale())


@lru_cache(maxsize=4096)
def _worded(moment: datetime | str, fmt: str, zone, locale) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return dates.format_datetime(moment, fmt, tzinfo=zone, locale=locale)


def _reads_back(text: str, value: int | float, language: str) -> bool:
    """Whether the page reads `text` as `value` again. 1.125 shown in Indonesian is "1,125", which
    the page refuses as ambiguous (1,125 or 1.125?); a trailing zero, "1,1250", can only be 1.125."""
    try:
        return parse_number(text, language) == Decimal(str(value))
    except ValueError:
        return False


def init_app(app, rt) -> None:
    app.add_template_filter(say)
    app.add_template_filter(sentence)
    app.add_template_filter(field_label)
    app.add_template_filter(form_value)

    @app.template_filter("standard_time")
    def standard_time(text: str) -> str:
        return timefmt.standard_time(text, str(get_locale()))

    @app.template_filter("change_line")
    def change_line(line) -> str:
        """A line of a version's change summary in the reader's language, its standard times too."""
        return say(changes.worded(line, standard_time))

    @app.template_global()
    def tanggal(value) -> str:
        """A date as the papers write it ("25 November 2026"); a moment is taken in the office's time
        zone. Text that reads as no date (a date as typed, sent back with its error) is shown as it is."""
        if not value:
            return "—"
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime):
            value = value.astimezone(rt.calendar.tz).date()
        return format_date(value, "d MMMM yyyy")

    app.add_template_filter(local_time, "local")
