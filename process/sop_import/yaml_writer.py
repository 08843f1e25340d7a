"""The imported SOP's YAML: header sheet, counting rule, per-step guidance and forms, open questions.

The same format as the hand-made definitions (see process.loader), plus a
`questions` block while anything is open: the loader reports every entry
there as a problem, so the definition cannot be deployed until the owner
has answered them all. Each question keeps its Indonesian `text` for
people and its `message` (`process.messages.as_json`) for the app, which
shows it in the reader's language.
"""
from __future__ import annotations

from typing import Any

import yaml

from process.mutu_baku import MutuBaku, MutuBakuError, Unit
from process.sop_import.forms import step_forms
from process.sop_import.model import Sop
from process.sop_import.questions import Question

HEADER_ORDER = ("nomor", "tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif", "disahkan_oleh", "dasar_hukum",
                "kualifikasi_pelaksana", "keterkaitan", "peralatan_perlengkapan", "peringatan",
                "pencatatan_pendataan", "judul_pencatatan")
PREAMBLE = """\
# Imported from {source} by `alur import`. What the BPMN diagram beside this
# file cannot hold: the SOP's header sheet and, per SOP step, its
# Kelengkapan, Output and form. Flow, lanes, step names and standard times
# live only in the diagram; the SOP's title (Nama SOP) is the process name.
"""
COUNTING = """\
# How standard times are counted unless a step says otherwise:
# days: kerja (working days) | kalender (calendar days)
# time: kerja (working hours) | jam (clock time)
counting:
  days: kerja
  time: kerja
"""
QUESTIONS = """\
# Open questions from the import: answer each one in the diagram (or with
# `alur import --answers`), then delete it here. The definition cannot be
# deployed while any is left. `message` is `text` for the app to translate.
"""


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as people write them (and as yaml_blocks expects: only keys at column 0)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=False)


def _field(field: dict) -> str:
    """One form field on one line, as in the hand-made definitions."""
    return yaml.safe_dump(field, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=True).strip()


def counting_rule(waktu: str) -> dict[str, str] | None:
    """'7 Hari Kerja' / '2 Hari Kalender' / '30 Menit Kerja': the step's own counting rule."""
    try:
        mutu = MutuBaku.parse(waktu)
    except MutuBakuError:
        return None
    if mutu.working is None:
        return None
    if mutu.unit is Unit.HARI:
        return {"days": "kerja" if mutu.working else "kalender"}
    return {"time": "kerja" if mutu.working else "jam"}


def write(sop: Sop, questions: list[Question], source: str = "an SOP table") -> str:
    header = {k: sop.header[k] for k in HEADER_ORDER if sop.header.get(k) not in (None, "", [])}
    parts = [PREAMBLE.format(source=source)]
    if header:
        parts.append(dump({"sop": header}))
    parts.append(COUNTING)
    forms = step_forms(sop)
    lines = ["steps:"]
    for step in sop.steps:
        details = []
        for key in ("kelengkapan", "output"):
            value = getattr(step, key)
            if value:
                details.append("    " + dump({key: value}).strip())
        counting = counting_rule(step.waktu)
        if counting:
            details.append("    counting: " + _field(counting))
        if forms[step.number]:
            details.append("    form:")
            details += [f"      - {_field(f)}" for f in forms[step.number]]
        if details:
            lines += [f"  {step.number}:", *details]
    parts.append("\n".join(lines if len(lines) > 1 else ["steps: {}"]) + "\n")
    if questions:
        parts.append(QUESTIONS + dump({"questions": [q.as_dict() for q in questions]}))
    return "\n".join(parts)
