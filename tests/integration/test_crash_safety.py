"""kill -9, again and again: nothing half-applied, nothing lost, no alert mailed twice.

PostgreSQL, real processes, the real clock:
* three worker processes (tests/integration/crash_worker.py) start instances
  and complete steps 1-4 through the service layer, acknowledging each
  committed command in a file;
* two `alur scheduler` processes fire step deadlines (cloned instances come
  due during the run) and mail the alerts to a local aiosmtpd server;
* for KILL_PHASE seconds a random one of them, among those past their
  start-up, is killed with SIGKILL every few tenths of a second and started
  again at once.

Then the workers finish their instances and the schedulers the due timers
and the outbox, and the database is held to: every instance loads and its
open-task rows are exactly the workflow's ready steps; every acknowledged
completion is there exactly once; every worker instance went through steps
1-4 after all the restarts; each fired deadline escalated once; no alert was
mailed twice (a send whose outcome was lost with the process is not repeated
(engine.notify), and says so); and `audit verify` passes.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.population import Template, clone
from engine import audit, services, spiff
from engine.db import Alert, Event, Instance, TaskRow, Timer
from engine.notify import SEND_BEGUN
from engine.workflow import Run
from tests.integration.real_office import database_url, escalation_file, rt, smtp  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
KEY = "monev_kegiatan_bidang"
WORKERS = 3
SCHEDULERS = 2
KILL_PHASE = 25.0  # seconds of killing
KILL_EVERY = (0.4, 1.0)  # seconds between kills, uniformly
MIN_KILLS = 20  # on a loaded machine the kill phase goes on (up to twice as long) until this many
DUE_DURING_RUN = 16  # cloned instances whose step-1 deadline comes due while processes are being killed
SETTLE_LIMIT = 40.0


class Fleet:
    """The processes under test, each restartable under its name."""

    def __init__(self, rt, directory: Path):
        self.dir = directory
        self.env = {**os.environ, "ALUR_DATABASE_URL": rt.settings.database_url,
                    "ALUR_DATA_DIR": str(rt.settings.data_dir), "ALUR_ESCALATION_FILE": str(rt.settings.escalation_file),
                    "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.commands = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts: Counter = Counter()
        self.stop_file = directory / "stop"
        for n in range(WORKERS):
            self.commands[f"w{n}"] = [sys.executable, "-m", "tests.integration.crash_worker", f"w{n}",
                                      str(self.ack_file(f"w{n}")), str(self.stop_file)]
        for n in range(SCHEDULERS):
            self.commands[f"s{n}"] = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())",
                                      "scheduler", "--interval", "0.2", "--batch", "3", "--lease", "2"]

    def ack_file(self, name: str) -> Path:
        return self.dir / f"{name}.ack"

    def start(self, name: str) -> None:
        self.starts[name] += 1
        log = open(self.dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(self.commands[name], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=ROOT)
        log.close()

    def at_work(self) -> list[str]:
        """The processes past their start-up (imports take seconds on a loaded machine): kills land in work."""
        def ready(name: str) -> int:
            if name.startswith("w"):
                path = self.ack_file(name)
                return path.read_text().count("ready ") if path.exists() else 0
            return (self.dir / f"{name}.log").read_text(errors="replace").count("berjalan")
        return [name for name in sorted(self.commands) if ready(name) >= self.starts[name]]

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n" + (self.dir / f"{name}.log").read_text(errors="replace")[-2000:]
                         for name in self.commands)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_processes_killed_at_random_points_leave_nothing_half_done(rt, tmp_path, smtp):
    rng = random.Random(int(os.environ.get("ALUR_CRASH_SEED", time.time())))
    template = Template(rt, services.start(rt, KEY, "ikp", "Templat", None))
    fleet = Fleet(rt, tmp_path)
    for name in fleet.commands:
        fleet.start(name)
    kills: Counter = Counter()
    try:
        # Deadlines coming due over the kill phase, so kills land while timers fire and mail goes out.
        soon = datetime.now(timezone.utc) + timedelta(seconds=3)
        due = clone(rt, template, DUE_DURING_RUN,
                    lambda n: soon + timedelta(seconds=n * (KILL_PHASE - 6) / DUE_DURING_RUN), title="Segera {n}")
        began = time.monotonic()
        while time.monotonic() < began + KILL_PHASE or (sum(kills.values()) < MIN_KILLS
                                                         and time.monotonic() < began + 2 * KILL_PHASE):
            time.sleep(rng.uniform(*KILL_EVERY))
            working = fleet.at_work()
            if not working:
                continue
            name = rng.choice(working)
            fleet.kill(name)
            kills[name] += 1
            fleet.start(name)
        fleet.stop_file.write_text("stop")
        settle(rt, fleet, due)
    finally:
        fleet.stop_all()

    acked = Counter()
    started = []
    for name in fleet.commands:
        if name.startswith("w"):
            for line in fleet.ack_file(name).read_text().splitlines():
                kind, value = line.split()
                if kind == "started":
                    started.append(int(value))
                elif kind == "done":
                    acked.update([value])
    total_kills = sum(kills.values())
    assert total_kills >= MIN_KILLS and all(kills[n] for n in fleet.commands), kills
    assert len(acked) >= 10  # the workers got real work done between the kills

    with rt.uow() as session:
        completed = Counter(session.scalars(select(Event.task_id).where(Event.kind == "step_completed")))
        # -- every acknowledged completion is there, exactly once; no completion anywhere twice --
        assert all(n == 1 for n in acked.values()), "a worker acknowledged a task twice"
        assert all(completed[t] == 1 for t in acked), {t: completed[t] for t in acked if completed[t] != 1}
        assert all(n == 1 for n in completed.values()), completed.most_common(3)
        rows = {r.id: r for r in session.scalars(select(TaskRow))}
        assert all(rows[t].state == "completed" and rows[t].completed_by for t in completed)
        # -- every worker instance resumed to the end: steps 1-4 done, waiting at step 5 --
        workers = list(session.scalars(select(Instance).where(Instance.title.like("w%"))))
        assert set(started) <= {i.id for i in workers}
        for instance in workers:
            steps = sorted(r.step for r in rows.values() if r.instance_id == instance.id and r.state == "completed")
            assert steps == [1, 2, 3, 4], (instance.id, steps)
        # -- each fired deadline escalated once --
        overdue = Counter(session.scalars(select(Event.task_id).where(Event.kind == "overdue")))
        escalated = Counter(session.scalars(select(Event.task_id).where(Event.kind == "escalated")))
        fired = set(session.scalars(select(Timer.task_id).where(Timer.kind == "deadline", Timer.fired_at.is_not(None))))
        assert overdue == escalated == Counter({t: 1 for t in fired})
        assert len(fired) == DUE_DURING_RUN
        # -- no alert mailed twice; a send lost with its process is marked, not repeated --
        alerts = list(session.scalars(select(Alert)))
        mailed = Counter(m[1]["X-Alur-Alert"] for m in smtp.messages)
        assert all(n == 1 for n in mailed.values()), mailed.most_common(3)
        sent = {str(a.id) for a in alerts if a.sent_at is not None}
        unknown = {str(a.id) for a in alerts if a.sent_at is None and a.last_error == SEND_BEGUN}
        assert sent <= set(mailed) <= sent | unknown
        assert all(a.sent_at or a.cancelled_at or a.last_error == SEND_BEGUN for a in alerts)
        instance_ids = list(session.scalars(select(Instance.id)))
    # -- every instance loads, and its open-task rows are the workflow's ready steps --
    for instance_id in instance_ids:
        with rt.uow() as session:
            instance = session.get(Instance, instance_id)
            run = Run.load(rt, session, instance)
            ready = {str(t.id) for t in spiff.ready_user_tasks(run.workflow)}
            open_rows = set(session.scalars(select(TaskRow.id).where(TaskRow.instance_id == instance_id,
                                                                      TaskRow.state == "open")))
            assert ready == open_rows and len(ready) == 1, instance_id
    verdict = audit.verify(rt)
    assert verdict.ok, verdict.problems
    print(f"\n{total_kills} kills survived ({dict(kills)}); {len(acked)} acknowledged completions, "
          f"{len(workers)} worker instances, {len(fired)} deadlines fired, {sum(mailed.values())} mails, "
          f"{len(unknown)} sends lost with their process; {verdict.events} log entries verify")


def settle(rt, fleet: Fleet, due: list[int]) -> None:
    """Workers finish and exit; the schedulers fire every due deadline and empty the outbox."""
    deadline = time.monotonic() + SETTLE_LIMIT
    while time.monotonic() < deadline:
        workers_done = all(fleet.procs[n].poll() is not None for n in fleet.commands if n.startswith("w"))
        with rt.uow() as session:
            waiting = session.scalar(select(func.count()).select_from(Timer).where(
                Timer.instance_id.in_(due), Timer.kind == "deadline", Timer.fired_at.is_(None)))
            unsent = session.scalar(select(func.count()).select_from(Alert).where(
                Alert.sent_at.is_(None), Alert.cancelled_at.is_(None), Alert.next_attempt_at.is_not(None)))
        if workers_done and not waiting and not unsent:
            for name in fleet.commands:
                if name.startswith("w"):
                    assert fleet.procs[name].returncode == 0, fleet.logs()
            time.sleep(1.0)  # room for a duplicate to show itself
            return
        time.sleep(0.3)
    raise AssertionError(f"not settled: workers done {workers_done}, {waiting} deadline(s) unfired, "
                         f"{unsent} alert(s) unsent\n{fleet.logs()}")
