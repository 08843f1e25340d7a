"""Which steps of an SOP version the monitoring figures read, found by what they are.

The monitoring and evaluation figures count send-backs at verification and
the problems raised with their analysis, solution and report. A version the
process owner deploys may insert or remove steps and so renumber them; the
steps are therefore found by the fields of their forms, never by number:

- *verify*: the step whose form has the yes/no field `terverifikasi` (its
  decision sends the results back when it is false);
- *problem*: the step whose form has the yes/no field `ada_kendala` (with
  `uraian_kendala`, the problem described);
- *analysis*: the step whose form has `analisa_permasalahan` or `solusi`;
- *report*: the step whose form has the document `laporan_solusi`;
- *plan*: the step whose form has the date `tanggal_mulai` (with
  `tanggal_selesai`, the activity's planned dates, which the overlaps compare).

When more than one step has the field, a step whose decision (the gateway
after it) tests the field comes first, then the lower number. A version with
no such step has None for that role. The field names are written here only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from process.definition import Definition, Step
from process.expressions import ExpressionError, names_used

VERIFIED = "terverifikasi"          # yes/no; no sends the results back
HAS_PROBLEM = "ada_kendala"         # yes/no; yes raises a problem
PROBLEM_TEXT = "uraian_kendala"
ANALYSIS = "analisa_permasalahan"
SOLUTION = "solusi"
SOLUTION_REPORT = "laporan_solusi"  # the document reporting the solution
PLANNED_START = "tanggal_mulai"     # date; the activity's planned days run to PLANNED_END
PLANNED_END = "tanggal_selesai"


@dataclass(frozen=True)
class Roles:
    """Step numbers of one version's monitored steps; None where the version has no such step."""
    verify: int | None = None
    problem: int | None = None
    analysis: int | None = None
    report: int | None = None
    # The file fields of the problem, analysis and report steps: the documents shown with a problem.
    problem_documents: tuple[str, ...] = ()
    plan: int | None = None

    @property
    def problem_steps(self) -> tuple[int, ...]:
        """The problem, analysis and report steps, in number order, without repeats."""
        return tuple(sorted({n for n in (self.problem, self.analysis, self.report) if n is not None}))


def roles(definition: Definition) -> Roles:
    """The monitored steps of a definition (see the module text)."""
    verify = _find(definition, (VERIFIED,), "boolean")
    problem = _find(definition, (HAS_PROBLEM,), "boolean")
    analysis = _find(definition, (ANALYSIS, SOLUTION), None)
    report = _find(definition, (SOLUTION_REPORT,), "file")
    plan = _find(definition, (PLANNED_START,), "date")
    documents = []
    for step in (problem, analysis, report):
        for f in step.form.fields if step else ():
            if f.type == "file" and f.name not in documents:
                documents.append(f.name)
    return Roles(*(s.number if s else None for s in (verify, problem, analysis, report)),
                 problem_documents=tuple(documents), plan=plan.number if plan else None)


def is_problem(data: dict[str, Any]) -> bool:
    """Whether a step's recorded data raises a problem."""
    return data.get(HAS_PROBLEM) is True


def is_analysis(data: dict[str, Any]) -> bool:
    return ANALYSIS in data or SOLUTION in data


def is_report(data: dict[str, Any]) -> bool:
    return SOLUTION_REPORT in data


def steps_text(numbers: tuple[int, ...] | list[int]) -> str:
    """Step numbers as a heading writes them: "12–14" when they follow each other, else "5, 12"."""
    numbers = sorted(numbers)
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}"
    return ", ".join(str(n) for n in numbers)


def _find(definition: Definition, names: tuple[str, ...], kind: str | None) -> Step | None:
    candidates = [s for s in definition.steps
                  if any(f.name in names and (kind is None or f.type == kind) for f in s.form.fields)]
    if not candidates:
        return None
    return min(candidates, key=lambda s: (not _decides_on(s, names), s.number))


def _decides_on(step: Step, names: tuple[str, ...]) -> bool:
    if step.decision is None:
        return False
    for _flow, _label, condition, _target in step.decision.outcomes:
        try:
            if condition and names_used(condition) & set(names):
                return True
        except ExpressionError:
            continue
    return False
