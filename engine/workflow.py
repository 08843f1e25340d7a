"""Running one instance's workflow inside a unit of work.

`Run` loads an instance's workflow, lets a command move it, and then writes
back everything derived from it in the same transaction: the workflow state,
the open-task rows, the timer rows, overdue marks and the event log. Every
command that moves a workflow (start, complete, a timer firing) ends in
`Run.save()`, so the rows can never drift from the workflow.
"""
from __future__ import annotations

from datetime import datetime
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import escalation, spiff
from engine.db import Instance, TaskRow, Timer
from engine.events import log
from engine.runtime import Runtime
from process.definition import SCOPE_OFFICE, Definition


class Run:
    """One instance's workflow, loaded for one command."""

    def __init__(self, rt: Runtime, session: Session, instance: Instance, workflow: BpmnWorkflow,
                 definition: Definition):
        self.rt, self.session, self.instance = rt, session, instance
        self.workflow, self.definition = workflow, definition

    @classmethod
    def new(cls, rt: Runtime, session: Session, instance: Instance) -> "Run":
        definition, spec = rt.definition(instance.definition)
        workflow = spiff.new_workflow(spec, rt.script_engine(definition))
        return cls(rt, session, instance, workflow, definition)

    @classmethod
    def load(cls, rt: Runtime, session: Session, instance: Instance) -> "Run":
        definition, spec = rt.definition(instance.definition)
        workflow = rt.serializer.loads(instance.workflow_json, spec, rt.script_engine(definition))
        return cls(rt, session, instance, workflow, definition)

    def user_task(self, task_id: str) -> Task | None:
        return next((t for t in spiff.ready_user_tasks(self.workflow) if str(t.id) == task_id), None)

    def advance(self) -> None:
        """Fire the timers that are due by the runtime's clock, then run engine steps.

        refresh_timers() only makes a due timer READY; the engine steps after it
        run it. (do_engine_steps alone refreshes last, so a due timer would
        wait for the next command.)
        """
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps()

    def save(self, actor: str | None = None) -> None:
        now = self.rt.now()
        instance = self.instance
        # The queries below read only rows this command has not added, so they
        # need no autoflush; everything goes out in the one flush at the end
        # (the instance's version check included), not in one flush per query.
        with self.session.no_autoflush:
            instance.workflow_json = self.rt.serializer.dumps(self.workflow)
            if self.workflow.completed and instance.state != "completed":
                instance.state, instance.completed_at = "completed", now
                log(self.session, instance.id, now, "completed", actor)
            self._sync_tasks(now)
        self.session.flush()

    def _sync_tasks(self, now: datetime) -> None:
        rows = {r.id: r for r in self.session.scalars(
            select(TaskRow).where(TaskRow.instance_id == self.instance.id, TaskRow.state == "open"))}
        # All the instance's timer rows in one query: the deadlines for the
        # ready steps, and the unfired ones (any kind) of the steps that close.
        timers = list(self.session.scalars(select(Timer).where(Timer.instance_id == self.instance.id)))
        deadlines = {t.task_id: t for t in timers if t.kind == "deadline"}
        ready = {str(t.id): t for t in spiff.ready_user_tasks(self.workflow)}
        for task_id, row in rows.items():
            if task_id not in ready:
                self._close(row, now, [t for t in timers if t.task_id == task_id and t.fired_at is None])
        for task_id, task in ready.items():
            row = rows.get(task_id) or self._open(task, now)
            self._sync_deadline(row, task, deadlines.get(task_id), now)

    def _open(self, task: Task, now: datetime) -> TaskRow:
        step = self.definition.step_for_element(task.task_spec.bpmn_id)
        office = step.lane.scope == SCOPE_OFFICE
        row = TaskRow(
            id=str(task.id), instance_id=self.instance.id,
            definition_version_id=self.instance.definition_version_id, step=step.number,
            element_id=step.element_id, name=step.name, lane_role=step.lane.role,
            bidang_code=None if office else self.instance.bidang_code,
            instance_bidang=self.instance.bidang_code, state="open", created_at=now, overdue=False,
        )
        self.session.add(row)
        log(self.session, self.instance.id, now, "step_ready", step=step.number, task_id=row.id)
        return row

    def _close(self, row: TaskRow, now: datetime, unfired: list[Timer]) -> None:
        task = self.workflow.get_task_from_id(_uuid(row.id))
        row.state = "completed" if task is not None and task.state == TaskState.COMPLETED else "cancelled"
        row.completed_at = row.completed_at or now
        if row.due_at is not None and row.completed_at > row.due_at:
            # Finished late before any scheduler pass noticed: still overdue.
            row.overdue = True
        for timer in unfired:
            self.session.delete(timer)
        if row.overdue:
            # Alerts are only ever written for a step marked overdue (level 1 marks
            # it in the transaction that writes its alerts; level 2 follows level 1),
            # so a step that never was has none to cancel: no query for it.
            escalation.cancel_pending_alerts(self.session, row.id, now)

    def _sync_deadline(self, row: TaskRow, task: Task, timer_row: Timer | None, now: datetime) -> None:
        timer = _boundary_timer(task)
        if timer is None:
            return
        due = timer._get_internal_data("event_value")
        row.due_at = datetime.fromisoformat(due) if due else None
        if timer_row is None and row.due_at is not None:
            timer_row = Timer(instance_id=self.instance.id, task_id=row.id, spiff_timer_id=str(timer.id),
                              kind="deadline", due_at=row.due_at)
            self.session.add(timer_row)
        if timer.state == TaskState.COMPLETED and timer_row is not None and timer_row.fired_at is None:
            # The engine fired the step's timer: the standard time has passed.
            timer_row.fired_at = now
            step = self.definition.step_for_element(row.element_id)
            escalation.step_overdue(self.rt, self.session, self.instance, row, step, now)


def _boundary_timer(task: Task) -> Task | None:
    """The standard-time timer attached to a user task (its sibling under the boundary parent)."""
    for sibling in task.parent.children if task.parent else ():
        spec = sibling.task_spec
        if isinstance(getattr(spec, "event_definition", None), spiff.DeadlineTimer):
            return sibling
    return None


def _uuid(task_id: str):
    from uuid import UUID
    return UUID(task_id)
