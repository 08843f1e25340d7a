"""The scheduler: fires due timers from SQL, then hands the outbox to delivery.

One pass:

1. Claim due timer rows in one short transaction: `fired_at IS NULL AND
   due_at < now` (process.calendar.past_due), oldest first, at most `batch`, skipping rows another
   scheduler holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite writers
   are serialized anyway). A claim is a lock owner plus an expiry, so the rows
   of a scheduler that died mid-batch are claimed again once it expires.
2. Handle each claimed instance in its own transaction. A step's deadline
   fires through the engine (`Run.load` → `advance` → `save`; `save` marks
   the step overdue and escalates). A "second_level" timer is ours alone and
   escalates to the next level without loading the workflow.
3. Deliver the outbox (engine.notify), in transactions of its own.

When nothing is due, a pass is one indexed query on the timer table (and
one on the alert outbox): no instance is ever loaded to find out.

Exactly once: the instance's version column makes a second writer of the
same instance fail and roll back; `fired_at` is set in the same transaction
as the escalation; and the alert table's unique key (task, level,
recipient) refuses a duplicate alert.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from engine import accounts, cycles, escalation, queries, schema, services
from engine.db import Instance, Timer, checkpoint, error_reason
from engine.errors import Conflict
from engine.notify import Deliverer, DeliveryReport
from engine.runtime import Runtime
from engine.workflow import Run
from process.calendar import past_due
from process.cycles import CycleConfigError

log = logging.getLogger("alur.scheduler")

DEFAULT_BATCH = 100
DEFAULT_LEASE = timedelta(seconds=60)
CYCLE_CHECK_EVERY = timedelta(minutes=1)
TIDY_EVERY = timedelta(hours=1)
STILL_FAILING_EVERY = timedelta(minutes=5)
_NOT_LOOKED = object()  # the cycles file, before a scheduler's first look at it


@dataclass(frozen=True)
class Claimed:
    timer_id: int
    instance_id: int
    kind: str


@dataclass
class PassReport:
    claimed: int = 0
    fired: int = 0
    conflicts: int = 0
    errors: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    # A full batch was claimed: more may be due, so the loop goes again at once.
    busy: bool = False


def new_owner() -> str:
    """A lock owner name that tells an operator which process holds a row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime) -> tuple:
    """Timer rows a scheduler may take: due, not fired, and not held by a live claim."""
    return (Timer.fired_at.is_(None), past_due(Timer.due_at, now),
            or_(Timer.lock_owner.is_(None), Timer.lock_expires < now))


def database_prepared(rt: Runtime) -> bool:
    """Whether `alur init` has prepared the database for this Alur: False while it never was.
    A database of another Alur's schema (newer, or not yet upgraded) raises schema.OtherSchema:
    its tables may not be the ones this code writes."""
    with rt.reading() as connection:
        revision = schema.current_revision(connection)
    if revision is None:
        return False
    schema.refuse_other(rt.engine, revision)
    return True


class FailedPasses:
    """The loop's failed passes, in the log. A database restarting or out of reach failed every pass,
    and each wrote its traceback: one a second, thousands in an hour, burying everything else in the
    journal. Now each kind of failure (its type and first line) shows its traceback once while the
    passes fail; then one line at most every STILL_FAILING_EVERY (by the runtime's clock) says since
    when and how many; and the first pass that succeeds again says so."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._kinds: set[tuple[type, str]] = set()  # of this run of failures, traceback shown
        self._since: datetime | None = None
        self._count = 0
        self._said_at: datetime | None = None

    def failed(self, err: Exception) -> None:
        now = self.rt.now()
        kind = (type(err), error_reason(err))
        self._since = self._since or now
        self._count += 1
        if kind not in self._kinds:
            self._kinds.add(kind)
            self._said_at = now
            log.error("scheduler pass failed", exc_info=err)
        elif now - self._said_at >= STILL_FAILING_EVERY:
            self._said_at = now
            log.error("scheduler passes still fail: %d failed passes since %s; the last: %s: %s", self._count,
                      self._moment(self._since), type(err).__name__, error_reason(err))

    def succeeded(self) -> None:
        if not self._count:
            return
        log.info("scheduler passes succeed again after %d failed passes since %s", self._count,
                 self._moment(self._since))
        self._kinds.clear()
        self._since, self._count, self._said_at = None, 0, None

    def _moment(self, moment: datetime) -> str:
        return moment.astimezone(self.rt.calendar.tz).isoformat(timespec="seconds")


class Scheduler:
    def __init__(self, rt: Runtime, owner: str | None = None, batch: int = DEFAULT_BATCH,
                 lease: timedelta = DEFAULT_LEASE, deliver: bool = True,
                 heartbeat: Callable[[], None] = lambda: None):
        self.rt = rt
        self.owner = owner or new_owner()
        self.batch, self.lease = batch, lease
        # Called after every pass, every instance and every alert: whoever watches it (the server
        # beside it, web/companion.py) tells a long pass from a hung one.
        self.heartbeat = heartbeat
        # Delivery claims last as long as timer claims: one --lease for both.
        self.deliverer = Deliverer(rt, self.owner, lease=lease, progress=heartbeat) if deliver else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cycles_checked_at = None
        self._cycles_problem: CycleConfigError | None | object = _NOT_LOOKED
        self._tidied_at = rt.now()
        self._prepared = False  # by `alur init`, for this Alur's schema (database_prepared)
        self._waiting_for_init = False
        self._failures = FailedPasses(rt)

    # -- one pass -----------------------------------------------------------------

    def run_pass(self) -> PassReport:
        report = self.fire_due()
        self._start_due_cycles()
        self._tidy_up()
        if self.deliverer is not None:
            report.delivery = self.deliverer.deliver_due()
        self._checkpoint()
        delivery = report.delivery
        if report.claimed or delivery.sent or delivery.failed or delivery.skipped:
            log.info("claimed %d timer(s), fired %d, conflicts %d, errors %d; alerts sent %d, failed %d, "
                     "undeliverable %d", report.claimed, report.fired, report.conflicts, report.errors,
                     delivery.sent, delivery.failed, delivery.skipped)
        return report

    def _checkpoint(self) -> None:
        """On SQLite, the pages written since the last pass go into the database file here, in the
        background, rather than in whichever command's commit fills the WAL (engine.db.checkpoint)."""
        try:
            checkpoint(self.rt.engine)
        except Exception:  # noqa: BLE001 - a commit checkpoints by itself when the WAL is full
            log.exception("WAL checkpoint failed")

    def _start_due_cycles(self) -> None:
        """Recurring starts are checked once a minute, not every pass: periods are months."""
        now = self.rt.now()
        if self._cycles_checked_at is not None and now - self._cycles_checked_at < CYCLE_CHECK_EVERY:
            return
        self._cycles_checked_at = now
        try:
            cycles.run_due_cycles(self.rt)
        except CycleConfigError as err:
            self._cycles_file_found(err)
        except Exception:  # noqa: BLE001 - a broken schedule must not stop the timers
            log.exception("recurring starts failed")
        else:
            self._cycles_file_found(None)

    def _cycles_file_found(self, problem: CycleConfigError | None) -> None:
        """A cycles file that cannot be used costs the recurring starts alone: timers and escalation
        go on. Said once per change of the file (cycles.load_config raises the same error until the
        file changes), not once a minute, in the log and on the administration pages; the file is read
        again as soon as it changes. The first look clears what an earlier scheduler left there."""
        if problem is self._cycles_problem:
            return
        if problem is not None:
            log.error("no recurring starts until the cycles file (%s) is corrected; timers and escalation go on: %s",
                      cycles.config_path(self.rt.settings), problem)
        elif self._cycles_problem is not _NOT_LOOKED:
            log.info("the cycles file can be used again: recurring starts resume")
        try:
            cycles.record_problem(self.rt, problem)
        except Exception:  # noqa: BLE001 - the timers matter more; the next look records it
            log.exception("recording the cycles file's state failed")
            return
        self._cycles_problem = problem

    def _tidy_up(self) -> None:
        """Once an hour (the first an hour after the start): the drafts of closed tasks go, tasks
        held by someone who may no longer take them go back to their lanes, and retry keys a day old
        go. None harms anyone for that hour, and each reads first, so a pass with nothing to do
        stays a pass that reads."""
        now = self.rt.now()
        if now - self._tidied_at < TIDY_EVERY:
            return
        self._tidied_at = now
        for what, job in (("removing the drafts of closed tasks", queries.purge_closed_drafts),
                          ("giving back tasks held by those who may no longer take them",
                           accounts.release_stranded_claims),
                          ("removing expired retry keys", services.purge_expired_retry_keys)):
            try:
                job(self.rt)
            except Exception:  # noqa: BLE001 - nor must these stop the timers
                log.exception("%s failed", what)

    def fire_due(self) -> PassReport:
        claimed = self.claim()
        report = PassReport(claimed=len(claimed), busy=len(claimed) >= self.batch)
        by_instance: dict[int, list[Claimed]] = defaultdict(list)
        for item in claimed:
            by_instance[item.instance_id].append(item)
        for instance_id, timers in by_instance.items():
            self._handle(instance_id, timers, report)
            self.heartbeat()
        return report

    def claim(self) -> list[Claimed]:
        """Take the due, unclaimed (or abandoned) timer rows for this scheduler."""
        if not self.rt.finds_any(select(Timer.id).where(*_claimable(self.rt.now()))):
            return []
        with self.rt.uow() as session:
            now = self.rt.now()
            rows = session.execute(
                select(Timer.id, Timer.instance_id, Timer.kind)
                .where(*_claimable(now))
                .order_by(Timer.due_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            session.execute(update(Timer).where(Timer.id.in_([r.id for r in rows]))
                            .values(lock_owner=self.owner, lock_expires=now + self.lease))
            session.commit()
            return [Claimed(r.id, r.instance_id, r.kind) for r in rows]

    def _handle(self, instance_id: int, timers: list[Claimed], report: PassReport) -> None:
        try:
            report.fired += self._fire(instance_id, timers)
        except Conflict:
            # Someone moved the instance meanwhile (e.g. completed the step);
            # nothing was written. Let the next pass look again.
            report.conflicts += 1
            self._release(timers)
        except Exception:  # one broken instance must not stop the others
            # The claim is kept until it expires: a persistent failure is
            # retried once per lease, not on every pass.
            report.errors += 1
            log.exception("timers of instance %s failed", instance_id)

    def _fire(self, instance_id: int, timers: list[Claimed]) -> int:
        with self.rt.uow() as session:
            now = self.rt.now()
            instance = session.get(Instance, instance_id)
            engine_timers = [t for t in timers if t.kind != escalation.SECOND_LEVEL]
            fired = 0
            if engine_timers:
                fired += self._fire_engine_timers(session, instance, engine_timers)
            for t in timers:
                if t.kind == escalation.SECOND_LEVEL:
                    fired += escalation.fire_second_level(self.rt, session, t.timer_id, now)
            session.commit()
            return fired

    def _fire_engine_timers(self, session, instance: Instance | None, timers: list[Claimed]) -> int:
        if instance is None or instance.state != "running":
            for t in timers:  # leftovers of an instance that ended; they can never fire
                if (row := session.get(Timer, t.timer_id)) is not None:
                    session.delete(row)
            return 0
        run = Run.load(self.rt, session, instance)
        run.advance()
        run.save()
        rows = [row for t in timers if (row := session.get(Timer, t.timer_id)) is not None]
        stuck = [row.id for row in rows if row.fired_at is None]
        if stuck:
            # The row says due but the engine did not fire: keep the claim so it
            # is looked at again after the lease, not on every pass.
            log.warning("instance %s: due timer row(s) %s did not fire", instance.id, stuck)
        return len(rows) - len(stuck)

    def _release(self, timers: list[Claimed]) -> None:
        with self.rt.uow() as session:
            session.execute(update(Timer)
                            .where(Timer.id.in_([t.timer_id for t in timers]), Timer.lock_owner == self.owner)
                            .values(lock_owner=None, lock_expires=None))
            session.commit()

    # -- the loop -----------------------------------------------------------------

    def run_forever(self, interval: float = 1.0) -> None:
        """Pass after pass until stop(); a busy pass is followed at once by the next.

        Passes start `interval` apart (the time a pass takes is not added to
        the wait), so a timer fires at most about one interval after it is due.
        """
        while not self._stop.is_set():
            self.heartbeat()
            began = time.monotonic()
            try:
                busy = self._pass_once_prepared()
            except schema.OtherSchema:
                raise  # no pass may run on it, and waiting will not change it
            except Exception as err:  # e.g. the database is restarting: wait, then try again
                self._failures.failed(err)
                busy = False
            else:
                self._failures.succeeded()
            if not busy:
                self._stop.wait(max(0.0, interval - (time.monotonic() - began)))

    def _pass_once_prepared(self) -> bool:
        """A pass once `alur init` has prepared the database (whether it was busy); until then, a wait
        said once. Under a service manager the scheduler may start before the first `alur init`: had
        it stopped, the manager would have given up restarting it."""
        if not self.database_prepared():
            if not self._waiting_for_init:
                log.warning("the database (ALUR_DATABASE_URL) has not been prepared: waiting for `alur init`")
            self._waiting_for_init = True
            return False
        if self._waiting_for_init:
            log.info("the database has been prepared: firing timers")
            self._waiting_for_init = False
        return self.run_pass().busy

    def database_prepared(self) -> bool:
        """database_prepared(rt), asked until it is."""
        self._prepared = self._prepared or database_prepared(self.rt)
        return self._prepared

    def start_thread(self, interval: float = 1.0) -> threading.Thread:
        """Run the loop in a daemon thread (the timer benchmark; `alur serve --scheduler` runs
        `alur scheduler` as a process instead: a thread would be forked into its workers).

        Give the scheduler a Runtime of its own: the SpiffWorkflow serializer
        it holds keeps a mode flag while it writes, so two threads must not
        share one.
        """
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, args=(interval,), name="alur-scheduler",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
