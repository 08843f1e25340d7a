"""The append-only event log: every action on an instance, who, when, and with what data."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.db import Event

# Written straight through the session's connection, inside its transaction:
# an entry is never read back or changed, so it needs no ORM object (and no
# RETURNING of its id) the way a row the command edits does.
_APPEND = insert(Event.__table__)


def log(session: Session, instance_id: int, at: datetime, kind: str, actor: str | None = None,
        step: int | None = None, task_id: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.connection().execute(_APPEND, {"instance_id": instance_id, "at": at, "actor": actor, "kind": kind,
                                           "step": step, "task_id": task_id, "data": data or {}})
