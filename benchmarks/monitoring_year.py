"""The monitoring figures and the recap over a year of an office's activities.

A year is written straight to SQL (no workflow runs): each activity with all
15 steps completed, times taken drawn from 1 hour to 900 hours, and the data
of the three steps the figures read (period, verification, problems). Then
`engine.monitoring.figures` (the dashboard) and `engine.monitoring.recap`
(the XLSX/CSV recap) are timed for the whole year, as the Kepala Dinas sees
it. The suite checks that both run a fixed number of queries whatever the
rows (tests/integration/test_monitoring.py); this measures how long the
Python side takes as the year grows.
"""
from __future__ import annotations

import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from benchmarks.common import Summary, fresh_runtime, settle
from engine import monitoring
from engine.db import DefinitionVersion, Event, EventChain, Instance, TaskRow
from engine.events import chain_rows

BIDANG = ("sekretariat", "aptika", "ikp", "statistik-persandian")
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
VIEWER = "kadis"


@dataclass
class Config:
    activities: int = 1200  # a busy office: 100 a month
    repeats: int = 7

    @classmethod
    def quick(cls) -> "Config":
        return cls(activities=300, repeats=3)


@dataclass
class Row:
    database: str
    what: str  # "figures" or "recap"
    activities: int
    task_rows: int
    setup_s: float
    ms: Summary

    def as_dict(self) -> dict:
        return {**self.__dict__, "ms": self.ms.as_dict()}


def write_year(rt, activities: int, seed: int = 7) -> int:
    """`activities` completed activities spread over 2026; the number of task rows written."""
    rng = random.Random(seed)
    with rt.uow() as session:
        version = session.scalars(select(DefinitionVersion)).first()
        steps = rt.definition(version)[0].steps
        instances, tasks, events = [], [], []
        for n in range(activities):
            created = datetime(2026, 1, 2, 1, 0, tzinfo=timezone.utc) + timedelta(days=360 * n / activities)
            bidang = BIDANG[n % len(BIDANG)]
            instances.append({"id": n + 1, "definition_version_id": version.id, "bidang_code": bidang,
                              "title": f"Kegiatan {n}", "period": "", "state": "completed", "workflow_json": "{}",
                              "version": 1, "created_at": created, "completed_at": created + timedelta(days=90)})
            moment = created
            for step in steps:
                took = timedelta(hours=rng.choice((1, 5, 30, 200, 900)))
                tasks.append({"id": str(uuid.uuid4()), "instance_id": n + 1, "definition_version_id": version.id,
                              "step": step.number, "element_id": step.element_id, "name": step.name,
                              "lane_role": step.lane.role, "bidang_code": bidang, "instance_bidang": bidang,
                              "state": "completed", "created_at": moment,
                              "due_at": moment + timedelta(hours=rng.choice((2, 100, 600))),
                              "completed_at": moment + took, "completed_by": f"{bidang}.{step.lane.role}",
                              "overdue": False, "row_version": 1})
                data = {1: {"tanggal_mulai": "2026-03-01", "tanggal_selesai": "2026-03-20"},
                        5: {"terverifikasi": rng.random() < 0.8},
                        12: {"ada_kendala": rng.random() < 0.2, "uraian_kendala": "kendala"}}.get(step.number)
                if data is not None:
                    events.append({"instance_id": n + 1, "at": moment + took, "actor": f"{bidang}.{step.lane.role}",
                                   "kind": "step_completed", "step": step.number, "data": data})
                moment += took
        session.execute(insert(Instance), instances)
        session.execute(insert(TaskRow), tasks)
        entries, heads = chain_rows(events)
        session.execute(insert(Event), entries)
        session.execute(insert(EventChain), heads)
        session.commit()
    return len(tasks)


def run(database: str, url: str | None, config: Config, log=print) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="alur-bench-monitoring-") as tmp:
        with fresh_runtime(url, Path(tmp)) as rt:
            began = time.perf_counter()
            task_rows = write_year(rt, config.activities)
            settle(rt)
            setup = time.perf_counter() - began
            figures = monitoring.figures(rt, VIEWER, *YEAR)
            done = sum(s["done"] for s in figures["steps"])
            if figures["totals"]["total"] != config.activities or done != task_rows:
                raise RuntimeError(f"the figures count {figures['totals']['total']} activities and {done} steps, "
                                   f"not {config.activities} and {task_rows}")
            for what, measured in (("figures", monitoring.figures), ("recap", monitoring.recap)):
                times = []
                for _ in range(config.repeats):
                    started = time.perf_counter()
                    measured(rt, VIEWER, *YEAR)
                    times.append((time.perf_counter() - started) * 1000)
                rows.append(Row(database, what, config.activities, task_rows, setup, Summary.of(times)))
                log(f"  {database}: {what} over {config.activities:,} activities ({task_rows:,} steps): "
                    f"p50 {rows[-1].ms.median:.0f} ms")
    return rows
