"""Mutu baku waktu: the standard time of an SOP step.

Real SOPs write it as "30 Menit", "120 Menit", "1 Hari", "1Hari", "2 Jam" or
"30 Hari Kerja"; the diagram stores it as an ISO 8601 duration on the step's
timer. This module converts both ways without losing the SOP's own notation
("120 Menit" stays minutes: PT120M, not PT2H).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum

from process.messages import Text


class MutuBakuError(ValueError):
    """A standard time that cannot be read; `args[0]` is the `Text`."""


class Unit(Enum):
    MENIT = "Menit"
    JAM = "Jam"
    HARI = "Hari"

    @property
    def iso_designator(self) -> str:
        return {"Menit": "M", "Jam": "H", "Hari": "D"}[self.value]


# No SOP step takes ten years; a longer standard time is a typo (or an attack: counting
# ten million working days one by one would stall the server, and more overflows dates).
MAX_AMOUNT = {Unit.MENIT: 10 * 366 * 24 * 60, Unit.JAM: 10 * 366 * 24, Unit.HARI: 10 * 366}

_TEXT = re.compile(
    r"^\s*(?P<amount>\d+)\s*(?P<unit>menit|jam|hari)(?:\s+(?P<kerja>kerja|kalender))?\s*$",
    re.IGNORECASE,
)
_ISO = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$")


@dataclass(frozen=True)
class MutuBaku:
    amount: int
    unit: Unit
    # True for "Hari Kerja", False for "Hari Kalender", None when the text
    # does not say: then the definition's counting rule decides.
    working: bool | None = None

    @classmethod
    def parse(cls, text: str) -> "MutuBaku":
        """Read the SOP notation, e.g. "30 Menit" or "7 Hari Kerja"."""
        match = _TEXT.match(text or "")
        if not match:
            raise MutuBakuError(Text("mutu baku waktu %(text)s tidak terbaca: tulis '<angka> Menit|Jam|Hari', "
                                     "mis. '30 Menit'", text=repr(text)))
        unit = Unit(match["unit"].capitalize())
        amount = _amount(match["amount"], unit, text)
        if amount <= 0:
            raise MutuBakuError(Text("mutu baku waktu %(text)s harus lebih dari nol", text=repr(text)))
        _check_length(amount, unit, text)
        kerja = match["kerja"]
        working = None if kerja is None else kerja.lower() == "kerja"
        return cls(amount, unit, working)

    @classmethod
    def from_iso(cls, iso: str) -> "MutuBaku":
        """Read an ISO 8601 duration with exactly one component (P7D, PT30M, PT2H)."""
        match = _ISO.match((iso or "").strip().strip("'\"").upper())
        parts = {k: v for k, v in (match.groupdict().items() if match else ()) if v}
        if len(parts) != 1:
            raise MutuBakuError(Text("durasi %(iso)s tidak terbaca: tulis satu komponen ISO 8601 seperti P7D, "
                                     "PT2H atau PT30M", iso=repr(iso)))
        (name, digits), = parts.items()
        unit = {"days": Unit.HARI, "hours": Unit.JAM, "minutes": Unit.MENIT}[name]
        amount = _amount(digits, unit, iso)
        if amount <= 0:
            raise MutuBakuError(Text("durasi %(iso)s harus lebih dari nol", iso=repr(iso)))
        _check_length(amount, unit, iso)
        return cls(amount, unit)

    def to_iso(self) -> str:
        if self.unit is Unit.HARI:
            return f"P{self.amount}D"
        return f"PT{self.amount}{self.unit.iso_designator}"

    @property
    def minutes(self) -> int:
        """Length in minutes of time (for Hari: 24-hour days)."""
        per_unit = {Unit.MENIT: 1, Unit.JAM: 60, Unit.HARI: 24 * 60}[self.unit]
        return self.amount * per_unit

    @property
    def clock_delta(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def counted(self, working: bool) -> "MutuBaku":
        """The standard with how its days count said, as the counting rule decides it (`working`:
        `WorkingCalendar.counts_working_time`): "30 Hari" is "30 Hari Kerja" or "30 Hari Kalender".
        Minutes and hours stay as written."""
        return replace(self, working=working) if self.unit is Unit.HARI and self.working is None else self

    def __str__(self) -> str:
        suffix = {None: "", True: " Kerja", False: " Kalender"}[self.working]
        return f"{self.amount} {self.unit.value}{suffix}"


def _amount(digits: str, unit: Unit, written: str) -> int:
    """The number the digits write. Python refuses to read more than 4,300 digits (a ValueError that
    is no MutuBakuError); a number that long is far over the limit anyway, and refused as such."""
    # Leading zeros are skipped in any script (the patterns match any decimal digit; int() reads them).
    significant = digits[next((i for i, c in enumerate(digits) if unicodedata.decimal(c) != 0), len(digits)):]
    if len(significant) > len(str(MAX_AMOUNT[unit])):
        _check_length(MAX_AMOUNT[unit] + 1, unit, written)
    return int(significant or "0")


def _check_length(amount: int, unit: Unit, written: str) -> None:
    if amount > MAX_AMOUNT[unit]:
        raise MutuBakuError(Text("mutu baku waktu %(text)s lebih dari sepuluh tahun (paling lama %(most)d %(unit)s)",
                                 text=repr(written), most=MAX_AMOUNT[unit], unit=unit.value))


def worded(text: str, language: str, t) -> str:
    """A standard time as the SOP writes it ("30 Menit", "7 Hari Kerja"), worded in `language` with
    the translations `t` (anything with gettext and ngettext): Indonesian keeps the SOP's own
    notation; others say "30 min", "7 working days". A notation this cannot word (hours counted as
    "Kerja", say) is given as written. For the web's pages and the alert mail alike."""
    try:
        mutu = MutuBaku.parse(text)
    except MutuBakuError:
        return text
    if language == "id" or (mutu.unit is not Unit.HARI and mutu.working is not None):
        return text
    n = mutu.amount
    if mutu.unit is Unit.MENIT:
        return t.gettext("%(m)d menit") % {"m": n}
    if mutu.unit is Unit.JAM:
        return t.gettext("%(h)d jam") % {"h": n}
    if mutu.working is None:
        return t.ngettext("%(n)d hari", "%(n)d hari", n) % {"n": n}
    if mutu.working:
        return t.ngettext("%(n)d hari kerja", "%(n)d hari kerja", n) % {"n": n}
    return t.ngettext("%(n)d hari kalender", "%(n)d hari kalender", n) % {"n": n}
