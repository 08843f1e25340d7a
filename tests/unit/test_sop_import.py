"""Importing an SOP table: the readers, the interpretation, questions and answers, the layout, the round trip."""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from process import bpmn, sop_document
from process.loader import LANE_ROLES, DefinitionError, load, load_file
from process.messages import Text, speak
from process.sop_import import AnswerError, SourceError, import_sop
from process.sop_import.bpmn_writer import flows_of, layout
from process.sop_import.forms import decision_field
from process.sop_import.header import items, signer
from tests.integration.sop import SEED_KEY, SEED_TEXT, imported_seed

ROOT = Path(__file__).resolve().parents[2]
ACTORS = ["Tim Administrasi", "Tim Teknis", "Sekretaris"]
HEADER_TOP = ["No", "Uraian Prosedur", "Pelaksana", "", "", "Mutu Baku", "", "", "Keterangan"]
HEADER_SUB = ["", "", *ACTORS, "Kelengkapan", "Waktu", "Output", ""]
NUMBERS = [str(n) for n in range(1, 10)]
KOP = [
    ["PEMERINTAH KOTA SALATIGA"], ["DINAS KOMUNIKASI DAN INFORMATIKA"],
    ["Nomor SOP", "000.1/7"], ["Tanggal Pembuatan", "2 Januari 2026"], ["Tanggal Efektif", "2026-01-05"],
    ["Disahkan oleh", "Kepala Dinas Komunikasi dan Informatika Kota Salatiga\nBUDI, S.Kom. Pembina NIP. 19670715 199309 1 001"],
    ["Nama SOP", "Pelayanan Permohonan Data"],
    ["Dasar Hukum", "1. Undang-undang Nomor 14 Tahun 2008\n2. Undang-undang Nomor 25 Tahun 2009"],
    ["Peralatan dan Perlengkapan", "Komputer"], [""],
]


def _row(no, uraian, actor=None, mark="X", waktu="30 Menit", kelengkapan="", output="", keterangan="", extra=None):
    cells = [""] * len(ACTORS)
    if actor is not None:
        cells[ACTORS.index(actor)] = mark
    for name, text in (extra or {}).items():
        cells[ACTORS.index(name)] = text
    return [str(no), uraian, *cells, kelengkapan, waktu, output, keterangan]


# A permit request: a decision with both branches in Keterangan (3), one whose
# Tidak is missing (6), and the table split over two pages (header repeated).
PAGE_1 = [
    _row(1, "Menerima surat permohonan data", "Tim Administrasi", kelengkapan="Surat permohonan", output="Register"),
    _row(2, "Memeriksa kelengkapan berkas", "Tim Teknis", waktu="1 Jam", kelengkapan="Berkas permohonan"),
    _row(3, "Apakah berkas lengkap?", "Tim Teknis", mark="◇", waktu="15 Menit", keterangan="Ya: 4; Tidak: 1"),
]
PAGE_2 = [
    _row(4, "Menyiapkan data", "Tim Administrasi", waktu="2 Hari Kalender", output="Data"),
    _row(5, "Memeriksa data", "Sekretaris", waktu="1Hari"),
    _row(6, "Apakah data dapat diberikan?", "Sekretaris", waktu="1 Hari"),
    _row(7, "Menyerahkan data kepada pemohon", "Tim Administrasi", waktu="30 Menit", output="Data diterima"),
]
TABLE = [HEADER_TOP, HEADER_SUB, NUMBERS, *PAGE_1, [], HEADER_TOP, HEADER_SUB, NUMBERS, *PAGE_2]


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([int(c) if c.isascii() and c.isdigit() else (c or None) for c in row] if row else [None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _questions(result) -> dict[str, str]:
    return {q.id: q.text for q in result.questions}


# -- the seed's PDF text ------------------------------------------------------------------

def test_seed_text_reads_header_sheet_and_every_row():
    sop = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY).sop
    assert [s.number for s in sop.steps] == list(range(1, 16))
    assert sop.actors == ["Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"]
    assert sop.header["nomor"] == "000.8.3.3/327" and sop.header["tanggal_pembuatan"] == date(2025, 5, 21)
    assert sop.header["disahkan_oleh"] == {"jabatan": "Kepala Dinas Komunikasi dan Informatika Kota Salatiga",
                                           "nama": "Drs. BUDI PRASETIYONO, M.Si.", "pangkat": "Pembina Utama Muda",
                                           "nip": "196707151993091001"}
    assert len(sop.header["dasar_hukum"]) == 7 and len(sop.header["peringatan"]) == 5
    assert sop.header["keterkaitan"][-1] == "SOP CSIRT (Computer Security Incident Response Team)"
    # The records field's title as this SOP writes it; the national one is not written down.
    assert sop.header["judul_pencatatan"] == "Pengumpulan dan Input Data"
    # The surviving arrow labels: "Tidak" beside row 3 is where decision 5's Tidak arrives,
    # and both mark their row's actor column.
    assert (sop.step(3).pelaksana, sop.step(5).pelaksana) == ("Tim Implementasi", "Tim Teknis")
    assert (sop.step(5).ya, sop.step(5).tidak) == (6, 3)
    assert (sop.step(12).ya, sop.step(12).tidak) == (13, None)


def test_seed_text_asks_what_the_text_lost_and_cannot_be_validated_until_answered():
    result = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY)
    asked = _questions(result)
    assert set(asked) == {f"Step_{n:02d}.pelaksana" for n in range(1, 16) if n not in (3, 5)} | {"Gateway_12.tidak"}
    with pytest.raises(DefinitionError) as err:
        load(result.bpmn_xml, result.yaml_text)
    messages = [str(p) for p in err.value.problems]
    assert any("Gateway_12: pertanyaan terbuka Gateway_12.tidak" in m for m in messages)
    assert any("Step_04: pertanyaan terbuka Step_04.pelaksana" in m for m in messages)


def test_seed_round_trip_gives_the_hand_made_sop_document():
    result = imported_seed()
    assert result.questions == ()
    imported = load(result.bpmn_xml, result.yaml_text)
    hand_made = load_file(ROOT / "definitions" / "monev_kegiatan_bidang.bpmn")
    ours, theirs = sop_document.build(imported), sop_document.build(hand_made)

    def rows(doc):
        return [(r.number, r.element_id, r.uraian, doc.columns[r.column].name, r.kind, r.kelengkapan, r.waktu,
                 r.output, r.counting_note, r.branches) for r in doc.rows]

    mine, expected = rows(ours), rows(theirs)
    # The one difference is the source's own typo, which the hand-made file corrected.
    assert mine[13][7] == "Laporan Solusi Pemasalahan" and expected[13][7] == "Laporan Solusi Permasalahan"
    mine[13] = (*mine[13][:7], expected[13][7], *mine[13][8:])
    assert mine == expected
    assert ours.header == theirs.header
    assert [c.name for c in ours.columns] == [c.name for c in theirs.columns]
    assert imported.name == hand_made.name and imported.header == hand_made.header


# -- CSV and XLSX in the national layout ------------------------------------------------------

@pytest.mark.parametrize("name,make", [("permohonan.csv", _csv), ("permohonan.xlsx", _xlsx)])
def test_table_over_two_pages_with_decisions(name, make):
    result = import_sop(name, make(KOP + TABLE))
    sop = result.sop
    assert result.key == "permohonan"
    assert [s.number for s in sop.steps] == list(range(1, 8)) and sop.actors == ACTORS
    assert sop.header["nama"] == "Pelayanan Permohonan Data" and sop.header["tanggal_efektif"] == date(2026, 1, 5)
    assert sop.header["disahkan_oleh"]["nip"] == "196707151993091001"
    assert sop.header["dasar_hukum"] == ["Undang-undang Nomor 14 Tahun 2008", "Undang-undang Nomor 25 Tahun 2009"]
    assert (sop.step(3).ya, sop.step(3).tidak) == (4, 1)            # both from Keterangan
    assert (sop.step(6).ya, sop.step(6).tidak) == (7, None)         # Ya defaults to the next row
    assert _questions(result).keys() == {"Gateway_06.tidak"}
    graph = bpmn.read_graph(result.bpmn_xml)
    flows = {f.id: (f.target, f.name, f.condition) for f in graph.flows.values()}
    assert flows["Flow_03_Ya"] == ("Step_04", "Ya", "lengkap == True")
    assert flows["Flow_03_Tidak"][:2] == ("Step_01", "Tidak")
    assert "Flow_06_Tidak" not in flows and flows["Flow_06_Ya"][0] == "Step_07"
    # Kelengkapan that names a document becomes a file field; the decision gets its answer field.
    config = yaml.safe_load(result.yaml_text)
    assert config["steps"][1]["form"] == [{"name": "surat_permohonan", "label": "Surat permohonan", "type": "file"}]
    assert config["steps"][3]["form"][0] == {"name": "lengkap", "label": "Apakah berkas lengkap?",
                                             "type": "boolean", "required": True}
    assert config["steps"][4] == {"output": "Data", "counting": {"days": "kalender"}}
    timers = {n.id: bpmn.timer_duration(n) for n in graph.nodes.values() if n.kind == "boundaryEvent"}
    assert timers["Timer_02"] == "PT1H" and timers["Timer_04"] == "P2D" and timers["Timer_05"] == "P1D"


def test_answered_table_validates_and_keeps_hari_kerja():
    result = import_sop("permohonan.csv", _csv(KOP + TABLE), answers={"Gateway_06": {"tidak": "selesai"}})
    assert result.questions == ()
    definition = load(result.bpmn_xml, result.yaml_text)
    assert definition.step(4).mutu_baku.to_iso() == "P2D" and definition.step(4).counting == {
        "days": "kalender", "time": "kerja"}
    assert definition.step(5).counting == {"days": "kerja", "time": "kerja"}
    graph = bpmn.read_graph(result.bpmn_xml)
    assert graph.flows["Flow_06_Tidak"].target == "Selesai"
    # "²".isdigit() is true and int("²") fails: an answer written so was a crash, not an AnswerError.
    with pytest.raises(AnswerError, match=r"Gateway_06.tidak: '\u00b2' bukan nomor langkah lain atau 'selesai'"):
        import_sop("permohonan.csv", _csv(KOP + TABLE), answers={"Gateway_06": {"tidak": "\u00b2"}})


def test_characters_xml_cannot_hold_are_left_out_of_the_diagram():
    """A NUL or another control character in a cell (a CSV from another tool, text copied from a PDF) made
    the imported diagram unreadable ('XML rusak'), and the draft could not be opened in the editor."""
    kop = [[*row[:1], row[1].replace("Pelayanan", "Pelayanan\x01")] if row[:1] == ["Nama SOP"] else row for row in KOP]
    table = [[c.replace("Menerima surat", "Menerima\x00 surat\ufffe") for c in row] for row in TABLE]
    result = import_sop("permohonan.csv", _csv(kop + table), answers={"Gateway_06": {"tidak": "selesai"}})
    definition = load(result.bpmn_xml, result.yaml_text)
    assert definition.step(1).name == "Menerima surat permohonan data"
    assert definition.name == "Pelayanan Permohonan Data"


@pytest.mark.parametrize("mark, encoding", [
    (b"", "utf-16"), (b"", "utf-32"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_a_table_saved_as_utf16_or_utf32_is_read_as_its_byte_order_mark_says(mark, encoding):
    """Excel's "Unicode text" is UTF-16 with a mark; UTF-32's mark begins as UTF-16's does. Such a file
    was read as Windows-1252: its table header was not found, or its names garbled."""
    kop = [[*row[:1], "Pelayanan Permohonan Data \u2013 Kecamatan"] if row[:1] == ["Nama SOP"] else row for row in KOP]
    text = _csv(kop + TABLE).decode()
    result = import_sop("permohonan.csv", mark + text.encode(encoding), answers={"Gateway_06": {"tidak": "selesai"}})
    assert result.yaml_text == import_sop("permohonan.csv", text.encode(),
                                          answers={"Gateway_06": {"tidak": "selesai"}}).yaml_text
    assert result.sop.header["nama"] == "Pelayanan Permohonan Data \u2013 Kecamatan"


def test_control_characters_are_left_out_of_the_definition_too():
    """Left out of the diagram only: one in a Kelengkapan, an Output or the header sheet went into the
    definition's YAML (ESC in an Output, shown on the task page and printed in the SOP document)."""
    kop = [[*row[:1], row[1].replace("Komputer", "Kom\x1bputer")] if row[:1] == ["Peralatan dan Perlengkapan"]
           else row for row in KOP]
    table = [[c.replace("Register", "Reg\x1bister").replace("Surat permohonan", "Surat\x7f\x01 permohonan")
              for c in row] for row in TABLE]
    result = import_sop("permohonan.csv", _csv(kop + table), answers={"Gateway_06": {"tidak": "selesai"}})
    definition = load(result.bpmn_xml, result.yaml_text)
    assert (definition.step(1).output, definition.step(1).kelengkapan) == ("Register", "Surat permohonan")
    assert definition.header["peralatan_perlengkapan"] == ["Komputer"]


def test_control_characters_in_a_yaml_source_are_left_out_as_in_a_table():
    """A raw one was refused with the YAML parser's 'unacceptable character #x001b', at a position in
    characters and no line; one written as an escape ("\\e") went into the definition."""
    from process.sop_import.readers import YAML_EXAMPLE
    source = YAML_EXAMPLE.replace("Menerima permohonan", "Menerima\x1b permohonan").replace(
        "output: Permohonan tercatat", 'output: "Permohonan\\e tercatat"')
    result = import_sop("surat.yaml", source.encode())
    definition = load(result.bpmn_xml, result.yaml_text)
    assert (definition.step(1).name, definition.step(1).output) == ("Menerima permohonan", "Permohonan tercatat")


def test_unmarked_actor_and_unreadable_time_are_questions_and_answers_fix_them():
    rows = [HEADER_TOP, HEADER_SUB, _row(1, "Menerima berkas", None), _row(2, "Memproses", "Tim Teknis", waktu="segera"),
            _row(3, "Menyerahkan hasil", "Tim Teknis", extra={"Sekretaris": "X"})]
    result = import_sop("a.csv", _csv(rows))
    asked = _questions(result)
    assert set(asked) == {"Step_01.pelaksana", "Step_02.waktu", "Step_03.pelaksana"}
    assert asked["Step_02.waktu"].startswith("Pada langkah 2 ('Memproses') Waktu 'segera' tidak terbaca: ")
    assert "beberapa kolom Pelaksana ditandai (Tim Teknis, Sekretaris)" in asked["Step_03.pelaksana"]
    lanes = [lane.name for lane in bpmn.read_graph(result.bpmn_xml).lanes]
    assert lanes == [*ACTORS, "Pelaksana belum ditentukan"]
    answers = {"Step_01": {"pelaksana": "administrasi"}, "Step_02": {"waktu": "2 Jam"},
               "Step_03": {"pelaksana": "Sekretaris"}}
    answered = import_sop("a.csv", _csv(rows), answers=answers)
    assert answered.questions == ()
    definition = load(answered.bpmn_xml, answered.yaml_text)
    assert [s.lane.role for s in definition.steps] == ["administrasi", "teknis", "sekretaris"]
    with pytest.raises(AnswerError, match=r"Step_02.waktu: mutu baku waktu 'nanti' tidak terbaca"):
        import_sop("a.csv", _csv(rows), answers={"Step_02": {"waktu": "nanti"}})
    with pytest.raises(AnswerError, match=r"Step_09.pelaksana: tidak ada pertanyaan seperti itu"):
        import_sop("a.csv", _csv(rows), answers={"Step_09": {"pelaksana": "Tim Teknis"}})


def test_an_actor_that_is_no_office_role_is_a_question_on_its_lane():
    rows = [["No", "Uraian Prosedur", "Kepala Seksi", "Kelengkapan", "Waktu", "Output", "Keterangan"],
            ["1", "Menandatangani", "X", "", "1 Hari", "", ""]]
    result = import_sop("b.csv", _csv(rows))
    assert set(_questions(result)) == {"Lane_Kepala_Seksi.peran"}
    answered = import_sop("b.csv", _csv(rows), answers={"Lane_Kepala_Seksi": {"peran": "teknis"}})
    assert load(answered.bpmn_xml, answered.yaml_text).steps[0].lane.role == "teknis"


# -- our YAML format ----------------------------------------------------------------------

def test_yaml_source_by_hand():
    from process.sop_import.readers import YAML_EXAMPLE
    result = import_sop("surat.yaml", YAML_EXAMPLE.encode())
    assert result.questions == ()
    definition = load(result.bpmn_xml, result.yaml_text)
    assert definition.name == "Pelayanan Surat Keterangan"
    assert [(s.number, s.lane.role) for s in definition.steps] == [
        (1, "administrasi"), (2, "teknis"), (3, "sekretaris")]
    assert definition.step(3).lane.scope == "office"
    # "²".isdigit() is true and int("²") fails: a branch target written so was a crash.
    superscript = YAML_EXAMPLE.replace("    tidak: 1 ", "    tidak: \"\u00b9\" ", 1)
    assert superscript != YAML_EXAMPLE
    with pytest.raises(SourceError, match=r"surat.yaml: langkah 2: 'tidak' harus berupa nomor langkah lain \(1-3\) atau 'selesai'"):
        import_sop("surat.yaml", superscript.encode())
    assert {o[1]: o[3] for o in definition.step(2).decision.outcomes} == {"Ya": "Step_03", "Tidak": "Step_01"}
    assert str(definition.step(3).mutu_baku) == "7 Hari"
    # "keputusan: tidak" was read by its truth, and made step 1 a decision with questions to answer.
    said_no = YAML_EXAMPLE.replace("    pelaksana: Tim Administrasi\n", "    pelaksana: Tim Administrasi\n    keputusan: tidak\n", 1)
    assert said_no != YAML_EXAMPLE
    with pytest.raises(SourceError, match=r"surat.yaml: langkah 1: 'keputusan' harus true atau false \(tertulis 'tidak'\)"):
        import_sop("surat.yaml", said_no.encode())
    result = import_sop("surat.yaml", said_no.replace("keputusan: tidak", "keputusan: false").encode())
    plain = load(result.bpmn_xml, result.yaml_text)
    assert plain.step(1).decision is None


# -- malformed input names the row ------------------------------------------------------------

@pytest.mark.parametrize("name,make", [("x.csv", _csv), ("x.xlsx", _xlsx)])
@pytest.mark.parametrize("rows,message", [
    ([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"), _row("dua", "B", "Tim Teknis")],
     r"baris 4: No 'dua' bukan nomor langkah"),
    ([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"), _row("\u00b2", "B", "Tim Teknis")],  # was a crash
     r"baris 4: No '\u00b2' bukan nomor langkah"),
    ([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"), _row(3, "B", "Tim Teknis")],
     r"baris 4: nomor langkah 3 tidak urut \(seharusnya 2\)"),
    ([HEADER_TOP, HEADER_SUB, _row(1, "", "Tim Teknis")], r"baris 3: langkah 1 tidak memiliki Uraian Prosedur"),
    ([HEADER_TOP, HEADER_SUB, _row(1, "Apakah benar?", "Tim Teknis", keterangan="Tidak: 9")],
     r"baris 3: langkah 1 mengarahkan cabang ke langkah 9, yang tidak ada dalam tabel"),
    ([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"), HEADER_TOP, ["", "", "Tim X", "Tim Teknis", "Sekretaris",
                                                                      "Kelengkapan", "Waktu", "Output", ""]],
     r"baris 4: kepala tabel yang berulang menyebut kolom Pelaksana lain"),
    ([["Nomor SOP", "1"], ["Nama SOP", "X"]], r"x\.(csv|xlsx): kepala tabel tidak ditemukan"),
    ([["No", "Uraian Prosedur", "Tim Teknis", "Waktu", "Output"], ["1", "A", "X", "1 Hari", ""]],
     r"baris 1: kepala tabel tidak memiliki kolom Kelengkapan"),
])
def test_malformed_tables_name_the_row(name, make, rows, message):
    with pytest.raises(SourceError, match=message):
        import_sop(name, make(rows))


def test_malformed_sources_of_each_kind():
    with pytest.raises(SourceError, match=r"x.xlsx: bukan buku kerja XLSX yang dapat dibaca"):
        import_sop("x.xlsx", b"PK\x03\x04 not really")
    with pytest.raises(SourceError, match=r"x.txt: baris 3: No 'Catatan' bukan nomor langkah"):
        import_sop("x.txt", "No\tUraian Prosedur\tTim Teknis\tKelengkapan\tWaktu\tOutput\n1\tA\tX\t\t1 Hari\t\n"
                            "Catatan\tlain\n".encode())
    with pytest.raises(SourceError, match=r"x.yaml: langkah 2: pelaksana 'Tim Z' tidak ada dalam daftar 'pelaksana'"):
        import_sop("x.yaml", b"pelaksana: [Tim Teknis]\nlangkah:\n  - {uraian: A}\n  - {uraian: B, pelaksana: Tim Z}\n")
    with pytest.raises(SourceError, match=r"x.yaml: baris 2: YAML rusak"):
        import_sop("x.yaml", b"pelaksana: [a\nlangkah: ]\n")
    with pytest.raises(SourceError, match=r"x.docx: akhiran nama berkas 'docx' tidak dikenal"):
        import_sop("x.docx", b"")


# -- pieces ----------------------------------------------------------------------------------

def test_header_lists_and_signer():
    assert items("1. ATK 2. Komputer 3. Printer") == ["ATK", "Komputer", "Printer"]
    assert items("<ul> - SOP A - SOP B (<i>C</i>) </ul>") == ["SOP A", "SOP B (C)"]
    assert items("- 1 UU Nomor 11 Tahun 2008;\n- 2 PP Nomor 71 Tahun 2019;") == ["UU Nomor 11 Tahun 2008",
                                                                                 "PP Nomor 71 Tahun 2019"]
    # Cut at line breaks only, as the header form cuts a list (U+2028 is a word processor's soft break).
    assert items("UU Nomor 11\u2028Tahun 2008\r\nPP Nomor 71\u2029Tahun 2019") == ["UU Nomor 11 Tahun 2008",
                                                                                  "PP Nomor 71 Tahun 2019"]
    assert signer("Kepala Badan X  Ir. ANI Penata Tingkat I NIP. 19800101 200501 2 001") == {
        "jabatan": "Kepala Badan X", "nama": "Ir. ANI", "pangkat": "Penata Tingkat I", "nip": "198001012005012001"}


@pytest.mark.parametrize("question,field", [
    ("Apakah hasil kegiatan dan layanan bidang terverifikasi?", "terverifikasi"),
    ("Apakah hasil evaluasi kegiatan dan layanan ada kendala?", "ada_kendala"),
    ("Apakah berkas sudah lengkap?", "sudah_lengkap"),
])
def test_decision_field_names(question, field):
    assert decision_field(question) == field


def _segments(points):
    return list(zip(points, points[1:]))


def _crosses(segment, box) -> bool:
    (x0, y0), (x1, y1) = segment
    left, right, top, bottom = box.x, box.right, box.y, box.y + box.h
    if x0 == x1:
        return left < x0 < right and min(y0, y1) < bottom and max(y0, y1) > top
    return top < y0 < bottom and min(x0, x1) < right and max(x0, x1) > left


@pytest.mark.parametrize("source", ["seed", "table"])
def test_layout_lanes_in_column_order_steps_left_to_right_and_no_flow_crosses_a_shape(source):
    if source == "seed":
        result = imported_seed()
    else:
        result = import_sop("t.csv", _csv(TABLE), answers={"Gateway_06": {"tidak": 2}})
    sop = result.sop
    lay = layout(sop, flows := flows_of(sop))
    assert [name for _, name, _ in lay.lanes] == sop.actors
    xs = [lay.boxes[f"Step_{s.number:02d}"].x for s in sop.steps]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    shapes = {**lay.boxes, **lay.timers}
    for flow in flows:
        for segment in _segments(lay.edges[flow.id]):
            assert segment[0][0] == segment[1][0] or segment[0][1] == segment[1][1], flow.id
            for element, box in shapes.items():
                if element in (flow.source, flow.target):
                    continue
                assert not _crosses(segment, box), f"{flow.id} crosses {element}"
    # A loop back (decision 5's Tidak to step 3) enters its target from above.
    if source == "seed":
        *_, before, tip = lay.edges["Flow_05_Tidak"]
        assert before[0] == tip[0] and tip[1] == lay.boxes["Step_03"].y
        # Each task has its non-interrupting timer with the standard time.
        graph = bpmn.read_graph(result.bpmn_xml)
        timers = [n for n in graph.nodes.values() if n.kind == "boundaryEvent"]
        assert len(timers) == 15 and all(t.attrs["cancelActivity"] == "false" for t in timers)


@pytest.mark.parametrize("keterangan,ya,tidak", [
    ("Ya: 3; Tidak: 1", 3, 1),
    ("Jika Tidak kembali ke langkah 1", 3, 1),
    ("Ya → selesai, Tidak → no. 1", "selesai", 1),
    ("", 3, None),
])
def test_branch_phrasings_in_keterangan(keterangan, ya, tidak):
    rows = [HEADER_TOP, HEADER_SUB, _row(1, "Menerima", "Tim Teknis"),
            _row(2, "Apakah lengkap?", "Tim Teknis", keterangan=keterangan), _row(3, "Menyerahkan", "Sekretaris")]
    step = import_sop("k.csv", _csv(rows)).sop.step(2)
    assert (step.ya, step.tidak) == (ya, tidak)


def test_a_bare_label_beside_a_row_marks_it_as_the_branch_target_and_its_actor():
    rows = [HEADER_TOP, HEADER_SUB, _row(1, "Menerima", "Tim Teknis"),
            _row(2, "Memperbaiki berkas", None, extra={"Tim Administrasi": "Tidak"}),
            _row(3, "Apakah lengkap?", "Tim Teknis"), _row(4, "Menyerahkan", "Sekretaris")]
    sop = import_sop("l.xlsx", _xlsx(rows)).sop
    assert sop.step(2).pelaksana == "Tim Administrasi"
    assert (sop.step(3).ya, sop.step(3).tidak) == (4, 2)


def test_answering_a_draft_in_rounds_equals_importing_with_the_answers():
    from process.sop_import.answering import answer, questions_in
    answers = yaml.safe_load((ROOT / "tests" / "data" / "seed_answers.yaml").read_text(encoding="utf-8"))
    plain = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY)
    first = dict(list(answers.items())[:5])
    halfway = answer(plain.bpmn_xml, plain.yaml_text, first)
    assert len(questions_in(halfway.yaml_text)) == 14 - 3       # Step_03 and Step_05 were no questions
    done = answer(halfway.bpmn_xml, halfway.yaml_text, {k: v for k, v in answers.items() if k not in first})
    assert (done.bpmn_xml, done.yaml_text) == (imported_seed().bpmn_xml, imported_seed().yaml_text)
    timed = answer(plain.bpmn_xml, plain.yaml_text, {"Step_09": {"waktu": "2 Hari Kalender"}})
    assert timed.counting == {9: {"days": "kalender"}}
    assert 'id="Timer_09" name="2 Hari Kalender"' in timed.bpmn_xml
    # Redrawn again, the timer keeps the SOP's notation.
    again = answer(timed.bpmn_xml, timed.yaml_text, {"Step_01": {"pelaksana": "Tim Teknis"}})
    assert 'id="Timer_09" name="2 Hari Kalender"' in again.bpmn_xml


def test_a_draft_reshaped_by_hand_is_answered_in_the_diagram_instead():
    from process.sop_import.answering import answer
    plain = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY)
    reshaped = plain.bpmn_xml.replace('alur:step="7"', 'alur:step="70"')
    with pytest.raises(SourceError, match=r"tidak lagi berbentuk seperti hasil impor \(Step_08 bukan langkah 7 seperti saat diimpor"):
        answer(reshaped, plain.yaml_text, {"Step_01": {"pelaksana": "Tim Teknis"}})


def test_a_draft_with_a_lane_divided_into_child_lanes_is_answered_in_the_diagram_instead():
    """Redrawn from the SOP model, the draft lost its parent lane (a title the owner drew) without a word."""
    from process.sop_import.answering import answer
    plain = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY)
    first, end = plain.bpmn_xml.index("<bpmn:lane "), plain.bpmn_xml.index("</bpmn:laneSet>")
    nested = (plain.bpmn_xml[:first] + '<bpmn:lane id="Lane_Dinas" name="Diskominfo"><bpmn:childLaneSet id="Inner">'
              + plain.bpmn_xml[first:end] + "</bpmn:childLaneSet></bpmn:lane>" + plain.bpmn_xml[end:])
    with pytest.raises(SourceError, match=r"tidak lagi berbentuk seperti hasil impor \(lane 'Diskominfo' dibagi "
                                          r"menjadi beberapa lane\)"):
        answer(nested, plain.yaml_text, {"Step_01": {"pelaksana": "Tim Teknis"}})


def test_open_questions_are_not_read_from_yaml_with_aliases():
    """A few lines of aliases expand to gigabytes when the questions are written out as JSON."""
    from process.sop_import.answering import questions_in
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)]
    bomb = "\n".join(levels) + "\nquestions:\n  - {id: Step_01.pelaksana, text: *l8}\n"
    assert questions_in(bomb) == []
    assert questions_in("questions:\n  - {id: Step_01.pelaksana, text: 'Siapa?'}\n") == [
        {"id": "Step_01.pelaksana", "text": "Siapa?"}]


# -- in the reader's language -----------------------------------------------------------------

def english(message) -> str:
    from web.catalogues import catalogue
    return speak(message, catalogue("en"))


def test_a_question_keeps_its_message_in_the_yaml_and_reads_back_translatable():
    from process.sop_import.answering import questions_in
    result = import_sop("a.csv", _csv([HEADER_TOP, HEADER_SUB, _row(1, "Menerima berkas", None)]))
    [stored] = yaml.safe_load(result.yaml_text)["questions"]
    indonesian = "Pada langkah 1 ('Menerima berkas') tidak ada kolom Pelaksana yang ditandai: siapa yang melaksanakannya?"
    assert stored["text"] == indonesian and stored["message"]["values"] == {"number": 1, "uraian": "Menerima berkas"}
    [question] = questions_in(result.yaml_text)
    assert isinstance(question["text"], Text) and "message" not in question
    assert {k: question[k] for k in ("id", "element", "field", "options")} == {
        "id": "Step_01.pelaksana", "element": "Step_01", "field": "pelaksana", "options": ACTORS}
    assert question["text"] == indonesian
    assert english(question["text"]) == "In step 1 ('Menerima berkas') no Pelaksana column is marked: who carries it out?"
    # The validator names it in the reader's language too.
    with pytest.raises(DefinitionError) as err:
        load(result.bpmn_xml, result.yaml_text)
    [problem] = [p for p in err.value.problems if p.element == "Step_01"]
    assert english(problem.message) == ("open question Step_01.pelaksana: In step 1 ('Menerima berkas') no Pelaksana "
                                        "column is marked: who carries it out? (answer it, then remove it from "
                                        "'questions')")


@pytest.mark.parametrize("stored", [
    "  - {id: Step_01.pelaksana, element: Step_01, field: pelaksana, text: 'Who carries step 1 out?'}\n",
    # The text changed by hand: the stored message no longer says the same and is not used.
    "  - {id: Step_01.pelaksana, text: 'Who carries step 1 out?', message: {template: 'Siapa %(n)s?', values: {n: 1}}}\n",
    # A message that cannot be rebuilt.
    "  - {id: Step_01.pelaksana, text: 'Who carries step 1 out?', message: {template: 'Siapa %(n)d?', values: {}}}\n",
    # Messages that would build gigabytes are not even tried.
    "  - {id: Step_01.pelaksana, text: 'Who carries step 1 out?', message: {template: '%(n)999999999s', values: {n: 1}}}\n",
    "  - {id: Step_01.pelaksana, text: 'Who carries step 1 out?', message: {template: '"
    + "%(n)s" * 100_000 + "', values: {n: " + "x" * 100_000 + "}}}\n",
])
def test_a_question_stored_without_its_message_shows_its_text_as_written(stored):
    from process.sop_import.answering import questions_in
    [question] = questions_in("questions:\n" + stored)
    assert question["text"] == "Who carries step 1 out?" and not isinstance(question["text"], Text)
    assert english(question["text"]) == "Who carries step 1 out?"


def test_the_questions_speak_english():
    rows = [["No", "Uraian Prosedur", "Kepala Seksi", "Tim Teknis", "Kelengkapan", "Waktu", "Output"],
            ["1", "Menerima berkas", "", "", "", "", ""], ["2", "Memproses", "X", "X", "", "segera", ""],
            ["3", "Apakah lengkap?", "", "X", "", "1 Hari", ""], ["4", "Menyerahkan", "", "X", "", "1 Hari", ""]]
    asked = {q.id: english(q.text) for q in import_sop("c.csv", _csv(rows)).questions}
    roles = ", ".join(LANE_ROLES)
    assert asked == {
        "Lane_Kepala_Seksi.peran": f"Pelaksana 'Kepala Seksi' is not one of the office's roles: which role does "
                                   f"this lane stand for ({roles})?",
        "Step_01.pelaksana": "In step 1 ('Menerima berkas') no Pelaksana column is marked: who carries it out?",
        "Step_01.waktu": "In step 1 ('Menerima berkas') no Waktu is given: what is its standard time (e.g. "
                         "'30 Menit', '1 Hari', '7 Hari Kerja')?",
        "Step_02.pelaksana": "In step 2 ('Memproses') several Pelaksana columns are marked (Kepala Seksi, Tim Teknis): "
                             "who carries it out?",
        "Step_02.waktu": "In step 2 ('Memproses') the Waktu 'segera' cannot be read: what is its standard time (e.g. "
                         "'30 Menit', '1 Hari', '7 Hari Kerja')?",
        "Gateway_03.tidak": "Decision in step 3 ('Apakah lengkap?'): the table does not say where 'Tidak' goes. "
                            "Which step follows (a step number, or 'selesai')?",
    }


def test_import_errors_name_the_file_and_row_in_either_language():
    with pytest.raises(SourceError) as err:
        import_sop("x.csv", _csv([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"), _row("dua", "B", "Tim Teknis")]))
    assert str(err.value) == "x.csv: baris 4: No 'dua' bukan nomor langkah"
    assert english(err.value.args[0]) == "x.csv: row 4: No 'dua' is not a step number"
    with pytest.raises(SourceError) as err:
        import_sop("x.csv", _csv([HEADER_TOP, HEADER_SUB, _row("", "A", "Tim Teknis")]))
    assert english(err.value.args[0]) == "x.csv: row 3: No (empty) is not a step number"
    with pytest.raises(SourceError) as err:  # a step has its No and Uraian: two columns at least
        import_sop("x.csv", _csv([HEADER_TOP, HEADER_SUB, ["1", "A"]]))
    assert str(err.value) == ("x.csv: baris 3: langkah 1 hanya memiliki 2 kolom; kolom Pelaksana dan Mutu Baku "
                              "juga diperlukan")
    assert english(err.value.args[0]) == ("x.csv: row 3: step 1 has only 2 columns; the Pelaksana and Mutu Baku "
                                          "columns are needed too")
    with pytest.raises(SourceError) as err:
        import_sop("x.yaml", b"pelaksana: [Tim Teknis]\nlangkah:\n  - {uraian: A, tidak: 1}\n")
    assert str(err.value) == "x.yaml: langkah 1: hanya pertanyaan (\"Apakah ...?\") yang memiliki 'tidak'"
    assert english(err.value.args[0]) == "x.yaml: step 1: only a question (\"Apakah ...?\") has 'tidak'"
    with pytest.raises(AnswerError) as err:
        import_sop("x.csv", _csv(KOP + TABLE), answers={"Step_02": {"waktu": "nanti"}})
    assert english(err.value.args[0]).startswith("Step_02.waktu: cannot read standard time 'nanti'")


def test_every_message_of_the_import_has_an_english_translation():
    from babel.messages.extract import extract_from_file
    from web.catalogues import catalogue
    translations = catalogue("en")
    templates = {message for path in (ROOT / "process" / "sop_import").glob("*.py")
                 for _, message, _, _ in extract_from_file("python", str(path), keywords={"Text": None})}
    assert len(templates) > 40
    assert [t for t in sorted(templates) if translations.gettext(t) == t and t != "%(where)s: %(message)s"] == []


def test_a_branch_target_of_thousands_of_digits_is_asked_about_not_a_crash():
    # "Tidak: 999…" past Python's 4,300-digit int limit raised a plain ValueError (a 500 in the app's import).
    rows = [HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis"),
            _row(2, "Apakah lengkap?", "Tim Teknis", keterangan="Ya: 3; Tidak: " + "9" * 5000),
            _row(3, "C", "Tim Teknis")]
    result = import_sop("x.csv", _csv(rows))
    assert result.sop.step(2).ya == 3 and result.sop.step(2).tidak is None
    assert [q.id for q in result.questions] == ["Gateway_02.tidak"]


def _sheet_edited(rows, edit) -> bytes:
    """An XLSX of the rows whose sheet XML `edit` changed (what openpyxl itself would not write)."""
    import zipfile
    made, out = zipfile.ZipFile(io.BytesIO(_xlsx(rows))), io.BytesIO()
    with zipfile.ZipFile(out, "w") as edited:
        for item in made.infolist():
            data = made.read(item.filename)
            edited.writestr(item, edit(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


@pytest.mark.parametrize("edit", [
    lambda xml: xml.replace(b"<v>1</v>", b"<v>" + b"9" * 5000 + b"</v>", 1),  # past Python's 4,300-digit int
    lambda xml: xml.replace(b"</sheetData>", b""),                            # malformed sheet XML
], ids=["number of thousands of digits", "malformed sheet"])
def test_a_workbook_whose_sheet_cannot_be_read_is_refused_not_a_crash(edit):
    # A read-only workbook parses its sheet only while the rows are read: those errors escaped the reader.
    source = _sheet_edited([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis")], edit)
    assert source != _xlsx([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis")])
    with pytest.raises(SourceError, match=r"x.xlsx: bukan buku kerja XLSX yang dapat dibaca"):
        import_sop("x.xlsx", source)


def test_a_workbook_that_unpacks_to_more_than_50_mib_is_refused_before_it_is_parsed():
    """A zip bomb: 60 MiB of sheet XML packs into well under the 5 MiB a source may have."""
    from process.sop_import.readers import MAX_SOURCE_BYTES, MAX_UNPACKED_BYTES
    padding = b" " * (MAX_UNPACKED_BYTES + 10 * 1024 * 1024)
    source = _sheet_edited([HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis")],
                           lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding, 1))
    assert len(source) < MAX_SOURCE_BYTES
    with pytest.raises(SourceError, match=r"x.xlsx: isi buku kerja XLSX lebih dari 50 MiB setelah dibuka"):
        import_sop("x.xlsx", source)


def _within(seconds: int, work):
    """work(), failed as TimeoutError if it takes more than `seconds` of CPU time (the import's own guard
    takes any error for an unreadable workbook, so the outcome is returned, not raised). CPU time, not
    wall time: a busy machine stretches the one, not the other."""
    import signal

    def late(*_):
        raise TimeoutError(f"more than {seconds} s of CPU time")
    previous = signal.signal(signal.SIGPROF, late)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        return work()
    except Exception as err:  # noqa: BLE001 - handed to the test
        return err
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


FAR_CELL = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'


def test_a_workbook_declaring_a_sheet_of_a_million_rows_is_refused_at_once():
    """openpyxl gives every row of the sheet's declared size, each as wide as its last column: one cell
    at XFD1048576, in a file of a few KiB, was 17 billion empty cells to read (the unpacked size is no
    guard against that)."""
    import re
    rows = [HEADER_TOP, HEADER_SUB, _row(1, "A", "Tim Teknis")]
    source = _sheet_edited(rows, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>',
                                                    xml).replace(b"</sheetData>", FAR_CELL))
    assert len(source) < 10_000
    outcome = _within(10, lambda: import_sop("x.xlsx", source))
    assert isinstance(outcome, SourceError), outcome
    assert "lebih dari 10000 baris atau 200 kolom" in str(outcome)


def test_a_sheet_with_far_cells_and_no_declared_size_is_read_only_as_wide_as_a_table():
    """Without a declared size each row is as wide as its own last cell: a few thousand rows with a cell
    at column XFD (a few hundred KiB) were tens of millions of empty cells, and a 5 MiB file gigabytes.
    Only a table's width is read."""
    import re
    rows = [*KOP, HEADER_TOP, HEADER_SUB, _row(1, "Menerima", "Tim Teknis"), _row(2, "Memeriksa", "Tim Teknis")]
    far = b"".join(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
                   for r in range(100, 3100))
    source = _sheet_edited(rows, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b"", xml)
                           .replace(b"</sheetData>", far + b"</sheetData>"))
    outcome = _within(2, lambda: import_sop("x.xlsx", source))
    assert not isinstance(outcome, Exception), outcome
    assert [s.uraian for s in outcome.sop.steps] == ["Menerima", "Memeriksa"]
