"""Measurements of the scheduler on a database with many active instances.

* Idle pass: the cost of one scheduler pass (timers and outbox) when
  nothing is due. It runs once a second forever, so it must stay cheap
  however many instances wait.
* Lateness: how long after its due time a timer fires, with the scheduler
  loop running on the real clock. A few hundred sample instances come due
  over a short window while all the others wait. Measured twice: with the
  loop in a thread of the benchmark process, and with `alur scheduler` in a
  process of its own, whose peak resident memory (VmHWM) is read before it
  is stopped (the scheduler memory figure).

`scale()` builds the database once per size; the growth benchmark measures
on the same one.
"""
from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from benchmarks.common import alur_command, stop, subprocess_env, vm_hwm_mb
from benchmarks.population import Template, clone, start_template
from engine import bootstrap
from engine.clock import Clock
from engine.config import Settings
from engine.db import Bidang, Timer
from engine.escalation_config import EscalationConfig, Smtp
from engine.runtime import Runtime
from engine.scheduler import Scheduler

FAR_FUTURE = timedelta(days=3650)
# The clones are spread over Bidang of their own, 50 each, so that however
# large the database, a member of the template's Bidang (aptika) sees the
# same few dozen tasks: the template and VISIBLE - 1 clones.
VISIBLE = 30
PER_BIDANG = 50
SAMPLE_BIDANG = "skala-sampel"


@dataclass
class Result:
    database: str
    instances: int
    setup_s: float
    idle_p50_ms: float
    idle_p99_ms: float
    idle_max_ms: float
    samples: int
    late_p50_s: float
    late_p99_s: float
    late_max_s: float
    interval_s: float
    # The same, fired by an `alur scheduler` process (None when not measured).
    proc_late_p50_s: float | None = None
    proc_late_p99_s: float | None = None
    scheduler_peak_rss_mb: float | None = None

    @property
    def meets_targets(self) -> bool:
        # The idle target is the cost of a pass, its median: on a shared
        # machine the p99 mostly measures how long the OS left us waiting.
        late_ok = self.late_p99_s <= self.interval_s + 1
        if self.proc_late_p99_s is not None:
            late_ok = late_ok and self.proc_late_p99_s <= self.interval_s + 1
        return self.idle_p50_ms < 10 and late_ok

    def as_dict(self) -> dict:
        return {**asdict(self), "meets_targets": self.meets_targets}


@dataclass
class Scale:
    """A database with `instances` active instances, all waiting for deadlines far in the future."""
    database: str
    url: str
    instances: int
    rt: Runtime
    template: Template
    setup_s: float
    data_dir: Path


@contextmanager
def scale(database: str, url: str | None, instances: int) -> Iterator[Scale]:
    with tempfile.TemporaryDirectory(prefix="alur-bench-") as tmp:
        db_url = url or f"sqlite:///{tmp}/bench.db"
        rt = _runtime(db_url, Path(tmp))
        try:
            began = time.perf_counter()
            template = _populate(rt, instances)
            yield Scale(database, db_url, instances, rt, template, time.perf_counter() - began, Path(tmp))
        finally:
            rt.dispose()


def measure(database: str, url: str | None, instances: int, interval: float, samples: int,
            window: float, idle_passes: int, subprocess_scheduler: bool = False) -> Result:
    with scale(database, url, instances) as s:
        return measure_on(s, interval, samples, window, idle_passes, subprocess_scheduler)


def measure_on(s: Scale, interval: float, samples: int, window: float, idle_passes: int,
               subprocess_scheduler: bool = False) -> Result:
    idle = idle_pass_ms(s.rt, idle_passes)
    late = lateness_s(s.rt, s.template, samples, window, interval)
    result = Result(s.database, s.instances, s.setup_s, _pct(idle, 50), _pct(idle, 99), max(idle), len(late),
                    _pct(late, 50), _pct(late, 99), max(late), interval)
    if subprocess_scheduler:
        proc_late, rss = lateness_in_process(s, samples, window, interval)
        result.proc_late_p50_s, result.proc_late_p99_s = _pct(proc_late, 50), _pct(proc_late, 99)
        result.scheduler_peak_rss_mb = rss
    return result


def _runtime(url: str, data_dir: Path) -> Runtime:
    if url.startswith("postgresql"):
        _reset_postgres(url)
    settings = Settings.from_env(database_url=url, data_dir=data_dir)
    # No mail server here: alerts are written and their delivery skipped, as
    # with e-mail turned off. Delivery still runs in every pass.
    return Runtime(settings, clock=Clock(), escalation=EscalationConfig(smtp=Smtp(host=None)))


def _populate(rt: Runtime, instances: int) -> Template:
    """`instances` active instances, all waiting for deadlines far in the future."""
    bootstrap.init(rt, demo=True)
    template = Template(rt, start_template(rt))
    far = datetime.now(timezone.utc) + FAR_FUTURE
    count = instances - 1
    codes = sorted({_bidang_of(n) for n in range(count)} - {"aptika"}) + [SAMPLE_BIDANG]
    with rt.uow() as session:
        session.add_all(Bidang(code=code, name=f"Bidang {code}") for code in codes)
        session.commit()
    clone(rt, template, count, lambda n: far + timedelta(seconds=n), bidang=_bidang_of)
    _settle(rt)
    return template


def _bidang_of(n: int) -> str:
    return "aptika" if n < VISIBLE - 1 else f"skala-{n // PER_BIDANG:05d}"


def _settle(rt: Runtime) -> None:
    """Do the upkeep a bulk load triggers now, not during the measurements.

    A running database has vacuumed tables, fresh planner statistics and no
    gigabyte of dirty pages waiting for a checkpoint; right after the load,
    autovacuum and the checkpointer would compete with the scheduler.
    SQLite gets a WAL checkpoint but no ANALYZE: Alur never runs one, so a
    production SQLite database plans without statistics (benchmarks.common.settle).
    """
    if rt.engine.dialect.name != "postgresql":
        raw = rt.engine.raw_connection()  # outside a transaction: a checkpoint cannot run inside one
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        try:
            conn.execute(text("CHECKPOINT"))
        except DBAPIError:  # needs a superuser or pg_checkpoint; the checkpointer catches up anyway
            pass


def idle_pass_ms(rt: Runtime, passes: int) -> list[float]:
    scheduler = Scheduler(rt)
    for _ in range(10):  # warm the connection pool and caches
        scheduler.run_pass()
    times = []
    for _ in range(passes):
        began = time.perf_counter()
        report = scheduler.run_pass()
        times.append((time.perf_counter() - began) * 1000)
        assert report.claimed == 0, "an idle pass found something due"
    return times


def _samples(rt: Runtime, template: Template, samples: int, window: float, lead: float = 2.0) -> list[int]:
    """Clone `samples` instances due over `window` seconds from `lead` seconds from now."""
    start = datetime.now(timezone.utc) + timedelta(seconds=lead)
    step = window / samples
    return clone(rt, template, samples, lambda n: start + timedelta(seconds=n * step), title="Sampel {n}",
                 bidang=lambda n: SAMPLE_BIDANG)


def _lateness(rt: Runtime, ids: list[int]) -> list[float]:
    with rt.uow() as session:
        rows = session.execute(select(Timer.due_at, Timer.fired_at).where(
            Timer.instance_id.in_(ids), Timer.kind == "deadline")).all()
    return [(fired - due).total_seconds() for due, fired in rows]


def lateness_s(rt: Runtime, template: Template, samples: int, window: float, interval: float) -> list[float]:
    """Clone `samples` instances due over the next `window` seconds; run the loop; fired_at - due_at."""
    ids = _samples(rt, template, samples, window)
    scheduler = Scheduler(rt)
    scheduler.start_thread(interval)
    try:
        _wait_fired(rt, ids, timeout=2 + window + interval + 30)
    finally:
        scheduler.stop()
    return _lateness(rt, ids)


def lateness_in_process(s: Scale, samples: int, window: float, interval: float) -> tuple[list[float], float]:
    """The same with `alur scheduler` as a process of its own; also returns its peak RSS (MiB)."""
    log = open(s.data_dir / "scheduler.log", "wb")
    proc = subprocess.Popen(alur_command("scheduler", "--interval", str(interval)),
                            env=subprocess_env(s.url, s.data_dir), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_started(s.data_dir / "scheduler.log", proc)
        ids = _samples(s.rt, s.template, samples, window)
        _wait_fired(s.rt, ids, timeout=2 + window + interval + 30)
        rss = vm_hwm_mb(proc.pid)
    finally:
        stop(proc)
        log.close()
    return _lateness(s.rt, ids), rss


def _wait_started(log_path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the scheduler says it runs (its Runtime is built and the loop is about to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"alur scheduler exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        if b"berjalan" in log_path.read_bytes():
            return
        time.sleep(0.1)
    raise RuntimeError("alur scheduler did not start")


def _wait_fired(rt: Runtime, ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.uow() as session:
            waiting = session.scalar(select(Timer.id).where(
                Timer.instance_id.in_(ids), Timer.kind == "deadline", Timer.fired_at.is_(None)).limit(1))
        if waiting is None:
            return
        time.sleep(0.5)
    raise RuntimeError("sample timers did not all fire in time")


def _pct(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] if pct < 100 else max(values)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
