"""The SQL tables (SQLAlchemy 2) and the database connection.

Workflow state is one JSON column per instance; everything a worklist, a
timer sweep or a report asks about is a plain indexed row beside it, so those
queries never load a workflow.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    create_engine, event, false,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

from engine import sqlite_writer

# The largest value an Integer column (ids, versions, step numbers) holds on
# PostgreSQL; the web refuses bigger numbers before they reach a query.
MAX_INTEGER = 2**31 - 1


class UtcDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back time-zone aware.

    SQLite has no time zone type; without this a naive datetime would come
    back and be compared with aware ones.
    """
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime stored")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Bidang(Base):
    __tablename__ = "bidang"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    bidang_code: Mapped[str | None] = mapped_column(ForeignKey("bidang.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="id")
    # Sign-in throttling survives restarts and is shared by every web worker.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    roles: Mapped[list["Membership"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> set[str]:
        return {m.role for m in self.roles}


class Membership(Base):
    """A user holds a role: a lane role, kepala, kadis, pemilik_proses or admin."""
    __tablename__ = "membership"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class DefinitionVersion(Base):
    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    yaml_text: Mapped[str] = mapped_column(Text, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str | None] = mapped_column(String(80))
    deployed_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text, default="")


class DefinitionDraft(Base):
    """The one working copy of a definition being edited; never read by running work.

    `problems` is what the validator said at the last save (file, element,
    message, element_id); a draft with problems cannot be deployed.
    `revision` counts saves so two editors cannot overwrite each other unseen.
    """
    __tablename__ = "definition_draft"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    yaml_text: Mapped[str] = mapped_column(Text, default="")
    base_version: Mapped[int | None] = mapped_column(Integer)
    saved_by: Mapped[str | None] = mapped_column(String(80))
    saved_at: Mapped[datetime]
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (  # monitoring periods and the archive search (migration 0004)
        Index("ix_instance_created_at", "created_at"),
        Index("ix_instance_archived_at", "archived_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    bidang_code: Mapped[str] = mapped_column(ForeignKey("bidang.code"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    period: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # Deferred: only commands that run the workflow load it.
    workflow_json: Mapped[str] = mapped_column(Text, deferred=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Set by an administrator: hidden from default lists, still searchable; never deleted.
    archived_at: Mapped[datetime | None]
    definition: Mapped[DefinitionVersion] = relationship()

    __mapper_args__ = {"version_id_col": version}


class TaskRow(Base):
    """One user task (an SOP step reached by an instance): open or finished."""
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_offer", "state", "lane_role", "bidang_code", "assignee", "due_at"),  # 0007: + assignee
        Index("ix_task_assignee", "assignee", "state"),
        Index("ix_task_instance", "instance_id", "state"),
        Index("ix_task_state_step", "state", "step", "instance_id"),  # 0004: search by current step
        Index("ix_task_completed_by", "completed_by", "instance_id"),  # 0004: search by performer
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    step: Mapped[int] = mapped_column(Integer)
    element_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(500))
    lane_role: Mapped[str] = mapped_column(String(40))
    # NULL when the lane serves every Bidang (the Sekretaris).
    bidang_code: Mapped[str | None] = mapped_column(String(40))
    instance_bidang: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, completed, cancelled
    assignee: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # 0009: opened by a decision sending its step back (done before in the activity); the worklist marks it.
    sent_back: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": row_version}


class Timer(Base):
    """A waiting timer: a step's deadline or a follow-up escalation level."""
    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "fired_at", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    spiff_timer_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))  # deadline, second_level
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    lock_owner: Mapped[str | None] = mapped_column(String(80))
    lock_expires: Mapped[datetime | None]


class Alert(Base):
    """An escalation notice for one recipient: delivered through the outbox."""
    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("task_id", "level", "recipient"),
        Index("ix_alert_pending", "sent_at", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lock_owner: Mapped[str | None] = mapped_column(String(80))
    lock_expires: Mapped[datetime | None]


class Event(Base):
    """The append-only, hash-chained event log of an instance (engine.events writes it)."""
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_kind_step", "kind", "step"),  # 0004: monitoring figures
        UniqueConstraint("instance_id", "seq", name="uq_event_instance_seq"),  # 0008
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # 0008: the place in the instance's chain, the previous entry's hash and this one's.
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    step: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EventChain(Base):
    """The head of an instance's event chain: its newest entry's sequence number and hash (0008)."""
    __tablename__ = "event_chain"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


class Document(Base):
    """An uploaded file; the bytes live on disk under their SHA-256."""
    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(80))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime]


class Setting(Base):
    """Installation facts, e.g. whether this is a demo database."""
    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TaskDraft(Base):
    """Form data saved but not yet submitted, per task and user."""
    __tablename__ = "task_draft"
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    login: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime]


class SavedFilter(Base):
    """A worklist filter saved by a user, optionally shared with colleagues."""
    __tablename__ = "saved_filter"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class ApiToken(Base):
    """An API token; only its SHA-256 is stored."""
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


READ_ONLY = "alur_read_only"  # execution option: the transaction begins as a read (see Runtime.reading, uow)


def database_problem(err: SQLAlchemyError) -> str:
    """One sentence for a database error a command cannot go on from (the driver's first line, without
    the SQL statement, its parameters or the URL's password), saying what to do where it is known."""
    reason = error_reason(err)
    if type(getattr(err, "orig", None)).__name__ == "UndefinedTable" or "no such table" in reason:
        return f"basis data belum disiapkan ({reason}): jalankan `alur init` dahulu"
    if isinstance(err, (OperationalError, InterfaceError)):
        return f"basis data ALUR_DATABASE_URL tidak dapat dibuka: {reason}"
    return f"basis data: {reason}"


def error_reason(err: BaseException) -> str:
    """An error's first line: of a database error, the driver's (without the SQL statement, its
    parameters, which change from one attempt to the next, or the URL's password)."""
    return (str(getattr(err, "orig", None) or err).strip().splitlines() or [type(err).__name__])[0]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            queue = sqlite_writer.WriterQueue(f"{database}-writers", SQLITE_BUSY_TIMEOUT)
            connect_args["factory"] = sqlite_writer.connection_class(queue)
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return _postgres_engine(url)


# A pooled connection that sat idle may have been cut (a server restart, a
# firewall); one in steady use has just proved itself. pool_pre_ping would
# spend a round trip on every checkout; this pings only the idle ones.
IDLE_BEFORE_PING = 5.0


def _postgres_engine(url: str) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("checked_in", 0.0) <= IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            # The pool drops this connection and checks out a fresh one.
            raise DisconnectionError(f"stale pooled connection: {err}") from err

    @event.listens_for(engine, "checkin")
    def remember_use(_dbapi_connection, record) -> None:
        record.info["checked_in"] = time.monotonic()

    return engine


SQLITE_BUSY_TIMEOUT = 30  # seconds
# WAL pages before a commit checkpoints (copies them into the database file, with two fsyncs). At
# SQLite's 1,000 (4 MB) one commit in about 40 paid for it, and a step's p99 was 8 ms against 2 at
# its median; 10,000 (40 MB) also coalesces the many writes of the same hot pages. The scheduler
# checkpoints each pass (`checkpoint`), off every command's path, so commands rarely get here.
SQLITE_WAL_AUTOCHECKPOINT = 10_000  # pages


def _sqlite_begin(conn) -> None:
    """pysqlite's own transaction handling defers BEGIN; take control so a unit of work is one real transaction.

    A writing one takes the write lock at once (no upgrade deadlock between two
    writers), queued first (engine.sqlite_writer); one that begins as a read
    (Runtime.reading, and a read-first unit of work until it writes) must
    not wait for writers.
    """
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
        return
    _begin_writing(conn)


def sqlite_begin_writes(conn) -> None:
    """Turn a transaction begun as a read (READ_ONLY) into a writing one, inside the same SQLAlchemy transaction.

    SQLite cannot promote a read snapshot once another connection has
    committed after it began (SQLITE_BUSY_SNAPSHOT), so the read transaction
    ends here and a writing one begins: what was read before counts only as
    far as the version checks of the writes that build on it.
    """
    conn.connection.dbapi_connection.commit()
    _begin_writing(conn)


def _begin_writing(conn) -> None:
    dbapi_connection = conn.connection.dbapi_connection
    if hasattr(dbapi_connection, "begin_write"):
        dbapi_connection.begin_write()
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    # SQLite's lower() folds A-Z only: the search's "évaluasi" would miss "ÉVALUASI", as PostgreSQL does not.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")
    cursor.close()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def checkpoint(engine: Engine) -> None:
    """SQLite: copy the WAL's committed pages into the database file, waiting for nobody (PASSIVE);
    nothing when they are all copied already. Other databases checkpoint by themselves."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


# -- evaluation reports, SOP-implementation monitoring forms, recurring cycles (migration 0005) --

from datetime import date  # noqa: E402  (kept beside the tables that need it)

from sqlalchemy import Date  # noqa: E402


class EvaluationReport(Base):
    """The Sekretaris's conclusions and recommendations for one period (Laporan Hasil Evaluasi).

    `bidang` is a Bidang code, or "" for the whole office; one row per SOP,
    period and Bidang. `revision` counts saves so two writers cannot overwrite
    each other unseen.
    """
    __tablename__ = "evaluation_report"
    __table_args__ = (UniqueConstraint("definition_key", "period_start", "period_end", "bidang",
                                       name="uq_evaluation_report_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_key: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    bidang: Mapped[str] = mapped_column(String(40), default="")
    conclusions: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    written_by: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": revision}


class SopMonitoringForm(Base):
    """A completed Formulir Monitoring Pelaksanaan SOP for one period (and Bidang, "" = all).

    `steps` holds one entry per SOP step: {step, name, berjalan_baik ("ya" or
    "tidak"), catatan, tindakan, penilai}.
    """
    __tablename__ = "sop_monitoring_form"
    __table_args__ = (UniqueConstraint("definition_key", "period_start", "period_end", "bidang",
                                       name="uq_sop_monitoring_form_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_key: Mapped[str] = mapped_column(String(120))
    definition_version: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    bidang: Mapped[str] = mapped_column(String(40), default="")
    assessor: Mapped[str] = mapped_column(String(80))
    assessor_name: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": revision}


class CycleRun(Base):
    """An instance started by a recurring schedule: at most one per SOP, Bidang and period."""
    __tablename__ = "cycle_run"
    __table_args__ = (UniqueConstraint("definition_key", "bidang_code", "period", name="uq_cycle_run"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_key: Mapped[str] = mapped_column(String(120))
    bidang_code: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))  # "2026-11" (monthly) or "2026-Q4" (quarterly)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    started_at: Mapped[datetime]


class RetryKey(Base):
    """A command's retry key (the API's Idempotency-Key, a page's one-time hidden field): a start's
    (migration 0010, as `start_key`) or a completion's (migration 0011).

    One per user and key: the same key sent again answers what its first command did instead of doing
    it again (engine.services.start_once, complete). `request_hash` is what that command asked, so the
    key sent with another request is refused. Written in the command's transaction;
    deleted a day old by the scheduler's tidy-up (engine.services.purge_expired_retry_keys), which
    finds them by ix_retry_key_created_at (migration 0012).
    """
    __tablename__ = "retry_key"
    __table_args__ = (UniqueConstraint("login", "key", name="uq_retry_key"),
                      Index("ix_retry_key_created_at", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80))  # "" for a start without an actor
    key: Mapped[str] = mapped_column(String(255))
    command: Mapped[str] = mapped_column(String(20))  # "start" or "complete"
    request_hash: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))  # started, or the completed task's
    task_id: Mapped[str | None] = mapped_column(ForeignKey("task.id"))  # the completed task; None for a start
    created_at: Mapped[datetime]
