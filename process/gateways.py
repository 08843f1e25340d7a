"""Warnings about exclusive gateways that may refuse the step before them at completion time.

A gateway none of whose conditions holds, or a condition that reads a field
left empty, refuses the step before it (`step_blocked`). These are warnings,
not errors: the diagram runs, and the answers may never take that path.
"""
from __future__ import annotations

import re
from itertools import product
from math import prod
from typing import Iterator

from process import bpmn
from process.definition import Step
from process.expressions import ExpressionError, evaluate, names_used
from process.forms import FormField
from process.messages import Text

# Beyond this many combinations of answers, a gateway's conditions are not tried one by one.
MAX_ANSWERS = 256


def gateway_warnings(graph: bpmn.Graph, steps: list[Step]) -> Iterator[tuple[str, Text]]:
    """(element id, message) for each exclusive gateway problem a process owner should look at."""
    by_element = {s.element_id: s for s in steps}
    for node in graph.nodes.values():
        if node.kind != "exclusiveGateway":
            continue
        sources = [graph.nodes.get(f.source) for f in graph.incoming(node.id)]
        if any(n is not None and n.kind == "userTask" and n.id not in by_element for n in sources):
            continue  # a step left out for an error of its own: its form is unknown
        before = [by_element[n.id] for n in sources if n is not None and n.id in by_element]
        conditional = [f for f in graph.outgoing(node.id) if f.condition is not None]
        for flow in conditional:
            yield from _optional_reads(flow, before)
            yield from _thousands_written_with_a_dot(flow)
        if _may_find_no_path(graph, node, conditional, before):
            yield node.id, Text("percabangan %(gateway)s tidak memiliki alur bawaan: bila tidak ada kondisinya "
                                "yang terpenuhi, langkah sebelumnya ditolak saat diselesaikan; tetapkan alur "
                                "bawaan", gateway=node.name or node.id)


def _names(condition: str) -> set[str]:
    try:
        return names_used(condition)
    except ExpressionError:
        return set()  # a refused condition is an error reported elsewhere


def _optional_reads(flow: bpmn.Flow, before: list[Step]) -> Iterator[tuple[str, Text]]:
    for step in before:
        fields = {f.name: f for f in step.form.fields}
        for name in sorted(_names(flow.condition)):
            if name in fields and not fields[name].required:
                yield flow.id, Text("kondisi membaca %(field)s, yang tidak wajib diisi pada langkah %(step)d: "
                                    "bila dikosongkan, langkah itu ditolak saat diselesaikan; jadikan isian itu "
                                    "wajib atau ubah kondisinya", field=name, step=step.number)


# A number like 1.000 or 2.500: Indonesian for a thousand, two thousand five hundred;
# in a condition (Python's notation) it is one, and two and a half.
_DOTTED_THOUSANDS = re.compile(r"(?<![\w.])[1-9]\d{0,2}\.\d{3}(?![\w.])")


def _thousands_written_with_a_dot(flow: bpmn.Flow) -> Iterator[tuple[str, Text]]:
    for written in _DOTTED_THOUSANDS.findall(_outside_quotes(flow.condition)):
        yield flow.id, Text("kondisi menulis %(number)s: dalam kondisi titik adalah tanda desimal, jadi ini bukan "
                            "ribuan; untuk ribuan tulis %(plain)s", number=written, plain=written.replace(".", ""))


def _outside_quotes(condition: str) -> str:
    """The condition without its quoted texts, where "1.000" is just text."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", condition)


def _may_find_no_path(graph: bpmn.Graph, node: bpmn.Node, conditional: list[bpmn.Flow],
                      before: list[Step]) -> bool:
    """No default flow, and the conditions are not shown to cover every answer of each step before."""
    outgoing = graph.outgoing(node.id)
    if len(outgoing) < 2 or len(conditional) < len(outgoing):
        return False  # one way on, or a flow without a condition (an error of its own)
    if node.attrs.get("default") in {f.id for f in outgoing}:
        return False
    conditions = [f.condition for f in conditional]
    return not before or not all(_covers(conditions, step.form.fields) for step in before)


def _covers(conditions: list[str], fields: tuple[FormField, ...]) -> bool:
    """Some condition holds for every answer, when they read only required yes/no and choice fields."""
    known = {f.name: f for f in fields}
    names = sorted(set().union(*(_names(c) for c in conditions)))
    domains = [_answers(known.get(name)) for name in names]
    if not names or not all(domains) or prod(len(d) for d in domains) > MAX_ANSWERS:
        return False
    return all(any(_holds(c, dict(zip(names, answer))) for c in conditions) for answer in product(*domains))


def _answers(field: FormField | None) -> tuple:
    """Every value a required yes/no or choice field can hold; () for any other field."""
    if field is None or not field.required:
        return ()
    return (True, False) if field.type == "boolean" else field.choices if field.type == "choice" else ()


def _holds(condition: str, data: dict) -> bool:
    try:
        return bool(evaluate(condition, data))
    except ExpressionError:
        return False
