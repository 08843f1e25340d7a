"""The SQL tables (SQLAlchemy 2) and the database connection.

Workflow state is one JSON column per instance; everything a worklist, a
timer sweep or a report asks about is a plain indexed row beside it, so those
queries never load a workflow.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    create_engine, event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator


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


class Instance(Base):
    __tablename__ = "instance"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    bidang_code: Mapped[str] = mapped_column(ForeignKey("bidang.code"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # Deferred: only commands that run the workflow load it.
    workflow_json: Mapped[str] = mapped_column(Text, deferred=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    definition: Mapped[DefinitionVersion] = relationship()

    __mapper_args__ = {"version_id_col": version}


class TaskRow(Base):
    """One user task (an SOP step reached by an instance): open or finished."""
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_offer", "state", "lane_role", "bidang_code", "due_at"),
        Index("ix_task_assignee", "assignee", "state"),
        Index("ix_task_instance", "instance_id", "state"),
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
    """The append-only event log of an instance."""
    __tablename__ = "event"
    # Ordered by id: an autoincrement needs no read-then-write, so concurrent
    # commands on one instance never collide over the log.
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    step: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control so a
        # unit of work is one real transaction.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
