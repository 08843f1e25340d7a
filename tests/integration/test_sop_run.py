"""The whole seed SOP, both branches of both decisions, state reloaded from SQL each step.

Run on the hand-made definition, on the one imported from the seed's PDF
text (issue 9's round trip), and on the hand-made one with its lanes as
child lanes of one parent lane: all must take the same paths, each step
offered to its actor's role.
"""
from __future__ import annotations

import pytest

from engine import services, worklist
from engine.runtime import Runtime
from tests.integration.sop import deploy_imported_seed, do_step, nested_lanes
from tests.integration.test_definitions import BPMN, deploy_v2

PATHS = {
    # terverifikasi answers at step 5, ada_kendala at step 12
    "sent back once, with problems": ([False, True], True),
    "verified first time, no problems": ([True], False),
}


@pytest.fixture(params=["hand-made", "imported", "nested lanes"])
def imported(request, rt) -> bool:
    """Which seed definition new instances run: the hand-made one, the import deployed over it, or the
    hand-made one with its lanes as child lanes of one parent lane, deployed from the editor."""
    if request.param == "imported":
        deploy_imported_seed(rt)
    if request.param == "nested lanes":
        assert deploy_v2(rt, nested_lanes(BPMN))["version"] == 2
    return request.param == "imported"


@pytest.mark.parametrize("verdicts,kendala", PATHS.values(), ids=PATHS.keys())
def test_whole_sop(settings, clock, rt, imported, verdicts, kendala):
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "aptika.implementasi")

    def fresh() -> Runtime:
        # A new runtime for every step: nothing survives in memory but the spec cache.
        return Runtime(settings, clock=clock)

    expected = [1, 2]
    for verified in verdicts:
        expected += [3, 4, 5]
    expected += [6, 7, 8, 9, 10, 11, 12] + ([13, 14] if kendala else []) + [15]

    answers = iter(verdicts)
    for step in expected:
        runtime = fresh()
        clock.advance(minutes=10)
        data = None
        if step == 5:
            data = {"terverifikasi": next(answers)} | ({} if imported else {"catatan": "cek"})
        elif step == 12:
            data = {"ada_kendala": kendala} | ({} if imported else {"uraian_kendala": "server" if kendala else ""})
        result = do_step(runtime, instance_id, step, data, imported=imported)
        runtime.dispose()

    assert result["instance_state"] == "completed"
    info = services.show(rt, instance_id)
    assert info["state"] == "completed" and info["current_steps"] == []
    completed = [e["step"] for e in info["history"] if e["kind"] == "step_completed"]
    assert completed == expected
    kinds = [e["kind"] for e in info["history"]]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    claims = [e for e in info["history"] if e["kind"] == "claimed"]
    assert len(claims) == len(expected) and all(e["actor"] for e in claims)
    decision = next(e for e in info["history"] if e["kind"] == "step_completed" and e["step"] == 12)
    assert decision["data"]["ada_kendala"] is kendala
    assert worklist.tasks(rt, instance_id=instance_id) == []


def test_every_ready_step_has_a_due_time_from_its_standard_time(rt, clock, imported):
    instance_id = services.start(rt, "monev_kegiatan_bidang", "ikp", "Siaran pers", None)
    [task] = worklist.tasks(rt, instance_id=instance_id)
    assert task["step"] == 1 and task["due_at"] is not None
    # 30 Hari counted in working days from Monday 2 March 2026 09:00 WIB.
    assert task["due_at"] > "2026-04-01"
    info = services.show(rt, instance_id)
    assert info["current_steps"][0]["due_at"] == task["due_at"]
