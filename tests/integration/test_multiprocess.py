"""Several processes, one database: two web workers and two schedulers under concurrent load.

Real processes, the real clock, PostgreSQL only (SQLite runs one writer at a
time; its file is not meant to be shared like this in production):

* `alur serve --workers 2` (gunicorn) and two `alur scheduler` processes,
  all on the test's database, mailing through a local SMTP server
  (aiosmtpd) named in an escalation file (ALUR_ESCALATION_FILE);
* client threads claim and complete steps over the REST API with API tokens,
  sending every second completion twice at the same moment;
* instances whose step-1 deadline comes due a few seconds into the run,
  some of them completed by a client right around that moment, so the
  schedulers race each other and the web workers.

Afterwards: every task was completed exactly once (one 200 per task, each
409 matched by the 200 of its twin, one step_completed event and one
completed row per task); no step timer fired twice (one `overdue` event per
fired timer, none for a timer whose step was completed first); no alert was
mailed twice (one mail per sent alert, none for a cancelled one); and the
event log agrees with the final rows of every instance.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.population import Template, clone
from engine import accounts, audit, services
from engine.db import Alert, Event, Instance, TaskRow, Timer, User
from tests.integration.sop import STEP_DATA, performer
from tests.integration.real_office import database_url, escalation_file, rt, smtp  # noqa: F401 (fixtures)
from tests.integration.timer_helpers import free_port

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
KEY = "monev_kegiatan_bidang"
BIDANG = ("aptika", "ikp", "statistik-persandian")
CLIENTS = 6
RUNS_PER_CLIENT = 4  # instances each client takes through steps 1-4
STEPS = (1, 2, 3, 4)
DUE_SOON = 12  # instances whose step-1 deadline comes due during the run
RACED = 6  # of which a client completes step 1 right around the due time:
RACE_OFFSETS = (-0.3, 0.0, 0.05, 0.15, 0.3, 0.8)  # seconds after it
TIME_LIMIT = 45.0  # seconds for the load and for the schedulers to settle


def alur(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())", *args]


class Processes:
    """The server and the schedulers; stopped (SIGTERM, then SIGKILL) however the test ends."""

    def __init__(self, rt, escalation_file: Path, data_dir: Path):
        self.env = {**os.environ, "ALUR_DATABASE_URL": rt.settings.database_url, "ALUR_DATA_DIR": str(data_dir),
                    "ALUR_ESCALATION_FILE": str(escalation_file), "ALUR_SECRET_KEY": "test-multiprocess",
                    "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.port = free_port()

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "wb")
        proc = subprocess.Popen(alur(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        proc.log = log  # type: ignore[attr-defined]
        proc.name = name  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                assert proc.poll() is None, f"{proc.name} exited early:\n{self.logs()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                if all(b"berjalan" in (self.data_dir / f"{p.name}.log").read_bytes()
                       for p in self.procs if p.name.startswith("scheduler")):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"processes not ready after {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + (self.data_dir / f"{p.name}.log").read_text(errors="replace")[-3000:]
                         for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.log.close()


class Api:
    def __init__(self, port: int, tokens: dict[str, str]):
        self.port, self.tokens = port, tokens

    def post(self, path: str, login: str, body: dict) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", f"/api/v1{path}", body=json.dumps(body),
                         headers={"Authorization": f"Bearer {self.tokens[login]}",
                                  "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else {}
        finally:
            conn.close()


def open_task(rt, instance_id: int) -> TaskRow | None:
    with rt.uow() as session:
        return session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id,
                                                     TaskRow.state == "open")).first()


def due_soon(rt, template: Template, count: int) -> list[int]:
    """Copies of the template whose step-1 deadline is a few seconds away (timer row and workflow alike)."""
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    return clone(rt, template, count, lambda n: soon + timedelta(seconds=n % 4 + n / 10), title="Segera {n}")


def test_two_web_workers_and_two_schedulers_on_one_database(rt, tmp_path, escalation_file, smtp):
    data_dir = tmp_path / "data"
    logins = sorted({performer(step, b) for b in BIDANG for step in STEPS})
    with rt.uow() as session:
        ids = {u.login: u.id for u in session.scalars(select(User).where(User.login.in_(logins)))}
    tokens = {login: accounts.create_token(rt, ids[login], "uji")[1] for login in logins}
    work = [[(services.start(rt, KEY, BIDANG[c % 3], f"Kegiatan {c}.{i}", None), BIDANG[c % 3])
             for i in range(RUNS_PER_CLIENT)] for c in range(CLIENTS)]
    template = Template(rt, services.start(rt, KEY, "aptika", "Templat", None))

    procs = Processes(rt, escalation_file, data_dir)
    procs.start("web", "serve", "--host", "127.0.0.1", "--port", str(procs.port), "--workers", "2")
    procs.start("scheduler-1", "scheduler", "--interval", "0.2", "--batch", "3")
    procs.start("scheduler-2", "scheduler", "--interval", "0.2", "--batch", "3")
    try:
        procs.wait_ready()
        soon = due_soon(rt, template, DUE_SOON)
        raced, left_alone = soon[:RACED], soon[RACED:]
        api = Api(procs.port, tokens)
        completes: dict[str, list[int]] = defaultdict(list)  # task id -> statuses of its completions
        duplicated: set[str] = set()  # tasks whose completion was sent twice at once
        unexpected: list = []
        lock = threading.Lock()

        def complete(task_id: str, login: str, data: dict, twice: bool) -> None:
            statuses: list[int] = []

            def send() -> None:
                status, body = api.post(f"/tasks/{task_id}/complete", login, {"data": data})
                with lock:
                    statuses.append(status)
                    if status not in (200, 409):
                        unexpected.append((task_id, status, body))

            senders = [threading.Thread(target=send) for _ in range(2 if twice else 1)]
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            with lock:
                completes[task_id] += statuses

        def step(instance_id: int, bidang: str, twice: bool) -> TaskRow:
            row = open_task(rt, instance_id)
            login = performer(row.step, bidang)
            for _ in range(5):  # a scheduler saving the same instance may win a race: 409, try again
                status, body = api.post(f"/tasks/{row.id}/claim", login, {})
                if status == 200:
                    break
                assert status == 409, (status, body)
            assert status == 200, (status, body)
            if twice:
                duplicated.add(row.id)
            complete(row.id, login, STEP_DATA[row.step], twice)
            for _ in range(5):
                if 200 in completes[row.id]:
                    break
                complete(row.id, login, STEP_DATA[row.step], False)
            return row

        def client(c: int) -> None:
            try:
                for n, (instance_id, bidang) in enumerate(work[c]):
                    for s in STEPS:
                        row = step(instance_id, bidang, twice=(n + s) % 2 == 0)
                        assert row.step == s
            except BaseException as err:  # reported below
                unexpected.append(("client", c, repr(err)))

        def racer() -> None:
            """Complete step 1 of each raced instance just before, at, or just after its due time."""
            try:
                with rt.uow() as session:
                    due = dict(session.execute(select(Timer.instance_id, Timer.due_at).where(
                        Timer.instance_id.in_(raced), Timer.kind == "deadline")).all())
                plan = sorted((due[i] + timedelta(seconds=offset), n, i)
                              for n, (i, offset) in enumerate(zip(raced, RACE_OFFSETS)))
                for at, n, instance_id in plan:
                    time.sleep(max(0.0, (at - datetime.now(timezone.utc)).total_seconds()))
                    step(instance_id, "aptika", twice=n % 2 == 0)
            except BaseException as err:
                unexpected.append(("racer", repr(err)))

        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        threads.append(threading.Thread(target=racer))
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIME_LIMIT)
        assert not any(t.is_alive() for t in threads), "clients did not finish in time"
        assert unexpected == [], unexpected
        settle(rt, soon, began + TIME_LIMIT, procs)
    finally:
        procs.stop()

    # -- every task completed exactly once ---------------------------------------------------------
    for task_id, statuses in completes.items():
        # One success; every 409 is a twin (or a retry) of that success, never a second success.
        assert statuses.count(200) == 1 and set(statuses) <= {200, 409}, (task_id, statuses)
    assert len(duplicated) >= CLIENTS * RUNS_PER_CLIENT
    assert all(completes[t].count(409) >= 1 for t in duplicated)  # the twin was refused
    with rt.uow() as session:
        rows = {r.id: r for r in session.scalars(select(TaskRow).where(TaskRow.id.in_(list(completes))))}
        completed_events = Counter(session.scalars(select(Event.task_id).where(Event.kind == "step_completed")))
        assert all(rows[t].state == "completed" and rows[t].completed_by for t in completes)
        assert all(completed_events[t] == 1 for t in completes), \
            {t: completed_events[t] for t in completes if completed_events[t] != 1}

        # -- no timer fired twice ------------------------------------------------------------------------
        overdue = Counter(session.scalars(select(Event.task_id).where(Event.kind == "overdue")))
        assert all(n == 1 for n in overdue.values()), overdue
        fired = set(session.scalars(select(Timer.task_id).where(Timer.kind == "deadline",
                                                                 Timer.fired_at.is_not(None))))
        assert set(overdue) == fired
        escalated = Counter(session.scalars(select(Event.task_id).where(Event.kind == "escalated")))
        assert escalated == Counter({t: 1 for t in fired})  # level 1, once per fired timer
        step_one = {i: session.scalars(select(TaskRow).where(TaskRow.instance_id == i, TaskRow.step == 1)).one()
                    for i in soon}
        for instance_id in left_alone:  # nobody completed them: every deadline fired, once
            assert overdue[step_one[instance_id].id] == 1
        for instance_id in raced:  # either the timer fired before the completion, or not at all
            row = step_one[instance_id]
            assert row.state == "completed" and overdue[row.id] in (0, 1)

        # -- no alert sent twice ----------------------------------------------------------------------
        alerts = list(session.scalars(select(Alert)))
        assert len({(a.task_id, a.level, a.recipient) for a in alerts}) == len(alerts)
        assert {a.task_id for a in alerts} == fired  # level 1 for each fired step timer
        sent = {str(a.id) for a in alerts if a.sent_at is not None}
        mailed = [m[1]["X-Alur-Alert"] for m in smtp.messages]
        assert len(mailed) == len(set(mailed)), Counter(mailed).most_common(3)
        assert set(mailed) == sent
        assert all(a.sent_at is not None or a.cancelled_at is not None for a in alerts)
        assert len(sent) >= len(left_alone)
        print(f"\n{len(completes)} tasks completed, {sum(s.count(409) for s in completes.values())} refusals (409); "
              f"{len(fired)} step timers fired ({sum(overdue[step_one[i].id] for i in raced)} of {RACED} raced); "
              f"{len(mailed)} mails, {sum(a.cancelled_at is not None for a in alerts)} alerts cancelled")

        # -- the event log agrees with the final state, instance by instance ---------------------------------
        for instance in session.scalars(select(Instance)):
            tasks = list(session.scalars(select(TaskRow).where(TaskRow.instance_id == instance.id)))
            events = list(session.scalars(select(Event).where(Event.instance_id == instance.id).order_by(Event.id)))
            done = {e.task_id: e.actor for e in events if e.kind == "step_completed"}
            assert done == {t.id: t.completed_by for t in tasks if t.state == "completed"}, instance.id
            assert Counter(e.task_id for e in events if e.kind == "step_ready") == Counter(t.id for t in tasks)
            open_rows = [t for t in tasks if t.state == "open"]
            assert instance.state == "running" and len(open_rows) == 1, instance.id
            assert [e.kind for e in events].count("started") == 1
            if instance.title.startswith("Kegiatan"):  # the clients' instances: steps 1-4 done, at step 5
                assert sorted(t.step for t in tasks if t.state == "completed") == list(STEPS)
                assert open_rows[0].step == len(STEPS) + 1
            assert [e.kind for e in events].count("started") <= 1
    # -- and the hash chains hold under concurrent writers ----------------------------------------------
    verdict = audit.verify(rt)
    assert verdict.ok, verdict.problems


def settle(rt, soon: list[int], deadline: float, procs: Processes) -> None:
    """Wait until the due timers have fired (or their step was completed) and the outbox is empty."""
    while time.monotonic() < deadline:
        with rt.uow() as session:
            # The step-1 deadlines of those instances: each fires, or goes when its step is completed.
            waiting = session.scalar(select(func.count()).select_from(Timer).join(
                TaskRow, TaskRow.id == Timer.task_id).where(
                Timer.instance_id.in_(soon), TaskRow.step == 1, Timer.kind == "deadline", Timer.fired_at.is_(None)))
            unsent = session.scalar(select(func.count()).select_from(Alert).where(
                Alert.sent_at.is_(None), Alert.cancelled_at.is_(None)))
        if not waiting and not unsent:
            time.sleep(1.0)  # room for a duplicate to show itself
            return
        time.sleep(0.3)
    raise AssertionError(f"at the time limit {waiting} due timer(s) unfired, {unsent} alert(s) unsent:\n"
                         + procs.logs())
