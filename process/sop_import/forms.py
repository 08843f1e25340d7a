"""The form each imported step gets: what the table lets us know a performer must give.

A decision needs its answer (a yes/no field the gateway's conditions read).
A Kelengkapan that names a document becomes a file field. Everything else
the process owner adds in the editor; the table does not say.
"""
from __future__ import annotations

import re

from process.sop_import.model import Sop, SopStep

# Words that name a document (Kelengkapan "Dokumen kegiatan", "Surat permohonan", ...).
_DOCUMENT = re.compile(r"\b(dokumen|berkas|surat|laporan|formulir|form|notulen|naskah|proposal|nota|sk|"
                       r"lampiran|salinan|fotokopi|scan|pindaian|sertifikat|akta|kwitansi|kuitansi)\b",
                       re.IGNORECASE)
# A short word that belongs to the predicate: "ada kendala", "sudah lengkap".
_AUXILIARY = {"ada", "sudah", "telah", "belum", "masih", "perlu", "dapat", "bisa", "tidak", "sesuai", "memenuhi"}


def names_document(kelengkapan: str) -> bool:
    return bool(_DOCUMENT.search(kelengkapan or ""))


def snake(text: str, limit: int = 50) -> str:
    words = re.findall(r"[a-z0-9]+", (text or "").lower())
    name = "_".join(words)[:limit].strip("_")
    return name if name and name[0].isalpha() else f"isian_{name}".strip("_")


def decision_field(uraian: str) -> str:
    """The answer's field name: the question's predicate ("… terverifikasi?" -> terverifikasi)."""
    words = re.findall(r"[a-z0-9]+", uraian.lower())
    words = [w for w in words if w != "apakah"]
    if not words:
        return "keputusan"
    if len(words) >= 2 and words[-2] in _AUXILIARY:
        return snake(" ".join(words[-2:]))
    return snake(words[-1])


def gateway_name(field: str) -> str:
    return field.replace("_", " ").capitalize() + "?"


def step_forms(sop: Sop) -> dict[int, list[dict]]:
    """Per step number, its form fields (name, label, type, required) with unique decision names."""
    forms: dict[int, list[dict]] = {}
    used: set[str] = set()
    for step in sop.steps:
        fields = []
        if step.decision:
            name = decision_field(step.uraian)
            if name in used:
                name = f"{name}_{step.number}"
            used.add(name)
            fields.append({"name": name, "label": step.uraian, "type": "boolean", "required": True})
        if names_document(step.kelengkapan):
            fields.append({"name": snake(step.kelengkapan), "label": step.kelengkapan, "type": "file"})
        forms[step.number] = fields
    return forms


def decision_of(step: SopStep, forms: dict[int, list[dict]]) -> str:
    return forms[step.number][0]["name"]
