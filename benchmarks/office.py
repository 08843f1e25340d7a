"""A large office's worklist rows, written in bulk with SQL.

The worklist benchmark needs 100,000 open and 1,000,000 completed task rows;
starting that many instances through the engine would take hours, so the
rows are generated and inserted directly (executemany on SQLite, COPY on
PostgreSQL). Only the rows the worklist reads are written: Bidang, instances
(without a workflow: they are never loaded) and tasks.

The distribution follows how the office works, scaled up: 40 Bidang (the
four of the demo and 36 more), each SOP step in its lane (Tim
Implementasi, Teknis, Administrasi of the instance's Bidang; the
Sekretaris lane serves the whole office), 30 staff per Bidang and lane role
and 200 in the Sekretariat. Nineteen open tasks in twenty wait at one of the
Bidang steps (1-8, evenly), one in twenty at a Sekretaris step (9-15): with
the Sekretaris lane shared by the whole office, an even spread would give
each of its members thousands. Nearly all open tasks are claimed by a
member of their lane (a claimed task leaves the team list); 15 per Bidang
and lane (30 in the Sekretaris lane) wait unclaimed. So a member of staff sees a few dozen rows: the tasks they
hold and the unclaimed ones of their lane. Every instance has done the
steps before its open one; finished instances fill the completed rows up
to the total. About one open task in ten is past its due time.

The demo users are staff like any other: `aptika.implementasi` holds its
share of the aptika Implementasi tasks, `sekretaris` its share of the
Sekretaris lane.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from sqlalchemy import func, select, text

from engine.db import Bidang, DefinitionVersion, Instance, TaskRow

KEY = "monev_kegiatan_bidang"
DEMO_BIDANG = ("sekretariat", "aptika", "ikp", "statistik-persandian")
STAFF_PER_LANE = 30
OFFICE_STAFF = 200
UNCLAIMED_PER_LANE = 15
UNCLAIMED_OFFICE = 30
NOW = datetime.now(timezone.utc).replace(microsecond=0)
# Step -> (lane role, lane serves the whole office)
LANES = {1: "implementasi", 2: "implementasi", 3: "implementasi", 4: "teknis", 5: "teknis", 6: "administrasi",
         7: "implementasi", 8: "administrasi"}
LANES.update({n: "sekretaris" for n in range(9, 16)})
TASK_COLUMNS = ("id", "instance_id", "definition_version_id", "step", "element_id", "name", "lane_role",
                "bidang_code", "instance_bidang", "state", "assignee", "created_at", "due_at", "completed_at",
                "completed_by", "overdue", "row_version")
INSTANCE_COLUMNS = ("id", "definition_version_id", "bidang_code", "title", "period", "state", "workflow_json",
                    "version", "created_by", "created_at", "completed_at", "archived_at")
BATCH = 20_000


@dataclass
class Office:
    bidang: list[str]
    running: int
    open_tasks: int
    completed_tasks: int


def staff(bidang: str | None, role: str, n: int) -> str:
    if role == "sekretaris":
        return "sekretaris" if n == 0 else f"sekretaris.{n}"
    return f"{bidang}.{role}" if n == 0 else f"{bidang}.{role}.{n}"


def populate(rt, open_tasks: int, completed_tasks: int, bidang_count: int = 40, seed: int = 7,
             first_instance: int | None = None) -> Office:
    """Insert the rows; returns what was made. Demo office and SOP must exist already."""
    rng = random.Random(seed)
    with rt.uow() as session:
        version = session.scalars(select(DefinitionVersion).where(DefinitionVersion.key == KEY)
                                  .order_by(DefinitionVersion.version.desc())).first()
        definition = rt.definition(version)[0]
        existing = set(session.scalars(select(Bidang.code)))
        codes = list(DEMO_BIDANG) + [f"bidang-{i:02d}" for i in range(1, max(0, bidang_count - 4) + 1)]
        codes = codes[:max(bidang_count, 1)]
        for code in codes:
            if code not in existing:
                session.add(Bidang(code=code, name=f"Bidang {code}"))
        session.commit()
        start_id = first_instance or (session.scalar(select(func.max(Instance.id))) or 0) + 1
    steps = {s.number: s for s in definition.steps}
    # Open tasks: one per running instance, steps spread evenly, Bidang round robin.
    unclaimed_left: dict[tuple[str | None, str], int] = {}
    instances: list[tuple] = []
    tasks: list[tuple] = []
    next_id = start_id
    completed = 0

    def add_instance(bidang: str, state: str, created: datetime, done_at: datetime | None) -> int:
        nonlocal next_id
        instance_id = next_id
        next_id += 1
        instances.append((instance_id, version.id, bidang, f"Kegiatan {instance_id}", "2026", state, "{}", 1,
                          None, created, done_at, None))
        return instance_id

    def add_task(instance_id: int, bidang: str, number: int, state: str, created: datetime, due: datetime,
                 done_at: datetime | None, assignee: str | None, overdue: bool) -> None:
        step, role = steps[number], LANES[number]
        office = role == "sekretaris"
        tasks.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), instance_id, version.id, number,
                      step.element_id, step.name, role, None if office else bidang, bidang, state, assignee,
                      created, due, done_at, assignee if state == "completed" else None, overdue, 1))

    def pick_staff(bidang: str, role: str) -> str:
        return staff(bidang, role, rng.randrange(OFFICE_STAFF if role == "sekretaris" else STAFF_PER_LANE))

    for n in range(open_tasks):
        bidang = codes[n % len(codes)]
        if n % 20 == 19:  # one open task in twenty waits in the Sekretaris lane (steps 9-15)
            number = 9 + (n // 20) % 7
        else:  # the others in their Bidang's lanes (steps 1-8)
            number = 1 + (n // len(codes)) % 8
        created = NOW - timedelta(days=rng.uniform(0, 60))
        instance_id = add_instance(bidang, "running", created - timedelta(days=3 * number), None)
        for earlier in range(1, number):
            at = created - timedelta(days=3 * (number - earlier))
            add_task(instance_id, bidang, earlier, "completed", at, at + timedelta(days=5), at + timedelta(days=2),
                     pick_staff(bidang, LANES[earlier]), False)
            completed += 1
        role = LANES[number]
        pool = (None if role == "sekretaris" else bidang, role)
        left = unclaimed_left.setdefault(pool, UNCLAIMED_OFFICE if role == "sekretaris" else UNCLAIMED_PER_LANE)
        assignee = None
        if left > 0:
            unclaimed_left[pool] = left - 1
        else:
            assignee = pick_staff(bidang, role)
        due = created + timedelta(days=rng.uniform(1, 30))
        late = rng.random() < 0.1
        if late:
            due = NOW - timedelta(hours=rng.uniform(1, 200))
        add_task(instance_id, bidang, number, "open", created, due, None, assignee, late)
        if len(tasks) >= BATCH:
            _flush(rt, instances, tasks)
    # Finished instances fill the completed rows up to the total.
    n = 0
    while completed < completed_tasks:
        bidang = codes[n % len(codes)]
        path = [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] if n % 2 == 0 else list(range(1, 16))
        path = path[:completed_tasks - completed]
        created = NOW - timedelta(days=rng.uniform(60, 720))
        instance_id = add_instance(bidang, "completed", created, created + timedelta(days=3 * len(path)))
        for i, number in enumerate(path):
            at = created + timedelta(days=3 * i)
            add_task(instance_id, bidang, number, "completed", at, at + timedelta(days=5), at + timedelta(days=2),
                     pick_staff(bidang, LANES[number]), rng.random() < 0.05)
        completed += len(path)
        n += 1
        if len(tasks) >= BATCH:
            _flush(rt, instances, tasks)
    _flush(rt, instances, tasks)
    _bump_sequence(rt)
    return Office(codes, open_tasks, open_tasks, completed)


def _flush(rt, instances: list[tuple], tasks: list[tuple]) -> None:
    if rt.engine.dialect.name == "postgresql":
        _copy(rt, "instance", INSTANCE_COLUMNS, instances)
        _copy(rt, "task", TASK_COLUMNS, tasks)
    else:
        _executemany(rt, "instance", INSTANCE_COLUMNS, instances)
        _executemany(rt, "task", TASK_COLUMNS, tasks)
    instances.clear()
    tasks.clear()


def _sqlite_value(value):
    if isinstance(value, datetime):  # SQLAlchemy's SQLite format, in UTC (engine.db.UtcDateTime)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _executemany(rt, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    raw = rt.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in rows])
        cursor.execute("COMMIT")
    finally:
        raw.close()


def _copy(rt, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    raw = rt.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _bump_sequence(rt) -> None:
    if rt.engine.dialect.name != "postgresql":
        return
    with rt.engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('instance', 'id'), (SELECT max(id) FROM instance))"))


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
