"""The SOP document pages through the web app: the HTML page, the PDF, and the header editor.

The PDF is read back with pypdf (text, page size, page count) and its first
page is rendered to test-artifacts/ with pypdfium2 for a person to look at.
"""
from __future__ import annotations

import html
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from engine import bootstrap, definitions, services
from engine.db import Instance
from process import sop_document
from web.app import create_app

KEY = "monev_kegiatan_bidang"
PASSWORD = bootstrap.DEMO_PASSWORD
ARTIFACTS = Path(os.environ.get("ALUR_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
A4_LANDSCAPE = (841.89, 595.28)     # points
# Page 1 is the header sheet; the 15 step rows fill pages 2 and 3.
EXPECTED_PAGES = 3


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


def csrf_token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def signed_in(app, login: str):
    client = app.test_client()
    token = csrf_token(client.get("/masuk").data)
    response = client.post("/masuk", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.data
    return client


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def seed(rt):
    return sop_document.build(definitions.get_version(rt, KEY, 1).definition, rt.calendar.rule())


# -- the HTML page -------------------------------------------------------------------------

def test_any_signed_in_user_reads_the_sop_page_with_its_header_and_15_rows(app, seed):
    client = signed_in(app, "aptika.implementasi")
    response = client.get(f"/sop/{KEY}/v1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(response)
    h = seed.header
    for expected in ("PEMERINTAH KOTA SALATIGA", "000.8.3.3/327", "21 Mei 2025", "22 Mei 2025",
                     h.disahkan_oleh.jabatan, h.disahkan_oleh.nama, h.disahkan_oleh.pangkat,
                     "NIP. 196707151993091001", h.nama, *h.dasar_hukum, *h.kualifikasi_pelaksana, *h.keterkaitan,
                     *h.peralatan_perlengkapan, *h.peringatan, *h.pencatatan_pendataan,
                     "Uraian Prosedur", "Pelaksana", "Mutu Baku", "Kelengkapan", "Waktu", "Output", "Keterangan",
                     "Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"):
        assert expected in text, expected
    rows = re.findall(r'<tr class="step( decision)?( page-start)?" id="langkah-(\d+)"', page)
    assert [int(n) for _, _, n in rows] == list(range(1, 16))
    assert [int(n) for d, _, n in rows if d] == [5, 12]
    assert [int(n) for _, start, n in rows if start] == [11]     # the table's second page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="sop-cell"') == 15 * 4
    for row in seed.rows:
        assert flat(row.uraian) in text and row.waktu in text
    # Staff get no link to the editor; the page links the PDF.
    assert f"/sop/{KEY}/v1.pdf" in page and f"/sop/{KEY}/kop" not in page


def test_the_sop_pages_need_a_signed_in_user_and_an_existing_version(app):
    anonymous = app.test_client()
    for path in (f"/sop/{KEY}/v1", f"/sop/{KEY}/v1.pdf", f"/sop/{KEY}/kop"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/masuk" in response.headers["Location"], path
    client = signed_in(app, "aptika.implementasi")
    assert client.get(f"/sop/{KEY}/v9").status_code == 404
    assert client.get("/sop/tidak_ada/v1.pdf").status_code == 404
    latest = client.get(f"/sop/{KEY}")
    assert latest.status_code == 302 and latest.headers["Location"].endswith(f"/sop/{KEY}/v1")


def test_an_english_reader_gets_english_labels_around_the_indonesian_text(app):
    client = signed_in(app, "aptika.implementasi")
    token = csrf_token(client.get(f"/sop/{KEY}/v1").data)
    client.post("/bahasa", data={"language": "en", "csrf_token": token})
    text = text_of(client.get(f"/sop/{KEY}/v1"))
    assert "Procedure description" in text and "Download PDF" in text
    assert "Merencanakan kegiatan dan layanan Bidang" in text and "21 May 2025" in text


def languages_of(page: str) -> dict[str, str]:
    """Each text of a page with the language its nearest `lang` attribute gives it (the first time seen)."""
    from html.parser import HTMLParser
    void = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.open: list[tuple[str, str]] = []
            self.found: dict[str, str] = {}

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                self.open.append((tag, dict(attrs).get("lang") or (self.open[-1][1] if self.open else "")))

        def handle_endtag(self, tag):
            while self.open and self.open.pop()[0] != tag:
                pass

        def handle_data(self, data):
            if flat(data) and self.open:
                self.found.setdefault(flat(data), self.open[-1][1])

    reader = Reader()
    reader.feed(page)
    return reader.found


def test_on_an_english_page_the_sheets_labels_are_english_and_the_sops_text_indonesian(app):
    """A screen reader reads each text in its language: the labels and dates in the reader's, the SOP's
    own text (steps, lanes, Kelengkapan, the header's lists) in Indonesian."""
    client = signed_in(app, "aptika.implementasi")
    client.post("/bahasa", data={"language": "en", "csrf_token": csrf_token(client.get(f"/sop/{KEY}/v1").data)})
    found = languages_of(client.get(f"/sop/{KEY}/v1").get_data(as_text=True))
    for english in ("SOP number", "Date of issue", "21 May 2025", "Approved by", "Legal basis:", "Warnings:",
                    "Procedure description", "Performer", "Standards", "Requirements", "Time", "Notes"):
        assert found[english] == "en", english
    assert next(lang for text, lang in found.items() if text.startswith("Time: “Hari”")) == "en"
    for indonesian in ("Merencanakan kegiatan dan layanan Bidang berpedoman pada petunjuk pelaksanaan dan petunjuk "
                       "teknis", "Tim Teknis", "Dokumen kegiatan atau layanan", "30 Hari", "Pembina Utama Muda",
                       "Undang-undang Nomor 25 Tahun 2009 tentang Pelayanan Publik"):
        assert found[indonesian] == "id", indonesian


# -- the PDF -------------------------------------------------------------------------------

def test_the_pdf_is_the_a4_landscape_sop_with_the_header_row_on_every_table_page(app, seed):
    pypdf = pytest.importorskip("pypdf")
    client = signed_in(app, "aptika.implementasi")
    response = client.get(f"/sop/{KEY}/v1.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=SOP-{KEY}-v1.pdf"
    data = response.data
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == EXPECTED_PAGES
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width, height) == pytest.approx(A4_LANDSCAPE, abs=0.5)
        assert not page.rotation
    pages = [flat(p.extract_text()) for p in reader.pages]
    everything = " ".join(pages)

    h = seed.header
    assert "Nomor SOP 000.8.3.3/327" in pages[0]
    for expected in ("PEMERINTAH KOTA SALATIGA", "DINAS KOMUNIKASI DAN INFORMATIKA", "Tanggal Efektif 22 Mei 2025",
                     "NIP. 196707151993091001", h.nama, *h.dasar_hukum, *h.peringatan):
        assert flat(expected) in pages[0], expected
    assert "Uraian Prosedur" not in pages[0]
    assert "Pengumpulan dan Input Data:" in pages[0] and "Pencatatan dan Pendataan" not in pages[0]

    # Every step's Uraian Prosedur and Waktu, in SOP order.
    position = 0
    for row in seed.rows:
        found = everything.find(f"{row.number} {flat(row.uraian)}", position)
        assert found >= 0, row.number
        assert everything.find(row.waktu, found) >= 0
        position = found
    # The table's header row is repeated on each of its pages.
    for page in pages[1:]:
        for label in ("No Uraian Prosedur", "Pelaksana", "Mutu Baku", "Keterangan",
                      "Tim Administrasi Tim Teknis Tim Implementasi Sekretaris Kelengkapan Waktu Output",
                      "1 2 3 4 5 6 7 8 9 10"):
            assert label in page, label
    assert pages[1].find("1 Merencanakan") >= 0 and pages[-1].find("15 Menyusun laporan hasil Evaluasi") >= 0
    assert everything.count("Mulai") == 1 and everything.count("Selesai") == 1
    assert everything.count("Tidak") == 2 and everything.count("Ya") == 2
    assert "Halaman 1 dari 3" in pages[0]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "sop_document.pdf").write_bytes(data)
    pdfium = pytest.importorskip("pypdfium2")
    document = pdfium.PdfDocument(data)
    try:
        for number in range(len(document)):
            page = document[number]
            image = page.render(scale=150 / 72).to_pil()
            image.save(ARTIFACTS / f"sop_document_page{number + 1}.png")
            page.close()
    finally:
        document.close()
    assert (ARTIFACTS / "sop_document_page1.png").stat().st_size > 10_000


def lane_letters(data: bytes, doc) -> list[str]:
    """Per page of a PDF of `doc`, the capital letters printed in the Pelaksana columns (where only the
    off-page connectors' letters are: Ya, Tidak, Mulai and Selesai have one capital, followed by lower case)."""
    pdfium = pytest.importorskip("pypdfium2")
    left = (10 + doc.widths.no + doc.widths.uraian) * 72 / 25.4
    right = left + doc.lanes_width * 72 / 25.4
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for number in range(len(pdf)):
            chars = pdf[number].get_textpage()
            text = chars.get_text_range(0, chars.count_chars())
            pages.append("".join(c for i, c in enumerate(text) if c.isupper() and left < chars.get_charbox(i)[0] < right
                                 and not text[i + 1:i + 2].islower()))
        return pages
    finally:
        pdf.close()


def test_a_flow_over_a_page_break_ends_and_resumes_at_off_page_connectors_in_the_pdf(app, seed):
    """Where the table goes on over the next page, the flow crossing the break ends at an off-page connector
    at the page's foot ("A") and resumes at its twin at the next page's top; the PDF breaks where the
    document planned it."""
    pypdf = pytest.importorskip("pypdf")
    data = signed_in(app, "aptika.implementasi").get(f"/sop/{KEY}/v1.pdf").data
    pages = [flat(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    for row in seed.rows:
        assert f"{row.number} {flat(row.uraian)}" in pages[row.page], row.number
    assert [m.label for m in seed.off_page] == ["A"]
    assert lane_letters(data, seed)[1:] == ["A", "A"]      # page 1 is the header sheet

def test_the_pdf_of_a_replaced_version_says_so_with_each_versions_date(app, rt, clock):
    """A PDF names its version and the day it was deployed; one of a version a newer one replaced (an
    activity's page links the version it runs on) says which replaced it, so the paper is not taken for
    the valid SOP."""
    pypdf = pytest.importorskip("pypdf")
    header = dict(definitions.get_version(rt, KEY).definition.header, tanggal_revisi="2026-03-09")
    clock.advance(days=7)
    definitions.update_header(rt, KEY, header, "pemilik.proses")
    client = signed_in(app, "aptika.implementasi")

    def footer(version: int) -> str:
        reader = pypdf.PdfReader(io.BytesIO(client.get(f"/sop/{KEY}/v{version}.pdf").data))
        return flat(reader.pages[-1].extract_text())

    old, new = footer(1), footer(2)
    assert "SOP 000.8.3.3/327 · versi 1, 2 Maret 2026 · diganti versi 2" in old
    assert "SOP 000.8.3.3/327 · versi 2, 9 Maret 2026" in new and "diganti" not in new


def test_the_pdf_footer_names_the_sop_by_its_number_and_by_its_key_without_one(app, rt):
    """The paper names the SOP as the office does, by its Nomor SOP, not by Alur's internal key; an SOP
    without a number yet is named by its key. The number is typed text: it prints as typed."""
    pypdf = pytest.importorskip("pypdf")
    client = signed_in(app, "aptika.implementasi")

    def footer(version: int) -> str:
        reader = pypdf.PdfReader(io.BytesIO(client.get(f"/sop/{KEY}/v{version}.pdf").data))
        return flat(reader.pages[-1].extract_text())

    assert "SOP 000.8.3.3/327 · versi 1," in footer(1) and KEY not in footer(1)
    header = dict(definitions.get_version(rt, KEY).definition.header)
    definitions.update_header(rt, KEY, dict(header, nomor='100/"A" & <B>'), "pemilik.proses")
    assert 'SOP 100/"A" & <B> · versi 2,' in footer(2)
    definitions.update_header(rt, KEY, {k: v for k, v in header.items() if k != "nomor"}, "pemilik.proses")
    assert f"{KEY} · versi 3," in footer(3)


def test_a_header_sheet_over_a_page_keeps_each_headings_with_its_list(app, rt):
    """A long Dasar Hukum pushes the header sheet onto a second page: a heading row ("Keterkaitan: …")
    is never left at the foot of a page with its list on the next."""
    pypdf = pytest.importorskip("pypdf")
    header = definitions.get_version(rt, KEY).definition.header
    definitions.update_header(rt, KEY, dict(header, dasar_hukum=list(header["dasar_hukum"]) * 3), "pemilik.proses")
    data = signed_in(app, "aptika.implementasi").get(f"/sop/{KEY}/v2.pdf").data
    pages = [flat(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    for heading, first_item in (("Dasar Hukum:", "Undang-undang Nomor 11 Tahun 2008"),
                                ("Keterkaitan:", "SOP Alur Layanan Sistem Informasi"),
                                ("Peringatan:", "Meningkatnya risiko tumpang tindih")):
        page = next(p for p in pages if heading in p)
        assert first_item in page, heading


def test_a_long_address_in_a_cell_wraps_inside_its_column(app, rt):
    """A Kelengkapan naming a spreadsheet's address (no space in 80 characters) wraps inside its column
    in the PDF instead of running over the Waktu beside it."""
    pdfium = pytest.importorskip("pypdfium2")
    from process.loader import load
    address = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit"
    old = definitions.get_version(rt, KEY).definition
    yaml_text = old.yaml_text.replace("  8:\n    kelengkapan: Platform Google Workspace\n",
                                      f"  8:\n    kelengkapan: Platform Google Workspace {address}\n")
    services.deploy(rt, load(old.bpmn_xml, yaml_text, bpmn_name="v2.bpmn", yaml_name="v2.yaml"), "pemilik.proses")
    doc = sop_document.build(definitions.get_version(rt, KEY, 2).definition, rt.calendar.rule())
    w = doc.widths
    right_edge_pt = (10 + w.no + w.uraian + doc.lanes_width + w.kelengkapan) * 72 / 25.4
    pdf = pdfium.PdfDocument(signed_in(app, "aptika.implementasi").get(f"/sop/{KEY}/v2.pdf").data)
    try:
        for number in range(len(pdf)):
            chars = pdf[number].get_textpage()
            text = chars.get_text_range(0, chars.count_chars())
            if "1AbCdEf" in text:
                start = text.index("1AbCdEf")
                rights = [chars.get_charbox(i)[2] for i in range(start, start + len("1AbCdEfGhIjKlMnOpQrStUvWxYz"))]
                assert max(rights) <= right_edge_pt, (max(rights), right_edge_pt)
                break
        else:
            pytest.fail("the address is not in the PDF")
    finally:
        pdf.close()


def test_the_pdf_is_indonesian_whatever_the_readers_language(app):
    pypdf = pytest.importorskip("pypdf")
    client = signed_in(app, "aptika.implementasi")
    client.post("/bahasa", data={"language": "en", "csrf_token": csrf_token(client.get(f"/sop/{KEY}/v1").data)})
    response = client.get(f"/sop/{KEY}/v1.pdf")
    text = flat(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages))
    assert "Uraian Prosedur" in text and "21 Mei 2025" in text and "Procedure" not in text


def test_the_installations_logo_heads_the_sop_page_pdf_and_the_monitoring_form(rt, tmp_path):
    """ALUR_LOGO_FILE (here a small PNG) is embedded in the prints; without it there is no image."""
    pypdf = pytest.importorskip("pypdf")
    from PIL import Image
    logo = tmp_path / "lambang-salatiga.png"
    Image.new("RGB", (60, 72), (180, 20, 20)).save(logo, "PNG")

    def pdf_images(app) -> int:
        reader = pypdf.PdfReader(io.BytesIO(signed_in(app, "aptika.implementasi").get(f"/sop/{KEY}/v1.pdf").data))
        return len(reader.pages[0].images)

    plain = create_app(runtime=rt, testing=True)
    assert 'class="logo"' not in signed_in(plain, "aptika.implementasi").get(f"/sop/{KEY}/v1").get_data(as_text=True)
    assert pdf_images(plain) == 0

    rt.settings = replace(rt.settings, logo_file=logo)
    app = create_app(runtime=rt, testing=True)
    page = signed_in(app, "aptika.implementasi").get(f"/sop/{KEY}/v1").get_data(as_text=True)
    assert '<img class="logo" src="data:image/png;base64,' in page
    assert pdf_images(app) == 1
    sekretaris, period = signed_in(app, "sekretaris"), "dari=2026-01-01&sampai=2026-09-30"
    form = sekretaris.get(f"/monitoring/formulir-sop/cetak?{period}")
    assert form.status_code == 200 and '<img class="logo" src="data:image/png;base64,' in form.get_data(as_text=True)
    for url in (f"/monitoring/formulir-sop.pdf?{period}", f"/monitoring/laporan.pdf?{period}"):
        printed = sekretaris.get(url)
        assert printed.status_code == 200, url
        assert len(pypdf.PdfReader(io.BytesIO(printed.data)).pages[0].images) == 1, url


def test_a_pdf_reads_images_only_from_the_page_itself(tmp_path, monkeypatch):
    """PNG and JPEG data: URLs are drawn; a file, a web address or another data: type is never opened."""
    pypdf = pytest.importorskip("pypdf")
    from PIL import Image
    from weasyprint.urls import URLFetcher

    from web.letterhead import data_uri
    from web.sop_document import render_pdf
    png = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (0, 0, 0)).save(png, "PNG")
    page = '<html><body><img src="{}" style="width: 20mm"></body></html>'
    opened, real_fetch = [], URLFetcher.fetch

    def spy(self, url, *args, **kwargs):  # what gets past Alur's check to the real fetching
        opened.append(url)
        return real_fetch(self, url, *args, **kwargs)

    monkeypatch.setattr(URLFetcher, "fetch", spy)

    def images(src: str) -> int:
        return len(pypdf.PdfReader(io.BytesIO(render_pdf(page.format(src)))).pages[0].images)

    assert images(data_uri(png)) == 1
    assert images(png.as_uri()) == 0
    assert images("http://127.0.0.1:9/x.png") == 0
    assert images("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=") == 0
    assert len(opened) == 1 and opened[0].startswith("data:image/png;")


def test_a_bidang_name_prints_as_typed_in_the_report_footer(app, rt):
    """The running footer is a CSS string: quotes, "&", "<" and a line break must neither end it nor show
    as HTML entities."""
    pypdf = pytest.importorskip("pypdf")
    from engine import accounts
    accounts.save_bidang(rt, "admin", "uji", 'Uji & "Coba" \\ </style>\nBaris dua')
    pdf = signed_in(app, "sekretaris").get("/monitoring/laporan.pdf?dari=2026-01-01&sampai=2026-09-30&bidang=uji")
    assert pdf.status_code == 200
    text = flat(pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text())
    footer = text[text.index("Laporan Hasil Evaluasi · "):]
    assert footer.startswith('Laporan Hasil Evaluasi · 1 Januari 2026 – 30 September 2026 · '
                             'Uji & "Coba" \\ </style> Baris dua'), footer


def test_a_logo_file_that_cannot_be_used_stops_the_start_with_its_name(rt, tmp_path):
    from web.letterhead import LogoError
    bad = tmp_path / "logo.png"
    bad.write_text("bukan gambar")
    rt.settings = replace(rt.settings, logo_file=bad)
    with pytest.raises(LogoError, match="ALUR_LOGO_FILE: .*logo.png bukan gambar PNG atau JPEG"):
        create_app(runtime=rt, testing=True)


# -- the header editor ---------------------------------------------------------------------

def form_of(page: str) -> dict[str, str]:
    fields = {m[0]: html.unescape(m[1]) for m in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    fields.update({m[0]: html.unescape(m[1]) for m in re.findall(
        r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, flags=re.S)})
    return fields


@pytest.mark.parametrize("login", ["aptika.implementasi", "sekretaris", "kadis", "kepala.aptika"])
def test_only_the_process_owner_and_admin_may_edit_the_header(app, rt, login):
    client = signed_in(app, login)
    token = csrf_token(client.get(f"/sop/{KEY}/v1").data)
    assert client.get(f"/sop/{KEY}/kop").status_code == 403
    response = client.post(f"/sop/{KEY}/kop", data={"csrf_token": token, "nomor": "curang"})
    assert response.status_code == 403
    assert definitions.get_version(rt, KEY).version == 1


@pytest.mark.parametrize("login", ["pemilik.proses", "admin"])
def test_the_header_editor_shows_every_field(app, login):
    client = signed_in(app, login)
    response = client.get(f"/sop/{KEY}/kop")
    assert response.status_code == 200
    fields = form_of(response.get_data(as_text=True))
    assert fields["nomor"] == "000.8.3.3/327" and fields["tanggal_efektif"] == "2025-05-22"
    assert fields["disahkan_oleh.nip"] == "196707151993091001"
    assert fields["disahkan_oleh.pangkat"] == "Pembina Utama Muda"
    assert fields["dasar_hukum"].splitlines()[0] == "Undang-undang Nomor 11 Tahun 2008 tentang Informasi dan Transaksi Elektronik"
    assert len(fields["kualifikasi_pelaksana"].splitlines()) == 8
    for key in ("tanggal_pembuatan", "tanggal_revisi", "disahkan_oleh.jabatan", "disahkan_oleh.nama",
                "keterkaitan", "peralatan_perlengkapan", "peringatan", "pencatatan_pendataan", "base_version"):
        assert key in fields, key
    assert fields["judul_pencatatan"] == "Pengumpulan dan Input Data"
    assert f"/sop/{KEY}/kop" in signed_in(app, login).get(f"/sop/{KEY}/v1").get_data(as_text=True)


def test_saving_the_header_deploys_version_2_and_running_work_stays_on_version_1(app, rt):
    instance_id = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    fields.update({
        "nomor": "000.8.3.3/400", "tanggal_revisi": "2026-03-02",
        "dasar_hukum": fields["dasar_hukum"] + "\nPeraturan Wali Kota Salatiga Nomor 5 Tahun 2026 tentang Tata Naskah",
        "disahkan_oleh.nama": "Dra. SRI WAHYUNI, M.M.",
    })
    response = client.post(f"/sop/{KEY}/kop", data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sop/{KEY}/v2")

    v2 = definitions.get_version(rt, KEY)
    assert (v2.version, v2.deployed_by) == (2, "pemilik.proses")
    header = v2.definition.header
    assert header["nomor"] == "000.8.3.3/400" and header["tanggal_revisi"] == "2026-03-02"
    assert header["dasar_hukum"][-1] == "Peraturan Wali Kota Salatiga Nomor 5 Tahun 2026 tentang Tata Naskah"
    assert header["disahkan_oleh"]["nama"] == "Dra. SRI WAHYUNI, M.M."
    v1 = definitions.get_version(rt, KEY, 1)
    assert v2.definition.bpmn_xml == v1.definition.bpmn_xml
    assert v2.definition.steps == v1.definition.steps and v2.definition.counting == v1.definition.counting
    tail = v1.definition.yaml_text[v1.definition.yaml_text.index("# How standard times"):]
    assert v2.definition.yaml_text.endswith(tail)

    with rt.uow() as session:
        assert session.get(Instance, instance_id).definition.version == 1
    page2 = text_of(client.get(f"/sop/{KEY}/v2"))
    assert "000.8.3.3/400" in page2 and "2 Maret 2026" in page2 and "Tata Naskah" in page2
    page1 = text_of(client.get(f"/sop/{KEY}/v1"))
    assert "000.8.3.3/327" in page1 and "000.8.3.3/400" not in page1 and "Versi terbaru: 2" in page1

    # Saving the same header again deploys nothing.
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    assert client.post(f"/sop/{KEY}/kop", data=fields).headers["Location"].endswith(f"/sop/{KEY}/v2")
    assert definitions.get_version(rt, KEY).version == 2


def test_control_characters_sent_with_the_header_are_left_out_as_the_sop_import_leaves_them_out(app, rt):
    """A terminal escape or a bell pasted into the header was saved, read back, printed on the SOP page
    and in its PDF; the import leaves such characters out of a table's cells, and so does the form."""
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    fields.update({"nomor": "000.8.3.3/\x1b[31m400\x07", "disahkan_oleh.nama": "Dra. SRI\x9b WAHYUNI\x7f",
                   "dasar_hukum": fields["dasar_hukum"] + "\nPeraturan Wali Kota\x08 Nomor 5\x1b"})
    response = client.post(f"/sop/{KEY}/kop", data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sop/{KEY}/v2")

    header = definitions.get_version(rt, KEY).definition.header
    assert header["nomor"] == "000.8.3.3/[31m400"
    assert header["disahkan_oleh"]["nama"] == "Dra. SRI WAHYUNI"
    assert header["dasar_hukum"][-1] == "Peraturan Wali Kota Nomor 5"
    page = client.get(f"/sop/{KEY}/v2").get_data(as_text=True)
    assert "000.8.3.3/[31m400" in page and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page)


def test_a_header_list_starts_a_new_item_only_at_a_line_break(app, rt):
    """str.splitlines() also cut at a vertical tab, a form feed, \\x1c-\\x1e and U+2028/U+2029: one law
    pasted from a word processor became two items. Only \\n, \\r\\n and \\r (and NEL, which the import's
    rule makes a line break) start one; the rest is cleaned as the import cleans a table's cells."""
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    fields["dasar_hukum"] = ("Undang-undang Nomor 11\x0b Tahun 2008\r\nPeraturan Wali Kota\u2028Nomor 5\x0c"
                             "\x1c\x1d\x1e Tahun 2026\rPeraturan Daerah\u2029Nomor 1\x85Peraturan Menteri\nKeputusan")
    response = client.post(f"/sop/{KEY}/kop", data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sop/{KEY}/v2")

    laws = ["Undang-undang Nomor 11 Tahun 2008", "Peraturan Wali Kota Nomor 5 Tahun 2026", "Peraturan Daerah Nomor 1",
            "Peraturan Menteri", "Keputusan"]
    assert definitions.get_version(rt, KEY).definition.header["dasar_hukum"] == laws
    page = client.get(f"/sop/{KEY}/v2").get_data(as_text=True)
    assert "<ol>" + "".join(f"<li>{law}</li>" for law in laws) + "</ol>" in page


def test_a_table_changed_without_a_new_revision_date_is_pointed_out_until_the_header_gets_one(app, rt, clock):
    """A version that changes the SOP's table (here step 7's performer and standard time) keeps the header
    of the version before, revision date and all: printed as it is, the paper would claim the revision of
    22 Mei 2025 for a procedure it no longer shows. The page says so until the header gets a new date;
    a version changing only the header (the NIP) does not end it."""
    from tests.integration.test_definitions import deploy_v2, step7_to_administrasi
    clock.advance(days=7)
    deploy_v2(rt, step7_to_administrasi())
    owner = signed_in(app, "pemilik.proses")
    notice = "Tabel SOP ini diubah pada versi 2 (9 Maret 2026), tetapi Tanggal Revisi di kop belum diubah sejak itu"
    assert notice in text_of(owner.get(f"/sop/{KEY}/v2"))
    assert "Tanggal Revisi di kop belum diubah" not in text_of(owner.get(f"/sop/{KEY}/v1"))

    header = definitions.get_version(rt, KEY).definition.header
    signer = dict(header["disahkan_oleh"], nip="196707151993091002")
    definitions.update_header(rt, KEY, dict(header, disahkan_oleh=signer), "pemilik.proses")
    assert notice in text_of(owner.get(f"/sop/{KEY}/v3"))
    definitions.update_header(rt, KEY, dict(header, disahkan_oleh=signer, tanggal_revisi="2026-03-09"),
                              "pemilik.proses")
    assert "Tanggal Revisi di kop belum diubah" not in text_of(owner.get(f"/sop/{KEY}/v4"))
    # Changed again the day of that revision date: the date still holds.
    deploy_v2(rt, step7_to_administrasi(minutes=90), definitions.get_version(rt, KEY).definition.yaml_text)
    assert "90 Menit" in text_of(owner.get(f"/sop/{KEY}/v5"))
    assert "Tanggal Revisi di kop belum diubah" not in text_of(owner.get(f"/sop/{KEY}/v5"))


def test_the_revision_check_builds_no_document_for_versions_that_changed_only_the_header(rt, clock, monkeypatch):
    """The SOP page built every older version's document on each view to find where the table last
    changed: 30 header edits cost a third of a second a view, and more with each version. Versions whose
    diagram and steps are the same text print the same table: only a version whose text differs is built."""
    from tests.integration.test_definitions import deploy_v2, step7_to_administrasi
    clock.advance(days=7)
    deploy_v2(rt, step7_to_administrasi())
    header = definitions.get_version(rt, KEY).definition.header
    for i in range(8):
        signer = dict(header["disahkan_oleh"], nip=f"1967071519930910{i:02d}")
        definitions.update_header(rt, KEY, dict(header, disahkan_oleh=signer), "pemilik.proses")
    found = definitions.get_version(rt, KEY)
    assert found.version == 10
    built = []
    build = sop_document.build
    monkeypatch.setattr(sop_document, "build", lambda *a, **k: built.append(1) or build(*a, **k))
    behind = definitions.revision_behind(rt, found)
    assert behind is not None and behind.version == 2
    assert len(built) <= 2  # v1, where the table changed, and the table it is compared with


def test_an_invalid_header_is_refused_with_the_field_marked(app, rt):
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    response = client.post(f"/sop/{KEY}/kop", data={**fields, "tanggal_efektif": "22-05-2025",
                                                   "disahkan_oleh.nip": "NIP 1967"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "tanggal tidak valid" in page and "NIP hanya berisi angka" in page
    assert 'value="22-05-2025"' in page          # what was typed is kept
    assert definitions.get_version(rt, KEY).version == 1


@pytest.mark.parametrize("field, typed, next_field", [("tanggal_revisi", "2025-05-20", "tanggal_efektif"),
                                                      ("tanggal_efektif", "2020-01-01", "disahkan_oleh.jabatan")])
def test_a_revision_or_effective_date_before_the_date_the_sop_was_made_is_refused_at_its_field(app, rt, field,
                                                                                             typed, next_field):
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    assert fields["tanggal_pembuatan"] == "2025-05-21"
    response = client.post(f"/sop/{KEY}/kop", data={**fields, field: typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    shown = page[page.index(f'name="{field}"'):page.index(f'name="{next_field}"')]
    assert f'value="{typed}"' in shown and 'field-error">tidak boleh sebelum tanggal pembuatan<' in shown
    assert definitions.get_version(rt, KEY).version == 1


def test_the_records_field_keeps_the_sops_own_title_until_it_is_cleared(app, rt):
    """The seed SOP titles its records field "Pengumpulan dan Input Data"; the sheet prints it so, also on
    an English page (the SOP's own words), and a saved header keeps it. Cleared, the national title."""
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    assert client.post(f"/sop/{KEY}/kop", data={**fields, "nomor": "000.8.3.3/400"}).status_code == 302
    assert definitions.get_version(rt, KEY).definition.header["judul_pencatatan"] == "Pengumpulan dan Input Data"
    assert "Pengumpulan dan Input Data:" in text_of(client.get(f"/sop/{KEY}/v2"))
    client.post("/bahasa", data={"language": "en", "csrf_token": csrf_token(client.get(f"/sop/{KEY}/v2").data)})
    page = client.get(f"/sop/{KEY}/v2").get_data(as_text=True)
    assert '<td class="section-title" colspan="2">Pengumpulan dan Input Data:</td>' in page
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    assert client.post(f"/sop/{KEY}/kop", data={**fields, "judul_pencatatan": ""}).status_code == 302
    assert "judul_pencatatan" not in definitions.get_version(rt, KEY).definition.header
    assert "Records and data:" in text_of(client.get(f"/sop/{KEY}/v3"))


def test_a_header_saved_over_a_newer_version_is_a_conflict(app, rt):
    client = signed_in(app, "pemilik.proses")
    fields = form_of(client.get(f"/sop/{KEY}/kop").get_data(as_text=True))
    definitions.update_header(rt, KEY, {**definitions.get_version(rt, KEY).definition.header, "nomor": "A/1"},
                              "admin")
    typed = {**fields, "nomor": "B/2", "dasar_hukum": fields["dasar_hukum"] + "\nPeraturan baru ñ"}
    response = client.post(f"/sop/{KEY}/kop", data=typed)
    assert response.status_code == 409
    assert definitions.get_version(rt, KEY).definition.header["nomor"] == "A/1"
    # The form comes back with what was typed (it was a bare error page, and all of it was lost),
    # says who deployed which version meanwhile, and stands on that version: one more press saves.
    page = response.get_data(as_text=True)
    again = form_of(page)
    assert again["nomor"] == "B/2" and again["dasar_hukum"].endswith("Peraturan baru ñ")
    assert again["base_version"] == "2"
    assert 'id="changed-meanwhile"' in page and "admin men-deploy versi 2" in text_of(response)
    response = client.post(f"/sop/{KEY}/kop", data=again)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sop/{KEY}/v3")
    assert definitions.get_version(rt, KEY).definition.header["nomor"] == "B/2"


def test_the_service_checks_the_role_too(rt):
    from engine.errors import Forbidden
    with pytest.raises(Forbidden):
        definitions.update_header(rt, KEY, {"nomor": "x"}, "aptika.implementasi")
