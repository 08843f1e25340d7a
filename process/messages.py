"""Messages for people, written in Bahasa Indonesia, that the web can show in another language.

A `Text` is the message as a str: Indonesian, its values filled in, so logs,
the CLI, the API and the tests read it as before. It also keeps its template
and values, and the web looks the template up in its catalogue and fills in
the same values (`web.i18n.say`). `pybabel extract -k Text` collects the
templates (babel.cfg).
"""
from __future__ import annotations

import re
from typing import Any


class Text(str):
    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> "Text":
        text = super().__new__(cls, template % values if values else template)
        text.template, text.values = template, values
        return text


def speak(message: Any, translations: Any) -> Any:
    """A `Text` in the language of `translations` (anything with `gettext`), its values too;
    any other message as it is. The web (`web.i18n.say`) and alert mail both speak through here."""
    if not isinstance(message, Text):
        return message
    translated = translations.gettext(message.template)
    if not message.values:
        return translated
    return translated % {k: speak(v, translations) for k, v in message.values.items()}


def as_json(message: Text) -> dict[str, Any]:
    """A Text's template and values as JSON; a value that is a Text keeps its own template."""
    values = {k: as_json(v) if isinstance(v, Text) else v for k, v in message.values.items()}
    return {"template": message.template, "values": values}


def from_json(data: dict[str, Any]) -> Text:
    """The Text `as_json` wrote (a value stored as plain text before nesting existed stays text)."""
    values = {k: from_json(v) if is_stored_text(v) else v for k, v in (data.get("values") or {}).items()}
    template = data["template"]  # not inside Text(...), where pybabel would take the key for a message
    return Text(template, **values)


def text_from_json(data: Any, text: str) -> str:
    """The Text `as_json` stored beside its Indonesian `text` in a file people edit, when it still
    reads as that text; otherwise `text` as it is (stored before messages were, edited by hand)."""
    if not _plain(data):
        return text
    try:
        message = from_json(data)
    except (KeyError, TypeError, ValueError):
        return text
    return message if message == text else text


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%%")


def _plain(data: Any) -> bool:
    """A stored message that cannot grow much beyond what is stored: plain values, and a template
    with only %(name)s, %(name)r or %(name)d, each name once. (A hand-made `%(a)999999999s`, or
    `%(a)s` a million times over a long value, would otherwise build gigabytes.)"""
    if not is_stored_text(data) or not isinstance(data.get("values") or {}, dict):
        return False
    if not all(isinstance(v, (str, int, float)) for v in (data.get("values") or {}).values()):
        return False
    names = [m[1] for m in _PLACEHOLDER.finditer(data["template"]) if m[1]]
    return "%" not in _PLACEHOLDER.sub("", data["template"]) and len(names) == len(set(names))


def is_stored_text(value: Any) -> bool:
    """Whether `value` looks like a Text `as_json` wrote (a dict with a template)."""
    return isinstance(value, dict) and isinstance(value.get("template"), str)
