"""Reading meaning into the table: actors, decisions and their branches.

The paper flowchart puts a step's symbol in its actor's column; a source
that kept only text keeps whatever was in that cell. So any non-empty actor
cell marks the step's actor, except that a bare "Ya" or "Tidak" there is an
arrow label that survived extraction: on a decision row it says which way
that branch leaves; on another row it marks the row as the target of that
branch of the nearest decision. Explicit targets ("Tidak: 3", "Ya ke
langkah 6", "Tidak → selesai") may stand in an actor cell or in Keterangan.

What the table leaves open is not guessed: `questions.open_questions`
lists it. The one default is the paper convention that "Ya" goes on to the
next row.
"""
from __future__ import annotations

import re

from process.messages import Text
from process.sop_import.model import END, SourceError, Sop, SopStep, at
from process.sop_import.table import RawRow, RawTable

_LABEL = re.compile(r"^\s*(ya|tidak)\s*[.:]?\s*$", re.IGNORECASE)
_BRANCH = re.compile(
    r"\b(?P<label>ya|tidak)\b\s*[:=,]?\s*(?:->|→|⇒|>|-)?\s*(?:maka\s+)?(?:(?:kembali|lanjut)\s+)?(?:ke\s+)?"
    r"(?:langkah|no\.?|nomor|step|baris|kegiatan)?\s*(?P<target>\d{1,9}|selesai)\b",
    re.IGNORECASE)


def is_question(uraian: str) -> bool:
    text = uraian.strip().lower()
    return text.startswith("apakah") or text.endswith("?")


def from_table(table: RawTable, header: dict) -> Sop:
    steps = [_step(row) for row in table.rows]
    by_number = {s.number: s for s in steps}
    _explicit_branches(table.rows, by_number)
    _labels_on_targets(table.rows, steps)
    sop = Sop(header=header, actors=list(table.actors), steps=steps)
    apply_defaults(sop)
    return sop


def _step(row: RawRow) -> SopStep:
    decision = is_question(row.uraian)
    marked = [actor for actor, text in row.marks.items() if not _LABEL.match(text) and not _BRANCH.search(text)]
    labelled = [actor for actor, text in row.marks.items() if actor not in marked]
    # A symbol wins over an arrow label; an arrow label alone still shows the column.
    candidates = marked or labelled
    return SopStep(
        number=row.number, uraian=row.uraian, pelaksana=candidates[0] if len(candidates) == 1 else None,
        waktu=row.waktu, kelengkapan=row.kelengkapan, output=row.output, keterangan=row.keterangan,
        decision=decision, where=row.where, candidates=tuple(candidates) if len(candidates) > 1 else (),
    )


def _target(text: str, row: RawRow, steps: dict[int, SopStep]) -> int | str:
    if text.lower() == END:
        return END
    number = int(text)
    if number not in steps:
        raise SourceError(at(row.where, Text("langkah %(number)d mengarahkan cabang ke langkah %(target)d, yang "
                                             "tidak ada dalam tabel", number=row.number, target=number)))
    if number == row.number:
        raise SourceError(at(row.where, Text("langkah %(number)d mengarahkan cabang ke dirinya sendiri",
                                             number=row.number)))
    return number


def _explicit_branches(rows: list[RawRow], steps: dict[int, SopStep]) -> None:
    for row in rows:
        step = steps[row.number]
        for text in [*row.marks.values(), row.keterangan]:
            for match in _BRANCH.finditer(text):
                if not step.decision:
                    raise SourceError(at(row.where, Text(
                        "langkah %(number)d bukan pertanyaan (\"Apakah ...?\") tetapi memberi cabang %(label)r",
                        number=row.number, label=match["label"])))
                setattr(step, match["label"].lower(), _target(match["target"], row, steps))


def _labels_on_targets(rows: list[RawRow], steps: list[SopStep]) -> None:
    """A bare label on a non-decision row: that row is where the nearest decision's branch arrives."""
    decisions = [s for s in steps if s.decision]
    for row, step in zip(rows, steps):
        if step.decision:
            continue
        for text in row.marks.values():
            match = _LABEL.match(text)
            if not match:
                continue
            label = match[1].lower()
            open_ = [d for d in decisions if getattr(d, label) is None]
            if not open_:
                raise SourceError(at(row.where, Text(
                    "langkah %(number)d diberi label %(label)r, tetapi cabang itu sudah memiliki tujuan pada setiap "
                    "keputusan", number=row.number, label=match[1])))
            # Nearest first; on a tie the later decision (a loop back is drawn to an earlier row).
            nearest = min(open_, key=lambda d: (abs(d.number - step.number), -d.number))
            setattr(nearest, label, step.number)


def apply_defaults(sop: Sop) -> None:
    """'Ya' goes on to the next row when the table does not say otherwise."""
    numbers = [s.number for s in sop.steps]
    for step in sop.steps:
        if step.decision and step.ya is None:
            later = [n for n in numbers if n > step.number]
            if later:
                step.ya = later[0]
