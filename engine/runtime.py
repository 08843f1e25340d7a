"""The composition root: one object that wires database, clock, calendar and specs.

The CLI, the web app, the scheduler and the tests each build one `Runtime`
and hand it to the service functions.
"""
from __future__ import annotations

import gettext
import logging
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from engine import events, spiff, workflow_cache
from engine.clock import Clock
from engine.config import Settings
from engine.db import READ_ONLY, DefinitionVersion, make_engine, make_sessionmaker, sqlite_begin_writes
from engine.errors import Conflict, LostRace
from engine.escalation_config import EscalationConfig, EscalationConfigError
from process.calendar import CalendarConfigError, WorkingCalendar
from process.definition import Definition
from process.loader import load
from process.messages import Text


log = logging.getLogger(__name__)

# Session.info key: a read-first unit of work that has not begun writing yet.
_READ_FIRST = "alur.read_first"
# PostgreSQL's "deadlock detected" and "could not serialize access": the
# transaction was rolled back whole, and trying again may succeed.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# Messages are written in Indonesian: without a catalogue they are used as they are.
_INDONESIAN = gettext.NullTranslations()


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None,
                 calendar: WorkingCalendar | None = None, escalation: EscalationConfig | None = None,
                 catalogue: Callable[[str], Any] | None = None):
        self.settings = settings
        # A language's message catalogue, for words written outside a request (alert mail).
        # The web, which owns the catalogues, passes it in; without it Alur writes Indonesian.
        self.catalogue = catalogue or (lambda language: _INDONESIAN)
        self.clock = clock or Clock()
        self.calendar = calendar or _load_calendar(settings)
        self.escalation = escalation or load_escalation(settings)
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        workflow_cache.install(self.sessions)
        events.install(self.sessions)  # the event log is chained on each commit
        for moment in ("before_flush", "before_commit"):
            sa_event.listen(self.sessions, moment, _writes_begun)
        self.serializer = spiff.WorkflowSerializer()
        self.workflows = workflow_cache.WorkflowCache(settings.workflow_cache_size)
        self._specs: dict[int, tuple[Definition, object]] = {}
        self._specs_lock = threading.Lock()

    @contextmanager
    def uow(self, read_first: bool = False) -> Iterator[Session]:
        """One transaction. Commit is explicit; leaving without it rolls back.

        A lost optimistic version check, a unique-key race, or a transaction
        PostgreSQL chose to abort (deadlock, serialization failure) becomes a
        Conflict, and nothing of the transaction is written. The first and
        the last are a `LostRace`: the command may be run again.

        `read_first`: the command reads and computes before it writes, and
        says where its writes begin with `begin_writes`. On SQLite, which
        takes one writer at a time, the reading part then runs without the
        write lock, so other writers (threads and processes) go on
        meanwhile. Every write that builds on what was read must be
        version-checked (a task's row_version, an instance's version), as it
        must be on PostgreSQL.
        """
        session = self.sessions()
        if read_first:
            session.info[_READ_FIRST] = True
            if self.engine.dialect.name == "sqlite":
                session.connection(execution_options={READ_ONLY: True})  # begins now, as a read
        try:
            yield session
        except (StaleDataError, DBAPIError) as err:
            aborted = getattr(getattr(err, "orig", None), "sqlstate", None) in _RETRYABLE_SQLSTATES
            if isinstance(err, DBAPIError) and not isinstance(err, IntegrityError) and not aborted:
                raise
            if aborted:
                # Answered like any lost race, but a deadlock that keeps coming back
                # is a lock-order bug to fix: it must show in the log.
                log.warning("PostgreSQL aborted a transaction, answered as a conflict: %s",
                            str(err.orig).splitlines()[0])
            session.rollback()
            # A unique key taken meanwhile stays taken: only a lost version check
            # or an aborted transaction is worth running again.
            lost = Conflict if isinstance(err, IntegrityError) else LostRace
            raise lost(Text("data ini baru saja diubah oleh orang lain; muat ulang dan coba lagi")) from err
        finally:
            # Whatever was not committed is discarded. Objects are detached
            # first so values already read stay readable after the block.
            session.expunge_all()
            session.rollback()
            session.close()

    def begin_writes(self, session: Session) -> None:
        """Where a `uow(read_first=True)` starts writing: on SQLite, the read transaction ends and a
        writing one begins (see `db.sqlite_begin_writes`); anywhere else, nothing changes."""
        if session.info.pop(_READ_FIRST, False) and self.engine.dialect.name == "sqlite":
            sqlite_begin_writes(session.connection())

    def finds_any(self, query) -> bool:
        """Whether `query` finds a row, read without waiting for a writer: the check before a claim,
        so a scheduler's idle pass takes no write lock (SQLite has one writer for every process)."""
        with self.reading() as connection:
            return connection.execute(query.limit(1)).first() is not None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A plain connection for one hot read that needs no ORM objects (the API token check).

        On SQLite it is a read-only transaction, which takes no write lock and
        so never waits for a writer. On PostgreSQL the statement runs in
        autocommit, as its own transaction: no BEGIN and ROLLBACK round trips.
        Two statements read here may therefore see different snapshots.
        """
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                connection = connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    def now(self) -> datetime:
        return self.clock.now()

    def definition(self, version: DefinitionVersion) -> tuple[Definition, object]:
        """The loaded definition and parsed spec of a version, parsed once per process."""
        cached = self._specs.get(version.id)
        if cached is None:
            with self._specs_lock:
                cached = self._specs.get(version.id)
                if cached is None:
                    definition = load(version.bpmn_xml, version.yaml_text,
                                      bpmn_name=f"{version.key}@v{version.version}", stored=True)
                    cached = (definition, spiff.parse_spec(definition))
                    self._specs[version.id] = cached
        return cached

    def definition_by_id(self, session: Session, version_id: int) -> tuple[Definition, object]:
        """As `definition`, by version id: the version's row (its BPMN and YAML texts) is read only
        if this process has not parsed that version yet."""
        cached = self._specs.get(version_id)
        return cached if cached is not None else self.definition(session.get(DefinitionVersion, version_id))

    def definition_of(self, instance) -> tuple[Definition, object]:
        """As `definition_by_id`, for an instance of a session."""
        return self.definition_by_id(object_session(instance), instance.definition_version_id)

    def script_engine(self, definition: Definition) -> spiff.RestrictedScriptEngine:
        def deadline(timer_id: str, start: datetime) -> datetime:
            step = definition.step_for_timer(timer_id)
            return self.calendar.due(start, step.mutu_baku, self.calendar.rule(step.counting))
        return spiff.RestrictedScriptEngine(self.now, deadline)

    def dispose(self) -> None:
        self.engine.dispose()


def _writes_begun(session: Session, *_) -> None:
    """A read-first unit of work that writes before `begin_writes` would write inside its read
    transaction (on SQLite, outside the writer queue): a programming error, stopped here."""
    if _READ_FIRST in session.info:
        raise RuntimeError("a read-first unit of work writes only after Runtime.begin_writes")


# Without ALUR_CALENDAR_FILE / ALUR_ESCALATION_FILE, a definitions folder without the file gets the
# built-in default (the shipped file). A file named by the variable must be there: a misspelt name
# would otherwise run the office on the defaults without a word.

def _load_calendar(settings: Settings) -> WorkingCalendar:
    path = settings.calendar_file or settings.definitions_dir / "calendar.yaml"
    if path.exists():
        return WorkingCalendar.from_yaml(path.read_text(encoding="utf-8"))
    if settings.calendar_file is not None:
        raise CalendarConfigError("ALUR_CALENDAR_FILE", Text("berkas %(path)s tidak ada", path=str(path)))
    return WorkingCalendar.default()


def load_escalation(settings: Settings) -> EscalationConfig:
    path = settings.escalation_file or settings.definitions_dir / "escalation.yaml"
    if path.exists():
        return EscalationConfig.from_yaml(path.read_text(encoding="utf-8"))
    if settings.escalation_file is not None:
        raise EscalationConfigError(Text("ALUR_ESCALATION_FILE: berkas %(path)s tidak ada", path=str(path)))
    return EscalationConfig()
