"""Workflows kept in memory between commands: never stale, never half-applied.

Each process keeps the workflows it saved (engine/workflow_cache.py). These
tests run two runtimes against one database, as two web workers would, and
make a command fail after it moved the workflow.
"""
from __future__ import annotations

import json

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

from engine import services, spiff
from engine.db import Instance
from engine.errors import Conflict
from engine.runtime import Runtime
from engine.workflow import Run
from tests.integration.sop import do_step, open_task, performer

KEY = "monev_kegiatan_bidang"
# Sent back once at step 5 and kendala at step 12: every step, both outcomes of both decisions.
EVERY_STEP = [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
ANSWERS = {5: [{"terverifikasi": False, "catatan": "ulang"}, {"terverifikasi": True, "catatan": "ok"}],
           12: [{"ada_kendala": True, "uraian_kendala": "server"}]}


def _walk(runtimes: list[Runtime], clock, instance_id: int, steps=EVERY_STEP) -> None:
    """Take `steps` (EVERY_STEP or a slice of it), the runtimes taking turns."""
    answers = {step: iter(values) for step, values in ANSWERS.items()}
    for n, step in enumerate(steps):
        clock.advance(minutes=5)
        data = next(answers[step]) if step in answers else None
        do_step(runtimes[n % len(runtimes)], instance_id, step, data)


def test_two_processes_taking_turns_on_one_instance(settings, clock, rt):
    other = Runtime(settings, clock=clock)
    try:
        instance_id = services.start(rt, KEY, "aptika", "Bergantian", None)
        _walk([rt, other], clock, instance_id, EVERY_STEP[:-1])
        # The runtime that saved last holds the current version; the other one's copy is older.
        taken = len(EVERY_STEP) - 1  # step n (from 0) was taken by runtimes[n % 2]
        last, first = (rt, other) if (taken - 1) % 2 == 0 else (other, rt)
        version = _version(rt, instance_id)
        workflow = last.workflows.take(instance_id, version)
        assert workflow is not None and first.workflows.take(instance_id, version) is None
        last.workflows.put(instance_id, version, workflow)

        _walk([first], clock, instance_id, EVERY_STEP[-1:])
        info = services.show(rt, instance_id)
        assert info["state"] == "completed"
        assert [e["step"] for e in info["history"] if e["kind"] == "step_completed"] == EVERY_STEP
        # A finished workflow runs no step again: the process that finished it
        # does not keep it, and the other one's older copy is never used.
        assert len(first.workflows) == 0
        assert last.workflows.take(instance_id, _version(rt, instance_id)) is None
    finally:
        other.dispose()


def _version(rt: Runtime, instance_id: int) -> int:
    with rt.uow() as session:
        return session.get(Instance, instance_id).version


def test_a_stale_workflow_in_memory_is_not_used(settings, clock, rt):
    other = Runtime(settings, clock=clock)
    try:
        instance_id = services.start(rt, KEY, "aptika", "Basi", None)
        do_step(rt, instance_id, 1)          # rt now holds the workflow at step 2
        do_step(other, instance_id, 2)       # the other process moves it to step 3
        # rt's copy still says step 2 is waiting; it must read step 3 from the database.
        assert do_step(rt, instance_id, 3)["step"] == 3
        assert open_task(rt, instance_id)["step"] == 4
    finally:
        other.dispose()


def test_a_command_that_fails_after_moving_the_workflow_leaves_nothing_in_memory(rt, monkeypatch):
    instance_id = services.start(rt, KEY, "aptika", "Gagal", None)
    task = open_task(rt, instance_id)
    login = performer(1, "aptika")
    services.claim(rt, task["id"], login)
    saved = Run.save

    def save_then_fail(self, actor=None):
        saved(self, actor)  # the workflow has moved on to step 2 in memory
        raise Conflict("simulated: the transaction is lost")

    monkeypatch.setattr(Run, "save", save_then_fail)
    with pytest.raises(Conflict):
        do_step_data = {"rencana_kegiatan": "x", "tanggal_mulai": "2026-03-02", "tanggal_selesai": "2026-03-31"}
        services.complete(rt, task["id"], login, do_step_data)
    monkeypatch.setattr(Run, "save", saved)
    # Step 1 is still the open step, in the database and in what the engine runs.
    assert open_task(rt, instance_id)["id"] == task["id"]
    assert do_step(rt, instance_id, 1)["state"] == "completed"
    assert open_task(rt, instance_id)["step"] == 2


def test_saved_state_is_what_the_library_would_write(rt, clock):
    """Our serializer leaves out the definition and reuses finished tasks' text; the rest must be equal."""
    library = BpmnWorkflowSerializer()
    instance_id = services.start(rt, KEY, "aptika", "Setara", None)
    answers = {step: iter(values) for step, values in ANSWERS.items()}
    for step in EVERY_STEP:
        with rt.uow() as session:
            instance = session.get(Instance, instance_id)
            workflow = rt.workflows.take(instance.id, instance.version)
            assert workflow is not None  # the same runtime saved it last
            ours = json.loads(rt.serializer.dumps(workflow))
            theirs = library.to_dict(workflow)
            rt.workflows.put(instance.id, instance.version, workflow)
        for key in ("spec", "subprocess_specs", "serializer_version"):
            theirs.pop(key, None)
            ours.pop(key, None)
        assert ours == json.loads(json.dumps(theirs, cls=library._encoder_cls)), f"before step {step}"
        clock.advance(minutes=5)
        do_step(rt, instance_id, step, next(answers[step]) if step in answers else None)


def test_lookups_by_state_find_what_the_tree_walk_finds_in_its_order(rt, clock, monkeypatch):
    compared = []
    flat = spiff._flat_lookups

    def checked(workflow):
        workflow = flat(workflow)
        fast = workflow.get_tasks

        def get_tasks(first_task=None, **kwargs):
            found = fast(first_task, **kwargs)
            walked = BpmnWorkflow.get_tasks(workflow, first_task, **kwargs)
            assert [t.id for t in found] == [t.id for t in walked], kwargs
            compared.append(len(found))
            return found

        workflow.get_tasks = get_tasks
        return workflow

    monkeypatch.setattr(spiff, "_flat_lookups", checked)
    instance_id = services.start(rt, KEY, "aptika", "Urutan", None)
    rt.workflows = type(rt.workflows)(0)  # reload every step, so every workflow is a checked one
    _walk([rt], clock, instance_id)
    assert max(compared) >= 2  # orders were compared, not only single finds
