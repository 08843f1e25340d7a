"""The form a step's performer fills in: fields, validation, JSON Schema."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from process.messages import Text
from process.numbers import parse_number, shown

FIELD_TYPES = ("text", "number", "date", "boolean", "choice", "file")
# The keys a form field may have in the YAML, in the order the editor writes them.
FIELD_KEYS = ("name", "label", "type", "required", "choices", "help", "not_before", "min", "whole")
# A few pages of typing: a step's answer, not a document (those are uploaded as files).
MAX_TEXT_LENGTH = 20_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Control characters other than tab and line breaks: never typed, and NUL cannot be stored by PostgreSQL.
# Nor a lone UTF-16 surrogate (JSON's "\ud800"), which no database and no UTF-8 text can hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_CHARACTERS = Text("memuat karakter kendali yang tidak diizinkan")


def at_most(n: int) -> Text:
    """The message for a text longer than `n` characters, wherever a length is limited."""
    return Text("paling panjang %(n)d karakter", n=n)


TOO_LONG = at_most(MAX_TEXT_LENGTH)
IMPLAUSIBLE_YEAR = Text("tahun antara 1900 dan 2999")


def has_control_characters(text: str) -> bool:
    """Whether typed text holds characters no form takes (tabs and line breaks are taken)."""
    return bool(_CONTROL.search(text))


def printable(text: str) -> str:
    """Text with each control character shown as U+FFFD: stored text read out on a terminal, where an
    escape sequence kept from before forms refused them could rewrite what the screen shows."""
    return _CONTROL.sub("\ufffd", text)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    # A date field that may not be earlier than another date field of the form (an end and its start).
    not_before: str = ""
    # The smallest a number field takes (a count of people is never negative); None: any number.
    min: int | float | None = None
    # A number field that takes whole numbers only (a count of people): 12,5 is refused.
    whole: bool = False

    def json_schema(self) -> dict:
        schema: dict[str, Any] = {"title": self.label}
        if self.type == "text":
            schema["type"] = "string"
        elif self.type == "number":
            schema["type"] = "integer" if self.whole else "number"
            if self.min is not None:
                schema["minimum"] = self.min
        elif self.type == "date":
            schema.update(type="string", format="date")
        elif self.type == "boolean":
            schema["type"] = "boolean"
        elif self.type == "choice":
            schema.update(type="string", enum=list(self.choices))
        elif self.type == "file":
            # A file field holds the id of a stored document.
            schema.update(type="string", contentMediaType="application/octet-stream")
        if self.help:
            schema["description"] = self.help
        return schema

    def clean(self, value: Any, language: str | None = None) -> Any:
        """Return the value in its canonical form, or raise ValueError.

        `language` is the language of the page the value was typed on, for
        numbers typed as text; None for the API and the CLI (see process.numbers).
        """
        if self.type == "text" or self.type == "file":
            if not isinstance(value, str):
                raise ValueError(Text("harus berupa teks"))
            if len(value) > MAX_TEXT_LENGTH:
                raise ValueError(TOO_LONG)
            if has_control_characters(value):
                raise ValueError(CONTROL_CHARACTERS)
            return value.strip()
        if self.type == "number":
            number = _number(value, language, self.whole)
            if self.whole and not isinstance(number, int):
                raise ValueError(Text("harus bilangan bulat"))
            if self.min is not None and number < self.min:
                # As the number is typed where it was: 0,5 on an Indonesian page (0.5 there is no number).
                raise ValueError(Text("tidak boleh kurang dari %(min)s", min=shown(self.min, language)))
            return number
        if self.type == "date":
            if isinstance(value, date):
                return value.isoformat()
            if not isinstance(value, str) or not _DATE.match(value.strip()):  # not 20260302, nor a number
                raise ValueError(Text("harus berupa tanggal (YYYY-MM-DD)"))
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(Text("harus berupa tanggal (YYYY-MM-DD)")) from None
            if not plausible_year(day):  # 0001-01-01 to 9999-12-31 would overlap every activity
                raise ValueError(IMPLAUSIBLE_YEAR)
            return day.isoformat()
        if self.type == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "ya", "1", "false", "tidak", "0"):
                return value.lower() in ("true", "ya", "1")
            raise ValueError(Text("harus ya atau tidak (true/false)"))
        if self.type == "choice":
            if value not in self.choices:
                raise ValueError(Text("harus salah satu dari: %(choices)s", choices=", ".join(self.choices)))
            return value
        raise ValueError(Text("jenis isian tidak dikenal: %(kind)s", kind=self.type))


def plausible_year(day: date) -> bool:
    """Whether a typed date's year is one an office's work can have (a mistyped 0202 or 9999 is not)."""
    return 1900 <= day.year <= 2999


def _number(value: Any, language: str | None, whole: bool = False) -> int | float:
    """A JSON number as it is; text read as people write numbers; a whole number as an int.

    `whole`: the field takes whole numbers only (its reasons give whole examples)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(Text("harus berupa angka"))
    try:
        number = float(parse_number(value, language, whole) if isinstance(value, str) else value)
    except OverflowError:  # an integer beyond any float
        raise ValueError(Text("harus berupa angka")) from None
    if not math.isfinite(number):  # "1e999", a float nan: not JSON, refused by PostgreSQL
        raise ValueError(Text("harus berupa angka"))
    return int(number) if number.is_integer() else number


class FormError(ValueError):
    """Submitted data that does not fit the step's form; `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Form:
    fields: tuple[FormField, ...] = field(default_factory=tuple)

    def json_schema(self) -> dict:
        return {
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }

    def clean(self, data: dict[str, Any], language: str | None = None) -> dict[str, Any]:
        """Validate submitted data; return only the form's fields, cleaned (`language`: see FormField.clean)."""
        if not isinstance(data, dict):
            raise FormError({"_": Text("data harus berupa objek JSON")})
        known = {f.name: f for f in self.fields}
        errors = {k: Text("isian tidak dikenal pada langkah ini") for k in data if k not in known}
        cleaned: dict[str, Any] = {}
        for f in self.fields:
            value = data.get(f.name)
            if value is None or (isinstance(value, str) and not value.strip()):  # only spaces: no answer either
                if f.required:
                    errors[f.name] = Text("wajib diisi")
                continue
            try:
                cleaned[f.name] = f.clean(value, language)
            except ValueError as err:
                errors[f.name] = err.args[0]  # the Text itself, for the web to translate
        for f in self.fields:
            earliest = cleaned.get(f.not_before) if f.not_before else None
            # ISO dates compare as text; left alone when either one is missing or already wrong.
            if earliest and f.name in cleaned and cleaned[f.name] < earliest:
                errors[f.name] = Text("tidak boleh sebelum %(field)s", field=known[f.not_before].label.lower())
        if errors:
            raise FormError(errors)
        return cleaned
