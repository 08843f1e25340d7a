"""The SpiffWorkflow adapter: parser, restricted script engine, timers, serializer.

SpiffWorkflow is used for what it is good at (walking the BPMN graph) and
fenced off where it would hurt us:

* Expressions: the default script engine runs `eval`/`exec` with builtins.
  `RestrictedScriptEngine` evaluates through `process.expressions` and
  refuses to execute scripts at all.
* Time: the library's timers compare against the real clock and compute
  plain clock durations. `DeadlineTimer` asks the runtime for the deadline
  (the working-day calendar) and compares against the injected clock.
* Storage: the default serializer embeds the whole process definition in
  every instance. `WorkflowSerializer` leaves it out; the parsed spec is
  cached per definition version instead.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from process.calendar import past_due
from process.definition import Definition
from process.expressions import ExpressionError, ExpressionRefused, evaluate

# Given the boundary timer's element id and the moment its step became ready,
# return the step's deadline.
DeadlineFn = Callable[[str, datetime], datetime]


class ScriptRefused(RuntimeError):
    pass


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self) -> None:
        super().__init__({})

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**context, **(external_context or {})})

    def execute(self, script, context, external_context=None):
        raise ScriptRefused("scripts are not allowed in Alur definitions")

    def call_service(self, context, **kwargs):
        raise ScriptRefused("service tasks are not allowed in Alur definitions")


class RestrictedScriptEngine(PythonScriptEngine):
    """The script engine every workflow gets: safe expressions, an injected clock."""

    def __init__(self, now: Callable[[], datetime], deadline: DeadlineFn):
        super().__init__(environment=RestrictedEnvironment())
        self.now = now
        self.deadline = deadline

    def validate(self, expression):
        try:
            evaluate(expression, {})
        except ExpressionRefused:
            raise
        except ExpressionError:
            pass  # a name the empty data lacks: the condition is read when the instance reaches it


class DeadlineTimer(DurationTimerEventDefinition):
    """A step's standard-time timer, due when the office calendar says so."""

    def has_fired(self, my_task: Task) -> bool:
        engine: RestrictedScriptEngine = my_task.workflow.script_engine
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = engine.deadline(my_task.task_spec.bpmn_id, engine.now()).isoformat()
            my_task._set_internal_data(event_value=due)
        if not my_task._get_internal_data("event_fired", False) and \
                past_due(datetime.fromisoformat(due), engine.now()):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


def parse_spec(definition: Definition):
    """Parse a definition's BPMN into a SpiffWorkflow spec with our timers.

    The XML was already checked by `process.loader` (defusedxml, no DTD), so
    lxml never sees entities here.
    """
    parser = BpmnParser()
    parser.add_bpmn_str(definition.bpmn_xml.encode(), filename=f"{definition.key}.bpmn")
    spec = parser.get_spec(definition.key)
    for task_spec in spec.task_specs.values():
        event = getattr(task_spec, "event_definition", None)
        if isinstance(event, TimerEventDefinition):
            task_spec.event_definition = DeadlineTimer(event.name, event.expression, description=event.description)
    return spec


class WorkflowSerializer:
    """JSON state of a workflow without its process definition."""

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer()
        # The library flips a mode flag on its shared registry while encoding;
        # a runtime shared by server threads must not interleave that.
        self._encoding = threading.Lock()

    def dumps(self, workflow: BpmnWorkflow) -> str:
        registry = self._serializer.registry
        with self._encoding:
            registry._encoder_mode = True
            try:
                dct = self._to_dict(workflow)
                tasks = self._tasks_json(workflow)
            finally:
                registry._encoder_mode = False
        # "tasks" is the first key, written as {} and spliced in here.
        text = self._json(dct)
        return '{"tasks":{' + tasks + "}" + text[len('{"tasks":{}'):]

    def _json(self, value) -> str:
        return json.dumps(value, separators=(",", ":"), cls=self._serializer._encoder_cls)

    def _to_dict(self, workflow: BpmnWorkflow) -> dict:
        """What the library's BpmnWorkflowConverter.to_dict returns, minus the specs and the tasks.

        The library's converter would convert the whole process definition on
        every save only for us to drop it; the parts are made here directly.
        """
        registry = self._serializer.registry
        typename = registry.typenames[type(workflow)]
        converter = registry.convert_to_dict[typename].args[1].__self__  # partial(_obj_to_dict, typename, to_dict)
        return {
            "tasks": {},
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "root": str(workflow.task_tree.id),
            "subprocesses": converter.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
            "typename": typename,
        }

    def _tasks_json(self, workflow: BpmnWorkflow) -> str:
        """The members of the library's "tasks" object, reusing the text of tasks that did not change.

        Most of a workflow's tasks are finished or predicted, and do not change
        from one command to the next, so in a workflow kept in memory between
        commands (engine/workflow_cache.py) their text is made once, not on
        every save. The memo lives on the workflow object and dies with it.
        """
        registry = self._serializer.registry
        memo: dict = workflow.__dict__.setdefault("_alur_task_text", {})
        parts = []
        for task_id, task in workflow.tasks.items():
            key = _unchanged_key(task)
            cached = memo.get(task_id)
            if cached is None or key is None or cached[0] != key:
                cached = (key, f'"{task_id}":' + self._json(registry.convert(task)))
                if key is not None:
                    memo[task_id] = cached
            parts.append(cached[1])
        return ",".join(parts)

    def loads(self, text: str, spec, script_engine: RestrictedScriptEngine) -> BpmnWorkflow:
        dct = json.loads(text)
        # restore() hands non-dict values back unchanged, so the cached spec
        # object goes straight into the workflow.
        dct["spec"] = spec
        dct["subprocess_specs"] = {}
        workflow = self._serializer.from_dict(dct)
        workflow.script_engine = script_engine
        return _flat_lookups(workflow)


_STABLE = TaskState.FINISHED_MASK | TaskState.PREDICTED_MASK | TaskState.FUTURE


def _unchanged_key(task: Task) -> tuple | None:
    """What a task's saved text depends on, for tasks whose text changes only with it; else None.

    A finished task never changes. A predicted or future one changes only
    when its state does, or its parent's (its data is saved as a difference
    from the parent's), or its spec (an instance moved to a new version).
    READY, WAITING and STARTED tasks take data and timer values without a
    state change, so they are always written afresh.
    """
    if not task._state & _STABLE:
        return None
    parent = task.parent
    return (task._state, task.last_state_change, task.task_spec, tuple(task._children), len(task.data),
            len(task.internal_data),
            parent._state if parent else None, parent.last_state_change if parent else None)


def new_workflow(spec, script_engine: RestrictedScriptEngine) -> BpmnWorkflow:
    return _flat_lookups(BpmnWorkflow(spec, script_engine=script_engine))


def _flat_lookups(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """Find tasks by state with a flat pass instead of a walk down the whole task tree.

    The library looks up the READY tasks after every engine step and updates
    the WAITING ones after every completed task, each time walking the tree
    (which grows with every step an instance takes). A flat pass over the task
    map finds the same set, put in the walk's order (depth first) by sorting
    on each task's path from the root.
    """
    by_walk = workflow.get_tasks

    def get_tasks(first_task=None, **kwargs):
        if first_task is None and len(kwargs) == 1 and "state" in kwargs and not workflow.subprocesses:
            state = kwargs["state"]
            found = [t for t in workflow.tasks.values() if t._state & state]
            return sorted(found, key=_tree_path) if len(found) > 1 else found
        return by_walk(first_task, **kwargs)

    def update_waiting_tasks():
        for task in get_tasks(state=TaskState.WAITING):
            task.task_spec._update(task)

    workflow.get_tasks = get_tasks
    workflow.update_waiting_tasks = update_waiting_tasks
    return workflow


def _tree_path(task: Task) -> list[int]:
    """The child positions from the root down to the task: depth-first order is their order."""
    path = []
    parent = task.parent
    while parent is not None:
        path.append(parent._children.index(task.id))
        task, parent = parent, parent.parent
    path.reverse()
    return path


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    # A flat pass over the task maps: the library's get_tasks walks the tree
    # with an iterator that costs ten times as much, on every command.
    ready = TaskState.READY
    return [t for t in _all_tasks(workflow) if t.state == ready and isinstance(t.task_spec, UserTaskMixin)]


def _all_tasks(workflow: BpmnWorkflow):
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def deadline_timers(workflow: BpmnWorkflow) -> list[Task]:
    """Every task of a step's standard-time timer, in any state."""
    return [t for t in _all_tasks(workflow) if isinstance(getattr(t.task_spec, "event_definition", None), DeadlineTimer)]


def task_data(task: Task) -> dict[str, Any]:
    return dict(task.data)
