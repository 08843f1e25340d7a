"""The SOP definition model: what the office wrote down, as plain objects.

A definition is two files. The BPMN diagram holds the flow, the lanes (actors)
and each step's standard time (its timer). The YAML beside it holds what BPMN
cannot: the SOP's header sheet and, per step, its Kelengkapan, Output and
form. No fact lives in both; `process.loader` joins them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from process.forms import Form
from process.mutu_baku import MutuBaku

# Lane scope: a "bidang" lane is the role within the instance's division; an
# "office" lane (the Sekretaris) serves every division.
SCOPE_BIDANG = "bidang"
SCOPE_OFFICE = "office"

# How standard times are counted ("days": kerja|kalender, "time": kerja|jam)
# is the office calendar's default, overridden per definition and per step.
# A definition carries only its overrides; see process.calendar.CountingRule.
Overrides = dict[str, str]


@dataclass(frozen=True)
class Lane:
    id: str
    name: str
    role: str
    scope: str = SCOPE_BIDANG


@dataclass(frozen=True)
class Decision:
    """An exclusive gateway that routes on the data of the step before it."""
    gateway_id: str
    question: str
    # (flow id, label, condition expression or None for the default flow, target element id)
    outcomes: tuple[tuple[str, str, str | None, str], ...]


@dataclass(frozen=True)
class Step:
    number: int
    element_id: str
    name: str
    lane: Lane
    mutu_baku: MutuBaku
    timer_id: str
    counting: Overrides
    kelengkapan: str = ""
    output: str = ""
    form: Form = field(default_factory=Form)
    decision: Decision | None = None

    @property
    def is_decision(self) -> bool:
        return self.decision is not None


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    bpmn_xml: str
    yaml_text: str
    header: dict[str, Any]
    lanes: tuple[Lane, ...]
    steps: tuple[Step, ...]
    counting: Overrides

    @cached_property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.bpmn_xml.encode())
        digest.update(b"\0")
        digest.update(self.yaml_text.encode())
        return digest.hexdigest()

    def step_for_element(self, element_id: str) -> Step | None:
        return self._by_element.get(element_id)

    def step_for_timer(self, timer_id: str) -> Step | None:
        return self._by_timer.get(timer_id)

    def step(self, number: int) -> Step:
        return next(s for s in self.steps if s.number == number)

    @cached_property
    def _by_element(self) -> dict[str, Step]:
        return {s.element_id: s for s in self.steps}

    @cached_property
    def _by_timer(self) -> dict[str, Step]:
        return {s.timer_id: s for s in self.steps}
