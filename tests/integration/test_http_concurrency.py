"""Many HTTP clients claiming and completing the same tasks at once, on SQLite and PostgreSQL.

A real server (werkzeug, one thread per request, tests.live) on the test's
database; CLIENTS members of aptika's Tim Implementasi, each with its own API
token and its own thread, released together by a barrier:

1. all claim step 1 of every instance at once: one claim per task succeeds,
   every other is 409;
2. all complete every task at once, the holder twice: one completion per
   task, every other request is 409 (not yours, or already completed);
3. on the next step, everyone claims and immediately completes, all at once.

Then the rows and the event log must agree: each task completed exactly once,
by the client that got the 200, with one `claimed` and one `step_completed`
event, and each instance moved on by exactly one step per phase.
"""
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from engine import accounts, services
from engine.db import Event, TaskRow
from tests.conftest import cheap_password_hash
from tests.integration.sop import STEP_DATA
from tests.integration.test_multiprocess import Api
from tests.live import serve, token_for
from web.app import create_app

KEY = "monev_kegiatan_bidang"
CLIENTS = 8
INSTANCES = 5


@pytest.fixture
def quick_hashes(monkeypatch):
    monkeypatch.setattr("engine.accounts.generate_password_hash", cheap_password_hash)


def all_at_once(jobs) -> list:
    """Run the callables in threads released together; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        results[i] = job()
    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def open_tasks(rt, instances: list[int]) -> dict[int, TaskRow]:
    with rt.uow() as session:
        rows = session.scalars(select(TaskRow).where(TaskRow.instance_id.in_(instances),
                                                     TaskRow.state == "open")).all()
    by_instance = {row.instance_id: row for row in rows}
    assert sorted(by_instance) == sorted(instances)
    return by_instance


def events(rt, instances: list[int]) -> list[Event]:
    with rt.uow() as session:
        return session.scalars(select(Event).where(Event.instance_id.in_(instances)).order_by(Event.id)).all()


def test_many_clients_claim_and_complete_the_same_tasks(rt, quick_hashes):
    logins = ["aptika.implementasi"] + [f"aptika.implementasi{i}" for i in range(2, CLIENTS + 1)]
    for login in logins[1:]:
        accounts.save_user(rt, "admin", login, f"Tim Implementasi {login}", "aptika", ["implementasi"],
                           password="rahasia-sekali")
    instances = [services.start(rt, KEY, "aptika", f"Kegiatan {i}", "sekretaris", "2026-Q1")
                 for i in range(INSTANCES)]
    with serve(create_app(runtime=rt)) as url:
        api = Api(urlparse(url).port, {login: token_for(rt, login) for login in logins})

        # 1. Everyone claims every step-1 task at once.
        step1 = open_tasks(rt, instances)
        jobs = [(task.id, login) for task in step1.values() for login in logins]
        answers = all_at_once([lambda t=t, l=l: api.post(f"/tasks/{t}/claim", l, {}) for t, l in jobs])
        holder = {}
        for (task_id, login), (status, body) in zip(jobs, answers):
            assert status in (200, 409), (status, body)
            if status == 200:
                assert task_id not in holder, f"{task_id} claimed twice"
                holder[task_id] = login
            else:
                assert body["error"]["code"] == "conflict"
        assert sorted(holder) == sorted(t.id for t in step1.values())

        # 2. Everyone completes every task at once; the holder sends its completion twice.
        jobs = [(task_id, login) for task_id in holder for login in logins + [holder[task_id]]]
        answers = all_at_once([lambda t=t, l=l: api.post(f"/tasks/{t}/complete", l, {"data": STEP_DATA[1]})
                               for t, l in jobs])
        completed_by = {}
        for (task_id, login), (status, body) in zip(jobs, answers):
            assert status in (200, 409), (status, body)
            if status == 200:
                assert task_id not in completed_by, f"{task_id} completed twice"
                assert login == holder[task_id]
                completed_by[task_id] = login
        assert completed_by == holder
        assert Counter(status for status, _ in answers) == {200: INSTANCES, 409: INSTANCES * CLIENTS}

        # 3. On step 2, everyone claims and completes at once.
        step2 = open_tasks(rt, instances)
        assert {row.step for row in step2.values()} == {2}

        def claim_and_complete(task_id: str, login: str):
            claimed, _ = api.post(f"/tasks/{task_id}/claim", login, {})
            completed, _ = api.post(f"/tasks/{task_id}/complete", login, {"data": STEP_DATA[2]})
            return claimed, completed
        jobs = [(task.id, login) for task in step2.values() for login in logins]
        answers = all_at_once([lambda t=t, l=l: claim_and_complete(t, l) for t, l in jobs])
        winners = defaultdict(list)
        for (task_id, login), (claimed, completed) in zip(jobs, answers):
            assert claimed in (200, 409) and completed in (200, 409), (claimed, completed)
            if completed == 200:
                assert claimed == 200
                winners[task_id].append(login)
        assert sorted(winners) == sorted(t.id for t in step2.values())
        assert all(len(w) == 1 for w in winners.values()), winners
        completed_by.update({task_id: w[0] for task_id, w in winners.items()})

    # The rows and the event log agree with what the clients were told.
    with rt.uow() as session:
        rows = {row.id: row for row in session.scalars(select(TaskRow).where(TaskRow.id.in_(list(completed_by))))}
    assert {task_id: (row.state, row.completed_by) for task_id, row in rows.items()} == \
        {task_id: ("completed", login) for task_id, login in completed_by.items()}
    log = events(rt, instances)
    for kind in ("claimed", "step_completed"):
        per_task = Counter(e.task_id for e in log if e.kind == kind)
        assert per_task == {task_id: 1 for task_id in completed_by}, kind
        assert {e.task_id: e.actor for e in log if e.kind == kind} == completed_by, kind
    assert {row.step for row in open_tasks(rt, instances).values()} == {3}
