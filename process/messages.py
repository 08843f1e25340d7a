"""Messages for people, written in Bahasa Indonesia, that the web can show in another language.

A `Text` is the message as a str: Indonesian, its values filled in, so logs,
the CLI, the API and the tests read it as before. It also keeps its template
and values, and the web looks the template up in its catalogue and fills in
the same values (`web.i18n.say`). `pybabel extract -k Text` collects the
templates (babel.cfg).
"""
from __future__ import annotations

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
    values = {k: from_json(v) if _is_text(v) else v for k, v in (data.get("values") or {}).items()}
    template = data["template"]  # not inside Text(...), where pybabel would take the key for a message
    return Text(template, **values)


def _is_text(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("template"), str)
