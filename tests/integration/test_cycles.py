"""Recurring cycles: each period's instances start once per Bidang, after downtime too, and under races.

Runs on SQLite and PostgreSQL (the `database_url` fixture). The clock starts
on Monday 2 March 2026, 09:00 WIB.
"""
from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from engine import cycles, services
from engine.config import Settings
from engine.db import Bidang, CycleRun, Instance
from engine.errors import InvalidData
from engine.runtime import Runtime
from process.cycles import QUARTERLY, Cycle, CycleConfigError, Period
from process.messages import Text
from tests.integration.together import at_once

KEY = "monev_kegiatan_bidang"
BIDANG = ("aptika", "ikp", "statistik-persandian")   # every Bidang but the Sekretariat
NAMES = {"aptika": "Bidang Aplikasi Informatika", "ikp": "Bidang Informasi dan Komunikasi Publik",
         "statistik-persandian": "Bidang Statistik dan Persandian"}
UTC = timezone.utc


def monthly(start: Period, **options) -> tuple[Cycle, ...]:
    return (Cycle(KEY, start=start, **options),)


def runs(rt) -> list[tuple[str, str, int]]:
    with rt.uow() as session:
        return sorted(session.execute(select(CycleRun.bidang_code, CycleRun.period, CycleRun.instance_id)).all())


def instances(rt) -> list[Instance]:
    with rt.uow() as session:
        return list(session.scalars(select(Instance).order_by(Instance.id)))


def test_each_period_starts_once_for_every_bidang(rt, clock):
    started = cycles.run_due_cycles(rt, monthly(Period(2026, 3)))
    assert sorted((s.bidang, s.period) for s in started) == [(b, "2026-03") for b in BIDANG]
    for s in started:
        assert s.title == f"Monitoring dan Evaluasi {NAMES[s.bidang]} — Maret 2026"
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 3))) == []
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 3))) == []
    assert [(b, p) for b, p, _i in runs(rt)] == [(b, "2026-03") for b in BIDANG]

    # Each is an ordinary instance, as if started by hand at the same moment.
    by_hand = services.show(rt, services.start(rt, KEY, "aptika", "Dimulai manual", None, "Maret 2026"))
    for s in started:
        info = services.show(rt, s.instance_id)
        assert (info["title"], info["bidang"], info["period"], info["state"]) == (
            s.title, s.bidang, "Maret 2026", "running")
        [step] = info["current_steps"]
        [manual] = by_hand["current_steps"]
        assert (step["step"], step["lane"], step["bidang"], step["due_at"]) == (1, "implementasi", s.bidang, manual["due_at"])
        assert info["history"][0]["kind"] == "started" and info["history"][0]["data"]["cycle"] == "2026-03"
        assert [e["kind"] for e in info["history"]] == [e["kind"] for e in by_hand["history"]]

    # April starts at midnight office time (WIB), not UTC.
    clock.set(datetime(2026, 3, 31, 16, 59, tzinfo=UTC))      # 31 March 23:59 WIB
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 3))) == []
    clock.set(datetime(2026, 3, 31, 17, 1, tzinfo=UTC))       # 1 April 00:01 WIB
    april = cycles.run_due_cycles(rt, monthly(Period(2026, 3)))
    assert sorted((s.bidang, s.period) for s in april) == [(b, "2026-04") for b in BIDANG]
    assert {s.title for s in april} == {f"Monitoring dan Evaluasi {NAMES[b]} — April 2026" for b in BIDANG}
    assert len(instances(rt)) == 3 + 1 + 3


def test_the_day_of_the_month_is_waited_for(rt, clock):
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 3), day=5)) == []
    clock.set(datetime(2026, 3, 4, 17, 30, tzinfo=UTC))       # 5 March 00:30 WIB
    assert len(cycles.run_due_cycles(rt, monthly(Period(2026, 3), day=5))) == 3


def test_periods_missed_while_down_are_made_up_exactly_once(rt, clock):
    assert len(cycles.run_due_cycles(rt, monthly(Period(2026, 3)))) == 3
    clock.advance(days=92)                                     # Alur was down: 2 June 2026
    made_up = cycles.run_due_cycles(rt, monthly(Period(2026, 3)))
    assert sorted((s.period, s.bidang) for s in made_up) == [
        (p, b) for p in ("2026-04", "2026-05", "2026-06") for b in BIDANG]
    labels = {"2026-04": "April 2026", "2026-05": "Mei 2026", "2026-06": "Juni 2026"}
    for s in made_up:
        assert s.title == f"Monitoring dan Evaluasi {NAMES[s.bidang]} — {labels[s.period]}"
        assert services.show(rt, s.instance_id)["period"] == labels[s.period]
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 3))) == []
    rows = runs(rt)
    assert len(rows) == 12 and len({(b, p) for b, p, _i in rows}) == 12
    assert len(instances(rt)) == 12 and {i for _b, _p, i in rows} == {i.id for i in instances(rt)}


def test_a_schedule_read_from_its_file_starts_past_periods_from_its_start(rt, clock, settings, tmp_path):
    path = tmp_path / "cycles.yaml"
    path.write_text(f"cycles:\n  - definition: {KEY}\n    schedule: quarterly\n    start: 2025-Q4\n"
                    "    bidang: [ikp, sekretariat]\n    exclude: []\n"
                    "    title: 'Monev {bidang} {period}'\n", encoding="utf-8")
    configured = Runtime(dataclasses.replace(settings, extra={"cycles_file": str(path)}), clock=clock)
    try:
        assert cycles.load_config(configured.settings)[0].schedule == QUARTERLY
        started = cycles.run_due_cycles(configured)
        assert sorted((s.period, s.bidang, s.title) for s in started) == [
            ("2025-Q4", "ikp", "Monev Bidang Informasi dan Komunikasi Publik Triwulan IV 2025"),
            ("2025-Q4", "sekretariat", "Monev Sekretariat Triwulan IV 2025"),
            ("2026-Q1", "ikp", "Monev Bidang Informasi dan Komunikasi Publik Triwulan I 2026"),
            ("2026-Q1", "sekretariat", "Monev Sekretariat Triwulan I 2026")]
        assert cycles.run_due_cycles(configured) == []
        # The office edits the file: the next pass reads it again.
        path.write_text(path.read_text(encoding="utf-8") + "    enabled: false\n", encoding="utf-8")
        assert cycles.load_config(configured.settings)[0].enabled is False
    finally:
        configured.dispose()


def test_a_named_cycles_file_that_is_missing_is_refused_and_off_turns_cycles_off(settings, tmp_path, monkeypatch):
    """A misspelt ALUR_CYCLES_FILE meant no recurring starts without a word, unlike a missing calendar
    or escalation file. Now it is refused with the setting's name; `off` says no recurring starts."""
    missing = tmp_path / "none.yaml"
    monkeypatch.setenv("ALUR_CYCLES_FILE", str(missing))
    with pytest.raises(CycleConfigError, match=f"^ALUR_CYCLES_FILE: berkas {missing} tidak ada"):
        cycles.load_config(settings)
    with pytest.raises(CycleConfigError, match="^ALUR_CYCLES_FILE: "):
        cycles.load_config(dataclasses.replace(settings, extra={"cycles_file": str(missing)}))
    monkeypatch.setenv("ALUR_CYCLES_FILE", "off")
    assert cycles.load_config(settings) == ()
    # Not named: a definitions folder without cycles.yaml has no recurring starts.
    monkeypatch.delenv("ALUR_CYCLES_FILE")
    assert cycles.load_config(dataclasses.replace(settings, definitions_dir=tmp_path)) == ()


def test_a_cycles_file_that_cannot_be_read_is_named_in_one_sentence(tmp_path):
    """A folder, or a file that is not UTF-8, named as the cycles file: the scheduler logged
    IsADirectoryError's or UnicodeDecodeError's traceback once a minute."""
    undecodable = tmp_path / "siklus.yaml"
    undecodable.write_bytes(b"cycles: [\xff]\n")
    for path in (tmp_path, undecodable):
        with pytest.raises(CycleConfigError, match=f"^ALUR_CYCLES_FILE: berkas {path} tidak dapat dibaca: "):
            cycles.load_config(Settings(database_url="sqlite://", data_dir=tmp_path, extra={"cycles_file": str(path)}))


def test_a_failed_start_holds_up_no_other_and_is_tried_again(rt, monkeypatch):
    from engine.workflow import Run
    real_new = Run.new

    def broken_for_ikp(runtime, session, instance):
        if instance.bidang_code == "ikp":
            raise RuntimeError("spec cache hilang")
        return real_new(runtime, session, instance)
    monkeypatch.setattr(Run, "new", broken_for_ikp)
    failures: list[cycles.Failed] = []
    started = cycles.run_due_cycles(rt, monthly(Period(2026, 2)), failures)
    assert sorted((s.bidang, s.period) for s in started) == [
        (b, p) for b in ("aptika", "statistik-persandian") for p in ("2026-02", "2026-03")]
    assert sorted((f.bidang, f.period) for f in failures) == [("ikp", "2026-02"), ("ikp", "2026-03")]
    assert "spec cache hilang" in failures[0].error
    # All or nothing: the failed start left neither an instance nor a run behind.
    assert "ikp" not in {i.bidang_code for i in instances(rt)}
    assert "ikp" not in {b for b, _p, _i in runs(rt)}

    monkeypatch.setattr(Run, "new", real_new)
    retried = cycles.run_due_cycles(rt, monthly(Period(2026, 2)))
    assert sorted((s.bidang, s.period) for s in retried) == [("ikp", "2026-02"), ("ikp", "2026-03")]
    assert cycles.run_due_cycles(rt, monthly(Period(2026, 2))) == []


def test_a_missing_definition_or_bidang_fails_alone_and_is_retried(rt):
    schedules = (Cycle("tidak_ada", start=Period(2026, 3)),
                 Cycle(KEY, start=Period(2026, 3), bidang=("aptika", "baru")))
    failures: list[cycles.Failed] = []
    started = cycles.run_due_cycles(rt, schedules, failures)
    assert [(s.key, s.bidang) for s in started] == [(KEY, "aptika")]
    assert sorted((f.key, f.bidang) for f in failures) == [
        (KEY, "baru"), *[("tidak_ada", b) for b in BIDANG]]
    assert all("tidak dikenal" in f.error or "belum di-deploy" in f.error for f in failures)

    with rt.uow() as session:
        session.add(Bidang(code="baru", name="Bidang Baru"))
        session.commit()
    failures.clear()
    retried = cycles.run_due_cycles(rt, schedules, failures)
    assert [(s.key, s.bidang, s.title) for s in retried] == [
        (KEY, "baru", "Monitoring dan Evaluasi Bidang Baru — Maret 2026")]
    assert {f.key for f in failures} == {"tidak_ada"}
    with pytest.raises(InvalidData, match="belum di-deploy"):
        cycles.start_one(rt, schedules[0], "aptika", "Bidang Aplikasi Informatika", Period(2026, 3))


def test_concurrent_schedulers_start_each_instance_once(rt, settings, clock):
    schedule = monthly(Period(2025, 10))                       # October 2025 to March 2026: 6 periods
    failures: list[cycles.Failed] = []
    results, errors = at_once(settings, clock, 4, lambda runner: cycles.run_due_cycles(runner, schedule, failures))
    assert not errors and not failures
    everything = [(s.bidang, s.period) for result in results for s in result]
    assert len(everything) == 18 and len(set(everything)) == 18
    with rt.uow() as session:
        per_period = Counter(session.execute(select(Instance.bidang_code, Instance.period)).all())
        assert session.scalar(select(func.count()).select_from(CycleRun)) == 18
    assert len(per_period) == 18 and set(per_period.values()) == {1}
    assert cycles.run_due_cycles(rt, schedule) == []


def test_a_cycles_file_that_cannot_be_used_costs_the_recurring_starts_alone(rt, clock, settings, tmp_path, caplog):
    """A cycles file that could not be used stopped `alur scheduler` from starting: until it was
    corrected no timer fired and nothing escalated, for every instance; one that broke while the
    scheduler ran was logged with a traceback once a minute. Now the timers fire and escalate, the
    problem is logged once per change of the file, and the file is read again once corrected."""
    from engine.scheduler import Scheduler
    from tests.integration.timer_helpers import ONE_MINUTE, open_row, quiet, start

    path = tmp_path / "cycles.yaml"
    path.write_text("cycles: {definition: x}\n", encoding="utf-8")
    configured = Runtime(dataclasses.replace(settings, extra={"cycles_file": str(path)}), clock=clock)
    quiet(configured)
    scheduler = Scheduler(configured)

    def next_pass():
        caplog.clear()
        clock.advance(minutes=2)  # past the minute between two looks at the schedules
        report = scheduler.run_pass()
        return report, [r for r in caplog.records if r.levelno >= logging.WARNING]

    try:
        late = start(rt)
        clock.set(open_row(rt, late).due_at + ONE_MINUTE)
        with caplog.at_level(logging.INFO, logger="alur"):
            report, problems = next_pass()
            assert report.fired == 1 and services.show(rt, late)["current_steps"][0]["overdue"]
            [problem] = problems
            assert problem.levelno == logging.ERROR and problem.exc_info is None
            assert f"cycles file ({path})" in problem.getMessage()
            assert problem.getMessage().endswith("timers and escalation go on: cycles: harus berupa daftar")
            assert cycles.recorded_problem(rt) == cycles.Problem(str(path), "cycles: harus berupa daftar")  # for the pages
            assert next_pass()[1] == []  # the same file: not said again
            path.write_text("cycles: [{definition: x, schedule: weekly}]\n", encoding="utf-8")
            [problem] = next_pass()[1]  # edited, and still not usable: said again, with its new fault
            assert "cycles[0].schedule: " in problem.getMessage()
            path.unlink()
            [problem] = next_pass()[1]
            assert f"ALUR_CYCLES_FILE: berkas {path} tidak ada" in problem.getMessage()
            assert next_pass()[1] == []
            assert runs(rt) == []

            path.write_text(f"cycles:\n  - definition: {KEY}\n    start: 2026-03\n", encoding="utf-8")
            assert next_pass()[1] == []
            assert "recurring starts resume" in caplog.text and cycles.recorded_problem(rt) is None
            assert {(b, p) for b, p, _i in runs(rt)} >= {(b, "2026-03") for b in BIDANG}
    finally:
        configured.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: a transaction waits for no writer
def test_a_scheduler_start_with_nothing_kept_about_the_cycles_file_begins_no_write(rt):
    """Every scheduler start cleared what an earlier one had found wrong with the cycles file in a
    writing transaction, though nearly always nothing was kept: on SQLite it took its turn behind every
    other writer. It now reads, and begins writing only when there is something to clear."""
    sent = []
    rt.engine.dispose()  # connections made from now on, each traced
    event.listen(rt.engine, "connect", lambda dbapi_connection, _: dbapi_connection.set_trace_callback(sent.append))
    cycles.record_problem(rt, CycleConfigError(Text("cycles: harus berupa daftar")))
    cycles.record_problem(rt, None)  # what was kept goes
    assert cycles.recorded_problem(rt) is None and any(s.startswith("DELETE FROM setting") for s in sent), sent
    sent.clear()
    cycles.record_problem(rt, None)
    assert sent and not any(s.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")) for s in sent), sent
