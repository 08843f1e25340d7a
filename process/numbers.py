"""Numbers typed as text, as people write them.

Indonesian writes a thousand as "1.000" and one and a half as "1,5"; English
writes "1,000" and "1.5". Text from a page is read in the language of that
page (the web passes it in). Text without a language (the API and the CLI,
where a JSON number is the plain way) is read in every language the app
speaks, and taken only when they all agree. Text that two languages read as
different numbers, and that does not settle it with the page language's
thousands separator ("1,000" on an Indonesian page), is refused, not guessed.
"""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, get_group_symbol, parse_decimal

from process.messages import Text

LANGUAGES = ("id", "en")
MAX_WHOLE = 2**31 - 1  # what the database's Integer columns hold


def whole_number(text: str | None, maximum: int = MAX_WHOLE) -> int | None:
    """A whole number written with the digits 0-9 only, at most `maximum`; None for anything else.

    str.isdigit() also takes "²", which int() refuses, and any number of digits,
    more than an Integer column holds: a query string or a form field with either
    was a 500.
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def parse_number(text: str, language: str | None = None, whole: bool = False) -> Decimal:
    """The number in `text`, or ValueError with a Text saying why not.

    `whole`: the field takes whole numbers only, so the examples in the reason are whole too.
    """
    text = text.strip()
    readings = _readings(text, LANGUAGES if language is None else (language, *LANGUAGES))
    if language is None:
        return _agreed(text, readings)
    mine = readings.get(language)
    if mine is None:
        raise ValueError(Text("harus berupa bilangan bulat, mis. 40 atau 1.250") if whole
                         else Text("harus berupa angka, mis. 1.250 atau 1,5"))
    other = next((v for v in readings.values() if v != mine), None)
    if other is not None and get_group_symbol(language) not in text:
        one, other = _shown(mine, language), _shown(other, language)
        raise ValueError(Text("tidak jelas: %(one)s atau %(other)s? Tulis ribuan dengan titik (1.250)",
                              one=one, other=other) if whole
                         else Text("tidak jelas: %(one)s atau %(other)s? Tulis ribuan dengan titik (1.250) "
                                   "dan desimal dengan koma (1,5)", one=one, other=other))
    return mine


def _readings(text: str, languages: tuple[str, ...]) -> dict[str, Decimal]:
    """Each language's strict reading of the text, where it has one and it is a finite number."""
    readings = {}
    for language in languages:
        try:
            value = parse_decimal(text, locale=language, strict=True)
        except NumberFormatError:
            continue
        if value.is_finite():
            readings[language] = value
    return readings


def _agreed(text: str, readings: dict[str, Decimal]) -> Decimal:
    values = sorted(set(readings.values()))
    if not values:
        raise ValueError(Text("harus berupa angka"))
    if len(values) > 1:
        raise ValueError(Text("tidak jelas: %(text)s dapat dibaca %(one)s atau %(other)s; kirim sebagai angka "
                              "JSON", text=text, one=_plain(values[0]), other=_plain(values[1])))
    return values[0]


def shown(value: int | float | Decimal, language: str | None) -> str:
    """A number as `language` writes it (1.250,5 on an Indonesian page), or as a machine does for
    text without a language (the API and the CLI: 1250.5)."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return _plain(value) if language is None else _shown(value, language)


def _shown(value: Decimal, language: str) -> str:
    return format_decimal(value, locale=language, decimal_quantization=False)


def _plain(value: Decimal) -> str:
    """A reading as a machine writes it: 1000, 1.5 (never 1E+3)."""
    return format(value.normalize(), "f")
