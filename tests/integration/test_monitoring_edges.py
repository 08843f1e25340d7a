"""Monitoring figures on a handful of activities whose every figure is worked out by hand."""
from __future__ import annotations

import re
from datetime import date, datetime

from engine import monitoring, services
from tests.integration.sop import do_step

KEY = "monev_kegiatan_bidang"


def test_an_activity_is_overdue_in_the_recap_only_while_a_step_is_overdue_now(rt, clock):
    """A step done late and then sent back is open again within its standard time: the activity is
    not overdue now (the dashboard says 0), and the recap said "Terlambat: Ya" for it, and 1 in its
    summary, from the earlier late pass. That pass still makes the step's cell not on time."""
    instance_id = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    for step in (1, 2):
        clock.advance(minutes=10)
        do_step(rt, instance_id, step)
    clock.advance(minutes=45)  # step 3 has 30 working minutes: late
    do_step(rt, instance_id, 3)
    for step, data in ((4, None), (5, {"terverifikasi": False, "catatan": "kurang"})):
        clock.advance(minutes=5)
        do_step(rt, instance_id, step, data)
    clock.advance(minutes=5)  # step 3 again, 5 of its 30 minutes gone
    today = clock.now().astimezone(rt.calendar.tz).date()

    figures = monitoring.figures(rt, "kadis", date(today.year, 1, 1), today)
    assert figures["totals"]["overdue"] == 0
    recap = monitoring.recap(rt, "kadis", date(today.year, 1, 1), today)
    [row] = recap["rows"]
    assert row["current_steps"] == [3] and row["steps"][3]["on_time"] is False
    assert row["overdue"] is False
    assert [s["overdue"] for s in recap["summary"]] == [0]


def test_the_search_by_step_finds_the_step_under_the_number_the_newest_version_gives_it(rt):
    """The search offers the newest version's steps. Version 2 inserts a step before the verification
    (step 5 of version 1 is step 6 of version 2): "step 6" found the version-1 activities at their own
    step 6 (collecting data) and missed those waiting at the verification."""
    from tests.integration.test_definitions import INSERTED_FORM, deploy_v2, step_inserted_before_verification

    at_verification, at_collection = (services.start(rt, KEY, "aptika", title, "aptika.implementasi")
                                      for title in ("Layanan email dinas", "Pemeliharaan jaringan"))
    for step in (1, 2, 3, 4):
        do_step(rt, at_verification, step)
        do_step(rt, at_collection, step)
    do_step(rt, at_collection, 5, {"terverifikasi": True})
    deploy_v2(rt, *step_inserted_before_verification())
    newer = services.start(rt, KEY, "aptika", "Pengembangan aplikasi", "aptika.implementasi")
    for step in (1, 2, 3, 4):
        do_step(rt, newer, step)
    do_step(rt, newer, 5, {INSERTED_FORM: "Lengkap"})

    def found(step: int, **filters) -> set[int]:
        return {r["id"] for r in monitoring.search(rt, "kadis", step=step, **filters)["rows"]}
    assert found(6, sop=KEY) == {at_verification, newer}
    assert found(6) == {at_verification, newer}  # the only SOP deployed: its steps
    assert found(7, sop=KEY) == {at_collection}
    assert found(5, sop=KEY) == set()  # the inserted step: nobody waits there


def test_a_step_done_exactly_at_its_deadline_is_on_time_on_the_activity_page_too(rt, clock):
    """Done at its deadline, a step is on time by the figures' rule (done at the latest at the deadline).
    The activity's page said "Terlambat" for it from the overdue mark the scheduler set at the deadline,
    while the monitoring counted it on time."""
    from engine.scheduler import Scheduler
    from tests.integration.sop import open_task
    from tests.integration.test_monitoring_versions import signed_in

    instance_id = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    for step in (1, 2):
        clock.advance(minutes=10)
        do_step(rt, instance_id, step)
    clock.set(datetime.fromisoformat(open_task(rt, instance_id)["due_at"]))
    Scheduler(rt, deliver=False).run_pass()
    assert open_task(rt, instance_id)["overdue"] is False  # not escalated at the deadline itself, only past it
    do_step(rt, instance_id, 3)

    today = clock.now().astimezone(rt.calendar.tz).date()
    step_3 = monitoring.figures(rt, "kadis", date(today.year, 1, 1), today)["steps"][2]
    assert (step_3["step"], step_3["done"], step_3["on_time"]) == (3, 1, 1)
    page = signed_in(rt, "kadis").get(f"/kegiatan/{instance_id}").get_data(as_text=True)
    row = re.search(r'<tr class="step-row" data-step="3">.*?</tr>', page, re.S)[0]
    assert "Tepat waktu" in row and "Terlambat" not in row


def test_the_search_by_title_ignores_case_beyond_ascii_on_every_database(rt):
    """SQLite's own lower() folds only A-Z: "évaluasi" missed "ÉVALUASI" there, not on PostgreSQL."""
    wanted = services.start(rt, KEY, "aptika", "ÉVALUASI Layanan Ğ", "aptika.implementasi")
    services.start(rt, KEY, "aptika", "Layanan lain", "aptika.implementasi")

    def found(title: str) -> list[int]:
        return [r["id"] for r in monitoring.search(rt, "kadis", title=title)["rows"]]
    assert found("évaluasi layanan ğ") == [wanted] == found("Évaluasi")
