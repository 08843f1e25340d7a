"""Races only PostgreSQL has (SQLite runs one writer at a time): schedulers, deliverers, users."""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from benchmarks.population import Template, clone
from engine import editor, escalation, services
from engine.db import Alert, Bidang, Timer
from engine.errors import Conflict
from engine.notify import Deliverer
from engine.runtime import Runtime
from engine.scheduler import PassReport, Scheduler
from engine.workflow import Run
from tests.integration.real_office import database_url  # noqa: F401 (fixture: PostgreSQL only)
from tests.integration.sop import STEP_DATA, do_step
from tests.integration.test_definitions import deploy_v2, step7_to_administrasi
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


def wait_for_a_lock_wait(rt, seconds: float = 10.0) -> None:
    """Until a session of the test's database waits for a row lock: the other thread got that far.

    (The database is the test's own; the only other session is held in Python, not waiting on a lock.)
    """
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + seconds
    with rt.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar():
                return
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError("no session ever waited for a lock")


def complete_while_held(rt, monkeypatch, module, name: str, command, task_id: str, seen: int):
    """Run `command` in a thread until it calls `module.name`; complete the task meanwhile (as its
    holder, at version `seen`), which must come to wait for a row lock; then let the command go on.
    Returns what the command returned and what the completion returned or raised."""
    paused, go = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        paused.set()
        assert go.wait(10)
        return real(*args, **kwargs)

    def complete():
        try:
            outcomes.append(services.complete(rt, task_id, "aptika.implementasi", STEP_DATA[1],
                                              expected_version=seen))
        except Exception as err:  # noqa: BLE001 -- what it raised is the point
            outcomes.append(err)

    monkeypatch.setattr(module, name, held)
    results, outcomes = [], []
    first = threading.Thread(target=lambda: results.append(command()))
    first.start()
    assert paused.wait(10)
    second = threading.Thread(target=complete)
    second.start()
    wait_for_a_lock_wait(rt)
    go.set()
    first.join(30)
    second.join(30)
    monkeypatch.setattr(module, name, real)
    [result], [outcome] = results, outcomes
    return result, outcome


def test_a_completion_and_a_firing_deadline_lock_in_one_order(rt, clock, monkeypatch, caplog):
    """The scheduler is held in the middle of firing a step's deadline while its holder completes it.

    Both touch the step's timer row and then its task row; in opposite orders
    they deadlock, and PostgreSQL aborts one of them after a second. In one
    order, the completion waits, loses cleanly on the instance's version, and
    goes through when it runs again.
    """
    caplog.set_level(logging.WARNING, logger="engine.runtime")
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    seen = services.claim(rt, row.id, "aptika.implementasi")["version"]
    clock.set(row.due_at + ONE_MINUTE)

    report, outcome = complete_while_held(rt, monkeypatch, escalation, "recipients",
                                          Scheduler(rt, deliver=False).run_pass, row.id, seen)

    assert (report.fired, report.conflicts, report.errors) == (1, 0, 0)
    assert outcome["state"] == "completed", repr(outcome)
    # No transaction was aborted by PostgreSQL as a deadlock victim (the retry would hide it).
    assert "PostgreSQL aborted" not in caplog.text
    assert open_row(rt, instance_id).step == 2
    [alert] = alert_rows(rt)
    assert alert.cancelled_at is not None


def test_a_deadlock_victim_is_a_conflict_with_nothing_written(rt, caplog):
    """Two units of work update two rows in opposite orders: PostgreSQL aborts one, which is a 409,
    and the log says so (a deadlock that keeps coming is a lock-order bug)."""
    caplog.set_level(logging.WARNING, logger="engine.runtime")
    both_hold_one = threading.Barrier(2)
    outcomes = {}

    def rename(first: str, second: str) -> None:
        try:
            with rt.uow() as session:
                for n, code in enumerate((first, second)):
                    session.execute(update(Bidang).where(Bidang.code == code).values(name=f"{first} {n}"))
                    if n == 0:
                        both_hold_one.wait(10)
                session.commit()
            outcomes[first] = "committed"
        except Exception as err:  # noqa: BLE001 -- what it raised is the point
            outcomes[first] = err

    threads = [threading.Thread(target=rename, args=pair) for pair in (("aptika", "ikp"), ("ikp", "aptika"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    [winner] = [code for code, outcome in outcomes.items() if outcome == "committed"]
    [lost] = [outcome for outcome in outcomes.values() if outcome != "committed"]
    assert isinstance(lost, Conflict) and lost.__cause__.orig.sqlstate == "40P01", repr(lost)
    assert any("deadlock detected" in r.getMessage() for r in caplog.records), caplog.text
    with rt.uow() as session:
        names = dict(session.execute(select(Bidang.code, Bidang.name)
                                     .where(Bidang.code.in_(["aptika", "ikp"]))).all())
    assert names == {"aptika": f"{winner} {0 if winner == 'aptika' else 1}",
                     "ikp": f"{winner} {0 if winner == 'ikp' else 1}"}


def test_a_migration_and_a_completion_lock_in_one_order(rt, clock, monkeypatch, caplog):
    """The process owner's migration is held half-way while the step's holder completes it.

    The completion waits, loses on the versions, and run again is refused:
    the step it was opened on moved to another version of the SOP.
    """
    caplog.set_level(logging.WARNING, logger="engine.runtime")
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    seen = services.claim(rt, row.id, "aptika.implementasi")["version"]
    deploy_v2(rt, step7_to_administrasi())

    migrated, outcome = complete_while_held(rt, monkeypatch, editor, "_boundary_timer",
                                            lambda: editor.migrate(rt, instance_id, "pemilik.proses"), row.id, seen)

    assert (migrated["from"], migrated["to"]) == (1, 2)
    assert isinstance(outcome, Conflict) and "sudah berubah" in str(outcome), repr(outcome)
    assert "PostgreSQL aborted" not in caplog.text
    fresh = open_row(rt, instance_id)
    services.complete(rt, row.id, "aptika.implementasi", STEP_DATA[1], expected_version=fresh.row_version)
    assert open_row(rt, instance_id).step == 2
