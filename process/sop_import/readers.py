"""Reading a source file into the one SOP model: CSV, XLSX, the text of a PDF, or our YAML."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import yaml

from process.byte_order import marked_encoding
from process.messages import Text
from process.plain_text import printable
from process.sop_import.header import LABELS, items, read_date, read_header, signer
from process.sop_import.interpret import apply_defaults, from_table, is_question
from process.sop_import.model import END, SourceError, Sop, SopStep, at, row, shown
from process.sop_import.table import read_rows, text_lines

MAX_SOURCE_BYTES = 5 * 1024 * 1024
# What an XLSX of at most MAX_SOURCE_BYTES may unpack to: a real SOP table is well under 1 MiB.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# How much of a sheet is read: an SOP table is a few dozen rows and columns. openpyxl fills in every
# row up to the sheet's declared last row, each as wide as its last column, so one cell at XFD1048576
# in a file of a few KiB was 17 billion empty cells; the unpacked size does not bound that.
MAX_XLSX_ROWS = 10_000
MAX_XLSX_COLUMNS = 200
FORMATS = ("csv", "xlsx", "txt", "yaml")


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml", "text": "txt"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise SourceError(at(name, Text("akhiran nama berkas %(suffix)s tidak dikenal; yang dapat diimpor: .csv, "
                                        ".xlsx, .txt (teks PDF SOP) atau .yaml", suffix=shown(suffix))))
    return fmt


def read(name: str, data: bytes) -> Sop:
    """The SOP in a source file's bytes; SourceError (naming the row) when it cannot be read."""
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(at(name, Text("berkas SOP lebih dari %(n)d MiB", n=MAX_SOURCE_BYTES // (1024 * 1024))))
    fmt = format_of(name)
    try:
        if fmt == "xlsx":
            return read_xlsx(data)
        return {"csv": read_csv, "txt": read_text, "yaml": read_yaml}[fmt](_decode(data))
    except SourceError as err:
        raise SourceError(at(name, err.args[0])) from None


def _decode(data: bytes) -> str:
    try:
        return data.decode(marked_encoding(data) or "utf-8")  # Excel's "Unicode text" is UTF-16, marked
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _from_lines(lines) -> Sop:
    table = read_rows([(where, [printable(cell) for cell in cells]) for where, cells in lines])
    return from_table(table, read_header(table.preamble))


def read_text(text: str) -> Sop:
    """The text extracted from an SOP PDF: the header sheet, then tab-separated table rows."""
    return _from_lines(text_lines(text))


def read_csv(text: str) -> Sop:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as err:
        raise SourceError(Text("CSV rusak: %(reason)s", reason=str(err))) from None
    return _from_lines([(row(i), cells) for i, cells in enumerate(rows, start=1)])


def read_xlsx(data: bytes) -> Sop:
    from openpyxl import load_workbook
    _check_unpacked_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # Read-only: the sheet itself is parsed only here, so a broken sheet (malformed XML, a number
        # of thousands of digits, which Python will not read) fails here, not in load_workbook.
        try:
            sheet = book.worksheets[0]
            # The size the sheet declares (Excel and LibreOffice write it); without one, rows are read
            # only within the bounds below.
            too_large = (sheet.max_row or 0) > MAX_XLSX_ROWS or (sheet.max_column or 0) > MAX_XLSX_COLUMNS
            lines = [] if too_large else [
                (row(i), [_xlsx_cell(v) for v in cells])
                for i, cells in enumerate(sheet.iter_rows(max_row=MAX_XLSX_ROWS, max_col=MAX_XLSX_COLUMNS,
                                                          values_only=True), start=1)]
        finally:
            book.close()
    except Exception as err:  # openpyxl raises several kinds for a file that is not a workbook
        raise SourceError(Text("bukan buku kerja XLSX yang dapat dibaca (%(kind)s)",
                               kind=type(err).__name__)) from None
    if too_large:
        raise SourceError(Text("lembar pertama buku kerja XLSX lebih dari %(rows)d baris atau %(columns)d kolom",
                               rows=MAX_XLSX_ROWS, columns=MAX_XLSX_COLUMNS))
    return _from_lines(lines)


def _check_unpacked_size(data: bytes) -> None:
    """An XLSX is a zip: a few MiB of it can unpack to gigabytes of sheet XML (a zip bomb), all of
    which openpyxl would parse. Refused by the sizes its members declare; Python's zipfile stops a
    member at its declared size, so the declaration cannot understate what is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl says what it is not
    if unpacked > MAX_UNPACKED_BYTES:
        raise SourceError(Text("isi buku kerja XLSX lebih dari %(n)d MiB setelah dibuka",
                               n=MAX_UNPACKED_BYTES // (1024 * 1024)))


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


def read_yaml(text: str) -> Sop:
    from process.user_yaml import user_yaml
    try:
        data = printable(user_yaml(printable(text)))  # raw, which the parser refuses, and escaped ("\e")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        message = Text("YAML rusak: %(reason)s", reason=getattr(err, "problem", None) or str(err))
        raise SourceError(at(row(mark.line + 1), message) if mark else message) from None
    if not isinstance(data, dict) or not isinstance(data.get("langkah"), list) or not data["langkah"]:
        raise SourceError(Text("berkas harus berupa mapping dengan 'pelaksana' (kolom Pelaksana) dan 'langkah' "
                               "(daftar langkah)"))
    unknown = set(data) - {"sop", "pelaksana", "langkah"}
    if unknown:
        raise SourceError(Text("kunci tidak dikenal: %(keys)s (yang dikenal: sop, pelaksana, langkah)",
                               keys=_listed(unknown)))
    actors = data.get("pelaksana") or []
    if not isinstance(actors, list) or not actors or not all(isinstance(a, str) and a.strip() for a in actors):
        raise SourceError(Text("'pelaksana' harus berupa daftar kolom Pelaksana, mis. [Tim Teknis, Sekretaris]"))
    actors = [" ".join(a.split()) for a in actors]
    steps = [_yaml_step(i, raw, actors, len(data["langkah"])) for i, raw in enumerate(data["langkah"], 1)]
    sop = Sop(header=_yaml_header(data.get("sop") or {}), actors=actors, steps=steps)
    apply_defaults(sop)
    return sop


def _listed(keys: set) -> str:
    return ", ".join(sorted(map(str, keys)))


def _yaml_step(number: int, raw: Any, actors: list[str], count: int) -> SopStep:
    where = Text("langkah %(n)d", n=number)

    def refused(message: Text) -> SourceError:
        return SourceError(at(where, message))

    if not isinstance(raw, dict):
        raise refused(Text("langkah harus berupa mapping dengan paling tidak 'uraian'"))
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise refused(Text("kunci tidak dikenal: %(keys)s", keys=_listed(unknown)))
    if "no" in raw and str(raw["no"]) != str(number):
        raise refused(Text("'no' bernilai %(no)r, padahal langkah ini bernomor %(n)d dalam daftar",
                           no=raw["no"], n=number))
    uraian = " ".join(str(raw.get("uraian") or "").split())
    if not uraian:
        raise refused(Text("langkah tidak memiliki 'uraian'"))
    decision = raw.get("keputusan", is_question(uraian))
    if not isinstance(decision, bool):  # "tidak" read by its truth made the step a decision
        raise refused(Text("'keputusan' harus true atau false (tertulis %(value)r)", value=decision))
    actor = raw.get("pelaksana")
    if actor is not None and " ".join(str(actor).split()) not in actors:
        raise refused(Text("pelaksana %(actor)r tidak ada dalam daftar 'pelaksana'", actor=actor))
    step = SopStep(
        number=number, uraian=uraian, pelaksana=" ".join(str(actor).split()) if actor is not None else None,
        waktu=str(raw.get("waktu") or ""), kelengkapan=str(raw.get("kelengkapan") or ""),
        output=str(raw.get("output") or ""), keterangan=str(raw.get("keterangan") or ""),
        decision=decision, where=where,
    )
    for label in ("ya", "tidak"):
        value = raw.get(label)
        if value is None:
            continue
        if not step.decision:
            raise refused(Text("hanya pertanyaan (\"Apakah ...?\") yang memiliki '%(label)s'", label=label))
        text = str(value).strip().lower()
        if text == END:
            setattr(step, label, END)
        elif text.isascii() and text.isdigit() and len(text) <= 9 and 1 <= int(text) <= count and int(text) != number:
            setattr(step, label, int(text))
        else:
            raise refused(Text("'%(label)s' harus berupa nomor langkah lain (1-%(count)d) atau '%(end)s'",
                               label=label, count=count, end=END))
    return step


def _yaml_header(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise SourceError(Text("'sop' harus berupa mapping isian kop SOP"))
    known = set(LABELS.values()) | {"instansi", "judul_pencatatan"}
    unknown = set(raw) - known
    if unknown:
        raise SourceError(at("sop", Text("isian kop SOP tidak dikenal: %(keys)s", keys=_listed(unknown))))
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
