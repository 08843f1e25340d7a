"""The SOP table as one model, whatever it was read from.

Every reader (CSV, XLSX, the text of a PDF, our YAML) ends in a `Sop`: the
header sheet, the actor (Pelaksana) columns in the table's order, and one
`SopStep` per row. `where` keeps the row's place in the source ("baris 7",
"langkah 3") so every message can name it.

Messages are `process.messages.Text`s in Bahasa Indonesia, for the web to
show in the reader's language; the errors' `args[0]` is the Text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from process.messages import Text

END = "selesai"            # a branch target that ends the process
Target = Union[int, str, None]   # a step number, END, or None: not given


class SourceError(ValueError):
    """The source cannot be read as an SOP table; `args[0]` is the `Text`, naming the row."""


def at(where: str, message: Text) -> Text:
    """A message prefixed with where it applies: the file, the row, the step or the answer."""
    return Text("%(where)s: %(message)s", where=where, message=message)


def row(number: int) -> Text:
    """A row (or line) of the source, as messages name it."""
    return Text("baris %(n)d", n=number)


def shown(value: str) -> str:
    """A value from the source as a message quotes it; an empty one as such."""
    return repr(value) if value else Text("(kosong)")


@dataclass
class SopStep:
    number: int
    uraian: str
    pelaksana: str | None = None     # the actor column's name; None when no column is marked
    waktu: str = ""                   # the Mutu Baku Waktu as written ("30 Menit", "1Hari")
    kelengkapan: str = ""
    output: str = ""
    keterangan: str = ""
    decision: bool = False
    ya: Target = None
    tidak: Target = None
    where: str = ""                   # a `row` or the step in the YAML list, for messages
    # Several actor columns marked: the candidates, for the question.
    candidates: tuple[str, ...] = ()


@dataclass
class Sop:
    header: dict[str, Any]           # the loader's HEADER_KEYS, plus "nama" and "instansi"
    actors: list[str]
    steps: list[SopStep]
    # Lane roles given by answers, by actor name (otherwise derived from the name).
    roles: dict[str, str] = field(default_factory=dict)

    def step(self, number: int) -> SopStep | None:
        return next((s for s in self.steps if s.number == number), None)
