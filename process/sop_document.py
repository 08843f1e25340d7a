"""The official SOP document, built from a running definition.

The national format for government-administration SOPs (Permenpan RB
35/2012): a header sheet (kop) and a flowchart table with the columns No ·
Uraian Prosedur · one column per Pelaksana (the diagram's lanes, in the
diagram's order) · Mutu Baku (Kelengkapan, Waktu, Output) · Keterangan, one row
per SOP step in SOP-number order.

Pure: a Definition in, a SopDocument out. The flowchart is laid out once, in
millimetres, in one coordinate system spanning every lane column and every row
(x = 0 at the left edge of the first lane column, y = 0 at the top of the first
step row). Each lane cell of the table is drawn as an SVG window onto that one
drawing (`cell_svg`), so a connector that crosses rows and lanes is a single
polyline in the model and stays continuous on paper. Where the table breaks
over pages is decided here too (`_paginate`): a connector crossing a break is
drawn up to an off-page connector at the page's foot and on from its twin at
the next page's top.

Row heights are estimated here from the text (conservatively: a sans-serif
font at 8 pt with wide glyphs), because the drawing must know each row's height
before the renderer lays the table out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from html import escape
from typing import Any

from process import bpmn
from process.calendar import CountingRule
from process.definition import Definition, Step
from process.messages import Text
from process.mutu_baku import Unit
from process.plain_text import printable_lines

# Symbol kinds
TERMINATOR = "terminator"   # capsule: start and end
PROCESS = "process"         # rectangle: a step
DECISION = "decision"       # diamond: a step whose outcome routes the flow

# Page geometry (A4 landscape, 10 mm margins) and the table's fixed columns, mm.
PAGE_WIDTH = 277.0
NO_WIDTH, KELENGKAPAN_WIDTH, WAKTU_WIDTH, OUTPUT_WIDTH, KETERANGAN_WIDTH = 8.0, 30.0, 16.0, 30.0, 20.0
MIN_URAIAN_WIDTH = 44.0
MIN_LANE_WIDTH, MAX_LANE_WIDTH = 16.0, 30.0
# Many lanes: the text columns (Kelengkapan, Output, Keterangan) give up to 40% of their width, so
# 10 lanes still fit the page. Lanes never narrow below their minimum: a symbol would not fit.
MIN_TEXT_SHARE = 0.6
MAX_LANES = int((PAGE_WIDTH - NO_WIDTH - WAKTU_WIDTH - MIN_URAIAN_WIDTH
                 - MIN_TEXT_SHARE * (KELENGKAPAN_WIDTH + OUTPUT_WIDTH + KETERANGAN_WIDTH)) // MIN_LANE_WIDTH)

# Text metrics for the row-height estimate (8 pt, line-height 1.2, cell padding).
FONT_PT = 8.0
LINE_MM = FONT_PT * 0.3528 * 1.2
CHAR_MM = FONT_PT * 0.3528 * 0.6       # a generous average glyph width
CELL_PAD_MM = 1.2

# Flowchart drawing, mm.
RECT_H, DIAMOND_H, CAPSULE_H = 7.0, 10.0, 5.0
DIAMOND_W = 12.0
STACK_GAP = 4.5                        # between a capsule and the step's symbol
ROW_MARGIN = 3.5                       # above and below a row's symbols
MIN_ROW_HEIGHT = 14.0
BYPASS_INSET = 2.2                     # a bypass runs this far inside its column's edge
BYPASS_STEP = 1.4                      # ... and this much further in for each one more
STROKE = 0.3
ARROW_LEN, ARROW_HALF = 1.7, 0.75
LABEL_SIZE, TERMINATOR_LABEL_SIZE = 2.2, 2.1

# Pages, mm: the table's part of an A4 landscape page (210 mm less the 10 mm margins), what each row adds
# for its rules (0.7 pt) and a margin on the estimated heading rows.
PAGE_HEIGHT = 190.0
ROW_RULE = 0.3
HEAD_SAFETY = 2.0
NUMBERS_ROW_MM = 7.0 * 0.3528 * 1.2 + 0.8     # the row of column numbers: 7 pt, 0.4 mm padding
LONGEST_HEAD_LABEL = "Requirements"           # the longest Mutu Baku label, in either language
# The off-page connector: a pentagon pointing down, with its letter; the room it takes at a page's foot and
# at the next page's top.
OFFPAGE_W, OFFPAGE_H, OFFPAGE_POINT, OFFPAGE_GAP = 4.0, 4.2, 1.6, 0.8
OFFPAGE_ROOM = OFFPAGE_H + 2 * OFFPAGE_GAP


# -- the model ------------------------------------------------------------------------

@dataclass(frozen=True)
class Pengesah:
    """Disahkan oleh: who approved the SOP."""
    jabatan: str = ""
    nama: str = ""
    pangkat: str = ""
    nip: str = ""


@dataclass(frozen=True)
class Header:
    """The header sheet (kop SOP). Dates are `date`s, or the text as written."""
    instansi: tuple[str, ...]
    nomor: str
    tanggal_pembuatan: date | str | None
    tanggal_revisi: date | str | None
    tanggal_efektif: date | str | None
    disahkan_oleh: Pengesah
    nama: str
    dasar_hukum: tuple[str, ...]
    kualifikasi_pelaksana: tuple[str, ...]
    keterkaitan: tuple[str, ...]
    peralatan_perlengkapan: tuple[str, ...]
    peringatan: tuple[str, ...]
    pencatatan_pendataan: tuple[str, ...]
    judul_pencatatan: str = ""     # the SOP's own title for Pencatatan dan Pendataan, if it has one


def header_date_problems(header: dict[str, Any]) -> dict[str, Text]:
    """The header's dates that contradict each other, by field: a revision dated, or an effective date,
    before the SOP was made (Tanggal Revisi or Tanggal Efektif before Tanggal Pembuatan). Dates are `date`s
    or ISO text; others are not judged here."""
    made = _date(header.get("tanggal_pembuatan"))
    if not isinstance(made, date):
        return {}
    later = ("tanggal_revisi", "tanggal_efektif")
    return {key: Text("tidak boleh sebelum tanggal pembuatan") for key in later
            if isinstance(day := _date(header.get(key)), date) and day < made}


@dataclass(frozen=True)
class Column:
    """A Pelaksana column: one lane of the diagram."""
    lane_id: str
    name: str
    role: str
    x: float
    width: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Widths:
    no: float
    uraian: float
    lane: float
    kelengkapan: float
    waktu: float
    output: float
    keterangan: float


@dataclass(frozen=True)
class Symbol:
    element_id: str
    kind: str
    column: int
    row: int
    cx: float
    cy: float
    w: float
    h: float
    label: str = ""

    @property
    def top(self) -> float:
        return self.cy - self.h / 2

    @property
    def bottom(self) -> float:
        return self.cy + self.h / 2

    def side_x(self, side: str) -> float:
        return self.cx + (self.w / 2 if side == "right" else -self.w / 2)


@dataclass(frozen=True)
class Branch:
    """One outcome of a decision row."""
    label: str
    condition: str | None
    target_element: str
    target_number: int | None       # None when the branch ends the process


@dataclass(frozen=True)
class Connector:
    source: str
    target: str
    label: str
    points: tuple[tuple[float, float], ...]     # the polyline; the last point is the arrow's tip
    label_at: tuple[float, float, str] | None = None  # x, y, text-anchor
    # The polyline as drawn, when a page break cuts it: up to an off-page connector, and on from its twin.
    pieces: tuple[tuple[tuple[float, float], ...], ...] = ()

    @property
    def drawn(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """The lines drawn, each ending in an arrowhead (at the target, or into an off-page connector)."""
        return self.pieces or (self.points,)


@dataclass(frozen=True)
class OffPage:
    """Where a flow crosses a page break: an off-page connector at the foot of the page before it (its top at
    `top`) and one at the top of the next page (its point at `bottom`), both at `x` with the same label."""
    label: str
    x: float
    top: float
    bottom: float


@dataclass(frozen=True)
class Row:
    number: int
    element_id: str
    uraian: str
    column: int
    kind: str                          # PROCESS or DECISION
    kelengkapan: str
    waktu: str                         # the SOP notation: "30 Menit", "1 Hari"
    output: str
    # How the step's time is counted when it differs from the whole SOP's
    # rule: "hari_kerja", "hari_kalender", "jam_kerja" or "jam"; else None.
    counting_note: str | None
    branches: tuple[Branch, ...]
    symbols: tuple[Symbol, ...]        # drawn in this row, top to bottom
    top: float
    height: float
    page: int = 1                      # the table's page the row is printed on
    pad_top: float = 0.0               # room for off-page connectors at the top of a page ...
    pad_bottom: float = 0.0            # ... and at its foot

    @property
    def is_decision(self) -> bool:
        return self.kind == DECISION

    @property
    def note(self) -> Text | None:
        """The Keterangan: how the step's time is counted, when it differs from the whole SOP's rule."""
        return COUNTING_NOTES.get(self.counting_note or "")

    @property
    def symbol(self) -> Symbol:
        """The step's own symbol (rectangle or diamond)."""
        return next(s for s in self.symbols if s.element_id == self.element_id)


@dataclass(frozen=True)
class SopDocument:
    key: str
    header: Header
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    connectors: tuple[Connector, ...]
    widths: Widths
    counting: CountingRule              # the SOP's own rule for counting Waktu
    off_page: tuple[OffPage, ...] = ()

    @property
    def lanes_width(self) -> float:
        return sum(c.width for c in self.columns)

    @property
    def total_width(self) -> float:
        w = self.widths
        return w.no + w.uraian + self.lanes_width + w.kelengkapan + w.waktu + w.output + w.keterangan

    @property
    def column_count(self) -> int:
        """Numbered table columns: No, Uraian, the lanes, three Mutu Baku, Keterangan."""
        return len(self.columns) + 6

    def symbol(self, element_id: str) -> Symbol:
        return next(s for r in self.rows for s in r.symbols if s.element_id == element_id)

    def connectors_from(self, element_id: str) -> list[Connector]:
        return [c for c in self.connectors if c.source == element_id]


# -- building ------------------------------------------------------------------------

def build(definition: Definition, office_rule: CountingRule | None = None) -> SopDocument:
    """The SOP document of a definition.

    `office_rule` is the office calendar's counting rule (hari kerja by
    default); the definition's and each step's overrides apply on top of it.
    """
    graph = bpmn.read_graph(definition.bpmn_xml)
    base_rule = office_rule or CountingRule()
    sop_rule = replace(base_rule, **definition.counting) if definition.counting else base_rule
    widths = _widths(len(definition.lanes))
    columns = tuple(
        Column(lane.id, lane.name, lane.role, i * widths.lane, widths.lane) for i, lane in enumerate(definition.lanes)
    )
    column_of_lane = {c.lane_id: i for i, c in enumerate(columns)}
    steps = sorted(definition.steps, key=lambda s: s.number)
    row_of = {s.element_id: i for i, s in enumerate(steps)}
    lane_of_node = {ref: info.id for info in graph.lanes for ref in info.nodes}

    edges = _edges(definition, graph, steps)
    starts, ends = _terminators(graph, edges, row_of)

    rows: list[Row] = []
    top = 0.0
    for i, step in enumerate(steps):
        column = column_of_lane[step.lane.id]
        kind = DECISION if _is_decision(step) else PROCESS
        stack: list[tuple[str, str, int, str]] = []    # (element id, kind, column, label)
        for node_id in starts.get(i, ()):
            stack.append((node_id, TERMINATOR, column_of_lane.get(lane_of_node.get(node_id, ""), column),
                          graph.nodes[node_id].name))
        stack.append((step.element_id, kind, column, ""))
        for node_id in ends.get(i, ()):
            stack.append((node_id, TERMINATOR, column_of_lane.get(lane_of_node.get(node_id, ""), column),
                          graph.nodes[node_id].name))
        sizes = [_size(k, widths.lane) for _, k, _, _ in stack]
        stack_height = sum(h for _, h in sizes) + STACK_GAP * (len(stack) - 1)
        note = _counting_note(step, base_rule, sop_rule)
        height = max(MIN_ROW_HEIGHT, stack_height + 2 * ROW_MARGIN,
                     _text_height(step, widths, COUNTING_NOTES.get(note or "")))
        y = top + (height - stack_height) / 2
        symbols = []
        for (element_id, sym_kind, col, label), (w, h) in zip(stack, sizes):
            symbols.append(Symbol(element_id, sym_kind, col, i, columns[col].center, y + h / 2, w, h, label))
            y += h + STACK_GAP
        rows.append(Row(
            number=step.number, element_id=step.element_id, uraian=step.name, column=column, kind=kind,
            kelengkapan=step.kelengkapan, waktu=str(step.mutu_baku), output=step.output,
            counting_note=note,
            branches=_branches(step, edges, row_of, steps), symbols=tuple(symbols), top=top, height=height,
        ))
        top += height

    rows = _paginate(rows, _head_height(columns, widths))
    connectors, off_page = _off_page(_Router(rows, columns).route(edges), rows)
    return SopDocument(
        key=definition.key, header=_header(definition, graph), columns=columns, rows=tuple(rows),
        connectors=connectors, widths=widths, counting=sop_rule, off_page=off_page,
    )


def head_height(doc: SopDocument) -> float:
    """The table's heading rows, repeated on each of its pages (an upper estimate)."""
    return _head_height(doc.columns, doc.widths)


def _head_height(columns: tuple[Column, ...], widths: Widths) -> float:
    names = max([wrapped_lines(c.name, c.width) for c in columns] +
                [wrapped_lines(LONGEST_HEAD_LABEL, widths.kelengkapan)])
    return (1 + names) * LINE_MM + 4 * CELL_PAD_MM + NUMBERS_ROW_MM + 3 * ROW_RULE + HEAD_SAFETY


def _paginate(rows: list[Row], head: float) -> list[Row]:
    """The rows with their pages. Where the table breaks is decided here, from the rows' heights (the paper
    breaks before each page's first row), so that off-page connectors can be drawn at the breaks: the last
    row of a page gets room for them at its foot, the next page's first row at its top. A row taller than a
    page has one of its own."""
    room, used, starts = PAGE_HEIGHT - head, 0.0, set()
    for i, row in enumerate(rows):
        reserve = OFFPAGE_ROOM if i + 1 < len(rows) else 0.0
        if used and used + row.height + ROW_RULE + reserve > room:
            starts.add(i)
            used = OFFPAGE_ROOM
        used += row.height + ROW_RULE
    paged, shift, page = [], 0.0, 1
    for i, row in enumerate(rows):
        pad_top, pad_bottom = OFFPAGE_ROOM * (i in starts), OFFPAGE_ROOM * (i + 1 in starts)
        page += i in starts
        symbols = tuple(replace(s, cy=s.cy + shift + pad_top) for s in row.symbols)
        paged.append(replace(row, top=row.top + shift, height=row.height + pad_top + pad_bottom, page=page,
                             pad_top=pad_top, pad_bottom=pad_bottom, symbols=symbols))
        shift += pad_top + pad_bottom
    return paged


def _off_page(connectors: tuple[Connector, ...], rows: list[Row]) -> tuple[tuple[Connector, ...], tuple[OffPage, ...]]:
    """The connectors cut where they cross a page break, and the off-page connectors there, labelled A, B, …
    left to right, page by page. Only vertical segments cross a break: every turn is inside a row."""
    pieces = {id(c): [c.points] for c in connectors}
    marks: list[OffPage] = []
    for upper, lower in zip(rows, rows[1:]):
        if not lower.pad_top:
            continue
        top = upper.top + upper.height - upper.pad_bottom + OFFPAGE_GAP
        bottom = lower.top + lower.pad_top - OFFPAGE_GAP
        at: dict[float, OffPage] = {}
        for x in sorted({a[0] for c in connectors for piece in pieces[id(c)]
                         for a, b in zip(piece, piece[1:]) if _crosses(a, b, top, bottom)}):
            at[x] = OffPage(_letters(len(marks)), x, top, bottom)
            marks.append(at[x])
        for c in connectors:
            pieces[id(c)] = [part for piece in pieces[id(c)] for part in _cut(piece, top, bottom)]
    cut = tuple(replace(c, pieces=tuple(pieces[id(c)])) if len(pieces[id(c)]) > 1 else c for c in connectors)
    return cut, tuple(marks)


def _crosses(a: tuple[float, float], b: tuple[float, float], top: float, bottom: float) -> bool:
    return a[0] == b[0] and min(a[1], b[1]) < top and max(a[1], b[1]) > bottom


def _cut(points: tuple[tuple[float, float], ...], top: float, bottom: float) -> list[tuple[tuple[float, float], ...]]:
    """The polyline without its part between `top` and `bottom` (the band between two off-page connectors)."""
    for i, (a, b) in enumerate(zip(points, points[1:])):
        if _crosses(a, b, top, bottom):
            leave, back = (top, bottom) if b[1] > a[1] else (bottom, top)
            return [points[:i + 1] + ((a[0], leave),), ((a[0], back),) + points[i + 1:]]
    return [points]


def _letters(index: int) -> str:
    """A, B, …, Z, AA, AB, …"""
    return (_letters(index // 26 - 1) if index >= 26 else "") + chr(ord("A") + index % 26)


def table_content(doc: SopDocument) -> tuple:
    """What the flowchart table says, without the drawing's geometry: two versions alike here print the
    same procedure (whatever their header sheets say)."""
    rows = tuple((r.number, r.uraian, doc.columns[r.column].name, r.kind, r.kelengkapan, r.waktu, r.output,
                  r.counting_note) for r in doc.rows)
    flows = tuple(sorted((c.source, c.target, c.label) for c in doc.connectors))
    return tuple(c.name for c in doc.columns), doc.counting, rows, flows


def _widths(lanes: int) -> Widths:
    lanes = max(lanes, 1)
    text = KELENGKAPAN_WIDTH + OUTPUT_WIDTH + KETERANGAN_WIDTH
    fixed = NO_WIDTH + WAKTU_WIDTH + MIN_URAIAN_WIDTH  # what never narrows
    lane = min(MAX_LANE_WIDTH, max(MIN_LANE_WIDTH, (PAGE_WIDTH - NO_WIDTH - WAKTU_WIDTH - text - 60.0) / lanes))
    share = min(1.0, max(MIN_TEXT_SHARE, (PAGE_WIDTH - fixed - lane * lanes) / text))
    uraian = max(MIN_URAIAN_WIDTH, PAGE_WIDTH - NO_WIDTH - WAKTU_WIDTH - text * share - lane * lanes)
    return Widths(NO_WIDTH, round(uraian, 2), round(lane, 2), round(KELENGKAPAN_WIDTH * share, 2), WAKTU_WIDTH,
                  round(OUTPUT_WIDTH * share, 2), round(KETERANGAN_WIDTH * share, 2))


def _size(kind: str, lane_width: float) -> tuple[float, float]:
    room = lane_width - 2 * (BYPASS_INSET + BYPASS_STEP + 1.5)
    if kind == TERMINATOR:
        return min(15.0, room), CAPSULE_H
    if kind == DECISION:
        return min(DIAMOND_W, room), DIAMOND_H
    return min(18.0, room), RECT_H


def _is_decision(step: Step) -> bool:
    return step.decision is not None and len(step.decision.outcomes) > 1


def wrapped_lines(text: str, width_mm: float) -> int:
    """How many lines `text` takes in a cell `width_mm` wide (an upper estimate)."""
    per_line = max(1, int((width_mm - 2 * CELL_PAD_MM) / CHAR_MM))
    lines = 0
    for paragraph in (text or "").splitlines() or [""]:
        used = 0
        lines += 1
        for word in paragraph.split():
            need = len(word) if used == 0 else used + 1 + len(word)
            if need <= per_line:
                used = need
                continue
            lines += 1 if used else 0
            used = len(word)
            while used > per_line:      # a word longer than the cell breaks anywhere
                lines += 1
                used -= per_line
    return lines


def _text_height(step: Step, widths: Widths, note: str | None) -> float:
    cells = ((step.name, widths.uraian), (step.kelengkapan, widths.kelengkapan), (step.output, widths.output),
             (str(step.mutu_baku), widths.waktu), (note or "", widths.keterangan))
    return max(wrapped_lines(text, width) for text, width in cells) * LINE_MM + 2 * CELL_PAD_MM + 1.0


# The Keterangan of a step counted otherwise than the whole SOP (in the reader's language on the page; the
# height is reserved for the Indonesian, which is no shorter than the English).
COUNTING_NOTES = {
    "hari_kerja": Text("Dihitung dalam hari kerja"), "hari_kalender": Text("Dihitung dalam hari kalender"),
    "jam_kerja": Text("Dihitung dalam jam kerja"), "jam": Text("Dihitung dalam waktu jam (24 jam sehari)"),
}


def _counting_note(step: Step, base: CountingRule, sop_rule: CountingRule) -> str | None:
    if step.mutu_baku.working is not None:
        return None                      # the Waktu says it itself ("7 Hari Kerja")
    rule = replace(base, **step.counting) if step.counting else base
    if step.mutu_baku.unit is Unit.HARI:
        return None if rule.days == sop_rule.days else f"hari_{rule.days}"
    if rule.time == sop_rule.time:
        return None
    return "jam_kerja" if rule.time == "kerja" else "jam"


# -- the flow: which element follows which ----------------------------------------------

@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    label: str = ""
    condition: str | None = None
    branch: bool = False


def _edges(definition: Definition, graph: bpmn.Graph, steps: list[Step]) -> list[_Edge]:
    drawable = {s.element_id for s in steps} | {n.id for n in graph.nodes.values() if n.kind == "endEvent"}

    def resolve(node_id: str) -> str | None:
        """Through merging gateways (one way out) to the step or end event the flow reaches."""
        seen = set()
        while node_id not in drawable:
            node = graph.nodes.get(node_id)
            outgoing = graph.outgoing(node_id) if node is not None else []
            if node is None or node.kind != "exclusiveGateway" or len(outgoing) != 1 or node_id in seen:
                return None
            seen.add(node_id)
            node_id = outgoing[0].target
        return node_id

    edges: list[_Edge] = []
    for node in graph.nodes.values():
        if node.kind == "startEvent":
            for flow in graph.outgoing(node.id):
                target = resolve(flow.target)
                if target is not None:
                    edges.append(_Edge(node.id, target))
    for step in steps:
        if _is_decision(step):
            for _flow_id, label, condition, target_id in step.decision.outcomes:
                target = resolve(target_id)
                if target is not None:
                    edges.append(_Edge(step.element_id, target, label or "", condition, branch=True))
            continue
        for flow in graph.outgoing(step.element_id):
            target = resolve(flow.target)
            if target is not None:
                edges.append(_Edge(step.element_id, target))
    return edges


def _terminators(graph: bpmn.Graph, edges: list[_Edge], row_of: dict[str, int]
                 ) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The row each start and end capsule is drawn in: a start above the step it
    leads to, an end below the last (highest-numbered) step that reaches it."""
    starts: dict[int, list[str]] = {}
    ends: dict[int, list[str]] = {}
    for node in graph.nodes.values():
        if node.kind == "startEvent":
            rows = [row_of[e.target] for e in edges if e.source == node.id and e.target in row_of]
            if rows:
                starts.setdefault(min(rows), []).append(node.id)
        elif node.kind == "endEvent":
            rows = [row_of[e.source] for e in edges if e.target == node.id and e.source in row_of]
            if rows:
                ends.setdefault(max(rows), []).append(node.id)
    return starts, ends


def _branches(step: Step, edges: list[_Edge], row_of: dict[str, int], steps: list[Step]) -> tuple[Branch, ...]:
    if not _is_decision(step):
        return ()
    return tuple(
        Branch(e.label, e.condition, e.target, steps[row_of[e.target]].number if e.target in row_of else None)
        for e in edges if e.source == step.element_id and e.branch
    )


# -- routing: orthogonal connectors between the symbols -----------------------------------

class _Router:
    """Lays each flow out as an orthogonal polyline.

    A flow to the next row (or to a capsule in the same row) leaves the bottom
    of its symbol when the target is in the same column, else the side facing
    the target, and enters the target from the top. Any other flow (a branch
    back, or forward over other rows) leaves a free side, runs along the edge
    of the target's column ("bypass") and enters the target from a free side.
    """

    def __init__(self, rows: list[Row], columns: tuple[Column, ...]):
        self.rows = rows
        self.columns = columns
        self.symbols = {s.element_id: s for r in rows for s in r.symbols}
        self.ports: dict[str, dict[str, str]] = {k: {} for k in self.symbols}
        self.bypasses: dict[tuple[int, str], int] = {}

    def route(self, edges: list[_Edge]) -> tuple[Connector, ...]:
        drawn = [e for e in edges if e.source in self.symbols and e.target in self.symbols]
        adjacent = [e for e in drawn if self._adjacent(e)]
        others = [e for e in drawn if not self._adjacent(e)]
        routed: dict[int, Connector] = {}
        for edge in adjacent:
            routed[id(edge)] = self._adjacent_route(edge) or self._bypass_route(edge)
        for edge in others:
            routed[id(edge)] = self._bypass_route(edge)
        return tuple(routed[id(e)] for e in drawn)

    def _adjacent(self, edge: _Edge) -> bool:
        s, t = self.symbols[edge.source], self.symbols[edge.target]
        return t.row == s.row + 1 or (t.row == s.row and t.top > s.bottom)

    def _free(self, element_id: str, side: str) -> bool:
        return side not in self.ports[element_id]

    def _use(self, element_id: str, side: str, how: str) -> None:
        self.ports[element_id].setdefault(side, how)

    def _adjacent_route(self, edge: _Edge) -> Connector | None:
        s, t = self.symbols[edge.source], self.symbols[edge.target]
        if abs(s.cx - t.cx) < 0.01:
            if not self._free(s.element_id, "bottom"):
                return None
            self._use(s.element_id, "bottom", "out")
            self._use(t.element_id, "top", "in")
            return self._connector(edge, [(s.cx, s.bottom), (t.cx, t.top)], s, "bottom")
        side = "right" if t.cx > s.cx else "left"
        if self._free(s.element_id, side):
            self._use(s.element_id, side, "out")
            self._use(t.element_id, "top", "in")
            x0 = s.side_x(side)
            return self._connector(edge, [(x0, s.cy), (t.cx, s.cy), (t.cx, t.top)], s, side)
        if self._free(s.element_id, "bottom"):
            self._use(s.element_id, "bottom", "out")
            self._use(t.element_id, "top", "in")
            turn = (s.bottom + t.top) / 2 if t.row == s.row else s.bottom + self._room_below(s) / 2
            return self._connector(edge, [(s.cx, s.bottom), (s.cx, turn), (t.cx, turn), (t.cx, t.top)], s, "bottom")
        return None

    def _room_below(self, s: Symbol) -> float:
        row = self.rows[s.row]
        return max(1.0, row.top + row.height - row.pad_bottom - s.bottom)

    def _bypass_route(self, edge: _Edge) -> Connector:
        s, t = self.symbols[edge.source], self.symbols[edge.target]
        toward = "right" if t.cx > s.cx + 0.01 else "left" if t.cx < s.cx - 0.01 else "right"
        away = _opposite(toward)
        if abs(t.cx - s.cx) < 0.01:
            # The same column: out and back in on one side, the right one if it is free.
            side = next((x for x in (toward, away) if self._free(s.element_id, x)
                         and self.ports[t.element_id].get(x) != "out"), None)
            source_side, target_side = (side, side) if side else ("bottom", toward)
        else:
            source_side = next((x for x in (toward, away, "bottom") if self._free(s.element_id, x)), "bottom")
            near = away                                   # the side of the target that faces the source
            target_side = next((x for x in (near, toward) if self.ports[t.element_id].get(x) != "out"), near)
        x_bypass = self._bypass_x(t, target_side)
        self._use(s.element_id, source_side, "out")
        self._use(t.element_id, target_side, "in")
        tip = (t.side_x(target_side), t.cy)
        if source_side == "bottom":
            turn = s.bottom + min(2.0, self._room_below(s) / 2)
            points = [(s.cx, s.bottom), (s.cx, turn), (x_bypass, turn), (x_bypass, t.cy), tip]
        else:
            start = (s.side_x(source_side), s.cy)
            heading_out = (x_bypass - start[0]) * (1 if source_side == "right" else -1) > 0.5
            if heading_out:
                points = [start, (x_bypass, s.cy), (x_bypass, t.cy), tip]
            else:                       # the bypass is behind the source: step out first, then around
                out_x = start[0] + (1.5 if source_side == "right" else -1.5)
                turn = s.bottom + min(2.0, self._room_below(s) / 2)
                points = [start, (out_x, s.cy), (out_x, turn), (x_bypass, turn), (x_bypass, t.cy), tip]
        return self._connector(edge, points, s, source_side)

    def _bypass_x(self, t: Symbol, side: str) -> float:
        count = self.bypasses.get((t.column, side), 0)
        self.bypasses[(t.column, side)] = count + 1
        column = self.columns[t.column]
        inset = BYPASS_INSET + count * BYPASS_STEP
        x = column.x + column.width - inset if side == "right" else column.x + inset
        # Never inside the symbol itself.
        return max(x, t.cx + t.w / 2 + 1.0) if side == "right" else min(x, t.cx - t.w / 2 - 1.0)

    @staticmethod
    def _connector(edge: _Edge, points: list[tuple[float, float]], s: Symbol, side: str) -> Connector:
        label_at = None
        if edge.label:
            x0, y0 = points[0]
            if side == "bottom":
                label_at = (x0 + 1.0, y0 + LABEL_SIZE + 0.3, "start")
            else:
                label_at = (x0 + (0.7 if side == "right" else -0.7), y0 - 0.8, "start" if side == "right" else "end")
        rounded = tuple((round(x, 3), round(y, 3)) for x, y in _simplify(points))
        return Connector(edge.source, edge.target, edge.label, rounded, label_at)


def _opposite(side: str) -> str:
    return {"left": "right", "right": "left"}[side]


def _simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated points and the middle point of three in a straight line."""
    out: list[tuple[float, float]] = []
    for p in points:
        if out and abs(out[-1][0] - p[0]) < 1e-6 and abs(out[-1][1] - p[1]) < 1e-6:
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (abs(a[0] - b[0]) < 1e-6 and abs(b[0] - p[0]) < 1e-6) or \
               (abs(a[1] - b[1]) < 1e-6 and abs(b[1] - p[1]) < 1e-6):
                out[-1] = p
                continue
        out.append(p)
    return out


# -- the header sheet -----------------------------------------------------------------

_REGION = re.compile(r"^(?P<unit>.+?)\s+(?P<region>(?:Kota|Kabupaten|Provinsi)\s+.+)$", re.IGNORECASE)


def _header(definition: Definition, graph: bpmn.Graph) -> Header:
    raw = definition.header
    signer = raw.get("disahkan_oleh")
    if isinstance(signer, dict):
        pengesah = Pengesah(**{k: _text(signer.get(k)) for k in ("jabatan", "nama", "pangkat", "nip")})
    else:
        pengesah = Pengesah(jabatan=_text(signer))
    office = _participant_name(definition.bpmn_xml, graph.process_id)
    if not office and pengesah.jabatan.lower().startswith("kepala "):
        office = pengesah.jabatan[len("kepala "):]
    return Header(
        instansi=instansi_lines(office), nomor=_text(raw.get("nomor")),
        tanggal_pembuatan=_date(raw.get("tanggal_pembuatan")), tanggal_revisi=_date(raw.get("tanggal_revisi")),
        tanggal_efektif=_date(raw.get("tanggal_efektif")), disahkan_oleh=pengesah, nama=definition.name,
        dasar_hukum=_items(raw.get("dasar_hukum")), kualifikasi_pelaksana=_items(raw.get("kualifikasi_pelaksana")),
        keterkaitan=_items(raw.get("keterkaitan")), peralatan_perlengkapan=_items(raw.get("peralatan_perlengkapan")),
        peringatan=_items(raw.get("peringatan")), pencatatan_pendataan=_items(raw.get("pencatatan_pendataan")),
        judul_pencatatan=_text(raw.get("judul_pencatatan")),
    )


def instansi_lines(office: str) -> tuple[str, ...]:
    """The office's name as the kop prints it: "Dinas X Kota Y" → PEMERINTAH KOTA Y / DINAS X."""
    office = " ".join((office or "").split())
    if not office:
        return ()
    match = _REGION.match(office)
    if match:
        return (f"PEMERINTAH {match['region']}".upper(), match["unit"].upper())
    return (office.upper(),)


def _participant_name(bpmn_xml: str, process_id: str) -> str:
    root = bpmn.parse_xml(bpmn_xml)
    for participant in root.iter(f"{{{bpmn.BPMN_NS}}}participant"):
        if participant.get("processRef") == process_id:
            return (participant.get("name") or "").strip()
    return ""


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _date(value: Any) -> date | str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return _text(value)


def _items(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(t for t in (_text(v) for v in value) if t)
    return tuple(t for t in (_text(line) for line in printable_lines(str(value))) if t)


# -- drawing ---------------------------------------------------------------------------

def cell_svg(doc: SopDocument, row: Row, column: int) -> str:
    """The SVG of one lane cell: a window onto the whole flowchart. For a screen reader the performer's
    cell is an image named by its lane (who does the step); the other cells' lines are hidden."""
    col = doc.columns[column]
    x0, y0, w, h = col.x, row.top, col.width, row.height
    said = f'aria-label="{escape(col.name)}"' if column == row.column else 'aria-hidden="true"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sop-cell" width="{_n(w)}mm" height="{_n(h)}mm" '
        f'viewBox="{_n(x0)} {_n(y0)} {_n(w)} {_n(h)}" overflow="hidden" role="img" {said}>',
        f'<clipPath id="clip-{row.number}-{column}"><rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(w)}" '
        f'height="{_n(h)}"/></clipPath>',
        f'<g clip-path="url(#clip-{row.number}-{column})">',
    ]
    window = (x0, y0, x0 + w, y0 + h)
    near = [c for c in doc.connectors if _meets(window, _polyline_boxes(c.points))]
    symbols = [s for r in doc.rows for s in r.symbols
               if _meets(window, [(s.cx - s.w / 2, s.top, s.cx + s.w / 2, s.bottom)])]
    for line in (line for c in near for line in c.drawn if _meets(window, _polyline_boxes(line))):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in line)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#000" stroke-width="{STROKE}" '
                     f'stroke-linejoin="miter"/>')
        parts.append(_arrowhead(line[-2], line[-1]))
    for s in symbols:
        parts.append(_symbol(s, with_label=_owns(window, s.cx, s.cy)))
    for mark in doc.off_page:
        for top in (mark.top, mark.bottom - OFFPAGE_H):
            if _owns(window, mark.x, top + OFFPAGE_H / 2):
                parts.append(_off_page_symbol(mark.x, top, mark.label))
    for c in near:
        if c.label_at:
            x, y, anchor = c.label_at
            box = _text_box(x, y, c.label, LABEL_SIZE, anchor)
            if _owns(window, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2):
                parts.append(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{LABEL_SIZE}" text-anchor="{anchor}" '
                             f'font-family="Liberation Sans, Arial, DejaVu Sans, sans-serif" fill="#000">'
                             f'{escape(c.label)}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def _polyline_boxes(points) -> list[tuple[float, float, float, float]]:
    """Each segment's box, widened by the arrowhead's half width."""
    pad = ARROW_HALF + STROKE
    return [(min(a[0], b[0]) - pad, min(a[1], b[1]) - pad, max(a[0], b[0]) + pad, max(a[1], b[1]) + pad)
            for a, b in zip(points, points[1:])]


def _text_box(x: float, y: float, text: str, size: float, anchor: str) -> tuple[float, float, float, float]:
    width = len(text) * size * 0.6
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, y - size, left + width, y + size * 0.3


def _meets(window, boxes) -> bool:
    x0, y0, x1, y1 = window
    return any(b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0 for b in boxes)


def _owns(window, x: float, y: float) -> bool:
    """A text is written once, in the cell that holds its middle (copying text from the PDF finds it once)."""
    x0, y0, x1, y1 = window
    return x0 <= x < x1 and y0 <= y < y1


def _symbol(s: Symbol, with_label: bool = True) -> str:
    style = f'fill="#fff" stroke="#000" stroke-width="{STROKE}"'
    x, y = s.cx - s.w / 2, s.cy - s.h / 2
    if s.kind == DECISION:
        points = f"{_n(s.cx)},{_n(y)} {_n(x + s.w)},{_n(s.cy)} {_n(s.cx)},{_n(y + s.h)} {_n(x)},{_n(s.cy)}"
        return f'<polygon points="{points}" {style}/>'
    radius = s.h / 2 if s.kind == TERMINATOR else 0
    shape = (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(s.w)}" height="{_n(s.h)}" rx="{_n(radius)}" '
             f'ry="{_n(radius)}" {style}/>')
    if s.kind == TERMINATOR and s.label and with_label:
        shape += (f'<text x="{_n(s.cx)}" y="{_n(s.cy + TERMINATOR_LABEL_SIZE * 0.35)}" '
                  f'font-size="{TERMINATOR_LABEL_SIZE}" text-anchor="middle" '
                  f'font-family="Liberation Sans, Arial, DejaVu Sans, sans-serif" fill="#000">{escape(s.label)}</text>')
    return shape


def _off_page_symbol(x: float, top: float, label: str) -> str:
    """The off-page connector: a pentagon pointing down (a "home plate"), its letter inside."""
    half, shoulder = OFFPAGE_W / 2, top + OFFPAGE_H - OFFPAGE_POINT
    points = " ".join(f"{_n(px)},{_n(py)}" for px, py in (
        (x - half, top), (x + half, top), (x + half, shoulder), (x, top + OFFPAGE_H), (x - half, shoulder)))
    return (f'<g class="off-page"><polygon points="{points}" fill="#fff" stroke="#000" stroke-width="{STROKE}"/>'
            f'<text x="{_n(x)}" y="{_n(top + (OFFPAGE_H - OFFPAGE_POINT) / 2 + LABEL_SIZE * 0.4)}" '
            f'font-size="{LABEL_SIZE}" text-anchor="middle" '
            f'font-family="Liberation Sans, Arial, DejaVu Sans, sans-serif" fill="#000">{escape(label)}</text></g>')


def _arrowhead(before: tuple[float, float], tip: tuple[float, float]) -> str:
    (x1, y1), (x2, y2) = before, tip
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * ARROW_LEN, y2 - uy * ARROW_LEN
    left = (bx - uy * ARROW_HALF, by + ux * ARROW_HALF)
    right = (bx + uy * ARROW_HALF, by - ux * ARROW_HALF)
    points = " ".join(f"{_n(px)},{_n(py)}" for px, py in ((x2, y2), left, right))
    return f'<polygon points="{points}" fill="#000" stroke="none"/>'


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
