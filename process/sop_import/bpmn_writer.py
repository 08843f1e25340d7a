"""The imported SOP as an executable BPMN diagram, laid out the way the table reads.

One lane per Pelaksana in the table's column order (and, while a step's
actor is an open question, a last lane for it); steps left to right in
table order, each with a non-interrupting timer of its standard time;
decisions as a user task (the performer answers) followed by an exclusive
gateway whose Ya/Tidak flows test that answer.

Layout rule, so no flow crosses a shape: every element has a column of its
own, so vertical runs happen only in an element's own column or in the gap
before the target's column; horizontal runs other than straight neighbours
use a corridor along the top margin of the target's lane, where no shape
stands. Loops back and forward jumps both take that corridor.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax import saxutils

from process.bpmn import ALUR_NS, BPMN_NS
from process.mutu_baku import MutuBaku, MutuBakuError
from process.plain_text import printable
from process.sop_import.forms import decision_of, gateway_name, step_forms
from process.sop_import.ids import UNASSIGNED_LANE, gateway_id, lane_id, role_of, step_id, timer_id
from process.sop_import.model import END, Sop, SopStep

START, FINISH = "Mulai", "Selesai"
POOL_X, LANE_X, TOP, LANE_H = 160, 190, 80, 170
TASK_W, TASK_H, GATE, EVENT, TIMER = 110, 80, 50, 36, 36
TASK_PITCH, GATE_AFTER_TASK, AFTER_GATE = 150, 180, 120
CORRIDOR, CORRIDOR_STEP, CORRIDOR_SLOTS = 22, 8, 3
UNASSIGNED_NAME = "Pelaksana belum ditentukan"
# The readers leave out what XML cannot hold; an answer may bring one too, and one in a step's name made
# the whole diagram unreadable.
def escape(text: str) -> str:
    return saxutils.escape(printable(text))


def quoteattr(text: str) -> str:
    return saxutils.quoteattr(printable(text))


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    lane: int
    column: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass
class FlowSpec:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None


@dataclass
class Layout:
    boxes: dict[str, Box]          # tasks, gateways, events (not the timers)
    timers: dict[str, Box]
    lanes: list[tuple[str, str, str | None]]   # (id, name, role or None)
    edges: dict[str, list[tuple[float, float]]]
    width: float


def lanes_of(sop: Sop) -> list[tuple[str, str, str | None]]:
    lanes = [(lane_id(a), a, sop.roles.get(a) or role_of(a)) for a in sop.actors]
    if any(s.pelaksana is None for s in sop.steps):
        lanes.append((UNASSIGNED_LANE, UNASSIGNED_NAME, None))
    return lanes


def _lane_of_step(sop: Sop, step: SopStep) -> str:
    return lane_id(step.pelaksana) if step.pelaksana else UNASSIGNED_LANE


def flows_of(sop: Sop) -> list[FlowSpec]:
    forms = step_forms(sop)
    steps = sop.steps
    flows = [FlowSpec(f"Flow_{START}_{steps[0].number:02d}", START, step_id(steps[0].number))]

    def target(value: int | str) -> str:
        return FINISH if value == END else step_id(int(value))

    def suffix(value: int | str) -> str:
        return FINISH if value == END else f"{int(value):02d}"

    for i, step in enumerate(steps):
        n = step.number
        if step.decision:
            flows.append(FlowSpec(f"Flow_{n:02d}_G", step_id(n), gateway_id(n)))
            field = decision_of(step, forms)
            for label, value, literal in (("Ya", step.ya, "True"), ("Tidak", step.tidak, "False")):
                if value is not None:
                    flows.append(FlowSpec(f"Flow_{n:02d}_{label}", gateway_id(n), target(value), label,
                                          f"{field} == {literal}"))
        else:
            nxt = steps[i + 1].number if i + 1 < len(steps) else END
            flows.append(FlowSpec(f"Flow_{n:02d}_{suffix(nxt)}", step_id(n), target(nxt)))
    return flows


def layout(sop: Sop, flows: list[FlowSpec]) -> Layout:
    lanes = lanes_of(sop)
    lane_index = {lid: i for i, (lid, _, _) in enumerate(lanes)}

    def top(lane: int) -> float:
        return TOP + lane * LANE_H

    boxes: dict[str, Box] = {}
    timers: dict[str, Box] = {}
    first_lane = lane_index[_lane_of_step(sop, sop.steps[0])]
    boxes[START] = Box(262, top(first_lane) + 67, EVENT, EVENT, first_lane, 0)
    x, column = 375.0, 1
    for step in sop.steps:
        lane = lane_index[_lane_of_step(sop, step)]
        boxes[step_id(step.number)] = Box(x, top(lane) + 45, TASK_W, TASK_H, lane, column)
        timers[timer_id(step.number)] = Box(x + 82, top(lane) + 45 + 62, TIMER, TIMER, lane, column)
        column += 1
        if step.decision:
            gx = x + GATE_AFTER_TASK
            boxes[gateway_id(step.number)] = Box(gx, top(lane) + 60, GATE, GATE, lane, column)
            column += 1
            x = gx + AFTER_GATE
        else:
            x += TASK_PITCH
    last_lane = lane_index[_lane_of_step(sop, sop.steps[-1])]
    boxes[FINISH] = Box(x + 37, top(last_lane) + 67, EVENT, EVENT, last_lane, column)
    router = _Router(boxes, top)
    edges = {f.id: router.route(boxes[f.source], boxes[f.target]) for f in flows}
    return Layout(boxes, timers, lanes, edges, boxes[FINISH].right + 100 - POOL_X)


class _Router:
    def __init__(self, boxes: dict[str, Box], top):
        self.boxes, self.top = boxes, top
        self.used: dict[int, int] = {}

    def route(self, s: Box, t: Box) -> list[tuple[float, float]]:
        if t.column == s.column + 1:
            if s.lane == t.lane:
                return [(s.right, s.cy), (t.x, t.cy)]
            mid = (s.right + t.x) / 2
            return [(s.right, s.cy), (mid, s.cy), (mid, t.cy), (t.x, t.cy)]
        # A jump or a loop: up or down in the source's own column, along the
        # target lane's top corridor, and down into the target from above.
        slot = self.used.get(t.lane, 0)
        self.used[t.lane] = slot + 1
        y = self.top(t.lane) + CORRIDOR + CORRIDOR_STEP * (slot % CORRIDOR_SLOTS)
        leave = s.y if t.lane <= s.lane else s.y + s.h
        return [(s.cx, leave), (s.cx, y), (t.cx, y), (t.cx, t.y)]


def write(sop: Sop, key: str, office: str = "") -> str:
    """The BPMN XML (with diagram) of the SOP, under the process id `key`."""
    flows = flows_of(sop)
    lay = layout(sop, flows)
    process = [f'  <bpmn:process id={quoteattr(key)} name={quoteattr(sop.header.get("nama") or key)} '
               'isExecutable="true">']
    process.append(f'    <bpmn:laneSet id="LaneSet_{key}">')
    members: dict[str, list[str]] = {lid: [] for lid, _, _ in lay.lanes}
    for element, box in lay.boxes.items():
        members[lay.lanes[box.lane][0]].append(element)
    for element, box in lay.timers.items():
        if _has_timer(sop, element):
            members[lay.lanes[box.lane][0]].append(element)
    for lid, name, role in lay.lanes:
        attrs = f'id={quoteattr(lid)} name={quoteattr(name)}'
        if role is not None:
            scope = "office" if role == "sekretaris" else "bidang"
            attrs += f' alur:role={quoteattr(role)} alur:scope="{scope}"'
        process.append(f"      <bpmn:lane {attrs}>")
        process += [f"        <bpmn:flowNodeRef>{escape(ref)}</bpmn:flowNodeRef>" for ref in members[lid]]
        process.append("      </bpmn:lane>")
    process.append("    </bpmn:laneSet>")
    process += _nodes(sop, flows)
    for f in flows:
        head = f'    <bpmn:sequenceFlow id="{f.id}"{_name(f.name)} sourceRef="{f.source}" targetRef="{f.target}"'
        if f.condition is None:
            process.append(head + " />")
        else:
            process += [head + ">", '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                        f"{escape(f.condition)}</bpmn:conditionExpression>", "    </bpmn:sequenceFlow>"]
    process.append("  </bpmn:process>")
    participant = office or key
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:alur="{ALUR_NS}" '
        f'id="Definitions_{key}" targetNamespace="https://alur.id/definitions/{key}" exporter="Alur import" '
        'exporterVersion="1.0">',
        f'  <bpmn:collaboration id="Collaboration_{key}">',
        f'    <bpmn:participant id="Participant_{key}" name={quoteattr(participant)} processRef="{key}" />',
        "  </bpmn:collaboration>",
        *process,
        *_diagram(sop, key, lay, flows),
        "</bpmn:definitions>",
        "",
    ])


def _name(name: str) -> str:
    return f" name={quoteattr(name)}" if name else ""


def _has_timer(sop: Sop, timer: str) -> bool:
    step = sop.step(int(timer.rsplit("_", 1)[1]))
    return step is not None and _mutu(step) is not None


def _mutu(step: SopStep) -> MutuBaku | None:
    try:
        return MutuBaku.parse(step.waktu)
    except MutuBakuError:
        return None


def _nodes(sop: Sop, flows: list[FlowSpec]) -> list[str]:
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for f in flows:
        outgoing.setdefault(f.source, []).append(f.id)
        incoming.setdefault(f.target, []).append(f.id)

    def refs(element: str) -> list[str]:
        return ([f"      <bpmn:incoming>{i}</bpmn:incoming>" for i in incoming.get(element, [])]
                + [f"      <bpmn:outgoing>{o}</bpmn:outgoing>" for o in outgoing.get(element, [])])

    forms = step_forms(sop)
    lines = [f'    <bpmn:startEvent id="{START}" name="{START}">', *refs(START), "    </bpmn:startEvent>"]
    for step in sop.steps:
        n, sid = step.number, step_id(step.number)
        lines += [f'    <bpmn:userTask id="{sid}" name={quoteattr(step.uraian)} alur:step="{n}">', *refs(sid),
                  "    </bpmn:userTask>"]
        mutu = _mutu(step)
        if mutu is not None:
            lines += [
                f'    <bpmn:boundaryEvent id="{timer_id(n)}" name={quoteattr(str(mutu))} cancelActivity="false" '
                f'attachedToRef="{sid}">',
                f'      <bpmn:timerEventDefinition id="TimerDef_{n:02d}">',
                f'        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{mutu.to_iso()}</bpmn:timeDuration>',
                "      </bpmn:timerEventDefinition>", "    </bpmn:boundaryEvent>"]
        if step.decision:
            gid = gateway_id(n)
            lines += [f'    <bpmn:exclusiveGateway id="{gid}" name={quoteattr(gateway_name(decision_of(step, forms)))}>',
                      *refs(gid), "    </bpmn:exclusiveGateway>"]
    lines += [f'    <bpmn:endEvent id="{FINISH}" name="{FINISH}">', *refs(FINISH), "    </bpmn:endEvent>"]
    return lines


def _bounds(b: Box | tuple[float, float, float, float]) -> str:
    x, y, w, h = (b.x, b.y, b.w, b.h) if isinstance(b, Box) else b
    return f'<dc:Bounds x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" />'


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _diagram(sop: Sop, key: str, lay: Layout, flows: list[FlowSpec]) -> list[str]:
    height = LANE_H * len(lay.lanes)
    out = [f'  <bpmndi:BPMNDiagram id="Diagram_{key}">',
           f'    <bpmndi:BPMNPlane id="Plane_{key}" bpmnElement="Collaboration_{key}">',
           f'      <bpmndi:BPMNShape id="Participant_{key}_di" bpmnElement="Participant_{key}" isHorizontal="true">',
           f"        {_bounds((POOL_X, TOP, lay.width, height))}", "      </bpmndi:BPMNShape>"]
    for i, (lid, _, _) in enumerate(lay.lanes):
        out += [f'      <bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">',
                f"        {_bounds((LANE_X, TOP + i * LANE_H, lay.width - (LANE_X - POOL_X), LANE_H))}",
                "      </bpmndi:BPMNShape>"]
    for element, box in lay.boxes.items():
        marker = ' isMarkerVisible="true"' if element.startswith("Gateway_") else ""
        out += [f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{marker}>', f"        {_bounds(box)}"]
        if box.w != TASK_W:   # events and gateways carry their name below them
            out.append(f"        <bpmndi:BPMNLabel>{_bounds((box.cx - 45, box.y + box.h + 5, 90, 14))}"
                       "</bpmndi:BPMNLabel>")
        out.append("      </bpmndi:BPMNShape>")
    for element, box in lay.timers.items():
        if _has_timer(sop, element):
            out += [f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">', f"        {_bounds(box)}",
                    f"        <bpmndi:BPMNLabel>{_bounds((box.x - 2, box.y + box.h + 2, 44, 14))}</bpmndi:BPMNLabel>",
                    "      </bpmndi:BPMNShape>"]
    for f in flows:
        points = lay.edges[f.id]
        out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
        out += [f'        <di:waypoint x="{_n(x)}" y="{_n(y)}" />' for x, y in points]
        if f.name:
            (x0, y0), (x1, y1) = points[0], points[1]
            label = (x0 + 4, y0 - 18) if y0 == y1 else (x0 + 4, (y0 + y1) / 2 - 7)
            out.append(f"        <bpmndi:BPMNLabel>{_bounds((*label, 30, 14))}</bpmndi:BPMNLabel>")
        out.append("      </bpmndi:BPMNEdge>")
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
    return out
