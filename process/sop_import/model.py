"""The SOP table as one model, whatever it was read from.

Every reader (CSV, XLSX, the text of a PDF, our YAML) ends in a `Sop`: the
header sheet, the actor (Pelaksana) columns in the table's order, and one
`SopStep` per row. `where` keeps the row's place in the source ("row 7",
"line 42") so every message can name it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

END = "selesai"            # a branch target that ends the process
Target = Union[int, str, None]   # a step number, END, or None: not given


class SourceError(ValueError):
    """The source cannot be read as an SOP table; the message names the row."""


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
    where: str = ""
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
