"""The SOP document model against the seed SOP's own text, and the header sheet's YAML.

The seed text (/work/shared/seed/000_…txt, copied from the office's PDF) is the
reference: the document generated from our definition must say what it says,
in the same order. The comparison normalises only what the PDF extraction or
the SOP notation makes differ, and says so here:

* whitespace is collapsed; HTML tags left by the extraction (<ul>, <ol>, <i>)
  are dropped;
* list numbering or bullets ("- 1 ", "1. ", "3 ") and an item's closing ";" or
  "." are dropped: the document numbers the items itself;
* Waktu is compared in our notation: the seed's text is read with
  `MutuBaku.parse` and printed again, so "1Hari" (row 14) is "1 Hari";
* dates are compared as dates ("21 Mei 2025");
* SEED_TYPOS lists, exactly, the seed's typing mistakes that our YAML
  corrects (row 14's Output "Laporan Solusi Pemasalahan" is "Laporan Solusi
  Permasalahan", as in its own Uraian "analisa solusi permasalahan"). Any
  other difference fails.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from engine.definitions import clean_header, replace_sop_section
from engine.errors import InvalidData
from process import sop_document
from process.loader import load, load_file, problems_of
from process.user_yaml import user_yaml
from process.mutu_baku import MutuBaku
from tests.integration.sop import nested_lanes

ROOT = Path(__file__).resolve().parents[2]
SEED = Path("/work/shared/seed/000_d61214d800a13c48.txt")
BPMN = ROOT / "definitions" / "monev_kegiatan_bidang.bpmn"
SEED_TYPOS = {"Laporan Solusi Pemasalahan": "Laporan Solusi Permasalahan"}
BULAN = {m: i for i, m in enumerate(
    ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
     "November", "Desember"], start=1)}
# The default lane of each step (READING.md, "Who does what").
LANES = {**dict.fromkeys((1, 2, 3, 7), "Tim Implementasi"), **dict.fromkeys((4, 5), "Tim Teknis"),
         **dict.fromkeys((6, 8), "Tim Administrasi"), **dict.fromkeys(range(9, 16), "Sekretaris")}


def norm(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text or "")
    for wrong, right in SEED_TYPOS.items():
        text = text.replace(wrong, right)
    return " ".join(text.split())


def item(text: str) -> str:
    text = norm(text)
    text = re.sub(r"^(?:-\s*)?(?:\d+\.?\s+)?", "", text)
    return text.rstrip(";.").strip()


def tanggal(text: str) -> date:
    day, month, year = norm(text).split()
    return date(int(year), BULAN[month], int(day))


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed SOP text not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc():
    return sop_document.build(load_file(BPMN))


# -- parsing the seed -------------------------------------------------------------------

def seed_rows(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit() and not fields[1].strip().isdigit():
            rows.append({"number": int(fields[0]), "uraian": norm(fields[1]), "kelengkapan": norm(fields[6]),
                         "waktu": norm(fields[7]), "output": norm(fields[8]), "keterangan": norm(fields[9])})
    return rows


def seed_lanes(text: str) -> list[str]:
    line = next(l for l in text.splitlines() if "Tim Administrasi" in l and "Kelengkapan" in l)
    fields = [f.strip() for f in line.split("\t") if f.strip()]
    return fields[:fields.index("Kelengkapan")]


def seed_field(text: str, label: str) -> str:
    line = next(l for l in text.splitlines() if l.startswith(label))
    return norm(line[len(label):]).lstrip(": ").strip()


def seed_header(text: str) -> dict:
    lines = text.splitlines()
    start = lines.index("Dasar Hukum")
    dasar = [item(l[1:]) for l in lines[start:] if l.startswith("- ")]
    k_start = lines.index("Kualifikasi Pelaksana")
    kualifikasi = []
    for line in lines[k_start + 1:]:
        if line.startswith("Keterkaitan"):
            break
        if re.match(r"^\d+\.\s", line):
            kualifikasi.append(item(line))
    lists_line = next(l for l in lines if l.startswith("<ul"))
    left, right = lists_line.split("\t")
    keterkaitan = [item(x) for x in re.split(r"\s-\s", norm(left)) if norm(x)]
    peralatan = [item(x) for x in re.split(r"(?:^|\s)\d+\.\s", norm(right)) if norm(x)]
    warn_line = next(l for l in lines if l.startswith("<ol") and "Meningkatnya" in l)
    left, right = warn_line.split("\t")
    peringatan = [item(x) for x in re.split(r"(?:^|;)\s*\d+\s", norm(left)) if norm(x)]
    pencatatan = [item(x) for x in re.split(r"(?:^|\s)\d+\.\s", norm(right)) if norm(x)]
    return {
        "nomor": seed_field(text, "Nomor SOP"),
        "tanggal_pembuatan": tanggal(seed_field(text, "Tanggal Pembuatan")),
        "tanggal_revisi": tanggal(seed_field(text, "Tanggal Revisi")),
        "tanggal_efektif": tanggal(seed_field(text, "Tanggal Efektif")),
        "disahkan_oleh": seed_field(text, "Disahkan oleh"),
        "nama": seed_field(text, "Nama SOP"),
        "dasar_hukum": dasar, "kualifikasi_pelaksana": kualifikasi, "keterkaitan": keterkaitan,
        "peralatan_perlengkapan": peralatan, "peringatan": peringatan, "pencatatan_pendataan": pencatatan,
    }


def test_the_seed_parser_finds_the_whole_table(seed_text):
    rows = seed_rows(seed_text)
    assert [r["number"] for r in rows] == list(range(1, 16))
    header = seed_header(seed_text)
    assert (len(header["dasar_hukum"]), len(header["kualifikasi_pelaksana"]), len(header["keterkaitan"]),
            len(header["peralatan_perlengkapan"]), len(header["peringatan"]),
            len(header["pencatatan_pendataan"])) == (7, 8, 4, 7, 5, 2)


# -- the document says what the seed says ----------------------------------------------------

def test_steps_times_and_outputs_are_the_seeds_in_the_same_order(doc, seed_text):
    expected = seed_rows(seed_text)
    got = [{"number": r.number, "uraian": norm(r.uraian), "kelengkapan": norm(r.kelengkapan),
            "waktu": r.waktu, "output": norm(r.output), "keterangan": ""} for r in doc.rows]
    for row in expected:
        row["waktu"] = str(MutuBaku.parse(row["waktu"]))     # "1Hari" -> "1 Hari"
    assert got == expected
    assert doc.rows[13].waktu == "1 Hari"
    assert [r.counting_note for r in doc.rows] == [None] * 15   # the seed's Keterangan is empty


def test_the_header_sheet_is_the_seeds(doc, seed_text):
    expected = seed_header(seed_text)
    h = doc.header
    assert h.nomor == expected["nomor"] == "000.8.3.3/327"
    assert (h.tanggal_pembuatan, h.tanggal_revisi, h.tanggal_efektif) == (
        expected["tanggal_pembuatan"], expected["tanggal_revisi"], expected["tanggal_efektif"])
    signer = h.disahkan_oleh
    assert norm(f"{signer.jabatan} {signer.nama} {signer.pangkat} NIP. {signer.nip}") == expected["disahkan_oleh"]
    assert h.nama == expected["nama"]
    for key in ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan_perlengkapan", "peringatan",
                "pencatatan_pendataan"):
        assert [item(x) for x in getattr(h, key)] == expected[key], key
    assert h.instansi == tuple(norm(l) for l in seed_text.split("**")[1].splitlines())
    # The records field under the title the SOP gives it, where the national format says "Pencatatan dan
    # Pendataan".
    assert "Peringatan\tPengumpulan dan Input Data" in seed_text
    assert h.judul_pencatatan == "Pengumpulan dan Input Data"


def test_columns_are_the_lanes_in_the_diagrams_order(doc, seed_text):
    assert [c.name for c in doc.columns] == seed_lanes(seed_text) == [
        "Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"]
    assert doc.column_count == 10
    xs = [c.x for c in doc.columns]
    assert xs == sorted(xs) and all(c.width == doc.widths.lane for c in doc.columns)
    assert doc.total_width == pytest.approx(sop_document.PAGE_WIDTH)



def test_columns_follow_the_lanes_on_the_diagram_not_their_order_in_the_file():
    """bpmn-js (the editor, Camunda Modeler) appends a lane added "above" to the end of the laneSet."""
    text = BPMN.read_text(encoding="utf-8")
    administrasi = re.search(r'\s*<bpmn:lane id="Lane_Administrasi".*?</bpmn:lane>', text, re.S).group(0)
    moved = text.replace(administrasi, "").replace("</bpmn:laneSet>", administrasi + "\n    </bpmn:laneSet>")
    assert moved.index('id="Lane_Administrasi"') > moved.index('id="Lane_Sekretaris"')
    doc = sop_document.build(load(moved, BPMN.with_suffix(".yaml").read_text(encoding="utf-8")))
    assert [c.name for c in doc.columns] == ["Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"]
    assert [doc.columns[r.column].name for r in doc.rows] == [LANES[n] for n in range(1, 16)]


def test_child_lanes_are_the_columns_and_their_parent_lane_is_none():
    """A diagram whose four lanes are child lanes of "Diskominfo" has the same four actor columns."""
    definition = load_file(BPMN)
    doc = sop_document.build(load(nested_lanes(definition.bpmn_xml), definition.yaml_text))
    assert [c.name for c in doc.columns] == ["Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"]
    assert [doc.columns[r.column].name for r in doc.rows] == [LANES[n] for n in range(1, 16)]
    assert_well_drawn(doc)

# -- the flowchart -----------------------------------------------------------------------

def test_each_step_is_drawn_in_its_actors_column_with_its_symbol(doc):
    for row in doc.rows:
        symbol = row.symbol
        assert doc.columns[row.column].name == LANES[row.number], row.number
        assert symbol.column == row.column and symbol.cx == doc.columns[row.column].center
        assert symbol.kind == (sop_document.DECISION if row.number in (5, 12) else sop_document.PROCESS)
        assert row.top <= symbol.top and symbol.bottom <= row.top + row.height
    # Rows follow each other without gaps.
    for before, after in zip(doc.rows, doc.rows[1:]):
        assert after.top == pytest.approx(before.top + before.height)


def test_start_capsule_above_step_1_and_end_capsule_in_the_last_row(doc):
    first, last = doc.rows[0], doc.rows[-1]
    start, step1 = first.symbols[0], first.symbol
    assert (start.kind, start.label, start.element_id) == (sop_document.TERMINATOR, "Mulai", "Mulai")
    assert start.bottom < step1.top and start.cx == step1.cx
    end = last.symbols[-1]
    assert (end.kind, end.label) == (sop_document.TERMINATOR, "Selesai")
    assert last.symbol.bottom < end.top
    assert all(len(r.symbols) == 1 for r in doc.rows[1:-1])


def test_decisions_branch_ya_and_tidak_to_the_right_steps(doc):
    branches = {r.number: {b.label: b.target_number for b in r.branches} for r in doc.rows if r.is_decision}
    assert branches == {5: {"Ya": 6, "Tidak": 3}, 12: {"Ya": 13, "Tidak": 15}}
    for number, targets in branches.items():
        row = doc.rows[number - 1]
        drawn = {c.label: c.target for c in doc.connectors_from(row.element_id)}
        assert drawn == {label: doc.rows[n - 1].element_id for label, n in targets.items()}
        for c in doc.connectors_from(row.element_id):
            assert c.label_at is not None


def test_connectors_join_the_flow_in_order(doc):
    pairs = {(c.source, c.target) for c in doc.connectors}
    ids = [r.element_id for r in doc.rows]
    sequential = {(ids[i], ids[i + 1]) for i in range(14) if i + 1 not in (5, 12)}
    assert sequential <= pairs
    assert ("Mulai", ids[0]) in pairs and (ids[-1], "Selesai") in pairs
    assert len(doc.connectors) == len(sequential) + 4 + 2


def assert_well_drawn(doc):
    """Orthogonal connectors that end on their target's edge and never cross another symbol."""
    symbols = [s for r in doc.rows for s in r.symbols]
    for c in doc.connectors:
        for (x1, y1), (x2, y2) in zip(c.points, c.points[1:]):
            assert x1 == x2 or y1 == y2, c
            for s in symbols:
                if s.element_id in (c.source, c.target):
                    continue
                left, right = s.cx - s.w / 2, s.cx + s.w / 2
                crosses = (min(x1, x2) < right and max(x1, x2) > left and
                           min(y1, y2) < s.bottom and max(y1, y2) > s.top)
                assert not crosses, (c.source, c.target, s.element_id)
        target, tip = doc.symbol(c.target), c.points[-1]  # points are rounded to a thousandth of a mm
        on_top = tip == pytest.approx((target.cx, target.top), abs=1e-3)
        on_side = tip[1] == pytest.approx(target.cy, abs=1e-3) and min(
            abs(tip[0] - (target.cx - target.w / 2)), abs(tip[0] - (target.cx + target.w / 2))) < 1e-3
        assert on_top or on_side, c
    for row in doc.rows:
        for column in range(len(doc.columns)):
            ElementTree.fromstring(sop_document.cell_svg(doc, row, column))


def test_connectors_are_orthogonal_end_on_their_target_and_cross_no_symbol(doc):
    assert_well_drawn(doc)


def test_the_performers_cell_names_its_lane_for_a_screen_reader(doc):
    """Every lane cell's drawing was hidden from a screen reader, the performer's symbol too: read row by
    row, the flowchart table said what each step is but not who does it. The performer's cell is now an
    image named by its lane; the others (lines passing through) stay hidden."""
    for row in doc.rows:
        for column, lane in enumerate(doc.columns):
            svg = ElementTree.fromstring(sop_document.cell_svg(doc, row, column))
            if column == row.column:
                assert (svg.get("role"), svg.get("aria-label"), svg.get("aria-hidden")) == ("img", lane.name, None)
            else:
                assert svg.get("aria-hidden") == "true" and svg.get("aria-label") is None


def _move(xml: str, ref: str, lane: str) -> str:
    xml = xml.replace(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>", "", 1)
    start = xml.index(f'<bpmn:lane id="{lane}"')
    end = xml.index(">", start) + 1
    return xml[:end] + f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" + xml[end:]


VARIANTS = {
    # "Tidak" at step 12 ends the process: the branch runs to the end capsule in row 15.
    "branch_to_end": lambda x: x.replace(
        'sourceRef="Gateway_12" targetRef="Step_15"', 'sourceRef="Gateway_12" targetRef="Selesai"').replace(
        "<bpmn:incoming>Flow_12_Tidak</bpmn:incoming>", ""),
    # "Tidak" at step 5 goes back four rows, into another column.
    "back_to_step_1": lambda x: x.replace(
        'sourceRef="Gateway_05" targetRef="Step_03"', 'sourceRef="Gateway_05" targetRef="Step_01"'),
    # Step 13 moves to Tim Teknis: "Ya" leaves the diamond sideways.
    "step_13_elsewhere": lambda x: _move(_move(x, "Step_13", "Lane_Teknis"), "Timer_13", "Lane_Teknis"),
    # Start and end events in other lanes than their steps.
    "terminators_elsewhere": lambda x: _move(_move(x, "Mulai", "Lane_Administrasi"), "Selesai", "Lane_Teknis"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_other_diagrams_are_drawn_as_well(variant):
    definition = load_file(BPMN)
    changed = load(VARIANTS[variant](definition.bpmn_xml), definition.yaml_text)
    assert changed.bpmn_xml != definition.bpmn_xml
    doc = sop_document.build(changed)
    assert [r.number for r in doc.rows] == list(range(1, 16))
    assert_well_drawn(doc)
    if variant == "branch_to_end":
        assert {b.label: b.target_number for b in doc.rows[11].branches} == {"Ya": 13, "Tidak": None}
        assert ("Step_12", "Selesai") in {(c.source, c.target) for c in doc.connectors}
    if variant == "terminators_elsewhere":
        assert doc.symbol("Mulai").column == 0 and doc.symbol("Selesai").column == 1
        assert doc.symbol("Mulai").row == 0 and doc.symbol("Selesai").row == 14


def test_back_branch_enters_step_3_from_the_side_its_own_flow_does_not_use(doc):
    tidak = next(c for c in doc.connectors_from("Step_05") if c.label == "Tidak")
    out = doc.connectors_from("Step_03")[0]
    step3 = doc.symbol("Step_03")
    assert tidak.points[-1][0] > step3.cx > out.points[0][0]     # in from the right, out to the left (Tim Teknis)


def test_each_cell_is_a_window_onto_one_drawing(doc):
    row5 = doc.rows[4]
    svgs = [sop_document.cell_svg(doc, row5, i) for i in range(len(doc.columns))]
    for i, svg in enumerate(svgs):
        root = ElementTree.fromstring(svg)
        x, y, w, h = (float(v) for v in root.get("viewBox").split())
        assert (x, y, w, h) == (doc.columns[i].x, row5.top, doc.columns[i].width, row5.height)
        assert root.get("height") == f"{sop_document._n(row5.height)}mm"
    assert "<polygon" in svgs[1] and "Ya" in svgs[1] and "Tidak" in svgs[1]   # the diamond in Tim Teknis
    assert "<polyline" in svgs[0] and "<polyline" in svgs[2]                  # branches to 6 and back to 3
    assert "<polyline" not in svgs[3]                                          # nothing in Sekretaris
    # Labels are written once, in one cell.
    everything = "".join(sop_document.cell_svg(doc, r, i) for r in doc.rows for i in range(4))
    assert everything.count(">Tidak</text>") == 2 and everything.count(">Mulai</text>") == 1


def _page_starts(doc) -> list[int]:
    return [r.number for r, before in zip(doc.rows[1:], doc.rows) if r.page != before.page]


def _offpage_cells(doc) -> dict[tuple[int, int], str]:
    """The off-page connectors' labels by (row number, column), read from the cells' drawings."""
    found = {}
    for row in doc.rows:
        for column in range(len(doc.columns)):
            svg = ElementTree.fromstring(sop_document.cell_svg(doc, row, column))
            for mark in svg.iter("{http://www.w3.org/2000/svg}g"):
                if mark.get("class") == "off-page":
                    found.setdefault((row.number, column), []).append(
                        "".join(t.text for t in mark.iter("{http://www.w3.org/2000/svg}text")))
    return found


def test_the_tables_pages_are_planned_so_that_each_holds_its_rows(doc):
    """Where the table breaks over pages is decided when the document is built (the paper is made to break
    there), each page holding its heading rows and its rows."""
    assert _page_starts(doc) == [11]
    head = sop_document.head_height(doc)
    for page in {r.page for r in doc.rows}:
        rows = [r for r in doc.rows if r.page == page]
        assert head + sum(r.height + sop_document.ROW_RULE for r in rows) <= sop_document.PAGE_HEIGHT
    # The last row of a page has room at its foot for the off-page connector, the next page's first row at
    # its top: the symbols keep their place within the row as before.
    row10, row11 = doc.rows[9], doc.rows[10]
    assert row10.pad_bottom == row11.pad_top == sop_document.OFFPAGE_ROOM and row10.pad_top == 0
    assert row11.symbol.top - row11.top == pytest.approx(row11.pad_top + (doc.rows[8].symbol.top - doc.rows[8].top))
    assert_well_drawn(doc)


def test_a_flow_over_a_page_break_ends_and_resumes_at_off_page_connectors(doc):
    """The national format draws an off-page connector (a pentagon with a letter) at the foot of the page a
    flow leaves and at the top of the page it comes back on; the line does not run off the page."""
    [mark] = doc.off_page
    sekretaris = doc.columns[3]
    assert (mark.label, mark.x) == ("A", sekretaris.center)
    row10, row11 = doc.rows[9], doc.rows[10]
    assert row10.top + row10.height - row10.pad_bottom < mark.top < mark.bottom < row11.top + row11.pad_top
    assert _offpage_cells(doc) == {(10, 3): ["A"], (11, 3): ["A"]}
    flow = next(c for c in doc.connectors if (c.source, c.target) == ("Step_10", "Step_11"))
    first, second = flow.drawn
    assert first[0] == flow.points[0] and first[-1] == (mark.x, mark.top)
    assert second[0] == (mark.x, mark.bottom) and second[-1] == flow.points[-1]
    assert all(len(c.drawn) == 1 for c in doc.connectors if c is not flow)
    # No line in the cut: the cells on either side of the break draw the flow up to its connector only.
    svg10 = sop_document.cell_svg(doc, row10, 3)
    assert f"{sop_document._n(mark.x)},{sop_document._n(mark.top)}\"" in svg10


def test_flows_going_back_over_a_page_break_get_their_own_connectors():
    """A long Kelengkapan makes row 4 fill a page: the flows 3 → 4 (down) and "Tidak" 5 → 3 (back up)
    cross the break before it, "Ya" 5 → 6 the break after it; each crossing has its own letter, left to
    right, page by page, and a flow going up stops at the connector at the top of its page."""
    definition = load_file(BPMN)
    long = " ".join(["Dokumen"] * 80)
    changed = load(definition.bpmn_xml, definition.yaml_text.replace(
        "  4:\n    kelengkapan: Dokumen kegiatan atau layanan\n", f"  4:\n    kelengkapan: {long}\n", 1))
    doc = sop_document.build(changed)
    assert _page_starts(doc)[:2] == [4, 6]
    marks = {m.label: m for m in doc.off_page}
    teknis, implementasi, administrasi = doc.columns[1], doc.columns[2], doc.columns[0]
    assert marks["A"].x == teknis.center and marks["C"].x == administrasi.center
    assert implementasi.center < marks["B"].x < implementasi.x + implementasi.width
    cells = _offpage_cells(doc)
    assert {k: v for k, v in cells.items() if k[0] in (3, 4, 5, 6)} == {
        (3, 1): ["A"], (4, 1): ["A"], (3, 2): ["B"], (4, 2): ["B"], (5, 0): ["C"], (6, 0): ["C"]}
    back = next(c for c in doc.connectors_from("Step_05") if c.label == "Tidak")
    up, down_again = back.drawn
    assert up[-1] == (marks["B"].x, marks["B"].bottom) and down_again[0] == (marks["B"].x, marks["B"].top)
    assert_well_drawn(doc)

def _with_empty_lanes(bpmn_xml: str, count: int) -> str:
    """The SOP with `count` more lanes of Tim Teknis (an SOP table may have many Pelaksana columns)."""
    extra = "".join(f'<bpmn:lane id="Lane_Extra_{i}" name="Kasi {i}" alur:role="teknis" alur:scope="bidang"/>'
                    for i in range(count))
    return bpmn_xml.replace("</bpmn:laneSet>", extra + "</bpmn:laneSet>")


@pytest.mark.parametrize("lanes", [4, 8, 9, 10, 11])
def test_the_table_fits_an_a4_landscape_page_up_to_ten_lanes(lanes):
    """Lanes keep at least 16 mm (room for a symbol). From 9 lanes the text columns narrow instead, down to
    60%; past 10 lanes the table cannot fit, and the validator says so."""
    definition = load_file(BPMN)
    changed = load(_with_empty_lanes(definition.bpmn_xml, lanes - 4), definition.yaml_text)
    doc = sop_document.build(changed)
    w = doc.widths
    total = w.no + w.uraian + w.lane * lanes + w.kelengkapan + w.waktu + w.output + w.keterangan
    assert w.lane >= sop_document.MIN_LANE_WIDTH and w.uraian >= sop_document.MIN_URAIAN_WIDTH
    if lanes <= 8:  # as before: the text columns at their full width
        assert (w.kelengkapan, w.output, w.keterangan) == (30.0, 30.0, 20.0)
    if lanes <= 10:
        assert total <= sop_document.PAGE_WIDTH + 0.05
        assert_well_drawn(doc)
    warnings = [p.message for p in problems_of(changed.bpmn_xml, changed.yaml_text) if p.severity == "warning"]
    assert any("hanya muat 10 lane" in m for m in warnings) == (lanes > 10)


def test_row_height_grows_with_long_text():
    definition = load_file(BPMN)
    long = definition.steps[0].name + " " + "sangat panjang " * 40
    longer = replace(definition, steps=(replace(definition.steps[0], name=long),) + definition.steps[1:])
    doc = sop_document.build(longer)
    lines = sop_document.wrapped_lines(long, doc.widths.uraian)
    assert lines > 10
    assert doc.rows[0].height >= lines * sop_document.LINE_MM
    assert doc.rows[0].height > sop_document.build(definition).rows[0].height
    assert doc.rows[1].top == pytest.approx(doc.rows[0].height)


def test_row_height_makes_room_for_the_keterangan_note():
    """A short step counted in clock time: its note in Keterangan takes more lines than its Uraian, and a
    row taller on paper than drawn left a gap in the flowchart's line to the next step."""
    definition = load_file(BPMN)
    step9 = definition.step(9)
    clock = replace(definition, steps=tuple(replace(s, counting={"time": "jam"}) if s is step9 else s
                                            for s in definition.steps))
    doc = sop_document.build(clock)
    row = doc.rows[8]
    note = sop_document.COUNTING_NOTES[row.counting_note]
    assert (row.counting_note, row.note) == ("jam", note) and note == "Dihitung dalam waktu jam (24 jam sehari)"
    lines = sop_document.wrapped_lines(note, doc.widths.keterangan)
    assert lines * sop_document.LINE_MM + 2 * sop_document.CELL_PAD_MM > sop_document.MIN_ROW_HEIGHT
    assert row.height >= lines * sop_document.LINE_MM + 2 * sop_document.CELL_PAD_MM
    assert doc.rows[9].top == pytest.approx(row.top + row.height)


def test_instansi_lines():
    assert sop_document.instansi_lines("Dinas Komunikasi dan Informatika Kota Salatiga") == (
        "PEMERINTAH KOTA SALATIGA", "DINAS KOMUNIKASI DAN INFORMATIKA")
    assert sop_document.instansi_lines("Badan Pusat") == ("BADAN PUSAT",)
    assert sop_document.instansi_lines("") == ()


# -- the header sheet's YAML (engine.definitions) ------------------------------------------

def test_replacing_the_sop_section_keeps_comments_counting_and_steps_as_written():
    definition = load_file(BPMN)
    header = clean_header({**definition.header, "nomor": "000.8.3.3/400",
                           "dasar_hukum": ["Undang-undang Nomor 1 Tahun 2024", "- Peraturan baru;"]})
    new = replace_sop_section(definition.yaml_text, header)
    old_lines = definition.yaml_text.splitlines()
    counting = next(i for i, l in enumerate(old_lines) if l.startswith("# How standard times"))
    assert new.endswith("\n".join(old_lines[counting:]) + "\n")
    assert new.startswith("\n".join(old_lines[:4]) + "\nsop:\n")
    data = yaml.safe_load(new)
    assert data["sop"]["nomor"] == "000.8.3.3/400"
    assert data["sop"]["dasar_hukum"] == ["Undang-undang Nomor 1 Tahun 2024", "Peraturan baru;"]
    assert data["sop"]["tanggal_efektif"] == date(2025, 5, 22)
    assert data["sop"]["disahkan_oleh"]["nip"] == "196707151993091001"
    again = load(definition.bpmn_xml, new)
    assert again.header["nomor"] == "000.8.3.3/400" and again.steps == definition.steps


def test_an_unchanged_header_gives_the_same_data():
    definition = load_file(BPMN)
    new = replace_sop_section(definition.yaml_text, clean_header(definition.header))
    assert yaml.safe_load(new) == yaml.safe_load(definition.yaml_text)


def test_a_yaml_without_a_sop_section_gets_one():
    new = replace_sop_section("counting:\n  days: kerja\n", {"nomor": "1/2"})
    assert yaml.safe_load(new) == {"sop": {"nomor": "1/2"}, "counting": {"days": "kerja"}}


def test_a_header_written_over_an_unusual_layout_keeps_a_zero_padded_step_its_own():
    """The whole file written anew (a quoted "sop" key) read step 010 as octal 8 and wrote it as 8."""
    text = '"sop": {nomor: "1/1"}\nsteps:\n  010:\n    output: Data\n'
    new = replace_sop_section(text, {"nomor": "1/2"})
    assert user_yaml(new) == {"sop": {"nomor": "1/2"}, "steps": {"010": {"output": "Data"}}}


def test_a_time_written_without_quotes_stays_the_time_written():
    """YAML 1.1 reads an unquoted 16:00 as the sexagesimal number 960 (and 07:30 as text)."""
    assert user_yaml("a: 16:00\nb: 07:30\nc: 1:30.5\nd: 16\ne: 1.5\nf: '16:00'\n") == {
        "a": "16:00", "b": "07:30", "c": "1:30.5", "d": 16, "e": 1.5, "f": "16:00"}


def test_bad_header_fields_are_named():
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_efektif": "22 Mei 2025", "disahkan_oleh": {"nip": "19670715-1993"},
                      "judul": "x"})
    assert set(err.value.errors) == {"tanggal_efektif", "disahkan_oleh.nip", "judul"}


def test_a_header_date_of_an_implausible_year_is_refused():
    """The official sheet printed "1 Januari 0001" for a mistyped year, as step dates no longer can."""
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_efektif": "0001-01-01", "tanggal_pembuatan": "2025-05-21"})
    assert err.value.errors == {"tanggal_efektif": "tahun antara 1900 dan 2999"}


def test_a_revision_date_before_the_date_the_sop_was_made_is_refused_at_the_revision_date():
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_revisi": "2025-05-20"})
    assert err.value.errors == {"tanggal_revisi": "tidak boleh sebelum tanggal pembuatan"}
    # The same day or later is a revision; a date that cannot be read keeps its own error.
    assert clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_revisi": "2025-05-21"})["tanggal_revisi"] \
        == date(2025, 5, 21)
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_revisi": "20-05-2025"})
    assert err.value.errors == {"tanggal_revisi": "tanggal tidak valid (TTTT-BB-HH)"}
    assert clean_header({"tanggal_revisi": "2020-01-01"}) == {"tanggal_revisi": date(2020, 1, 1)}



def test_an_effective_date_before_the_date_the_sop_was_made_is_refused_at_the_effective_date():
    """An SOP cannot take effect before it was made (2020-01-01 against 21 Mei 2025)."""
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_efektif": "2020-01-01"})
    assert err.value.errors == {"tanggal_efektif": "tidak boleh sebelum tanggal pembuatan"}
    with pytest.raises(InvalidData) as err:
        clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_revisi": "2025-05-20",
                      "tanggal_efektif": "2025-05-20"})
    assert err.value.errors == {"tanggal_revisi": "tidak boleh sebelum tanggal pembuatan",
                                "tanggal_efektif": "tidak boleh sebelum tanggal pembuatan"}
    # The same day or later takes effect; without a date the SOP was made, nothing is judged.
    assert clean_header({"tanggal_pembuatan": "2025-05-21", "tanggal_efektif": "2025-05-21"})["tanggal_efektif"] \
        == date(2025, 5, 21)
    assert clean_header({"tanggal_efektif": "2020-01-01"}) == {"tanggal_efektif": date(2020, 1, 1)}

def test_the_records_fields_own_title_is_one_line_of_text_and_may_be_left_out():
    assert clean_header({"judul_pencatatan": "  Pengumpulan dan\nInput Data "}) == {
        "judul_pencatatan": "Pengumpulan dan Input Data"}
    assert clean_header({"judul_pencatatan": ""}) == {}
    with pytest.raises(InvalidData) as err:
        clean_header({"judul_pencatatan": "x" * 1001})
    assert err.value.errors == {"judul_pencatatan": "terlalu panjang"}
    without = load(BPMN.read_text(encoding="utf-8"), replace_sop_section(
        load_file(BPMN).yaml_text, {"nomor": "1/2"}))
    assert sop_document.build(without).header.judul_pencatatan == ""


def test_header_lists_drop_empty_lines_and_numbering():
    clean = clean_header({"peringatan": "1. Satu\n\n  2) Dua  \n- Tiga\nEmpat", "tanggal_revisi": "",
                          "disahkan_oleh": {"jabatan": " Kepala  Dinas ", "nip": "1967 0715"}})
    assert clean == {"disahkan_oleh": {"jabatan": "Kepala Dinas", "nip": "19670715"},
                     "peringatan": ["Satu", "Dua", "Tiga", "Empat"]}


def test_a_header_list_written_as_one_text_is_cut_only_at_its_line_breaks():
    """A list written as one text in the YAML: str.splitlines() also cut at U+2028 and a form feed."""
    yaml_text = replace_sop_section(load_file(BPMN).yaml_text, {"nomor": "1/2"}).replace(
        "sop:\n", 'sop:\n  peringatan: "Data\\u2028tidak \\fseragam\\r\\nArsip\\Nhilang\\rTerlambat"\n', 1)
    header = sop_document.build(load(BPMN.read_text(encoding="utf-8"), yaml_text)).header
    assert header.peringatan == ("Data tidak seragam", "Arsip", "hilang", "Terlambat")
