"""Reading a source file into the one SOP model: CSV, XLSX, the text of a PDF, or our YAML."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from process.sop_import.header import LABELS, items, read_date, read_header, signer
from process.sop_import.interpret import apply_defaults, from_table, is_question
from process.sop_import.model import END, SourceError, Sop, SopStep
from process.sop_import.table import read_rows, text_lines

MAX_SOURCE_BYTES = 5 * 1024 * 1024
FORMATS = ("csv", "xlsx", "txt", "yaml")


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml", "text": "txt"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise SourceError(f"{name}: unknown source format {suffix or '(none)'!r}; expected .csv, .xlsx, "
                          ".txt (the text of an SOP PDF) or .yaml")
    return fmt


def read(name: str, data: bytes) -> Sop:
    """The SOP in a source file's bytes; SourceError (naming the row) when it cannot be read."""
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(f"{name}: the file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB")
    fmt = format_of(name)
    try:
        if fmt == "xlsx":
            return read_xlsx(name, data)
        return {"csv": read_csv, "txt": read_text, "yaml": read_yaml}[fmt](name, _decode(data))
    except SourceError as err:
        if str(err).startswith(f"{name}: "):
            raise
        raise SourceError(f"{name}: {err}") from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _from_lines(name: str, lines) -> Sop:
    table = read_rows(lines, name)
    return from_table(table, read_header(table.preamble))


def read_text(name: str, text: str) -> Sop:
    """The text extracted from an SOP PDF: the header sheet, then tab-separated table rows."""
    return _from_lines(name, text_lines(text))


def read_csv(name: str, text: str) -> Sop:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as err:
        raise SourceError(f"{name}: malformed CSV: {err}") from None
    return _from_lines(name, [(f"row {i}", row) for i, row in enumerate(rows, start=1)])


def read_xlsx(name: str, data: bytes) -> Sop:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several kinds for a file that is not a workbook
        raise SourceError(f"{name}: not a readable XLSX workbook ({type(err).__name__})") from None
    sheet = book.worksheets[0]
    lines = []
    for i, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        lines.append((f"row {i}", [_xlsx_cell(v) for v in row]))
    book.close()
    return _from_lines(name, lines)


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


# -- our YAML SOP format -----------------------------------------------------------

YAML_EXAMPLE = """\
sop:                       # the header sheet; every field optional
  nama: Pelayanan Surat Keterangan
  nomor: 000.1/23
  dasar_hukum: [Undang-undang Nomor 25 Tahun 2009 tentang Pelayanan Publik]
pelaksana: [Tim Administrasi, Tim Teknis, Sekretaris]   # the actor columns, in order
langkah:
  - uraian: Menerima permohonan
    pelaksana: Tim Administrasi
    kelengkapan: Surat permohonan
    waktu: 30 Menit
    output: Permohonan tercatat
  - uraian: Apakah berkas lengkap?                      # a question: a decision
    pelaksana: Tim Teknis
    waktu: 1 Hari
    ya: 3                                               # default: the next step
    tidak: 1                                            # a step number, or selesai
  - uraian: Menyerahkan surat keterangan
    pelaksana: Sekretaris
    waktu: 7 Hari Kerja
    output: Surat keterangan
"""
_STEP_KEYS = {"no", "uraian", "pelaksana", "kelengkapan", "waktu", "output", "keterangan", "ya", "tidak",
              "keputusan"}


def read_yaml(name: str, text: str) -> Sop:
    from process.loader import user_yaml
    try:
        data = user_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SourceError(f"{name}: line {mark.line + 1 if mark else '?'}: malformed YAML: "
                          f"{getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("langkah"), list) or not data["langkah"]:
        raise SourceError(f"{name}: expected a mapping with 'pelaksana' (the actor columns) and 'langkah' "
                          "(the steps, a list)")
    unknown = set(data) - {"sop", "pelaksana", "langkah"}
    if unknown:
        raise SourceError(f"{name}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                          "(expected sop, pelaksana, langkah)")
    actors = data.get("pelaksana") or []
    if not isinstance(actors, list) or not actors or not all(isinstance(a, str) and a.strip() for a in actors):
        raise SourceError(f"{name}: 'pelaksana' must list the actor columns, e.g. [Tim Teknis, Sekretaris]")
    actors = [" ".join(a.split()) for a in actors]
    steps = [_yaml_step(name, i, raw, actors, len(data["langkah"])) for i, raw in enumerate(data["langkah"], 1)]
    sop = Sop(header=_yaml_header(name, data.get("sop") or {}), actors=actors, steps=steps)
    apply_defaults(sop)
    return sop


def _yaml_step(name: str, number: int, raw: Any, actors: list[str], count: int) -> SopStep:
    where = f"langkah {number}"
    if not isinstance(raw, dict):
        raise SourceError(f"{name}: {where}: a step must be a mapping with at least 'uraian'")
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise SourceError(f"{name}: {where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if "no" in raw and str(raw["no"]) != str(number):
        raise SourceError(f"{name}: {where}: 'no' is {raw['no']!r} but the step is number {number} in the list")
    uraian = " ".join(str(raw.get("uraian") or "").split())
    if not uraian:
        raise SourceError(f"{name}: {where}: the step has no 'uraian'")
    actor = raw.get("pelaksana")
    if actor is not None and " ".join(str(actor).split()) not in actors:
        raise SourceError(f"{name}: {where}: pelaksana {actor!r} is not in the 'pelaksana' list")
    step = SopStep(
        number=number, uraian=uraian, pelaksana=" ".join(str(actor).split()) if actor is not None else None,
        waktu=str(raw.get("waktu") or ""), kelengkapan=str(raw.get("kelengkapan") or ""),
        output=str(raw.get("output") or ""), keterangan=str(raw.get("keterangan") or ""),
        decision=bool(raw.get("keputusan", is_question(uraian))), where=where,
    )
    for label in ("ya", "tidak"):
        value = raw.get(label)
        if value is None:
            continue
        if not step.decision:
            raise SourceError(f"{name}: {where}: only a question (\"Apakah ...?\") has '{label}'")
        text = str(value).strip().lower()
        if text == END:
            setattr(step, label, END)
        elif text.isascii() and text.isdigit() and len(text) <= 9 and 1 <= int(text) <= count and int(text) != number:
            setattr(step, label, int(text))
        else:
            raise SourceError(f"{name}: {where}: '{label}' must be another step's number (1-{count}) or '{END}'")
    return step


def _yaml_header(name: str, raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise SourceError(f"{name}: 'sop' must be a mapping of header fields")
    known = set(LABELS.values()) | {"instansi"}
    unknown = set(raw) - known
    if unknown:
        raise SourceError(f"{name}: sop: unknown header field(s) {', '.join(sorted(map(str, unknown)))}")
    header: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith("tanggal_") and isinstance(value, str):
            value = read_date(value)
        elif key == "disahkan_oleh" and isinstance(value, str):
            value = signer(value)
        elif key not in ("nomor", "nama", "disahkan_oleh") and isinstance(value, str) and key.startswith(
                ("dasar", "kualifikasi", "keterkaitan", "peralatan", "peringatan", "pencatatan", "instansi")):
            value = items(value)
        header[key] = value
    return header
