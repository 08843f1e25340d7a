"""Running one instance's workflow inside a unit of work.

`Run` loads an instance's workflow, lets a command move it, and then writes
back everything derived from it in the same transaction: the workflow state,
the open-task rows, the timer rows, overdue marks and the event log. Every
command that moves a workflow (start, complete, a timer firing) ends in
`Run.save()`, so the rows can never drift from the workflow.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import escalation, spiff
from engine.db import Instance, TaskRow, Timer
from engine.errors import StepBlocked
from engine.events import log
from engine.runtime import Runtime
from engine.workflow_cache import after_commit
from process.calendar import past_due
from process.definition import SCOPE_OFFICE, Definition
from process.expressions import ExpressionError
from process.messages import Text


class Run:
    """One instance's workflow, loaded for one command.

    The open-task rows always mirror the workflow's ready user tasks, so the
    ready tasks and unfired deadline timers seen at load are what the rows
    and timer rows say. `save` writes only what changed since then, without
    reading the rows back.
    """

    def __init__(self, rt: Runtime, session: Session, instance: Instance, workflow: BpmnWorkflow,
                 definition: Definition):
        self.rt, self.session, self.instance = rt, session, instance
        self.workflow, self.definition = workflow, definition
        self._ready_before = {str(t.id) for t in spiff.ready_user_tasks(workflow)}
        self._fired_before = {t.id for t in spiff.deadline_timers(workflow) if t.state == TaskState.COMPLETED}
        self._json: str | None = None

    @classmethod
    def new(cls, rt: Runtime, session: Session, instance: Instance) -> "Run":
        definition, spec = rt.definition_of(instance)
        workflow = spiff.new_workflow(spec, rt.script_engine(definition))
        return cls(rt, session, instance, workflow, definition)

    @classmethod
    def load(cls, rt: Runtime, session: Session, instance: Instance) -> "Run":
        definition, spec = rt.definition_of(instance)
        workflow = rt.workflows.take(instance.id, instance.version)
        if workflow is None:
            workflow = rt.serializer.loads(instance.workflow_json, spec, rt.script_engine(definition))
        return cls(rt, session, instance, workflow, definition)

    def user_task(self, task_id: str) -> Task | None:
        return next((t for t in spiff.ready_user_tasks(self.workflow) if str(t.id) == task_id), None)

    def finish(self, task: Task, data: dict) -> None:
        """Run a ready user task with its form's data, then the engine steps after it."""
        task.data.update(data)
        with _blocked_as_step_blocked():
            task.run()
        self.advance()

    def advance(self) -> None:
        """Fire the timers that are due by the runtime's clock, then run engine steps.

        refresh_timers() only makes a due timer READY; the engine steps after it
        run it. (do_engine_steps alone refreshes last, so a due timer would
        wait for the next command.)
        """
        with _blocked_as_step_blocked():
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps()

    def serialize(self) -> str:
        """The workflow's JSON as `save` will write it, made once: a command that has moved the
        workflow for the last time may make it before it takes the write lock."""
        if self._json is None:
            self._json = self.rt.serializer.dumps(self.workflow)
        return self._json

    def save(self, actor: str | None = None) -> None:
        """Write the workflow and everything derived from it; `actor` completed the step that closed.

        The rows a step changes on every command (the instance's state, the
        task rows that open and close, their timers, the log) are written as
        plain statements with their own version checks: cheaper than the ORM's
        unit of work, and a lost race still ends as StaleDataError, which the
        unit of work turns into a Conflict with nothing written.
        """
        now = self.rt.now()
        instance = self.instance
        self.session.flush()  # what the caller changed through the ORM goes first, versions bumped
        finished = self.workflow.completed and instance.state != "completed"
        # The queries below read only rows this command has not added, so they need no autoflush.
        with self.session.no_autoflush:
            if finished:
                log(self.session, instance.id, now, "completed", actor)
            self._sync_tasks(now, actor)
        self.session.flush()  # what escalation added (alerts, the next level's timer)
        seen = instance.version
        params = {"instance": instance.id, "seen": seen, "next": seen + 1,
                  "json": self.serialize()}
        if finished:
            params.update(state_="completed", at=now)
        _checked(self.session.connection().execute(_FINISH_INSTANCE if finished else _SAVE_INSTANCE, params),
                 "instance", instance.id)
        set_committed_value(instance, "version", seen + 1)
        if finished:
            set_committed_value(instance, "state", "completed")
            set_committed_value(instance, "completed_at", now)
        # The workflow is that version's state once the transaction commits. A
        # finished one runs no step again: it would only take room (and memory).
        if not self.workflow.completed:
            instance_id, version, workflow = instance.id, seen + 1, self.workflow
            after_commit(self.session, lambda: self.rt.workflows.put(instance_id, version, workflow))

    def _sync_tasks(self, now: datetime, actor: str | None) -> None:
        ready = {str(t.id): t for t in spiff.ready_user_tasks(self.workflow)}
        closing = self._ready_before - ready.keys()
        if closing:
            # Their unfired timers (deadline or a later escalation level) can never fire now.
            # (No command holds them as objects.)
            self.session.connection().execute(_DROP_UNFIRED, {"instance": self.instance.id, "tasks": list(closing)})
        decided = False  # whether this command completed a decision step (which may send a step back)
        for task_id in sorted(closing):
            row = self.session.get(TaskRow, task_id)
            if row is not None and row.state == "open":
                self._close(row, now, actor)
                decided = decided or (row.state == "completed" and self.definition.step(row.step).is_decision)
        for task_id, task in ready.items():
            if task_id not in self._ready_before:
                self._open(task, now, decided)
        for timer in spiff.deadline_timers(self.workflow):
            if timer.state == TaskState.COMPLETED and timer.id not in self._fired_before:
                self._deadline_passed(timer, now)

    def _open(self, task: Task, now: datetime, decided: bool) -> None:
        """A step became ready: its row, and the timer row the scheduler watches for its standard time.
        A step done before in the activity and opened by a decision (`decided`) was sent back.

        Inserted as plain rows: nothing else in the command edits them.
        """
        step = self.definition.step_for_element(task.task_spec.bpmn_id)
        office = step.lane.scope == SCOPE_OFFICE
        timer = _boundary_timer(task)
        due = timer._get_internal_data("event_value") if timer is not None else None
        row = dict(
            id=str(task.id), instance_id=self.instance.id,
            definition_version_id=self.instance.definition_version_id, step=step.number,
            element_id=step.element_id, name=step.name, lane_role=step.lane.role,
            bidang_code=None if office else self.instance.bidang_code,
            instance_bidang=self.instance.bidang_code, state="open", assignee=None, created_at=now,
            due_at=datetime.fromisoformat(due) if due else None, completed_at=None, completed_by=None,
            overdue=False, row_version=1, sent_back=decided and self._done_before(step.element_id),
        )
        connection = self.session.connection()
        connection.execute(_INSERT_TASK, row)
        if row["due_at"] is not None:
            connection.execute(_INSERT_TIMER, dict(instance_id=self.instance.id, task_id=row["id"],
                                                   spiff_timer_id=str(timer.id), kind="deadline",
                                                   due_at=row["due_at"], fired_at=None, lock_owner=None,
                                                   lock_expires=None))
        log(self.session, self.instance.id, now, "step_ready", step=step.number, task_id=row["id"])

    def _done_before(self, element_id: str) -> bool:
        return self.session.scalar(select(exists().where(
            TaskRow.instance_id == self.instance.id, TaskRow.state == "completed",
            TaskRow.element_id == element_id)))

    def _close(self, row: TaskRow, now: datetime, actor: str | None) -> None:
        task = self.workflow.get_task_from_id(_uuid(row.id))
        done = task is not None and task.state == TaskState.COMPLETED
        values = {"state": "completed" if done else "cancelled", "completed_at": row.completed_at or now,
                  "completed_by": actor if done else row.completed_by, "overdue": row.overdue}
        if row.due_at is not None and past_due(row.due_at, values["completed_at"]):
            # Finished late before any scheduler pass noticed: still overdue.
            values["overdue"] = True
        _checked(self.session.connection().execute(
            _CLOSE_TASK, {"task": row.id, "seen": row.row_version, "next": row.row_version + 1,
                          **{f"new_{k}": v for k, v in values.items()}}), "task", row.id)
        for key, value in {**values, "row_version": row.row_version + 1}.items():
            set_committed_value(row, key, value)
        if row.overdue:
            # Alerts are only ever written for a step marked overdue (level 1 marks
            # it in the transaction that writes its alerts; level 2 follows level 1),
            # so a step that never was has none to cancel: no query for it.
            escalation.cancel_pending_alerts(self.session, row.id, now)

    def _deadline_passed(self, timer: Task, now: datetime) -> None:
        """The engine fired a step's timer in this command: the standard time has passed."""
        task = _bounded_task(timer)
        row = self.session.get(TaskRow, str(task.id)) if task is not None else None
        if row is None or row.state != "open":
            return
        timer_row = self.session.scalars(select(Timer).where(
            Timer.instance_id == self.instance.id, Timer.task_id == row.id, Timer.kind == "deadline")).first()
        if timer_row is None or timer_row.fired_at is not None:
            return
        timer_row.fired_at = now
        # Written before the task row is touched: a completion takes the step's
        # timer rows before its task row (it deletes the unfired ones first), so
        # with the same order the two commands wait for each other, never deadlock.
        self.session.flush()
        step = self.definition.step_for_element(row.element_id)
        escalation.step_overdue(self.rt, self.session, self.instance, row, step, now)


# The statements a step runs on every command, built once.
_tasks, _timers, _instances = TaskRow.__table__, Timer.__table__, Instance.__table__
_INSERT_TASK = insert(_tasks)
_INSERT_TIMER = insert(_timers)
_DROP_UNFIRED = delete(_timers).where(_timers.c.instance_id == bindparam("instance"),
                                      _timers.c.task_id.in_(bindparam("tasks", expanding=True)),
                                      _timers.c.fired_at.is_(None))
_CLOSE_TASK = (update(_tasks).where(_tasks.c.id == bindparam("task"), _tasks.c.row_version == bindparam("seen"))
               .values(state=bindparam("new_state"), completed_at=bindparam("new_completed_at"),
                       completed_by=bindparam("new_completed_by"), overdue=bindparam("new_overdue"),
                       row_version=bindparam("next")))
_SAVE_INSTANCE = (update(_instances)
                  .where(_instances.c.id == bindparam("instance"), _instances.c.version == bindparam("seen"))
                  .values(workflow_json=bindparam("json"), version=bindparam("next")))
_FINISH_INSTANCE = _SAVE_INSTANCE.values(state=bindparam("state_"), completed_at=bindparam("at"))


@contextmanager
def _blocked_as_step_blocked():
    """SpiffWorkflow's own error for a gateway it cannot pass, as the engine's: the user sees why.

    (The workflow object is left half-moved; the unit of work rolls back and
    it is never put in the cache.)
    """
    try:
        yield
    except WorkflowException as err:
        if not _cannot_pass(err):
            raise  # an engine fault or a corrupt state: a 500 in the log, not the user's to fix
        spec = err.task_spec
        element = (getattr(spec, "bpmn_id", None) or spec.name) if spec else "?"
        name = getattr(spec, "bpmn_name", None)
        # SpiffWorkflow says only which expression failed; ours says why.
        why = err.__context__.args[0] if isinstance(err.__context__, ExpressionError) else str(err)
        raise StepBlocked(Text("langkah tidak dapat diteruskan pada %(where)s: %(why)s; periksa isian yang dibaca "
                               "kondisinya, atau minta pemilik proses memperbaiki diagram",
                               where=f"{name!r} ({element})" if name else element, why=why)) from err


def _cannot_pass(err: WorkflowException) -> bool:
    """A condition that failed to evaluate, or a gateway none of whose conditions holds."""
    return isinstance(err.__context__, ExpressionError) or \
        str(err).startswith(("No conditions satisfied for ", "No conditions satisfied on gateway"))


def _checked(result, table: str, key) -> None:
    """A versioned write that matched no row lost a race: the ORM's own signal for that."""
    if result.rowcount != 1:
        raise StaleDataError(f"{table} {key} was changed by another transaction")


def _boundary_timer(task: Task) -> Task | None:
    """The standard-time timer attached to a user task (its sibling under the boundary parent)."""
    for sibling in task.parent.children if task.parent else ():
        spec = sibling.task_spec
        if isinstance(getattr(spec, "event_definition", None), spiff.DeadlineTimer):
            return sibling
    return None


def _bounded_task(timer: Task) -> Task | None:
    """The user task a boundary timer is attached to (its sibling under the boundary parent)."""
    for sibling in timer.parent.children if timer.parent else ():
        if isinstance(sibling.task_spec, spiff.UserTaskMixin):
            return sibling
    return None


def _uuid(task_id: str):
    from uuid import UUID
    return UUID(task_id)
