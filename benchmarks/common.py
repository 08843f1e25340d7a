"""What every benchmark shares: statistics, runtimes on a fresh database, subprocesses, the machine.

A benchmark's database is always its own: a SQLite file in a temporary
directory, or the PostgreSQL database named by ALUR_BENCH_POSTGRES_URL,
whose public schema is DROPPED and recreated before each use.
"""
from __future__ import annotations

import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text

from engine import bootstrap
from engine.clock import Clock
from engine.config import Settings
from engine.escalation_config import EscalationConfig, Smtp
from engine.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
# No recurring schedules (definitions/cycles.yaml): a scheduler pass would
# start instances for every Bidang of the benchmark's database. Inherited by
# the `alur` subprocesses.
os.environ["ALUR_CYCLES_FILE"] = "off"
# E-mail off: alerts are written and their delivery skipped. Also given to
# subprocesses (`alur serve`, `alur scheduler`) through ALUR_ESCALATION_FILE.
NO_MAIL_YAML = "smtp:\n  host: null\nwebhook:\n  url: null\n"


# -- statistics ------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    """The p-th percentile (inclusive method); the maximum for p >= 100."""
    if not values:
        return float("nan")
    if len(values) == 1 or p >= 100:
        return max(values) if p >= 100 else values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p5: float
    p95: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> "Summary":
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan, nan)
        return cls(len(values), statistics.median(values), pct(values, 5), pct(values, 95), pct(values, 99),
                   min(values), max(values))

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# -- databases and runtimes ---------------------------------------------------------------

def databases(only: str | None = None) -> list[tuple[str, str | None]]:
    """(name, url) of the databases to run on: SQLite always, PostgreSQL when configured."""
    found: list[tuple[str, str | None]] = [("sqlite", None)]
    if os.environ.get("ALUR_BENCH_POSTGRES_URL"):
        found.append(("postgresql", os.environ["ALUR_BENCH_POSTGRES_URL"]))
    return [(name, url) for name, url in found if only in (None, name)]


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(url: str | None, data_dir: Path) -> str:
    """A fresh database: a new SQLite file in data_dir, or the PostgreSQL one emptied."""
    if url is None:
        return f"sqlite:///{data_dir / 'bench.db'}"
    reset_postgres(url)
    return url


def runtime(url: str, data_dir: Path) -> Runtime:
    settings = Settings.from_env(database_url=url, data_dir=data_dir)
    return Runtime(settings, clock=Clock(), escalation=EscalationConfig(smtp=Smtp(host=None)))


@contextmanager
def fresh_runtime(url: str | None, data_dir: Path, demo: bool = True) -> Iterator[Runtime]:
    """A runtime on a fresh database with the schema, the SOP and the demo office."""
    rt = runtime(database_url(url, data_dir), data_dir)
    try:
        bootstrap.init(rt, demo=demo)
        yield rt
    finally:
        rt.dispose()


def settle(rt: Runtime) -> None:
    """After a bulk load, the upkeep a running database would have done.

    PostgreSQL: VACUUM ANALYZE (autovacuum keeps statistics fresh in
    production) and a checkpoint. SQLite: the WAL is checkpointed, and no
    ANALYZE is run, because Alur never runs one: planning with statistics
    the product never has would measure other plans than production uses.
    """
    from sqlalchemy.exc import DBAPIError

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
        except DBAPIError:
            pass


# -- subprocesses -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alur_command(*args: str) -> list[str]:
    """`alur ...` with this interpreter (the venv's console script may not be on PATH)."""
    return [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())", *args]


def subprocess_env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    escalation = data_dir / "escalation.yaml"
    if not escalation.exists():
        escalation.write_text(NO_MAIL_YAML)
    env = {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_DATA_DIR": str(data_dir),
           "ALUR_ESCALATION_FILE": str(escalation), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def children(pid: int) -> list[int]:
    """Direct child processes of pid (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f}s")


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it does not end in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the machine --------------------------------------------------------------------------------

def machine() -> dict:
    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
        "load_average_at_start": os.getloadavg(),
    }
    url = os.environ.get("ALUR_BENCH_POSTGRES_URL")
    if url:
        try:
            engine = create_engine(url)
            with engine.connect() as conn:
                info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
            engine.dispose()
        except Exception as err:  # reported, not fatal: the PostgreSQL runs will fail loudly
            info["postgresql"] = f"unreachable: {err.__class__.__name__}"
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
