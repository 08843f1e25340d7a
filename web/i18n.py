"""Language: Indonesian by default, English per user; catalogues compiled on start."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from datetime import datetime

from flask import session
from flask_babel import format_datetime, gettext
from flask_login import current_user

from process.messages import Text

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("id", "en")


def compile_catalogs() -> None:
    """Compile each .po to .mo when it is newer, so no build output is committed."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)
        tmp.replace(mo)


def select_locale() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return "id"  # staff work in Bahasa Indonesia whatever their browser says


def say(message):
    """An engine message in the user's language: a `Text` through the catalogue with its values,
    any other text as it is (most engine messages are still Indonesian only)."""
    if isinstance(message, Text):
        translated = gettext(message.template)
        if not message.values:
            return translated
        return translated % {k: say(v) for k, v in message.values.items()}  # a value may be a Text too
    return message


# Names of the fields the engine refuses, as the forms label them; a field not
# listed (a step's own form field, say) is shown by its name.
FIELD_LABELS = {
    "login": Text("Nama pengguna"), "name": Text("Nama"), "password": Text("Kata sandi"),
    "email": Text("Surel"), "roles": Text("Peran"), "bidang": Text("Bidang"), "code": Text("Kode"),
    "language": Text("Bahasa"), "key": Text("Kunci definisi"), "bpmn": Text("Berkas BPMN"),
    "yaml": Text("Berkas YAML"), "source": Text("Berkas SOP"), "answers": Text("Jawaban"),
    "steps": Text("Langkah"), "step": Text("Langkah"), "sort": Text("Urutan"), "dari": Text("Dari tanggal"),
    "sampai": Text("Sampai tanggal"), "status": Text("Status"), "arsip": Text("Arsip"),
    "assignee": Text("Pemegang tugas"), "data": Text("Isian"),
}


def field_label(field: str) -> str:
    label = FIELD_LABELS.get(field)
    return say(label) if label else field


def init_app(app, rt) -> None:
    app.add_template_filter(say)
    app.add_template_filter(field_label)

    @app.template_filter("local")
    def local_time(moment, fmt="d MMM yyyy HH:mm"):
        if not moment:
            return "—"
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return format_datetime(moment, fmt)
