"""Deadlines from the calendar, and what the scheduler does when they pass.

The clock is a ManualClock: a test moves it past a deadline and runs one
scheduler pass, exactly what `alur tick --at` does. Nothing sleeps.
"""
from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from engine import accounts, queries, services
from engine.db import User
from engine.escalation import SECOND_LEVEL
from engine.scheduler import PassReport, Scheduler
from engine.runtime import Runtime
from engine.workflow import Run
from process.calendar import CountingRule
from process.mutu_baku import MutuBaku
from tests.integration.sop import STEP_DATA, do_step
from tests.integration.timer_helpers import (
    ONE_MINUTE, alert_rows, event_count, open_row, quiet, start, tick, timer_rows,
)

WIB = timezone(timedelta(hours=7))
# The SOP sheet's "Mutu Baku Waktu" column, typed in from the paper SOP; the
# engine reads the diagram, so a wrong timer in the BPMN shows up here.
SOP_STANDARD_TIMES = {
    1: "30 Hari", 2: "30 Hari", 3: "30 Menit", 4: "30 Menit", 5: "30 Menit", 6: "120 Menit",
    7: "30 Menit", 8: "60 Menit", 9: "5 Menit", 10: "30 Hari", 11: "7 Hari", 12: "1 Hari",
    13: "1 Hari", 14: "1 Hari", 15: "7 Hari",
}
# The SOP counts working days and working time.
SOP_COUNTING = CountingRule(days="kerja", time="kerja")


@pytest.fixture(autouse=True)
def no_delivery(rt):
    quiet(rt)


def test_every_standard_time_of_the_sop_is_counted_with_the_calendar(rt, clock):
    instance_id = start(rt)
    path = [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    answers = {5: iter([{"terverifikasi": False, "catatan": "ulang"}, {"terverifikasi": True, "catatan": "ok"}]),
               12: iter([{"ada_kendala": True, "uraian_kendala": "server"}])}
    # Uneven pauses, so steps become ready at all times of day: mornings,
    # across the break, near closing time, at night and on weekends.
    pauses = itertools.cycle([17, 95, 240, 390, 1000, 2900])
    seen = set()
    for step in path:
        row = open_row(rt, instance_id)
        assert row.step == step
        expected = rt.calendar.due(row.created_at, MutuBaku.parse(SOP_STANDARD_TIMES[step]), SOP_COUNTING)
        assert row.due_at == expected, f"step {step} ready at {row.created_at}"
        [timer] = timer_rows(rt, task_id=row.id, kind="deadline")
        assert timer.due_at == expected
        seen.add(step)
        clock.advance(minutes=next(pauses))
        data = next(answers[step]) if step in answers else None
        do_step(rt, instance_id, step, data)
    assert seen == set(SOP_STANDARD_TIMES)


def test_minutes_count_working_time_only(rt, clock):
    """Two due times worked out by hand, independent of the calendar code (Ramadan 2026 hours)."""
    instance_id = start(rt)
    do_step(rt, instance_id, 1)
    # Step 3 becomes ready on Thursday 5 March 2026 at 11:45 WIB: 15 minutes
    # before the 12:00-12:30 Ramadan break, 15 after it.
    clock.set(datetime(2026, 3, 5, 11, 45, tzinfo=WIB))
    do_step(rt, instance_id, 2)
    assert open_row(rt, instance_id).due_at == datetime(2026, 3, 5, 12, 45, tzinfo=WIB)
    for step in (3, 4):
        do_step(rt, instance_id, step)
    do_step(rt, instance_id, 5, {"terverifikasi": True, "catatan": ""})
    for step in (6, 7):
        do_step(rt, instance_id, step)
    # Step 9 (5 Menit) becomes ready on Friday 6 March at 15:28 WIB: 2 minutes
    # before the Ramadan Friday closing time, the other 3 on Monday from 08:00.
    clock.set(datetime(2026, 3, 6, 15, 28, tzinfo=WIB))
    do_step(rt, instance_id, 8)
    assert open_row(rt, instance_id).due_at == datetime(2026, 3, 9, 8, 3, tzinfo=WIB)


def test_past_the_deadline_the_step_is_overdue_and_the_kepala_of_its_bidang_is_alerted(rt, clock):
    instance_id = start(rt, "aptika")
    other = start(rt, "ikp", "Siaran pers")
    row = open_row(rt, instance_id)

    report = tick(rt, clock, row.due_at - ONE_MINUTE)
    assert report.claimed == 0 and alert_rows(rt) == [] and not open_row(rt, instance_id).overdue

    report = tick(rt, clock, row.due_at + ONE_MINUTE)
    assert report.fired == 2  # both instances started together, so both are due
    assert open_row(rt, instance_id).overdue
    mine = alert_rows(rt, instance_id=instance_id)
    assert [(a.level, a.recipient, a.step, a.task_id) for a in mine] == [(1, "kepala.aptika", 1, row.id)]
    assert [a.recipient for a in alert_rows(rt, instance_id=other)] == ["kepala.ikp"]
    history = services.show(rt, instance_id)["history"]
    escalated = [e for e in history if e["kind"] == "escalated"]
    assert [e["data"]["level"] for e in escalated] == [1]
    assert escalated[0]["data"]["recipients"] == ["kepala.aptika"]
    assert any(e["kind"] == "overdue" and e["step"] == 1 for e in history)

    # A second pass finds nothing more to do.
    assert tick(rt, clock, row.due_at + 2 * ONE_MINUTE).fired == 0
    assert len(alert_rows(rt)) == 2 and event_count(rt, "escalated") == 2


def test_at_the_very_moment_a_step_is_due_it_is_neither_escalated_nor_late(rt, clock):
    """The scheduler escalated a step once the clock reached its due time, while a completion at that
    very moment counted as on time: a step done at its due minute was both escalated and on time."""
    instance_id, other = start(rt), start(rt, "ikp", "Siaran pers")
    row = open_row(rt, instance_id)
    report = tick(rt, clock, row.due_at)
    assert report.claimed == 0 and alert_rows(rt) == [] and not open_row(rt, instance_id).overdue
    do_step(rt, instance_id, 1)
    [done] = [s for s in queries.instance_view(rt, instance_id, "kepala.aptika")["steps"] if s["step"] == 1]
    assert done["on_time"] is True and not done["overdue"] and alert_rows(rt) == []
    # Past the due time, the step still open is escalated.
    assert tick(rt, clock, row.due_at + timedelta(microseconds=1)).fired == 1
    assert open_row(rt, other).overdue and [a.recipient for a in alert_rows(rt)] == ["kepala.ikp"]


def test_still_open_after_the_second_period_the_kadis_is_alerted(rt, clock):
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    tick(rt, clock, row.due_at + ONE_MINUTE)
    [second] = timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL)
    # Once more the standard time (30 working days), counted from the deadline.
    assert second.due_at == rt.calendar.due(row.due_at, MutuBaku.parse("30 Hari"), SOP_COUNTING)

    tick(rt, clock, second.due_at - ONE_MINUTE)
    assert [a.level for a in alert_rows(rt)] == [1]

    report = tick(rt, clock, second.due_at + ONE_MINUTE)
    assert report.fired == 1
    assert [(a.level, a.recipient) for a in alert_rows(rt)] == [(1, "kepala.aptika"), (2, "kadis")]
    assert timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL)[0].fired_at == second.due_at + ONE_MINUTE
    levels = [e["data"]["level"] for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"]
    assert levels == [1, 2]

    assert tick(rt, clock, second.due_at + timedelta(days=60)).fired == 0
    assert len(alert_rows(rt)) == 2


def test_a_late_step_of_the_sekretaris_lane_goes_to_the_kadis_at_level_one(rt, clock):
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    do_step(rt, instance_id, 5, {"terverifikasi": True, "catatan": ""})
    for step in (6, 7, 8):
        do_step(rt, instance_id, step)
    row = open_row(rt, instance_id)
    assert row.step == 9 and row.bidang_code is None  # the Sekretaris serves the whole office

    tick(rt, clock, row.due_at + ONE_MINUTE)
    assert [(a.level, a.recipient, a.step) for a in alert_rows(rt)] == [(1, "kadis", 9)]
    # Level 2 goes to the kadis too: the step is now late by a further period.
    [second] = timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL)
    assert tick(rt, clock, second.due_at + ONE_MINUTE).fired == 1
    assert [(a.level, a.recipient) for a in alert_rows(rt)] == [(1, "kadis"), (2, "kadis")]


def test_a_bidang_without_an_active_kepala_escalates_to_the_next_level_at_once(rt, clock):
    """An empty Kepala Bidang post must not leave a late step escalated to nobody."""
    accounts.save_user(rt, "admin", "kepala.aptika", "Kepala Aptika", "aptika", ["kepala"], active=False)
    instance_id = start(rt, "aptika")
    other = start(rt, "ikp", "Siaran pers")
    row = open_row(rt, instance_id)

    tick(rt, clock, row.due_at + ONE_MINUTE)

    assert [(a.level, a.recipient) for a in alert_rows(rt, instance_id=instance_id)] == [(1, "kadis")]
    assert [a.recipient for a in alert_rows(rt, instance_id=other)] == ["kepala.ikp"]  # its kepala is there
    [escalated] = [e for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"]
    assert escalated["data"]["level"] == 1 and escalated["data"]["fallback_level"] == 2
    assert escalated["data"]["recipients"] == ["kadis"]
    [normal] = [e for e in services.show(rt, other)["history"] if e["kind"] == "escalated"]
    assert "fallback_level" not in normal["data"]


def test_a_kadis_alerted_at_level_one_by_fallback_gets_level_two_as_a_second_alert(rt, clock):
    """Level 2 is its own alert, a further period later: the deadlines issue sends it to the head of office."""
    accounts.save_user(rt, "admin", "kepala.aptika", "Kepala Aptika", "aptika", ["kepala"], active=False)
    instance_id = start(rt, "aptika")
    row = open_row(rt, instance_id)
    tick(rt, clock, row.due_at + ONE_MINUTE)
    [second] = timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL)

    assert tick(rt, clock, second.due_at + ONE_MINUTE).fired == 1

    assert [(a.level, a.recipient) for a in alert_rows(rt)] == [(1, "kadis"), (2, "kadis")]
    escalated = [e["data"] for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"]
    assert [(d["level"], d["recipients"], d.get("fallback_level")) for d in escalated] == \
        [(1, ["kadis"], 2), (2, ["kadis"], None)]


def test_with_nobody_to_tell_at_any_level_the_administrators_are_alerted(rt, clock):
    """No active Kepala Bidang nor Kepala Dinas: the late step still reaches someone, and the log says why."""
    for login, bidang, role in (("kepala.aptika", "aptika", "kepala"), ("kadis", "sekretariat", "kadis")):
        accounts.save_user(rt, "admin", login, login, bidang, [role], active=False)
    instance_id = start(rt, "aptika")
    row = open_row(rt, instance_id)

    tick(rt, clock, row.due_at + ONE_MINUTE)

    assert open_row(rt, instance_id).overdue
    assert [(a.level, a.recipient) for a in alert_rows(rt)] == [(1, "admin")]
    [escalated] = [e for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"]
    assert escalated["data"]["recipients"] == ["admin"] and escalated["data"]["fallback_level"] == 2
    assert escalated["data"]["last_resort"] == "admin"

    [second] = timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL)
    tick(rt, clock, second.due_at + ONE_MINUTE)
    assert [(a.level, a.recipient) for a in alert_rows(rt)] == [(1, "admin"), (2, "admin")]
    level_2 = [e["data"] for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"][1]
    assert level_2["last_resort"] == "admin" and level_2["recipients"] == ["admin"]


def test_with_nobody_at_all_to_tell_the_escalation_is_logged_without_recipients(rt, clock):
    for login, bidang, role in (("kepala.aptika", "aptika", "kepala"), ("kadis", "sekretariat", "kadis")):
        accounts.save_user(rt, "admin", login, login, bidang, [role], active=False)
    with rt.uow() as session:  # the form refuses an administrator switching themselves off: on the row
        session.scalars(select(User).where(User.login == "admin")).one().active = False
        session.commit()
    instance_id = start(rt, "aptika")
    row = open_row(rt, instance_id)

    tick(rt, clock, row.due_at + ONE_MINUTE)

    assert alert_rows(rt) == [] and open_row(rt, instance_id).overdue
    [escalated] = [e for e in services.show(rt, instance_id)["history"] if e["kind"] == "escalated"]
    assert escalated["data"]["recipients"] == [] and escalated["data"]["last_resort"] == "admin"


def test_a_step_completed_just_before_its_deadline_alerts_nobody(rt, clock):
    instance_id = start(rt)
    do_step(rt, instance_id, 1)
    do_step(rt, instance_id, 2)
    row = open_row(rt, instance_id)  # step 3: 30 Menit
    clock.set(row.due_at - timedelta(seconds=1))
    do_step(rt, instance_id, 3)

    tick(rt, clock, row.due_at + ONE_MINUTE)
    assert alert_rows(rt) == []
    assert timer_rows(rt, task_id=row.id) == []
    assert event_count(rt, "overdue") == 0


def test_completing_an_escalated_step_cancels_its_unsent_alerts_and_its_second_level(rt, clock):
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    tick(rt, clock, row.due_at + ONE_MINUTE)
    [alert] = alert_rows(rt)
    assert alert.sent_at is None and alert.cancelled_at is None

    do_step(rt, instance_id, 1)

    [alert] = alert_rows(rt)
    assert alert.cancelled_at is not None and alert.next_attempt_at is None
    assert timer_rows(rt, task_id=row.id, kind=SECOND_LEVEL) == []
    [cancelled] = [e for e in services.show(rt, instance_id)["history"] if e["kind"] == "alerts_cancelled"]
    assert cancelled["data"] == {"alerts": [alert.id]} and cancelled["step"] == 1
    # Much later, step 2 (still open) escalates to both levels; step 1 never reaches level 2.
    tick(rt, clock, row.due_at + timedelta(days=90))
    tick(rt, clock, row.due_at + timedelta(days=300))
    step_2 = open_row(rt, instance_id).id
    assert [(a.task_id, a.level) for a in alert_rows(rt, level=2)] == [(step_2, 2)]
    assert [a.id for a in alert_rows(rt, task_id=row.id)] == [alert.id]


def test_an_idle_pass_is_one_query_per_table_and_loads_no_instance(rt, clock, monkeypatch):
    for i in range(20):
        start(rt, title=f"Kegiatan {i}")
    monkeypatch.setattr(Run, "load", lambda *a, **k: pytest.fail("an idle pass loaded an instance"))
    scheduler = Scheduler(rt)
    scheduler.run_pass()  # the first reads, once, what an earlier scheduler found wrong with the cycles file
    statements = []
    listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        report = scheduler.run_pass()
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert report.claimed == 0
    assert len(queries) == 2, queries
    assert "FROM timer" in queries[0] and "FROM alert" in queries[1]
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) for s in statements)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: a transaction waits for no writer
def test_an_idle_pass_takes_no_write_lock(rt, clock):
    """Each idle pass (once a second) began with BEGIN IMMEDIATE to claim timers that were not due: on
    SQLite, whose one writer serves every web worker and scheduler, a completion waited behind it."""
    start(rt)
    scheduler = Scheduler(rt)
    scheduler.run_pass()
    sent = []
    rt.engine.dispose()  # connections made from now on, each traced
    event.listen(rt.engine, "connect", lambda dbapi_connection, _: dbapi_connection.set_trace_callback(sent.append))
    assert scheduler.run_pass().claimed == 0
    assert sent and not any(s.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")) for s in sent), sent
    clock.advance(days=60)  # step 1 (30 working days) is late: the pass claims, fires and writes
    assert scheduler.run_pass().claimed == 1 and any(s.startswith("BEGIN IMMEDIATE") for s in sent)


def test_a_database_out_of_reach_is_one_traceback_then_a_line_every_five_minutes(rt, clock, monkeypatch, caplog):
    """A database restarting or out of reach failed every pass, and each wrote its traceback: one a
    second into the journal, thousands in an hour. Now each kind of failure shows its traceback once,
    a line every five minutes (by the runtime's clock) says since when and how many passes failed, and
    the first pass that succeeds again says so."""
    refused, shutting_down = "connection to server failed: Connection refused", "the database system is shutting down"
    succeeds = None
    # A pass a second, from 09:00:01: the 301st is five minutes after the first.
    outcomes = [refused] * 302 + [shutting_down, refused, succeeds, refused, succeeds]
    scheduler = Scheduler(rt, deliver=False)

    def run_pass():
        clock.advance(seconds=1)
        outcome = outcomes.pop(0)
        if outcome is not succeeds:
            raise OperationalError("SELECT timer.id FROM timer WHERE timer.due_at < %(now)s", {"now": clock.now()},
                                   ConnectionError(outcome))
        if not outcomes:
            scheduler.stop()
        return PassReport()

    monkeypatch.setattr(scheduler, "run_pass", run_pass)
    monkeypatch.setattr(scheduler, "database_prepared", lambda: True)
    with caplog.at_level(logging.INFO, logger="alur.scheduler"):
        scheduler.run_forever(interval=0)
    since = "since 2026-03-02T09:00:01+07:00"
    assert [(r.levelname, r.getMessage(), r.exc_info and str(r.exc_info[1].orig)) for r in caplog.records] == [
        ("ERROR", "scheduler pass failed", refused),
        ("ERROR", f"scheduler passes still fail: 301 failed passes {since}; the last: OperationalError: {refused}",
         None),
        ("ERROR", "scheduler pass failed", shutting_down),  # another failure: its traceback at once
        ("INFO", f"scheduler passes succeed again after 304 failed passes {since}", None),
        ("ERROR", "scheduler pass failed", refused),  # failing again after that: the traceback again
        ("INFO", "scheduler passes succeed again after 1 failed passes since 2026-03-02T09:05:06+07:00", None),
    ]


def test_rows_claimed_by_a_scheduler_that_died_are_fired_once_after_its_lease(rt, clock):
    ids = [start(rt, title=f"Kegiatan {i}") for i in range(6)]
    due = open_row(rt, ids[0]).due_at
    clock.set(due + ONE_MINUTE)
    lease = timedelta(seconds=60)
    dead = Scheduler(rt, owner="mati", lease=lease, deliver=False)
    claimed = dead.claim()
    assert len(claimed) == 6
    # It handled the first two instances, then died in the middle of its batch.
    for item in claimed[:2]:
        dead._handle(item.instance_id, [item], PassReport())

    live = Scheduler(rt, owner="hidup", lease=lease, deliver=False)
    assert live.run_pass().claimed == 0  # the claim still holds
    clock.advance(seconds=61)
    report = live.run_pass()
    assert report.claimed == 4 and report.fired == 4
    assert live.run_pass().claimed == 0

    assert sorted(a.instance_id for a in alert_rows(rt, level=1)) == sorted(ids)
    assert event_count(rt, "overdue") == 6 and event_count(rt, "escalated") == 6


def test_a_step_completed_after_it_went_overdue_keeps_the_version_its_holder_saw(rt, clock):
    """The deadline passing is not a change to what the holder's open form holds: no 409 for it."""
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    seen = services.claim(rt, row.id, "aptika.implementasi")["version"]

    tick(rt, clock, row.due_at + ONE_MINUTE)
    assert open_row(rt, instance_id).overdue and open_row(rt, instance_id).row_version == seen
    [alert] = alert_rows(rt)

    services.complete(rt, row.id, "aptika.implementasi", STEP_DATA[1], expected_version=seen)
    [done] = [t for t in services.show(rt, instance_id)["steps"] if t["id"] == row.id]
    assert done["state"] == "completed" and done["overdue"] and done["completed_by"] == "aptika.implementasi"
    assert open_row(rt, instance_id).step == 2
    [alert] = alert_rows(rt)
    assert alert.cancelled_at is not None  # completing it still cancels the unsent alert


def test_a_completion_whose_deadline_fires_while_it_runs_goes_through_late(rt, clock, monkeypatch):
    """The deadline firing between the completion's read and its writes moves the instance, not the task:
    the completion loses that race, runs again on the new state and succeeds, late."""
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    seen = services.claim(rt, row.id, "aptika.implementasi")["version"]
    clock.set(row.due_at + ONE_MINUTE)
    begin_writes = Runtime.begin_writes
    attempts = []

    def deadline_fires_first(self, session):
        attempts.append(self)
        if len(attempts) == 1:
            assert Scheduler(rt, deliver=False).run_pass().fired == 1  # commits between the read and the writes
        begin_writes(self, session)

    monkeypatch.setattr(Runtime, "begin_writes", deadline_fires_first)
    services.complete(rt, row.id, "aptika.implementasi", STEP_DATA[1], expected_version=seen)

    assert len(attempts) == 2
    assert open_row(rt, instance_id).step == 2
    [done] = [t for t in services.show(rt, instance_id)["steps"] if t["id"] == row.id]
    assert done["state"] == "completed" and done["overdue"]
    [alert] = alert_rows(rt)
    assert alert.cancelled_at is not None  # written by the firing, cancelled by the completion
    assert event_count(rt, "overdue") == 1 and event_count(rt, "step_completed") == 1


def test_an_alert_acknowledged_twice_at_once_is_acknowledged_once(rt, clock, monkeypatch):
    """Two tabs (or the page and an API client) marking one alert read in the same instant: on
    PostgreSQL both read it unread, and both logged the reading, the second moving its time."""
    import threading

    import engine.alerts
    from engine import alerts
    tick(rt, clock, open_row(rt, start(rt)).due_at + ONE_MINUTE)
    [alert] = alerts.alerts(rt, "kepala.aptika")
    both_read = threading.Barrier(2, timeout=1)
    logged = engine.alerts.log

    def log_when_both_have_read(*args, **kwargs):
        try:
            both_read.wait()
        except threading.BrokenBarrierError:  # the other one waits on this one's row lock
            pass
        return logged(*args, **kwargs)

    monkeypatch.setattr(engine.alerts, "log", log_when_both_have_read)
    answers = []
    readers = [threading.Thread(target=lambda: answers.append(alerts.acknowledge(rt, alert["id"], "kepala.aptika")))
               for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert event_count(rt, "alert_acknowledged") == 1
    [stored] = alert_rows(rt, id=alert["id"])
    assert [a["acknowledged_at"] for a in answers] == [stored.acknowledged_at.isoformat()] * 2
