"""Races only PostgreSQL has (SQLite runs one writer at a time): schedulers, deliverers, users."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from benchmarks.population import Template, clone
from engine.db import Alert, Timer
from engine.notify import Deliverer
from engine.runtime import Runtime
from engine.scheduler import PassReport, Scheduler
from engine.workflow import Run
from tests.integration.real_office import database_url  # noqa: F401 (fixture: PostgreSQL only)
from tests.integration.sop import do_step
from tests.integration.timer_helpers import (
    ONE_MINUTE, SmtpSink, alert_rows, configure, event_count, events_per_instance, free_port, open_row,
    overdue_instances, quiet, start, timer_rows,
)

pytestmark = pytest.mark.postgres
INSTANCES = 1000
WORKERS = 4


def start_many(rt, count: int) -> list[int]:
    """One instance started for real, then cloned (about 1 ms a clone instead of 10 ms a start)."""
    template = Template(rt, start(rt, title="Kegiatan contoh"))
    due = template.timer["due_at"]
    return [template.instance["id"]] + clone(rt, template, count - 1, lambda n: due + timedelta(seconds=n % 7))


def test_four_schedulers_fire_a_thousand_due_timers_exactly_once(rt, clock, settings):
    quiet(rt)
    began = time.perf_counter()
    ids = start_many(rt, INSTANCES)
    setup = time.perf_counter() - began
    clock.set(open_row(rt, ids[0]).due_at + ONE_MINUTE)
    assert len(set(ids)) == INSTANCES

    reports: list[tuple[int, PassReport]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WORKERS)

    def worker(n: int) -> None:  # its own Runtime: its own connections, like a process
        runtime = Runtime(settings, clock=clock, escalation=rt.escalation)
        scheduler = Scheduler(runtime, owner=f"penjadwal-{n}", batch=25, deliver=False)
        barrier.wait()
        while True:
            report = scheduler.run_pass()
            with lock:
                reports.append((n, report))
            if report.claimed == 0:
                break
        runtime.dispose()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    firing = time.perf_counter() - began
    print(f"\nsetup {setup:.1f}s for {INSTANCES} instances; {WORKERS} schedulers fired them in {firing:.1f}s")

    assert sum(r.errors for _, r in reports) == 0
    assert sum(r.fired for _, r in reports) == INSTANCES
    assert len({n for n, r in reports if r.fired}) > 1  # the work was really shared
    assert events_per_instance(rt, "overdue") == {i: 1 for i in ids}
    assert events_per_instance(rt, "escalated") == {i: 1 for i in ids}
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == INSTANCES
        unfired = session.scalar(select(func.count()).select_from(Timer).where(
            Timer.kind == "deadline", Timer.fired_at.is_(None)))
        assert unfired == 0
    assert event_count(rt, "overdue") == INSTANCES


def test_a_completion_racing_the_scheduler_wins_and_nothing_is_escalated(rt, clock, monkeypatch):
    """The step is completed after the scheduler loaded the instance and before it saved."""
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    clock.set(row.due_at + ONE_MINUTE)
    save = Run.save

    def completed_meanwhile(run, *args, **kwargs):
        monkeypatch.setattr(Run, "save", save)
        do_step(rt, instance_id, 1)  # another transaction commits first
        save(run, *args, **kwargs)

    monkeypatch.setattr(Run, "save", completed_meanwhile)
    report = Scheduler(rt, deliver=False).run_pass()
    assert report.claimed == 1 and report.conflicts == 1 and report.fired == 0
    assert alert_rows(rt) == [] and event_count(rt, "overdue") == 0
    assert open_row(rt, instance_id).step == 2
    assert timer_rows(rt, task_id=row.id) == []  # the completion removed the step's timer


def test_concurrent_deliverers_mail_every_alert_once(rt, clock):
    port = free_port()
    configure(rt, smtp_port=port)
    overdue_instances(rt, clock, 30)
    with SmtpSink(port) as sink:
        barrier = threading.Barrier(4)

        def worker(n: int) -> None:
            barrier.wait()
            deliverer = Deliverer(rt, owner=f"pengirim-{n}", batch=5)
            while deliverer.deliver_due().sent:
                pass

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(sink.messages) == 30
    assert len({m[1]["X-Alur-Alert"] for m in sink.messages}) == 30
    assert all(a.sent_at is not None for a in alert_rows(rt))
