"""Completing a step is safe to retry: a completion sent again with its retry key (the API's
Idempotency-Key, the task page's hidden field) answers the task as the first one left it.

Runs on SQLite and PostgreSQL (the `database_url` fixture).
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from engine import services
from engine.db import Document, Event, RetryKey, TaskRow
from engine.errors import Conflict, InvalidData, KeyReused
from tests.integration.sop import STEP_DATA, open_task
from tests.integration.together import at_once

WHO = "aptika.implementasi"
PLAN = {"dokumen_rencana": ("rencana.pdf", b"%PDF-1.4 rencana")}


@pytest.fixture
def task_id(rt) -> str:
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", WHO)
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], WHO)
    return task["id"]


def counts(rt) -> tuple[int, int, int, int]:
    with rt.uow() as session:
        return tuple(session.scalar(select(func.count()).select_from(table))
                     for table in (TaskRow, Event, RetryKey, Document))


def complete(rt, task_id, retry_key, data=None, files=None, login=WHO, version=None):
    return services.complete(rt, task_id, login, STEP_DATA[1] if data is None else data, files=files,
                             expected_version=version, retry_key=retry_key)


def test_the_same_key_again_answers_the_task_as_it_is_now_and_writes_nothing(rt, task_id):
    first = complete(rt, task_id, "kunci-1", files=PLAN)
    assert "replayed" not in first and first["state"] == "completed"
    written = counts(rt)
    again = complete(rt, task_id, "kunci-1", files=PLAN)
    assert again == {**first, "replayed": True}
    assert counts(rt) == written


def test_without_a_key_a_completion_sent_again_is_refused_as_done(rt, task_id):
    complete(rt, task_id, None)
    with pytest.raises(Conflict) as err:
        complete(rt, task_id, None)
    assert err.value.message == f"tugas sudah selesai oleh {WHO}"


@pytest.mark.parametrize("other", [
    {"data": {**STEP_DATA[1], "rencana_kegiatan": "Rencana lain"}},
    {"files": {"dokumen_rencana": ("rencana.pdf", b"%PDF-1.4 lain")}},      # other bytes, same name
    {"files": {"dokumen_rencana": ("rencana-2.pdf", PLAN["dokumen_rencana"][1])}},  # other name
    {"files": None},
    {"version": 2},
])
def test_the_same_key_with_another_request_is_refused_naming_the_task(rt, task_id, other):
    complete(rt, task_id, "kunci-1", files=PLAN)
    written = counts(rt)
    with pytest.raises(KeyReused) as err:
        complete(rt, task_id, "kunci-1", **{"files": PLAN, **other})
    assert err.value.status == 422 and err.value.code == "idempotency_key_reused"
    assert err.value.errors == {"Idempotency-Key": f"sudah dipakai untuk tugas {task_id}"}
    assert counts(rt) == written


def test_a_key_is_one_command_a_start_and_a_completion_alike(rt, task_id):
    started = services.start_once(rt, "monev_kegiatan_bidang", "aptika", "Lain", WHO, retry_key="kunci-1")
    with pytest.raises(KeyReused) as err:
        complete(rt, task_id, "kunci-1")
    assert err.value.errors == {"Idempotency-Key": f"sudah dipakai untuk kegiatan {started.instance_id}"}
    complete(rt, task_id, "kunci-2")
    with pytest.raises(KeyReused) as err:
        services.start_once(rt, "monev_kegiatan_bidang", "aptika", "Lain", WHO, retry_key="kunci-2")
    assert err.value.errors == {"Idempotency-Key": f"sudah dipakai untuk tugas {task_id}"}


def test_another_users_key_does_not_answer_for_them(rt, task_id):
    """The task done, a colleague sending the same key is refused as today: the task is done by someone else."""
    complete(rt, task_id, "kunci-1")
    with pytest.raises(Conflict) as err:
        complete(rt, task_id, "kunci-1", login="aptika.teknis")
    assert err.value.message == f"tugas sudah selesai oleh {WHO}"


def test_a_key_older_than_a_day_answers_as_without_one(rt, clock, task_id):
    complete(rt, task_id, "kunci-1")
    clock.advance(hours=23, minutes=59)
    assert complete(rt, task_id, "kunci-1")["replayed"]
    clock.advance(minutes=2)
    with pytest.raises(Conflict):
        complete(rt, task_id, "kunci-1")


def test_an_unusable_key_is_refused_and_nothing_is_written(rt, task_id):
    written = counts(rt)
    with pytest.raises(InvalidData) as err:
        complete(rt, task_id, "kun ci")
    assert err.value.errors == {"Idempotency-Key": "hanya huruf, angka dan tanda baca ASCII"}
    assert counts(rt) == written


def statements_of(rt, action) -> list[str]:
    sent: list[str] = []
    listener = lambda conn, cursor, sql, *args: sent.append(" ".join(sql.split()))  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    return sent


def test_a_key_costs_one_read_and_one_insert_and_no_key_nothing(rt):
    """Completion is benchmarked: a key adds its row's read and insert, no key no statement."""
    def claimed() -> str:
        task = open_task(rt, services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", WHO))
        services.claim(rt, task["id"], WHO)
        return task["id"]

    first, second = claimed(), claimed()
    plain = statements_of(rt, lambda: complete(rt, first, None))
    keyed = statements_of(rt, lambda: complete(rt, second, "kunci-1"))
    assert not [sql for sql in plain if "retry_key" in sql]
    added = [sql for sql in keyed if "retry_key" in sql]
    assert [sql.split()[0] for sql in added] == ["SELECT", "INSERT"]
    assert sorted(sql for sql in keyed if sql not in added) == sorted(plain)


def completions_at_once(settings, clock, task_id):
    """Two completions with one key from two runtimes (each its own connections), released together."""
    return at_once(settings, clock, 2, lambda runtime: complete(runtime, task_id, "kunci-1", files=PLAN), timeout=60)


def test_a_twin_that_completed_the_step_between_this_ones_reads_is_answered_as_a_repeat(rt, task_id,
                                                                                        monkeypatch):
    """Two sends at once on PostgreSQL: one read its key (none yet) before the twin committed, and its
    task or workflow after, found the step done and was refused with 409 "langkah ini sudah tidak
    menunggu dikerjakan" (CI, once in a while). It runs again and answers as a repeat."""
    first = complete(rt, task_id, "kunci-1", files=PLAN)
    real, stale = services._sent_before, [True]

    def before_the_twin_committed(*args):  # this request's first look at its key came too early
        return services._Sent() if stale and stale.pop() else real(*args)
    monkeypatch.setattr(services, "_sent_before", before_the_twin_committed)
    written = counts(rt)
    assert complete(rt, task_id, "kunci-1", files=PLAN) == {**first, "replayed": True}
    assert counts(rt) == written


def test_two_completions_with_the_same_key_at_once_complete_once_and_replay_once(rt, settings, clock, task_id):
    before = counts(rt)
    results, errors = completions_at_once(settings, clock, task_id)
    assert not errors
    assert sorted(bool(r.get("replayed")) for r in results) == [False, True]
    assert {r["state"] for r in results} == {"completed"}
    with rt.uow() as session:
        done = session.scalars(select(Event).where(Event.kind == "step_completed", Event.task_id == task_id)).all()
        assert len(done) == 1
    assert counts(rt)[2:] == (before[2] + 1, before[3] + 1)  # one key row, one document
