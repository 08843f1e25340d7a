"""A completion checks and runs its step before it writes: on SQLite without the write lock.

What it read is then only as good as the version checks of its writes: a
change to the task or the instance in between makes the attempt write
nothing, and the completion runs again on the new state, which decides.
"""
from __future__ import annotations

import threading

import pytest

from sqlalchemy import update

from engine import services
from engine.db import Bidang, Instance
from engine.errors import Conflict, LostRace
from engine.runtime import Runtime
from engine.workflow import Run
from tests.integration.sop import STEP_DATA, open_task
from tests.integration.test_tasks import KEY, snapshot

LOGIN = "aptika.implementasi"


@pytest.fixture
def claimed(rt):
    instance_id = services.start(rt, KEY, "aptika", "Layanan email dinas", LOGIN)
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], LOGIN)
    return instance_id, task["id"]


def while_the_step_runs(monkeypatch, action):
    """Run `action` once, in another thread, while the completion has run its step and not yet written.

    The completion waits for it, so `action` must not need anything the
    completion holds: on SQLite, the write lock.
    """
    original = Run.advance

    def advance(self):
        original(self)
        monkeypatch.setattr(Run, "advance", original)
        failures = []
        thread = threading.Thread(target=_capture(action, failures), daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), "another writer had to wait for the completion's reading"
        assert not failures, failures

    monkeypatch.setattr(Run, "advance", advance)


def _capture(action, failures):
    def run():
        try:
            action()
        except BaseException as err:  # reported in the completion's thread
            failures.append(err)
    return run


def test_a_task_changed_between_reading_and_writing_makes_the_completion_a_conflict(
        monkeypatch, settings, clock, rt, claimed):
    instance_id, task_id = claimed
    seen = open_task(rt, instance_id)["version"]
    before = snapshot(rt, instance_id)
    other = Runtime(settings, clock=clock)

    def hand_back_and_take_again():
        # Another process writes while the completion has read the task: on
        # SQLite this could not even begin if the completion held the write lock.
        services.unclaim(other, task_id, LOGIN)
        services.claim(other, task_id, LOGIN)

    while_the_step_runs(monkeypatch, hand_back_and_take_again)
    try:
        # The attempt loses on the task's version; run again, it is refused for
        # what the user's form was opened on (the version) having changed.
        with pytest.raises(Conflict, match="sudah berubah") as refused:
            services.complete(rt, task_id, LOGIN, STEP_DATA[1], expected_version=seen)
    finally:
        other.dispose()
    assert not isinstance(refused.value, LostRace)
    version, workflow_json, state, events = snapshot(rt, instance_id)
    assert (version, workflow_json, state) == before[:3]
    assert events == before[3] + ["unclaimed", "claimed"]  # no step_completed, no step_ready
    assert open_task(rt, instance_id)["id"] == task_id
    # Nothing was left half-done: the completion succeeds when tried again.
    assert services.complete(rt, task_id, LOGIN, STEP_DATA[1])["state"] == "completed"
    assert open_task(rt, instance_id)["step"] == 2


def test_a_completion_that_keeps_losing_its_race_gives_up_with_nothing_written(monkeypatch, settings, clock,
                                                                              rt, claimed):
    instance_id, task_id = claimed
    other = Runtime(settings, clock=clock)
    attempts = []
    original = Run.advance

    def advance(self):
        original(self)
        attempts.append(self.instance.version)
        thread = threading.Thread(target=_capture(lambda: _move_instance(other, instance_id), []))
        thread.start()
        thread.join(10)

    monkeypatch.setattr(Run, "advance", advance)
    before = snapshot(rt, instance_id)
    try:
        with pytest.raises(LostRace):
            services.complete(rt, task_id, LOGIN, STEP_DATA[1])
    finally:
        other.dispose()
    # Each attempt read the version the one before lost to.
    assert attempts == [before[0] + n for n in range(services.COMPLETE_ATTEMPTS)]
    version, workflow_json, state, events = snapshot(rt, instance_id)
    assert (version, workflow_json, state, events) == (before[0] + services.COMPLETE_ATTEMPTS, *before[1:])
    assert open_task(rt, instance_id)["id"] == task_id


def _move_instance(rt, instance_id):
    """Another process moves the instance on (as a firing deadline would), touching nothing else."""
    with rt.engine.begin() as connection:
        connection.execute(update(Instance).where(Instance.id == instance_id)
                           .values(version=Instance.version + 1))


def test_a_read_first_unit_of_work_refuses_to_write_before_it_says_so(rt):
    with rt.uow(read_first=True) as session:
        session.add(Bidang(code="baru", name="Bidang Baru"))
        with pytest.raises(RuntimeError, match="begin_writes"):
            session.flush()
    with rt.uow(read_first=True) as session:
        rt.begin_writes(session)
        session.add(Bidang(code="baru", name="Bidang Baru"))
        session.commit()
    with rt.uow() as session:
        assert session.get(Bidang, "baru") is not None
