"""The evaluation report (page, PDF) and the SOP-implementation monitoring form, on generated SOP work.

A dozen instances are driven through the service layer (the generator of
test_monitoring.py), then the report and the form are read back: the PDF's
text must carry the figures `engine.monitoring` computes for the same period,
the problems raised at step 12 with their analysis and solution, and the
conclusions the Sekretaris stored; the form must suggest its answers from the
same figures and keep what the assessor saved.
"""
from __future__ import annotations

import html
import io
import random
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from babel.numbers import format_percent
from sqlalchemy import delete, func, select

from engine import bootstrap, monitoring, reports, schema, services
from engine.clock import ManualClock
from engine.config import Settings
from engine.db import EvaluationReport, Instance, SopMonitoringForm
from engine.runtime import Runtime
from tests.conftest import DATABASES, fresh_database
from tests.integration.test_monitoring import YEAR_START, generate_year
from web.app import create_app
from web import reports as web_reports

pypdf = pytest.importorskip("pypdf")

UTC = timezone.utc
NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)   # Thursday 15 October 2026, 10:00 WIB
START, END = date(2026, 1, 1), date(2026, 9, 30)
PERIOD = "dari=2026-01-01&sampai=2026-09-30"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module", params=DATABASES)
def office(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"reports-{request.param}")
    url = fresh_database(request.param, tmp)
    clock = ManualClock(YEAR_START)
    rt = Runtime(Settings.from_env(database_url=url, data_dir=tmp / "data"), clock=clock)
    bootstrap.init(rt, demo=True)
    generate_year(rt, clock, random.Random(20260105), count=12)
    clock.set(NOW)
    yield rt
    rt.dispose()


@pytest.fixture(scope="module")
def client_for(office):
    app = create_app(runtime=office, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False

    def sign_in(login: str):
        client = app.test_client()
        assert client.post("/masuk", data={"login": login, "password": bootstrap.DEMO_PASSWORD}).status_code == 302
        return client
    return sign_in


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def shown(rate: float | None) -> str:
    """A rate as the papers write it: to a tenth, never rounded to 100% or 0% (web.monitoring.percent)."""
    return "—" if rate is None else format_percent(monitoring.shown_rate(rate), "#,##0.#%", locale="id")


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages))


def stored_report(rt, bidang: str = "") -> EvaluationReport | None:
    with rt.uow() as session:
        return session.scalars(select(EvaluationReport).where(
            EvaluationReport.period_start == START, EvaluationReport.period_end == END,
            EvaluationReport.bidang == bidang)).first()


# -- the report page: who may write, who may read ---------------------------------------

def test_the_report_page_stores_the_conclusions_and_guards_who_writes(office, client_for):
    rt = office
    staff = client_for("aptika.implementasi")
    assert staff.get(f"/monitoring/laporan?{PERIOD}").status_code == 403
    assert staff.post(f"/monitoring/laporan?{PERIOD}", data={"kesimpulan": "x"}).status_code == 403
    assert staff.get(f"/monitoring/laporan.pdf?{PERIOD}").status_code == 403
    assert stored_report(rt) is None

    sekretaris = client_for("sekretaris")
    page = sekretaris.get(f"/monitoring/laporan?{PERIOD}")
    assert page.status_code == 200
    assert 'id="report-form"' in page.get_data(as_text=True)

    empty = sekretaris.post(f"/monitoring/laporan?{PERIOD}", data={"kesimpulan": "  ", "rekomendasi": "r"})
    assert empty.status_code == 422 and stored_report(rt) is None

    saved = sekretaris.post(f"/monitoring/laporan?{PERIOD}", data={
        "kesimpulan": "Pelaksanaan kegiatan umumnya tepat waktu.\nVerifikasi perlu dipercepat.",
        "rekomendasi": "Rapat koordinasi bulanan antar-Bidang.", "revision": ""})
    assert saved.status_code == 302
    row = stored_report(rt)
    assert row.conclusions == "Pelaksanaan kegiatan umumnya tepat waktu.\nVerifikasi perlu dipercepat."
    assert row.recommendations == "Rapat koordinasi bulanan antar-Bidang."
    assert (row.written_by, row.written_at, row.updated_by, row.revision) == ("sekretaris", NOW, None, 1)
    assert row.definition_key == "monev_kegiatan_bidang"
    again = sekretaris.get(f"/monitoring/laporan?{PERIOD}").get_data(as_text=True)
    assert "Verifikasi perlu dipercepat." in again and "Sekretaris Dinas" in again

    # A stale form does not overwrite what someone else saved meanwhile.
    stale = sekretaris.post(f"/monitoring/laporan?{PERIOD}", data={"kesimpulan": "lama", "revision": "7"})
    assert stale.status_code == 409 and stored_report(rt).conclusions.startswith("Pelaksanaan")

    kadis = client_for("kadis")
    assert kadis.post(f"/monitoring/laporan?{PERIOD}", data={
        "kesimpulan": "Disetujui dengan catatan.", "rekomendasi": "", "revision": "1"}).status_code == 302
    row = stored_report(rt)
    assert (row.conclusions, row.written_by, row.updated_by, row.revision) == (
        "Disetujui dengan catatan.", "sekretaris", "kadis", 2)

    # Other viewers of the figures read, and do not write.
    owner = client_for("pemilik.proses").get(f"/monitoring/laporan?{PERIOD}").get_data(as_text=True)
    assert "Disetujui dengan catatan." in owner and 'id="report-form"' not in owner
    assert client_for("pemilik.proses").post(f"/monitoring/laporan?{PERIOD}",
                                             data={"kesimpulan": "x"}).status_code == 403


def test_a_kepala_reads_their_own_bidangs_report_only(office, client_for):
    rt = office
    reports.save_report(rt, "sekretaris", START, END, "aptika", None, "Aptika: layanan email stabil.", "")
    reports.save_report(rt, "sekretaris", START, END, "ikp", None, "IKP: siaran pers terlambat.", "")
    assert stored_report(rt, "aptika").conclusions == "Aptika: layanan email stabil."

    kepala = client_for("kepala.aptika")
    own = kepala.get(f"/monitoring/laporan?{PERIOD}&bidang=aptika")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "Aptika: layanan email stabil." in html and 'id="report-form"' not in html
    assert "IKP: siaran pers" not in html
    # Without a Bidang, a kepala sees their own.
    assert "Aptika: layanan email stabil." in kepala.get(f"/monitoring/laporan?{PERIOD}").get_data(as_text=True)
    assert kepala.get(f"/monitoring/laporan?{PERIOD}&bidang=ikp").status_code == 403
    assert kepala.get(f"/monitoring/laporan.pdf?{PERIOD}&bidang=ikp").status_code == 403
    assert kepala.post(f"/monitoring/laporan?{PERIOD}&bidang=aptika",
                       data={"kesimpulan": "ditimpa"}).status_code == 403
    assert stored_report(rt, "aptika").conclusions == "Aptika: layanan email stabil."
    pdf = kepala.get(f"/monitoring/laporan.pdf?{PERIOD}&bidang=aptika")
    assert pdf.status_code == 200 and "Aptika: layanan email stabil." in pdf_text(pdf.data)


# -- the PDF -----------------------------------------------------------------------------

def test_the_report_pdf_carries_the_figures_problems_and_conclusions(office, client_for, monkeypatch):
    rt = office
    period = "dari=2026-02-01&sampai=2026-08-31"
    start, end = date(2026, 2, 1), date(2026, 8, 31)
    reports.save_report(rt, "kadis", start, end, None, None,
                        "Kesimpulan: ketepatan waktu langkah 11 harus ditingkatkan.",
                        "Rekomendasi: pendampingan Tim Teknis.")
    figures = monitoring.figures(rt, "sekretaris", start, end)
    assert figures["problems"] and any(s["on_time_rate"] for s in figures["steps"])

    pages = []
    real = web_reports.render_pdf
    monkeypatch.setattr(web_reports, "render_pdf", lambda html: pages.append(html) or real(html))
    response = client_for("sekretaris").get(f"/monitoring/laporan.pdf?{period}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename=laporan-evaluasi-monev_kegiatan_bidang-2026-02-01_2026-08-31.pdf' in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (width, height) == pytest.approx((595.28, 841.89), abs=0.5)  # A4 portrait
    text = pdf_text(response.data)

    for expected in ("LAPORAN HASIL EVALUASI", "Nomor SOP 000.8.3.3/327", "Periode 1 Februari 2026 – 31 Agustus 2026",
                     "Kesimpulan: ketepatan waktu langkah 11 harus ditingkatkan.",
                     "Rekomendasi: pendampingan Tim Teknis.", "Ditulis oleh Kepala Dinas"):
        assert expected in text, expected
    # Every step's row: number, name, completions, on time, and the on-time rate monitoring computed.
    for s in figures["steps"]:
        rate = shown(s["on_time_rate"])
        row = f"{s['step']} {flat(s['name'])} {s['done']} {s['on_time']} {rate}"
        assert row in text, row
    for b in figures["bidang_on_time"]:
        rate = shown(b["on_time_rate"])
        assert f"{b['name']} {b['done']} {b['on_time']} {rate}" in text
    # The problems (step 12) with their analysis and solution (step 13).
    for p in figures["problems"]:
        assert f"{p['uraian_kendala']} {p['analisa_permasalahan'] or 'belum dianalisa'} {p['solusi'] or '—'}" in text
    for v in figures["verification"]:
        assert f"{v['name']} {v['decisions']} {v['verified']} {v['sent_back']}" in text

    # The charts are inline SVG, one bar per step with a rate; the paper loads and runs nothing.
    [html] = pages
    assert "<script" not in html and "<link" not in html and "src=" not in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 3
    ns = {"s": "http://www.w3.org/2000/svg"}
    step_chart = ET.fromstring(svgs[0])
    bars = [r for r in step_chart.iterfind(".//s:rect", ns) if r.get("fill") == "#0b5cad"]
    assert len(bars) == sum(s["on_time_rate"] is not None for s in figures["steps"])
    heights = [float(r.get("height")) for r in bars]
    rates = [s["on_time_rate"] for s in figures["steps"] if s["on_time_rate"] is not None]
    assert heights.index(max(heights)) == rates.index(max(rates))
    trend = ET.fromstring(svgs[2])
    assert len(trend.findall(".//s:circle", ns)) == sum(m["on_time_rate"] is not None for m in figures["trend"])

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "laporan_evaluasi.pdf").write_bytes(response.data)


def test_the_report_pdf_is_indonesian_and_leaves_room_for_conclusions_not_yet_written(office, client_for):
    kepala = client_for("kepala.ikp")
    kepala.post("/bahasa", data={"language": "en"})
    try:
        assert "Evaluation Report" in kepala.get(f"/monitoring/laporan?{PERIOD}").get_data(as_text=True)
        response = kepala.get("/monitoring/laporan.pdf?dari=2026-03-01&sampai=2026-03-31")
    finally:
        kepala.post("/bahasa", data={"language": "id"})
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "H. Kesimpulan dan rekomendasi" in text and "Ditulis oleh" not in text
    assert "Bidang Bidang Informasi dan Komunikasi Publik" in text and "Periode 1 Maret 2026 – 31 Maret 2026" in text
    assert "Conclusions" not in text


# -- the SOP-implementation monitoring form -----------------------------------------------

def _plain_on_time(rt, start: date, end: date, step: int) -> tuple[int, int]:
    """(on time, with a due time) of a step's completions, from services.show alone."""
    tz = rt.calendar.tz
    on_time = with_due = 0
    with rt.uow() as session:
        ids = list(session.scalars(select(Instance.id)))
    for instance_id in ids:
        info = services.show(rt, instance_id)
        if not start <= datetime.fromisoformat(info["created_at"]).astimezone(tz).date() <= end:
            continue
        for s in info["steps"]:
            if s["step"] == step and s["state"] == "completed" and s["due_at"]:
                with_due += 1
                on_time += datetime.fromisoformat(s["completed_at"]) <= datetime.fromisoformat(s["due_at"])
    return on_time, with_due


def test_the_sop_form_is_prefilled_from_the_figures(office):
    rt = office
    form = reports.sop_form(rt, "sekretaris", START, END)
    figures = monitoring.figures(rt, "sekretaris", START, END)
    by_step = {s["step"]: s for s in figures["steps"]}
    sent_back = sum(v["sent_back"] for v in figures["verification"])
    assert not form["saved"] and form["may_write"]
    assert [r["step"] for r in form["rows"]] == list(range(1, 16))
    assert sent_back and figures["problems"]

    for row in form["rows"]:
        s = by_step[row["step"]]
        attributed = (sent_back if row["step"] == 5 else 0) + (len(figures["problems"]) if row["step"] == 12 else 0)
        if s["on_time_rate"] is None and not attributed:
            expected = None
        else:
            expected = "ya" if (s["on_time_rate"] or 0) >= 0.8 and not attributed else "tidak"
        assert row["suggested"] == expected, row["step"]
        assert row["berjalan_baik"] == (expected or "")
        assert row["penilai"] == "Sekretaris Dinas" and row["tindakan"] == ""
    notes = suggested_notes(rt, form["rows"])
    for row in form["rows"]:
        s = by_step[row["step"]]
        if s["with_due"]:
            quoted = f"tepat waktu {s['on_time']} dari {s['with_due']} ({shown(s['on_time_rate'])})"
            assert quoted in notes[row["step"]], notes[row["step"]]
    assert {r["suggested"] for r in form["rows"]} >= {"ya", "tidak"}
    assert f"dikembalikan {sent_back} dari" in notes[5]
    assert f"{len(figures['problems'])} kendala dilaporkan" in notes[12]
    assert form["rows"][4]["suggested"] == form["rows"][11]["suggested"] == "tidak"
    # The rate the notes quote is the plain count of on-time completions.
    on_time, with_due = _plain_on_time(rt, START, END, 3)
    assert (by_step[3]["on_time"], by_step[3]["with_due"]) == (on_time, with_due)
    assert f"tepat waktu {on_time} dari {with_due}" in notes[3]


def suggested_notes(rt, rows: list[dict]) -> dict[int, str]:
    """The notes an Indonesian page suggests for the form's rows, by step number."""
    with create_app(runtime=rt, testing=True).test_request_context():
        return {row["step"]: web_reports.suggested_note(row) for row in rows}


def test_the_sop_forms_suggested_notes_are_in_the_pages_language(office, client_for):
    """On an English page the SOP form suggested its notes in Indonesian ("Selesai 12 kali; tepat waktu 10
    dari 12 (83,3%); median waktu kerja ..."). They are worded in the page's language; what is saved stays
    in the language it was written in, and the printed form (Indonesian) suggests them in Indonesian."""
    url = f"/monitoring/formulir-sop?{PERIOD}&bidang=aptika"
    kadis = client_for("kadis")
    assert kadis.post("/bahasa", data={"language": "en"}, headers={"Referer": url}).status_code == 302
    notes = dict(re.findall(r'<textarea name="catatan-(\d+)"[^>]*>([^<]*)</textarea>',
                            html.unescape(kadis.get(url).get_data(as_text=True))))
    assert len(notes) == 15
    indonesian = re.compile(r"\b(Selesai|tepat waktu|median waktu|standar|kegiatan sedang|Belum ada|dikembalikan|"
                            r"kendala|Menit|Hari|jam|menit)\b")
    assert [n for n in notes.values() if indonesian.search(n)] == []
    assert re.search(r"Completed \d+ times; on time \d+ of \d+ \(\d+(\.\d)?%\); median working time", notes["1"])
    assert re.search(r"\d+ of \d+ verification decisions sent back", notes["5"])
    form = reports.sop_form(office, "kadis", START, END, "aptika")
    assert kadis.post(url, data=_answers(form, **{f"catatan-{n}": note for n, note in notes.items()})).status_code == 302
    kadis.post("/bahasa", data={"language": "id"}, headers={"Referer": url})
    saved = html.unescape(kadis.get(url).get_data(as_text=True))
    with office.uow() as session:  # the module's other tests find no form saved
        session.execute(delete(SopMonitoringForm).where(SopMonitoringForm.bidang == "aptika"))
        session.commit()
    assert f'name="catatan-1" maxlength="2000" aria-label="Catatan langkah 1">{notes["1"]}</textarea>' in saved
    printed = html.unescape(client_for("sekretaris").get(f"/monitoring/formulir-sop/cetak?{PERIOD}")
                            .get_data(as_text=True))
    assert re.search(r"<td>Selesai \d+ kali; tepat waktu \d+ dari \d+ \(\d+(,\d)?%\); median waktu kerja", printed)


def test_the_suggestion_rule_at_its_edges(office):
    from process.loader import load_file
    definition = load_file(Path(__file__).resolve().parents[2] / "definitions" / "monev_kegiatan_bidang.bpmn")

    def step(n: int, on_time: int, with_due: int) -> dict:
        return {"step": n, "element_id": definition.step(n).element_id, "done": with_due, "with_due": with_due,
                "on_time": on_time, "on_time_rate": on_time / with_due if with_due else None,
                "median_minutes": 30.0, "working_time": True, "open_now": 0, "overdue_now": 0}
    figures = {"steps": [step(1, 4, 5), step(2, 79, 100), step(3, 0, 0), step(4, 5, 5), step(5, 5, 5),
                         step(12, 3, 3)],
               "verification": [{"sent_back": 1, "decisions": 6}], "problems": [{"uraian_kendala": "x"}]}
    rows = {r["step"]: r for r in reports.suggest(figures, definition, "Penilai Uji")}
    notes = suggested_notes(office, rows.values())
    assert rows[1]["suggested"] == "ya"                 # exactly 80 %
    assert rows[2]["suggested"] == "tidak"              # 79 %
    assert rows[3]["suggested"] is None and "Belum ada" in notes[3]
    assert rows[4]["suggested"] == "ya"
    assert rows[5]["suggested"] == "tidak" and "dikembalikan 1 dari 6 keputusan verifikasi" in notes[5]
    assert rows[12]["suggested"] == "tidak" and "1 kendala dilaporkan" in notes[12]
    assert rows[6]["suggested"] is None                 # no figures at all
    assert "tepat waktu 4 dari 5 (80%)" in notes[1] and "(79%)" in notes[2]
    assert all(r["penilai"] == "Penilai Uji" for r in rows.values())


def _answers(form: dict, **changes) -> dict[str, str]:
    data = {"tanggal": "2026-10-14", "revision": str(form.get("revision") or "")}
    for row in form["rows"]:
        n = row["step"]
        data[f"berjalan_baik-{n}"] = row["suggested"] or "ya"
        data[f"catatan-{n}"] = row["catatan"]
        data[f"tindakan-{n}"] = f"Tindak lanjut langkah {n}" if (row["suggested"] or "ya") == "tidak" else ""
        data[f"penilai-{n}"] = row["penilai"]
    data.update(changes)
    return data


def test_the_assessor_completes_the_sop_form_and_prints_it(office, client_for):
    rt = office
    url = f"/monitoring/formulir-sop?{PERIOD}"
    assert client_for("aptika.implementasi").get(url).status_code == 403
    sekretaris = client_for("sekretaris")
    page = sekretaris.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Every text box is named for a screen reader (a table cell has no <label>).
    for box in re.findall(r"<(?:textarea|input type=\"text\")[^>]*>", html):
        assert "aria-label=" in box, box
    assert 'aria-label="Catatan langkah 7"' in html
    form = reports.sop_form(rt, "sekretaris", START, END)
    for row in form["rows"]:
        if row["suggested"]:
            assert re.search(rf'name="berjalan_baik-{row["step"]}" value="{row["suggested"]}" checked', html)

    answers = _answers(form)
    missing = dict(answers)
    del missing["berjalan_baik-7"]
    response = sekretaris.post(url, data=missing)
    assert response.status_code == 422 and "pilih Ya atau Tidak" in response.get_data(as_text=True)
    no_action = _answers(form, **{"berjalan_baik-1": "tidak", "tindakan-1": ""})
    assert sekretaris.post(url, data=no_action).status_code == 422
    year_one = sekretaris.post(url, data={**_answers(form), "tanggal": "0001-10-14"})  # a mistyped year
    assert year_one.status_code == 422 and "tahun antara 1900 dan 2999" in year_one.get_data(as_text=True)
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(SopMonitoringForm)) == 0

    answers.update({"berjalan_baik-4": "tidak", "tindakan-4": "Tambah verifikator cadangan.",
                    "catatan-4": "Verifikasi menumpuk di akhir bulan.", "penilai-4": "Tim Teknis Sekretariat"})
    assert sekretaris.post(url, data=answers).status_code == 302
    saved = reports.sop_form(rt, "kadis", START, END)
    assert saved["saved"] and saved["assessor"] == "sekretaris" and saved["assessor_name"] == "Sekretaris Dinas"
    assert saved["assessed_on"] == date(2026, 10, 14) and saved["revision"] == 1
    assert saved["may_write"]  # the Kepala Dinas may assess too
    row4 = saved["rows"][3]
    assert (row4["berjalan_baik"], row4["tindakan"], row4["catatan"], row4["penilai"]) == (
        "tidak", "Tambah verifikator cadangan.", "Verifikasi menumpuk di akhir bulan.", "Tim Teknis Sekretariat")
    assert row4["suggested"] == form["rows"][3]["suggested"]  # the suggestion is still shown beside the answer
    assert [r["berjalan_baik"] for r in saved["rows"]] == [answers[f"berjalan_baik-{n}"] for n in range(1, 16)]

    # A save from a page loaded before someone else saved is refused; from the current revision it goes through.
    assert sekretaris.post(url, data=_answers(form, revision="")).status_code == 409
    assert client_for("kadis").post(url, data=_answers(form, revision="1")).status_code == 302
    assert sekretaris.post(url, data=answers).status_code == 409
    assert reports.sop_form(rt, "kadis", START, END)["assessor"] == "kadis"
    assert sekretaris.post(url, data={**answers, "revision": "2"}).status_code == 302

    printed = sekretaris.get(f"/monitoring/formulir-sop/cetak?{PERIOD}")
    assert printed.status_code == 200
    text = flat(re.sub(r"<[^>]+>", " ", printed.get_data(as_text=True)))
    for expected in ("FORMULIR MONITORING PELAKSANAAN SOP", "Nomor SOP 000.8.3.3/327", "Nama Penilai Sekretaris Dinas",
                     "Tanggal Penilaian 14 Oktober 2026", "Periode 1 Januari 2026 – 30 September 2026"):
        assert expected in text, expected

    pdf = sekretaris.get(f"/monitoring/formulir-sop.pdf?{PERIOD}")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Disposition"] == \
        'attachment; filename=formulir-monitoring-sop-monev_kegiatan_bidang-2026-01-01_2026-09-30.pdf'
    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert width > height  # A4 landscape
    text = pdf_text(pdf.data)
    for expected in ("FORMULIR MONITORING PELAKSANAAN SOP", "Nomor SOP 000.8.3.3/327", "Nama Penilai Sekretaris Dinas",
                     "Tanggal Penilaian 14 Oktober 2026", "Tindakan yang harus diambil",
                     "1 Merencanakan kegiatan dan layanan Bidang"):
        assert expected in text, expected


def test_a_save_that_lost_to_someone_elses_keeps_what_was_typed(office, client_for):
    """Two people write the same period's report and form: the later save is refused (409), and its page
    comes back with what they typed, what was saved meanwhile, and the current revision, so one more
    press replaces it knowingly; nothing typed is lost."""
    rt = office
    period = "dari=2026-01-01&sampai=2026-06-30"   # a period of its own: other tests write Jan-Sep
    sekretaris, kadis = client_for("sekretaris"), client_for("kadis")

    def conclusions() -> str:
        with rt.uow() as session:
            return session.scalars(select(EvaluationReport.conclusions).where(
                EvaluationReport.period_end == date(2026, 6, 30))).one()

    url = f"/monitoring/laporan?{period}"
    assert sekretaris.post(url, data={"kesimpulan": "Versi Sekretaris.", "rekomendasi": "",
                                      "revision": ""}).status_code == 302
    typed = {"kesimpulan": "Catatan panjang Kepala Dinas.", "rekomendasi": "Rekomendasi Kadis.", "revision": ""}
    stale = kadis.post(url, data=typed)
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'id="report-form"' in html and 'id="changed-meanwhile"' in html
    assert ">Catatan panjang Kepala Dinas.</textarea>" in html and ">Rekomendasi Kadis.</textarea>" in html
    assert "Versi Sekretaris." in html[html.index('id="saved-meanwhile"'):]
    assert 'name="revision" value="1"' in html
    assert conclusions() == "Versi Sekretaris."
    assert kadis.post(url, data={**typed, "revision": "1"}).status_code == 302
    assert conclusions() == "Catatan panjang Kepala Dinas."

    url = f"/monitoring/formulir-sop?{period}"
    form = reports.sop_form(rt, "sekretaris", date(2026, 1, 1), date(2026, 6, 30))
    assert sekretaris.post(url, data=_answers(form)).status_code == 302
    typed = _answers(form, **{"berjalan_baik-4": "tidak", "tindakan-4": "Tambah verifikator cadangan."})
    stale = kadis.post(url, data=typed)
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'id="sop-form"' in html and 'id="changed-meanwhile"' in html
    assert "Tambah verifikator cadangan." in html
    assert re.search(r'name="berjalan_baik-4" value="tidak"[^>]*checked', html)
    assert 'name="revision" value="1"' in html
    assert kadis.post(url, data={**typed, "revision": "1"}).status_code == 302
    assert reports.sop_form(rt, "kadis", date(2026, 1, 1), date(2026, 6, 30))["rows"][3]["tindakan"] == \
        "Tambah verifikator cadangan."


def test_a_kepala_assesses_only_their_own_bidang(office, client_for):
    rt = office
    kepala = client_for("kepala.ikp")
    form = reports.sop_form(rt, "kepala.ikp", START, END)
    assert form["scope"]["bidang"] == "ikp" and form["may_write"]
    assert kepala.post(f"/monitoring/formulir-sop?{PERIOD}&bidang=ikp", data=_answers(form)).status_code == 302
    assert reports.sop_form(rt, "kadis", START, END, "ikp")["assessor"] == "kepala.ikp"
    assert kepala.post(f"/monitoring/formulir-sop?{PERIOD}&bidang=aptika", data=_answers(form)).status_code == 403
    assert kepala.get(f"/monitoring/formulir-sop?{PERIOD}&bidang=aptika").status_code == 403
    # The whole office is not a kepala's to assess.
    assert not reports.sop_form(rt, "pemilik.proses", START, END)["may_write"]
    assert client_for("pemilik.proses").post(f"/monitoring/formulir-sop?{PERIOD}",
                                             data=_answers(form)).status_code == 403


def test_the_dashboard_links_to_the_report_and_the_form(office, client_for):
    html = client_for("kadis").get(f"/monitoring?{PERIOD}").get_data(as_text=True)
    assert f'href="/monitoring/laporan?{PERIOD}"' in html.replace("&amp;", "&")
    assert f'href="/monitoring/formulir-sop?{PERIOD}"' in html.replace("&amp;", "&")


# -- the schema ----------------------------------------------------------------------------

def test_migration_0005_goes_down_and_up(tmp_path):
    from alembic import command
    url = f"sqlite:///{tmp_path / 'm.db'}"
    rt = Runtime(Settings.from_env(database_url=url, data_dir=tmp_path / "data"))
    mine = {"evaluation_report", "sop_monitoring_form", "cycle_run"}

    def tables() -> set[str]:
        with rt.engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    try:
        schema.upgrade(rt.engine)
        assert mine <= tables()
        command.downgrade(schema.alembic_config(url), "0004")
        assert not mine & tables() and "instance" in tables()
        schema.upgrade(rt.engine)
        assert mine <= tables()
        with rt.engine.connect() as conn:
            unique = [r for r in conn.exec_driver_sql("PRAGMA index_list(cycle_run)") if r[2]]
            assert unique, "cycle_run needs its unique key"
    finally:
        rt.dispose()
