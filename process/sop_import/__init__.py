"""Importing an SOP written in the national table format into an executable definition.

    source file (CSV, XLSX, PDF text, our YAML)
      -> readers: one `Sop` model (header sheet, actor columns, steps)
      -> answers applied (element id -> {field: value})
      -> questions: what the source leaves open, pinned to element ids
      -> bpmn_writer (diagram with layout) + yaml_writer (header, guidance, forms, questions)

Pure: no Flask, no database. `alur import` and the editor's upload call
`import_sop`; the result passes `alur validate` once no question is open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from process.sop_import import bpmn_writer, yaml_writer
from process.sop_import.model import SourceError, Sop
from process.sop_import.questions import AnswerError, Question, apply_answers, open_questions
from process.sop_import.readers import FORMATS, MAX_SOURCE_BYTES, format_of, read

__all__ = ["AnswerError", "FORMATS", "Imported", "MAX_SOURCE_BYTES", "Question", "SourceError", "format_of",
           "import_sop", "key_for"]


@dataclass(frozen=True)
class Imported:
    key: str
    sop: Sop
    bpmn_xml: str
    yaml_text: str
    questions: tuple[Question, ...]


def import_sop(name: str, data: bytes, key: str | None = None, answers: Any = None) -> Imported:
    """Read a source file and build the definition; SourceError / AnswerError name what is wrong."""
    sop = read(name, data)
    apply_answers(sop, answers)
    key = key or key_for(name)
    questions = open_questions(sop)
    return Imported(
        key=key, sop=sop, bpmn_xml=bpmn_writer.write(sop, key, office_of(sop)),
        yaml_text=yaml_writer.write(sop, questions, Path(name).name), questions=tuple(questions),
    )


def key_for(name: str) -> str:
    """A definition key from a file name: letters, digits and _ only, starting with a letter."""
    stem = Path(name).name.split(".")[0]
    key = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_").lower()[:100]
    return key if key[:1].isalpha() else f"sop_{key}".rstrip("_")


def office_of(sop: Sop) -> str:
    """The office, for the diagram's pool: from the signer's title ('Kepala Dinas …') or the kop lines."""
    signer = sop.header.get("disahkan_oleh")
    jabatan = signer.get("jabatan", "") if isinstance(signer, dict) else str(signer or "")
    if jabatan.lower().startswith("kepala "):
        return jabatan[len("kepala "):].strip()
    lines = sop.header.get("instansi") or []
    if len(lines) >= 2 and lines[0].upper().startswith("PEMERINTAH "):
        return f"{lines[1].title()} {lines[0][len('PEMERINTAH '):].title()}"
    return " ".join(lines).title()
