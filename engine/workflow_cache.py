"""Workflows kept in memory between commands, so a step does not start by deserializing.

Loading an instance's workflow from its JSON costs more than running the step
itself. A process keeps the workflows it saved last, keyed by instance id and
the instance row's version (which every save bumps, in any process). A
command takes the workflow out of the cache, so no two threads ever share one,
and it goes back only after the command's transaction has committed. A
workflow whose version no longer matches the row, or whose command failed, is
never used again: the next command deserializes the committed state.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from SpiffWorkflow.bpmn import BpmnWorkflow

_AFTER_COMMIT = "alur.after_commit"


class WorkflowCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        """The instance's workflow if it is the committed state of `version`; it leaves the cache."""
        with self._lock:
            found = self._items.pop(instance_id, None)
        if found is None or found[0] != version:
            return None
        return found[1]

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def after_commit(session: Session, callback) -> None:
    """Run `callback` once the session's transaction has committed; never if it rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def install(sessions: sessionmaker) -> None:
    """Hook the session factory so `after_commit` callbacks run (or are dropped) at the right time."""
    event.listen(sessions, "after_commit", _run_callbacks)
    event.listen(sessions, "after_rollback", _drop_callbacks)


def _run_callbacks(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


def _drop_callbacks(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
