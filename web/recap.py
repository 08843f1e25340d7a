"""The recapitulation of a period as files the office can hand on: XLSX and CSV.

One row per activity, with every SOP step's start, completion, performer,
working time and on-time flag in columns; the XLSX adds a summary per Bidang
and a sheet that names the steps. Dates are in the office's time zone.
The CSV uses ";" between fields (what a spreadsheet in an Indonesian locale
expects) and starts with a UTF-8 byte order mark.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

DATE_FORMAT = "DD/MM/YYYY HH:MM"
CSV_DATE = "%Y-%m-%d %H:%M"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


def old_step(number: int, short: bool = False) -> str:
    """A step of an earlier version that the newest one removed, by its last number, which may be a newer
    step's too: "7 (versi lama)" in the position chips, the recap's current steps and the step tables, or
    "7 lama" where there is room for a few letters only (under a chart's bar)."""
    return _("%(s)d lama", s=number) if short else _("%(s)d (versi lama)", s=number)


def _state(state: str) -> str:
    return {"running": _("Berjalan"), "completed": _("Selesai")}.get(state, state)


def _yes_no(value) -> str:
    return "" if value is None else _("Ya") if value else _("Tidak")


def columns(data: dict) -> list[str]:
    heads = [_("No"), _("ID kegiatan"), _("Kode bidang"), _("Bidang"), _("Judul kegiatan"), _("Periode"),
             _("Status"), _("Dimulai"), _("Selesai"), _("Dimulai oleh"), _("Langkah saat ini"), _("Terlambat"),
             _("Dikembalikan saat verifikasi (kali)"), _("Ada kendala"), _("Diarsipkan")]
    for step in data["steps"]:
        n = step["number"]
        # Minutes as the figures measure the step: working time, or by the clock (`monitoring.StepTime`), each
        # activity's by the version it ran the step under, which may count it otherwise.
        if not step["one_rule"]:
            took = _("Langkah %(n)d waktu kerja atau kalender menurut versi kegiatan (menit)", n=n)
        elif step["working_time"]:
            took = _("Langkah %(n)d waktu kerja (menit)", n=n)
        else:
            took = _("Langkah %(n)d waktu kalender (menit)", n=n)
        heads += [_("Langkah %(n)d mulai", n=n), _("Langkah %(n)d selesai", n=n),
                  _("Langkah %(n)d pelaksana", n=n), took, _("Langkah %(n)d tepat waktu", n=n)]
    return heads


def _current_steps(row: dict) -> str:
    """Where the activity is: the newest version's step numbers, then steps that version removed."""
    return ", ".join([str(n) for n in row["current_steps"]] +
                     [old_step(n) for n in row["removed_steps"]])


def _rows(data: dict, when):
    """The activity rows as lists of cells; `when` renders a datetime (a cell value or text)."""
    for row in data["rows"]:
        cells = [row["no"], row["id"], row["bidang"], row["bidang_name"], row["title"], row["period"],
                 _state(row["state"]), when(row["created_at"]), when(row["completed_at"]), row["created_by"] or "",
                 _current_steps(row), _yes_no(row["overdue"]),
                 row["sent_back"], _yes_no(bool(row["problems"])), when(row["archived_at"])]
        for step in data["steps"]:
            cell = row["steps"].get(step["number"])
            if cell is None:
                cells += ["", "", "", "", ""]
                continue
            cells += [when(cell["start"]), when(cell["end"]), cell["performer"] or "",
                      "" if cell["open"] and not cell["minutes"] else round(cell["minutes"]),
                      _yes_no(cell["on_time"])]
        yield cells


# Text a spreadsheet reads as a formula: a title typed as "=HYPERLINK(…)" or "+62 812…".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value):
    """A CSV cell Excel (which the BOM and the ";" are for) takes as text, not a formula: typed text
    that starts like one gets a leading apostrophe, as Excel itself marks text."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def csv_text(data: dict) -> str:
    tz = data["tz"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns(data))
    for cells in _rows(data, lambda m: m.astimezone(tz).strftime(CSV_DATE) if m else ""):
        writer.writerow([_as_text(cell) for cell in cells])
    return out.getvalue()


def _fit(cells: list) -> list:
    """Cells a worksheet can hold: a control character in typed text (Word's line break \\x0b, pasted
    into a title) made openpyxl refuse the cell, and the whole recap failed. It is a space here."""
    return [ILLEGAL_CHARACTERS_RE.sub(" ", c) if isinstance(c, str) else c for c in cells]


def xlsx(data: dict) -> bytes:
    tz = data["tz"]

    def local(moment: datetime | None):
        # Excel has no time zones: the office's wall-clock time, as the office reads it.
        return moment.astimezone(tz).replace(tzinfo=None) if moment else None

    book = Workbook()
    summary = book.active
    summary.title = _("Ringkasan")
    _summary_sheet(summary, data, local)

    sheet = book.create_sheet(_("Kegiatan"))
    heads = columns(data)
    sheet.append(heads)
    for cells in _rows(data, local):
        sheet.append(_fit(cells))
    for column, head in enumerate(heads, 1):
        sheet.cell(row=1, column=column).font = Font(bold=True)
        sheet.cell(row=1, column=column).fill = HEADER_FILL
        sheet.cell(row=1, column=column).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = 40 if column == 5 else 18
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "F2"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions

    steps = book.create_sheet(_("Langkah SOP"))
    steps.append([_("Langkah"), _("Uraian prosedur"), _("Mutu baku waktu")])
    for step in data["steps"]:
        steps.append(_fit([step["number"], step["name"], step["mutu_baku"]]))
    for column in range(1, 4):
        steps.cell(row=1, column=column).font = Font(bold=True)
        steps.cell(row=1, column=column).fill = HEADER_FILL
    steps.column_dimensions["B"].width = 90
    steps.column_dimensions["C"].width = 18

    # openpyxl stores any text starting with "=" as a formula: an activity titled "=HYPERLINK(…)" was a
    # live link in the recap. The recap writes no formula of its own, so every such cell is text.
    for worksheet in book.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SUMMARY_HEADER_ROW = 6


def summary_columns() -> list[str]:
    return [_("Kode bidang"), _("Bidang"), _("Jumlah kegiatan"), _("Selesai"), _("Berjalan"), _("Terlambat"),
            _("Langkah selesai"), _("Langkah tepat waktu"), _("Persentase tepat waktu"),
            _("Dikembalikan saat verifikasi"), _("Kendala")]


def _summary_sheet(sheet, data: dict, local) -> None:
    period = data["period"]
    sheet.append([_("Rekapitulasi Monitoring dan Evaluasi Kegiatan Layanan Bidang")])
    sheet.append(_fit([data["sop"]["name"] + (f" ({data['sop']['nomor']})" if data["sop"].get("nomor") else "")]))
    sheet.append([_("Periode"), f"{period['start']:%d/%m/%Y} – {period['end']:%d/%m/%Y}"])
    sheet.append([_("Dibuat"), local(data["generated_at"])])
    sheet.append([])
    sheet.append(summary_columns())
    for s in data["summary"]:
        values = [s["activities"], s["completed"], s["running"], s["overdue"], s["steps_done"], s["steps_on_time"],
                  s["on_time_rate"], s["sent_back"], s["problems"]]
        sheet.append(_fit([s["bidang"], s["name"], *values]))
    rows = data["summary"]
    with_due = sum(r["steps_with_due"] for r in data["rows"])
    on_time = sum(s["steps_on_time"] for s in rows)
    total = [sum(s[k] for s in rows) for k in ("activities", "completed", "running", "overdue", "steps_done")]
    sheet.append(["", _("Jumlah"), *total, on_time, (on_time / with_due) if with_due else None,
                  sum(s["sent_back"] for s in rows), sum(s["problems"] for s in rows)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["B4"].number_format = DATE_FORMAT
    for column in range(1, 12):
        head = sheet.cell(row=SUMMARY_HEADER_ROW, column=column)
        head.font, head.fill = Font(bold=True), HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = 40 if column == 2 else 16
    for row in range(SUMMARY_HEADER_ROW + 1, sheet.max_row + 1):
        sheet.cell(row=row, column=9).number_format = "0.0%"
    for column in range(1, 12):
        sheet.cell(row=sheet.max_row, column=column).font = Font(bold=True)
