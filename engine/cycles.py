"""Recurring cycles: each period's instances started on schedule, exactly once.

The schedules are in definitions/cycles.yaml (format: process/cycles.py). The
scheduler calls `run_due_cycles(rt)` on each pass. For every schedule it
finds the periods due by the runtime's clock (office time zone) from the
schedule's first period up to now, and starts the instance of each
(period, Bidang) that has no `cycle_run` row yet: the current period, and
any period missed while Alur was not running or whose start failed.

Exactly once: each start is one transaction that creates the instance, its
first task and its `cycle_run` row together, so a crash leaves either all of
it or nothing. The row is unique per (SOP, Bidang, period); a second
scheduler racing for the same start loses on that key, its transaction is
rolled back, and it moves on. A start that fails for any other reason (SOP not
deployed, Bidang unknown) is logged, does not hold up the others, and is tried
again on the next pass.

A period made up late is started late: the instance's `created_at` is the
moment it was actually started (its `period` and title name the period it
belongs to).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from engine import services
from engine.config import Settings, named_file
from engine.db import Bidang, CycleRun, Setting
from engine.errors import Conflict
from engine.runtime import Runtime
from process.cycles import Cycle, CycleConfigError, Period, parse
from process.messages import Text, as_json, from_json

logger = logging.getLogger("alur.cycles")

CONFIG_NAME = "cycles.yaml"
MAX_TITLE = 300

_lock = threading.Lock()
# path -> ((mtime, size) or None when missing, the schedules or why they cannot be used)
_configs: dict[Path, tuple[tuple[int, int] | None, tuple[Cycle, ...] | CycleConfigError]] = {}
_reported: set[tuple[str, str, str, str]] = set()           # failures already logged as warnings


@dataclass(frozen=True)
class Started:
    key: str
    bidang: str
    period: str          # the period key, "2026-11"
    instance_id: int
    title: str


@dataclass(frozen=True)
class Failed:
    key: str
    bidang: str
    period: str
    error: str


OFF = "off"   # ALUR_CYCLES_FILE=off: no recurring starts
PROBLEM = "cycles_problem"   # the setting row that holds what the scheduler found wrong with the file


def config_path(settings: Settings) -> Path | None:
    """settings.extra["cycles_file"], else $ALUR_CYCLES_FILE, else cycles.yaml beside the definitions;
    None when set to `off`."""
    chosen = _chosen(settings)
    if chosen == OFF:
        return None
    return named_file(chosen) or settings.definitions_dir / CONFIG_NAME


def _chosen(settings: Settings) -> str | None:
    return settings.extra.get("cycles_file") or os.environ.get("ALUR_CYCLES_FILE")


def load_config(settings: Settings) -> tuple[Cycle, ...]:
    """The office's schedules; none when turned off or when the definitions have no cycles.yaml.
    A file named by the setting must be there. Read again only when the file changes.

    A file that cannot be used raises CycleConfigError, the same error object until the file
    changes (or appears): the scheduler reports it once per change, not once a minute."""
    path = config_path(settings)
    if path is None:
        return ()
    try:
        info = path.stat()
    except FileNotFoundError:
        if not _chosen(settings):
            return ()
        stamp = None  # a misspelt name must not mean no recurring starts without a word
    else:
        stamp = (info.st_mtime_ns, info.st_size)
    with _lock:
        cached = _configs.get(path)
        if cached is None or cached[0] != stamp:
            cached = _configs[path] = (stamp, _read(path, stamp))
    if isinstance(cached[1], CycleConfigError):
        raise cached[1].with_traceback(None)  # raised again and again: its traceback must not grow
    return cached[1]


def _read(path: Path, stamp: tuple[int, int] | None) -> tuple[Cycle, ...] | CycleConfigError:
    if stamp is None:
        return CycleConfigError(
            Text("ALUR_CYCLES_FILE: berkas %(path)s tidak ada; isi off bila tanpa mulai berulang", path=str(path)))
    try:
        return parse(path.read_text(encoding="utf-8"))
    except CycleConfigError as err:
        return err
    except (OSError, UnicodeDecodeError) as err:  # a folder, no permission, not UTF-8
        return CycleConfigError(Text("ALUR_CYCLES_FILE: berkas %(path)s tidak dapat dibaca: %(reason)s",
                                     path=str(path), reason=getattr(err, "strerror", None) or str(err)))


@dataclass(frozen=True)
class Problem:
    """Why the scheduler makes no recurring starts: the file, and what is wrong with it."""
    path: str
    message: Text


def record_problem(rt: Runtime, error: CycleConfigError | None) -> None:
    """What the scheduler found wrong with the cycles file, kept for the administration pages (which
    run elsewhere, maybe on another host); None: nothing is, and what was kept goes.

    Every scheduler start says None, nearly always with nothing kept: that is found out by a read, and
    a writing transaction (on SQLite, one that waits for every other writer) is begun only to write."""
    if error is None and _kept(rt) is None:
        return
    with rt.uow() as session:
        row = session.get(Setting, PROBLEM)
        if error is None:
            if row is not None:
                session.delete(row)
        else:
            message = error.args[0] if isinstance(error.args[0], Text) else Text(str(error))
            value = json.dumps({"path": str(config_path(rt.settings)), "message": as_json(message)})
            if row is None:
                session.add(Setting(key=PROBLEM, value=value))
            else:
                row.value = value
        session.commit()


def recorded_problem(rt: Runtime) -> Problem | None:
    """What record_problem kept, if anything."""
    value = _kept(rt)
    if value is None:
        return None
    stored = json.loads(value)
    return Problem(stored["path"], from_json(stored["message"]))


def _kept(rt: Runtime) -> str | None:
    """The stored form of what record_problem kept, read without waiting for any writer."""
    with rt.reading() as connection:
        return connection.execute(select(Setting.value).where(Setting.key == PROBLEM)).scalar()


def run_due_cycles(rt: Runtime, cycles: tuple[Cycle, ...] | None = None,
                   failures: list[Failed] | None = None) -> list[Started]:
    """Start every due instance that has not been started; return what this call started.

    `cycles` replaces the configuration file; failed starts are appended to
    `failures` when a list is given (they are logged either way).
    """
    cycles = load_config(rt.settings) if cycles is None else cycles
    today = rt.now().astimezone(rt.calendar.tz).date()
    started: list[Started] = []
    for cycle in cycles:
        periods = cycle.due_periods(today)
        if not periods:
            continue
        with rt.uow() as session:
            names = {b.code: b.name for b in session.scalars(select(Bidang))}
            done = set(session.execute(select(CycleRun.bidang_code, CycleRun.period)
                                       .where(CycleRun.definition_key == cycle.definition)).all())
        codes = cycle.bidang_codes(list(names))
        for period in periods:
            for code in codes:
                if (code, period.key) in done:
                    continue
                try:
                    started.append(start_one(rt, cycle, code, names.get(code, code), period))
                except Conflict:
                    # Another scheduler started it meanwhile (or the start raced with another
                    # change); whichever it was, a missing run is looked for again next pass.
                    logger.info("cycle %s %s %s: started elsewhere", cycle.definition, code, period.key)
                except Exception as err:  # noqa: BLE001 - one failed start must not stop the others
                    # Said once per process at warning level: the scheduler tries again on every pass.
                    seen = (cycle.definition, code, period.key, str(err))
                    with _lock:
                        first = seen not in _reported
                        _reported.add(seen)
                    logger.log(logging.WARNING if first else logging.DEBUG, "cycle %s %s %s: start failed: %s",
                               cycle.definition, code, period.key, err)
                    if failures is not None:
                        failures.append(Failed(cycle.definition, code, period.key, str(err)))
    return started


def start_one(rt: Runtime, cycle: Cycle, bidang: str, bidang_name: str, period: Period) -> Started:
    """Start one period's instance for one Bidang and record the run, in one transaction.

    No actor: the schedule starts it, so no user's permission is checked.
    """
    title = cycle.title_for(bidang_name, period)[:MAX_TITLE]
    with rt.uow() as session:
        def record_run(instance) -> None:
            # The unique key is checked before the workflow runs: a second scheduler stops here.
            session.add(CycleRun(definition_key=cycle.definition, bidang_code=bidang, period=period.key,
                                 instance_id=instance.id, started_at=instance.created_at))
            session.flush()

        instance_id = services.start_in(rt, session, cycle.definition, bidang, title, None, period.label,
                                        extra={"cycle": period.key}, before_run=record_run)
        session.commit()
        return Started(cycle.definition, bidang, period.key, instance_id, title)
