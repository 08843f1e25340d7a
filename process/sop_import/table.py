"""The national SOP table, read from rows of cells (CSV, XLSX, or tab-separated text).

The layout is the one in the Permenpan-RB guideline: a header row `No |
Uraian Prosedur | Pelaksana ... | Mutu Baku ... | Keterangan`, usually a
second row naming each Pelaksana column and Kelengkapan / Waktu / Output,
and often a row of column numbers. Tables printed over several pages repeat
those header rows; they are skipped when they match the first ones. What
comes before the first header row is the header sheet.

Marks in the actor columns are kept as written: what they mean (the actor,
or a branch label such as "Tidak") is `interpret`'s job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from process.messages import Text
from process.sop_import.model import SourceError, at, row, shown

Cells = list[str]


@dataclass
class RawRow:
    number: int
    uraian: str
    marks: dict[str, str]            # actor name -> the cell's text (non-empty cells only)
    kelengkapan: str
    waktu: str
    output: str
    keterangan: str
    where: str


@dataclass
class RawTable:
    preamble: list[tuple[str, Cells]]     # (where, cells) of the lines before the table
    actors: list[str]
    rows: list[RawRow]


@dataclass
class _Columns:
    no: int
    uraian: int
    actors: list[tuple[int, str]]
    kelengkapan: int
    waktu: int
    output: int
    keterangan: int | None
    header_rows: int      # how many rows the header takes (1 or 2, plus a numbers row)


def _norm(text: str) -> str:
    return " ".join((text or "").replace("*", "").split()).strip().lower()


def _is_header(cells: Cells) -> bool:
    first = [_norm(c) for c in cells if _norm(c)][:2]
    return len(first) == 2 and first[0] in ("no", "no.", "nomor") and first[1].startswith("uraian")


def _is_numbers_row(cells: Cells) -> bool:
    values = [c.strip() for c in cells if c.strip()]
    return len(values) >= 4 and all(v.isascii() and v.isdigit() for v in values) and values[:2] == ["1", "2"]


def read_rows(lines: list[tuple[str, Cells]]) -> RawTable:
    """The table in `lines` ((where, cells) pairs); SourceError naming the row when it cannot be read."""
    start = next((i for i, (_, cells) in enumerate(lines) if _is_header(cells)), None)
    if start is None:
        raise SourceError(Text("kepala tabel tidak ditemukan (baris yang diawali 'No' dan 'Uraian Prosedur')"))
    columns = _columns(lines, start)
    rows: list[RawRow] = []
    i = start + columns.header_rows
    while i < len(lines):
        where, cells = lines[i]
        if not any(c.strip() for c in cells):
            i += 1
            continue
        if _is_header(cells):
            again = _columns(lines, i)
            if [a for _, a in again.actors] != [a for _, a in columns.actors]:
                raise SourceError(at(where, Text(
                    "kepala tabel yang berulang menyebut kolom Pelaksana lain (%(again)s) daripada yang pertama "
                    "(%(first)s)", again=", ".join(a for _, a in again.actors),
                    first=", ".join(a for _, a in columns.actors))))
            columns = again
            i += again.header_rows
            continue
        rows.append(_row(where, cells, columns))
        i += 1
    if not rows:
        raise SourceError(Text("tabel tidak memiliki langkah"))
    _check_numbers(rows)
    return RawTable(preamble=lines[:start], actors=[a for _, a in columns.actors], rows=rows)


def _columns(lines: list[tuple[str, Cells]], start: int) -> _Columns:
    where, top = lines[start]
    sub = lines[start + 1][1] if start + 1 < len(lines) else []
    two_rows = any(_norm(c) == "kelengkapan" for c in sub)
    width = max(len(top), len(sub) if two_rows else 0)
    names = []
    for c in range(width):
        upper = _norm(top[c]) if c < len(top) else ""
        lower = _norm(sub[c]) if two_rows and c < len(sub) else ""
        names.append(lower or upper)
    raw_names = [(sub[c] if two_rows and c < len(sub) and sub[c].strip() else (top[c] if c < len(top) else ""))
                 for c in range(width)]

    def find(*labels: str) -> int | None:
        return next((c for c, n in enumerate(names) if n in labels), None)

    uraian = next((c for c, n in enumerate(names) if n.startswith("uraian")), 1)
    kelengkapan, waktu, output = find("kelengkapan"), find("waktu"), find("output")
    missing = [label for label, c in (("Kelengkapan", kelengkapan), ("Waktu", waktu), ("Output", output)) if c is None]
    if missing:
        raise SourceError(at(where, Text("kepala tabel tidak memiliki kolom %(columns)s (Mutu Baku)",
                                         columns=", ".join(missing))))
    actors = [(c, " ".join(raw_names[c].split())) for c in range(uraian + 1, min(kelengkapan, waktu, output))
              if names[c] and names[c] not in ("pelaksana", "mutu baku")]
    if not actors:
        raise SourceError(at(where, Text("kepala tabel tidak menyebut kolom Pelaksana di antara Uraian Prosedur "
                                         "dan Kelengkapan")))
    header_rows = 2 if two_rows else 1
    if start + header_rows < len(lines) and _is_numbers_row(lines[start + header_rows][1]):
        header_rows += 1
    return _Columns(no=0, uraian=uraian, actors=actors, kelengkapan=kelengkapan, waktu=waktu, output=output,
                    keterangan=find("keterangan", "ket", "ket."), header_rows=header_rows)


def _cell(cells: Cells, index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return " ".join(str(cells[index]).split())


def _row(where: str, cells: Cells, cols: _Columns) -> RawRow:
    number_text = _cell(cells, cols.no).rstrip(".")
    if not (number_text.isascii() and number_text.isdigit()) or len(number_text) > 4:  # "²".isdigit() is true
        raise SourceError(at(where, Text("No %(no)s bukan nomor langkah", no=shown(number_text))))
    uraian = _cell(cells, cols.uraian)
    if not uraian:
        raise SourceError(at(where, Text("langkah %(number)s tidak memiliki Uraian Prosedur", number=number_text)))
    if len(cells) <= cols.uraian + 1:  # at least No and Uraian: always two columns or more
        raise SourceError(at(where, Text("langkah %(number)s hanya memiliki %(n)d kolom; kolom Pelaksana dan Mutu "
                                         "Baku juga diperlukan", number=number_text, n=len(cells))))
    marks = {name: _cell(cells, c) for c, name in cols.actors if _cell(cells, c)}
    return RawRow(
        number=int(number_text), uraian=uraian, marks=marks, kelengkapan=_cell(cells, cols.kelengkapan),
        waktu=_cell(cells, cols.waktu), output=_cell(cells, cols.output),
        keterangan=_cell(cells, cols.keterangan), where=where,
    )


def _check_numbers(rows: list[RawRow]) -> None:
    for expected, raw in enumerate(rows, start=1):
        if raw.number != expected:
            raise SourceError(at(raw.where, Text(
                "nomor langkah %(number)d tidak urut (seharusnya %(expected)d); langkah harus bernomor 1, 2, 3, "
                "... sesuai urutan tabel", number=raw.number, expected=expected)))


_SPLIT = re.compile(r"\t")


def text_lines(text: str) -> list[tuple[str, Cells]]:
    """Tab-separated text (what a PDF's text extraction gives) as (where, cells) lines."""
    return [(row(n), _SPLIT.split(line.rstrip("\r\n"))) for n, line in enumerate(text.splitlines(), start=1)]
