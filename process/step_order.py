"""Warnings about step numbers: 1 to n without gaps, in the order the flow reaches the steps.

The official SOP document prints its rows by number, so a gap (step 15
removed, 16 left as it was) or a step numbered out of the flow (drawn between
steps 4 and 5, numbered 16) shows there. Warnings only: the diagram runs, and
stored versions so numbered keep loading.
"""
from __future__ import annotations

from bisect import bisect_left
from heapq import heappop, heappush
from typing import Iterator

from process import bpmn
from process.messages import Text


def numbering_warnings(graph: bpmn.Graph, numbers: dict[int, str]) -> Iterator[tuple[str, Text]]:
    """(element id, message) for a step number after a gap, and for a step numbered out of the flow's order."""
    previous = 0
    for number in sorted(numbers):
        if number != previous + 1:
            missing = str(previous + 1) if number == previous + 2 else f"{previous + 1}–{number - 1}"
            yield numbers[number], Text("nomor SOP %(n)d melompati nomor %(missing)s: nomor langkah mestinya 1 "
                                        "sampai %(count)d tanpa celah", n=number, missing=missing, count=len(numbers))
        previous = number
    order = _flow_order(graph, {element: number for number, element in numbers.items()})
    kept = _increasing(order)
    for position, (element, number) in enumerate(order, 1):
        if position - 1 not in kept:
            yield element, Text("nomor SOP %(n)d tidak mengikuti urutan alur: menurut alur dari start event, "
                                "langkah ini adalah langkah ke-%(position)d", n=number, position=position)


def _flow_order(graph: bpmn.Graph, number_of: dict[str, int]) -> list[tuple[str, int]]:
    """The numbered steps as the flow reaches them, without the loops' back-flows (a send-back):
    each step after every step that flows into it, the lowest number first where the flow allows either."""
    forward = _forward_targets(graph)
    waiting = {node: 0 for node in forward}
    for targets in forward.values():
        for target in targets:
            waiting[target] += 1
    ready = [(0, node) for node, count in waiting.items() if count == 0]
    order = []
    while ready:
        _, node = heappop(ready)
        if node in number_of:
            order.append((node, number_of[node]))
        for target in forward[node]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heappush(ready, (number_of.get(target, 0), target))
    return order


def _forward_targets(graph: bpmn.Graph) -> dict[str, list[str]]:
    """Each element reached from the start event, with the targets of its flows that do not go back
    into a loop (found by a depth-first walk: a flow to an element on the walk's path goes back)."""
    targets: dict[str, list[str]] = {}
    for flow in graph.flows.values():
        if flow.target in graph.nodes:
            targets.setdefault(flow.source, []).append(flow.target)
    forward: dict[str, list[str]] = {}
    for start in (n.id for n in graph.nodes.values() if n.kind == "startEvent"):
        forward[start], path, stack = [], {start}, [(start, iter(targets.get(start, ())))]
        while stack:
            node, left = stack[-1]
            target = next(left, None)
            if target is None:
                path.discard(node)
                stack.pop()
            elif target not in path:
                forward[node].append(target)
                if target not in forward:
                    forward[target] = []
                    path.add(target)
                    stack.append((target, iter(targets.get(target, ()))))
    return forward


def _increasing(order: list[tuple[str, int]]) -> set[int]:
    """Positions in `order` of a longest run of rising numbers (not necessarily adjacent)."""
    tails: list[int] = []          # the smallest last number of a rising run of each length
    ends: list[int] = []           # the position where that run ends
    before: list[int | None] = []  # the position before each one in its run
    for position, (_element, number) in enumerate(order):
        length = bisect_left(tails, number)
        before.append(ends[length - 1] if length else None)
        if length == len(tails):
            tails.append(number)
            ends.append(position)
        else:
            tails[length], ends[length] = number, position
    kept, position = set(), ends[-1] if ends else None
    while position is not None:
        kept.add(position)
        position = before[position]
    return kept
