"""Many active instances, fast: one real instance, cloned.

`services.start` costs about 6-10 ms an instance (a workflow run, ten SQL
statements, a commit). For 100,000 instances that is a quarter of an hour,
so one template instance is started the real way and then copied: its
instance, open task, deadline timer and event rows, in bulk inserts.

A clone is a real, loadable instance: every SpiffWorkflow task id in its
workflow JSON is replaced by a fresh one (the task row's id is one of them),
and its step-1 deadline is set to the clone's own due time, in the JSON's
timer and in its timer row alike. When a clone comes due, the scheduler
loads, fires and saves it like any other instance.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import func, insert, select, text

from engine import events, services
from engine.db import Event, EventChain, Instance, TaskRow, Timer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BATCH = 2000


class Template:
    """A started instance's rows, with its JSON split at every task id and at its deadline."""

    def __init__(self, rt, instance_id: int):
        with rt.uow() as session:
            self.instance = _row(session.get(Instance, instance_id), Instance, with_json=True)
            self.task = _row(session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id)).one(), TaskRow)
            self.timer = _row(session.scalars(select(Timer).where(Timer.instance_id == instance_id)).one(), Timer)
            self.events = [_row(e, Event) for e in session.scalars(
                select(Event).where(Event.instance_id == instance_id).order_by(Event.id))]
        self._split(self.instance["workflow_json"], self.timer["due_at"])

    def _split(self, workflow_json: str, due: datetime) -> None:
        # The JSON becomes literal pieces with holes: an int is the index of a
        # task id, None is the deadline. Filling the holes is a cheap join.
        due_text = f'"event_value":"{due.isoformat()}"'
        head, sep, tail = workflow_json.partition(due_text)
        if not sep:
            raise ValueError("the template's deadline is not in its workflow JSON")
        ids: dict[str, int] = {}
        self.pieces: list[str | int | None] = []
        for part_no, part in enumerate((head, tail)):
            if part_no:
                self.pieces.append(None)
            last = 0
            for match in UUID.finditer(part):
                self.pieces.append(part[last:match.start()])
                self.pieces.append(ids.setdefault(match.group(), len(ids)))
                last = match.end()
            self.pieces.append(part[last:])
        self.id_count = len(ids)
        self.task_hole = ids[self.task["id"]]
        self.timer_hole = ids[self.timer["spiff_timer_id"]]

    def workflow_json(self, new_ids: list[str], due: datetime) -> str:
        return "".join(
            p if isinstance(p, str) else (new_ids[p] if p is not None else f'"event_value":"{due.isoformat()}"')
            for p in self.pieces)


def start_template(rt, bidang: str = "aptika") -> int:
    return services.start(rt, "monev_kegiatan_bidang", bidang, "Kegiatan contoh", None)


def clone(rt, template: Template, count: int, due_at: Callable[[int], datetime],
          title: str = "Kegiatan {n}", bidang: Callable[[int], str] | None = None) -> list[int]:
    """Insert `count` copies of the template; clone n is due at due_at(n). Returns their ids.

    With `bidang`, clone n belongs to Bidang bidang(n) (which must exist)
    instead of the template's.
    """
    with rt.uow() as session:
        first = (session.scalar(select(func.max(Instance.id))) or 0) + 1
    ids = list(range(first, first + count))
    for chunk in _chunks(ids, BATCH):
        with rt.uow() as session:
            rows = [_clone_rows(template, instance_id, instance_id - first, due_at(instance_id - first), title,
                                bidang(instance_id - first) if bidang else None)
                    for instance_id in chunk]
            for table, index in ((Instance, 0), (TaskRow, 1), (Timer, 2)):
                session.execute(insert(table), [r[index] for r in rows])
            # Each clone's log is chained afresh, so `alur audit verify` holds on a benchmark database too.
            entries, heads = events.chain_rows([e for r in rows for e in r[3]])
            session.execute(insert(Event), entries)
            session.execute(insert(EventChain), heads)
            session.commit()
    _bump_sequences(rt)
    return ids


def _clone_rows(template: Template, instance_id: int, n: int, due: datetime, title: str, bidang: str | None = None):
    new_ids = [str(uuid.uuid4()) for _ in range(template.id_count)]
    task_id = new_ids[template.task_hole]
    instance = {**template.instance, "id": instance_id, "title": title.format(n=n),
                "workflow_json": template.workflow_json(new_ids, due)}
    task = {**template.task, "id": task_id, "instance_id": instance_id, "due_at": due}
    if bidang is not None:
        instance["bidang_code"] = task["instance_bidang"] = bidang
        if task["bidang_code"] is not None:  # NULL stays NULL: a lane that serves the whole office
            task["bidang_code"] = bidang
    timer = {**template.timer, "instance_id": instance_id, "task_id": task_id,
             "spiff_timer_id": new_ids[template.timer_hole], "due_at": due}
    log = [{**e, "instance_id": instance_id, "task_id": task_id if e["task_id"] else None}
           for e in template.events]
    return instance, task, timer, log


def _row(obj, model, with_json: bool = False) -> dict:
    skip = {"id"} if model in (Timer, Event) else set()
    if model is Event:
        skip |= {"seq", "prev_hash", "hash"}  # each clone gets its own chain
    if model is Instance and not with_json:
        skip.add("workflow_json")
    return {c.key: getattr(obj, c.key) for c in model.__mapper__.column_attrs if c.key not in skip}


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _bump_sequences(rt) -> None:
    # Explicit ids leave PostgreSQL's sequence behind; the next real start would clash.
    if rt.engine.dialect.name != "postgresql":
        return
    with rt.engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('instance', 'id'), (SELECT max(id) FROM instance))"))
