"""Reading a BPMN 2.0 file safely into a neutral graph the validator can check.

The XML comes from a browser or from another modelling tool, so it is parsed
with defusedxml: no DTDs, no entities, no network, and a size limit. Nothing
here knows about SOP steps; `process.loader` gives the graph its meaning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from process.byte_order import marked_encoding
from process.messages import Text

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ALUR_NS = "https://alur.id/schema/bpmn/1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
MAX_BPMN_BYTES = 2 * 1024 * 1024


class BpmnReadError(ValueError):
    """The file is not a BPMN document we can read at all; `args[0]` is the `Text`."""


@dataclass
class Node:
    id: str
    kind: str            # BPMN local tag name: userTask, exclusiveGateway, ...
    name: str
    attrs: dict[str, str]
    element: Element = field(repr=False)

    def alur(self, name: str) -> str | None:
        return self.attrs.get(f"{{{ALUR_NS}}}{name}")


@dataclass
class Flow:
    id: str
    name: str
    source: str
    target: str
    condition: str | None


@dataclass
class LaneInfo:
    id: str
    name: str
    role: str | None
    scope: str | None
    nodes: list[str]


@dataclass
class Graph:
    process_id: str
    process_name: str
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    lanes: list[LaneInfo]          # the actors: lanes without child lanes
    unsupported: list[Node]
    has_diagram: bool
    parent_lanes: list[LaneInfo] = field(default_factory=list)  # lanes holding child lanes: titles only

    def outgoing(self, node_id: str) -> list[Flow]:
        return [f for f in self.flows.values() if f.source == node_id]

    def incoming(self, node_id: str) -> list[Flow]:
        return [f for f in self.flows.values() if f.target == node_id]


# Elements that carry no behaviour and are ignored.
_IGNORED = {
    "laneSet", "lane", "flowNodeRef", "childLaneSet", "textAnnotation", "association",
    "documentation", "extensionElements", "dataObject", "dataObjectReference",
    "dataStoreReference", "group", "property", "ioSpecification", "dataInputAssociation",
    "dataOutputAssociation",
}
_BEHAVIOUR = {"startEvent", "endEvent", "userTask", "exclusiveGateway", "boundaryEvent"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_xml(text: str | bytes) -> Element:
    data = text.encode() if isinstance(text, str) else text
    if len(data) > MAX_BPMN_BYTES:
        raise BpmnReadError(Text("berkas lebih dari %(n)d KiB", n=MAX_BPMN_BYTES // 1024))
    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise BpmnReadError(Text("deklarasi tipe dokumen (DTD) dan entity tidak diizinkan")) from None
    except ParseError as err:
        raise BpmnReadError(Text("XML rusak: %(reason)s", reason=str(err))) from None


_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])[^"']*(["'])""")


def text_of(data: bytes) -> str:
    """A BPMN file's text, decoded as its byte-order mark or XML declaration says (else UTF-8).

    The text is stored and parsed again as UTF-8, so its declaration then says UTF-8: a file that
    declared UTF-16 or ISO-8859-1 read as broken XML afterwards, or its names as mojibake."""
    encoding = marked_encoding(data)
    if encoding is None:
        declared = _DECLARED.match(data)
        encoding = declared[1].decode("ascii") if declared else "utf-8"
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        raise BpmnReadError(Text("berkas bukan teks %(encoding)s yang sah (pengodean menurut deklarasi XML-nya, "
                                 "atau UTF-8)", encoding=encoding.upper().removesuffix("-SIG"))) from None
    return _DECLARATION.sub(r"\1UTF-8\2", text, count=1)


def read_graph(text: str | bytes) -> Graph:
    root = parse_xml(text)
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise BpmnReadError(Text("bukan dokumen BPMN 2.0 (elemen akarnya harus bpmn:definitions)"))
    process = _choose_process(root)
    graph = Graph(
        process_id=process.get("id", ""),
        process_name=(process.get("name") or "").strip(),
        nodes={}, flows={}, lanes=[], unsupported=[],
        has_diagram=root.find(f"{{{DI_NS}}}BPMNDiagram") is not None,
    )
    for child in process:
        _read_child(graph, child)
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        info = LaneInfo(
            id=lane.get("id", ""),
            name=(lane.get("name") or "").strip(),
            role=lane.get(f"{{{ALUR_NS}}}role"),
            scope=lane.get(f"{{{ALUR_NS}}}scope"),
            # Only direct refs: a nested lane claims its own nodes.
            nodes=[(r.text or "").strip() for r in lane.findall(f"{{{BPMN_NS}}}flowNodeRef")],
        )
        # Camunda Modeler's and bpmn-js's child lanes: the leaves are the actors, a parent only groups them.
        is_parent = lane.find(f"{{{BPMN_NS}}}childLaneSet/{{{BPMN_NS}}}lane") is not None
        (graph.parent_lanes if is_parent else graph.lanes).append(info)
    _in_drawn_order(graph.lanes, root)
    return graph


def _in_drawn_order(lanes: list[LaneInfo], root: Element) -> None:
    """Lanes top to bottom (left to right if upright) as drawn, when every lane is drawn.

    bpmn-js (the editor, Camunda Modeler) appends a lane added above the others to the end of the
    file, while the SOP document's actor columns must follow the diagram."""
    places = {}
    for shape in root.iter(f"{{{DI_NS}}}BPMNShape"):
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        if bounds is not None:
            try:
                x, y = float(bounds.get("x", "")), float(bounds.get("y", ""))
            except ValueError:
                continue
            places[shape.get("bpmnElement")] = (y, x) if shape.get("isHorizontal", "true") != "false" else (x, y)
    if all(lane.id in places for lane in lanes):
        lanes.sort(key=lambda lane: places[lane.id])


def _choose_process(root: Element) -> Element:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        raise BpmnReadError(Text("dokumen tidak memiliki process"))
    executable = [p for p in processes if p.get("isExecutable", "").lower() == "true"]
    candidates = executable or processes
    if len(candidates) > 1:
        ids = ", ".join(p.get("id", "?") for p in candidates)
        raise BpmnReadError(Text("dokumen memiliki beberapa process (%(ids)s); Alur menjalankan satu process per berkas",
                                 ids=ids))
    return candidates[0]


def _read_child(graph: Graph, child: Element) -> None:
    kind = _local(child.tag)
    if not kind or kind in _IGNORED:
        return
    element_id = child.get("id") or f"<{kind} without id>"
    if kind == "sequenceFlow":
        condition = child.find(f"{{{BPMN_NS}}}conditionExpression")
        text = (condition.text or "").strip() if condition is not None else None
        graph.flows[element_id] = Flow(
            element_id, (child.get("name") or "").strip(),
            child.get("sourceRef", ""), child.get("targetRef", ""), text or None,
        )
        return
    node = Node(element_id, kind, (child.get("name") or "").strip(), dict(child.attrib), child)
    if kind in _BEHAVIOUR:
        graph.nodes[element_id] = node
    else:
        graph.unsupported.append(node)


def event_definitions(node: Node) -> list[Element]:
    return [c for c in node.element if _local(c.tag).endswith("EventDefinition")]


def timer_duration(node: Node) -> str | None:
    """The text of the node's timer duration, or None if it has none."""
    for definition in event_definitions(node):
        if _local(definition.tag) == "timerEventDefinition":
            duration = definition.find(f"{{{BPMN_NS}}}timeDuration")
            if duration is not None:
                return (duration.text or "").strip()
    return None


def local_name(element: Element) -> str:
    return _local(element.tag)
