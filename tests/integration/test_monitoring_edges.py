"""Monitoring figures on a handful of activities whose every figure is worked out by hand."""
from __future__ import annotations

from datetime import date

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
