"""Answering an imported definition's open questions after it left the importer (the editor's draft).

The draft is read back into the SOP model, the answers are applied as at
import time, and the diagram is written anew (so the layout stays tidy);
the YAML keeps everything the owner wrote and loses only the answered
questions. A diagram that no longer has the importer's shape (steps added
by hand, a lane removed, ...) is refused: answer in the diagram instead and
mark the question answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from process import bpmn
from process.user_yaml import user_yaml
from process.messages import Text, text_from_json
from process.mutu_baku import MutuBaku, MutuBakuError
from process.sop_import import bpmn_writer
from process.sop_import.bpmn_writer import FINISH, START
from process.sop_import.ids import UNASSIGNED_LANE
from process.sop_import.model import END, SourceError, Sop, SopStep
from process.sop_import.questions import apply_answers
from process.sop_import.yaml_writer import QUESTIONS, counting_rule, dump
from process.yaml_blocks import replace_block


@dataclass(frozen=True)
class Answered:
    bpmn_xml: str
    yaml_text: str
    # Step number -> its counting rule, for a standard time answered as "… Hari Kerja" / "… Kalender".
    counting: dict[int, dict[str, str]]


def questions_in(yaml_text: str) -> list[dict[str, Any]]:
    """The YAML's open questions ([] when there are none or the YAML cannot be read), to show.

    Each `text` is the import's `Text` again where the YAML kept its `message`, so the web can
    translate it; a question written before that (or by hand) shows its text as it is.
    """
    return [_readable(q) for q in _stored(yaml_text)]


def _readable(question: dict[str, Any]) -> dict[str, Any]:
    readable = {k: v for k, v in question.items() if k != "message"}
    if isinstance(question.get("text"), str):
        readable["text"] = text_from_json(question.get("message"), question["text"])
    return readable


def _stored(yaml_text: str) -> list[dict[str, Any]]:
    """The YAML's `questions` entries as written."""
    try:
        # A draft's YAML is the user's text: without aliases, as everywhere (a few lines of
        # them expand to gigabytes once the questions are written out as JSON).
        data = user_yaml(yaml_text or "")
    except yaml.YAMLError:
        return []
    questions = data.get("questions") if isinstance(data, dict) else None
    return [q for q in questions or [] if isinstance(q, dict) and q.get("id")]


def without_questions(yaml_text: str, ids: set[str]) -> str:
    """The YAML with the questions `ids` removed (and the block, once empty)."""
    remaining = [q for q in _stored(yaml_text) if q["id"] not in ids]
    if remaining:
        block = dump({"questions": remaining})
        return replace_block(yaml_text, "questions", block)
    return replace_block(yaml_text.replace(QUESTIONS, ""), "questions", "").rstrip("\n") + "\n"


def answer(bpmn_xml: str, yaml_text: str, answers: dict[str, dict[str, Any]]) -> Answered:
    sop, key, office = read_back(bpmn_xml)
    apply_answers(sop, answers)
    answered = {f"{element}.{field}" for element, fields in answers.items() for field in fields}
    counting = {}
    for element, fields in answers.items():
        if "waktu" in fields:
            step = int(element.rsplit("_", 1)[1])
            rule = counting_rule(str(fields["waktu"]))
            if rule:
                counting[step] = rule
    return Answered(bpmn_writer.write(sop, key, office), without_questions(yaml_text, answered), counting)


def read_back(bpmn_xml: str) -> tuple[Sop, str, str]:
    """The SOP model, process id and office of a diagram the importer wrote; SourceError if it was reshaped."""
    try:
        graph = bpmn.read_graph(bpmn_xml)
    except bpmn.BpmnReadError as err:
        raise SourceError(Text("diagram tidak dapat dibaca: %(reason)s", reason=err.args[0])) from None

    def reshaped(why: Text) -> SourceError:
        return SourceError(Text("diagram tidak lagi berbentuk seperti hasil impor (%(why)s); jawab pertanyaannya "
                                "di diagram, lalu tandai sudah dijawab", why=why))

    if graph.unsupported:
        raise reshaped(Text("%(element)s bukan langkah, percabangan atau event",
                            element=graph.unsupported[0].id))
    if graph.parent_lanes:  # the diagram is drawn anew from the SOP model, which has no place for it
        parent = graph.parent_lanes[0]
        raise reshaped(Text("lane %(lane)s dibagi menjadi beberapa lane", lane=repr(parent.name or parent.id)))
    lane_of = {ref: lane for lane in graph.lanes for ref in lane.nodes}
    actors = [lane.name for lane in graph.lanes if lane.id != UNASSIGNED_LANE]
    roles = {lane.name: lane.role for lane in graph.lanes if lane.id != UNASSIGNED_LANE and lane.role}
    tasks = sorted((n for n in graph.nodes.values() if n.kind == "userTask"),
                   key=lambda n: int(n.alur("step")) if _digits(n.alur("step") or "") else 0)
    number_of = {}
    for expected, node in enumerate(tasks, start=1):
        if (node.alur("step") or "") != str(expected) or node.id != f"Step_{expected:02d}":
            raise reshaped(Text("%(element)s bukan langkah %(number)d seperti saat diimpor",
                                element=node.id, number=expected))
        number_of[node.id] = expected
    number_of[FINISH] = END
    timers = {n.attrs.get("attachedToRef"): n for n in graph.nodes.values() if n.kind == "boundaryEvent"}
    steps = []
    for node in tasks:
        lane = lane_of.get(node.id)
        step = SopStep(number=number_of[node.id], uraian=node.name,
                       pelaksana=None if lane is None or lane.id == UNASSIGNED_LANE else lane.name,
                       waktu=_waktu(timers.get(node.id)))
        out = graph.outgoing(node.id)
        gateway = graph.nodes.get(out[0].target) if len(out) == 1 else None
        if gateway is not None and gateway.kind == "exclusiveGateway":
            step.decision = True
            for flow in graph.outgoing(gateway.id):
                label = flow.name.strip().lower()
                if label not in ("ya", "tidak") or flow.target not in number_of:
                    raise reshaped(Text("%(element)s bukan alur Ya/Tidak menuju sebuah langkah", element=flow.id))
                setattr(step, label, number_of[flow.target])
        steps.append(step)
    if not steps or {START, FINISH} - set(graph.nodes):
        raise reshaped(Text("start event atau end event tidak ada"))
    sop = Sop(header={"nama": graph.process_name}, actors=actors, steps=steps,
              roles={name: role for name, role in roles.items() if role})
    return sop, graph.process_id, _participant(bpmn_xml, graph.process_id)


def _waktu(timer: bpmn.Node | None) -> str:
    """The step's standard time: the timer's name when it is the SOP notation of its duration."""
    if timer is None:
        return ""
    try:
        mutu = MutuBaku.from_iso(bpmn.timer_duration(timer) or "")
    except MutuBakuError:
        return ""
    try:
        named = MutuBaku.parse(timer.name)
    except MutuBakuError:
        return str(mutu)
    return timer.name if named.to_iso() == mutu.to_iso() else str(mutu)


def _participant(bpmn_xml: str, process_id: str) -> str:
    for participant in bpmn.parse_xml(bpmn_xml).iter(f"{{{bpmn.BPMN_NS}}}participant"):
        if participant.get("processRef") == process_id:
            return (participant.get("name") or "").strip()
    return ""


def _digits(text: str) -> bool:
    """Digits 0-9, few enough to be a step number ("²".isdigit() is true and int() refuses it)."""
    return text.isascii() and text.isdigit() and len(text) <= 9
